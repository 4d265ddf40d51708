"""The terminal view: highlighted article, attributions table, sources and profile."""
from __future__ import annotations

import io
import re

from sourcetrace.output import text as render
from sourcetrace.model import Analysis, Attribution, Source, Span

TEXT = '"We won," Ann Lee said. Officials believe that rain fell.\nRead the rest here.'


def at(sub: str) -> Span:
    start = TEXT.index(sub)
    return Span.of(TEXT, start, start + len(sub))


def sample(**changes) -> Analysis:
    atts = (
        Attribution(source=(at("Ann Lee"),), cue=(at("said"),), content=(at('"We won,"'),),
                    kind="direct", rule="quote.cue-after", confidence=0.9,
                    speaker="Ann Lee, the party's treasurer"),
        Attribution(source=(at("Officials"),), cue=(at("believe"),),
                    content=(at("that rain fell"),), rule="verb.ccomp", confidence=0.7),
        Attribution(source=(), cue=(), content=(at("rain fell"),), rule="nested.test", parent=1),
    )
    analysis = Analysis(text=TEXT, attributions=atts, boilerplate=(at("Read the rest here."),),
                        meta={"title": "Vote night", "outlet": "Example News"})
    return analysis.replace(**changes)


def view(analysis: Analysis, width: int = 160) -> str:
    out = io.StringIO()
    render.print_analysis(analysis, file=out, width=width)
    return out.getvalue()


def test_render_empty_analysis_does_not_crash():
    out = view(Analysis(text="Nothing is attributed here."))
    assert "Nothing is attributed here." in out
    assert "No attributions found." in out
    assert "Sources" not in out and "Sourcing profile" not in out


def test_render_table_lists_every_attribution_with_speaker_fallback():
    out = view(sample())
    assert "Attributions (3)" in out
    assert "Ann Lee, the" in out and "treasurer" in out  # the resolved speaker
    assert "Officials" in out                       # no speaker: the source text
    assert "(no source)" in out
    for rule in ("quote.cue-after", "verb.ccomp", "nested.test"):
        assert rule in out
    assert "0.90" in out and "0.70" in out


def test_render_table_fits_the_terminal_width():
    for width in (60, 80, 100, 139, 140, 200):
        out = view(sample(), width=width)
        assert all(len(line) <= width for line in out.splitlines()), width
        assert "Attributions (3)" in out and "believe" in out and "Officials" in out
        assert "0.70" in out
        if width >= 100:
            assert "verb.ccomp" in out


def test_render_narrow_view_stacks_speaker_and_cue():
    narrow, wide = view(sample(), width=80), view(sample(), width=160)
    assert "speaker / cue" in narrow and "in #2" in narrow
    assert "speaker / cue" not in wide and " source " in wide and " rule " in wide


def test_render_markers_follow_each_cue():
    plain = render.highlighted_text(sample()).plain
    assert "said[1]" in plain
    assert "believe[2]" in plain
    assert "rain fell[3]" in plain  # no cue: after the content
    assert plain.replace("[1]", "").replace("[2]", "").replace("[3]", "") == TEXT


def test_render_styles_roles_and_boilerplate():
    analysis = sample()
    text = render.highlighted_text(analysis)
    plain = text.plain
    styles = {(plain[s.start:s.end], str(s.style)) for s in text.spans}
    assert any(t == "said" and "underline" in st and "bold" in st for t, st in styles)
    assert any(t == "Read the rest here." and "dim" in st for t, st in styles)
    palette = render.colours(analysis)
    ann, officials = (palette[render._speaker_key(a, TEXT)] for a in analysis.attributions[:2])
    assert ann != officials
    assert any(t == '"We won,"' and st == ann for t, st in styles)


def test_render_one_colour_per_resolved_source():
    a = sample().attributions
    same = (a[0], Attribution(source=(at("Officials"),), cue=(at("believe"),),
                              content=(at("that rain fell"),), speaker=a[0].speaker))
    palette = render.colours(sample(attributions=same))
    assert len({render._speaker_key(x, TEXT) for x in same}) == 1
    assert len(palette) == 2  # "none" and the one speaker


def test_render_sources_and_profile_when_present():
    source = Source(id=0, name="Ann Lee", mentions=(at("Ann Lee"),), identity="named",
                    kind="person", role="treasurer", channel=None, hearsay_depth=1,
                    attributions=(0,))
    profile = {"attributions": 3, "share_named": 0.5,
               "sources": {"by_kind": {"person": 1, "media": 0}, "channels": {}},
               "score": {"value": 71.0, "components": [
                   {"name": "identity", "value": 0.81, "explain": "named sources"},
                   {"name": "diversity", "value": 1.0}]}}
    out = view(sample(sources=(source,), profile=profile))
    assert "Sources (1)" in out and "treasurer" in out and "named" in out
    assert "Sourcing profile" in out and "share named" in out and "0.5" in out
    # zeros are figures, shown as such
    assert "sources · by kind" in out and "person 1" in out and "media 0" in out
    assert "score · components · identity" in out and "named sources" in out
    assert "sources · channels" in out and "none" in out


def test_render_seed_article_view(seed_analysis):
    out = view(seed_analysis)
    unmarked = " ".join(re.sub(r"\[\d+(?:,\d+)*\]", "", out).split())
    assert seed_analysis.text.splitlines()[0] in unmarked
    n = len(seed_analysis.attributions)
    assert (f"Attributions ({n})" in out) if n else ("No attributions found." in out)
