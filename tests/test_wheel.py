"""The installable library: a wheel built from this tree, installed into a fresh venv,
runs `analyze`, `extract` and a tiny `train` from outside the repository.

The fresh venv gets the wheel alone (--no-deps); its dependencies are the test
environment's own, seen through a folder of links to every installed distribution
but sourcetrace (so that nothing of the source tree can leak in)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_lock_pins_every_dependency_within_its_range():
    """requirements/lock.txt (what make setup installs) pins, with hashes, a version inside
    pyproject.toml's range for every dependency, the dev and model extras included."""
    import re
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = list(project["dependencies"])
    for extra in ("dev", "model"):
        wanted += project["optional-dependencies"][extra]
    lock = (ROOT / "requirements" / "lock.txt").read_text(encoding="utf-8")
    pins = {canonicalize_name(m.group(1)): m.group(2)
            for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==(\S+) \\$", lock, re.M)}
    blocks = re.split(r"\n(?=[A-Za-z0-9])", lock.split("\n", 4)[-1])
    assert all("--hash=sha256:" in b for b in blocks if "==" in b)
    for line in wanted:
        req = Requirement(line)
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not pinned in requirements/lock.txt (make lock)"
        assert req.specifier.contains(pins[name], prereleases=True), \
            f"{req.name}=={pins[name]} is outside {req.specifier} (make lock)"


def _run(args, cwd, timeout=300, **kwargs):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, **kwargs)


@pytest.fixture(scope="module")
def installed(tmp_path_factory, seed_gold):
    tmp = tmp_path_factory.mktemp("wheel")
    # build from a copy of the tree, so that no build/ or egg-info lands in the checkout
    src = tmp / "src-tree"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "src", src / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc"))
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp / "dist",
                  src], cwd=tmp)
    if built.returncode != 0 and "Could not find a version that satisfies" in built.stderr:
        pytest.skip("no package index reachable to build the wheel (setuptools>=68)")
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next((tmp / "dist").glob("sourcetrace-*.whl"))

    deps = tmp / "deps"
    deps.mkdir()
    here = Path(sysconfig.get_paths()["purelib"])
    for entry in here.iterdir():
        name = entry.name.lower()
        if name.startswith(("sourcetrace", "__editable__", "distutils-precedence")):
            continue
        (deps / entry.name).symlink_to(entry)
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(env_dir)
    py = env_dir / "bin" / "python"
    purelib = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        cwd=tmp).stdout.strip())
    (purelib / "zz-test-deps.pth").write_text(f"import site; site.addsitedir({str(deps)!r})\n")
    inst = _run([sys.executable, "-m", "pip", "--python", py, "install", "--no-deps", "-q",
                 wheel], cwd=tmp)
    assert inst.returncode == 0, inst.stderr[-3000:]
    work = tmp / "work"            # outside the repository: no train/, no src/
    work.mkdir()
    (work / "seed.txt").write_text(seed_gold["text"], encoding="utf-8")
    return {"wheel": wheel, "py": py, "bin": env_dir / "bin", "work": work}


@pytest.mark.slow
def test_wheel_carries_the_files_the_commands_need(installed):
    import zipfile

    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    for needed in ("sourcetrace/models/roles.cfg", "sourcetrace/models/roles-accurate.cfg",
                   "sourcetrace/models/roles/model", "sourcetrace/models/roles/component.json",
                   "sourcetrace/models/roles-transformer/model.onnx",
                   "sourcetrace/models/roles-transformer/tokenizer.json",
                   "sourcetrace/models/roles-transformer/component.json",
                   "sourcetrace/models/roles-transformer.json",
                   "sourcetrace/lexicons/attribution_verbs.txt"):
        assert needed in names, needed
    assert "sourcetrace/corpus/store/alembic/env.py" in names
    assert "sourcetrace/corpus/store/alembic/versions/0001_initial.py" in names
    meta = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    points = zipfile.ZipFile(installed["wheel"]).read(meta).decode()
    assert "[spacy_factories]" in points and "sourcetrace = sourcetrace.pipeline:factories" in points


@pytest.mark.slow
def test_wheel_analyze_and_extract_run_from_the_installed_package(installed):
    where = _run([installed["py"], "-c", "import sourcetrace; print(sourcetrace.__file__)"],
                 cwd=installed["work"])
    assert str(installed["bin"].parent) in where.stdout, where.stdout + where.stderr
    out = _run([installed["bin"] / "sourcetrace", "analyze", "seed.txt", "--format", "json"],
               cwd=installed["work"])
    assert out.returncode == 0, out.stderr[-3000:]
    analysis = json.loads(out.stdout)
    assert len(analysis["attributions"]) >= 10 and analysis["sources"]
    (installed["work"] / "seed.jsonl").write_text(
        json.dumps({"id": "seed", "text": analysis["text"]}) + "\n", encoding="utf-8")
    ext = _run([installed["bin"] / "sourcetrace", "extract", "seed.jsonl", "--output",
                "spans.jsonl"], cwd=installed["work"])
    assert ext.returncode == 0, ext.stderr[-3000:]
    spans = json.loads((installed["work"] / "spans.jsonl").read_text().splitlines()[0])
    assert spans["id"] == "seed" and spans["attributions"]


@pytest.mark.slow
def test_wheel_tiny_train_writes_only_where_it_is_told(installed, seed_gold):
    work = installed["work"]
    record = {"id": "seed", "text": seed_gold["text"],
              "attributions": [{k: a[k] for k in ("source", "cue", "content")}
                               for a in seed_gold["attributions"]]}
    (work / "corrections.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    site = installed["bin"].parent
    before = {p: p.stat().st_mtime for p in site.rglob("sourcetrace/models/**/*") if p.is_file()}
    out = _run([installed["bin"] / "sourcetrace", "train", "--data", "corrections.jsonl",
                "--base", "fast", "--epochs", "1", "--output", "mine"], cwd=work)
    assert out.returncode == 0, out.stderr[-3000:]
    assert {p.name for p in (work / "mine").iterdir()} >= {"model", "cfg", "component.json"}
    after = {p: p.stat().st_mtime for p in site.rglob("sourcetrace/models/**/*") if p.is_file()}
    assert after == before                       # the package's own weights untouched
    refused = _run([installed["bin"] / "sourcetrace", "train", "--data", "corrections.jsonl",
                    "--base", "fast"], cwd=work)
    assert refused.returncode != 0 and "--output" in refused.stderr


@pytest.mark.slow
def test_wheel_ingest_and_serve_answer_from_the_installed_package(installed):
    import socket
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ingest = _run([installed["bin"] / "sourcetrace", "ingest", "seed.txt", "--db", "served.db"],
                  cwd=installed["work"])
    assert ingest.returncode == 0, ingest.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    server = subprocess.Popen([str(installed["bin"] / "sourcetrace"), "serve", "--db",
                               "served.db", "--port", str(port)], cwd=installed["work"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health",
                                            timeout=5) as response:
                    assert response.status == 200
                    health = json.loads(response.read())
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/articles",
                                            timeout=30) as response:
                    listed = json.loads(response.read())
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"serve did not answer: {server.stderr.read()[-2000:]}")
                time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert health["status"] == "ok" and health["store"] is True
    assert listed["total"] == 1                      # the article ingested above

