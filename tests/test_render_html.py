"""The HTML article view (render_html): marks, panel, standalone file, inert untrusted text.

Most tests build an Analysis by hand from the seed gold (known attributions and
sources), so they check the view and not the extractor; one renders a real analysis.
"""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from sourcetrace.model import Analysis, Assertion, Attribution, Source, Span
from sourcetrace.output.html import (
    asset,
    hearsay_chain,
    render_analysis_fragment,
    render_analysis_html,
    standalone_csp,
)


def analysis_from_gold(gold: dict) -> Analysis:
    """The gold annotations as an Analysis (sources merged by gold speaker)."""
    text = gold["text"]
    names: list[str] = []
    for a in gold["attributions"]:
        if a["speaker"] and a["speaker"] not in names:
            names.append(a["speaker"])
    atts = []
    for a in gold["attributions"]:
        sid = names.index(a["speaker"]) if a["speaker"] else None
        atts.append(Attribution(
            source=tuple(Span.of(text, s, e) for s, e in a["source"]),
            cue=tuple(Span.of(text, s, e) for s, e in a["cue"]),
            content=tuple(Span.of(text, s, e) for s, e in a["content"]),
            kind="direct" if "“" in text[a["content"][0][0] - 1:a["content"][0][0] + 1] else "indirect",
            rule="gold", parent=a["nested_in"], speaker=a["speaker"], source_id=sid))
    sources = []
    for sid, name in enumerate(names):
        mine = [i for i, a in enumerate(gold["attributions"]) if a["speaker"] == name]
        g = gold["attributions"][mine[0]]
        info = gold["sources"].get(name, {})
        sources.append(Source(
            id=sid, name=name, identity=g["identity"], kind=g["source_kind"],
            role=info.get("role"), channel=next((gold["attributions"][i]["channel"] for i in mine
                                                 if gold["attributions"][i]["channel"]), None),
            hearsay_depth=info.get("hearsay_depth", 1), attributions=tuple(mine),
            mentions=tuple(s for i in mine for s in atts[i].source),
            evidence=(("kind", "gold"),)))
    assertions = tuple(Assertion(Span.of(text, s, e), "checkworthy")
                       for s, e in gold["unattributed_claims_examples"])
    profile = {"version": 1,
               "sources": {"distinct": len(sources), "by_identity": {"named": 5, "described": 1,
                                                                     "anonymous": 0}},
               "attributed_text": {"by_identity": {"named": {"chars": 800, "share": 0.8},
                                                   "unspecified": {"chars": 200, "share": 0.2}}},
               "hearsay": {"longest_chain": 2, "chain": ["Misha's commander", "Victor Andrusiv"]},
               "transparency": {"score": 62.0, "formula": "100 * (0.5 * identity + 0.5 * sourcing)",
                                "components": [
                                    {"name": "identity", "value": 0.8, "weight": 0.5,
                                     "contribution": 40.0, "explain": "attributed text by identity"},
                                    {"name": "sourcing", "value": 0.44, "weight": 0.5,
                                     "contribution": 22.0, "explain": "check-worthy text sourced"}]}}
    return Analysis(text=text, attributions=tuple(atts), sources=tuple(sources),
                    assertions=assertions, boilerplate=tuple(Span.of(text, s, e) for s, e in gold["boilerplate"]),
                    meta={"title": gold["title"], "outlet": "example.com",
                          "url": "https://example.com/belarus"},
                    profile=profile)


@pytest.fixture(scope="module")
def gold_analysis(seed_gold) -> Analysis:
    return analysis_from_gold(seed_gold)


def visible_text(fragment: str) -> str:
    """The text of the article body, tags removed and entities decoded."""
    body = re.search(r'<div class="st-text">(.*?)</div><details', fragment, re.S).group(1)
    return html.unescape(re.sub(r"<[^>]+>", "", body))


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(markup: str) -> list[tuple[str, dict]]:
    p = Tags()
    p.feed(markup)
    return p.tags


