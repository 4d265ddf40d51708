"""Claim records from attributions and check-worthy assertions."""
from __future__ import annotations

import threading

import pytest

from sourcetrace.crossoutlet.claims import ATTRIBUTED, UNATTRIBUTED, Claim, extract_claims
from sourcetrace.errors import InputError
from sourcetrace.model import Analysis, Assertion, Attribution, Source, Span

TEXT = ("Ukrainska Pravda reported that the military command said on Telegram that some 300 "
        "Russian troops refused to obey orders. The town has been shelled daily since March. "
        "It rained. “We will hold the line,” a soldier said.")


def _span(text: str, part: str) -> Span:
    start = text.index(part)
    return Span.of(text, start, start + len(part))


def _analysis(meta=None) -> Analysis:
    t = TEXT
    outer = Attribution(source=(_span(t, "Ukrainska Pravda"),), cue=(_span(t, "reported"),),
                        content=(_span(t, "the military command said on Telegram that some 300 "
                                          "Russian troops refused to obey orders"),),
                        source_id=0)
    inner = Attribution(source=(_span(t, "the military command"),), cue=(_span(t, "said"),),
                        content=(_span(t, "some 300 Russian troops refused to obey orders"),),
                        parent=0, source_id=1)
    quote = Attribution(source=(_span(t, "a soldier"),), cue=(_span(t, "said."),),
                        content=(_span(t, "“We will hold the line,”"),), kind="direct",
                        speaker="a soldier")
    sources = (
        Source(0, "Ukrainska Pravda", identity="named", kind="media"),
        Source(1, "the military command", identity="described", kind="official",
               channel="Telegram"),
    )
    assertions = (
        Assertion(_span(t, "The town has been shelled daily since March."), "checkworthy"),
        Assertion(_span(t, "It rained."), "background"),
    )
    return Analysis(text=t, attributions=(outer, inner, quote), sources=sources,
                    assertions=assertions, meta=meta or {})


def test_claims_one_per_attribution_and_checkworthy_assertion():
    claims = extract_claims(_analysis(), article_id="a1", outlet="kyivpost.com",
                            date="2024-02-28", url="https://kyivpost.com/x")
    assert [c.id for c in claims] == ["a1#a0", "a1#a1", "a1#a2", "a1#s0"]
    assert [c.kind for c in claims] == [ATTRIBUTED] * 3 + [UNATTRIBUTED]
    assert all(c.outlet == "kyivpost.com" and c.date == "2024-02-28" for c in claims)


def test_claims_resolve_source_and_relays():
    inner = extract_claims(_analysis(), article_id="a1")[1]
    assert inner.text == "some 300 Russian troops refused to obey orders"
    assert inner.source.name == "the military command"
    assert inner.source.kind == "official" and inner.source.channel == "Telegram"
    assert [s.name for s in inner.via] == ["Ukrainska Pravda"]
    assert [s.describe() for s in inner.chain()] == ["Ukrainska Pravda",
                                                     "the military command on Telegram"]


def test_claims_quote_marks_are_stripped_but_span_kept():
    quote = extract_claims(_analysis(), article_id="a1")[2]
    assert quote.text == "We will hold the line"
    assert TEXT[quote.span.start:quote.span.end] == "“We will hold the line,”"
    assert quote.source.name == "a soldier" and quote.attribution_kind == "direct"


def test_claims_assertion_has_no_source():
    claim = extract_claims(_analysis(), article_id="a1")[-1]
    assert claim.source is None and claim.chain() == ()
    assert claim.text == "The town has been shelled daily since March."


def test_claims_metadata_comes_from_meta_when_not_given():
    claims = extract_claims(_analysis({"id": "m1", "outlet": "pravda.com.ua",
                                       "date": "2024-02-27"}))
    assert claims[0].id == "m1#a0" and claims[0].outlet == "pravda.com.ua"


def test_claims_without_article_id_raise_input_error():
    with pytest.raises(InputError):
        extract_claims(_analysis())


def test_claims_short_contents_are_skipped():
    claims = extract_claims(_analysis(), article_id="a1", min_words=8)
    assert "a1#a2" not in {c.id for c in claims}


