"""The terminal view of an Analysis (rich).

    print_analysis(analysis, file=None)     print everything to a terminal or a file
    renderables(analysis)                    the same as a list of rich renderables

What it shows, in order:
  * the title and what the input said about the article (outlet, date, url);
  * the article text with every attribution highlighted: the content in the colour
    of its resolved speaker, the source in that colour and bold, the cue bold and
    underlined, a dim ``[n]`` after each cue giving the attribution's number in the
    table; boilerplate (aggregator residue, never mined) is dimmed and struck out;
  * the table of attributions: number, kind, resolved speaker (the source text when
    none was resolved), source, cue, content excerpt, parent, rule, confidence;
  * when the Analysis has them: the sources table, the unattributed assertions, the
    sourcing profile and the warnings.

Colours go to terminals only; written to a file the view is plain text.
"""
from __future__ import annotations

import re
from typing import IO, Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..model import Analysis, Attribution, span_text

PALETTE = (
    "cyan", "magenta", "green", "yellow", "bright_blue", "bright_red",
    "bright_green", "bright_magenta", "orange3", "deep_sky_blue1", "plum2", "gold3",
)
EXCERPT_CHARS = 90


# Characters a terminal acts on instead of showing: C0 controls but newline and tab, DEL,
# C1 controls (0x9b is CSI on some terminals) and the bidirectional overrides and isolates.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _picture(m: "re.Match[str]") -> str:
    c = ord(m.group())
    if c < 0x20:
        return chr(0x2400 + c)      # the Control Pictures block: ESC shows as ␛
    return "\u2421" if c == 0x7f else "\ufffd"


def printable(text: str) -> str:
    """``text`` safe to print on a terminal: every control character (escape sequences,
    carriage return, bidi overrides) replaced by one visible character, so offsets into
    the text still hold; newlines and tabs kept."""
    return _CONTROL.sub(_picture, text)


class _Printable:
    """A renderable whose text segments pass through ``printable`` (the styles rich
    adds are its own control segments and stay as they are)."""

    def __init__(self, renderable) -> None:
        self.renderable = renderable

    def __rich_console__(self, console, options):
        from rich.segment import Segment

        for segment in console.render(self.renderable, options):
            if segment.control or not _CONTROL.search(segment.text):
                yield segment
            else:
                yield Segment(printable(segment.text), segment.style)


