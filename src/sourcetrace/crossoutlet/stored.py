"""The claims of a corpus store, read only as far as one trace needs them.

``sourcetrace trace`` ranks the corpus's claims against one query. Reading every claim of
the store for that (``CrossOutlet.load_store``: the JSON and the vector of each) costs
seconds at 10,000 articles; ``StoredClaims`` reads only

- the candidates of the two searches of retrieve.py:
    lexical  the store's full-text index (SQLite FTS5, read only: ingest fills it as it
             writes each claim batch; claims written before that are searched in memory),
             PostgreSQL text search
    dense    ``ClaimVectors``: the unit vectors of the claims in a file beside a SQLite
             corpus (``<db>-claimvec.*``), appended to by every writer after its claim
             batch and searched exactly (one matrix product over a memory map); claims the
             file lacks (written before it, by an older version, or a store on PostgreSQL)
             are read from the store into memory
- the rows of those candidates, by id,
- for the claims marked ``same``: their cluster, the connected component of the stored
  matches (followed from the hits, not built for the whole corpus), with the voices
  (syndication copies) and outlet names of the claim batches' heads.

The result is the same as with ``CrossOutlet`` (ranked_trace takes either)::

    with open_store("corpus.db", create=False) as store:
        x = open_claims(store)                  # StoredClaims, or a CrossOutlet (see there)
        ranked, checks, cluster = ranked_trace(x, text="300 troops refused orders", store=store)

Nothing here writes to the store; ``ClaimVectors.update`` (the writer's) writes only the
file beside it.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Iterable, Sequence

import numpy as np

from ..errors import InputError
from .claims import Claim
from .corroboration import _PER_ARTICLE, build_cluster, cluster_claims, union_root
from .match import Match, MatchEvidence
from .retrieve import Collection, claim_record, fill_text_search, store_text_search
from .vectorfile import NDIM, ClaimVectors, _units, update_claim_vectors

__all__ = ["ClaimVectors", "StoredClaims", "open_claims", "stored_claims_ready",
           "update_claim_vectors",
           "fill_claim_search", "NDIM"]


def fill_claim_search(store) -> None:
    """Index the claims written since in the store's full-text search (retrieve.py's
    fill_text_search), so that readers search them without writing."""
    fill_text_search(store, "claims")


# ---------------------------------------------------------------------------
# Claims by id

class _ClaimMap(Mapping):
    """Claims of the store by id, read when first asked for."""

    def __init__(self, owner: "StoredClaims") -> None:
        self._owner = owner

    def __getitem__(self, cid: str) -> Claim:
        self._owner.fetch([cid])
        return self._owner._claims[cid]

    def __contains__(self, cid: object) -> bool:
        if not isinstance(cid, str):
            return False
        self._owner.fetch([cid])
        return cid in self._owner._claims

    def __iter__(self):
        return iter(r[0] for r in self._owner.store.read_sql("SELECT id FROM claims ORDER BY id"))

    def __len__(self) -> int:
        return int(self._owner.store.read_sql("SELECT count(*) FROM claims")[0][0])


class _StoreCollection(Collection):
    """retrieve.Collection over a store: dense candidates from ClaimVectors, lexical from
    the full-text index, texts and fields read by id for the candidates only."""

    def __init__(self, owner: "StoredClaims") -> None:
        super().__init__(index=owner.index, store=owner.store, table="claims")
        self._owner = owner

    def prefetch(self, ids: Sequence[str]) -> None:
        self._owner.fetch(ids)

    def text(self, cid: str) -> str:
        return self._owner.claims[cid].text

    def record(self, cid: str) -> Mapping[str, Any] | None:
        return claim_record(self._owner.claims[cid])

    def vector(self, cid: str) -> np.ndarray:
        return self._owner.vector(cid)

    def lexical_search(self, text: str, k: int) -> list[tuple[str, float]]:
        return store_text_search(self._owner.store, "claims", text, k)


class StoredClaims:
    """What a trace reads of a store's claims (module docstring). Reads, never writes."""

    def __init__(self, store, *, embedder=None) -> None:
        self.store = store
        self.embedder = embedder
        self.index = ClaimVectors(store)
        self.claims: Mapping[str, Claim] = _ClaimMap(self)
        self.arrival: dict[str, int] = {}
        self._claims: dict[str, Claim] = {}
        self._vectors: dict[str, np.ndarray] = {}
        self._absent: set[str] = set()
        self._heads: tuple[dict[str, str], dict[str, set[str]]] | None = None
        self._factchecks: tuple[list, np.ndarray] | None = None
        self._collection: _StoreCollection | None = None

    # -- rows by id ----------------------------------------------------------------
    def fetch(self, ids: Iterable[str]) -> None:
        """Read the claims of ``ids`` not read yet (one query per 500)."""
        missing = [c for c in dict.fromkeys(ids) if c not in self._claims and c not in self._absent]
        for i in range(0, len(missing), 500):
            chunk = missing[i:i + 500]
            rows = self.store.read_sql(
                "SELECT c.id, c.pos, c.data, c.vector, b.article_id FROM claims c JOIN "
                "claim_batches b ON b.seq = c.batch WHERE c.id IN "
                f"({', '.join('?' * len(chunk))})", chunk)
            for cid, pos, data, vector, article_id in rows:
                cid = str(cid)
                self._claims[cid] = Claim.from_dict(json.loads(data))
                self._vectors[cid] = _units([vector])[0]
                self.arrival[cid] = int(article_id) * _PER_ARTICLE + int(pos)
            self._absent.update(set(chunk) - self._claims.keys())

    def vector(self, cid: str) -> np.ndarray:
        """The claim's unit vector (KeyError when the store has no such claim)."""
        self.fetch([cid])
        return self._vectors[cid].copy()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self.embedder is None:
            from .embed import get_embedder

            self.embedder = get_embedder()
        return self.embedder.encode(list(texts))

    # -- what ranked_trace and checked ask ----------------------------------------------
    def claim_text(self, cid: str) -> str:
        return self.claims[cid].text

    def claim_vector(self, cid: str) -> np.ndarray:
        return self.vector(cid)

    def claim_collection(self, store=None) -> Collection:
        if self._collection is None:
            self._collection = _StoreCollection(self)
        return self._collection

    def factcheck_collection(self) -> Collection | None:
        from .retrieve import factchecks_collection

        checks, vectors = self.factchecks_and_vectors()
        if not checks:
            return None
        if getattr(self, "_fc_collection", None) is None:
            self._fc_collection = factchecks_collection(checks, vectors)
        return self._fc_collection

    def factchecks_and_vectors(self) -> tuple[list, np.ndarray]:
        if self._factchecks is None:
            from .factchecks import FactCheck

            rows = self.store.factchecks() if hasattr(self.store, "factchecks") else []
            self._factchecks = (
                [FactCheck.from_dict(json.loads(data)) for _, data, _ in rows],
                np.stack([np.frombuffer(v, dtype=np.float16) for *_, v in rows]).astype(
                    np.float32) if rows else np.zeros((0, NDIM), np.float32))
        return self._factchecks

    @property
    def factchecks(self) -> list:
        return self.factchecks_and_vectors()[0]

    def checked(self, *, text: str | None = None, claim_ids: Sequence[str] = ()
                ) -> list[dict[str, Any]]:
        """The fact-checks that state the same as ``text`` or one of ``claim_ids``
        (CrossOutlet.checked)."""
        from .tracing import checked_factchecks

        return checked_factchecks(self, text=text, claim_ids=claim_ids)

    # -- clusters ------------------------------------------------------------------
    def _voices_aliases(self) -> tuple[dict[str, str], dict[str, set[str]]]:
        """article id -> voice (the first-stored article of its syndication copies) and
        outlet -> its own names, from the claim batches' heads (no claims read)."""
        if self._heads is None:
            heads = self.store.read_sql("SELECT seq, article_id, outlet, site_name, copies "
                                        "FROM claim_batches ORDER BY seq")
            order = {str(a): i for i, (_, a, *_rest) in enumerate(heads)}
            parent = {a: a for a in order}

            def find(a: str) -> str:
                return union_root(parent, a)

            aliases: dict[str, set[str]] = {}
            for _, article, outlet, site_name, copies in heads:
                if site_name and outlet:
                    aliases.setdefault(outlet, set()).add(site_name)
                for other in json.loads(copies or "[]"):
                    a, b = find(str(article)), find(str(other))
                    if b not in order or a == b:
                        continue
                    if order[a] < order[b]:
                        parent[b] = a
                    else:
                        parent[a] = b
            self._heads = ({a: find(a) for a in order}, aliases)
        return self._heads

    def voices(self) -> dict[str, str]:
        return self._voices_aliases()[0]

    def component(self, ids: Iterable[str]) -> tuple[list[str], list[Match]]:
        """The claims linked to ``ids`` by stored matches (followed both ways), and the
        matches among them."""
        seen = set(ids)
        frontier = list(seen)
        edges: dict[tuple[str, str], Match] = {}
        while frontier:
            nxt: list[str] = []
            for i in range(0, len(frontier), 400):
                chunk = frontier[i:i + 400]
                marks = ", ".join("?" * len(chunk))
                for a, b, evidence in self.store.read_sql(
                        "SELECT claim_id, other_id, evidence FROM claim_matches WHERE claim_id IN "
                        f"({marks}) OR other_id IN ({marks})", [*chunk, *chunk]):
                    a, b = str(a), str(b)
                    key = (a, b) if a < b else (b, a)
                    if key not in edges:
                        edges[key] = Match(a, b, MatchEvidence.from_dict(json.loads(evidence)))
                    for c in (a, b):
                        if c not in seen:
                            seen.add(c)
                            nxt.append(c)
            frontier = nxt
        self.fetch(seen)
        members = [c for c in seen if c in self._claims]
        return members, list(edges.values())

    def cluster_of(self, hit: set[str]):
        """The cluster of every claim grouped (by the stored matches) with one of ``hit``
        (CrossOutlet.cluster_of, reading only that part of the store)."""
        members, matches = self.component(hit)
        ids = sorted(members, key=self.arrival.__getitem__)
        chosen: list[str] = []
        for group in cluster_claims(ids, matches):
            if set(hit) & set(group):
                chosen.extend(group)
        voices, aliases = self._voices_aliases()
        return build_cluster([self._claims[c] for c in chosen], voices, self.arrival, aliases)

    def trace_claim(self, claim_id: str):
        """The cluster of a stored claim (InputError when the store has none of that id)."""
        if claim_id not in self.claims:
            raise InputError(f"no claim with id {claim_id!r}",
                             hint="list claim ids with: sourcetrace claims")
        return self.cluster_of({claim_id})


def stored_claims_ready(store) -> bool:
    """Whether ``StoredClaims`` can read ``store``: a SQL store (not the in-memory one) whose
    articles all have their claims."""
    return (getattr(store, "backend", None) in ("sqlite", "postgres")
            and hasattr(store, "read_sql") and hasattr(store, "articles_without_claims")
            and store.has_table("claim_batches") and not store.articles_without_claims())


def open_claims(store, *, embedder=None):
    """What ``trace`` reads: ``StoredClaims`` for a SQL store whose articles all have their
    claims; otherwise (an in-memory store, or articles stored without claims, which are
    completed first) the whole ``CrossOutlet`` (corroboration.sync_with_store)."""
    if stored_claims_ready(store):
        return StoredClaims(store, embedder=embedder)
    from .corroboration import CrossOutlet, sync_with_store

    return sync_with_store(store, cross=CrossOutlet(embedder=embedder))
