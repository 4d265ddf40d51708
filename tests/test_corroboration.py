"""Corroboration and provenance of claims across outlets."""
from __future__ import annotations

import json

import pytest

from sourcetrace.crossoutlet.claims import Claim, ClaimSource
from sourcetrace.crossoutlet.corroboration import (
    CrossOutlet,
    build_cluster,
    cluster_claims,
    outlet_matches,
    relay_chain,
)
from sourcetrace.errors import InputError
from sourcetrace.crossoutlet.match import Match, MatchEvidence
from sourcetrace.model import Analysis, Attribution, Source, Span

TEXT = "Some 300 Russian troops refused to obey orders near Avdiivka"
MILITARY = ClaimSource("the Ukrainian military command", "described", "official", "Telegram")
PRAVDA = ClaimSource("Ukrainska Pravda", "named", "media")


def _claim(cid, outlet, date, source=None, via=(), article=None):
    return Claim(id=cid, article_id=article or cid.split("#")[0], text=TEXT,
                 span=Span(0, len(TEXT)), source=source, via=tuple(via), outlet=outlet, date=date)


@pytest.fixture()
def members():
    return [
        # the original report, quoting the military's Telegram post
        _claim("up#a0", "pravda.com.ua", "2024-02-27", MILITARY),
        # an outlet relaying the original report
        _claim("ki#a0", "kyivindependent.com", "2024-02-28", MILITARY, via=[PRAVDA]),
        # a wire story with the same source, and a copy of it
        _claim("ap#a0", "apnews.com", "2024-02-28", MILITARY),
        _claim("ap2#a0", "wtop.com", "2024-02-28", MILITARY),
        # an outlet with its own anonymous source
        _claim("nyt#a0", "nytimes.com", "2024-02-29",
               ClaimSource("a Western official", "anonymous", "official")),
    ]


VOICES = {"ap2": "ap"}                   # wtop.com republished the AP story
ALIASES = {"pravda.com.ua": {"Ukrainska Pravda"}}


def test_corroboration_syndicated_copies_count_once(members):
    cluster = build_cluster(members, VOICES, aliases=ALIASES)
    assert cluster.voices["ap"] == ("ap#a0", "ap2#a0")
    assert set(cluster.outlets) == {"pravda.com.ua", "kyivindependent.com", "apnews.com",
                                    "wtop.com", "nytimes.com"}
    assert "wtop.com" not in cluster.independent_outlets


def test_corroboration_relays_are_not_independent(members):
    cluster = build_cluster(members, VOICES, aliases=ALIASES)
    assert cluster.relays == {"ki": "pravda.com.ua"}
    assert cluster.independent_outlets == ("apnews.com", "nytimes.com", "pravda.com.ua")


def test_corroboration_counts_independent_sources(members):
    # pravda and AP both quote the military (one source); the NYT has its own anonymous source
    cluster = build_cluster(members, VOICES, aliases=ALIASES)
    assert cluster.corroboration == 2
    assert set(cluster.original_sources.values()) == {
        "ukrainian military command", "anonymous source in nytimes.com"}


def test_corroboration_counts_outlets_not_articles_and_people_by_surname():
    members = [
        _claim("a1#a0", "a.com", "2024-01-01", ClaimSource("Donald J. Trump", "named", "person")),
        _claim("b1#a0", "b.com", "2024-01-02", ClaimSource("Mr. Trump", "named", "person")),
        _claim("c1#a0", "c.com", "2024-01-03", ClaimSource("a senior aide", "described", "person")),
        _claim("c2#a0", "c.com", "2024-01-04", ClaimSource("an official", "anonymous", "official")),
    ]
    cluster = build_cluster(members)
    assert cluster.original_sources["a1"] == cluster.original_sources["b1"] == "trump"
    # a.com counts (Trump), b.com does not (Trump again), c.com counts once for two articles
    assert cluster.corroboration == 2


def test_corroboration_earliest_and_original_source(members):
    cluster = build_cluster(members, VOICES, aliases=ALIASES)
    assert cluster.earliest == "up#a0" and cluster.earliest_date == "2024-02-27"
    assert cluster.original_source == "the Ukrainian military command on Telegram"


