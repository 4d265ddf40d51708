"""Corroboration and provenance: who else reports a claim, and where it came from.

Claims (claims.py) matched across articles (match.py) form claim clusters:
the connected components of confirmed matches. For each cluster:

    outlets              every outlet that carries the claim
    voices               articles grouped by syndication cluster (syndication.py):
                         a wire story and its copies are one voice
    independent outlets  one per voice, leaving out voices that only relay
                         another outlet of the cluster ("..., the Post reported")
    earliest             the first appearance (date, then arrival order)
    original source      where the relay chain of the earliest claim ends
    relay chain          "kyivindependent.com, citing pravda.com.ua, citing the
                         Ukrainian military command on Telegram"
    corroboration        independent outlets with independent sources: outlets taken
                         in order of first appearance, each counted when it has an
                         original source that no outlet counted before it has.
                         A named source (or a definite description: "the
                         military command") counts once however many outlets
                         quote it; anonymous, unspecified and indefinite sources
                         ("a senior official"), and the outlet's own voice, count
                         once per outlet (nothing says two outlets' unnamed
                         sources are the same person). Named people are keyed by
                         surname ("Donald J. Trump" = "Mr. Trump").

``CrossOutlet`` ties it together incrementally as articles arrive. With a corpus
store, each article's claims, their vectors and new matches are written to the
store as one batch at ingest time (corpus/runner.py calls ``add_stored``), and every
reader gets them back with ``load_store`` (or ``sync_with_store``): the clusters are
the connected components of the stored matches.

The claims and matches of a set of articles do not depend on how they were ingested
(one run, several runs, a run killed and resumed, two ingests at once): whether two
claims match is judged on the pair alone (``CrossOutlet.pairs_for``: every candidate
at or above ``min_cosine``, the cosine of the two stored vectors, the texts in a fixed
order), each pair once by whichever article's claims are written second, and a batch
is written only when no other writer stored one since it was computed. An article
stored without claims (a run killed in between, ``claims=False``) is pending until
the next writer or reader of the claims completes it (``sync_with_store``)::

    x = CrossOutlet()
    x.add_article(analysis, article_id="a1", outlet="apnews.com", date="2024-02-28")
    matches, cluster = x.trace_text("Some 300 Russian troops refused to obey orders")
    print(cluster.relay_chain_text, cluster.corroboration)
    x = sync_with_store(store)                   # the claims a corpus store keeps
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import MutableMapping
from typing import Any, Iterable, Sequence

import numpy as np

from .claims import Claim, ClaimSource, extract_claims
from ..errors import ClaimsChangedError, ConfigError, InputError, SourcetraceError, StoreError
from .match import Match, Matcher, MatchOptions, confirm
from .syndication import SyndicationIndex, SyndicationOptions, cleaned_text

__all__ = ["ClaimCluster", "RelayStep", "CrossOutlet", "build_cluster", "cluster_claims",
           "relay_chain", "outlet_matches", "first_appearances", "is_headline_claim"]

_UNNAMED = ("anonymous", "unspecified", "described")
_BODIES = {"ministry", "command", "department", "office", "council", "committee", "agency",
           "service", "police", "army", "forces", "government", "house", "court", "bureau",
           "commission", "administration", "staff", "military", "navy", "party", "campaign"}
_HONORIFICS = {"mr", "mrs", "ms", "dr", "sen", "rep", "gov", "gen", "president", "senator",
               "governor", "jr", "sr", "ii", "iii"}


# ---------------------------------------------------------------------------
# Outlet names

_TLD = re.compile(r"\.(com|org|net|co|news|info|gov|edu|ua|ru|uk|de|fr|us|ca|au|in|ie|eu)$")


def _key(name: str) -> str:
    name = name.lower().strip()
    name = re.sub(r"^(https?://)?(www\.)?", "", name).split("/")[0] if "." in name else name
    while _TLD.search(name):
        name = _TLD.sub("", name)
    name = re.sub(r"^the\s+", "", name)
    return re.sub(r"[^a-z0-9]", "", name)


def _forms(name: str) -> set[str]:
    """Ways an outlet may be written: "The New York Times" -> newyorktimes, nyt, nytimes."""
    words = [w for w in re.findall(r"[a-z0-9]+", re.sub(r"^the\s+", "", name.lower()))]
    forms = {_key(name)}
    if len(words) >= 2:
        initials = "".join(w[0] for w in words)
        forms.update({initials, "".join(w[0] for w in words[:-1]) + words[-1]})
    return {f for f in forms if len(f) >= 2}


def outlet_matches(source_name: str, outlet: str, aliases: Iterable[str] = ()) -> bool:
    """Whether a cited source names an outlet ("The Washington Post" ~ washingtonpost.com).

    ``aliases`` are other names of the outlet (its site name: "Ukrainska Pravda"
    for pravda.com.ua).
    """
    if not source_name or not outlet:
        return False
    names = _forms(outlet)
    for alias in aliases:
        names |= _forms(alias)
    return bool(_forms(source_name) & names)


# ---------------------------------------------------------------------------
# Records

@dataclass(frozen=True)
class RelayStep:
    """One link of a relay chain: an outlet, or a source it cites."""

    label: str
    kind: str                      # "outlet" | "source"
    claim_id: str | None = None    # the claim of the cluster this step stands for, if any
    source: ClaimSource | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "kind": self.kind, "claim_id": self.claim_id,
                "source": self.source.to_dict() if self.source else None}


@dataclass(frozen=True)
class ClaimCluster:
    """One claim across the corpus, with its corroboration and provenance."""

    id: str
    claim_ids: tuple[str, ...]
    outlets: tuple[str, ...]
    voices: dict[str, tuple[str, ...]]                 # voice id -> claim ids
    independent_outlets: tuple[str, ...]
    relays: dict[str, str]                             # relaying voice -> outlet it cites
    earliest: str                                      # claim id
    earliest_date: str | None
    earliest_outlet: str | None
    original_source: str
    relay_chain: tuple[RelayStep, ...]
    original_sources: dict[str, str]                   # independent voice -> its source key
    corroboration: int
    text: str = ""

    @property
    def relay_chain_text(self) -> str:
        return ", citing ".join(step.label for step in self.relay_chain)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "text": self.text, "claim_ids": list(self.claim_ids),
            "outlets": list(self.outlets),
            "voices": {k: list(v) for k, v in self.voices.items()},
            "independent_outlets": list(self.independent_outlets),
            "relays": dict(self.relays), "earliest": self.earliest,
            "earliest_date": self.earliest_date, "earliest_outlet": self.earliest_outlet,
            "original_source": self.original_source,
            "relay_chain": [s.to_dict() for s in self.relay_chain],
            "relay_chain_text": self.relay_chain_text,
            "original_sources": dict(self.original_sources),
            "corroboration": self.corroboration,
        }


# ---------------------------------------------------------------------------
# Clusters and chains

def union_root(parent: dict[str, str], a: str) -> str:
    """The root of ``a`` in a union-find forest (``parent`` maps each item to its parent;
    a root is its own), halving the path on the way."""
    while parent[a] != a:
        parent[a] = parent[parent[a]]
        a = parent[a]
    return a


def cluster_claims(claim_ids: Iterable[str], matches: Iterable[Match]) -> list[list[str]]:
    """Connected components of confirmed matches, each in the given order of claims."""
    order = {cid: i for i, cid in enumerate(claim_ids)}
    parent = {cid: cid for cid in order}

    def find(a: str) -> str:
        return union_root(parent, a)

    for m in matches:
        if m.claim_id in parent and m.other_id in parent and m.evidence.same:
            ra, rb = find(m.claim_id), find(m.other_id)
            if ra != rb:
                if order[ra] < order[rb]:
                    parent[rb] = ra
                else:
                    parent[ra] = rb
    groups: dict[str, list[str]] = {}
    for cid in order:
        groups.setdefault(find(cid), []).append(cid)
    return list(groups.values())


def _sort_key(claim: Claim, arrival: dict[str, int]) -> tuple:
    return (claim.date or "9999", arrival.get(claim.id, 0), claim.id)


def _cited_outlet(claim: Claim, outlets: Sequence[str],
                  aliases: dict[str, set[str]]) -> tuple[ClaimSource, str] | None:
    """The first source in the claim's chain that names another outlet of the cluster."""
    for src in claim.chain():
        for outlet in outlets:
            if outlet != claim.outlet and outlet_matches(src.name, outlet, aliases.get(outlet, ())):
                return src, outlet
    return None


