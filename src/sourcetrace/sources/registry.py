"""Assembling the registry: clusters of mentions turned into ``Source`` records (typed,
with channel and hearsay depth) and the attributions linked to them."""
from __future__ import annotations

import dataclasses

from ..model import Source, Span
from .channel import attribution_channel, hearsay_depths
from .classify import _type_cluster
from .context import _DocContext
from .mentions import _Cluster

def _build(ctx: _DocContext, attributions, mentions, clusters, owner):
    text = ctx.text
    depths = hearsay_depths(attributions)
    # sources in order of first mention; clusters without attributions are dropped
    used = sorted({ci for ci in owner.values()},
                  key=lambda ci: min((m.start if m.start >= 0 else (attributions[m.index].cue[0].start if attributions[m.index].cue else 10**9))
                                     for m in clusters[ci].mentions))
    new_id = {ci: k for k, ci in enumerate(used)}
    sources: list[Source] = []
    for ci in used:
        cl = clusters[ci]
        typed = _type_cluster(ctx, cl, attributions)
        idx = sorted(m.index for m in cl.mentions)
        spans = sorted({(m.start, m.end) for m in cl.mentions if m.start >= 0} | set(cl.extra))
        ment = tuple(Span.of(text, s, e) for s, e in spans)
        channels: list[str] = []
        ch_ev: list[str] = []
        for i in idx:
            found = attribution_channel(ctx, attributions[i])
            if found and found[0] not in channels:
                channels.append(found[0])
                ch_ev.append(found[1])
        ev = list(typed.evidence)
        if ch_ev:
            ev.append(("channel", "; ".join(ch_ev)))
        depth = min(depths[i] for i in idx)
        if depth > 1:
            chain = []
            p = attributions[idx[0]].parent
            while p is not None and len(chain) < 10:
                chain.append(p)
                p = attributions[p].parent
            ev.append(("hearsay", f"nested in attribution(s) {chain}: words reported by another source"))
        sources.append(Source(
            id=new_id[ci], name=typed.name, mentions=ment, identity=typed.identity, kind=typed.kind,
            role=typed.role, channel="; ".join(channels) or None, hearsay_depth=depth,
            attributions=tuple(idx), evidence=tuple(ev)))
    out = []
    fullest: dict[int, Span | None] = {}
    for i, a in enumerate(attributions):
        ci = owner.get(i)
        if ci is None:
            out.append(a)
            continue
        src = sources[new_id[ci]]
        if ci not in fullest:
            fullest[ci] = _fullest_span(ctx, clusters[ci], src)
        speaker_span = fullest[ci]
        out.append(dataclasses.replace(
            a, speaker=None if src.identity == "unspecified" and src.name == "unspecified" else src.name,
            speaker_span=speaker_span if speaker_span is not None else a.speaker_span,
            source_id=src.id))
    return tuple(out), tuple(sources)


def _fullest_span(ctx: _DocContext, cl: _Cluster, src: Source) -> Span | None:
    """The fullest mention of a source: the longest named (else described) mention,
    extended over an apposition that follows it."""
    ms = [m for m in cl.mentions if m.form in {"name", "nominal"} and m.start >= 0]
    if not ms:
        if cl.extra:
            s, e = cl.extra[0]
            return Span.of(ctx.text, s, e)
        pron = [m for m in cl.mentions if m.start >= 0]
        return Span.of(ctx.text, pron[0].start, pron[0].end) if pron else None
    named = [m for m in ms if m.form == "name"] or ms
    best = max(named, key=lambda m: (m.end - m.start, -m.start))
    s, e = best.start, best.end
    if best.full:
        s, e = min(s, best.full[0]), max(e, best.full[1])
    return Span.of(ctx.text, s, e)
