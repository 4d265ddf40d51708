"""Assembling the registry: clusters of mentions turned into ``Source`` records (typed,
with channel and hearsay depth) and the attributions linked to them."""
from __future__ import annotations

import dataclasses

from ..model import Source, Span
from .channel import attribution_channel, hearsay_depths
from .classify import _type_cluster
from .context import _DocContext
from .entities import entity_key
from .mentions import _Cluster
from .names import _first_name, _surname
from .wordlists import lexicons

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
        passed = tuple(Span.of(text, s, e) for s, e in sorted(set(spans) | set(cl.chain)))
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
        if cl.notes:
            ev.append(("resolution", "; ".join(cl.notes)))
        referred, why = _referred_as(ctx, cl, typed.identity)
        if why:
            ev.append(("referred_as", why))
        sources.append(Source(
            id=new_id[ci], name=typed.name, mentions=ment, identity=typed.identity, kind=typed.kind,
            role=typed.role, channel="; ".join(channels) or None, hearsay_depth=depth,
            attributions=tuple(idx), evidence=tuple(ev), referred_as=referred,
            entity=_entity_of(cl, typed), chain=passed))
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


def _entity_of(cl: _Cluster, typed) -> tuple | None:
    """The source's entity key within the corpus (``entities.entity_key``), or None."""
    author = ("outlet" if cl.plural else "author") if cl.form == "author" else None
    person = cl.form == "person" or (typed.kind in {"person", "official", "organization", "media"}
                                     and bool(cl.surname))
    found = entity_key(typed.name, typed.identity, person=person, author=author)
    if found is None:
        return None
    key, name = found
    return (("key", key), ("name", name))


def _referred_as(ctx: _DocContext, cl: _Cluster, identity: str | None) -> tuple[str | None, str]:
    """How the article refers to a person: "she", "he" or "they" from its own pronouns
    resolved to the source and honorifics written with the name ("Ms Thomas"), with the
    evidence; None when the text does not say (never guessed from a first name)."""
    if cl.form not in {"person", "unresolved"} and not cl.surname or identity == "unspecified" or cl.plural:
        return None, ""
    text = ctx.text
    found: list[tuple[str, str]] = []
    for m in cl.mentions:
        if m.form == "pronoun" and m.start >= 0:
            low = m.head.lower_ if m.head is not None else ""
            value = {"he": "he", "him": "he", "his": "he", "she": "she", "her": "she", "hers": "she",
                     "they": "they", "them": "they", "their": "they"}.get(low)
            if value:
                found.append((value, f"pronoun {text[m.start:m.end]!r} at {m.start}"))
    if cl.surname:
        honor = lexicons().honorifics
        for ent in ctx.ents:
            if ent.label_ != "PERSON" or _surname(ent.text) != cl.surname:
                continue
            first, own = _first_name(ent.text), _first_name(cl.name)
            if (first and own and first != own) or (not first and len(ctx.first_names.get(cl.surname, ())) > 1):
                continue      # "Bill Clinton" beside "Hillary Clinton": not this one's honorific
            words = [ent[0].lower_.rstrip(".")]
            if ent.start > 0:
                words.append(ctx.doc[ent.start - 1].lower_.rstrip("."))
            g = next((honor[w] for w in words if w in honor), None)
            if g in {"m", "f"}:
                found.append(("he" if g == "m" else "she",
                              f"honorific in {text[max(0, ent.start_char - 5):ent.end_char].strip()!r} at {ent.start_char}"))
                break
    if not found:
        return None, ""
    values = {v for v, _ in found}
    if len(values) > 1:
        return None, "the text refers to this source as " + " and ".join(sorted(values)) + ": " + "; ".join(w for _, w in found[:3])
    return found[0][0], "; ".join(w for _, w in found[:3])
