"""Syndication: near-duplicate articles (wire copies, reposts) clustered into one voice.

An article is a set of word shingles of its cleaned text (boilerplate removed,
lower-cased, punctuation dropped). MinHash signatures (datasketch) estimate the
Jaccard similarity of two such sets; an LSH index finds candidates without
comparing every pair. Wire copies are often trimmed (paragraphs dropped) or
extended (a trailer added), which lowers Jaccard but not containment, so a
candidate is confirmed as a copy when either

    jaccard     >= jaccard_threshold, or
    containment >= containment_threshold  (share of the smaller article's
                                           shingles found in the larger one)

Containment is derived from the estimated Jaccard J and the two set sizes:
|A ∩ B| = J (|A| + |B|) / (1 + J). Clusters are the connected components of
confirmed copies (union-find), built incrementally as articles arrive:

    index = SyndicationIndex()
    copies = index.add("a1", text)            # -> [Duplicate(...)]: what it copies, and why
    index.cluster_of("a1")                    # cluster id = first article seen
    index.clusters()                          # {cluster_id: [article ids]}

Signatures serialise (``signature_bytes``/``add_signature``) so a store can
rebuild the index without the texts.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from ..errors import ConfigError

__all__ = ["SyndicationOptions", "SyndicationIndex", "Duplicate", "shingles",
           "normalize_text", "cleaned_text", "cluster_texts"]

SCHEME = "affine32"        # datasketch's MinHash permutation scheme (32-bit hash values)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)


@dataclass(frozen=True)
class SyndicationOptions:
    """Every option of near-duplicate detection, with its default.

    shingle_size=5             words per shingle
    num_perm=128               MinHash permutations
    lsh_threshold=0.2          Jaccard at which LSH starts returning candidates
    jaccard_threshold=0.5      a candidate at or above this estimated Jaccard is a copy
    containment_threshold=0.7  ... or at or above this containment of the smaller text
    min_shingles=20            shorter texts are too short to call copies by containment
    seed=1                     MinHash seed (signatures from different seeds never compare)
    """

    shingle_size: int = 5
    num_perm: int = 128
    lsh_threshold: float = 0.2
    jaccard_threshold: float = 0.5
    containment_threshold: float = 0.7
    min_shingles: int = 20
    seed: int = 1

    def __post_init__(self) -> None:
        if self.shingle_size < 1 or self.num_perm < 16:
            raise ConfigError("shingle_size must be >= 1 and num_perm >= 16")
        for name in ("lsh_threshold", "jaccard_threshold", "containment_threshold"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} must be in (0, 1], got {getattr(self, name)!r}")


@dataclass(frozen=True)
class Duplicate:
    """Why two articles are one voice: the estimated Jaccard and containment."""

    article_id: str
    other_id: str
    jaccard: float
    containment: float
    reason: str            # "jaccard" or "containment"

    def to_dict(self) -> dict:
        return {"article_id": self.article_id, "other_id": self.other_id,
                "jaccard": round(self.jaccard, 4), "containment": round(self.containment, 4),
                "reason": self.reason}


def normalize_text(text: str) -> list[str]:
    """Lower-cased words, accents and punctuation dropped, curly apostrophes straightened."""
    text = unicodedata.normalize("NFKC", text).replace("’", "'").lower()
    return _WORD.findall(text)


def cleaned_text(analysis) -> str:
    """An Analysis' text with its boilerplate spans cut out."""
    text = analysis.text
    if not analysis.boilerplate:
        return text
    parts, pos = [], 0
    for span in sorted(analysis.boilerplate):
        if span.start > pos:
            parts.append(text[pos:span.start])
        pos = max(pos, span.end)
    parts.append(text[pos:])
    return "\n".join(parts)


