"""A corpus made before the store moved to SQLAlchemy and Alembic upgrades in place.

tests/fixtures/store_v8/ holds two corpora made by the store code of that time (numbered
SQL migrations 0001-0008, recorded in schema_migrations; see the README there): a SQLite
file and a pg_dump of the same ingest into PostgreSQL. Each is opened with today's store:
its recorded version is stamped as the matching Alembic revision, what it holds reads
back as it was, and new articles, claims and failures are written beside it. PostgreSQL
when SOURCETRACE_TEST_POSTGRES holds a DSN (as .ci/run sets it).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from sourcetrace.corpus.store import ArticleRecord, migrate
from sourcetrace.corpus.store.search import search_text
from sourcetrace.corpus.store.sqlite import SqliteStore
from sourcetrace.model import Analysis, Attribution, Source, Span

FIXTURES = Path(__file__).parent / "fixtures" / "store_v8"
PG_ENV = "SOURCETRACE_TEST_POSTGRES"
PG_SCHEMA = "sourcetrace_legacy"    # the schema the dump was made in
TABLES = ("articles", "attributions", "sources", "entities", "article_figures", "claim_batches",
          "claims", "claim_matches", "factchecks", "failures", "search_index")


def snapshot(read) -> dict:
    """What a corpus holds, read with plain SQL (``read(sql)`` -> rows)."""
    return {
        "counts": {t: read(f"SELECT count(*) FROM {t}")[0][0] for t in TABLES},
        "articles": [tuple(r) for r in read("SELECT id, content_hash, outlet, title, date, "
                                            "analysis, model FROM articles ORDER BY id")],
        "claims": [(r[0], r[1], bytes(r[2])) for r in read(
            "SELECT id, data, vector FROM claims ORDER BY id")],
        "entities": [tuple(r) for r in read("SELECT id, key, name, articles FROM entities "
                                            "ORDER BY id")],
        "figures": [tuple(r) for r in read("SELECT * FROM article_figures ORDER BY article_id")],
    }


def new_record() -> ArticleRecord:
    text = "Anna Kovalenko said the harbour bridge was closed after the storm."
    src = Source(id=0, name="Anna Kovalenko", mentions=(Span(0, 14),), kind="person",
                 identity="named", attributions=(0,))
    att = Attribution(source=(Span(0, 14),), cue=(Span(15, 19),), content=(Span(20, 66),),
                      kind="indirect", rule="test", confidence=0.9, source_id=0)
    return ArticleRecord(analysis=Analysis(text=text, attributions=(att,), sources=(src,)),
                         input="new.txt", outlet="example.com", date="2026-01-02",
                         title="Bridge closed")


def check_upgraded(store, before: dict) -> None:
    """The old corpus reads back as it was, then takes new writes."""
    revisions = sorted(int(r.revision) for r in migrate.scripts().walk_revisions())
    assert store.migrations() == revisions
    assert store.read_sql("SELECT version_num FROM sourcetrace_version") == [(migrate.head(),)]
    assert snapshot(store.read_sql) == before
    old = before["articles"]
    for row in old:
        got = store.get(row[0])
        assert got.analysis.to_json() == row[5] and got.content_hash == row[1]
    assert [a.id for a in store.iter_articles()] == [r[0] for r in old]
    assert store.search("strike") and store.search("Andrusiv", what="source")
    assert {s.name for s in store.top_sources(limit=50)} >= {"Rosemary Thomas", "Victor Andrusiv"}
    batches = store.claim_batches()
    assert [b.article_id for b in batches] == [r[0] for r in old]
    assert sum(len(b.claims) for b in batches) == before["counts"]["claims"]
    assert [f.input for f in store.failures()] == ["feeds/broken.xml"]
    assert [i for i, _, _ in store.factchecks()] == ["fc-1"]
    assert search_text(store, "claims", "harbour strike dock workers", 3)

    # new writes beside the old ones
    new_id = store.add(new_record())
    assert new_id == max(r[0] for r in old) + 1
    assert store.add(new_record()) is None
    assert {h.article_id for h in store.search("harbour bridge storm")} == {new_id}
    assert "Anna Kovalenko" in {s.name for s in store.top_sources(limit=50)}
    seq = store.add_claim_batch(new_id, b"\x01" * 16, 1, outlet="example.com",
                                claims=[(f"{new_id}#a0", json.dumps({"text": "The harbour bridge "
                                                                              "was closed"}),
                                         b"\0" * 768)],
                                after=batches[-1].seq)
    assert seq == batches[-1].seq + 1 and store.articles_without_claims() == []
    assert search_text(store, "claims", "harbour bridge closed", 5)[0][0] == f"{new_id}#a0"
    store.record_failure("feeds/broken.xml", "still not a feed", "bad_input")
    assert store.failures()[0].attempts == 2
    assert store.count() == len(old) + 1


def test_store_upgrade_a_sqlite_corpus_made_before_alembic(tmp_path):
    path = tmp_path / "corpus.db"
    shutil.copyfile(FIXTURES / "corpus.db", path)
    raw = sqlite3.connect(path)
    assert [r[0] for r in raw.execute("SELECT version FROM schema_migrations ORDER BY version")
            ] == [1, 2, 3, 4, 5, 6, 8]
    before = snapshot(lambda sql: raw.execute(sql).fetchall())
    raw.close()
    with SqliteStore(str(path)) as store:
        check_upgraded(store, before)
    with SqliteStore(str(path)) as store:      # opened again: nothing to do, all kept
        assert store.count() == len(before["articles"]) + 1


def test_store_upgrade_a_read_only_sqlite_corpus_made_before_alembic(tmp_path, monkeypatch):
    """Read-only storage: read as it is (its recorded version is the head), never written."""
    path = tmp_path / "ro" / "corpus.db"
    path.parent.mkdir()
    shutil.copyfile(FIXTURES / "corpus.db", path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, *a, **k: False if mode & os.W_OK
                        else real_access(p, mode, *a, **k))
    with SqliteStore(str(path), create=False) as store:
        assert store.readonly and store.migrations() == [1, 2, 3, 4, 5, 6, 8]
        assert store.count() == 2 and store.search("strike")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in path.parent.iterdir()) == ["corpus.db"]


def test_store_upgrade_a_postgres_corpus_made_before_alembic():
    dsn = os.environ.get(PG_ENV)
    if not dsn:
        pytest.skip(f"{PG_ENV} is not set: set it to a postgresql:// DSN to run the "
                    "PostgreSQL upgrade test (.ci/run starts a server and sets it)")
    import psycopg
    from psycopg.conninfo import make_conninfo

    from sourcetrace.corpus.store.postgres import PostgresStore

    dump = (FIXTURES / "corpus-postgres.sql").read_text(encoding="utf-8")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
        conn.execute(dump)
    try:
        schema_dsn = make_conninfo(dsn, options=f"-c search_path={PG_SCHEMA}")
        with psycopg.connect(schema_dsn) as conn:
            before = snapshot(lambda sql: conn.execute(sql).fetchall())
        with PostgresStore(schema_dsn) as store:
            check_upgraded(store, before)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
