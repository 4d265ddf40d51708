"""The sourcing profile of one article: how well is it sourced, and by whom?

    build_profile(analysis) -> dict        plain JSON-able; every figure is explained
    relays(parents, voices, writers) -> Relays   hearsay: who relays whom (also the report's)

Hearsay is one voice passing on another's words. Along an attribution's parent chain,
consecutive attributions of the same voice are one voice (a speaker nested in himself,
"Obama said he believes ...", reports his own stance: counted as ``own_stance``, never
as a relay; so is a first person, typed as the writer, inside another's words); attributions with no voice (unspecified) are skipped, and the writer's own
voice at the top of a chain is the article itself, not a relay. A chain is hearsay when
two or more distinct voices remain: another person, or a document or outlet relaying a
person (a different entity).

Every figure is computed from the Analysis alone (attributions, sources,
assertions) and documented in docs/profile.md, with the transparency score's
formula and each of its components. Nothing is learned, nothing is hidden.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Hashable, Mapping

from ..model import IDENTITIES, SOURCE_KINDS

PROFILE_VERSION = 1

#: weight of each identity in the "identity" component (share of attributed text)
IDENTITY_WEIGHTS = {"named": 1.0, "described": 0.5, "anonymous": 0.25, "unspecified": 0.0}

#: the transparency score's components and their weights (they sum to 1)
WEIGHTS = {"identity": 0.35, "sourcing": 0.30, "directness": 0.15, "corroboration": 0.10, "diversity": 0.10}

#: identified distinct sources at which the diversity component is full
DIVERSITY_FULL_AT = 3

#: content words two attributions must share to count as telling the same claim
CORROBORATION_MIN_SHARED = 3

_STOP = frozenset("""
about above after again against also among another because been before being below between both could
does doing down during each even every from further have having here into itself just like made make many
more most much must never only other over same should since some such than that their them then there
these they this those through under until upon very were what when where which while will with would
your said says told according people year years time
""".split())


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9']{4,}", text.lower()) if w not in _STOP}


def _own_chars(analysis) -> list[int]:
    """Characters of each attribution's content not inside a nested attribution's content."""
    atts = analysis.attributions
    children: dict[int, list[int]] = {}
    for i, a in enumerate(atts):
        if a.parent is not None and 0 <= a.parent < len(atts):
            children.setdefault(a.parent, []).append(i)
    out = []
    for i, a in enumerate(atts):
        spans = sorted((s.start, s.end) for s in a.content)
        inner = sorted((s.start, s.end) for c in children.get(i, []) for s in atts[c].content)
        total = 0
        for s, e in spans:
            covered = 0
            cur = s
            for cs, ce in inner:
                if ce <= cur or cs >= e:
                    continue
                cs, ce = max(cs, cur), min(ce, e)
                if ce > cs:
                    covered += ce - cs
                    cur = ce
            total += (e - s) - covered
        out.append(max(total, 0))
    return out


def _share(part: float, whole: float) -> float:
    return round(part / whole, 3) if whole else 0.0


def build_profile(analysis) -> dict[str, Any]:
    """The article's sourcing profile (see docs/profile.md for every field)."""
    atts = analysis.attributions
    own = _own_chars(analysis)
    hearsay = _relays_of(analysis)
    depths = [hearsay.depth.get(i, 1) for i in range(len(atts))]
    top_level = [i for i, a in enumerate(atts) if a.parent is None]
    sources, identified = _source_counts(analysis.sources)
    attributed = _attributed_text(analysis, own, depths)
    assertions = _assertion_counts(analysis, top_level)
    single = _single_source_claims(analysis, top_level)
    return {
        "version": PROFILE_VERSION,
        "sources": sources,
        "attributions": {"total": len(atts), "top_level": len(top_level), "nested": len(atts) - len(top_level)},
        "attributed_text": {k: v for k, v in attributed.items() if k != "direct_chars"},
        "assertions": assertions,
        "hearsay": {"longest_chain": hearsay.longest, "chain": hearsay.chain_names(),
                    "relayed": hearsay.relayed, "own_stance": hearsay.own_stance},
        "single_source_claims": {"count": len(single), "attributions": single},
        "transparency": _transparency(attributed, assertions, top_level, single, identified),
    }


