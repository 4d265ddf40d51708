"""The same batch on Ray Data: a local Ray with 2 CPUs, an actor pool of 2 (0.5 CPU each),
three short articles. Marked ``ray`` so it can be deselected with -m 'not ray'."""
from __future__ import annotations

from pathlib import Path

import pytest

from sourcetrace.corpus import runner as corpus
from sourcetrace.inputs.collect import Collected, Failure
from sourcetrace.inputs.read import Document
from sourcetrace.corpus.store.memory import MemoryStore

pytestmark = [pytest.mark.ray,
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]  # from Ray's own modules

TEXTS = [
    '"The bridge will reopen on Friday," the mayor said on Monday.',
    'Officials said the river rose overnight.',
    'The minister told parliament that the budget would balance next year.',
]


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install '.[ray]')")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_corpus_ray_engine_stores_what_the_local_engine_stores(ray_local):
    items = [Collected(f"a{i}.txt", Document(t, {"path": f"a{i}.txt"}), "text")
             for i, t in enumerate(TEXTS)]
    items.append(Failure("bad.warc", "truncated WARC"))
    on_ray, local = MemoryStore(), MemoryStore()
    report = corpus.ingest([], on_ray, items=items + items[:1], engine="ray", workers=2,
                           chunk_size=2)
    assert (report.added, report.duplicates, report.failed) == (3, 1, 1)
    corpus.ingest([], local, items=items)
    expected = {a.input: a.analysis for a in local.iter_articles()}
    got = {a.input: a.analysis for a in on_ray.iter_articles()}
    assert got == expected
    assert [f.input for f in on_ray.failures()] == ["bad.warc"]


# ---------------------------------------------------------------- an existing two-node cluster

PG_ENV = "SOURCETRACE_TEST_POSTGRES"
RAY_SCHEMA = "sourcetrace_ray_test"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _processes_of(session: str) -> list[int]:
    """Ids of this machine's processes whose command line names the Ray session."""
    import os

    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if session.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            continue
    return found


def _stop(session: str, ray_bin: str, temp_dir: str) -> list[int]:
    """Stop the cluster's processes (ours only, by id: `ray stop` would also stop every
    other Ray of this user on the machine); the ids still alive after 10 s."""
    import os
    import signal
    import time

    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        for pid in _processes_of(session):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        end = time.time() + wait
        while _processes_of(session) and time.time() < end:
            time.sleep(0.2)
    return _processes_of(session)


@pytest.fixture
def two_node_cluster(monkeypatch):
    """`ray start --head` and a second `ray start --address`, one CPU each, from the venv's
    ray binary; the head's address. Stopped (every process of the session) afterwards."""
    import os
    import shutil
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install '.[ray]')")
    if not os.environ.get(PG_ENV):
        pytest.skip(f"{PG_ENV} is not set: a cluster needs a shared PostgreSQL store "
                    "(.ci/run starts one and sets it)")
    ray_bin = Path(sys.executable).with_name("ray")
    if not ray_bin.exists():
        pytest.skip(f"no ray command beside {sys.executable}")
    if ray.is_initialized():
        ray.shutdown()
    temp_dir = tempfile.mkdtemp(prefix="st-ray-", dir="/tmp")   # short: socket paths
    port = _free_port()
    address = f"127.0.0.1:{port}"
    # no token authentication on this loopback test cluster (Ray turns it on by itself
    # where ~/.ray/auth_token exists): the same setting for both nodes and this driver
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    common = ["--num-cpus", "1", "--num-gpus", "0", "--disable-usage-stats"]
    session = None
    try:
        subprocess.run([str(ray_bin), "start", "--head", "--port", str(port), "--temp-dir",
                        temp_dir, "--include-dashboard", "false", *common], check=True,
                       env=env, capture_output=True, timeout=120)
        session = os.path.basename(os.path.realpath(os.path.join(temp_dir, "session_latest")))
        subprocess.run([str(ray_bin), "start", "--address", address, *common], check=True,
                       env=env, capture_output=True, timeout=120)
        yield address
    finally:
        if ray.is_initialized():
            ray.shutdown()
        left = _stop(session, str(ray_bin), temp_dir) if session else []
        shutil.rmtree(temp_dir, ignore_errors=True)
        assert not left, f"Ray processes still running: {left}"


