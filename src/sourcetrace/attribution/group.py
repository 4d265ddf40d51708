"""Grouping proposals into attributions: conflicts, floating quotes, nesting, order.

``assemble(ctx, proposals)`` is the one entry point every proposer feeds, the
rules of this package today and a learned span tagger later: give it
``base.Proposal`` records (character spans for cue, source, content; a rule
name and a confidence) and it returns the final ``model.Attribution`` tuple.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right, insort

from ..model import Attribution, Span
from .base import PRIORITY, CharSpan, Context, Proposal
from .direct import _starts_clause


# Proposals below this confidence are dropped (see NO_SOURCE_FACTOR in verbs.py).
MIN_CONFIDENCE = 0.25


def _overlaps(a: CharSpan, b: CharSpan) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _inside(a: CharSpan, b: CharSpan) -> bool:
    return b[0] <= a[0] and a[1] <= b[1]


def _clip_boilerplate(ctx: Context, spans: list[CharSpan]) -> list[CharSpan]:
    out = []
    for s, e in spans:
        for bs, be in ctx.boilerplate:
            if bs < e and s < be:
                if s < bs:
                    e = bs
                else:
                    s = max(s, be)
        s, e = ctx.trim(s, e)
        if e > s:
            out.append((s, e))
    return out


class _SpanIndex:
    """Which proposals have a span covering or overlapping a position: spans sorted by
    start, searched back only as far as the longest span reaches (near-linear)."""

    def __init__(self, items: list[tuple[int, int, int]]) -> None:
        self.items = sorted(items)
        self.starts = [s for s, _, _ in self.items]
        self.longest = max((e - s for s, e, _ in self.items), default=0)

    def overlapping(self, s: int, e: int) -> set[int]:
        out = set()
        k = bisect_left(self.starts, e)
        while k > 0:
            k -= 1
            ss, ee, owner = self.items[k]
            if ss < s - self.longest:
                break
            if ee > s and ss < e:
                out.add(owner)
        return out

    def covering(self, pos: int) -> set[int]:
        return {o for o in self.overlapping(pos, pos + 1)}


def _content_index(props: list[Proposal]) -> _SpanIndex:
    return _SpanIndex([(s, e, i) for i, p in enumerate(props) for s, e in p.content])


def _resolve_conflicts(props: list[Proposal]) -> list[Proposal]:
    """Where two proposals claim the same cue characters, the higher priority wins."""
    ranked = sorted(props, key=lambda p: (-PRIORITY.get(p.rule, 0), -p.confidence, p.cue_start))
    kept: list[Proposal] = []
    claimed: set[int] = set()
    for p in ranked:
        chars = {i for s, e in p.cue for i in range(s, e)}
        if chars & claimed:
            continue
        claimed |= chars
        kept.append(p)
    return kept


def _attach_floating(ctx: Context, props: list[Proposal]) -> None:
    """A quotation nobody claims, starting a sentence right after a direct or mixed
    attribution or a reported clause ("X said that ...") in the same or the next
    paragraph, with no other cue between, continues it.
    Attributions inside the quotation itself ("I think ...") do not count."""
    if not props:
        return
    contents = _content_index(props)
    outer = [p for i, p in enumerate(props) if not (contents.covering(p.cue_start) - {i})]
    spans = _SpanIndex([(s, e, i) for i, p in enumerate(outer) for s, e in p.content + p.cue + p.source])
    cue_starts = sorted(p.cue_start for p in outer)
    ends = sorted((max(e for _, e in p.content + p.cue + p.source), i) for i, p in enumerate(outer))
    end_keys = [e for e, _ in ends]
    for q in ctx.quotes:
        if q.single or not _starts_clause(ctx, q):
            continue
        span = (q.start, q.end)
        if any(not q.start <= outer[i].cue_start < q.end for i in spans.overlapping(*span)):
            continue
        k = bisect_right(end_keys, q.start)
        if k == 0:
            continue
        last_end, idx = ends[k - 1]
        p = outer[idx]
        if p.kind not in ("direct", "mixed") and p.rule not in ("verb_ccomp", "parenthetical_verb"):
            continue
        j = bisect_left(cue_starts, last_end)
        if j < len(cue_starts) and cue_starts[j] < q.start:
            continue  # another cue stands between
        # a quotation opening the next paragraph follows the whole cue paragraph
        # ("... said in an interview with X.\n\n"...")
        para_start, _ = ctx.paragraph(q.start)
        gap_start = last_end
        if para_start == q.start and para_start > 0:
            _, prev_para_end = ctx.paragraph(last_end - 1)
            if not ctx.text[prev_para_end:q.start].strip():
                gap_start = prev_para_end
        gap = ctx.text[gap_start:q.start]
        if gap.count("\n\n") > 1 or gap.count("\n") > 2:
            continue
        if gap.strip(" \n.,;—–-\"”’"):
            continue  # only whitespace and punctuation may stand between
        p.content.append(span)
        insort(ends, (q.end, idx))
        insort(end_keys, q.end)


def _in_content(p: Proposal, pos: int) -> bool:
    return any(s <= pos < e for s, e in p.content)


def _share_subjects(ctx: Context, props: list[Proposal]) -> None:
    """A cue flagged ``shares_subject`` takes the source of the closest attribution
    before it in the same sentence ("with Kyiv claiming ..., adding that ...")."""
    by_sentence: dict[int, list[Proposal]] = {}
    for p in props:
        if p.cue_tokens:
            by_sentence.setdefault(ctx.sentence(p.cue_tokens[0])[0], []).append(p)
    for p in props:
        if not p.shares_subject or p.source or not p.cue_tokens:
            continue
        same = by_sentence.get(ctx.sentence(p.cue_tokens[0])[0], [])
        pos = p.cue_start
        before = [o for o in same if o is not p and o.source and o.cue_tokens[0] < p.cue_tokens[0]
                  and not any(q is not o and _in_content(q, o.cue_start) and not _in_content(q, pos)
                              for q in same)]
        if before:
            prev = max(before, key=lambda o: o.cue_tokens[0])
            p.source = list(prev.source)
            p.speaker = prev.speaker or prev.source[0]


def _nest(props: list[Proposal]) -> list[int | None]:
    """The parent of each proposal: the smallest one whose content holds its cue."""
    contents = _content_index(props)
    parents: list[int | None] = []
    for i, a in enumerate(props):
        best, best_len = None, None
        for j in contents.covering(a.cue_start) - {i}:
            b = props[j]
            if not any(_inside(c, frag) for c in a.cue for frag in b.content):
                continue
            if any(_inside(c, frag) for c in b.cue for frag in a.content):
                continue
            s, e = b.content_extent()
            if best is None or (e - s, j) < (best_len, best):
                best, best_len = j, e - s
        parents.append(best)
    return parents


def assemble(ctx: Context, proposals: list[Proposal]) -> tuple[Attribution, ...]:
    """Turn proposals into the final, ordered attributions (nested ones with parent)."""
    props = []
    for p in proposals:
        if not p.cue or ctx.in_boilerplate(p.cue_start, max(e for _, e in p.cue)):
            continue
        p.content = _clip_boilerplate(ctx, p.content)
        p.source = _clip_boilerplate(ctx, p.source)
        if p.content:
            props.append(p)
    props = [p for p in props if p.confidence >= MIN_CONFIDENCE]
    props = _resolve_conflicts(props)
    _attach_floating(ctx, props)
    _share_subjects(ctx, props)
    for p in props:
        p.content.sort()
    props.sort(key=lambda p: (min(s for s, _ in p.cue + p.content + p.source), p.cue_start))
    parents = _nest(props)
    text = ctx.text
    out = []
    for p, parent in zip(props, parents):
        out.append(Attribution(
            source=tuple(Span.of(text, s, e) for s, e in p.source),
            cue=tuple(Span.of(text, s, e) for s, e in p.cue),
            content=tuple(Span.of(text, s, e) for s, e in p.content),
            kind=p.kind,
            rule=p.rule,
            confidence=round(float(p.confidence), 3),
            parent=parent,
            speaker_span=Span.of(text, *p.speaker) if p.speaker else None,
        ))
    return tuple(out)