def test_render_html_keeps_the_text_exactly(gold_analysis):
    assert visible_text(render_analysis_fragment(gold_analysis)) == gold_analysis.text


def test_render_html_marks_every_attribution_with_its_source_colour(gold_analysis):
    frag = render_analysis_fragment(gold_analysis)
    marked = {}
    for tag, attrs in tags(frag):
        if "data-a" in attrs:
            for i in attrs["data-a"].split():
                marked.setdefault(int(i), set()).update(attrs["class"].split())
    assert set(marked) == set(range(len(gold_analysis.attributions)))
    # Rosemary Thomas (source 2 by first appearance) is coloured c2 in all her attributions
    thomas = next(s for s in gold_analysis.sources if s.name == "Rosemary Thomas")
    for i in thomas.attributions:
        assert f"c{thomas.id}" in marked[i]
    # an attribution with no source is grey
    no_source = next(i for i, a in enumerate(gold_analysis.attributions) if a.source_id is None)
    assert "cn" in marked[no_source]


def test_render_html_cards_show_cue_speaker_identity_kind_channel_and_chain(gold_analysis):
    frag = render_analysis_fragment(gold_analysis)
    cards = re.findall(r'<article class="st-card[^"]*" data-card="(\d+)".*?</article>', frag, re.S)
    assert len(cards) == len(gold_analysis.attributions)
    card = re.search(r'data-card="6".*?</article>', frag, re.S).group(0)  # "Ms Thomas tweeted"
    for needle in ("Rosemary Thomas", "tweeted", "named", "person", "Twitter"):
        assert needle in card
    # the commander's words reach the article through Andrusiv: a chain of two speakers
    nested = next(i for i, a in enumerate(gold_analysis.attributions) if a.parent is not None)
    assert hearsay_chain(gold_analysis, nested) == ["Misha's commander", "Victor Andrusiv"]
    card = re.search(rf'data-card="{nested}".*?</article>', frag, re.S).group(0)
    assert "Misha&#x27;s commander" in card and "Victor Andrusiv" in card
    assert "Hearsay depth</dt><dd>2" in card


def test_render_html_panel_lists_sources_profile_and_legend(gold_analysis):
    frag = render_analysis_fragment(gold_analysis)
    panel = frag[frag.index('<aside class="st-panel"'):]
    for s in gold_analysis.sources:
        assert html.escape(s.name) in panel
    assert "former British ambassador to the country" in panel
    assert ">62<" in panel                      # transparency score shown out of 100
    assert "100 * (0.5 * identity + 0.5 * sourcing)" in panel   # ... with its formula
    assert "check-worthy text sourced" in panel and "<b>22.00</b>" in panel  # ... and components
    assert "Misha&#x27;s commander → Victor Andrusiv" in panel  # the longest hearsay chain
    assert 'value="80"' in panel                # share of attributed text as a bar
    figures = panel.split("Profile in figures")[1].split("Legend")[0]
    assert "named <b>5</b>" in figures and "anonymous" not in figures  # zero counts left out
    assert "Legend" in panel and "check-worthy" in panel


def test_render_html_marks_unattributed_checkworthy_assertions(gold_analysis):
    frag = render_analysis_fragment(gold_analysis)
    marked = [a for _, a in tags(frag) if "st-as-checkworthy" in a.get("class", "") and "data-s" in a]
    assert {int(a["data-s"]) for a in marked} == {0, 1, 2}
    assert any("st-boiler" in a.get("class", "") for _, a in tags(frag))


def test_render_html_standalone_is_one_file_without_external_assets(gold_analysis):
    page = render_analysis_html(gold_analysis)
    assert page.startswith("<!DOCTYPE html>")
    for tag, attrs in tags(page):
        assert "src" not in attrs, f"<{tag}> loads {attrs['src']}"
        if tag == "link":
            pytest.fail(f"external stylesheet {attrs}")
    assert asset("article.css") in page and asset("article.js") in page
    # the policy allows exactly the inline blocks it carries
    assert html.escape(standalone_csp()) in page
    assert "'unsafe-inline'" not in standalone_csp()