def test_corpus_ray_ingests_into_postgresql_through_a_two_node_cluster(two_node_cluster,
                                                                        tmp_path):
    """Through the real entry point (a fresh driver process, as an operator runs it)."""
    import os
    import subprocess
    import sys

    import psycopg

    from sourcetrace.corpus.store import open_store

    dsn = os.environ[PG_ENV]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {RAY_SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {RAY_SCHEMA}")
    db = dsn + ("&" if "?" in dsn else "?") + f"options=-c%20search_path%3D{RAY_SCHEMA}"
    folder = tmp_path / "in"
    folder.mkdir()
    for i, text in enumerate(TEXTS):
        (folder / f"a{i}.txt").write_text(text, encoding="utf-8")
    try:
        result = subprocess.run(
            [sys.executable, "-m", "sourcetrace", "ingest", str(folder), "--db", db,
             "--engine", "ray", "--address", two_node_cluster, "--workers", "2",
             "--no-progress"], capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
        assert "added 3, already stored 0, failed 0" in result.stderr
        local = MemoryStore()
        corpus.ingest([], local, items=[
            Collected(f"a{i}.txt", Document(t, {"path": f"a{i}.txt"}), "text")
            for i, t in enumerate(TEXTS)])
        expected = {a.analysis.text: a.analysis.attributions for a in local.iter_articles()}
        with open_store(db) as store:
            got = {a.analysis.text: a.analysis.attributions for a in store.iter_articles()}
        assert got == expected
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {RAY_SCHEMA} CASCADE")


def test_corpus_ray_refuses_a_sqlite_store_for_a_cluster(tmp_path):
    from sourcetrace.corpus.store.sqlite import SqliteStore
    from sourcetrace.errors import ConfigError

    store = SqliteStore(str(tmp_path / "c.db"))
    with pytest.raises(ConfigError, match="PostgreSQL|postgresql://"):
        corpus.ingest([], store, items=[], engine="ray", address="127.0.0.1:6379")
    store.close()


def test_corpus_ray_expands_globs_into_shards_named_as_given(tmp_path):
    from sourcetrace.corpus.distributed import expand_inputs, plan_shards
    from sourcetrace.errors import InputError

    for name in ("b.jsonl", "a.jsonl", "c.csv"):
        (tmp_path / name).write_text("", encoding="utf-8")
    found = expand_inputs([str(tmp_path / "*.jsonl"), "https://example.org/x"])
    assert found == [str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl"), "https://example.org/x"]
    shards, urls = plan_shards(["in.jsonl", *found])
    assert shards[0] == (str(Path.cwd() / "in.jsonl"), "in.jsonl") and urls == found[2:]
    with pytest.raises(InputError, match="no file matches"):
        expand_inputs([str(tmp_path / "*.warc.gz")])


def _claims_by_text(store) -> dict[str, list[str]]:
    """Each stored article's text -> the sorted texts of its claims."""
    import json as _json

    texts = {a.id: a.analysis.text for a in store.iter_articles()}
    out: dict[str, list[str]] = {}
    for batch in store.claim_batches():
        out[texts[batch.article_id]] = sorted(_json.loads(d)["text"] for _, d, _ in batch.claims)
    return out


def test_corpus_ray_resumes_after_the_driver_is_killed(two_node_cluster, tmp_path):
    """kill -9 of a run's driver half-way; the next run adds exactly what is missing: every
    article once, each with its claims, the same claims as an uninterrupted local run."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    import psycopg

    from sourcetrace.corpus.store import open_store

    n = 48
    texts = [f'"The bridge on Route {i} will reopen on Friday," the mayor of Town{i} said on '
             f'Monday. Officials said the river rose {i + 2} feet overnight.' for i in range(n)]
    with open(tmp_path / "in.jsonl", "w", encoding="utf-8") as f:
        for i, t in enumerate(texts):
            f.write(json.dumps({"id": f"r{i}", "outlet": f"outlet{i % 3}", "text": t}) + "\n")
    dsn = os.environ[PG_ENV]
    schema = RAY_SCHEMA + "_resume"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
    db = dsn + ("&" if "?" in dsn else "?") + f"options=-c%20search_path%3D{schema}"
    command = [sys.executable, "-m", "sourcetrace", "ingest", "in.jsonl", "--db", db,
               "--engine", "ray", "--address", two_node_cluster, "--workers", "2",
               "--no-progress"]

    def stored() -> int:
        with psycopg.connect(db, autocommit=True) as conn:
            try:
                return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
            except psycopg.errors.UndefinedTable:
                return 0

    try:
        first = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)
        deadline = time.time() + 240
        while stored() == 0 and first.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(30)
        time.sleep(3)                  # an actor may finish the batch it was writing
        before = stored()
        assert 0 < before < n, f"the kill did not land half-way ({before} of {n} stored)"
        second = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True,
                                timeout=300)
        assert second.returncode == 0, second.stderr[-3000:]
        assert f"added {n - before}, already stored {before}, failed 0" in second.stderr
        with open_store(db) as store:
            assert store.count() == n
            assert store.articles_without_claims() == []
            assert sorted(a.input for a in store.iter_articles()) == sorted(
                f"in.jsonl:{i + 1}" for i in range(n))
            got = _claims_by_text(store)
        with psycopg.connect(db, autocommit=True) as conn:
            assert conn.execute("SELECT count(DISTINCT content_hash), count(*) FROM "
                                "articles").fetchone() == (n, n)
            assert conn.execute("SELECT count(*) FROM claim_batches").fetchone()[0] == n
        reference = MemoryStore()
        corpus.ingest([str(tmp_path / "in.jsonl")], reference)
        assert got == _claims_by_text(reference)
        assert sum(map(len, got.values())) > 0
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
