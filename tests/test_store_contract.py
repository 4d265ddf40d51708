"""The store contract, run on every backend: memory, SQLite and (when
SOURCETRACE_TEST_POSTGRES holds a DSN, as .ci/run sets it) PostgreSQL, in a schema of its
own (sourcetrace_contract_test, dropped and made anew per test; public is never touched)."""
from __future__ import annotations

import os

import pytest

from sourcetrace.errors import ConfigError, InputError
from sourcetrace.model import Analysis, Attribution, Source, Span
from sourcetrace.corpus.store import ArticleRecord, Store, content_hash
from sourcetrace.corpus.store.memory import MemoryStore
from sourcetrace.corpus.store.sqlite import SqliteStore

PG_ENV = "SOURCETRACE_TEST_POSTGRES"


TEST_SCHEMA = "sourcetrace_contract_test"


def reset_postgres(dsn: str) -> str:
    """A fresh, empty schema of its own (never ``public``); the DSN that uses it."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {TEST_SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {TEST_SCHEMA}")
    return make_conninfo(dsn, options=f"-c search_path={TEST_SCHEMA}")


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "memory":
        s = MemoryStore()
    elif request.param == "sqlite":
        s = SqliteStore(str(tmp_path / "corpus.db"))
    else:
        dsn = os.environ.get(PG_ENV)
        if not dsn:
            pytest.skip(f"{PG_ENV} is not set: set it to a postgresql:// DSN to run the "
                        "PostgreSQL contract tests (.ci/run starts a server and sets it)")
        from sourcetrace.corpus.store.postgres import PostgresStore

        s = PostgresStore(reset_postgres(dsn))
    yield s
    s.close()


def make_analysis(text: str, quotes: list[tuple[str, str, str]], *, sources=None,
                  meta=None) -> Analysis:
    """quotes: (speaker, cue, content) found in ``text`` in that order."""
    atts = []
    srcs = {}
    for speaker, cue, content in quotes:
        s0 = text.index(speaker)
        c0 = text.index(cue, s0 + len(speaker)) if cue in text[s0:] else text.index(cue)
        q0 = text.index(content)
        sid = srcs.setdefault(speaker, len(srcs))
        atts.append(Attribution(source=(Span.of(text, s0, s0 + len(speaker)),),
                                cue=(Span.of(text, c0, c0 + len(cue)),),
                                content=(Span.of(text, q0, q0 + len(content)),),
                                kind="direct", rule="test", confidence=0.9, speaker=speaker,
                                source_id=sid))
    kinds = sources or {}
    sources_t = tuple(
        Source(id=sid, name=name, mentions=(Span.of(text, text.index(name), text.index(name) + len(name)),),
               identity=kinds.get(name, ("named", "person"))[0], kind=kinds.get(name, ("named", "person"))[1],
               attributions=tuple(i for i, a in enumerate(atts) if a.source_id == sid))
        for name, sid in srcs.items())
    return Analysis(text=text, attributions=tuple(atts), sources=sources_t, meta=dict(meta or {}),
                    profile={"distinct_sources": len(sources_t)})


TEXT_A = ('"The bridge is closed," Ann Lee said on Monday. Officials said the river rose '
          'overnight. "We expect delays," the ministry said.')
TEXT_B = ('Troops refused orders, a senior official said. "Nobody moved," Ann Lee said. '
          'The mayor promised new funding for schools.')
TEXT_C = 'Weather was calm across the valley. Farmers planted barley early this spring.'


def records() -> list[ArticleRecord]:
    a = make_analysis(TEXT_A, [("Ann Lee", "said", "The bridge is closed"),
                               ("the ministry", "said", "We expect delays")],
                      sources={"the ministry": ("named", "official")},
                      meta={"title": "Bridge closed", "url": "https://news.example.com/a"})
    b = make_analysis(TEXT_B, [("a senior official", "said", "Troops refused orders"),
                               ("Ann Lee", "said", "Nobody moved")],
                      sources={"a senior official": ("described", "official")})
    c = make_analysis(TEXT_C, [])
    return [
        ArticleRecord(analysis=a, input="a.html", outlet="example.com", url="https://news.example.com/a",
                      canonical_url="https://news.example.com/a", title="Bridge closed",
                      author="Kim Roe", date="2024-03-01", input_kind="html",
                      raw="<html><p>" + TEXT_A + "</p></html>"),
        ArticleRecord(analysis=b, input="b.txt", outlet="other.org", title="Refusal",
                      date="2024-05-10", input_kind="text", raw=TEXT_B),
        ArticleRecord(analysis=c, input="c.txt", outlet="other.org", date="2023-12-31"),
    ]


def test_store_backends_satisfy_protocol(store):
    assert isinstance(store, Store)


def test_store_add_then_get_gives_the_same_analysis(store):
    recs = records()
    ids = [store.add(r) for r in recs]
    assert all(isinstance(i, int) and i > 0 for i in ids) and len(set(ids)) == 3
    for i, r in zip(ids, recs):
        got = store.get(i)
        assert got.analysis == r.analysis
        assert got.analysis.to_json() == r.analysis.to_json()
        assert (got.input, got.outlet, got.title, got.date, got.content_hash) == (
            r.input, r.outlet, r.title, r.date, content_hash(r.analysis.text))
    assert store.get(ids[0]).raw_input.startswith("<html>")
    assert store.get(ids[1]).raw is None and store.get(ids[1]).raw_input == TEXT_B
    assert store.get(10_000) is None
    assert store.count() == 3


def test_store_same_content_hash_is_added_once(store):
    r = records()[0]
    assert store.add(r) is not None
    again = ArticleRecord(analysis=r.analysis.replace(text=r.analysis.text + "  \n"), input="copy.html")
    assert again.content_hash == r.content_hash  # whitespace does not make a new article
    assert store.add(again) is None
    assert store.add_many([r, records()[1]])[0] is None
    assert store.count() == 2


def test_store_known_hashes_and_inputs(store):
    recs = records()
    store.add_many(recs[:2])
    assert store.known_hashes([recs[0].content_hash, recs[2].content_hash, "x"]) == {recs[0].content_hash}
    assert store.known_inputs(["a.html", "c.txt", "b.txt"]) == {"a.html", "b.txt"}
    assert store.known_hashes([]) == set()


def test_store_iter_articles_in_id_order(store):
    store.add_many(records())
    got = list(store.iter_articles())
    assert [a.input for a in got] == ["a.html", "b.txt", "c.txt"]
    assert [a.id for a in got] == sorted(a.id for a in got)


def test_store_search_finds_articles_quotes_and_sources(store):
    store.add_many(records())
    hits = store.search("bridge")
    assert {(h.what, h.article_id) for h in hits} >= {("article", 1), ("quote", 1)}
    assert all(h.article_id == 1 for h in hits)
    quote = [h for h in hits if h.what == "quote"][0]
    assert quote.ref == 0 and "bridge" in quote.snippet.lower()
    assert quote.title == "Bridge closed" and quote.outlet == "example.com"
    assert {h.what for h in store.search("ann lee", what="source")} == {"source"}
    assert {h.article_id for h in store.search("Ann Lee", what="source")} == {1, 2}
    assert store.search("barley") and store.search("barley")[0].article_id == 3
    assert store.search("volcano") == []


def test_store_search_needs_every_word_and_phrases_in_order(store):
    store.add_many(records())
    assert {h.article_id for h in store.search("ann troops")} == {2}
    assert {h.article_id for h in store.search('"refused orders"')} == {2}
    assert store.search('"orders refused"') == []


def test_store_search_filters_by_outlet_date_identity_kind(store):
    store.add_many(records())
    assert {h.article_id for h in store.search("said", outlet="other.org")} == {2}
    assert {h.article_id for h in store.search("said", since="2024-04-01")} == {2}
    assert {h.article_id for h in store.search("said", until="2024-04-01")} == {1}
    quotes = store.search("troops", what="quote", identity="described")
    assert [(h.article_id, h.ref) for h in quotes] == [(2, 0)]
    assert store.search("nobody", what="quote", identity="described") == []
    assert {h.article_id for h in store.search("delays", what="quote", kind="official")} == {1}
    assert store.search("bridge", what="quote", kind="official") == []
    assert {h.article_id for h in store.search("said", what="article", kind="official")} == {1, 2}


def test_store_search_rejects_empty_query_and_bad_target(store):
    with pytest.raises(InputError):
        store.search("  ?! ")
    with pytest.raises(ConfigError):
        store.search("bridge", what="tweets")


def test_store_top_sources_overall_and_per_group(store):
    store.add_many(records())
    top = store.top_sources()
    assert top[0].name == "Ann Lee" and top[0].articles == 2 and top[0].attributions == 2
    assert {t.name for t in top} == {"Ann Lee", "the ministry", "a senior official"}
    by_outlet = store.top_sources(by="outlet")
    assert {(t.group, t.name, t.articles) for t in by_outlet} == {
        ("example.com", "Ann Lee", 1), ("example.com", "the ministry", 1),
        ("other.org", "Ann Lee", 1), ("other.org", "a senior official", 1)}
    one_each = store.top_sources(by="outlet", limit=1)
    assert sorted(t.group for t in one_each) == ["example.com", "other.org"]
    officials = store.top_sources(kind="official")
    assert {t.name for t in officials} == {"the ministry", "a senior official"}
    by_kind = store.top_sources(by="kind")
    assert {(t.group, t.name) for t in by_kind if t.group == "person"} == {("person", "Ann Lee")}
    # "the ministry" was typed named by the article: a description, counted as described
    assert {t.name for t in store.top_sources(identity="described")} == {
        "a senior official", "the ministry"}
    assert store.top_sources(identity="named")[0].name == "Ann Lee"
    with pytest.raises(ConfigError):
        store.top_sources(by="colour")


def test_store_failures_recorded_updated_and_cleared_by_success(store):
    store.record_failure("bad.warc", "truncated WARC", "bad_input")
    store.record_failure("feed.xml", "not a feed", "bad_input")
    store.record_failure("bad.warc", "truncated WARC (again)", "bad_input")
    fails = store.failures()
    assert [f.input for f in fails] == ["bad.warc", "feed.xml"]
    assert fails[0].attempts == 2 and fails[0].reason == "truncated WARC (again)"
    assert fails[0].first_seen <= fails[0].last_seen
    store.clear_failure("feed.xml")
    assert [f.input for f in store.failures()] == ["bad.warc"]
    store.record_failure("a.html", "timed out", "fetch_failed")
    store.add(records()[0])  # the input now gave an article
    assert [f.input for f in store.failures()] == ["bad.warc"]


def test_store_page_articles_pages_and_filters_by_outlet(store):
    store.add_many(records())
    total, page = store.page_articles(offset=1, limit=1)
    assert total == 3 and [a.input for a in page] == ["b.txt"]
    total, page = store.page_articles(outlet="other.org", limit=10)
    assert total == 2 and [a.input for a in page] == ["b.txt", "c.txt"]
    total, page = store.page_articles(offset=5, limit=10)
    assert total == 3 and page == []
    assert store.page_articles(outlet="nowhere.net") == (0, [])