def _describe(src: ClaimSource) -> str:
    """"Name on channel", but an outlet relaying its own reporting is just its name."""
    if src.channel and (_key(src.channel) == _key(src.name)
                        or outlet_matches(src.name, src.channel)):
        return src.name
    return src.describe()


def _voice_key(label: str) -> str:
    """One key per voice: "Mr. Trump", "Donald J. Trump" and "Trump" are one voice
    (a name of up to three capitalised words is keyed by its last word)."""
    words = [w for w in re.findall(r"[\w'’.-]+", label)
             if w.lower().rstrip(".") not in _HONORIFICS and w.lower() not in ("the", "a", "an")]
    if 1 <= len(words) <= 3 and all(w[0].isupper() for w in words) \
            and not {w.lower() for w in words} & _BODIES:
        return re.sub(r"['’]s$", "", words[-1].lower().rstrip("."))
    return " ".join(w.lower() for w in words)


def is_headline_claim(claim: Claim) -> bool:
    """Whether a claim (or its source) comes from the article's headline or title."""
    title = (claim.title or "").strip()
    if not title:
        return False
    if claim.span.start < len(title) and (claim.text in title or title.startswith(claim.text[:40])):
        return True
    return claim.source is not None and len(claim.source.name.split()) > 1 \
        and claim.source.name in title and claim.source.name not in claim.text


