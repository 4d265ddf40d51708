"""A colon as the cue: headlines ("Trump: 'I'm the Worst Thing ...'") and
transcripts ("WALLACE: And what about ..."). The label before the colon is the
source, the rest of the line (title) or paragraph (transcript) the content.
"""
from __future__ import annotations

import re

from .base import Context, Proposal

# the rule names its proposals carry (each has a priority in base.PRIORITY)
RULE_NAMES = ("headline_colon", "transcript_colon")

_LABEL = re.compile(r"[ \t]*([^:\n]{2,60}?)[ \t]*:[ \t]+(?=\S)")
_MAX_LABEL_WORDS = 6
_SOURCE_ENTS = {"PERSON", "ORG", "NORP", "GPE"}


def _label_ok(ctx: Context, s: int, e: int, transcript: bool) -> bool:
    label = ctx.text[s:e]
    words = label.split()
    if not words or len(words) > (4 if transcript else _MAX_LABEL_WORDS):
        return False
    if label.upper() in ctx.lex.word_set("colon_not_source") or words[0].upper() in ctx.lex.word_set(
            "colon_not_source"):
        return False
    if any(ch.isdigit() for ch in label) or label[0].islower():
        return False
    lo, hi = ctx.token_range(s, e)
    toks = ctx.doc[lo:hi]
    if any(t.pos_ in ("VERB", "AUX") and t.tag_ not in ("VBN",) and not t.text[0].isupper() for t in toks):
        return False
    if not label[0].isalpha():
        return False
    if transcript:
        return label.isupper()  # "WALLACE:", "MR. TRUMP:"
    # a headline label names a source: a person, organisation or group, or a source noun
    named = any(t.ent_type_ in _SOURCE_ENTS for t in toks)
    noun = words[-1].lower().rstrip(".") in ctx.lex.word_set("source_nouns")
    surname = len(words) == 1 and words[0][0].isupper()  # "Issa: ..."
    return named or noun or surname


def _proposal(ctx: Context, s: int, e: int, colon: int, c_end: int, rule: str, conf: float):
    content = ctx.trim(colon + 1, c_end)
    cs, ce = content
    if rule == "headline_colon" and ctx.text[cs:ce].rstrip(" .").endswith("?"):
        return None  # "Ted Cruz: Constitutional conservative or career politician?"
    while ce > cs and ctx.text[ce - 1] in ". ":
        ce -= 1
    if ce - cs < 3:
        return None
    lo, hi = ctx.token_range(colon, colon + 1)
    return Proposal(cue=[(colon, colon + 1)], content=[(cs, ce)], source=[(s, e)], kind="direct"
                    if ctx.quote_at(cs) else "indirect", rule=rule, confidence=conf, speaker=(s, e),
                    cue_tokens=tuple(range(lo, hi)))


def propose(ctx: Context) -> list[Proposal]:
    out = []
    text = ctx.text
    # the headline (first line)
    m = _LABEL.match(text, 0, ctx.first_line_end)
    if m and not ctx.in_boilerplate(0, ctx.first_line_end):
        s, e = m.span(1)
        if _label_ok(ctx, s, e, transcript=False):
            p = _proposal(ctx, s, e, text.index(":", e), ctx.first_line_end, "headline_colon", 0.7)
            if p:
                out.append(p)
    # transcript speakers at the start of a paragraph
    pos = ctx.first_line_end
    while True:
        nl = text.find("\n", pos)
        if nl < 0:
            break
        start = nl + 1
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        pos = start
        if end - start < 4:
            continue
        m = _LABEL.match(text, start, end)
        if not m or ctx.in_boilerplate(start, end):
            continue
        s, e = m.span(1)
        if ctx.quote_at(s) is not None or not _label_ok(ctx, s, e, transcript=True):
            continue
        p = _proposal(ctx, s, e, text.index(":", e), end, "transcript_colon", 0.7)
        if p:
            out.append(p)
    return out
