"""The article view in HTML: every attribution highlighted and coloured by its source.

    render_analysis_html(analysis, standalone=True)   one self-contained HTML file
    render_analysis_html(analysis, standalone=False)  a fragment with its own inline
                                                      CSS and JS (Jupyter's _repr_html_)
    render_analysis_fragment(analysis)                the fragment alone, no CSS/JS (the
                                                      web UI links them from /static)

The view shows the article text with each attribution's source, cue and content
marked in the colour of its source, unattributed check-worthy assertions and
opinions underlined, hedges and boilerplate set apart; a side panel lists the
sources (identity, kind, role, channel, hearsay depth) and the sourcing profile;
a legend explains the marks. Hovering or selecting a mark shows its attribution:
cue, resolved speaker, identity, kind, channel and hearsay chain. Without
JavaScript every mark still carries a ``title`` and the list of all attributions
stays readable.

Untrusted text stays inert: every string that comes from the article or its
metadata goes through ``html.escape``; the only links made are ``http(s)`` ones.
The standalone file carries a Content-Security-Policy whose script and style
sources are the sha256 hashes of its own inline blocks, so nothing else runs.

The CSS and JS live in ``sourcetrace/web/static/`` (article.css, article.js) and
are read from the installed package; they need nothing from the network.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import html
import json
import math
from dataclasses import dataclass
from importlib import resources
from typing import Any, Iterable

from ..model import Analysis, Attribution, Span, set_html_view

__all__ = ["render_analysis_html", "render_analysis_fragment", "standalone_csp", "asset",
           "profile_score"]

N_COLOURS = 10                 # palette classes c0 .. c9 (article.css); beyond, colours repeat
NO_SOURCE = "cn"               # the class of attributions whose source is not resolved
ROLES = ("source", "cue", "content")
ASSERTION_LABELS = {
    "checkworthy": "check-worthy claim, unattributed",
    "opinion": "opinion or prediction, unattributed",
    "background": "background, unattributed",
}


def _e(value: Any) -> str:
    """Escape anything for HTML text and attribute values (quotes included)."""
    return html.escape("" if value is None else str(value), quote=True)


@functools.lru_cache(maxsize=8)
def asset(name: str) -> str:
    """A static file of the web UI (``article.css``, ``article.js``, ...) as text."""
    return (resources.files("sourcetrace.web") / "static" / name).read_text(encoding="utf-8")


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def standalone_csp() -> str:
    """The Content-Security-Policy of the standalone file: its own inline blocks only."""
    return (f"default-src 'none'; script-src '{_sha256(asset('article.js'))}'; "
            f"style-src '{_sha256(asset('article.css'))}'; img-src data:; "
            "base-uri 'none'; form-action 'none'")


# --------------------------------------------------------------------------- data


def colour_class(source_id: int | None) -> str:
    return NO_SOURCE if source_id is None or source_id < 0 else f"c{source_id % N_COLOURS}"


def speaker_label(analysis: Analysis, att: Attribution) -> str:
    """Who the attribution is to, as the reader should see it."""
    src = analysis.source_of(att)
    if src is not None and src.name:
        return src.name
    if att.speaker:
        return att.speaker
    return analysis.span_text(att.source, strip=True) or "no source given"


def hearsay_chain(analysis: Analysis, index: int) -> list[str]:
    """Speakers from the innermost (this attribution's) out to the outermost relay."""
    if not 0 <= index < len(analysis.attributions):
        return []
    return [speaker_label(analysis, analysis.attributions[i])
            for i in (index, *analysis.ancestors(index))]


def _depth(analysis: Analysis, index: int) -> int:
    return 1 + len(analysis.ancestors(index))


@dataclass
class _Mark:
    start: int
    end: int
    what: str        # "att" | "assertion" | "hedge" | "boilerplate"
    ref: int         # attribution / assertion index (-1 for hedge and boilerplate)
    role: str = ""   # source | cue | content (attributions)


def _marks(analysis: Analysis) -> list[_Mark]:
    n = len(analysis.text)
    marks: list[_Mark] = []

    def add(span: Span, *args: Any) -> None:
        start, end = max(0, span.start), min(n, span.end)
        if end > start:
            marks.append(_Mark(start, end, *args))

    for i, att in enumerate(analysis.attributions):
        for role in ROLES:
            for span in getattr(att, role):
                add(span, "att", i, role)
    for i, a in enumerate(analysis.assertions):
        add(a.span, "assertion", i)
        for h in a.hedges:
            add(h, "hedge", -1)
    for b in analysis.boilerplate:
        add(b, "boilerplate", -1)
    return marks


def _segments(text: str, marks: list[_Mark]) -> Iterable[tuple[int, int, list[_Mark]]]:
    """Cut the text at every mark boundary; yield (start, end, marks covering it)."""
    bounds = sorted({0, len(text)} | {m.start for m in marks} | {m.end for m in marks})
    starts: dict[int, list[_Mark]] = {}
    for m in marks:
        starts.setdefault(m.start, []).append(m)
    active: list[_Mark] = []
    for a, b in zip(bounds, bounds[1:]):
        active = [m for m in active if m.end > a] + starts.get(a, [])
        yield a, b, active


# --------------------------------------------------------------------------- HTML


def _segment_html(analysis: Analysis, piece: str, active: list[_Mark], depth: list[int],
                  first: set[int]) -> str:
    if not active:
        return _e(piece)
    classes: list[str] = []
    attrs: list[str] = []
    titles: list[str] = []
    atts = [m for m in active if m.what == "att"]
    if atts:
        # the innermost attribution (deepest nesting; then the shortest role) gives the colour
        atts.sort(key=lambda m: (-depth[m.ref], m.end - m.start))
        inner = atts[0]
        att = analysis.attributions[inner.ref]
        ids = []
        for m in atts:
            if m.ref not in ids:
                ids.append(m.ref)
        classes += ["st-m", colour_class(att.source_id), f"st-{inner.role}", f"st-k-{_e(att.kind)}"]
        if len(ids) > 1:
            classes.append("st-nested")
        attrs.append(f'data-a="{" ".join(map(str, ids))}"')
        if inner.ref in first:
            first.discard(inner.ref)
            attrs.append('tabindex="0" role="button"')
            attrs.append(f'aria-label="{_e(_title(analysis, inner.ref))}"')
        titles.append(_title(analysis, inner.ref) + f" [{inner.role}]")
    for m in active:
        if m.what == "assertion":
            label = analysis.assertions[m.ref].label
            classes.append(f"st-as st-as-{_e(label)}")
            attrs.append(f'data-s="{m.ref}"')
            titles.append(ASSERTION_LABELS.get(label, f"{label}, unattributed"))
        elif m.what == "hedge":
            classes.append("st-hedge")
            titles.append("hedge")
        elif m.what == "boilerplate":
            classes.append("st-boiler")
            titles.append("boilerplate: not analysed")
    head = f'<span class="{" ".join(dict.fromkeys(classes))}"'
    if attrs:
        head += " " + " ".join(attrs)
    head += f' title="{_e(" · ".join(dict.fromkeys(titles)))}">'
    return head + _e(piece) + "</span>"


def _title(analysis: Analysis, index: int) -> str:
    att = analysis.attributions[index]
    cue = analysis.span_text(att.cue, strip=True) or "no cue"
    src = analysis.source_of(att)
    bits = [f"{speaker_label(analysis, att)} — {cue}", att.kind]
    if src is not None:
        bits += [b for b in (src.identity, src.kind, src.channel and f"via {src.channel}") if b]
    return ", ".join(bits)


def _article_html(analysis: Analysis) -> str:
    text = analysis.text
    depth = [_depth(analysis, i) for i in range(len(analysis.attributions))]
    first = set(range(len(analysis.attributions)))
    out = [_segment_html(analysis, text[a:b], active, depth, first)
           for a, b, active in _segments(text, _marks(analysis))]
    return "".join(out)


def _dl(rows: Iterable[tuple[str, Any]]) -> str:
    items = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows
                    if v not in (None, "", [], ()))
    return f'<dl class="st-dl">{items}</dl>'