def test_claims_round_trip_json():
    for claim in extract_claims(_analysis(), article_id="a1", outlet="x.com"):
        assert Claim.from_dict(claim.to_dict()) == claim


def test_claims_from_boilerplate_are_skipped():
    analysis = _analysis().replace(boilerplate=(Span(0, len(TEXT)),))
    assert extract_claims(analysis, article_id="a1") == []


def test_claims_from_the_pipeline_slice_the_article(seed_analysis):
    claims = extract_claims(seed_analysis, article_id="seed", outlet="example.org")
    assert len(claims) >= len([a for a in seed_analysis.attributions if a.content]) // 2
    for claim in claims:
        assert seed_analysis.text[claim.span.start:claim.span.end] == claim.span.text
        assert claim.text and all(w in claim.span.text for w in claim.text.split())
        assert Claim.from_dict(claim.to_dict()) == claim


def test_claims_outlet_falls_back_to_the_url_host():
    claims = extract_claims(_analysis(), article_id="a1", url="https://www.example.org/news/1")
    assert claims[0].outlet == "example.org"


# -- claims kept in the store (migration 0003) ---------------------------------------

CLAIMS_SCHEMA = "sourcetrace_claims_test"


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def claim_store(request, tmp_path):
    import os

    from sourcetrace.corpus.store import open_store

    if request.param == "memory":
        s = open_store(":memory:")
    elif request.param == "sqlite":
        s = open_store(str(tmp_path / "corpus.db"))
    else:
        dsn = os.environ.get("SOURCETRACE_TEST_POSTGRES")
        if not dsn:
            pytest.skip("SOURCETRACE_TEST_POSTGRES is not set: set it to a postgresql:// DSN "
                        "to run the PostgreSQL claim-store tests")
        import psycopg
        from psycopg.conninfo import make_conninfo

        from sourcetrace.corpus.store.postgres import PostgresStore

        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {CLAIMS_SCHEMA} CASCADE")
            conn.execute(f"CREATE SCHEMA {CLAIMS_SCHEMA}")
        s = PostgresStore(make_conninfo(dsn, options=f"-c search_path={CLAIMS_SCHEMA}"))
    yield s
    s.close()


def test_claims_store_keeps_batches_in_order_and_once(claim_store):
    from sourcetrace.corpus.store import ArticleRecord

    ids = [claim_store.add(ArticleRecord(analysis=Analysis(text=f"article {i}"), input=f"{i}"))
           for i in range(3)]
    first = claim_store.add_claim_batch(ids[0], b"\x01\x02", 7, outlet="a.com", site_name="A",
                                        claims=[(f"{ids[0]}#a0", '{"x": 1}', b"\x00\x3c")])
    second = claim_store.add_claim_batch(ids[1], b"\x03", 2, claims=[
        (f"{ids[1]}#a1", "{}", b"\x00\x00"), (f"{ids[1]}#a0", "{}", b"\x00\x00")],
        matches=[(f"{ids[0]}#a0", f"{ids[1]}#a0", '{"same": true}')])
    assert second > first
    assert claim_store.add_claim_batch(ids[0], b"", 0) is None          # already stored
    batches = claim_store.claim_batches()
    assert [b.article_id for b in batches] == ids[:2]
    a, b = batches
    assert (a.signature, a.size, a.outlet, a.site_name) == (b"\x01\x02", 7, "a.com", "A")
    assert a.claims == ((f"{ids[0]}#a0", '{"x": 1}', b"\x00\x3c"),)
    assert [c[0] for c in b.claims] == [f"{ids[1]}#a1", f"{ids[1]}#a0"]      # article order
    assert b.matches == ((f"{ids[0]}#a0", f"{ids[1]}#a0", '{"same": true}'),)
    assert [x.article_id for x in claim_store.claim_batches(after=first)] == [ids[1]]


