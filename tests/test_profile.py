"""The sourcing profile, on records built by hand (no model needed)."""
from __future__ import annotations

import json

import pytest

from sourcetrace.sources import profile
from sourcetrace.model import Analysis, Assertion, Attribution, Source, Span

TEXT = ("Ann Lee said the dam will hold because engineers checked it twice. "
        "A source said the dam was leaking at the base near the village. "
        "There are reports the dam was leaking near the village base. "
        "The river rose 3 meters on Monday.")


def span(s: str) -> Span:
    k = TEXT.index(s)
    return Span.of(TEXT, k, k + len(s))


@pytest.fixture
def analysis() -> Analysis:
    atts = (
        Attribution((span("Ann Lee"),), (span("said"),), (span("the dam will hold because engineers checked it twice"),),
                    speaker="Ann Lee", source_id=0),
        Attribution((span("A source"),), (span("said the dam was"),),
                    (span("the dam was leaking at the base near the village"),), speaker="A source", source_id=1),
        Attribution((), (span("There are reports"),), (span("the dam was leaking near the village base"),),
                    source_id=2),
        Attribution((span("engineers"),), (span("checked"),), (span("it twice"),), parent=0,
                    speaker="engineers", source_id=3),
    )
    srcs = (
        Source(0, "Ann Lee", (span("Ann Lee"),), "named", "official", attributions=(0,)),
        Source(1, "A source", (span("A source"),), "anonymous", None, attributions=(1,)),
        Source(2, "unspecified", (), "unspecified", None, attributions=(2,)),
        Source(3, "engineers", (span("engineers"),), "described", "person", hearsay_depth=2, attributions=(3,)),
    )
    found = (Assertion(span("The river rose 3 meters on Monday."), "checkworthy"),)
    return Analysis(text=TEXT, attributions=atts, sources=srcs, assertions=found)


def test_profile_counts_sources_by_identity_and_kind(analysis):
    p = profile.build_profile(analysis)
    assert p["sources"]["distinct"] == 3 and p["sources"]["total"] == 4
    assert p["sources"]["by_identity"] == {"named": 1, "described": 1, "anonymous": 1, "unspecified": 1}
    assert p["sources"]["by_kind"]["official"] == 1 and p["sources"]["by_kind"]["unknown"] == 2


def test_profile_attributed_text_counts_each_character_once(analysis):
    p = profile.build_profile(analysis)
    by_id = p["attributed_text"]["by_identity"]
    lee = len("the dam will hold because engineers checked it twice") - len("it twice")
    assert by_id["named"]["chars"] == lee
    assert by_id["described"]["chars"] == len("it twice")
    total = p["attributed_text"]["chars"]
    assert total == sum(v["chars"] for v in by_id.values())
    assert sum(v["share"] for v in by_id.values()) == pytest.approx(1.0, abs=0.01)


def test_profile_hearsay_chain_and_unattributed_share(analysis):
    p = profile.build_profile(analysis)
    assert p["hearsay"] == {"longest_chain": 2, "chain": ["Ann Lee", "engineers"],
                            "relayed": 1, "own_stance": 0}
    # 1 check-worthy unattributed sentence, 3 top-level attributions
    assert p["assertions"]["checkworthy_unattributed_share"] == 0.25


def test_profile_single_source_claims(analysis):
    p = profile.build_profile(analysis)
    # the anonymous source and the reports echo each other; Ann Lee's claim stands alone
    assert p["single_source_claims"] == {"count": 1, "attributions": [0]}


def test_profile_transparency_score_is_the_sum_of_its_components(analysis):
    p = profile.build_profile(analysis)
    t = p["transparency"]
    assert [c["name"] for c in t["components"]] == list(profile.WEIGHTS)
    assert sum(c["weight"] for c in t["components"]) == pytest.approx(1.0)
    for c in t["components"]:
        assert 0.0 <= c["value"] <= 1.0 and c["explain"]
        assert c["contribution"] == pytest.approx(100 * c["weight"] * c["value"], abs=0.06)
    assert t["score"] == pytest.approx(sum(c["contribution"] for c in t["components"]), abs=0.2)
    assert "identity" in t["formula"]


def test_profile_is_json_and_survives_the_round_trip(analysis):
    a = analysis.replace(profile=profile.build_profile(analysis))
    assert Analysis.from_json(a.to_json()) == a
    json.dumps(a.profile)


def test_profile_of_an_article_without_attributions():
    a = Analysis(text="Nothing here.", assertions=(Assertion(Span.of("Nothing here.", 0, 13), "background"),))
    p = profile.build_profile(a)
    assert p["sources"]["distinct"] == 0 and p["hearsay"]["longest_chain"] == 0
    assert p["transparency"]["score"] == 0.0
    assert p["assertions"]["checkworthy_unattributed_share"] == 0.0