def _card(analysis: Analysis, index: int) -> str:
    att = analysis.attributions[index]
    text = analysis.text
    src = analysis.source_of(att)
    chain = hearsay_chain(analysis, index)
    chain_html = " <span class=\"st-arrow\">→</span> ".join(
        f"<span>{_e(name)}</span>" for name in chain + ["the article"])
    rows = [
        ("Speaker", speaker_label(analysis, att)),
        ("Source in text", analysis.span_text(att.source, strip=True) or "— (none given)"),
        ("Cue", analysis.span_text(att.cue, strip=True) or "—"),
        ("Kind", {"direct": "direct quote", "indirect": "indirect (paraphrase)",
                  "mixed": "mixed (paraphrase with a quote)"}.get(att.kind, att.kind)),
    ]
    if src is not None:
        rows += [("Identity", src.identity), ("Source kind", src.kind), ("Role", src.role),
                 ("Channel", src.channel)]
    rows += [("Hearsay depth", str(len(chain))),
             ("Act", att.act or "speech"),
             ("Found by", f"{att.rule or 'unknown'}; probability {att.confidence:.2f} "
                          "that it is right")]
    content = analysis.span_text(att.content, strip=True)
    data_source = "" if att.source_id is None else f' data-source="{att.source_id}"'
    return (
        f'<article class="st-card {colour_class(att.source_id)}" data-card="{index}"{data_source}>'
        f'<h4><span class="st-swatch"></span>{_e(speaker_label(analysis, att))}'
        f' <small>#{index + 1}</small></h4>'
        f'<blockquote>{_e(content) or "<em>no content</em>"}</blockquote>'
        f"{_dl(rows)}"
        f'<p class="st-chain"><span class="st-chain-h">Hearsay chain</span> {chain_html}</p>'
        "</article>"
    )