def relay_chain(claim: Claim, members: Sequence[Claim],
                arrival: dict[str, int] | None = None,
                aliases: dict[str, set[str]] | None = None) -> tuple[RelayStep, ...]:
    """Follow a claim back through the outlets and sources it cites.

    Within the article: its relays (``via``) and source. Across articles: when a
    cited source names an outlet that also carries the claim, the chain goes on
    with that outlet's earliest claim of the cluster. Each distinct voice appears
    once, in order: a source that repeats an earlier voice ("Trump, citing Trump")
    or names the outlet itself ("the Post" in the Post) is left out.
    """
    arrival = arrival or {}
    aliases = aliases or {}
    by_outlet: dict[str, list[Claim]] = {}
    for c in members:
        if c.outlet:
            by_outlet.setdefault(c.outlet, []).append(c)
    steps: list[RelayStep] = []
    voices: set[str] = set()
    seen: set[str] = set()
    current: Claim | None = claim
    while current is not None and current.id not in seen:
        seen.add(current.id)
        label = current.outlet or current.article_id
        steps.append(RelayStep(label, "outlet", current.id))
        voices.add(_key(label))
        nxt: Claim | None = None
        for src in current.chain():
            if current.outlet and outlet_matches(src.name, current.outlet,
                                                 aliases.get(current.outlet, ())):
                continue                     # the outlet citing its own reporting
            target = next((o for o in by_outlet if o != current.outlet
                           and o not in {s.label for s in steps}
                           and outlet_matches(src.name, o, aliases.get(o, ()))), None)
            if target is not None:
                nxt = min(by_outlet[target], key=lambda c: _sort_key(c, arrival))
                break
            key = _voice_key(src.name)
            if key in voices or _key(src.name) in voices:
                continue
            voices.add(key)
            steps.append(RelayStep(_describe(src), "source", None, src))
        current = nxt
    return tuple(steps)


def _source_key(claim: Claim, voice: str) -> str:
    """What counts as one original source for corroboration.

    Named sources and definite descriptions ("the Ukrainian military command")
    are one source wherever they are quoted; anonymous, unspecified and indefinite
    descriptions ("a senior official") are one per outlet, since nothing says two
    outlets' unnamed sources are the same; a claim in the outlet's own voice is
    the outlet's own source.
    """
    chain = claim.chain()
    src = chain[-1] if chain else None
    if src is None:
        return f"own voice of {claim.outlet or voice}"
    name = re.sub(r"\s+", " ", src.name.lower().strip())
    definite = src.identity == "described" and name.startswith("the ")
    if src.identity in _UNNAMED and not definite:
        return f"{src.identity} source in {claim.outlet or voice}"
    name = re.sub(r"^(the|a|an)\s+", "", name)
    person = src.kind == "person" or (src.kind == "official" and len(name.split()) <= 3
                                      and not set(name.split()) & _BODIES)
    if person and src.identity == "named":
        # "Donald J. Trump", "Mr. Trump" and "Trump" are one source: the surname
        words = [w for w in re.findall(r"[\w'’-]+", name) if w not in _HONORIFICS]
        if words:
            return re.sub(r"['’]s$", "", words[-1])
    return name


def build_cluster(members: Sequence[Claim], voices: dict[str, str] | None = None,
                  arrival: dict[str, int] | None = None,
                  aliases: dict[str, set[str]] | None = None) -> ClaimCluster:
    """Corroboration and provenance of one cluster of matched claims.

    ``voices`` maps article id -> syndication cluster id (missing: its own voice);
    ``arrival`` breaks date ties by the order claims arrived; ``aliases`` maps an
    outlet to other names it goes by (to recognise "Ukrainska Pravda reported").
    """
    if not members:
        raise InputError("a claim cluster needs at least one claim")
    voices = voices or {}
    arrival = arrival or {}
    aliases = aliases or {}
    ordered = sorted(members, key=lambda c: _sort_key(c, arrival))
    outlets = tuple(sorted({c.outlet for c in ordered if c.outlet}))

    by_voice: dict[str, list[Claim]] = {}
    for c in ordered:
        by_voice.setdefault(voices.get(c.article_id, c.article_id), []).append(c)

    relays: dict[str, str] = {}
    for voice, claims in by_voice.items():
        cited = _cited_outlet(claims[0], outlets, aliases)
        if cited is not None:
            relays[voice] = cited[1]
    independent = [v for v in by_voice if v not in relays] or [next(iter(by_voice))]
    independent_outlets = tuple(sorted({by_voice[v][0].outlet or v for v in independent}))
    original_sources = {v: _source_key(by_voice[v][0], v) for v in independent}
    # Corroboration: independent outlets with independent sources. Outlets in order of
    # first appearance; each counts if one of its sources is not already counted.
    per_outlet: dict[str, list[str]] = {}
    for v in independent:
        per_outlet.setdefault(by_voice[v][0].outlet or v, []).append(original_sources[v])
    used: set[str] = set()
    corroboration = 0
    for outlet, keys in per_outlet.items():
        fresh = next((k for k in keys if k not in used), None)
        if fresh is not None:
            used.add(fresh)
            corroboration += 1

    body = [c for c in ordered if not is_headline_claim(c)]
    earliest = (body or ordered)[0]
    chain = relay_chain(earliest, body or ordered, arrival, aliases)
    last = chain[-1]
    if not body:
        original = "unknown (only headlines carry it)"
    elif last.kind == "source":
        original = last.label
    else:
        original = f"{last.label} (own voice)"
    return ClaimCluster(
        id=earliest.id, text=earliest.text,
        claim_ids=tuple(c.id for c in ordered), outlets=outlets,
        voices={v: tuple(c.id for c in cs) for v, cs in by_voice.items()},
        independent_outlets=independent_outlets, relays=relays,
        earliest=earliest.id, earliest_date=earliest.date, earliest_outlet=earliest.outlet,
        original_source=original, relay_chain=chain, original_sources=original_sources,
        corroboration=corroboration,
    )


