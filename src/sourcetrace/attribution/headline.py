"""Headlines in title case ("Ben Carson Slams Hillary And The Media"), which the
parser reads as one long proper name: the first word after the source that is an
inflected cue verb of the lexicon ("Says", "Slams", "Endorsed") is the cue, the
words before it the source, the rest of the line the content. Headlines the parser
reads well go through the ordinary rules; "X: Y" headlines through colon.py.
"""
from __future__ import annotations

import re

from .base import Context, Proposal

# the rule names its proposals carry (each has a priority in base.PRIORITY)
RULE_NAMES = ("headline_verb",)

_WORD = re.compile(r"[A-Za-z][\w’'.-]*")
_SMALL = {"a", "an", "the", "of", "to", "in", "on", "for", "and", "or", "at", "by", "with", "as",
          "is", "but", "from", "vs", "vs."}
_CUE_ADVERBS = {"just", "also", "now", "again", "finally", "reportedly", "quietly", "secretly",
                "publicly", "openly", "repeatedly", "still"}
MAX_SOURCE_WORDS = 7


def inflections(lemma: str) -> set[str]:
    """Third person and past forms of a regular verb."""
    forms = set()
    if lemma.endswith(("s", "sh", "ch", "x", "z")):
        forms.add(lemma + "es")
    elif lemma.endswith("y") and len(lemma) > 2 and lemma[-2] not in "aeiou":
        forms.update({lemma[:-1] + "ies", lemma[:-1] + "ied"})
    else:
        forms.add(lemma + "s")
    if lemma.endswith("e"):
        forms.add(lemma + "d")
    elif not lemma.endswith("y") or lemma[-2] in "aeiou":
        forms.add(lemma + "ed")
    return forms


def cue_forms(ctx: Context) -> dict[str, str]:
    """Inflected form -> lemma, for the verbs of the lexicon (cached on the lexicon object)."""
    cached = getattr(ctx.lex, "_headline_forms", None)
    if cached is not None:
        return cached
    forms: dict[str, str] = {}
    for lemma, entry in ctx.lex.verbs.items():
        if entry.confidence < 0.5:
            continue
        for f in inflections(lemma):
            forms.setdefault(f, lemma)
    for pair in ctx.lex.word_set("irregular"):
        form, _, lemma = pair.partition(":")
        if lemma in ctx.lex.verbs:
            forms[form] = lemma
    object.__setattr__(ctx.lex, "_headline_forms", forms)
    return forms


def _title_case(words: list[str]) -> bool:
    content = [w for w in words if w.lower() not in _SMALL]
    if len(content) < 3:
        return False
    return sum(w[0].isupper() for w in content) >= 0.8 * len(content)


def propose(ctx: Context) -> list[Proposal]:
    end = ctx.first_line_end
    line = ctx.text[:end]
    if not line.strip() or ctx.in_boilerplate(0, end) or ":" in line:
        return []
    words = list(_WORD.finditer(line))
    if not _title_case([w.group() for w in words]):
        return []
    forms = cue_forms(ctx)
    for k, w in enumerate(words[1:MAX_SOURCE_WORDS + 1], start=1):
        form = w.group().lower()
        if form not in forms or not w.group()[0].isupper():
            continue
        if ctx.quote_at(w.start()) is not None:
            return []
        cue_start, cue_end = w.start(), w.end()
        if words[k - 1].group().lower() in _CUE_ADVERBS and k > 1:
            cue_start = words[k - 1].start()  # "Obama Just Announced ..."
        source = ctx.trim(0, cue_start)
        content = ctx.trim(cue_end, end)
        cs, ce = content
        while ce > cs and ctx.text[ce - 1] in ". ":
            ce -= 1
        if ce - cs < 3 or source[1] <= source[0]:
            return []
        lo, hi = ctx.token_range(cue_start, cue_end)
        if any(i in ctx.claimed for i in range(lo, hi)):
            return []
        ctx.claimed.update(range(lo, hi))
        return [Proposal(cue=[(cue_start, cue_end)], content=[(cs, ce)], source=[source],
                         kind="direct" if ctx.quote_at(cs) else "indirect", rule="headline_verb",
                         confidence=0.7, speaker=source, cue_tokens=tuple(range(lo, hi)))]
    return []