def test_corroboration_relay_chain_crosses_outlets(members):
    chain = relay_chain(members[1], members, aliases=ALIASES)
    text = ", citing ".join(step.label for step in chain)
    assert text == ("kyivindependent.com, citing pravda.com.ua, "
                    "citing the Ukrainian military command on Telegram")
    assert [s.claim_id for s in chain if s.kind == "outlet"] == ["ki#a0", "up#a0"]


def test_corroboration_own_voice_is_the_original_when_no_source():
    cluster = build_cluster([_claim("x#s0", "x.com", "2024-01-01")])
    assert cluster.original_source == "x.com (own voice)"
    assert cluster.corroboration == 1


def test_corroboration_outlet_names_match_domains():
    assert outlet_matches("The Washington Post", "washingtonpost.com")
    assert outlet_matches("The New York Times", "nyt.com")
    assert outlet_matches("Ukrainska Pravda", "pravda.com.ua", ["Ukrainska Pravda"])
    assert not outlet_matches("the Ukrainian military command", "pravda.com.ua")


def test_corroboration_cluster_claims_uses_confirmed_matches_only():
    same = MatchEvidence(0.9, (), True)
    rejected = MatchEvidence(0.9, (), False)
    groups = cluster_claims(["a", "b", "c"], [Match("a", "b", same), Match("b", "c", rejected)])
    assert groups == [["a", "b"], ["c"]]


def test_corroboration_empty_cluster_is_an_input_error():
    with pytest.raises(InputError):
        build_cluster([])


def _article(text, content, source_name, kind="official", identity="described", meta=None):
    start = text.index(content)
    src_start = text.index(source_name)
    attribution = Attribution(source=(Span.of(text, src_start, src_start + len(source_name)),),
                              cue=(), content=(Span.of(text, start, start + len(content)),),
                              source_id=0)
    return Analysis(text=text, attributions=(attribution,),
                    sources=(Source(0, source_name, identity=identity, kind=kind),),
                    meta=meta or {})


@pytest.fixture(scope="module")
def embedder():
    from sourcetrace.crossoutlet.embed import get_embedder

    return get_embedder()


def test_corroboration_cross_outlet_traces_a_claim_end_to_end(embedder, tmp_path):
    x = CrossOutlet(embedder=embedder)
    body = " Officials gave no further details about the units involved or where they were."
    x.add_article(_article("The military command said some 300 Russian troops refused to obey "
                           "orders near Avdiivka." + body,
                           "some 300 Russian troops refused to obey orders near Avdiivka",
                           "The military command"),
                  article_id="up", outlet="pravda.com.ua", date="2024-02-27",
                  outlet_name="Ukrainska Pravda")
    x.add_article(_article("Ukrainska Pravda reported that about 300 Russian soldiers refused to "
                           "follow orders near Avdiivka.",
                           "about 300 Russian soldiers refused to follow orders near Avdiivka",
                           "Ukrainska Pravda", kind="media", identity="named"),
                  article_id="ki", outlet="kyivindependent.com", date="2024-02-28")
    x.add_article(_article("Moscow said some 3,000 Russian troops agreed to obey orders near "
                           "Avdiivka.", "some 3,000 Russian troops agreed to obey orders near "
                           "Avdiivka", "Moscow"),
                  article_id="ru", outlet="tass.com", date="2024-02-28")
    found, cluster = x.trace_text("300 Russian troops refused orders near Avdiivka")
    assert {m.other_id for m in found} == {"up#a0", "ki#a0"}
    assert cluster.relay_chain_text == ("pravda.com.ua, citing The military command")
    assert cluster.independent_outlets == ("pravda.com.ua",)
    assert x.trace_claim("ru#a0").claim_ids == ("ru#a0",)

    # saved next to a store and reloaded: same claims, same clusters, still incremental
    x.save(tmp_path / "state")
    y = CrossOutlet.load(tmp_path / "state", embedder=embedder)
    assert sorted(y.claims) == sorted(x.claims)
    assert y.trace_claim("ki#a0").claim_ids == x.trace_claim("ki#a0").claim_ids
    assert y.add_article(_article("x " * 5, "x x x", "x"), article_id="up") == []


