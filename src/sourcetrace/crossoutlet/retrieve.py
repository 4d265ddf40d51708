"""Ranked retrieval of claims: every stored claim or fact-check that may state a claim, best first.

One function, ``retrieve``, serves ``trace``, ``factchecks match``, the article view, the API
and the web UI. For a query (free text, or the text of a stored claim) it

1. takes candidates from two searches over a ``Collection`` (the store's claims, or its
   fact-checks):
   lexical  the store's full-text search (SQLite FTS5, PostgreSQL text search:
            corpus/store/search.py), or an in-memory BM25 index where the store has none
   dense    the packaged MiniLM's vectors (embed.py) kept with each claim, searched with
            match.ClaimIndex (one matrix product; an HNSW graph past 100,000 claims)
2. fuses the two rankings by reciprocal rank fusion (1 / (60 + rank), summed),
3. reranks the first ``depth`` fused candidates with the cross-encoder (rerank.py), which
   reads the query and the candidate together, and turns its logit and the cosine into a
   calibrated probability that the candidate states the same claim,
4. gives every hit a verdict:
   same         probability >= the calibrated threshold and no conflict found
   contradicts  a conflict (numbers, dates, a negation or an antonym differ: the checks
                of match.py) between claims that would otherwise be `same` by probability,
                or whose cosine is at least 0.75
   related      the rest: the closest claims on the topic, not the same claim, among them
                claims of other named actors or of the same actors in swapped roles
                ("Russia accused Ukraine" / "Ukraine accused Russia": match.entity_conflict,
                match.role_swap), which are never `same`

The closest ``top`` hits are always returned with their scores; when none is ``same`` the
result's verdict is "no confirmed match", shown with them::

    found = retrieve("300 Russian soldiers would not follow orders", collection, top=5)
    found.verdict                      # "same" or "no confirmed match"
    for hit in found.hits:
        print(hit.rank, hit.probability, hit.verdict, hit.text)
"""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from .match import (ClaimIndex, entity_conflict, extract_dates, extract_numbers,
                    negation_conflict, negation_count, polarity_conflict, role_swap)

__all__ = ["Hit", "Retrieval", "Collection", "LexicalIndex", "retrieve", "retrieve_many",
           "store_text_search", "store_search_ready", "fill_text_search",
           "conflicts", "claims_collection", "factchecks_collection", "claim_record",
           "as_evidence", "SAME", "RELATED", "CONTRADICTS", "NO_MATCH", "RRF_K"]

SAME, RELATED, CONTRADICTS = "same", "related", "contradicts"
NO_MATCH = "no confirmed match"
RRF_K = 60                  # reciprocal rank fusion constant (Cormack et al. 2009)
DEPTH = 10                  # candidates reranked per query (CLEF calibration MAP@5 flat from 10 to 30)
CONTRADICT_COSINE = 0.75    # a conflict between claims this close is a contradiction
ENTITY_MIN_OVERLAP = 0.5    # names shared (Jaccard) under which two claims are of other actors
ACTORS = ("actors", "roles")   # the conflicts that make a claim another one, not a contradiction


@dataclass(frozen=True)
class Hit:
    """One ranked candidate: what it is, how it scored and the verdict."""

    rank: int
    id: str
    text: str
    score: float                 # the rank score: logit + w * cosine (rerank.py)
    probability: float           # calibrated P(states the same claim)
    verdict: str                 # same | related | contradicts
    cosine: float
    lexical_rank: int | None = None
    dense_rank: int | None = None
    conflicts: tuple[str, ...] = ()
    record: Mapping[str, Any] | None = None     # the claim's or fact-check's fields
    logit: float = 0.0                          # the cross-encoder's logit alone

    def to_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "id": self.id, "text": self.text,
                "score": round(self.score, 4), "probability": round(self.probability, 4),
                "verdict": self.verdict, "cosine": round(self.cosine, 4),
                "logit": round(self.logit, 4),
                "lexical_rank": self.lexical_rank, "dense_rank": self.dense_rank,
                "conflicts": list(self.conflicts),
                "record": dict(self.record) if self.record is not None else None}