def _chain_html(analysis: Analysis, source) -> str:
    """The mentions the source's resolution went through, in text order, with offsets."""
    spans = source.chain or source.mentions
    if not spans:
        return ""
    links = " → ".join(
        f'<span class="st-chain-link" data-start="{sp.start}" data-end="{sp.end}">'
        f'{_e(" ".join(analysis.text[sp.start:sp.end].split()))}'
        f'<small>@{sp.start}</small></span>' for sp in spans)
    return f'<details class="st-chain"><summary>chain</summary><p>{links}</p></details>'


def _sources_html(analysis: Analysis) -> str:
    if not analysis.sources:
        speakers = sorted({speaker_label(analysis, a) for a in analysis.attributions})
        if not speakers:
            return '<p class="st-empty">No sources found.</p>'
        return '<ul class="st-sources">' + "".join(
            f'<li class="{NO_SOURCE}"><span class="st-swatch"></span>{_e(s)}</li>'
            for s in speakers) + "</ul>"
    items = []
    for s in analysis.sources:
        badges = "".join(f'<span class="st-badge st-b-{_e(b)}">{_e(b)}</span>'
                         for b in (s.identity, s.kind) if b)
        extra = []
        if s.role:
            extra.append(f'<span class="st-role">{_e(s.role)}</span>')
        facts = []
        if s.channel:
            facts.append(f"via {_e(s.channel)}")
        facts.append(f"{len(s.attributions)} attribution{'s' if len(s.attributions) != 1 else ''}")
        facts.append(f"{len(s.mentions)} mention{'s' if len(s.mentions) != 1 else ''}")
        if s.hearsay_depth > 1:
            facts.append(f"hearsay depth {s.hearsay_depth}")
        evidence = ""
        if s.evidence:
            evidence = ('<details class="st-evidence"><summary>why</summary>'
                        + _dl(s.evidence) + "</details>")
        evidence += _chain_html(analysis, s)
        items.append(
            f'<li class="{colour_class(s.id)}" data-src="{s.id}" tabindex="0" role="button">'
            f'<span class="st-swatch"></span><span class="st-name">{_e(s.name)}</span> {badges}'
            f'{"".join(extra)}<span class="st-facts">{" · ".join(facts)}</span>{evidence}</li>')
    return '<ul class="st-sources">' + "".join(items) + "</ul>"