def _one_line(text: str, limit: int = EXCERPT_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def speaker_of(att: Attribution, text: str) -> str:
    """The resolved speaker, else the source text, else "(no source)"."""
    if att.speaker:
        return att.speaker
    if att.source:
        return _one_line(span_text(text, att.source), 60)
    return "(no source)"


def _speaker_key(att: Attribution, text: str) -> str:
    if att.source_id is not None:
        return f"id:{att.source_id}"
    if att.speaker:
        return "speaker:" + att.speaker.casefold()
    if att.source:
        return "source:" + " ".join(span_text(text, att.source).split()).casefold()
    return "none"


def colours(analysis: Analysis) -> dict[str, str]:
    """A colour per resolved speaker (key from ``_speaker_key``), in order of appearance."""
    out: dict[str, str] = {"none": "grey70"}
    for att in analysis.attributions:
        key = _speaker_key(att, analysis.text)
        if key not in out:
            out[key] = PALETTE[(len(out) - 1) % len(PALETTE)]
    return out


def highlighted_text(analysis: Analysis, palette: dict[str, str] | None = None) -> Text:
    """The article text, styled, with a dim ``[n]`` marker after each attribution's cue."""
    text = analysis.text
    palette = palette or colours(analysis)
    body = Text(text)
    for span in analysis.boilerplate:
        body.stylize("dim strike", span.start, span.end)
    # parents before their nested attributions, so that the inner colour wins
    order = sorted(range(len(analysis.attributions)),
                   key=lambda i: (_depth(analysis, i), i))
    markers: dict[int, list[int]] = {}
    for i in order:
        att = analysis.attributions[i]
        colour = palette.get(_speaker_key(att, text), "white")
        for s in att.content:
            body.stylize(colour, s.start, s.end)
        for s in att.source:
            body.stylize(f"bold {colour}", s.start, s.end)
        for s in att.cue:
            body.stylize(f"bold underline {colour}", s.start, s.end)
        anchor = max((s.end for s in att.cue), default=None)
        if anchor is None:
            anchor = max((s.end for s in att.content + att.source), default=None)
        if anchor is not None:
            markers.setdefault(anchor, []).append(i + 1)
    if not markers:
        return body
    cuts = sorted(p for p in markers if 0 < p < len(text))
    pieces = body.divide(cuts) if cuts else [body]
    out = Text()
    position = 0
    for piece in pieces:
        out.append_text(piece)
        position += len(piece.plain)
        if position in markers:
            out.append("[" + ",".join(map(str, markers[position])) + "]", style="dim")
    if 0 in markers:  # an attribution that ends at offset 0 (empty spans)
        out = Text("[" + ",".join(map(str, markers[0])) + "]", style="dim") + out
    return out


def _depth(analysis: Analysis, i: int) -> int:
    return len(analysis.ancestors(i))


class _Adaptive:
    """A renderable that builds its table for the width it is given."""

    def __init__(self, build) -> None:
        self.build = build

    def __rich_console__(self, console, options):
        yield self.build(options.max_width)


WIDE = 140  # from this many columns up the attributions table has a column per field


def attributions_table(analysis: Analysis, palette: dict[str, str] | None = None,
                       width: int = 160) -> Table:
    """The attributions table, fitted to ``width`` columns.

    Wide (WIDE columns or more): #, kind, speaker, source, cue, content, parent, rule,
    confidence. Narrower: #, speaker with the cue under it, content, and kind with the
    confidence, the parent ("in #n") and the rule under it.
    """
    text = analysis.text
    palette = palette or colours(analysis)
    wide = width >= WIDE
    table = Table(title=f"Attributions ({len(analysis.attributions)})", box=box.SIMPLE_HEAD,
                  expand=True)
    if wide:
        for name, kw in (("#", {"justify": "right", "width": 3}), ("kind", {"width": 8}),
                         ("speaker", {"width": 22}), ("source", {"width": 18}),
                         ("cue", {"width": 14}), ("content", {"ratio": 1}),
                         ("parent", {"justify": "right", "width": 6}),
                         ("rule", {"width": 18, "overflow": "fold"}),
                         ("conf.", {"justify": "right", "width": 5})):
            table.add_column(name, **kw)
    else:
        table.add_column("#", justify="right", width=3)
        table.add_column("speaker / cue", width=min(24, max(12, width // 5)))
        table.add_column("content", ratio=1)
        table.add_column("kind", width=min(18, max(8, width // 8)), overflow="fold")
    for i, att in enumerate(analysis.attributions):
        colour = palette.get(_speaker_key(att, text), "white")
        speaker = Text(speaker_of(att, text), style=f"bold {colour}")
        source = _one_line(span_text(text, att.source), 40) if att.source else "—"
        cue = _one_line(span_text(text, att.cue), 30) if att.cue else "—"
        content = _one_line(span_text(text, att.content)) if att.content else "—"
        parent = str(att.parent + 1) if att.parent is not None else ""
        if wide:
            table.add_row(str(i + 1), att.kind, speaker, source, cue, content, parent,
                          att.rule or "", f"{att.confidence:.2f}")
        else:
            who = speaker + Text("\n") + Text(cue, style="bold underline")
            kind = Text(f"{att.kind}\n{att.confidence:.2f}"
                        + (f" in #{parent}" if parent else "")
                        + (f"\n{att.rule}" if att.rule else ""))
            table.add_row(str(i + 1), who, content, kind)
    return table


def chain_text(analysis: Analysis, src, limit: int = 80) -> str:
    """The mentions a source's resolution went through, in text order, each with its
    offset: "Rosemary Thomas@1820 → Ms Thomas@2018 → She@2069"."""
    spans = src.chain or src.mentions
    parts = [f"{' '.join(analysis.text[s.start:s.end].split())}@{s.start}" for s in spans]
    return _one_line(" → ".join(parts), limit) if parts else "—"


def sources_table(analysis: Analysis) -> Table:
    table = Table(title=f"Sources ({len(analysis.sources)})", box=box.SIMPLE_HEAD)
    for name in ("name", "identity", "kind", "role", "channel", "hearsay", "mentions", "attr.",
                 "chain"):
        table.add_column(name, justify="right" if name in ("hearsay", "mentions", "attr.") else "left")
    for src in analysis.sources:
        table.add_row(_one_line(src.name, 60), src.identity or "—", src.kind or "—",
                      _one_line(src.role, 40) if src.role else "—", src.channel or "—",
                      str(src.hearsay_depth), str(len(src.mentions)), str(len(src.attributions)),
                      chain_text(analysis, src))
    return table


def assertions_table(analysis: Analysis) -> Table:
    table = Table(title=f"Unattributed assertions ({len(analysis.assertions)})",
                  box=box.SIMPLE_HEAD)
    for name in ("label", "sentence", "hedges", "why"):
        table.add_column(name)
    for a in analysis.assertions:
        table.add_row(a.label, _one_line(analysis.text[a.span.start:a.span.end]),
                      ", ".join(analysis.text[h.start:h.end] for h in a.hedges) or "—",
                      _one_line(a.evidence, 40) if a.evidence else "")
    return table


def _scalar(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.2f}".rstrip("0").rstrip(".") if v != int(v) else f"{v:.1f}"
    return "—" if v is None else str(v)


def _inline(v: Any, limit: int = 12) -> str:
    """A nested value on one line: dicts as "key value · key value" (zeros shown: a
    count of 0 is a figure, not a gap)."""
    if isinstance(v, dict):
        parts = [f"{k.replace('_', ' ')} {_inline(x)}" if not isinstance(x, dict)
                 else f"{k.replace('_', ' ')} ({_inline(x)})"
                 for k, x in v.items()]
        return " · ".join(parts) if parts else "none"
    if isinstance(v, (list, tuple)):
        if not v:
            return "none"
        items = [f"({_inline(x)})" if isinstance(x, dict) else _inline(x) for x in v[:limit]]
        return ", ".join(items) + (f", … ({len(v)} in all)" if len(v) > limit else "")
    return _scalar(v)


def _named_records(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) and "name" in x for x in v)


def profile_table(profile: dict[str, Any]) -> Table:
    """The sourcing profile, one row per figure (nested groups flattened one level)."""
    table = Table(title="Sourcing profile", box=box.SIMPLE_HEAD, show_header=False)
    table.add_column("measure", style="bold", max_width=34)
    table.add_column("value")
    for key, value in profile.items():
        label = str(key).replace("_", " ")
        if isinstance(value, dict) and value:
            for sub, item in value.items():
                row = f"{label} · {str(sub).replace('_', ' ')}"
                if _named_records(item):  # e.g. the components of a score: a row each
                    for record in item:
                        rest = {k: v for k, v in record.items() if k != "name"}
                        table.add_row(f"{row} · {record['name']}", _inline(rest))
                else:
                    table.add_row(row, _inline(item))
        else:
            table.add_row(label, _inline(value))
    return table


def header(analysis: Analysis) -> Text:
    meta = analysis.meta
    out = Text()
    title = meta.get("title")
    if title:
        out.append(str(title), style="bold")
        out.append("\n")
    facts = [str(meta[k]) for k in ("outlet", "author", "date", "url", "path")
             if meta.get(k) and meta.get(k) != "-"]
    if facts:
        out.append(" · ".join(facts), style="dim")
        out.append("\n")
    return out


def renderables(analysis: Analysis) -> list[RenderableType]:
    palette = colours(analysis)
    parts: list[RenderableType] = []
    head = header(analysis)
    if head.plain:
        parts.append(head)
    parts.append(highlighted_text(analysis, palette))
    parts.append(Text(""))
    if analysis.attributions:
        parts.append(_Adaptive(lambda width: attributions_table(analysis, palette, width)))
    else:
        parts.append(Text("No attributions found.", style="italic"))
    if analysis.sources:
        parts.append(sources_table(analysis))
    if analysis.assertions:
        parts.append(assertions_table(analysis))
    if analysis.profile:
        parts.append(profile_table(analysis.profile))
    if (analysis.meta or {}).get("factchecks") is not None:
        parts.append(Text(factchecks_text(analysis.meta["factchecks"])))
    for warning in analysis.warnings:
        parts.append(Text(f"warning: {warning}", style="yellow"))
    return parts


def factchecks_text(checked: list) -> str:
    """The section `analyze --db` adds: each claim of the article with the stored
    fact-checks that state or contradict it (crossoutlet.factchecks.article_factchecks)."""
    lines = ["Fact-checks of this article's claims"]
    if not checked:
        lines.append("  none of the stored fact-checks states or contradicts a claim of it")
    for item in checked:
        lines.append(printable(f"  \u201c{item['claim']}\u201d"))
        for m in item["matches"]:
            when = f" on {m['date']}" if m["date"] else ""
            lines.append(printable(
                f"    {m['verdict']} (p={m['probability']:.2f}): "
                f"{m['checker'] or 'a fact-checker'} rated \u201c{m['claim']}\u201d "
                f"\u201c{m['rating']}\u201d{when} {m['url'] or ''}").rstrip())
    return "\n".join(lines)


def print_analysis(analysis: Analysis, file: IO[str] | None = None,
                   width: int | None = None) -> None:
    """Print the terminal view; colour only when ``file`` is a terminal."""
    console = Console(file=file, width=width, highlight=False, soft_wrap=False)
    console.print(_Printable(Group(*renderables(analysis))))
