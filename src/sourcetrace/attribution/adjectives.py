"""Stance adjectives: "Trump allies were hopeful that ...", "eager to ...",
"Some top Democrats are openly skeptical about ...". The cue is the adjective with
its copula, negation and adverbs (and the preposition of a phrasal frame), the
source the copula's subject (or the noun an attributive adjective qualifies).
"""
from __future__ import annotations

from .base import Context, Proposal
from .verbs import (
    NO_SOURCE_FACTOR,
    _LEFT_DEPS,
    _NOT_IN_CUE,
    content_span,
    cue_token_ids,
    mention_span,
    subject,
    token_spans,
)

# the rule names its proposals carry (each has a priority in base.PRIORITY)
RULE_NAMES = ("made_clear", "adjective")

_DEPS = {"acomp", "amod", "conj", "ROOT", "advcl", "ccomp", "xcomp", "oprd"}


def _frame(tok, frames):
    for c in tok.children:
        if c.dep_ in ("ccomp", "xcomp") and c.dep_ in frames:
            return c.dep_, c, None
    for c in tok.children:
        if c.dep_ == "prep" and c.i > tok.i and f"prep-{c.lower_}" in frames:
            objs = [g for g in c.children if g.dep_ in ("pobj", "pcomp")]
            if objs:
                return f"prep-{c.lower_}", objs[0], c
    return None, None, None


def _cue_ids(tok, prep) -> list[int]:
    ids = [tok.i]
    head = tok.head if tok.dep_ == "acomp" else None
    left = {c.i for c in tok.children if c.i < tok.i and c.dep_ in _LEFT_DEPS | {"npadvmod"}
            and c.lower_ not in _NOT_IN_CUE}
    if head is not None and head.i < tok.i and head.lemma_ == "be":
        left.add(head.i)
        left.update(c.i for c in head.children if c.i < tok.i and c.dep_ in _LEFT_DEPS
                    and c.lower_ not in _NOT_IN_CUE)
    i = tok.i - 1
    while i in left:
        ids.append(i)
        i -= 1
    if prep is not None:
        ids.append(prep.i)
    return sorted(ids)


def _made_clear(ctx: Context, tok) -> Proposal | None:
    """"He made (it) clear that ...": the cue runs from the verb to the adjective."""
    verb = tok.head
    if verb.lemma_ != "make" or verb.i > tok.i or tok.i - verb.i > 3 or verb.i in ctx.claimed:
        return None
    comp = next((c for c in list(verb.children) + list(tok.children)
                 if c.dep_ == "ccomp" and c.i > tok.i), None)
    if comp is None:
        return None
    ids = sorted(set(cue_token_ids(verb)) | set(range(verb.i, tok.i + 1)))
    span = content_span(ctx, [comp], set(ids))
    if span is None:
        return None
    source, speaker = subject(ctx, verb)
    ctx.claimed.update(ids)
    return Proposal(cue=token_spans(ctx, ids), content=[span], source=[source] if source else [],
                    kind="indirect", rule="made_clear",
                    confidence=0.8 if source else 0.8 * NO_SOURCE_FACTOR, speaker=speaker,
                    cue_tokens=tuple(ids))


def propose(ctx: Context) -> list[Proposal]:
    out = []
    adjectives = ctx.lex.adjectives
    made = ctx.lex.word_set("made_adjectives")
    for i in ctx.with_lemma(ctx.lex.hashes["adjectives"]):
        tok = ctx.doc[i]
        if tok.lower_ in made and tok.i not in ctx.claimed:
            p = _made_clear(ctx, tok)
            if p is not None:
                out.append(p)
                continue
        if tok.pos_ != "ADJ" or tok.dep_ not in _DEPS or tok.i in ctx.claimed or tok.i in ctx.bad_tokens:
            continue
        entry = adjectives.get(tok.lemma_.lower())
        if entry is None:
            continue
        frame, comp, prep = _frame(tok, entry.frames)
        if frame is None:
            continue
        cue_ids = _cue_ids(tok, prep)
        span = content_span(ctx, [comp], set(cue_ids))
        if span is None:
            continue
        if tok.dep_ == "amod" and tok.head.pos_ in ("NOUN", "PROPN"):
            source = speaker = mention_span(ctx, tok.head, {t.i for t in tok.subtree})
        elif tok.dep_ == "acomp" or tok.dep_ == "ROOT":
            source, speaker = subject(ctx, tok.head if tok.dep_ == "acomp" else tok)
        else:
            source, speaker = subject(ctx, tok)
        if source is not None and source[0] < span[1] and span[0] < source[1]:
            continue
        ctx.claimed.update(cue_ids)
        out.append(Proposal(cue=token_spans(ctx, cue_ids), content=[span],
                            source=[source] if source else [], kind="indirect", rule="adjective",
                            confidence=entry.conf(frame) * (1.0 if source else NO_SOURCE_FACTOR),
                            speaker=speaker, cue_tokens=tuple(cue_ids)))
    return out