def _fmt_number(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if math.isnan(v):
            return "—"
        return f"{v:.2f}" if abs(v) < 1000 else f"{v:,.0f}"
    return str(v)


def _label(key: str) -> str:
    return key.replace("_", " ").strip().capitalize()


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_share(key: str, value: Any) -> bool:
    return _is_number(value) and 0 <= value <= 1 \
        and any(w in key for w in ("share", "ratio", "fraction", "rate"))


def _value_html(key: str, value: Any, level: int = 0) -> str:
    """Any JSON value of the profile, readably: shares as bars, counts inline, chains as arrows."""
    if isinstance(value, dict):
        if not value:
            return '<span class="st-muted">none</span>'
        if all(isinstance(v, dict) and _is_number(v.get("share")) for v in value.values()):
            return _bars({k: v["share"] for k, v in value.items()})   # {"named": {"chars", "share"}}
        if all(_is_number(v) for v in value.values()):
            if _is_share(key, 0.5) and all(0 <= v <= 1 for v in value.values()):
                return _bars(value)
            shown = [(k, v) for k, v in value.items() if v]            # counts: the non-zero ones
            if not shown:
                return '<span class="st-muted">none</span>'
            return " · ".join(f"{_e(k)} <b>{_e(_fmt_number(v))}</b>" for k, v in shown)
        if level >= 3:
            return f"<code>{_e(json.dumps(value, ensure_ascii=False))}</code>"
        rows = "".join(f"<dt>{_e(_label(str(k)))}</dt><dd>{_value_html(str(k), v, level + 1)}</dd>"
                       for k, v in value.items())
        return f'<dl class="st-dl st-sub">{rows}</dl>'
    if isinstance(value, (list, tuple)):
        if not value:
            return '<span class="st-muted">none</span>'
        if all(not isinstance(v, (dict, list, tuple)) for v in value):
            sep = " → " if key in ("chain", "hearsay_chain", "path") else ", "
            return _e(sep.join(_fmt_number(v) for v in value))
        return '<ol class="st-list">' + "".join(
            f"<li>{_value_html(key, v, level + 1)}</li>" for v in value) + "</ol>"
    if _is_share(key, value):
        return _bars({"": value})
    if value is None:
        return '<span class="st-muted">—</span>'
    return _e(_fmt_number(value))


def _bars(shares: dict[str, Any]) -> str:
    rows = []
    for k, v in shares.items():
        pct = max(0, min(100, round(float(v) * 100)))
        rows.append(f'<div class="st-bar"><span class="st-bar-k">{_e(_label(str(k)))}</span>'
                    f'<meter min="0" max="100" value="{pct}"></meter>'
                    f'<span class="st-bar-v">{pct}%</span></div>')
    return '<div class="st-bars">' + "".join(rows) + "</div>"


SCORE_KEYS = ("transparency_score", "transparency", "score")
HIDDEN_KEYS = ("version",)


def _score_parts(profile: dict[str, Any]) -> tuple[str | None, Any, float | None]:
    """(key, the score entry, its value on a 0-100 scale)."""
    key = next((k for k in SCORE_KEYS if k in profile), None)
    if key is None:
        return None, None, None
    score = profile[key]
    value = score.get("value", score.get("score")) if isinstance(score, dict) else score
    if not _is_number(value):
        return key, score, None
    return key, score, float(value) * 100 if 0 <= value <= 1 else float(value)


def profile_score(profile: dict[str, Any] | None) -> float | None:
    """The profile's headline score on a 0-100 scale (None when it has none)."""
    return _score_parts(profile)[2] if profile else None


def _components_html(components: list[Any]) -> str:
    """The score's components as a table: name, value, weight, points, and what it measures."""
    rows = []
    for c in components:
        if not isinstance(c, dict):
            return _value_html("components", components)
        value = c.get("value")
        rows.append(
            f"<tr><th scope=\"row\">{_e(_label(str(c.get('name', ''))))}</th>"
            f"<td>{_e(_fmt_number(value)) if value is not None else '—'}</td>"
            f"<td>× {_e(_fmt_number(c.get('weight', '')))}</td>"
            f"<td><b>{_e(_fmt_number(c.get('contribution', '')))}</b></td></tr>"
            + (f'<tr class="st-explain"><td colspan="4">{_e(c["explain"])}</td></tr>'
               if c.get("explain") else ""))
    return ('<table class="st-components"><thead><tr><th>component</th><th>value</th>'
            "<th>weight</th><th>points</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _profile_html(profile: dict[str, Any] | None) -> tuple[str, str]:
    """(the headline: score and how it is made, the details: every other figure)."""
    if not profile:
        return '<p class="st-empty">No sourcing profile.</p>', ""
    body = []
    score_key, score, value = _score_parts(profile)
    if value is not None:
        body.append(f'<p class="st-score"><span class="st-score-v">{value:.0f}</span>'
                    f'<span class="st-score-k">{_e(_label(score_key))} score, out of 100</span></p>')
    if isinstance(score, dict):
        rest = {k: v for k, v in score.items() if k not in ("value", "score")}
        parts = []
        if rest.get("formula"):
            parts.append(f'<p class="st-formula"><code>{_e(rest.pop("formula"))}</code></p>')
        if isinstance(rest.get("components"), list):
            parts.append(_components_html(rest.pop("components")))
        if rest:
            parts.append(_value_html(score_key, rest))
        if parts:
            body.append('<details class="st-evidence st-how"><summary>How the score is made'
                        f'</summary>{"".join(parts)}</details>')
    rows = "".join(f"<dt>{_e(_label(k))}</dt><dd>{_value_html(k, v)}</dd>"
                   for k, v in profile.items() if k != score_key and k not in HIDDEN_KEYS)
    if not body:
        body.append('<p class="st-empty">No score.</p>')
    return "".join(body), f'<dl class="st-dl st-profile">{rows}</dl>' if rows else ""


def _assertions_html(analysis: Analysis) -> str:
    """The statements the article makes in its own voice: check-worthy first, then opinions."""
    order = {"checkworthy": 0, "opinion": 1}
    items = sorted((i for i, a in enumerate(analysis.assertions) if a.label in order),
                   key=lambda i: (order[analysis.assertions[i].label], i))
    if not items:
        return ""
    rows = []
    for i in items:
        a = analysis.assertions[i]
        text = analysis.text[a.span.start:a.span.end].strip()
        short = text if len(text) <= 180 else text[:177].rstrip() + "…"
        hedges = ", ".join(h.text or analysis.text[h.start:h.end] for h in a.hedges)
        note = " · ".join(x for x in (ASSERTION_LABELS.get(a.label, a.label),
                                      hedges and f"hedged: {hedges}", a.evidence) if x)
        rows.append(f'<li class="st-as-item st-as-{_e(a.label)}-item" data-s="{i}" tabindex="0" '
                    f'role="button">{_e(short)}<span class="st-facts">{_e(note)}</span></li>')
    return ('<section><h3>Said without a source</h3><ol class="st-asserts">'
            + "".join(rows) + "</ol></section>")


_LEGEND = """<ul class="st-legend">
<li><span class="st-key st-key-source">Name</span> source mention</li>
<li><span class="st-key st-key-cue">said</span> cue (reporting verb or phrase)</li>
<li><span class="st-key st-key-direct">“quoted”</span> direct quote</li>
<li><span class="st-key st-key-indirect">reported</span> paraphrase</li>
<li><span class="st-key st-as st-as-checkworthy">claim</span> check-worthy, no source</li>
<li><span class="st-key st-as st-as-opinion">view</span> opinion or prediction, no source</li>
<li><span class="st-key st-hedge">reportedly</span> hedge</li>
<li><span class="st-key st-boiler">Read more</span> boilerplate, not analysed</li>
</ul><p class="st-note">Each colour is one source; grey: source not resolved.</p>"""


def _header_html(analysis: Analysis) -> str:
    meta = analysis.meta or {}
    title = meta.get("title")
    bits = [_e(meta[k]) for k in ("outlet", "author", "date") if meta.get(k)]
    url = meta.get("url") or meta.get("canonical_url")
    if isinstance(url, str) and url.lower().startswith(("http://", "https://")):
        bits.append(f'<a href="{_e(url)}" rel="noopener noreferrer nofollow" '
                    f'target="_blank">{_e(url)}</a>')
    elif url:
        bits.append(_e(url))
    n_check = sum(1 for a in analysis.assertions if a.label == "checkworthy")
    counts = (f"{len(analysis.attributions)} attributions · {len(analysis.sources)} sources · "
              f"{n_check} unattributed check-worthy")
    score = profile_score(analysis.profile)
    if score is not None:
        counts = f'<b class="st-headscore">transparency {score:.0f}/100</b> · ' + counts
    out = ['<header class="st-head">']
    if title:
        out.append(f"<h2>{_e(title)}</h2>")
    if bits:
        out.append(f'<p class="st-meta">{" · ".join(bits)}</p>')
    out.append(f'<p class="st-counts">{counts} <a class="st-jump" href="#st-panel">'
               "sources and profile ↓</a></p>")
    out.append("</header>")
    return "".join(out)


def render_analysis_fragment(analysis: Analysis) -> str:
    """The article view as an HTML fragment (``<div class="st-root">``), no CSS or JS."""
    cards = "".join(_card(analysis, i) for i in range(len(analysis.attributions)))
    headline, details = _profile_html(analysis.profile)
    warnings = ""
    if analysis.warnings:
        warnings = '<ul class="st-warnings">' + "".join(
            f"<li>{_e(w)}</li>" for w in analysis.warnings) + "</ul>"
    return (
        '<div class="st-root">'
        f"{_header_html(analysis)}{warnings}"
        '<div class="st-layout">'
        '<section class="st-main" aria-label="Article">'
        f'<div class="st-text">{_article_html(analysis)}</div>'
        f'<details class="st-all"><summary>All {len(analysis.attributions)} attributions'
        f'</summary><div class="st-cards">{cards}</div></details>'
        "</section>"
        '<aside class="st-panel" id="st-panel" aria-label="Sources and profile">'
        '<section class="st-selected" aria-live="polite" hidden>'
        '<button type="button" class="st-close" aria-label="Close">×</button>'
        '<div class="st-slot"></div></section>'
        f'<section><h3>Sourcing profile</h3>{headline}</section>'
        f'<section><h3>Sources</h3>{_sources_html(analysis)}</section>'
        + _assertions_html(analysis)
        + (f'<section><h3>Profile in figures</h3>{details}</section>' if details else "")
        + f"<section><h3>Legend</h3>{_LEGEND}</section>"
        "</aside></div></div>"
    )


def render_analysis_html(analysis: Analysis, standalone: bool = True) -> str:
    """The article view: one self-contained HTML file, or an inline fragment for Jupyter.

    ``standalone=True`` gives a whole document with inline CSS and JS, no external
    asset and a hash-based Content-Security-Policy; ``standalone=False`` gives a
    ``<div>`` carrying the same CSS and JS inline (scoped under ``.st-root``).
    """
    fragment = render_analysis_fragment(analysis)
    css, js = asset("article.css"), asset("article.js")
    if not standalone:
        return f"<div class=\"st-embed\"><style>{css}</style>{fragment}<script>{js}</script></div>"
    title = analysis.meta.get("title") if analysis.meta else None
    if not title:
        first = analysis.text.strip().split("\n", 1)[0]
        title = first[:80] + ("…" if len(first) > 80 else "")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(standalone_csp())}">'
        '<meta name="generator" content="sourcetrace">'
        f"<title>{_e(title)} · sourcetrace</title><style>{css}</style></head>"
        f'<body class="st-page">{fragment}'
        '<footer class="st-foot">Made with sourcetrace: who says what in the news.</footer>'
        f"<script>{js}</script></body></html>\n"
    )


set_html_view(lambda analysis: render_analysis_html(analysis, standalone=False))
