"""A trace that reads only its candidates from the store (crossoutlet/stored.py) answers as
one that reads every claim (CrossOutlet), keeps the store untouched, and keeps the vector
file beside a SQLite corpus in step with it."""
from __future__ import annotations

import json
import os
import sqlite3

import numpy as np
import pytest

from test_claims import GROUPS, _cross, _ingest, _records


@pytest.fixture(scope="module")
def embedder():
    from sourcetrace.crossoutlet.embed import get_embedder

    return get_embedder()


@pytest.fixture(scope="module")
def corpus(embedder, tmp_path_factory):
    from sourcetrace.corpus.store import open_store

    db = str(tmp_path_factory.mktemp("stored") / "corpus.db")
    with open_store(db) as store:
        _ingest(store, _records(), _cross(embedder))
    return db


def _result(x, store, **what):
    from sourcetrace.crossoutlet.tracing import ranked_trace

    ranked, _checks, cluster = ranked_trace(x, store=store, top=8, **what)
    return ([(h.id, h.verdict, round(h.probability, 5), h.record) for h in ranked.hits],
            cluster.to_dict() if cluster else None)


def _fts_rows(db):
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM claims_fts").fetchone()[0]


def test_stored_trace_is_the_whole_corpus_trace(corpus, embedder):
    from sourcetrace.corpus.store import open_store
    from sourcetrace.crossoutlet.corroboration import CrossOutlet, sync_with_store
    from sourcetrace.crossoutlet.stored import StoredClaims, open_claims

    with open_store(corpus, create=False) as store:
        whole = sync_with_store(store, cross=CrossOutlet(embedder=embedder))
        stored = open_claims(store, embedder=embedder)
        assert isinstance(stored, StoredClaims)
        assert stored.index.from_file == len(whole.claims)      # every vector from the file
        asked = [{"text": g[0]} for g in GROUPS] + [{"text": "the harbour froze in July"}] \
            + [{"claim_id": cid} for cid in sorted(whole.claims)[::4]]
        found = 0
        for what in asked:
            mine = _result(stored, store, **what)
            assert mine == _result(whole, store, **what), what
            found += mine[1] is not None
        assert found >= len(GROUPS)                   # clusters were compared, not only None
        with pytest.raises(Exception, match="no claim with id"):
            stored.trace_claim("999#a0")


def test_stored_trace_writes_nothing_and_searches_claims_not_yet_indexed(corpus, embedder,
                                                                       tmp_path):
    """A corpus whose full-text index and vector file lag behind its claims (written by an
    older version): the trace still finds every claim, and the store is left as it was."""
    import shutil

    from sourcetrace.corpus.store import open_store
    from sourcetrace.crossoutlet.stored import StoredClaims

    db = str(tmp_path / "old.db")
    shutil.copy(corpus, db)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM claims_fts")
    before = open(db, "rb").read()
    with open_store(db, create=False) as store:
        x = StoredClaims(store, embedder=embedder)
        assert x.index.from_file == 0 and len(x.index) == len(_records())   # no file: the store
        ranked, cluster = _result(x, store, text=GROUPS[1][0])
        assert ranked[0][1] == "same" and cluster is not None
        lexical = x.claim_collection().lexical_search("Dnipro bridge traffic", 5)
        assert len(lexical) == 5 and all("#" in cid for cid, _ in lexical)
    assert _fts_rows(db) == 0
    assert open(db, "rb").read() == before
    assert not os.path.exists(db + "-claimvec.json")


def test_vector_file_grows_with_each_batch_and_a_stale_one_is_ignored(embedder, tmp_path):
    from sourcetrace.corpus.store import open_store
    from sourcetrace.crossoutlet.stored import StoredClaims

    db = str(tmp_path / "c.db")
    records = _records()
    with open_store(db) as store:
        _ingest(store, records[:5], _cross(embedder))
        meta = json.loads(open(db + "-claimvec.json").read())
        assert meta["rows"] == 5 and _fts_rows(db) == 5
        cross = _cross(embedder)
        _ingest(store, records[5:9], cross)
        meta = json.loads(open(db + "-claimvec.json").read())
        assert meta["rows"] == 9 and _fts_rows(db) == 9
        rows = np.fromfile(db + "-claimvec.f32", dtype=np.float32).reshape(-1, 384)
        assert rows.shape == (9, 384) and np.allclose(np.linalg.norm(rows, axis=1), 1, atol=1e-5)
    # the corpus made again from other articles: the file beside it no longer matches
    os.remove(db)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    with open_store(db) as store:
        _ingest(store, records[9:11], None)
        for article in store.iter_articles():
            _cross(embedder).add_stored(store, article.id, article.analysis,
                                        outlet=article.outlet, date=article.date)
        x = StoredClaims(store, embedder=embedder)
        assert len(x.index) == 2
        meta = json.loads(open(db + "-claimvec.json").read())
        assert meta["rows"] == 2                      # rebuilt by the writer, not appended to