def _source_counts(sources) -> tuple[dict[str, Any], int]:
    """The "sources" section (distinct voices by identity, kind and channel) and how many
    of them are identified (named, described or anonymous)."""
    identity_counts = {k: 0 for k in IDENTITIES}
    kind_counts = {k: 0 for k in SOURCE_KINDS}
    kind_counts["unknown"] = 0
    for s in sources:
        identity_counts[s.identity or "unspecified"] = identity_counts.get(s.identity or "unspecified", 0) + 1
        kind_counts[s.kind or "unknown"] = kind_counts.get(s.kind or "unknown", 0) + 1
    identified = [s for s in sources if s.identity in {"named", "described", "anonymous"}]
    channels = Counter(s.channel for s in sources if s.channel)
    return {
        "distinct": len(identified),
        "total": len(sources),
        "by_identity": identity_counts,
        "by_kind": kind_counts,
        "channels": dict(channels),
    }, len(identified)


def _attributed_text(analysis, own: list[int], depths: list[int]) -> dict[str, Any]:
    """Attributed characters by the identity and kind of their source (each character
    to the innermost attribution), and those heard first-hand (``direct_chars``)."""
    total_chars = sum(own)
    chars_identity = {k: 0 for k in IDENTITIES}
    chars_kind = {k: 0 for k in SOURCE_KINDS}
    chars_kind["unknown"] = 0
    for a, n in zip(analysis.attributions, own):
        src = analysis.source_of(a)
        ident = src.identity if src is not None and src.identity else "unspecified"
        kind = src.kind if src is not None and src.kind else "unknown"
        chars_identity[ident] = chars_identity.get(ident, 0) + n
        chars_kind[kind] = chars_kind.get(kind, 0) + n
    return {
        "chars": total_chars,
        "by_identity": {k: {"chars": v, "share": _share(v, total_chars)} for k, v in chars_identity.items()},
        "by_kind": {k: {"chars": v, "share": _share(v, total_chars)} for k, v in chars_kind.items()},
        "direct_chars": sum(n for n, d in zip(own, depths) if d == 1),
    }


def _assertion_counts(analysis, top_level: list[int]) -> dict[str, Any]:
    """The outlet's own sentences by label, the hedged ones, and the share of check-worthy
    statements among all claims (check-worthy assertions + top-level attributions)."""
    labels = Counter(x.label for x in analysis.assertions)
    checkworthy = labels.get("checkworthy", 0)
    return {
        "total": len(analysis.assertions),
        "by_label": {k: labels.get(k, 0) for k in ("checkworthy", "opinion", "background")},
        "hedged": sum(1 for x in analysis.assertions if x.hedges),
        "checkworthy_unattributed_share": _share(checkworthy, checkworthy + len(top_level)),
    }


@dataclass
class Relays:
    """Hearsay in one article (see the module docstring): ``depth`` per attribution (1 +
    the distinct voices above it that relay it), ``longest`` and its ``chain`` of voices
    outermost first, each with its ``own_stance`` nestings, ``relayed`` (attributions at
    depth 2 or more) and ``own_stance`` (attributions nested in their own speaker's)."""

    depth: dict[int, int] = field(default_factory=dict)
    longest: int = 0
    chain: list[tuple[Hashable, int]] = field(default_factory=list)   # (voice, own-stance nestings)
    relayed: int = 0
    own_stance: int = 0
    names: dict[Hashable, str] = field(default_factory=dict)

    def chain_names(self) -> list[str]:
        return [self.names.get(v, str(v)) + (f" (own stance x{n})" if n else "")
                for v, n in self.chain][:20]


def relays(parents: Mapping[int, int | None], voices: Mapping[int, Hashable | None],
           writers: set = frozenset(), names: Mapping[Hashable, str] | None = None) -> Relays:
    """Hearsay from attributions' ``parents`` (idx -> parent idx or None) and ``voices``
    (idx -> a voice key, the same for one entity; None for no voice); ``writers``: the
    keys of the writer's and the outlet's own voice; ``names``: voice -> name shown."""
    out = Relays(names=dict(names or {}))
    if all(p is None for p in parents.values()):   # nothing nested: every voice at depth 1
        out.depth = dict.fromkeys(parents, 1)
        out.longest = 1 if parents else 0
        return out
    best: list[tuple[Hashable, int]] = []
    for i in sorted(parents):
        path, seen, p = [i], {i}, parents.get(i)
        while p is not None and p in parents and p not in seen:
            seen.add(p)
            path.append(p)
            p = parents.get(p)
        path.reverse()                                   # outermost first
        segs: list[list] = []                            # [voice, own-stance nestings]
        for j in path:
            v = voices.get(j)
            if v is None:
                continue
            if segs and v in writers and segs[-1][0] not in writers:
                v = segs[-1][0]   # "I" inside another's words is that speaker, not the writer
            if segs and segs[-1][0] == v:
                segs[-1][1] += 1
            else:
                segs.append([v, 0])
        if len(segs) > 1 and segs[0][0] in writers:     # the writer relaying: the article
            segs = segs[1:]
        d = max(1, len(segs))
        out.depth[i] = d
        vi, vp = voices.get(i), voices.get(parents[i]) if parents.get(i) is not None else None
        own = vi is not None and vp is not None and (vi == vp or (vi in writers and vp not in writers))
        out.own_stance += int(bool(own))
        out.relayed += int(d >= 2)
        if d > out.longest or (d == out.longest and sum(n for _, n in segs) > sum(n for _, n in best)):
            out.longest = d
            best = [(v, n) for v, n in segs]
    out.chain = best if out.longest >= 2 else []
    return out