@dataclass(frozen=True)
class Retrieval:
    """The ranked hits for one query, best first."""

    query: str
    hits: tuple[Hit, ...]

    @property
    def confirmed(self) -> tuple[Hit, ...]:
        return tuple(h for h in self.hits if h.verdict == SAME)

    @property
    def verdict(self) -> str:
        return SAME if self.confirmed else NO_MATCH

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "verdict": self.verdict,
                "hits": [h.to_dict() for h in self.hits]}


# ---------------------------------------------------------------------------
# Lexical search without a store: BM25 over an inverted index

_WORD = re.compile(r"[a-z0-9]+")


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _terms(text: str) -> list[str]:
    from ..corpus.store.search import STOPWORDS

    return [_stem(w) for w in _WORD.findall(text.lower())
            if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


class LexicalIndex:
    """BM25 (k1 1.2, b 0.75) over the texts added, for collections without a store search."""

    def __init__(self) -> None:
        self._postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self._lengths: list[int] = []
        self._ids: list[str] = []
        self._known: set[str] = set()

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, ids: Sequence[str], texts: Sequence[str]) -> None:
        for cid, text in zip(ids, texts):
            if cid in self._known:
                continue
            self._known.add(cid)
            doc = len(self._ids)
            self._ids.append(cid)
            terms = _terms(text)
            self._lengths.append(len(terms))
            for term, n in Counter(terms).items():
                self._postings[term].append((doc, n))

    def search(self, text: str, k: int) -> list[tuple[str, float]]:
        if not self._ids:
            return []
        n_docs = len(self._ids)
        mean = max(sum(self._lengths) / n_docs, 1.0)
        scores: dict[int, float] = defaultdict(float)
        for term in set(_terms(text)):
            posting = self._postings.get(term)
            if not posting:
                continue
            idf = math.log(1 + (n_docs - len(posting) + 0.5) / (len(posting) + 0.5))
            for doc, tf in posting:
                norm = tf + 1.2 * (0.25 + 0.75 * self._lengths[doc] / mean)
                scores[doc] += idf * tf * 2.2 / norm
        best = sorted(scores.items(), key=lambda x: (-x[1], x[0]))[:k]
        return [(self._ids[d], s) for d, s in best]


# ---------------------------------------------------------------------------
# Lexical search in a store, read only

_FTS = {"claims": ("claims_fts", "$.text"), "factchecks": ("factchecks_fts", "$.claim")}


def store_search_ready(store, table: str) -> bool:
    """Whether ``store`` searches the text of ``table`` ("claims" or "factchecks") itself:
    SQLite with its FTS5 table, PostgreSQL with its text search (corpus/store/search.py)."""
    backend = getattr(store, "backend", None)
    if backend == "sqlite":
        return store.has_table(_FTS[table][0])
    if backend == "postgres":
        from ..corpus.store.search import search_text

        return search_text(store, table, "", 1) is not None     # reads only on PostgreSQL
    return False


def store_text_search(store, table: str, text: str, k: int) -> list[tuple[str, float]]:
    """Up to ``k`` (id, score) of ``table`` sharing words with ``text``, best first, without
    writing to the store: on SQLite the FTS5 index as the writers left it (a claim batch
    and a fact-check import index their rows: fill_text_search), with the rows no writer
    has indexed yet (a corpus written by an older version) searched in memory by BM25 and
    merged by score; on PostgreSQL its text search (always up to date)."""
    from ..corpus.store.search import query_words, search_text

    if getattr(store, "backend", None) != "sqlite":
        return search_text(store, table, text, k) or []
    words = query_words(text)
    if not words:
        return []
    fts, path = _FTS[table]
    found: list[tuple[str, float]] = []
    last: list = []
    if store.has_table(fts):              # (a schema before the full-text tables: all in memory)
        last = store.read_sql(f"SELECT rowid FROM {fts} ORDER BY rowid DESC LIMIT 1")
        found = [(str(i), -float(s)) for i, s in store.read_sql(
            f"SELECT t.id, bm25({fts}) AS s FROM {fts} JOIN {table} t ON t.rowid = {fts}.rowid "
            f"WHERE {fts} MATCH ? ORDER BY s LIMIT ?",
            (" OR ".join(f'"{w}"' for w in words), int(k)))]
    tail = store.read_sql(f"SELECT id, json_extract(data, ?) FROM {table} WHERE rowid > ?",
                          (path, int(last[0][0]) if last else 0))
    if tail:
        index = LexicalIndex()
        index.add([str(r[0]) for r in tail], [r[1] or "" for r in tail])
        found = sorted(found + index.search(text, k), key=lambda x: (-x[1], x[0]))[:k]
    return found


