"""The outlet report's syndication and first-report figures from the claims tables."""
from __future__ import annotations

import json

import pytest

from sourcetrace.corpus.claim_figures import claim_figures
from sourcetrace.corpus.store import ArticleRecord, open_store
from sourcetrace.model import Analysis


@pytest.fixture()
def store(tmp_path):
    with open_store(str(tmp_path / "c.db")) as s:
        ids = {}
        for name, outlet, date in (("a", "x.com", "2024-01-01"), ("b", "y.org", "2024-01-02"),
                                   ("c", "z.net", "2024-01-03"), ("d", "x.com", "2024-01-04")):
            ids[name] = s.add(ArticleRecord(analysis=Analysis(text=f"text {name}"),
                                            input=f"{name}.txt", outlet=outlet, date=date))
        vec = b"\0" * 768

        def claim(name, i=0):
            return (f"{ids[name]}#a{i}", json.dumps({"text": f"claim {name}"}), vec)

        a, b, c, d = (claim(n)[0] for n in "abcd")
        s.add_claim_batch(ids["a"], b"", 0, outlet="x.com", claims=[claim("a")])
        s.add_claim_batch(ids["b"], b"", 0, outlet="y.org", claims=[claim("b")],
                          matches=[(b, a, "{}")], copies=[ids["a"]])      # b copies a
        s.add_claim_batch(ids["c"], b"", 0, outlet="z.net", claims=[claim("c")],
                          matches=[(c, a, "{}")])
        s.add_claim_batch(ids["d"], b"", 0, outlet="x.com", claims=[claim("d")])
        yield s, ids


def test_claim_figures_syndication_and_first_reports_per_outlet(store):
    s, ids = store
    keys = {i: ({"a": "x.com", "b": "y.org", "c": "z.net", "d": "x.com"}[n],)
            for n, i in ids.items()}
    f = claim_figures(s, keys)
    assert f[("x.com",)]["syndication"] == {"articles": 2, "copies": 0, "copied": 1,
                                            "copy_share": 0.0}
    assert f[("y.org",)]["syndication"]["copies"] == 1
    assert f[("y.org",)]["syndication"]["copy_share"] == 1.0
    assert f[("x.com",)]["first_reports"] == {"clusters": 1, "first": 1}
    assert f[("y.org",)]["first_reports"] == {"clusters": 1, "first": 0}
    assert f[("z.net",)]["first_reports"] == {"clusters": 1, "first": 0}


def test_claim_figures_only_the_articles_asked_for(store):
    s, ids = store
    f = claim_figures(s, {ids["c"]: ("z.net",)})
    assert list(f) == [("z.net",)]
    assert f[("z.net",)]["first_reports"] == {"clusters": 1, "first": 0}


def test_claim_figures_reach_the_outlet_report(store):
    from sourcetrace.corpus.report import build_report

    s, _ = store
    r = build_report(s, by="outlet")
    assert r["available"]["syndication"]["available"] is True
    groups = {g["outlet"]: g for g in r["groups"]}
    assert groups["y.org"]["syndication"]["copies"] == 1
    assert groups["x.com"]["first_reports"]["first"] == 1