def shingles(text: str, size: int = 5) -> set[str]:
    """Word shingles of the normalised text (a short text yields itself as one shingle)."""
    words = normalize_text(text)
    if not words:
        return set()
    if len(words) <= size:
        return {" ".join(words)}
    return {" ".join(words[i:i + size]) for i in range(len(words) - size + 1)}


class SyndicationIndex:
    """Incremental near-duplicate clustering (MinHash LSH + union-find)."""

    def __init__(self, options: SyndicationOptions | None = None) -> None:
        self.options = options or SyndicationOptions()
        self._lsh = None                  # MinHashLSH, built when a new text arrives
        self._unindexed: list[str] = []   # known articles not yet in the LSH
        self._signatures: dict[str, object] = {}     # MinHash, or (bytes) until needed
        self._sizes: dict[str, int] = {}
        self._parent: dict[str, str] = {}
        self._order: dict[str, int] = {}
        self.evidence: dict[str, list[Duplicate]] = {}

    # -- signatures -------------------------------------------------------------
    def signature(self, text: str):
        """The MinHash of a text, and its shingle count."""
        from datasketch import MinHash

        grams = shingles(text, self.options.shingle_size)
        mh = MinHash(num_perm=self.options.num_perm, seed=self.options.seed, scheme=SCHEME)
        if grams:
            mh.update_batch([g.encode("utf-8") for g in grams])
        return mh, len(grams)

    def signature_bytes(self, article_id: str) -> tuple[bytes, int]:
        """The stored signature of an article as bytes (for a store) and its shingle count."""
        mh = self._signatures[article_id]
        if isinstance(mh, bytes):
            return mh, self._sizes[article_id]
        return np.asarray(mh.hashvalues, dtype=np.uint32).tobytes(), self._sizes[article_id]

    def _minhash(self, article_id: str):
        mh = self._signatures[article_id]
        if isinstance(mh, bytes):
            from datasketch import MinHash

            mh = MinHash(num_perm=self.options.num_perm, seed=self.options.seed,
                         hashvalues=np.frombuffer(mh, dtype=np.uint32).copy(), scheme=SCHEME)
            self._signatures[article_id] = mh
        return mh

    def _index(self):
        """The LSH over every article's signature (built on first need)."""
        if self._lsh is None:
            from datasketch import MinHashLSH

            self._lsh = MinHashLSH(threshold=self.options.lsh_threshold,
                                   num_perm=self.options.num_perm)
        for aid in self._unindexed:
            if self._sizes[aid]:
                self._lsh.insert(aid, self._minhash(aid))
        self._unindexed = []
        return self._lsh

    def add_known(self, article_id: str, hashvalues: bytes, size: int,
                  copies: Iterable[str] = ()) -> None:
        """Add an article whose copies are already known (read back from a store):
        no MinHash is computed and nothing is imported until a new text arrives."""
        if article_id in self._signatures:
            return
        if len(hashvalues) != 4 * self.options.num_perm:
            raise ConfigError(f"stored signature has {len(hashvalues) // 4} permutations, "
                              f"the index uses {self.options.num_perm}")
        self._signatures[article_id] = bytes(hashvalues)
        self._sizes[article_id] = size
        self._parent[article_id] = article_id
        self._order[article_id] = len(self._order)
        self._unindexed.append(article_id)
        for other in copies:
            if other in self._parent:
                self._union(article_id, other)

    # -- adding -----------------------------------------------------------------
    def __contains__(self, article_id: str) -> bool:
        return article_id in self._signatures

    def __len__(self) -> int:
        return len(self._signatures)

    def add(self, article_id: str, text: str) -> list[Duplicate]:
        """Add an article; returns the copies it was found to be (empty: a new voice)."""
        mh, size = self.signature(text)
        return self._add(article_id, mh, size)

    def add_signature(self, article_id: str, hashvalues: bytes, size: int) -> list[Duplicate]:
        """Add an article from a stored signature (see ``signature_bytes``)."""
        from datasketch import MinHash

        values = np.frombuffer(hashvalues, dtype=np.uint32)
        if len(values) != self.options.num_perm:
            raise ConfigError(f"stored signature has {len(values)} permutations, "
                              f"the index uses {self.options.num_perm}")
        mh = MinHash(num_perm=self.options.num_perm, seed=self.options.seed,
                     hashvalues=values.copy(), scheme=SCHEME)
        return self._add(article_id, mh, size)

    def copies_of(self, article_id: str, mh, size: int) -> list[Duplicate]:
        """The known articles that an article not yet added (signature ``mh``, ``size``
        shingles) copies, most similar first; nothing is added. The relation is
        symmetric, so an article's copies do not depend on which of two came first."""
        found: list[Duplicate] = []
        if size:
            for other in self._index().query(mh):
                if other != article_id:
                    decision = self.compare(article_id, mh, size, other)
                    if decision is not None:
                        found.append(decision)
        found.sort(key=lambda d: (-d.jaccard, d.other_id))
        return found

    def _add(self, article_id: str, mh, size: int) -> list[Duplicate]:
        if article_id in self._signatures:
            return self.evidence.get(article_id, [])
        found: list[Duplicate] = []
        lsh = self._index()
        if size:
            for other in lsh.query(mh):
                decision = self.compare(article_id, mh, size, other)
                if decision is not None:
                    found.append(decision)
        self._signatures[article_id] = mh
        self._sizes[article_id] = size
        self._parent[article_id] = article_id
        self._order[article_id] = len(self._order)
        if size:
            lsh.insert(article_id, mh)
        for d in found:
            self._union(article_id, d.other_id)
        found.sort(key=lambda d: -d.jaccard)
        self.evidence[article_id] = found
        return found

    def compare(self, article_id: str, mh, size: int, other: str) -> Duplicate | None:
        """Decide whether an article (signature ``mh``, ``size`` shingles) copies ``other``."""
        o = self.options
        other_size = self._sizes[other]
        jaccard = float(mh.jaccard(self._minhash(other)))
        inter = jaccard * (size + other_size) / (1.0 + jaccard)
        smaller = min(size, other_size)
        containment = min(1.0, inter / smaller) if smaller else 0.0
        if jaccard >= o.jaccard_threshold:
            return Duplicate(article_id, other, jaccard, containment, "jaccard")
        if smaller >= o.min_shingles and containment >= o.containment_threshold:
            return Duplicate(article_id, other, jaccard, containment, "containment")
        return None

    # -- clusters ---------------------------------------------------------------
    def _find(self, a: str) -> str:
        root = a
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[a] != root:
            self._parent[a], a = root, self._parent[a]
        return root

    def _union(self, a: str, b: str) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra == rb:
            return
        # the cluster is named after its first-seen article
        if self._order[ra] < self._order[rb]:
            self._parent[rb] = ra
        else:
            self._parent[ra] = rb

    def cluster_of(self, article_id: str) -> str:
        """The cluster id (the first-seen article of its cluster) of an article."""
        if article_id not in self._parent:
            raise KeyError(article_id)
        return self._find(article_id)

    def clusters(self, *, min_size: int = 1) -> dict[str, list[str]]:
        """Every cluster with at least ``min_size`` articles, members in arrival order."""
        groups: dict[str, list[str]] = {}
        for a in sorted(self._order, key=self._order.__getitem__):
            groups.setdefault(self._find(a), []).append(a)
        return {k: v for k, v in groups.items() if len(v) >= min_size}

    def voices(self) -> dict[str, str]:
        """article id -> cluster id, for every article."""
        return {a: self._find(a) for a in self._order}


def cluster_texts(items: Iterable[tuple[str, str]],
                  options: SyndicationOptions | None = None) -> SyndicationIndex:
    """Build an index from (article id, text) pairs."""
    index = SyndicationIndex(options)
    for article_id, text in items:
        index.add(article_id, text)
    return index