def fill_text_search(store, table: str) -> None:
    """Index the rows of ``table`` written since in the store's full-text search (SQLite
    FTS5; PostgreSQL needs nothing): the writer's part, after it writes them, so that
    readers never write."""
    if getattr(store, "backend", None) != "sqlite" or getattr(store, "readonly", False):
        return
    from ..corpus.store.search import search_text

    search_text(store, table, "", 1)          # indexes the rows added, then finds nothing


# ---------------------------------------------------------------------------
# What is searched

@dataclass
class Collection:
    """Texts to retrieve from: a dense index (vectors by id), the texts (or a way to read
    them), a lexical search, and the fields each hit carries.

    ``store``/``table`` give the store's full-text search ("claims" or "factchecks"); without
    them, or where the store has none, the texts added are indexed in memory (BM25).
    """

    index: ClaimIndex = field(default_factory=ClaimIndex)
    text_of: Callable[[str], str] | None = None
    record_of: Callable[[str], Mapping[str, Any]] | None = None
    store: Any = None
    table: str = "claims"
    lexical: LexicalIndex | None = None
    _texts: dict[str, str] = field(default_factory=dict, repr=False)
    _record_map: dict[str, Mapping[str, Any]] = field(default_factory=dict, repr=False)
    _ready: bool | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.index)

    def add(self, ids: Sequence[str], texts: Sequence[str], vectors: np.ndarray,
            records: Sequence[Mapping[str, Any]] | None = None) -> None:
        """Add texts with their (MiniLM) vectors; ids already present are kept as they are."""
        self.index.add(list(ids), np.asarray(vectors, dtype=np.float32))
        for i, (cid, text) in enumerate(zip(ids, texts)):
            self._texts.setdefault(cid, text)
            if records is not None:
                self._record_map[cid] = records[i]
        if self._store_search_ready() is False:
            if self.lexical is None:
                self.lexical = LexicalIndex()
            self.lexical.add(list(ids), list(texts))

    def text(self, cid: str) -> str:
        if cid in self._texts:
            return self._texts[cid]
        if self.text_of is None:
            raise KeyError(cid)
        return self.text_of(cid)

    def record(self, cid: str) -> Mapping[str, Any] | None:
        if self.record_of is not None:
            return self.record_of(cid)
        return self._record_map.get(cid)

    def vector(self, cid: str) -> np.ndarray:
        """The unit vector of ``cid``."""
        return self.index.vector(cid)

    def prefetch(self, ids: Sequence[str]) -> None:
        """Read what the texts and records of ``ids`` need at once (nothing in memory)."""

    def _store_search_ready(self) -> bool:
        if self.store is None:
            return False
        if self._ready is None:
            self._ready = store_search_ready(self.store, self.table)
        return self._ready

    def lexical_search(self, text: str, k: int) -> list[tuple[str, float]]:
        if self._store_search_ready():
            found = store_text_search(self.store, self.table, text, k)
            return [(cid, s) for cid, s in found if cid in self.index]
        if self.lexical is None:
            self.lexical = LexicalIndex()
        if len(self.lexical) < len(self.index):      # claims indexed since: add them
            ids = self.index.ids()[len(self.lexical):]
            self.lexical.add(ids, [self.text(cid) for cid in ids])
        return self.lexical.search(text, k)


# ---------------------------------------------------------------------------
# Checks and verdicts