def test_claims_store_refuses_a_batch_written_past_one_it_has_not_read(claim_store):
    from sourcetrace.corpus.store import ArticleRecord
    from sourcetrace.errors import ClaimsChangedError

    ids = [claim_store.add(ArticleRecord(analysis=Analysis(text=f"article {i}"), input=f"{i}"))
           for i in range(3)]
    assert claim_store.articles_without_claims() == ids          # all pending, in id order
    first = claim_store.add_claim_batch(ids[0], b"\x01", 1, after=0)
    with pytest.raises(ClaimsChangedError):                      # written against batch 0
        claim_store.add_claim_batch(ids[1], b"\x02", 1, after=0)
    assert [b.article_id for b in claim_store.claim_batches()] == [ids[0]]
    second = claim_store.add_claim_batch(ids[1], b"\x02", 1, after=first)
    assert second > first and claim_store.articles_without_claims() == [ids[2]]


# ---------------------------------------------------------------- the same claims however ingested

# Groups of claims that say the same thing in other words; each article carries one of
# them, so that each claim has more candidates than MatchOptions.neighbours.
GROUPS = [
    ["some 300 Russian troops refused to obey orders near Avdiivka",
     "about 300 Russian soldiers refused to follow orders near Avdiivka",
     "300 Russian troops refused to obey their commanders near Avdiivka",
     "roughly 300 Russian troops refused orders near the town of Avdiivka",
     "some 300 Russian servicemen refused to obey orders near Avdiivka",
     "300 Russian soldiers near Avdiivka refused to obey orders",
     "some 300 Russian troops near Avdiivka had refused to obey orders"],
    ["the bridge over the Dnipro river will reopen to traffic in May",
     "the Dnipro river bridge will reopen to traffic in May",
     "traffic will return to the bridge over the Dnipro in May",
     "the bridge across the Dnipro river is to reopen to cars in May",
     "the bridge over the Dnipro will be reopened to traffic in May",
     "in May the Dnipro river bridge will reopen to traffic"],
    ["the city council approved a budget of 40 million euros for new schools",
     "the city council passed a 40 million euro budget for new schools",
     "a budget of 40 million euros for new schools was approved by the city council",
     "the council approved 40 million euros for building new schools",
     "the city council has approved a 40 million euro schools budget"],
]
SOURCES = ["the military command", "the regional governor", "a ministry spokesman",
           "the mayor", "officials"]


def _records():
    from sourcetrace.corpus.store import ArticleRecord

    records, n = [], 0
    for g, group in enumerate(GROUPS):
        for i, claim in enumerate(group):
            source = SOURCES[(g + i) % len(SOURCES)]
            text = (f"{source[0].upper() + source[1:]} said {claim}. Article {n} of the set "
                    f"gave no further details on day {n}.")
            start, src = text.index(claim), text.index(source[1:]) - 1
            attribution = Attribution(source=(Span.of(text, src, src + len(source)),), cue=(),
                                      content=(Span.of(text, start, start + len(claim)),),
                                      source_id=0)
            analysis = Analysis(text=text, attributions=(attribution,),
                                sources=(Source(0, source, identity="described",
                                                kind="official"),))
            outlet = f"outlet{n % 7}.com"
            records.append(ArticleRecord(analysis=analysis, input=f"a{n}", outlet=outlet,
                                         date=f"2024-03-{1 + n:02d}"))
            n += 1
    # two syndicated copies: the same story with one more sentence
    for k in (0, 8):
        base = records[k].analysis
        text = base.text + " The report could not be verified."
        records.append(ArticleRecord(analysis=base.replace(text=text), input=f"copy{k}",
                                     outlet="wire-copy.com", date="2024-04-01"))
    return records


def _ingest(store, records, cross):
    for record in records:
        article_id = store.add(record)
        if article_id is not None and cross is not None:
            cross.add_stored(store, article_id, record.analysis, outlet=record.outlet,
                             date=record.date, url=record.url)


