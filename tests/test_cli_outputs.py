"""Every command that writes goes through one guard (output/files.py): never the corpus,
never an input, an existing file only with --force, written to a temporary file renamed
at the end. And commands that read a corpus never create or change one.

The overwrite attempts run ``python -m sourcetrace`` as a user would; each checks that
the corpus and the input are byte for byte what they were.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sourcetrace.errors import ConfigError, StoreError
from sourcetrace.output.files import Outputs, check_output, safe_output

TEXT = ("The mayor told reporters on Tuesday that the budget for district {n} would be "
        "balanced by the end of the year. \u201cWe will not raise taxes,\u201d she said, "
        "adding that the council had found savings in transport and housing. ")


def run(*args, cwd=None, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "sourcetrace", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=timeout, env=env)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("outputs")
    records = d / "in.jsonl"
    records.write_text("".join(json.dumps({"id": f"r{i}", "text": TEXT.format(n=i) * 2}) + "\n"
                               for i in range(3)), encoding="utf-8")
    (d / "a.txt").write_text(TEXT.format(n=9) * 2, encoding="utf-8")
    db = d / "c.db"
    done = run("ingest", str(records), "--db", str(db), "--rules-only", "--no-progress")
    assert done.returncode == 0, done.stderr
    return d, db


ATTEMPTS = {
    "export over the corpus": ["export", "--db", "{db}", "-o", "{db}", "--force"],
    "export over the corpus's -wal": ["export", "--db", "{db}", "-o", "{db}-wal", "--force"],
    "export through a link to the corpus": ["export", "--db", "{db}", "-o", "{d}/link.json",
                                            "--force"],
    "report over the corpus": ["report", "--db", "{db}", "-o", "{db}", "--force"],
    "corrections export of a stored article over the corpus":
        ["corrections", "export", "--article", "1", "--db", "{db}", "-o", "{db}", "--force"],
    "corrections export over its article": ["corrections", "export", "{d}/a.txt", "-o",
                                            "{d}/a.txt", "--rules-only", "--force"],
    "analyze over its input": ["analyze", "{d}/a.txt", "-o", "{d}/a.txt", "--rules-only",
                               "--force"],
    "extract over its input": ["extract", "{d}/in.jsonl", "-o", "{d}/in.jsonl",
                               "--rules-only", "--force"],
    "analyze over a corpus it was not told of": ["analyze", "{d}/a.txt", "-o", "{db}",
                                                 "--rules-only", "--force"],
}


@pytest.mark.parametrize("name", sorted(ATTEMPTS))
def test_cli_outputs_never_write_over_the_corpus_or_the_input(corpus, name):
    d, db = corpus
    link = d / "link.json"
    if not link.is_symlink():
        link.symlink_to(db)
    kept = {p: digest(p) for p in (db, d / "a.txt", d / "in.jsonl")}
    args = [a.format(db=db, d=d) for a in ATTEMPTS[name]]
    result = run(*args)
    assert result.returncode == 2, (name, result.stderr)
    assert "refusing to write over it" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert {p: digest(p) for p in kept} == kept, f"{name} changed a file"
    assert not [p.name for p in d.iterdir() if p.name.endswith(".tmp")]


def test_cli_outputs_report_refuses_an_existing_file_unless_force(corpus, tmp_path):
    d, db = corpus
    out = tmp_path / "report.txt"
    out.write_text("mine\n", encoding="utf-8")
    refused = run("report", "--db", str(db), "-o", str(out))
    assert refused.returncode == 2 and "exists" in refused.stderr, refused.stderr
    assert out.read_text(encoding="utf-8") == "mine\n"
    replaced = run("report", "--db", str(db), "-o", str(out), "--force")
    assert replaced.returncode == 0, replaced.stderr
    assert "mine" not in out.read_text(encoding="utf-8")
    assert "group" in out.read_text(encoding="utf-8").lower()


def test_cli_outputs_corrections_import_analysis_needs_force(tmp_path):
    task = tmp_path / "task.json"
    task.write_text("[]", encoding="utf-8")
    out = tmp_path / "analysis.json"
    out.write_text("mine", encoding="utf-8")
    result = run("corrections", "import", str(task), "--data", str(tmp_path / "t.jsonl"),
                 "--analysis", str(out))
    assert result.returncode == 2 and "exists" in result.stderr, result.stderr
    assert out.read_text(encoding="utf-8") == "mine"


def test_cli_outputs_train_refuses_a_file_or_the_input_folder(tmp_path):
    data = tmp_path / "train.jsonl"
    data.write_text("{}\n", encoding="utf-8")
    for target in (data, tmp_path):
        result = run("train", "--data", str(data), "-o", str(target))
        assert result.returncode == 2, result.stderr
        assert "refusing" in result.stderr, result.stderr
    assert data.read_text(encoding="utf-8") == "{}\n"


@pytest.mark.parametrize("existing", [False, True])
def test_cli_outputs_a_write_that_fails_half_way_leaves_nothing(corpus, tmp_path, monkeypatch,
                                                                capsys, existing):
    """The disk fills while `analyze -o out.json` writes: no empty or half out.json is
    left (an existing one, with --force, keeps its old bytes), and the error says why."""
    from sourcetrace.cli import main
    from sourcetrace.output import formats

    d, _ = corpus
    out = tmp_path / "out.json"
    if existing:
        out.write_text("old", encoding="utf-8")

    def half(analysis, fmt, stream):
        stream.write("{\"schema_version\": ")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(formats, "write", half)
    with pytest.raises(SystemExit) as done:
        main(["analyze", str(d / "a.txt"), "-o", str(out), "-f", "json", "--rules-only",
              *(["--force"] if existing else [])])
    assert done.value.code == 2
    assert "disk full" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == (["out.json"] if existing else [])
    if existing:
        assert out.read_text(encoding="utf-8") == "old"


# ----------------------------------------------------------------- the guard as a library

def test_cli_outputs_guard_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError):
        with safe_output(target, force=True) as tmp:
            tmp.write_text("half", encoding="utf-8")
            raise RuntimeError("the export failed half way")
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]
    with pytest.raises(RuntimeError):
        with safe_output(tmp_path / "new.json") as tmp:
            raise RuntimeError("nothing written")
    assert not (tmp_path / "new.json").exists()


def test_cli_outputs_guard_writes_all_files_or_none(tmp_path):
    with pytest.raises(ConfigError):
        with Outputs() as out:
            out.path(tmp_path / "a.ann").write_text("a", encoding="utf-8")
            (tmp_path / "b.txt").write_text("someone else's", encoding="utf-8")
            out.path(tmp_path / "b.txt")
    assert not (tmp_path / "a.ann").exists()
    assert (tmp_path / "b.txt").read_text(encoding="utf-8") == "someone else's"


def test_cli_outputs_guard_refuses_any_sqlite_file_and_a_folder(tmp_path):
    db = tmp_path / "other.sqlite"
    sqlite3.connect(db).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(ConfigError, match="SQLite"):
        check_output(db, force=True)
    with pytest.raises(ConfigError, match="folder"):
        check_output(tmp_path, force=True)
    hard = tmp_path / "hard.txt"
    src = tmp_path / "src.txt"
    src.write_text("x", encoding="utf-8")
    os.link(src, hard)
    with pytest.raises(ConfigError, match="input"):
        check_output(hard, force=True, inputs=[src])


def test_cli_outputs_guard_keeps_the_mode_of_a_replaced_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o640)
    with safe_output(target, force=True) as tmp:
        tmp.write_text("new", encoding="utf-8")
    assert target.read_text(encoding="utf-8") == "new"
    assert target.stat().st_mode & 0o777 == 0o640


def test_cli_outputs_guard_disk_full_is_named(tmp_path, monkeypatch):
    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "out.json"))

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(ConfigError, match="disk full"):
        with safe_output(tmp_path / "out.json") as tmp:
            tmp.write_text("x", encoding="utf-8")
    assert not (tmp_path / "out.json").exists()


# ----------------------------------------------------------------- reading a corpus

def test_cli_outputs_a_read_command_leaves_an_empty_file_empty(tmp_path):
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    for args in (["search", "mayor"], ["report"], ["export", "-o", str(tmp_path / "x.jsonl")],
                 ["failures"]):
        result = run(*args, "--db", str(empty))
        assert result.returncode == 4, (args, result.stderr)
        assert "empty file" in result.stderr
        assert empty.stat().st_size == 0, args
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]


def test_cli_outputs_ingest_of_a_missing_input_creates_no_corpus(tmp_path):
    result = run("ingest", str(tmp_path / "missing.jsonl"), "--db", str(tmp_path / "new.db"))
    assert result.returncode == 2, result.stderr
    assert "no such file" in result.stderr
    assert list(tmp_path.iterdir()) == []


def _as_nobody():
    os.setgid(65534)
    os.setuid(65534)


def _nobody_can_run() -> bool:
    try:
        probe = subprocess.run([sys.executable, "-c", "import sourcetrace"],
                               preexec_fn=_as_nobody, capture_output=True, timeout=120)
    except OSError:
        return False
    return probe.returncode == 0


def _read_only_copy(db: Path, tmp_path: Path) -> Path:
    ro = tmp_path / "ro"
    ro.mkdir()
    copy = ro / "c.db"
    src, dst = sqlite3.connect(db), sqlite3.connect(copy)
    src.backup(dst)
    dst.close()
    src.close()
    return copy


def test_cli_outputs_a_corpus_on_read_only_storage_can_be_read(corpus, tmp_path, monkeypatch,
                                                               capsys):
    """The folder and the file are not writable: the corpus is opened read-only (no -wal
    or -shm made), and searched. Root writes anywhere, so as root the command runs as
    user nobody where it can, else the storage is made read-only for os.access."""
    copy = _read_only_copy(corpus[1], tmp_path)
    ro = copy.parent
    before = digest(copy)
    copy.chmod(0o444)
    ro.chmod(0o555)
    args = ["search", "mayor", "--db", str(copy), "-f", "json"]
    try:
        if os.geteuid() != 0 or _nobody_can_run():
            tmp_path.chmod(0o755)
            result = subprocess.run([sys.executable, "-m", "sourcetrace", *args],
                                    capture_output=True, text=True, timeout=300, cwd=tmp_path,
                                    preexec_fn=_as_nobody if os.geteuid() == 0 else None)
            code, out, err = result.returncode, result.stdout, result.stderr
        else:
            from sourcetrace.cli import main

            real_access = os.access

            def access(path, mode, *a, **k):
                if mode & os.W_OK and str(ro) in os.path.abspath(path):
                    return False
                return real_access(path, mode, *a, **k)

            monkeypatch.setattr(os, "access", access)
            with pytest.raises(SystemExit) as done:
                main(args)
            code = done.value.code
            out, err = capsys.readouterr()
    finally:
        ro.chmod(0o755)
    assert code == 0, err
    assert len(out.splitlines()) >= 1
    assert digest(copy) == before
    assert sorted(p.name for p in ro.iterdir()) == ["c.db"]


def test_cli_outputs_disk_full_is_reported_as_disk_full(tmp_path, monkeypatch):
    """SQLite ends the transaction itself when the disk fills; the error must say
    "disk full", not "cannot rollback - no transaction is active"."""
    from sourcetrace.corpus.store import ArticleRecord
    from sourcetrace.corpus.store.sqlite import SqliteStore
    from sourcetrace.model import Analysis

    store = SqliteStore(str(tmp_path / "c.db"))

    def full(self, record):
        self.conn.exec_driver_sql("ROLLBACK")   # what SQLite does on SQLITE_FULL in the journal
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(SqliteStore, "_insert", full)
    with pytest.raises(StoreError) as caught:
        store.add_many([ArticleRecord(analysis=Analysis(text="x"), input="x")])
    assert "disk full" in str(caught.value)
    assert "rollback" not in str(caught.value)
    monkeypatch.undo()
    limited = SqliteStore(str(tmp_path / "small.db"))
    pages = limited.read_sql("PRAGMA page_count")[0][0]
    limited.read_sql(f"PRAGMA max_page_count={pages + 1}")
    with pytest.raises(StoreError, match="disk full"):
        limited.add_many([ArticleRecord(analysis=Analysis(text="word " * 50_000), input="y")])


def test_cli_outputs_a_write_to_a_read_only_corpus_is_a_store_error(corpus, tmp_path,
                                                                    monkeypatch):
    """`sources --relink` on a corpus opened read-only: our error naming why (exit 4),
    not an unexpected sqlite3 error (exit 70)."""
    from sourcetrace.corpus.store.sqlite import SqliteStore

    copy = _read_only_copy(corpus[1], tmp_path)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, *a, **k: False if mode & os.W_OK
                        else real_access(path, mode, *a, **k))
    store = SqliteStore(str(copy), create=False)
    assert store.readonly and store.count() == 3
    with pytest.raises(StoreError, match="read-only"):
        store.relink_entities()
    store.close()
    assert sorted(p.name for p in copy.parent.iterdir()) == ["c.db"]