def test_render_html_jupyter_fragment_carries_its_own_css_and_js(gold_analysis):
    frag = render_analysis_html(gold_analysis, standalone=False)
    assert not frag.lstrip().startswith("<!DOCTYPE")
    assert "<style>" in frag and "<script>" in frag and 'class="st-root"' in frag
    assert gold_analysis._repr_html_() == frag


HOSTILE = (
    'Breaking <script>alert("pwned")</script> news.\n\n'
    '<img src=x onerror="alert(1)"> The <a href="javascript:alert(2)">minister</a> said '
    '"we will win" on Monday. </div></details><style>body{display:none}</style>'
)


def hostile_analysis() -> Analysis:
    text = HOSTILE
    cue = text.index("said")
    src = text.index("The <a")
    content = text.index('"we will win"')
    return Analysis(
        text=text,
        attributions=(Attribution(source=(Span.of(text, src, cue - 1),), cue=(Span.of(text, cue, cue + 4),),
                                  content=(Span.of(text, content, content + 13),), kind="direct",
                                  speaker='<b onmouseover="x()">minister</b>', source_id=0),),
        sources=(Source(id=0, name='<script>alert(3)</script>', role="javascript:alert(4)",
                        channel='"><img src=y onerror=alert(5)>'),),
        assertions=(Assertion(Span.of(text, 0, 20), "checkworthy", evidence="<i>x</i>"),),
        meta={"title": "<script>alert(6)</script>", "url": "javascript:alert(7)",
              "outlet": "<b>evil</b>"},
        profile={"<script>": "<script>alert(8)</script>"},
        warnings=("<script>alert(9)</script>",),
    )


def test_render_html_untrusted_text_stays_inert():
    a = hostile_analysis()
    page = render_analysis_html(a)
    found = tags(page)
    scripts = [t for t, _ in found if t == "script"]
    assert len(scripts) == 1                                   # ours, and only ours
    assert not [t for t, _ in found if t in ("img", "i", "iframe")]  # no markup from the input
    assert [a["href"] for t, a in found if t == "a"] == ["#st-panel"]  # only our own link
    assert not [a for t, a in found if t == "b" and "class" not in a]
    for _, attrs in found:
        assert not any(k.startswith("on") for k in attrs), attrs
        assert all("javascript:" not in (v or "") for k, v in attrs.items()
                   if k in ("href", "src", "action")), attrs
    assert "&lt;/script&gt; news." in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert visible_text(render_analysis_fragment(a)) == a.text


def test_render_html_overlapping_and_out_of_range_spans_do_not_break_the_text():
    text = "Officials said the bridge fell, a witness said, on Monday."
    a = Analysis(text=text, attributions=(
        Attribution(source=(Span.of(text, 0, 9),), cue=(Span.of(text, 10, 14),),
                    content=(Span.of(text, 15, 40),)),
        Attribution(source=(Span.of(text, 32, 41),), cue=(Span.of(text, 42, 46),),
                    content=(Span.of(text, 15, 30), Span(50, 500)), parent=0),
    ))
    frag = render_analysis_fragment(a)
    assert visible_text(frag) == text
    assert frag.count("<span") == frag.count("</span>")


def test_render_html_real_analysis(seed_gold):
    import sourcetrace

    a = sourcetrace.analyze(seed_gold["text"])
    page = render_analysis_html(a)
    assert visible_text(render_analysis_fragment(a)) == a.text
    assert page.count('data-card="') == len(a.attributions)


def test_render_html_panel_lists_what_the_article_says_without_a_source(gold_analysis):
    frag = render_analysis_fragment(gold_analysis)
    listed = re.search(r'<ol class="st-asserts">(.*?)</ol>', frag, re.S).group(1)
    items = re.findall(r'data-s="(\d+)"', listed)
    assert items == ["0", "1", "2"]
    assert html.escape(gold_analysis.text[79:120], quote=True) in listed