def conflicts(a: str, b: str, *, entity_overlap: float | None = None) -> tuple[str, ...]:
    """What differs between two claim texts (match.py's checks): numbers, dates, a negated
    word or an antonym pair, which make them contradict; other named actors
    (``entity_overlap``: the names two claims must share, default ENTITY_MIN_OVERLAP) or
    the same actors in swapped roles, which make them two claims."""
    out = []
    names = entity_conflict(a, b, ENTITY_MIN_OVERLAP if entity_overlap is None
                            else entity_overlap)
    if names:
        out.append("actors: " + names)
    swapped = role_swap(a, b)
    if swapped:
        out.append(f"roles: '{swapped[0]}' and '{swapped[1]}' swapped")
    dates_a, spans_a = extract_dates(a)
    dates_b, spans_b = extract_dates(b)
    na, nb = extract_numbers(a, skip=spans_a), extract_numbers(b, skip=spans_b)
    if na - nb and nb - na:
        out.append("numbers: " + _fmt(na) + " vs " + _fmt(nb))
    if _dates_conflict(dates_a, dates_b):
        out.append("dates: " + _fmt(dates_a) + " vs " + _fmt(dates_b))
    word = negation_conflict(a, b)
    if word:
        out.append(f"negation: '{word}' negated in one only")
    pair = polarity_conflict(a, b)
    if pair and negation_count(a) % 2 == negation_count(b) % 2:
        out.append(f"polarity: '{pair[0]}' vs '{pair[1]}'")
    return tuple(out)


