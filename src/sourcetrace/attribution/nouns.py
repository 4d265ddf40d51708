"""Noun cues: "X's claim that ...", "her decision to ...", "his attack on ...",
"There are reports, too, of ...".

The cue is the noun, with the preposition of a prepositional frame (for "there are
reports" the whole phrase from "There" up to "of"); the source is the possessor or a
"by"/"from" phrase when there is one. Frames come from attribution_nouns.txt.
"""
from __future__ import annotations

from .base import Context, Proposal
from .verbs import NO_SOURCE_FACTOR, content_span, mention_span, token_spans

# the rule names its proposals carry (each has a priority in base.PRIORITY)
RULE_NAMES = ("there_are_reports", "noun_cue")


def _clause(noun):
    for c in noun.children:
        if c.dep_ in ("acl", "ccomp") and c.i > noun.i and any(
                g.dep_ == "mark" and g.lower_ == "that" for g in c.children):
            return c
    return None


def _of_object(tok, after):
    for c in tok.children:
        if c.dep_ == "prep" and c.lower_ == "of" and c.i > after:
            objs = [g for g in c.children if g.dep_ in ("pobj", "pcomp")]
            if objs:
                return c, objs[0]
    return None, None


def _noun_frame(noun, frames):
    """(frame, content head, preposition) of a noun cue: "claim that ..." (that),
    "decision to ..." (to), "attack on ..." (prep-on: the preposition joins the cue)."""
    for c in noun.children:
        if c.dep_ in ("acl", "ccomp", "relcl") and c.i > noun.i:
            marks = {g.lower_ for g in c.children if g.dep_ in ("mark", "aux")}
            if "that" in marks and c.dep_ != "relcl" and ("that" in frames or "that-nosource" in frames):
                return "that", c, None
            if "to" in marks and c.dep_ != "relcl" and ("to" in frames or "to-nosource" in frames):
                return "to", c, None
    for c in noun.children:
        if c.dep_ == "prep" and c.i == noun.i + 1:
            key = f"prep-{c.lower_}"
            if key in frames or f"{key}-nosource" in frames:
                objs = [g for g in c.children if g.dep_ in ("pobj", "pcomp")]
                if objs:
                    return key, objs[0], c
    return None, None, None


def _noun_source(ctx: Context, noun):
    for c in noun.children:
        if c.dep_ == "poss" and c.lower_ not in ("its", "their", "his", "her", "our", "my", "your"):
            return mention_span(ctx, c)
        if c.dep_ == "poss":
            return (c.idx, c.idx + len(c))
    for c in noun.children:
        if c.dep_ == "prep" and c.lower_ in ("by", "from") and c.i > noun.i:
            objs = [g for g in c.children if g.dep_ == "pobj"]
            if objs:
                return mention_span(ctx, objs[0])
    return None


def propose(ctx: Context) -> list[Proposal]:
    doc = ctx.doc
    lex = ctx.lex
    out = []
    for i in ctx.with_lemma(lex.hashes["nouns"]):
        tok = doc[i]
        if tok.i in ctx.bad_tokens or tok.i in ctx.claimed:
            continue
        # There are (widespread) reports (, too,) of / that ...
        if tok.dep_ == "expl" and tok.lower_ == "there" and tok.head.lemma_ == "be":
            be = tok.head
            nouns = [c for c in be.children if c.dep_ in ("attr", "nsubj") and c.i > be.i]
            if not nouns:
                continue
            noun = nouns[0]
            entry = lex.nouns.get(noun.lemma_.lower())
            if entry is None or "there" not in entry.frames:
                continue
            prep, obj = _of_object(noun, noun.i)
            if obj is None:
                prep, obj = _of_object(be, noun.i)
            clause = _clause(noun) if obj is None else None
            if obj is None and clause is None:
                continue
            comp = obj if obj is not None else clause
            end_tok = prep if prep is not None else noun
            span = content_span(ctx, [comp], set(range(tok.i, end_tok.i + 1)))
            if span is None:
                continue
            ids = tuple(range(tok.i, end_tok.i + 1))
            ctx.claimed.update(ids)
            out.append(Proposal(cue=[(tok.idx, end_tok.idx + len(end_tok))], content=[span],
                                kind="indirect", rule="there_are_reports",
                                confidence=entry.conf("there"), cue_tokens=ids))
            continue
        if tok.pos_ not in ("NOUN", "PROPN"):
            continue
        entry = lex.nouns.get(tok.lemma_.lower())
        if entry is None:
            continue
        frame, comp, prep = _noun_frame(tok, entry.frames)
        if frame is None:
            continue
        ids = [tok.i] + ([prep.i] if prep is not None else [])
        span = content_span(ctx, [comp], set(ids))
        if span is None:
            continue
        source = _noun_source(ctx, tok)
        if source is not None:
            confidence = entry.conf(frame)
        else:  # PolNeAR marks some noun cues without a source ("complaints that ...")
            confidence = entry.frames.get(f"{frame}-nosource", entry.conf(frame) * NO_SOURCE_FACTOR)
        ctx.claimed.update(ids)
        out.append(Proposal(cue=token_spans(ctx, ids), content=[span],
                            source=[source] if source else [], kind="indirect", rule="noun_cue",
                            confidence=confidence, speaker=source, cue_tokens=tuple(ids)))
    return out
