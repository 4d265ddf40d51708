"""Direct quotations and their cues.

    "A," she said.                      cue after the quotation (tail)
    "A," she said, "B."                 one attribution, two content fragments
    "A," said Bob. "B."                 a quotation that follows in the paragraph continues it
    She added: "A."                     cue-colon-quote (head), also across a paragraph break
    "A," he said, adding "B."           the participle takes the second quotation
"""
from __future__ import annotations

import bisect

from .base import Context, Proposal
from .quotes import Quote
from .headline import cue_forms
from .verbs import cue_token_ids, is_cue_verb, mention_span, subject, token_spans

# the rule names its proposals carry (each has a priority in base.PRIORITY)
RULE_NAMES = ("quote+speech_verb", "cue_colon_quote")

_STARTERS = set(".!?:;\n—–-\"“”'’‘(")
MAX_TAIL_GAP = 14   # tokens between a quotation and its tail cue
MIN_HEAD_QUOTE_WORDS = 4
MAX_HEAD_GAP = 12  # tokens between a cue and the quotation after it
MIN_SINGLE_QUOTE_WORDS = 3  # a quotation after its cue is a quotation, not a scare quote


def _starts_clause(ctx: Context, q: Quote) -> bool:
    i = q.start - 1
    text = ctx.text
    while i >= 0 and text[i] in " \t":
        i -= 1
    return i < 0 or text[i] in _STARTERS or text[i] == ","


def _quote_cue_ok(entry) -> bool:
    """A verb may take a direct quotation if PolNeAR shows it does, or if it takes a
    clause as its content with a good confidence ("read", "insisted")."""
    return "quote" in entry.frames or entry.frames.get("ccomp", 0.0) >= 0.9


def _tail_entry(ctx: Context, tok):
    """The lexicon entry of a tail cue: a cue verb, or a verb form the tagger took
    for a noun ('"...," the two write.', '"...," Conway notes.')."""
    entry = is_cue_verb(tok, ctx)
    if entry is None and tok.pos_ in ("NOUN", "PROPN"):
        lemma = cue_forms(ctx).get(tok.lower_) or (tok.lower_ if tok.tag_ == "NN" else None)
        entry = ctx.lex.verbs.get(lemma) if lemma else None
        nxt = tok.nbor(1) if tok.i + 1 < len(tok.doc) else None
        if nxt is not None and not (nxt.is_punct or nxt.is_space):
            return None  # a noun in running text, not a verb closing the cue clause
    return entry if entry is not None and _quote_cue_ok(entry) else None


def _tail_cue(ctx: Context, q: Quote, stop: int):
    """The cue verb right after a quotation, with only its subject (or words of its
    own subtree) and punctuation between; returns (verb, fallback source span)."""
    doc = ctx.doc
    i, _ = ctx.token_range(q.end, q.end)
    n = len(doc)
    seen = []
    while i < n and doc[i].idx < stop and len(seen) <= MAX_TAIL_GAP:
        tok = doc[i]
        if "\n" in tok.text:
            return None, None
        entry = _tail_entry(ctx, tok) if tok.i not in ctx.claimed else None
        if entry is not None:
            inside = {t.i for t in tok.subtree}
            if all(t.is_punct or t.is_space or (t.i in inside and t.pos_ not in ("VERB", "AUX")
                                                 or t.dep_ in ("aux", "neg", "advmod"))
                   for t in seen):
                words = [t for t in seen if not (t.is_punct or t.is_space)]
                fallback = ctx.trim_tokens(words[0].i, words[-1].i) if words else None
                return tok, fallback
            return None, None
        if tok.pos_ == "VERB" and tok.dep_ != "amod":
            return None, None
        seen.append(tok)
        i += 1
    return None, None


def _head_cue(ctx: Context, q: Quote, start: int):
    """The cue verb right before a quotation ("She added:", "Trump told reporters,")."""
    doc = ctx.doc
    lo, hi = ctx.token_range(start, q.start)
    if hi <= lo:
        return None
    toks = doc[lo:hi]
    last = toks[-1]
    if not (last.text in (":", ",", "—", "–") or last.i in range(lo, hi)):
        return None
    for tok in reversed(toks):
        entry = is_cue_verb(tok, ctx)
        if entry is not None and _quote_cue_ok(entry) and tok.i not in ctx.claimed:
            between = doc[tok.i + 1:hi]
            allowed = {t.i for c in tok.children if c.dep_ in ("dobj", "dative", "prep", "npadvmod",
                                                              "advmod", "prt", "agent", "nsubj")
                       for t in c.subtree}
            # the words between are the verb's own (an addressee: "told Fox host Matt
            # Boyle,"), however the parser hung them, but never another verb
            own = len(between) <= MAX_HEAD_GAP and not any(t.pos_ in ("VERB", "AUX") for t in between)
            if all(t.is_punct or t.is_space or t.i in allowed for t in between) or own:
                if between and between[-1].text not in (":", ",", "—", "–") and len(between) > 0:
                    return None
                return tok
            return None
        if tok.pos_ == "VERB" and tok.dep_ not in ("amod", "acl", "relcl"):
            return None
    return None