def _voice(source) -> Hashable | None:
    """An article source's voice key: its entity key where it has one, else its id;
    None for a source that refers to no one."""
    if source is None or (source.identity or "unspecified") == "unspecified" and not _is_writer(source):
        return None
    ent = dict(source.entity) if getattr(source, "entity", None) else {}
    return ent.get("key") or ("source", source.id)


def _is_writer(source) -> bool:
    ent = dict(source.entity) if getattr(source, "entity", None) else {}
    if ent.get("key") in ("author", "outlet"):
        return True
    return dict(getattr(source, "evidence", ()) or ()).get("identity", "").startswith("first person")


def _relays_of(analysis) -> Relays:
    atts = analysis.attributions
    parents = {i: (a.parent if a.parent is not None and 0 <= a.parent < len(atts) else None)
               for i, a in enumerate(atts)}
    voices, writers, names = {}, set(), {}
    for i, a in enumerate(atts):
        src = analysis.source_of(a)
        v = _voice(src)
        voices[i] = v
        if v is not None:
            names.setdefault(v, a.speaker or src.name)
            if _is_writer(src):
                writers.add(v)
    return relays(parents, voices, writers, names)


def _single_source_claims(analysis, top_level: list[int]) -> list[int]:
    """Top-level attributions whose content no attribution of another source echoes
    (CORROBORATION_MIN_SHARED content words in common)."""
    atts = analysis.attributions
    words = {i: _content_words(analysis.span_text(atts[i].content, sep=" ")) for i in top_level}
    index: dict[str, list[int]] = {}
    for i in top_level:
        for w in words[i]:
            index.setdefault(w, []).append(i)
    single = []
    for i in top_level:
        shared: Counter = Counter()
        for w in words[i]:
            for j in index[w]:
                if j != i and atts[j].source_id != atts[i].source_id:
                    shared[j] += 1
        if not any(n >= CORROBORATION_MIN_SHARED for n in shared.values()):
            single.append(i)
    return single


def _transparency(attributed: dict[str, Any], assertions: dict[str, Any], top_level: list[int],
                  single: list[int], identified: int) -> dict[str, Any]:
    """The transparency score: its weighted components, each explained (docs/profile.md)."""
    total_chars = attributed["chars"]
    checkworthy = assertions["by_label"]["checkworthy"]
    chars_identity = {k: v["chars"] for k, v in attributed["by_identity"].items()}
    identity_value = (sum(IDENTITY_WEIGHTS[k] * v for k, v in chars_identity.items() if k in IDENTITY_WEIGHTS)
                      / total_chars) if total_chars else 0.0
    sourcing_value = (1.0 - assertions["checkworthy_unattributed_share"]
                      if (checkworthy + len(top_level)) else 0.0)
    directness_value = attributed["direct_chars"] / total_chars if total_chars else 0.0
    corroboration_value = 1.0 - len(single) / len(top_level) if top_level else 0.0
    diversity_value = min(1.0, identified / DIVERSITY_FULL_AT)
    values = {
        "identity": (identity_value, "attributed text weighted by its source's identity: named 1, described 0.5, "
                                     "anonymous 0.25, unspecified 0"),
        "sourcing": (sourcing_value, "1 - share of check-worthy statements left unattributed"),
        "directness": (directness_value, "share of attributed text heard first-hand (hearsay depth 1)"),
        "corroboration": (corroboration_value, "share of top-level claims echoed by another source"),
        "diversity": (diversity_value, f"identified distinct sources / {DIVERSITY_FULL_AT}, at most 1"),
    }
    components = []
    score = 0.0
    for name, weight in WEIGHTS.items():
        value, explain = values[name]
        contribution = 100 * weight * value
        score += contribution
        components.append({"name": name, "value": round(value, 3), "weight": weight,
                           "contribution": round(contribution, 1), "explain": explain})
    return {
        "score": round(score, 1),
        "formula": "100 * (" + " + ".join(f"{w} * {n}" for n, w in WEIGHTS.items()) + ")",
        "components": components,
    }
