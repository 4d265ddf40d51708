# sourcetrace: make demo (set up + analyse the bundled example), make test, make bench.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup demo test bench train lock clean

setup: $(STAMP)

# Every dependency from the lock file (exact versions, hashes checked, nothing else
# pulled in), then sourcetrace itself without dependencies.
$(STAMP): pyproject.toml requirements/lock.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q --require-hashes --no-deps -r requirements/lock.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

# Re-pin requirements/lock.txt from pyproject.toml's ranges (uv, run in a throwaway venv).
lock:
	$(PYTHON) -m venv build/uv && build/uv/bin/pip install -q 'uv==0.13.8'
	build/uv/bin/uv pip compile pyproject.toml --extra dev --extra model --generate-hashes \
		--python-version 3.11 --python-platform x86_64-manylinux_2_28 --no-header \
		-o build/lock.txt
	{ sed -n '1,4p' requirements/lock.txt; cat build/lock.txt; } > build/lock.new
	mv build/lock.new requirements/lock.txt

# The main job on the embedded default: analyse the example article, then store the
# examples folder in a SQLite corpus (./sourcetrace.db, no server) and list its sources.
demo: setup
	$(VENV)/bin/sourcetrace analyze examples/belarus-commanders.txt
	$(VENV)/bin/sourcetrace ingest examples/ --db sourcetrace.db
	$(VENV)/bin/sourcetrace sources --db sourcetrace.db

test: setup
	$(PY) -m pytest -q

bench: setup
	$(PY) bench/run_bench.py

# Train the attribution model on PolNeAR train (fixed seed; about an hour on 2 cores).
train: setup
	nice -n 10 $(VENV)/bin/sourcetrace train --data ../shared/data/polnear/train.jsonl \
		--output src/sourcetrace/models/roles

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
