"""Claim records from attributions and check-worthy assertions."""
from __future__ import annotations

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
