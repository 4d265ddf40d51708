"""Cleanup: marks aggregator residue (boilerplate) so that it is never mined.

    find_boilerplate(text)          -> tuple[Span, ...]     sorted, non-overlapping
    explain_boilerplate(text)       -> tuple[Residue, ...]  each span with the rule that found it
    is_boilerplate(span, spans)     -> bool                 does a span touch boilerplate?

The text is never rewritten: every span slices the text it was found in, so the
offsets of every later stage stay offsets into the text the user gave.

What counts as residue (patterns in ``lexicons/boilerplate.txt``, with comments):
inline related-headline bullets ("  • Putin's 'nuclear plan' to win ..."),
"Source: Read Full Article", "Read the rest here.", "Read more: ...",
"Follow X on Twitter", share / subscribe / sign-up / newsletter lines,
"Advertisement", "Click here ...", raw embedded-tweet markup (``<tweet ...>``,
``</tweet>``), "pic.twitter.com/..." links and standalone tweet signatures
("— Name (@handle) July 5, 2016").

Precision comes before recall: line rules must match a whole line, and a bullet
line counts as a related headline only when it reads like one (a capitalised
phrase of 4-30 words not ended like a sentence) and stands alone among prose or
under a "Related:" header, so the bulleted lists of an article are left alone.
The words of an embedded tweet are kept: they are what its author said.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from ..config import read_sections
from ..errors import ConfigError
from ..model import Span

__all__ = ["Residue", "explain_boilerplate", "find_boilerplate", "is_boilerplate"]

BULLET_RULE = "related_headline"


@dataclass(frozen=True, order=True)
class Residue:
    """One boilerplate span and the rule (a name in the lexicon) that marked it."""

    span: Span
    rule: str


@dataclass(frozen=True)
class _Lexicon:
    line: tuple[tuple[str, re.Pattern[str]], ...]
    inline: tuple[tuple[str, re.Pattern[str]], ...]
    bullets: str
    related: frozenset[str]


@functools.lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    sections = read_sections("boilerplate.txt")
    if sections.get(""):
        raise ConfigError(f"boilerplate lexicon: rule outside a section: {sections[''][0]!r}")

    def rules(name: str, whole_line: bool) -> tuple[tuple[str, re.Pattern[str]], ...]:
        out = []
        for entry in sections.get(name, []):
            rule, _, pattern = entry.partition(" ")
            pattern = pattern.strip()
            if whole_line:
                pattern = rf"(?:{pattern})"
            out.append((rule, re.compile(pattern, re.IGNORECASE)))
        return tuple(out)

    return _Lexicon(
        line=rules("line", True),
        inline=rules("inline", False),
        bullets="".join(sections.get("bullets", [])),
        related=frozenset(sections.get("related", [])),
    )


# --------------------------------------------------------------------------- lines

@dataclass(frozen=True)
class _Line:
    start: int      # offset of the line's first character
    end: int        # offset after its last non-space character
    body: str       # stripped content

    @property
    def blank(self) -> bool:
        return not self.body


def _lines(text: str) -> list[_Line]:
    out = []
    for m in re.finditer(r"[^\n]*", text):
        if m.start() > 0 and m.start() == m.end() and text[m.start() - 1:m.start()] != "\n":
            continue  # the empty match after each line's content
        raw = m.group()
        stripped = raw.rstrip()
        out.append(_Line(m.start(), m.start() + len(stripped), stripped.strip()))
    return out


_SENTENCE_END = re.compile(r"[.;,]['\"’”)\]]*$")


def _bullet_body(line: _Line, bullets: str) -> str | None:
    if line.body and line.body[0] in bullets:
        return line.body[1:].strip()
    return None


def _headline_like(body: str) -> bool:
    """A capitalised phrase of 4-30 words that does not end like a sentence."""
    words = body.split()
    if not 4 <= len(words) <= 30:
        return False
    if _SENTENCE_END.search(body) or body.endswith(":"):
        return False
    first = body.lstrip("\"'“‘«")[:1]
    return first.isupper() or first.isdigit()


def _is_list_item(line: _Line, bullets: str) -> bool:
    return bool(line.body) and (line.body[0] in bullets or line.body[:2] in ("- ", "* ")
                                or re.match(r"\d{1,2}[.)]\s", line.body) is not None)


def _line_rule(body: str, lexicon: _Lexicon) -> str | None:
    for rule, pattern in lexicon.line:
        if pattern.fullmatch(body):
            return rule
    return None


def explain_boilerplate(text: str) -> tuple[Residue, ...]:
    """Every boilerplate span of ``text`` with the rule that marked it, in text order.

    Spans may nest (an inline match inside a flagged line); find_boilerplate merges them.
    """
    lexicon = _lexicon()
    found: list[Residue] = []
    lines = _lines(text)
    content = [ln for ln in lines if not ln.blank]
    line_rules = [_line_rule(ln.body, lexicon) for ln in content]
    under_header = False  # inside a run of headlines under a "Related:" header
    for i, line in enumerate(content):
        rule = line_rules[i]
        if rule is None:
            body = _bullet_body(line, lexicon.bullets)
            if under_header and body is not None and _headline_like(body):
                rule = BULLET_RULE
            elif body is not None and _headline_like(body) and _stands_alone(
                    i, content, lexicon):
                rule = BULLET_RULE
        if rule is not None:
            found.append(Residue(Span.of(text, line.start, line.end), rule))
        under_header = rule is not None and (rule in lexicon.related or
                                             (under_header and rule == BULLET_RULE))
    for rule, pattern in lexicon.inline:
        for m in pattern.finditer(text):
            if m.end() > m.start():
                found.append(Residue(Span.of(text, m.start(), m.end()), rule))
    return tuple(sorted(found))


def _stands_alone(i: int, content: list[_Line], lexicon: _Lexicon) -> bool:
    """A bullet headline outside a related-stories run must stand alone among prose:
    an article's own bulleted lists come as runs of items."""
    prev_item = i > 0 and _is_list_item(content[i - 1], lexicon.bullets)
    next_item = i + 1 < len(content) and _is_list_item(content[i + 1], lexicon.bullets)
    return not prev_item and not next_item


def find_boilerplate(text: str) -> tuple[Span, ...]:
    """The boilerplate spans of ``text``: sorted, merged where they overlap or touch."""
    merged: list[list[int]] = []
    for residue in explain_boilerplate(text):
        s, e = residue.span.start, residue.span.end
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return tuple(Span.of(text, s, e) for s, e in merged)


def is_boilerplate(span: Span, boilerplate: tuple[Span, ...] | list[Span]) -> bool:
    """True when ``span`` overlaps any boilerplate span (so it must not be mined)."""
    return any(span.overlaps(b) for b in boilerplate)