def _dates_conflict(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two sets of dates (match.extract_dates) cannot be the same: both give a year,
    a month, a day of a month or a weekday and none of them agree. A day is a month too, so
    "September 4, 2019" and "September 2019" agree."""
    def fields(dates: frozenset[str]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {"year": set(), "month": set(), "day": set(), "weekday": set()}
        for d in dates:
            if d.startswith("y"):
                out["year"].add(d)
            elif d.startswith("m"):
                out["month"].add(d.split("-")[0])
                if "-" in d:
                    out["day"].add(d)
            else:
                out["weekday"].add(d)
        return out

    fa, fb = fields(a), fields(b)
    return any(fa[k] and fb[k] and not fa[k] & fb[k] for k in fa)


def _fmt(values: Iterable) -> str:
    return "{" + ", ".join(f"{v:g}" if isinstance(v, float) else str(v)
                           for v in sorted(values, key=str)) + "}"


def verdict(probability: float, cosine: float, found: Sequence[str], reranker, *,
            logit: float = 99.0, near_best: bool = True) -> str:
    """``contradicts`` when a conflict is found between close claims about the same actors;
    ``same`` when no conflict is found and the calibrated probability, the cross-encoder's
    own logit and the distance to the best hit (``near_best``) all pass their thresholds;
    else ``related`` (other actors, or the same actors in swapped roles, make another claim,
    not a contradiction)."""
    other_actors = any(c.split(":")[0] in ACTORS for c in found)
    if found and not other_actors and (probability >= reranker.same_threshold
                                       or cosine >= CONTRADICT_COSINE):
        return CONTRADICTS
    if (probability >= reranker.same_threshold and logit >= reranker.min_logit and near_best
            and not found):
        return SAME
    return RELATED


# ---------------------------------------------------------------------------
# The one function

def retrieve(query: str, collection: Collection, *, top: int = 10, depth: int = DEPTH,
             vector: np.ndarray | None = None, exclude: Iterable[str] = (),
             embedder=None, reranker=None) -> Retrieval:
    """The ``top`` claims of ``collection`` closest to stating ``query``, best first.

    ``vector``: the query's MiniLM vector when known (a stored claim's); ``exclude``: ids
    never returned (the claim itself when tracing a stored claim)."""
    return retrieve_many([query], collection, top=top, depth=depth,
                         vectors=None if vector is None else np.atleast_2d(vector),
                         exclude=exclude, embedder=embedder, reranker=reranker)[0]


def retrieve_many(queries: Sequence[str], collection: Collection, *, top: int = 10,
                  depth: int = DEPTH, vectors: np.ndarray | None = None,
                  exclude: Iterable[str] = (), embedder=None, reranker=None
                  ) -> list[Retrieval]:
    """``retrieve`` for many queries (the dense search is one matrix product for all)."""
    if isinstance(queries, str):
        raise TypeError("retrieve_many() takes a sequence of queries")
    if reranker is None:
        from .rerank import get_reranker

        reranker = get_reranker()
    if vectors is None:
        if embedder is None:
            from .embed import get_embedder

            embedder = get_embedder()
        vectors = embedder.encode(list(queries))
    vectors = np.asarray(vectors, dtype=np.float32)
    skip = set(exclude)
    depth = max(depth, top)
    # exact unless the graph is already built: a one-shot trace never pays for building it
    dense_all = collection.index.search(vectors, depth + len(skip),
                                        exact=True if not collection.index.has_graph else None) \
        if len(collection) else [[] for _ in queries]
    out = []
    for query, qv, dense in zip(queries, vectors, dense_all):
        dense = [(cid, c) for cid, c in dense if cid not in skip][:depth]
        lexical = [cid for cid, _ in collection.lexical_search(query, depth + len(skip))
                   if cid not in skip][:depth]
        fused: dict[str, float] = defaultdict(float)
        dense_rank = {cid: r for r, (cid, _) in enumerate(dense, 1)}
        lexical_rank = {cid: r for r, cid in enumerate(lexical, 1)}
        for cid, r in dense_rank.items():
            fused[cid] += 1.0 / (RRF_K + r)
        for cid, r in lexical_rank.items():
            fused[cid] += 1.0 / (RRF_K + r)
        ids = sorted(fused, key=lambda c: (-fused[c], c))[:depth]
        if not ids:
            out.append(Retrieval(query, ()))
            continue
        collection.prefetch(ids)
        cos = {cid: c for cid, c in dense}
        unit = qv / max(float(np.linalg.norm(qv)), 1e-12)
        cosines = np.array([cos[c] if c in cos else float(collection.vector(c) @ unit)
                            for c in ids], dtype=np.float32)
        texts = [collection.text(c) for c in ids]
        logits = reranker.score(query, texts)
        probs = reranker.probability(logits, cosines)
        scores = reranker.rank_score(logits, cosines)
        order = sorted(range(len(ids)), key=lambda i: (-probs[i], -cosines[i], ids[i]))[:top]
        best = float(scores.max())
        hits = []
        for rank, i in enumerate(order, 1):
            found = conflicts(query, texts[i])
            near = float(scores[i]) >= best - reranker.same_margin
            hits.append(Hit(rank, ids[i], texts[i], float(scores[i]), float(probs[i]),
                            verdict(float(probs[i]), float(cosines[i]), found, reranker,
                                    logit=float(logits[i]), near_best=near),
                            float(cosines[i]), lexical_rank.get(ids[i]), dense_rank.get(ids[i]),
                            found, collection.record(ids[i]), float(logits[i])))
        out.append(Retrieval(query, tuple(hits)))
    return out


# ---------------------------------------------------------------------------
# The collections sourcetrace searches: a corpus's claims, its fact-checks

def claims_collection(cross, store=None) -> Collection:
    """The claims of a ``CrossOutlet`` (its index and vectors, no copy), with the store's
    full-text search when ``store`` is given and open; kept on ``cross`` for reuse."""
    found = getattr(cross, "_retrieval", None)
    if found is None or found.store is not store:
        found = Collection(index=cross.matcher.index,
                           text_of=lambda cid: cross.claims[cid].text,
                           record_of=lambda cid: claim_record(cross.claims[cid]),
                           store=store, table="claims")
        cross._retrieval = found
    return found


def claim_record(claim) -> dict[str, Any]:
    """The fields a claim hit carries: where the claim was published and who said it."""
    return {"article_id": claim.article_id, "outlet": claim.outlet, "date": claim.date,
            "url": claim.url, "kind": claim.kind,
            "source": claim.source.describe() if claim.source else None}


def factchecks_collection(factchecks: Sequence, vectors: np.ndarray, store=None) -> Collection:
    """Fact-checks (factchecks.FactCheck) and their claim vectors as a Collection."""
    by_id = {fc.id: fc for fc in factchecks}
    collection = Collection(store=store, table="factchecks",
                            record_of=lambda cid: {"id": cid, **by_id[cid].to_dict()})
    if factchecks:
        collection.add([fc.id for fc in factchecks], [fc.claim for fc in factchecks], vectors)
    return collection


def as_evidence(hit: Hit):
    """A hit as match.MatchEvidence (the record the matcher's readers know)."""
    from .match import Check, MatchEvidence

    checks = [Check("reranker", hit.verdict == SAME,
                    f"probability {hit.probability:.3f}, verdict {hit.verdict}")]
    checks += [Check(c.split(":")[0], False, c.split(": ", 1)[-1]) for c in hit.conflicts]
    return MatchEvidence(hit.cosine, tuple(checks), hit.verdict == SAME, hit.probability)