# ---------------------------------------------------------------------------
# The incremental cross-outlet layer

_PER_ARTICLE = 1 << 20     # arrival of a stored claim: article id * this + its place
_WRITE_TRIES = 200         # claim batches computed again when other writers came first

class _Claims(MutableMapping):
    """Claims by id; those read from a store stay JSON until first asked for."""

    def __init__(self) -> None:
        self._d: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Claim:
        value = self._d[key]
        if isinstance(value, str):
            value = self._d[key] = Claim.from_dict(json.loads(value))
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        self._d[key] = value

    def __delitem__(self, key: str) -> None:
        del self._d[key]

    def __contains__(self, key: object) -> bool:
        return key in self._d

    def __iter__(self):
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)


@dataclass
class CrossOutlet:
    """Syndication, claims, matching and corroboration over a growing set of articles."""

    match_options: MatchOptions = field(default_factory=MatchOptions)
    syndication_options: SyndicationOptions = field(default_factory=SyndicationOptions)
    embedder: object | None = None

    def __post_init__(self) -> None:
        self.syndication = SyndicationIndex(self.syndication_options)
        self.matcher = Matcher(self.match_options, self.embedder)
        self.claims: MutableMapping[str, Claim] = _Claims()
        self.matcher.claims = _Claims()
        self._seen: dict[str, tuple[str | None, str | None]] = {}   # claim id -> (date, outlet)
        self.arrival: dict[str, int] = {}
        self.matches: dict[tuple[str, str], Match] = {}
        self.articles: set[str] = set()
        self.aliases: dict[str, set[str]] = {}
        self.batch_seq = 0                 # the last claim batch read from a store
        self.factchecks: list = []         # factchecks.FactCheck, read from a store
        self.factcheck_vectors = np.zeros((0, 384), dtype=np.float32)

    # -- adding ------------------------------------------------------------------
    def add_article(self, analysis, *, article_id: str | None = None, outlet: str | None = None,
                    date: str | None = None, url: str | None = None,
                    outlet_name: str | None = None) -> list[Claim]:
        """Add one analysed article: its syndication, claims and their matches.

        ``outlet_name`` (or ``meta["site_name"]``) is the outlet's own name, so that
        other articles citing it by name are recognised as relays.
        """
        claims = extract_claims(analysis, article_id=article_id, outlet=outlet, date=date, url=url)
        name = outlet_name or (analysis.meta or {}).get("site_name")
        key = outlet or (analysis.meta or {}).get("outlet")
        if name and key:
            self.aliases.setdefault(key, set()).add(name)
        aid = claims[0].article_id if claims else str(article_id or analysis.meta.get("id") or "")
        if not aid:
            raise InputError("an article needs an id", hint="pass article_id=")
        if aid in self.articles:
            return []
        self.syndication.add(aid, cleaned_text(analysis))
        self.articles.add(aid)
        self._add_claims(claims)
        return claims

    def _add_claims(self, claims: Sequence[Claim], vectors: np.ndarray | None = None,
                    *, match: bool = True) -> list[Match]:
        """Index claims and match them with those before (pairs_for); the new matches."""
        claims = [c for c in claims if c.id not in self.claims]
        if not claims:
            return []
        vectors = (self._vectors(claims) if vectors is None
                   else np.asarray(vectors, dtype=np.float16).astype(np.float32))
        found = self.pairs_for(claims, vectors) if match else []
        for c in claims:
            self.claims[c.id] = c
            self.arrival[c.id] = len(self.arrival)
        self.matcher.add(claims, vectors)
        for m in found:
            self.matches[tuple(sorted((m.claim_id, m.other_id)))] = m
        return found

    def _vectors(self, claims: Sequence[Claim]) -> np.ndarray:
        """The claims' embeddings at the precision the store keeps (float16), so that a
        claim compares the same in the process that embedded it and in any other."""
        if not claims:
            return np.zeros((0, self.matcher.index.ndim), dtype=np.float32)
        vectors = np.asarray(self.matcher._embed([c.text for c in claims]), dtype=np.float32)
        return vectors.astype(np.float16).astype(np.float32)

    def pairs_for(self, claims: Sequence[Claim], vectors: np.ndarray) -> list[Match]:
        """The confirmed matches of ``claims`` (not yet indexed, one row of ``vectors``
        each) with the indexed claims of other articles (and among themselves with
        ``same_article``), in a fixed order.

        Each pair is judged on its own, so that the matches of a set of claims are the
        same whatever order they arrive in: every candidate at or above ``min_cosine``
        is checked, not only the nearest ``neighbours`` (which other claims arriving
        in between would change); the cosine is that of the two unit vectors (as the
        index keeps them) in float64, the same both ways round; the checks see the two
        texts in sorted order.
        """
        o = self.match_options
        index = self.matcher.index
        vectors = np.asarray(vectors, dtype=np.float32)
        units = vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
        floor = o.min_cosine - 1e-3          # the index's float32 cosine may differ a little
        new = {c.id: (c, units[i]) for i, c in enumerate(claims)}
        found: dict[tuple[str, str], Match] = {}
        for i, c in enumerate(claims):
            candidates: list[str] = []
            if len(index):
                k = min(max(o.neighbours, 32), len(index))
                while True:
                    hits = index.search(units[i][None, :], k)[0]
                    if k >= len(index) or not hits or hits[-1][1] < floor:
                        break
                    k = min(4 * k, len(index))
                candidates = [other for other, cosine in hits if cosine >= floor]
            if o.same_article:
                candidates += [d.id for d in claims if d.id != c.id]
            for other_id in candidates:
                if other_id in new:
                    other, unit = new[other_id]
                else:
                    other, unit = self.claims[other_id], index.vector(other_id)
                key = (c.id, other_id) if c.id < other_id else (other_id, c.id)
                if other_id == c.id or key in found or \
                        (other.article_id == c.article_id and not o.same_article):
                    continue
                cosine = float(np.dot(units[i].astype(np.float64), unit.astype(np.float64)))
                first, second = sorted((c.text, other.text))
                evidence = confirm(first, second, cosine, o)
                if evidence.same:
                    found[key] = Match(c.id, other_id, evidence)
        return [found[k] for k in sorted(found)]

    # -- the corpus store ----------------------------------------------------------
    def load_store(self, store) -> int:
        """Read the claim batches the store has and this state lacks (written at
        ingest time by any process); how many articles were read."""
        from .match import MatchEvidence

        read = 0
        for batch in store.claim_batches(after=self.batch_seq):
            self.batch_seq = max(self.batch_seq, batch.seq)
            aid = str(batch.article_id)
            if aid in self.articles:
                continue
            self.syndication.add_known(aid, batch.signature, batch.size,
                                       [str(c) for c in batch.copies])
            self.articles.add(aid)
            if batch.site_name and batch.outlet:
                self.aliases.setdefault(batch.outlet, set()).add(batch.site_name)
            fresh = [(pos, cid, data, v) for pos, (cid, data, v) in enumerate(batch.claims)
                     if cid not in self.claims]
            if fresh:
                first = json.loads(fresh[0][2])         # one article: one date, one outlet
                for pos, cid, data, _ in fresh:
                    self.claims[cid] = data
                    self.matcher.claims[cid] = data
                    # by article id, then place in the article: the same order however
                    # the batches were written (not the order they arrived in)
                    self.arrival[cid] = batch.article_id * _PER_ARTICLE + pos
                    self._seen[cid] = (first.get("date"), first.get("outlet"))
                vectors = np.stack([np.frombuffer(v, dtype=np.float16) for *_, v in fresh])
                self.matcher.index.add([cid for _, cid, *_ in fresh], vectors.astype(np.float32))
            for a, b, evidence in batch.matches:
                m = Match(a, b, MatchEvidence.from_dict(json.loads(evidence)))
                self.matches[tuple(sorted((a, b)))] = m
            read += 1
        return read

    def load_factchecks(self, store) -> int:
        """Read the fact-checks kept in the store (``sourcetrace factchecks import``)."""
        from .factchecks import FactCheck

        rows = store.factchecks() if hasattr(store, "factchecks") else []
        self.factchecks = [FactCheck.from_dict(json.loads(data)) for _, data, _ in rows]
        self.factcheck_vectors = (np.stack([np.frombuffer(v, dtype=np.float16) for *_, v in rows])
                                  .astype(np.float32) if rows else np.zeros((0, 384), np.float32))
        return len(rows)

    def checked(self, *, text: str | None = None, claim_ids: Sequence[str] = ()
                ) -> list[dict[str, Any]]:
        """The fact-checks that state the same as ``text`` or as one of ``claim_ids``,
        each once: the FactCheck's fields, the claim it matched and the evidence."""
        from .tracing import checked_factchecks

        return checked_factchecks(self, text=text, claim_ids=claim_ids)

    # what ranked_trace and checked_factchecks read (stored.StoredClaims has the same)
    def claim_text(self, claim_id: str) -> str:
        return self.claims[claim_id].text

    def claim_vector(self, claim_id: str) -> np.ndarray:
        return self.matcher.index.vector(claim_id)

    def claim_collection(self, store=None):
        """The claims as a retrieve.Collection (the store's full-text search when given)."""
        from .retrieve import claims_collection

        return claims_collection(self, store)

    def factcheck_collection(self):
        """The fact-checks read from the store as a retrieve.Collection (None: none)."""
        from .retrieve import factchecks_collection

        if not self.factchecks:
            return None
        if getattr(self, "_factcheck_collection", (None, 0))[1] != len(self.factchecks):
            self._factcheck_collection = (factchecks_collection(self.factchecks,
                                                                self.factcheck_vectors),
                                          len(self.factchecks))
        return self._factcheck_collection[0]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.matcher._embed(list(texts))

    def add_stored(self, store, article_id: int, analysis, *, outlet: str | None = None,
                   date: str | None = None, url: str | None = None) -> list[Claim]:
        """Add one article of ``store`` (by its store id): write its claims, their
        vectors, their matches and the articles it copies to the store as one batch,
        then read it back (load_store) like any reader would.

        The batch is computed against every batch of the store and written only if no
        other writer stored one meanwhile (``add_claim_batch(after=)``); if one did,
        the new batches are read and the batch computed again. Nothing here depends on
        the order articles come in (pairs_for, SyndicationIndex.copies_of), so one
        run, a resumed run and concurrent runs store the same claims and matches.
        Returns the article's claims ([] when its batch is already stored)."""
        aid = str(article_id)
        self.load_store(store)
        if aid in self.articles:
            return []
        claims = extract_claims(analysis, article_id=aid, outlet=outlet, date=date, url=url)
        name = (analysis.meta or {}).get("site_name")
        vectors = self._vectors(claims)
        mh, size = self.syndication.signature(cleaned_text(analysis))
        signature = np.asarray(mh.hashvalues, dtype=np.uint32).tobytes()
        rows = tuple((c.id, json.dumps(c.to_dict(), ensure_ascii=False),
                      v.astype(np.float16).tobytes()) for c, v in zip(claims, vectors))
        for _ in range(_WRITE_TRIES):
            copies = sorted(int(d.other_id) for d in self.syndication.copies_of(aid, mh, size))
            links = tuple((m.claim_id, m.other_id, json.dumps(m.evidence.to_dict()))
                          for m in self.pairs_for(claims, vectors))
            try:
                store.add_claim_batch(article_id, signature, size, outlet=outlet,
                                      site_name=name, claims=rows, matches=links,
                                      copies=copies, after=self.batch_seq)
            except ClaimsChangedError:
                pass                    # another writer's batch came first: match it too
            self.load_store(store)
            if aid in self.articles:
                _after_batch(store)
                return claims
        raise StoreError(f"the claims of article {article_id} could not be stored: other "
                         f"writers stored claims {_WRITE_TRIES} times while they were matched",
                         hint="run the command again (the article's claims are pending)")

    # -- reading -----------------------------------------------------------------
    def voices(self) -> dict[str, str]:
        return self.syndication.voices()

    def clusters(self, *, min_outlets: int = 1, limit: int | None = None) -> list[ClaimCluster]:
        """Every claim cluster carried by at least ``min_outlets`` outlets, most
        corroborated first (the first ``limit`` of them when given).

        A claim no other matches is a cluster of one: corroboration 1 and its one
        outlet, so it is built only when it is among the first ``limit``.
        """
        ids = sorted(self.claims, key=self.arrival.__getitem__)
        voices = self.voices()
        out, alone = [], []
        for group in cluster_claims(ids, self.matches.values()):
            if len(group) == 1:
                alone.append(group[0])
                continue
            cluster = build_cluster([self.claims[c] for c in group], voices, self.arrival,
                                    self.aliases)
            if len(cluster.outlets) >= min_outlets:
                out.append(cluster)
        key = lambda c: (-c.corroboration, -len(c.outlets), c.earliest_date or "", c.id)
        if min_outlets <= 1 and alone:
            def meta(cid: str) -> tuple[str | None, str | None]:
                if cid not in self._seen:
                    c = self.claims[cid]
                    self._seen[cid] = (c.date, c.outlet)
                return self._seen[cid]

            rank = {cid: (-1, -(1 if meta(cid)[1] else 0), meta(cid)[0] or "", cid)
                    for cid in alone}
            if limit is not None:
                keys = sorted(key(c) for c in out)
                cut = keys[limit - 1] if len(keys) >= limit else None
                alone = sorted((c for c in alone if cut is None or rank[c] < cut),
                               key=rank.__getitem__)[:limit]
            out += [build_cluster([self.claims[c]], voices, self.arrival, self.aliases)
                    for c in alone]
        out.sort(key=key)
        return out if limit is None else out[:limit]

    def trace_claim(self, claim_id: str) -> ClaimCluster:
        """The cluster of a stored claim."""
        if claim_id not in self.claims:
            raise InputError(f"no claim with id {claim_id!r}",
                             hint="list claim ids with: sourcetrace claims")
        ids = sorted(self.claims, key=self.arrival.__getitem__)
        for group in cluster_claims(ids, self.matches.values()):
            if claim_id in group:
                return build_cluster([self.claims[c] for c in group], self.voices(), self.arrival,
                                     self.aliases)
        raise AssertionError("unreachable: every claim is in a cluster")

    def trace_text(self, text: str) -> tuple[list[Match], ClaimCluster | None]:
        """Claims that state ``text``, and the provenance of their cluster(s) merged."""
        from .retrieve import as_evidence, claims_collection, retrieve

        if not text or not text.strip():
            raise ConfigError("the claim text is empty", hint="give the words of the claim")
        found = [Match("", h.id, as_evidence(h))        # ranked retrieval, verdict "same"
                 for h in retrieve(text, claims_collection(self)).confirmed]
        if not found:
            return [], None
        return found, self.cluster_of({m.other_id for m in found})

    def cluster_of(self, hit: set[str]):
        """The cluster of every claim grouped (by the stored matches) with one of ``hit``."""
        ids = sorted(self.claims, key=self.arrival.__getitem__)
        members: list[str] = []
        for group in cluster_claims(ids, self.matches.values()):
            if hit & set(group):
                members.extend(group)
        return build_cluster([self.claims[c] for c in members], self.voices(), self.arrival,
                             self.aliases)

    # -- persistence -------------------------------------------------------------
    def save(self, folder: str | Path) -> None:
        """Write the state to a folder; reload with ``load``.

        claims.jsonl, matches.jsonl (with their evidence), vectors.npy (float16, to
        rebuild the index), claims.hnsw (the index itself) and articles.json
        (syndication signatures; written last, it marks a complete save).
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        ids = sorted(self.claims, key=self.arrival.__getitem__)
        with (folder / "claims.jsonl.tmp").open("w", encoding="utf-8") as f:
            for cid in ids:
                f.write(json.dumps(self.claims[cid].to_dict(), ensure_ascii=False) + "\n")
        with (folder / "matches.jsonl.tmp").open("w", encoding="utf-8") as f:
            for m in self.matches.values():
                f.write(json.dumps(m.to_dict(), ensure_ascii=False) + "\n")
        vectors = (np.stack([self.matcher.index.vector(c) for c in ids]).astype(np.float16)
                   if ids else np.zeros((0, 384), dtype=np.float16))
        np.save(folder / "vectors.tmp.npy", vectors)
        if ids:
            self.matcher.index.save(str(folder / "claims.hnsw.tmp"))
        signatures = {}
        for aid in self.syndication.voices():
            sig, size = self.syndication.signature_bytes(aid)
            signatures[aid] = [sig.hex(), size]
        state = {
            "version": 1, "claims": len(ids), "articles": sorted(self.articles),
            # hnswlib crashes on a damaged file instead of raising: checked before loading
            "index_sha256": _sha256(folder / "claims.hnsw.tmp") if ids else None,
            "signatures": signatures, "syndication_order": list(self.syndication.voices()),
            "aliases": {k: sorted(v) for k, v in self.aliases.items()},
        }
        (folder / "articles.json").unlink(missing_ok=True)
        for name in ("claims.jsonl", "matches.jsonl"):
            (folder / f"{name}.tmp").replace(folder / name)
        (folder / "vectors.tmp.npy").replace(folder / "vectors.npy")
        if ids:
            (folder / "claims.hnsw.tmp").replace(folder / "claims.hnsw")
            (folder / "claims.hnsw.tmp.ids.json").replace(folder / "claims.hnsw.ids.json")
        (folder / "articles.json.tmp").write_text(json.dumps(state), encoding="utf-8")
        (folder / "articles.json.tmp").replace(folder / "articles.json")

    @classmethod
    def load(cls, folder: str | Path, **kwargs: Any) -> "CrossOutlet":
        """The state saved in ``folder`` (an empty state when there is none)."""
        from .match import ClaimIndex

        folder = Path(folder)
        x = cls(**kwargs)
        if not (folder / "articles.json").exists():
            return x
        hint = f"delete {folder} and it is rebuilt from the store"
        try:
            state = json.loads((folder / "articles.json").read_text(encoding="utf-8"))
            claims = [Claim.from_dict(json.loads(line)) for line in
                      (folder / "claims.jsonl").read_text(encoding="utf-8").splitlines() if line]
            matches = [Match.from_dict(json.loads(line)) for line in
                       (folder / "matches.jsonl").read_text(encoding="utf-8").splitlines()
                       if line]
            vectors = np.load(folder / "vectors.npy").astype(np.float32)
        except (OSError, ValueError, KeyError) as exc:
            raise StoreError(f"the claims state in {folder} is unreadable: {exc}",
                             hint=hint) from exc
        if len(vectors) != len(claims) or state.get("claims", len(claims)) != len(claims):
            raise StoreError(f"the claims state in {folder} is inconsistent", hint=hint)
        for aid in state["syndication_order"]:
            sig, size = state["signatures"][aid]
            x.syndication.add_signature(aid, bytes.fromhex(sig), size)
        x.articles = set(state["articles"])
        x.aliases = {k: set(v) for k, v in state.get("aliases", {}).items()}
        for c in claims:
            x.claims[c.id] = c
            x.arrival[c.id] = len(x.arrival)
            x.matcher.claims[c.id] = c
        index = None
        index_file = folder / "claims.hnsw"
        if claims and index_file.exists() and state.get("index_sha256") == _sha256(index_file):
            try:
                index = ClaimIndex.load(str(folder / "claims.hnsw"), x.match_options)
            except SourcetraceError:
                index = None
            if index is not None and index._ids != [c.id for c in claims]:
                index = None
        if index is None:                      # rebuild from the saved vectors
            index = ClaimIndex(options=x.match_options)
            if claims:
                index.add([c.id for c in claims], vectors)
        x.matcher.index = index
        for m in matches:
            x.matches[tuple(sorted((m.claim_id, m.other_id)))] = m
        return x

    def filter_claims(self, *, outlet: str | None = None, source: str | None = None,
                      kind: str | None = None, identity: str | None = None,
                      since: str | None = None, until: str | None = None,
                      text: str | None = None, limit: int = 50) -> list[Claim]:
        """Claims filtered by outlet, source name (substring), source kind/identity, dates, words."""
        if limit < 1:
            raise ConfigError("limit must be >= 1")
        words = [w.lower() for w in re.findall(r"\w+", text or "")]
        out = []
        for cid in sorted(self.claims, key=self.arrival.__getitem__):
            c = self.claims[cid]
            src = c.source
            if outlet and c.outlet != outlet:
                continue
            if source and not (src and source.lower() in src.name.lower()):
                continue
            if kind and not (src and src.kind == kind) and not (kind == "unattributed"
                                                                and src is None):
                continue
            if identity and not (src and src.identity == identity):
                continue
            if since and (c.date or "") < since:
                continue
            if until and (c.date or "9999") > until:
                continue
            if words and not all(w in c.text.lower() for w in words):
                continue
            out.append(c)
            if len(out) >= limit:
                break
        return out


# ---------------------------------------------------------------------------
# The corpus store

def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _after_batch(store) -> None:
    """What readers search without writing, brought up to date by the writer: the store's
    full-text index of the claims and the claim vector file beside it (stored.py)."""
    from .retrieve import fill_text_search
    from .vectorfile import update_claim_vectors

    fill_text_search(store, "claims")
    update_claim_vectors(store)


def sync_with_store(store, folder: None = None, *, cross: CrossOutlet | None = None,
                    progress=None) -> CrossOutlet:
    """The claims of a corpus store, up to date (incremental). (``folder`` is not
    used: the claims live in the store, no longer in a folder beside it.)

    Reads the claim batches written at ingest time (by any process, on any machine
    reading the same store) that ``cross`` lacks, then completes, in id order, every
    stored article whose claims are pending (no batch yet: a run killed between
    storing an article and its claims, an ingest without claims, a store made before
    claims were kept in it). ``progress`` is called with each article completed.
    """
    x = cross if cross is not None else CrossOutlet()
    x.load_store(store)
    x.load_factchecks(store)
    if hasattr(store, "articles_without_claims"):
        pending = store.articles_without_claims()
    elif len(x.articles) < store.count():
        pending = [a.id for a in store.iter_articles() if str(a.id) not in x.articles]
    else:
        pending = []
    for article_id in pending:
        stored = store.get(article_id)
        if stored is None or str(stored.id) in x.articles:
            continue
        x.add_stored(store, stored.id, stored.analysis, outlet=stored.outlet,
                     date=stored.date, url=stored.canonical_url or stored.url)
        if progress is not None:
            progress(str(stored.id))
    x.load_store(store)
    return x


def first_appearances(claims, arrival: dict[str, int]) -> list[dict[str, Any]]:
    """The first claim of each outlet, in order of publication date (then of arrival).

    ``date_known`` is False for an outlet whose first claim has no date (those come
    last); ``tied_with`` lists the other outlets first seen on the same date, since
    a date alone cannot tell which came first.
    """
    first: dict[Any, Any] = {}
    for c in sorted(claims, key=lambda c: (c.date or "9999", arrival.get(c.id, 0))):
        first.setdefault(c.outlet, c)
    by_date: dict[str, list[Any]] = {}
    for c in first.values():
        if c.date:
            by_date.setdefault(c.date, []).append(c.outlet)
    return [{"outlet": c.outlet, "date": c.date, "date_known": bool(c.date),
             "tied_with": [o for o in by_date.get(c.date, []) if o != c.outlet] if c.date else [],
             "claim_id": c.id, "article_id": c.article_id,
             "title": c.title, "url": c.url, "text": c.text,
             "source": _describe(c.source) if c.source else None,
             "via": [_describe(v) for v in c.via]}
            for c in first.values()]