def test_corroboration_filter_claims(embedder):
    x = CrossOutlet(embedder=embedder)
    x.add_article(_article("The military command said some 300 Russian troops refused orders.",
                           "some 300 Russian troops refused orders", "The military command"),
                  article_id="a", outlet="a.com", date="2024-01-02")
    assert [c.id for c in x.filter_claims(outlet="a.com")] == ["a#a0"]
    assert x.filter_claims(outlet="b.com") == []
    assert [c.id for c in x.filter_claims(source="military", kind="official")] == ["a#a0"]
    assert x.filter_claims(since="2024-02-01") == []
    assert [c.id for c in x.filter_claims(text="troops refused")] == ["a#a0"]


def test_corroboration_claims_live_in_the_store_and_the_cli_reads_them(embedder, tmp_path):
    from typer.testing import CliRunner

    from sourcetrace.cli import _register_commands, app
    from sourcetrace.crossoutlet.corroboration import sync_with_store
    from sourcetrace.corpus.store import ArticleRecord, open_store

    db = str(tmp_path / "corpus.db")
    tail = " Officials gave no further details about the units involved."
    with open_store(db) as store:
        store.add(ArticleRecord(
            analysis=_article("The military command said some 300 Russian troops refused to "
                              "obey orders near Avdiivka." + tail,
                              "some 300 Russian troops refused to obey orders near Avdiivka",
                              "The military command"),
            input="a.txt", outlet="pravda.com.ua", date="2024-02-27"))
        store.add(ArticleRecord(
            analysis=_article("The military command said about 300 Russian soldiers refused to "
                              "follow orders near Avdiivka, the agency said.",
                              "about 300 Russian soldiers refused to follow orders near Avdiivka",
                              "The military command"),
            input="b.txt", outlet="apnews.com", date="2024-02-28"))
        x = sync_with_store(store, cross=CrossOutlet(embedder=embedder))
        assert sorted(x.claims) == ["1#a0", "2#a0"]
        # the claims, vectors and matches are in the store: read back without embedding
        batches = store.claim_batches()
        assert [b.article_id for b in batches] == [1, 2]
        assert [c[0] for c in batches[0].claims] == ["1#a0"] and batches[1].matches
        again = CrossOutlet(embedder=object())          # an embedder call would fail
        assert again.load_store(store) == 2 and sorted(again.claims) == ["1#a0", "2#a0"]
        assert set(again.matches) == set(x.matches)
        for k in (1, 2, 5):     # the first k clusters without building the lone claims past k
            assert [c.to_dict() for c in again.clusters(limit=k)] == \
                [c.to_dict() for c in x.clusters()[:k]]
        assert sync_with_store(store, cross=again) is again and len(store.claim_batches()) == 2
    assert not (tmp_path / "corpus.db.claims").exists()

    _register_commands()
    runner = CliRunner()
    listed = runner.invoke(app, ["claims", "--db", db, "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert [row["id"] for row in json.loads(listed.output)["rows"]] == ["1#a0", "2#a0"]
    traced = runner.invoke(app, ["trace", "--claim", "2#a0", "--db", db, "--format", "json"])
    assert traced.exit_code == 0, traced.output
    cluster = json.loads(traced.output)["cluster"]
    assert cluster["earliest"] == "1#a0" and cluster["corroboration"] == 1
    assert cluster["independent_outlets"] == ["apnews.com", "pravda.com.ua"]
    both = runner.invoke(app, ["trace", "words", "--claim", "1#a0", "--db", db])
    assert both.exit_code == 2 and "either" in both.output
    missing = runner.invoke(app, ["trace", "--claim", "99#a0", "--db", db])
    assert missing.exit_code == 2 and "no claim" in missing.output


def test_corroboration_state_reload_keeps_matches_and_survives_a_broken_index(embedder, tmp_path):
    x = CrossOutlet(embedder=embedder)
    for aid, outlet, words in (("a", "a.com", "some 300 Russian troops refused to obey orders"),
                               ("b", "b.com", "about 300 Russian soldiers refused to obey orders")):
        text = f"The military command said {words}."
        x.add_article(_article(text, words, "The military command"), article_id=aid,
                      outlet=outlet, date="2024-02-27")
    assert list(x.matches) == [("a#a0", "b#a0")]
    x.save(tmp_path / "s")
    (tmp_path / "s" / "claims.hnsw").write_bytes(b"broken")
    y = CrossOutlet.load(tmp_path / "s", embedder=embedder)
    saved, kept = y.matches[("a#a0", "b#a0")].evidence, x.matches[("a#a0", "b#a0")].evidence
    assert saved.same and saved.checks == kept.checks
    assert saved.cosine == pytest.approx(kept.cosine, abs=1e-4)
    assert [m.other_id for m in y.matcher.matches_for(y.claims["a#a0"])] == ["b#a0"]
    (tmp_path / "s" / "vectors.npy").write_bytes(b"broken")
    from sourcetrace.errors import StoreError

    with pytest.raises(StoreError, match="delete"):
        CrossOutlet.load(tmp_path / "s", embedder=embedder)


def test_corroboration_first_appearances_one_per_outlet_by_date_then_arrival():
    from types import SimpleNamespace

    from sourcetrace.crossoutlet.corroboration import first_appearances

    def claim(cid, outlet, date):
        return SimpleNamespace(id=cid, outlet=outlet, date=date, article_id=cid, title=None,
                               url=None, text="t", source=None, via=())

    claims = [claim("3", "b.com", "2024-01-02"), claim("1", "a.com", "2024-01-03"),
              claim("2", "b.com", "2024-01-02"), claim("4", "a.com", None)]
    timeline = first_appearances(claims, {"2": 0, "3": 1, "1": 2, "4": 3})
    assert [(t["outlet"], t["claim_id"]) for t in timeline] == [("b.com", "2"), ("a.com", "1")]


def test_corroboration_relay_chain_lists_each_voice_once():
    trump = ClaimSource("Trump", "named", "person")
    claim = _claim("nyp#a0", "nypost.com", "2016-05-01", trump,
                   via=[ClaimSource("Donald Trump", "named", "person"),
                        ClaimSource("Mr. Trump", "named", "person")])
    chain = relay_chain(claim, [claim])
    assert [s.label for s in chain] == ["nypost.com", "Donald Trump"]


def test_corroboration_relay_chain_keeps_distinct_unnamed_voices_in_order():
    claim = _claim("r#a0", "reuters.com", "2024-02-28",
                   ClaimSource("his commander", "described", "official"),
                   via=[ClaimSource("a Ukrainian official", "anonymous", "official")])
    assert relay_chain(claim, [claim])[0].label == "reuters.com"
    text = build_cluster([claim]).relay_chain_text
    assert text == "reuters.com, citing a Ukrainian official, citing his commander"


def test_corroboration_outlet_relaying_its_own_reporting_is_not_x_on_x():
    own = ClaimSource("New York Post", "named", "media", "New York Post")
    claim = _claim("nyp#a0", "nypost.com", "2016-05-01", MILITARY, via=[own])
    chain = relay_chain(claim, [claim])
    assert [s.label for s in chain] == ["nypost.com", "the Ukrainian military command on Telegram"]
    assert all(" on New York Post" not in s.label for s in chain)


def test_corroboration_headline_is_never_the_original_source():
    title = "Trump demands accountability"
    head = Claim(id="h#a0", article_id="h", text="Trump demands accountability", span=Span(0, 28),
                 source=ClaimSource("Trump", "named", "person"), outlet="a.com",
                 date="2016-01-01", title=title)
    body = Claim(id="b#a3", article_id="b", text=TEXT, span=Span(300, 360),
                 source=MILITARY, outlet="b.com", date="2016-01-02", title="Another story")
    cluster = build_cluster([head, body])
    assert cluster.earliest == "b#a3" and cluster.original_source.startswith("the Ukrainian")
    assert build_cluster([head]).original_source.startswith("unknown")


def test_corroboration_first_appearances_show_ties_and_unknown_dates():
    from sourcetrace.crossoutlet.corroboration import first_appearances

    claims = [_claim("a#a0", "a.com", "2024-02-28"), _claim("b#a0", "b.com", "2024-02-28"),
              _claim("c#a0", "c.com", None), _claim("d#a0", "d.com", "2024-02-27")]
    rows = first_appearances(claims, {})
    assert [r["outlet"] for r in rows] == ["d.com", "a.com", "b.com", "c.com"]
    assert rows[1]["tied_with"] == ["b.com"] and rows[0]["tied_with"] == []
    assert rows[3]["date_known"] is False and rows[0]["date_known"] is True