def _continuations(ctx: Context, quotes: list[Quote], k: int, after: int) -> list[Quote]:
    """Quotations after ``quotes[k]`` in the same paragraph that carry no cue of their own."""
    out = []
    _, para_end = ctx.paragraph(quotes[k].start)
    for q in quotes[k + 1:]:
        if q.start >= para_end:
            break
        if q.start < after:
            continue
        gap = ctx.text[after:q.start]
        if gap.strip(" ,.;—–-") and not _starts_clause(ctx, q):
            break
        if gap.strip(" ,.;—–-"):
            # something sits between: only a sentence break may (the quote starts a sentence)
            break
        tail, _ = _tail_cue(ctx, q, para_end)
        if tail is not None:
            break
        out.append(q)
        after = q.end
    return out


def propose(ctx: Context) -> list[Proposal]:
    out: list[Proposal] = []
    # single-quoted passages count as quotations when they read like one (British
    # style: 'We won,' she said), not for a scare-quoted word or two
    quotes = [q for q in ctx.quotes
              if not q.single or len(ctx.text[q.start:q.end].split()) >= MIN_SINGLE_QUOTE_WORDS]
    used: set[int] = set()
    # quotes are in text order: the next start by bisection, the previous end from the
    # running maximum (a scan only where an earlier quote overlaps), so that thousands
    # of quotes cost linear time
    starts = [x.start for x in quotes]
    max_end = [0]
    for x in quotes:
        max_end.append(max(max_end[-1], x.end))
    for k, q in enumerate(quotes):
        if q.start in used or not _starts_clause(ctx, q):
            continue
        para_start, para_end = ctx.paragraph(q.start)
        j = bisect.bisect_right(starts, q.end, k + 1)
        stop = min(starts[j], para_end) if j < len(quotes) else para_end
        verb, fallback = _tail_cue(ctx, q, stop)
        rule = "quote+speech_verb"
        if verb is None:
            if len(ctx.text[q.start:q.end].split()) < MIN_HEAD_QUOTE_WORDS:
                continue  # "... called it "Playbook," ...": a scare quote, not a quotation
            if max_end[k] <= q.start:
                prev_end = max(max_end[k], para_start)
            else:
                prev_end = max([x.end for x in quotes[:k] if x.end <= q.start] + [para_start])
            verb = _head_cue(ctx, q, prev_end)
            if verb is None and para_start == q.start and para_start > 0:
                # cue-colon at the end of the previous paragraph
                prev = ctx.text[:para_start].rstrip()
                if prev.endswith(":"):
                    ps, _ = ctx.paragraph(len(prev) - 1)
                    if max_end[k] <= len(prev):
                        last = max(max_end[k], ps)
                    else:
                        last = max([x.end for x in quotes[:k] if ps <= x.end <= len(prev)] + [ps])
                    verb = _head_cue(ctx, Quote(len(prev), len(prev) + 1), last)
            if verb is None:
                continue
            rule = "cue_colon_quote"
        cue_ids = cue_token_ids(verb, channel=ctx.lex.word_set("cue_channel_nouns"))
        ctx.claimed.update(cue_ids)
        source, speaker = subject(ctx, verb)
        if source is None and rule == "quote+speech_verb":
            after = [c for c in verb.children if c.i > verb.i and c.dep_ in ("dobj", "attr", "npadvmod")]
            if after:  # '"...," read the statement.'
                source = speaker = mention_span(ctx, after[0])
            elif fallback is not None:
                source = speaker = fallback  # '"...," the two write.'
        content = [q]
        if rule == "quote+speech_verb":
            after = max(verb.idx + len(verb), max((ctx.doc[i].idx + len(ctx.doc[i]) for i in cue_ids)))
            # the end of the cue clause: its subject may follow the verb ("said Bob")
            for c in verb.children:
                if c.dep_ in ("nsubj", "nsubjpass", "dobj", "dative", "prep", "npadvmod", "advmod") and c.i > verb.i:
                    after = max(after, c.right_edge.idx + len(c.right_edge))
            content += _continuations(ctx, quotes, k, after)
        else:
            content += _continuations(ctx, quotes, k, q.end)
        for c in content:
            used.add(c.start)
        out.append(Proposal(
            cue=token_spans(ctx, cue_ids), content=[(c.start, c.end) for c in content],
            source=[source] if source else [], kind="direct", rule=rule,
            confidence=0.9 if rule == "quote+speech_verb" else 0.85,
            speaker=speaker, cue_tokens=tuple(cue_ids), shares_subject=source is None))
    return out
