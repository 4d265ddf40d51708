"""Per-document lookups: sentence bounds, quotation regions and the ``_DocContext``
built once per document (token offsets, entities, contents, people's titles and genders)."""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from typing import Any

from ..model import Attribution
from .wordlists import lexicons
from .names import _first_name, _surname, appositive_role, title_before

def sentence_bounds(doc) -> list[tuple[int, int]]:
    """(start, end) characters of the Doc's sentences, computed once per Doc."""
    key = "sourcetrace_sentence_bounds"
    cached = doc.user_data.get(key)
    # the Doc's length in characters without rebuilding doc.text (spaCy joins every token)
    length = doc[-1].idx + len(doc[-1].text_with_ws) if len(doc) else 0
    if cached is None or len(cached) and cached[-1][1] != length:
        cached = [(s.start_char, s.end_char) for s in doc.sents] if len(doc) else []
        doc.user_data[key] = cached
    return cached


_OPEN = {"“": "”", "«": "»", "„": "“"}


def quote_regions(text: str) -> list[tuple[int, int]]:
    """Character ranges inside quotation marks (curly or straight), paragraph by paragraph.

    An opening mark with no closing one in its paragraph runs to the paragraph's end
    (news style leaves the closing mark off every paragraph of a long quote but the last).
    """
    out: list[tuple[int, int]] = []
    for para in re.finditer(r"[^\n]+", text):
        p0, chunk = para.start(), para.group()
        i, n = 0, len(chunk)
        while i < n:
            ch = chunk[i]
            if ch in _OPEN:
                j = chunk.find(_OPEN[ch], i + 1)
                end = n if j < 0 else j + 1
                out.append((p0 + i, p0 + end))
                i = end
                continue
            if ch == '"' and (i == 0 or not chunk[i - 1].isalnum()):
                j = chunk.find('"', i + 1)
                end = n if j < 0 else j + 1
                out.append((p0 + i, p0 + end))
                i = end
                continue
            i += 1
    return out


class _DocContext:
    """Lookups built once per document."""

    def __init__(self, doc, attributions: tuple[Attribution, ...]) -> None:
        self.doc = doc
        self.text = doc.text
        if len(doc):
            from spacy.attrs import IDX, LENGTH

            arr = doc.to_array([IDX, LENGTH])
            self.starts = arr[:, 0].tolist()
            self.ends = (arr[:, 0] + arr[:, 1]).tolist()
        else:
            self.starts, self.ends = [], []
        self.attributions = attributions
        # quotations (by their marks): a speaker's antecedent is never inside one
        self.quoted = quote_regions(self.text)
        self.quote_starts = [q[0] for q in self.quoted]
        self.contents = sorted((x.start, x.end, j) for j, a in enumerate(attributions) for x in a.content)
        self.content_starts = [c[0] for c in self.contents]
        self.ent_of: dict[int, Any] = {}
        self.ents = list(doc.ents)
        for ent in self.ents:
            for i in range(ent.start, ent.end):
                self.ent_of[i] = ent
        self.sent_bounds = sentence_bounds(doc)
        self.sent_starts = [b[0] for b in self.sent_bounds]
        self.titles = self._person_titles()
        self.outlet_cache: dict[str, bool] = {}

    def tokens(self, start: int, end: int):
        """Tokens overlapping the characters [start, end)."""
        i, j = bisect_right(self.ends, start), bisect_left(self.starts, end)
        return self.doc[i:j]

    def sentence_of(self, char: int) -> tuple[int, int]:
        """(start, end) characters of the sentence holding ``char``."""
        if not self.sent_bounds:
            return 0, len(self.text)
        k = max(bisect_right(self.sent_starts, char) - 1, 0)
        return self.sent_bounds[k]

    def in_quote(self, start: int, end: int) -> bool:
        """Whether [start, end) lies inside a quotation (the regions do not overlap)."""
        k = bisect_right(self.quote_starts, start) - 1
        return k >= 0 and self.quoted[k][0] <= start and end <= self.quoted[k][1]

    def enclosing(self, index: int, start: int, end: int) -> int | None:
        """The attribution (not ``index``) whose content holds [start, end), innermost first."""
        k = bisect_right(self.content_starts, start)
        best, best_len = None, 10**12
        while k > 0:
            k -= 1
            s, e, j = self.contents[k]
            if s < start - 20000:
                break
            if j != index and s <= start and end <= e and e - s < best_len:
                best, best_len = j, e - s
        return best

    def _person_titles(self) -> dict[str, list[str]]:
        """Surname -> the titles and appositions written with that person anywhere in the text;
        also fills ``person_surnames`` and ``gender_of`` (from honorifics: "Mrs. Clinton")."""
        lex = lexicons()
        out: dict[str, list[str]] = {}
        self.person_surnames: set[str] = set()
        self.first_names: dict[str, set[str]] = {}
        self.gender_of: dict[str, str] = {}
        for ent in self.ents:
            if ent.label_ != "PERSON":
                continue
            key = _surname(ent.text)
            if not key:
                continue
            self.person_surnames.add(key)
            first = _first_name(ent.text)
            if first:
                self.first_names.setdefault(key, set()).add(first)
            if self.in_quote(ent.start_char, ent.end_char):
                continue
            w0 = ent[0].lower_.rstrip(".")
            before = self.doc[ent.start - 1].lower_.rstrip(".") if ent.start > 0 else ""
            g = lex.honorifics.get(w0) or lex.honorifics.get(before)
            if g:
                self.gender_of[key] = g      # an honorific is the surest sign
            elif first and first in lex.first_names:
                self.gender_of.setdefault(key, lex.first_names[first])
            roles = []
            pre = title_before(ent)
            if pre:
                roles.append(pre)
            for child in ent.root.children:
                if child.dep_ == "appos" and child.i >= ent.end:
                    role = appositive_role(child)
                    if role:
                        roles.append(role)
            if roles:
                out.setdefault(key, []).extend((first, r) for r in roles)
        return out

    def roles_of(self, name: str) -> list[str]:
        """Titles and appositions written (outside quotations) with this person's name.
        A surname shared by several first names ("Bill" and "Hillary Clinton") only
        takes the roles written with the same first name."""
        key = _surname(name)
        first = _first_name(name)
        firsts = self.first_names.get(key, set())
        out = []
        for f, r in self.titles.get(key, []):
            if f is not None and first is not None and f == first:
                out.append(r)
            elif f is None and len(firsts) <= 1:
                out.append(r)
            elif first is None and f is not None and len(firsts) <= 1:
                out.append(r)
        return out
