""""According to X" (the cue is "according to", the source follows it) and "in X's
poll" (the cue is "in", the poll or survey the source).

    "According to a report issued on Telegram, by the Ukrainian military command,
     a large number ... have refused"   source up to the comma before the clause
    "The poll found ..., according to the Post."   content before the phrase
"""
from __future__ import annotations

from .base import Context, Proposal

# the rule names its proposals carry (each has a priority in base.PRIORITY)
RULE_NAMES = ("according_to", "in_source")


def _sentence_bounds(ctx: Context, tok):
    a, b = ctx.sentence(tok.i)
    last = ctx.doc[b - 1]
    ps, pe = ctx.paragraph(tok.idx)
    s, e = max(ctx.doc[a].idx, ps), min(last.idx + len(last), pe)
    # a quotation that runs on past the sentence belongs to the content
    q = ctx.quote_at(e - 1) if e > s else None
    if q is not None and q.end > e:
        e = q.end
    return s, e


def _phrase(ctx: Context, cue_first, cue_last, obj, rule: str, confidence: float):
    """The attribution of a source phrase ("according to X", "in X's poll"): the
    source is the phrase's object, the content the rest of the sentence."""
    doc = ctx.doc
    tok = cue_first
    sent_s, sent_e = _sentence_bounds(ctx, tok)
    src_lo, src_hi = max(obj.left_edge.i, cue_last.i + 1), obj.right_edge.i
    if src_hi < src_lo:
        return None
    if tok.idx <= sent_s + 2 or doc[tok.i - 1].is_punct and doc[tok.i - 1].text in "\"“(":
        # at the start: the content begins at the clause's subject; the source runs to
        # the comma before it ("a report issued on Telegram, by the command, ...")
        head = tok.head
        subj = next((c for c in head.children if c.dep_ in ("nsubj", "nsubjpass", "expl")), None)
        content_lo = subj.left_edge.i if subj is not None and subj.i > src_hi else None
        if content_lo is not None:
            j = content_lo - 1
            while j > src_hi and doc[j].is_punct:
                j -= 1
            src_hi = max(src_hi, j)
            c_start = doc[content_lo].idx
        else:
            k = src_hi + 1
            while k < len(doc) and doc[k].is_punct:
                k += 1
            if k >= len(doc):
                return None
            c_start = doc[k].idx
        content = [ctx.trim_content(c_start, sent_e)]
    else:
        before = ctx.trim(sent_s, tok.idx)
        after_start = doc[src_hi].idx + len(doc[src_hi])
        after = ctx.trim_content(after_start, sent_e)
        content = [c for c in (before, after)
                   if c[1] - c[0] > 1 and ctx.text[c[0]:c[1]].strip(".,;:!? \"”’")]
    content = [c for c in content if c[1] > c[0]]
    if not content:
        return None
    source = ctx.trim_tokens(src_lo, src_hi)
    cue_ids = tuple(range(cue_first.i, cue_last.i + 1))
    ctx.claimed.update(cue_ids)
    kind = "direct" if any(ctx.quote_at(c[0]) and ctx.quote_at(c[0]).end >= c[1] for c in content) else (
        "mixed" if any(ctx.quotes_in(*c) for c in content) else "indirect")
    return Proposal(cue=[(cue_first.idx, cue_last.idx + len(cue_last))], content=content,
                    source=[source], kind=kind, rule=rule, confidence=confidence, speaker=source,
                    cue_tokens=cue_ids)


def propose(ctx: Context) -> list[Proposal]:
    doc = ctx.doc
    out = []
    for i in ctx.with_lower(ctx.lex.hashes["according"]):
        tok = doc[i]
        if tok.lower_ != "according" or tok.i + 1 >= len(doc) or doc[tok.i + 1].lower_ != "to":
            continue
        if tok.i in ctx.bad_tokens or tok.i in ctx.claimed:
            continue
        to = doc[tok.i + 1]
        objs = [c for c in to.children if c.dep_ == "pobj"]
        if objs:
            p = _phrase(ctx, tok, to, objs[0], "according_to", 0.85)
            if p is not None:
                out.append(p)
    # "In an NBC News/Wall Street Journal poll released Monday, 50 percent ..."
    sources = ctx.lex.word_set("in_source_nouns")
    for i in ctx.with_lower(ctx.lex.hashes["in"]):
        tok = doc[i]
        if tok.dep_ != "prep" or tok.i in ctx.bad_tokens or tok.i in ctx.claimed:
            continue
        if tok.head.pos_ not in ("VERB", "AUX"):
            continue
        obj = next((c for c in tok.children if c.dep_ == "pobj"), None)
        if obj is None or obj.lemma_.lower() not in sources:
            continue
        if obj.tag_ != "NN" and not any(c.dep_ == "poss" for c in obj.children):
            continue  # "in the polls", "in national polls": a standing, not a source
        p = _phrase(ctx, tok, tok, obj, "in_source", 0.6)
        if p is not None:
            out.append(p)
    return out
