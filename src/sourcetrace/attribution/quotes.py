"""Quotation finding over the raw text (character offsets, quote marks included).

Handles straight, curly, doubled-apostrophe (``''``) and backtick (````` ``) double
marks, and single marks outside double quotes when they clearly open and close
a quotation ('leaking'). News style leaves the closing mark off every paragraph
of a multi-paragraph quotation but the last: an open quotation continues into
the next paragraph when that paragraph starts with an opening mark, and ends at
the end of its paragraph otherwise.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_DOUBLE = re.compile(r"``|''|[\"“”„«»]")
_OPENERS = {"“", "``", "„", "«"}
_CLOSERS = {"”", "»"}
_TOGGLES = {'"', "''"}
_PARA = re.compile(r"[^\n]+")
_SINGLE = re.compile(r"(?<![\w’'])[‘'](?=\w)(?:[^‘’'\n]|[’'](?=\w))*?[’'](?!\w)")


@dataclass(frozen=True)
class Quote:
    """A quotation: ``[start, end)`` includes its marks; ``closed`` is False when it
    runs to the end of a paragraph without a closing mark."""

    start: int
    end: int
    closed: bool = True
    single: bool = False

    def contains(self, pos: int) -> bool:
        return self.start <= pos < self.end


def find_quotes(text: str) -> list[Quote]:
    """All top-level quotations of ``text`` in text order."""
    paragraphs = [(m.start(), m.end()) for m in _PARA.finditer(text)]
    quotes: list[Quote] = []
    open_at: int | None = None
    last_para_end = 0
    for k, (ps, pe) in enumerate(paragraphs):
        marks = list(_DOUBLE.finditer(text, ps, pe))
        first = 0
        if open_at is not None:
            lead = text[ps:pe].lstrip()
            if marks and marks[0].start() == ps + (pe - ps - len(lead)) and marks[0].group() in _OPENERS | _TOGGLES:
                first = 1  # continuation of a multi-paragraph quotation
            else:
                quotes.append(Quote(open_at, last_para_end, closed=False))
                open_at = None
        for m in marks[first:]:
            mark, s, e = m.group(), m.start(), m.end()
            if open_at is None:
                if mark in _CLOSERS:
                    continue
                if mark in _TOGGLES:
                    after = text[e:e + 1]
                    before = text[s - 1:s] if s > ps else " "
                    if (not after or after.isspace()) and not before.isspace():
                        continue  # a stray closing mark
                open_at = s
            else:
                if mark in _OPENERS:
                    after = text[e:e + 1]
                    if not (after == "" or after.isspace() or after in ".,;:!?") or text[s - 1:s].isspace():
                        continue
                    # an opening mark used to close ("Apparently not,“ he said)
                quotes.append(Quote(open_at, e))
                open_at = None
        last_para_end = pe
        if open_at is not None and k == len(paragraphs) - 1:
            quotes.append(Quote(open_at, pe, closed=False))
            open_at = None
    # single-quoted passages outside double quotes (headlines, nested-free prose)
    covered = [(q.start, q.end) for q in quotes]
    singles = []
    for m in _SINGLE.finditer(text):
        s, e = m.start(), m.end()
        if e - s < 4 or any(a < e and s < b for a, b in covered):  # quotations never overlap
            continue
        singles.append(Quote(s, e, single=True))
    quotes.extend(singles)
    quotes.sort(key=lambda q: q.start)
    return _trim(text, quotes)


def _trim(text: str, quotes: list[Quote]) -> list[Quote]:
    out = []
    for q in quotes:
        e = q.end
        while e > q.start and text[e - 1].isspace():
            e -= 1
        if e - q.start > 2:
            out.append(Quote(q.start, e, q.closed, q.single))
    return out