def _claims_of(store):
    """The store's claims, matches, copies and pending articles, by content (article
    content hash and place), not by the ids the run gave them."""
    import json

    from sourcetrace.crossoutlet.corroboration import CrossOutlet

    article = {a.id: a.content_hash for a in store.iter_articles()}
    batches = store.claim_batches()
    key = {cid: (article[b.article_id], pos) for b in batches
           for pos, (cid, _data, _vec) in enumerate(b.claims)}
    claims = {(key[cid], json.loads(data)["text"], vec) for b in batches
              for cid, data, vec in b.claims}
    matches = {frozenset((key[a], key[o])) for b in batches for a, o, _ev in b.matches}
    copies = {frozenset((article[b.article_id], article[c])) for b in batches for c in b.copies}
    x = CrossOutlet(embedder=object())          # read back only: nothing is embedded
    x.load_store(store)
    clusters = {(frozenset(key[c] for c in cl.claim_ids), cl.corroboration)
                for cl in x.clusters(min_outlets=2)}
    return {"claims": claims, "matches": matches, "copies": copies, "clusters": clusters,
            "pending": store.articles_without_claims()}


@pytest.fixture(scope="module")
def embedder():
    from sourcetrace.crossoutlet.embed import get_embedder

    return get_embedder()


def _cross(embedder):
    from sourcetrace.crossoutlet.corroboration import CrossOutlet
    from sourcetrace.crossoutlet.match import MatchOptions

    return CrossOutlet(match_options=MatchOptions(neighbours=3), embedder=embedder)


@pytest.fixture(scope="module")
def one_run(embedder, tmp_path_factory):
    from sourcetrace.corpus.store import open_store

    with open_store(str(tmp_path_factory.mktemp("one") / "c.db")) as store:
        _ingest(store, _records(), _cross(embedder))
        result = _claims_of(store)
    assert len(result["claims"]) == len(_records()) and result["pending"] == []
    assert len(result["matches"]) > 40 and result["copies"] and result["clusters"]
    return result


def test_claims_are_the_same_in_another_order_and_in_two_runs(embedder, one_run, tmp_path):
    import random

    from sourcetrace.corpus.store import open_store

    records = _records()
    random.Random(7).shuffle(records)
    with open_store(str(tmp_path / "c.db")) as store:
        _ingest(store, records[:10], _cross(embedder))
        _ingest(store, records[10:], _cross(embedder))     # a second run: a fresh state
        assert _claims_of(store) == one_run


def test_claims_after_an_interrupted_run_are_completed_by_the_next_run(embedder, one_run,
                                                                       tmp_path):
    from sourcetrace.corpus import runner
    from sourcetrace.corpus.store import open_store

    records = _records()
    with open_store(str(tmp_path / "c.db")) as store:
        _ingest(store, records[:9], _cross(embedder))
        _ingest(store, records[9:], None)       # stored, then killed before their claims
        assert len(store.articles_without_claims()) == len(records) - 9
        # the next run has nothing new to add: it completes the pending claims anyway
        report = runner.ingest([], store, items=[])
        assert report.added == 0
        assert _claims_of(store) == one_run
        # building again (a reader, another run) is idempotent: no batch is added or changed
        from sourcetrace.crossoutlet.corroboration import sync_with_store

        batches = store.claim_batches()
        sync_with_store(store, cross=_cross(embedder))
        runner.ingest([], store, items=[])
        assert store.claim_batches() == batches


def _opener(backend, tmp_path):
    """A function that opens one more connection to a fresh store of ``backend``."""
    import os

    from sourcetrace.corpus.store import open_store

    if backend == "sqlite":
        db = str(tmp_path / "c.db")
        return lambda: open_store(db)
    dsn = os.environ.get("SOURCETRACE_TEST_POSTGRES")
    if not dsn:
        pytest.skip("SOURCETRACE_TEST_POSTGRES is not set: set it to a postgresql:// DSN "
                    "to run the PostgreSQL claim-store tests")
    import psycopg
    from psycopg.conninfo import make_conninfo

    from sourcetrace.corpus.store.postgres import PostgresStore

    schema = CLAIMS_SCHEMA + "_concurrent"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
    return lambda: PostgresStore(make_conninfo(dsn, options=f"-c search_path={schema}"))


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_claims_of_two_concurrent_ingests_are_those_of_one_run(backend, embedder, one_run,
                                                               tmp_path):
    records = _records()
    connect = _opener(backend, tmp_path)
    connect().close()
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(part):
        try:
            with connect() as store:
                start.wait(10)
                _ingest(store, part, _cross(embedder))
        except BaseException as exc:      # reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(records[i::2],)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    with connect() as store:
        assert _claims_of(store) == one_run
