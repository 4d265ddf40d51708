"""Fact-checks: ClaimReview records read from what fact-checkers publish, matched to claims.

Fact-checkers publish each verdict as a schema.org ``ClaimReview`` (JSON-LD inside the
page, in feeds, or as JSON lines of such objects). ``read_factchecks`` reads any of
these from one file:

    HTML        every <script type="application/ld+json"> block of the page
    JSON        one object, a list of objects, or an object with "@graph"
    JSON lines  one ClaimReview object per line

and keeps the ClaimReview objects (nested ones too) as ``FactCheck`` records: the
claim reviewed, the rating, the fact-checker, the date and the URL. A malformed file
raises InputError naming the line or the object that is wrong; nothing is kept from
it. ``match_factchecks`` links a claim text to the fact-checks that state the same
claim, and ``match_queries`` gives each query its closest stored fact-checks with
scores and verdicts, both by ranked retrieval (retrieve.py: full-text and MiniLM
candidates, reranked by the cross-encoder):

    checks = read_factchecks("politifact-page.html")
    for fc, evidence in match_factchecks("some 300 troops refused orders", checks, vectors):
        print(fc.checker, fc.rating, fc.date, fc.url, evidence.explain())
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from ..errors import InputError
from .match import MatchEvidence, MatchOptions

__all__ = ["FactCheck", "parse_factchecks", "read_factchecks", "match_factchecks",
           "import_factchecks", "stored_factchecks", "list_factchecks", "read_queries",
           "match_queries", "article_factchecks"]

_LD_JSON = re.compile(r"<script[^>]*type\s*=\s*[\"']application/ld\+json[\"'][^>]*>(.*?)</script>",
                      re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class FactCheck:
    """One fact-checker's verdict on one claim (a schema.org ClaimReview)."""

    claim: str                        # claimReviewed
    rating: str                       # reviewRating.alternateName, else its ratingValue
    checker: str | None = None        # author.name (or publisher.name)
    date: str | None = None           # datePublished
    url: str | None = None
    claimant: str | None = None       # itemReviewed.author.name: who made the claim

    @property
    def id(self) -> str:
        key = f"{self.url or ''}\n{self.claim}"
        return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {"claim": self.claim, "rating": self.rating, "checker": self.checker,
                "date": self.date, "url": self.url, "claimant": self.claimant}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "FactCheck":
        return cls(d["claim"], d["rating"], d.get("checker"), d.get("date"), d.get("url"),
                   d.get("claimant"))

    def describe(self) -> str:
        who = self.checker or "a fact-checker"
        when = f" on {self.date}" if self.date else ""
        where = f" ({self.url})" if self.url else ""
        return f"{who} rated it \u201c{self.rating}\u201d{when}{where}"


def _name(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name")
    return str(value).strip() or None if value else None


def _is_review(obj: dict) -> bool:
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return "ClaimReview" in kinds


def _walk(value: Any) -> Iterator[dict]:
    if isinstance(value, list):
        for v in value:
            yield from _walk(v)
    elif isinstance(value, dict):
        if _is_review(value):
            yield value
        for key in ("@graph", "mainEntity", "hasPart", "itemListElement", "item"):
            if key in value:
                yield from _walk(value[key])


def _review(obj: dict, where: str) -> FactCheck:
    claim = obj.get("claimReviewed")
    rating = obj.get("reviewRating")
    if isinstance(rating, list):
        rating = rating[0] if rating else None
    verdict = None
    if isinstance(rating, dict):
        verdict = rating.get("alternateName") or rating.get("name")
        if not verdict and rating.get("ratingValue") is not None:
            best = rating.get("bestRating")
            verdict = f"{rating['ratingValue']}/{best}" if best is not None else str(rating["ratingValue"])
    if not isinstance(claim, str) or not claim.strip() or not verdict:
        missing = [k for k, ok in (("claimReviewed", isinstance(claim, str) and claim.strip()),
                                   ("reviewRating", verdict)) if not ok]
        raise InputError(f"{where}: a ClaimReview without {' and '.join(missing)}",
                         hint="each ClaimReview needs the claim reviewed and a rating "
                              "(reviewRating.alternateName or ratingValue)")
    item = obj.get("itemReviewed") if isinstance(obj.get("itemReviewed"), dict) else {}
    date = obj.get("datePublished")
    return FactCheck(claim=" ".join(claim.split()), rating=str(verdict).strip(),
                     checker=_name(obj.get("author")) or _name(obj.get("publisher")),
                     date=str(date)[:10] if date else None,
                     url=obj.get("url") if isinstance(obj.get("url"), str) else None,
                     claimant=_name(item.get("author")))


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})",
                         hint="fix or remove that part; nothing of the file was imported") from exc


def parse_factchecks(text: str, name: str = "input") -> list[FactCheck]:
    """The ClaimReview records of one HTML page, JSON-LD document or JSON-lines text."""
    stripped = text.lstrip()
    found: list[tuple[dict, str]] = []
    if stripped.startswith("<") or _LD_JSON.search(text):
        blocks = _LD_JSON.findall(text)
        for i, block in enumerate(blocks, 1):
            where = f"{name}: JSON-LD block {i}"
            found += [(obj, where) for obj in _walk(_json(block, where))]
    elif stripped.startswith(("{", "[")):
        try:
            found = [(obj, name) for obj in _walk(json.loads(text))]
        except json.JSONDecodeError:         # not one document: JSON lines
            found = []
            for n, line in enumerate(text.splitlines(), 1):
                if line.strip():
                    where = f"{name}: line {n}"
                    found += [(obj, where) for obj in _walk(_json(line, where))]
    else:
        raise InputError(f"{name}: neither HTML, JSON-LD nor JSON lines",
                         hint="give a fact-check page, a JSON-LD file or JSON lines of "
                              "ClaimReview objects")
    if not found:
        raise InputError(f"{name}: no ClaimReview found",
                         hint='fact-checks are schema.org objects with "@type": "ClaimReview"')
    return [_review(obj, where) for obj, where in found]


def read_factchecks(path: str | Path) -> list[FactCheck]:
    """``parse_factchecks`` of a file; InputError when it cannot be read."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    return parse_factchecks(text, str(path))


def match_factchecks(text: str, factchecks: Sequence[FactCheck], vectors: np.ndarray,
                     vector: np.ndarray, options: MatchOptions | None = None
                     ) -> list[tuple[FactCheck, MatchEvidence]]:
    """The fact-checks that state the same claim as ``text`` (embedded as ``vector``), best
    first, each with the evidence (``retrieve``'s hits whose verdict is ``same``).
    ``options`` is accepted for callers of the earlier matcher and not used."""
    from .retrieve import as_evidence, factchecks_collection, retrieve

    if not factchecks:
        return []
    by_id = {fc.id: fc for fc in factchecks}
    found = retrieve(text, factchecks_collection(factchecks, vectors), vector=vector, top=5)
    return [(by_id[h.id], as_evidence(h)) for h in found.confirmed]


def stored_factchecks(store) -> tuple[list[FactCheck], np.ndarray]:
    """The fact-checks kept in ``store`` and their claim vectors (float32, one row each)."""
    rows = store.factchecks()
    checks = [FactCheck.from_dict(json.loads(data)) for _, data, _ in rows]
    vectors = (np.stack([np.frombuffer(v, dtype=np.float16) for *_, v in rows]).astype(np.float32)
               if rows else np.zeros((0, 384), np.float32))
    return checks, vectors


def list_factchecks(store, *, checker: str | None = None, rating: str | None = None,
                    since: str | None = None, until: str | None = None,
                    text: str | None = None, limit: int | None = None) -> list[FactCheck]:
    """The stored fact-checks, newest first, filtered: ``checker`` and ``rating`` are
    case-insensitive substrings, ``since``/``until`` bound the date (YYYY, YYYY-MM or
    YYYY-MM-DD, inclusive), ``text`` words the claim contains (all of them)."""
    checks, _ = stored_factchecks(store)
    words = [w.lower() for w in (text or "").split()]
    out = []
    for fc in checks:
        if checker and checker.lower() not in (fc.checker or "").lower():
            continue
        if rating and rating.lower() not in fc.rating.lower():
            continue
        if since and (not fc.date or fc.date[:len(since)] < since):
            continue
        if until and (not fc.date or fc.date[:len(until)] > until):
            continue
        if words and not all(w in fc.claim.lower() for w in words):
            continue
        out.append(fc)
    out.sort(key=lambda fc: (fc.date or "", fc.id), reverse=True)
    return out[:limit] if limit else out


def read_queries(path: str | Path) -> list[dict[str, Any]]:
    """``{"id", "text"}`` JSON lines (``id`` defaults to the line number); InputError naming
    the line that is wrong."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        row = _json(line, f"{path}: line {n}")
        text = row.get("text") if isinstance(row, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"{path}: line {n}: no \"text\" to match",
                             hint='each line is a JSON object such as {"id": "q1", "text": "..."}')
        out.append({"id": row.get("id", n), "text": text})
    return out


def match_queries(queries: Sequence[dict[str, Any]], store, *, top: int = 5,
                  batch: int = 32, embedder=None, reranker=None) -> Iterator[dict[str, Any]]:
    """For each ``{"id", "text"}`` query, the ``top`` closest stored fact-checks, best first:
    ``{"id", "verdict", "matches": [{"rank", "url", "claim", "rating", "checker", "date",
    "score", "probability", "verdict", "cosine", "conflicts"}, ...]}``. The verdict of the
    query is "same" when a fact-check states its claim, else "no confirmed match"."""
    from .retrieve import factchecks_collection, retrieve_many

    checks, vectors = stored_factchecks(store)
    collection = factchecks_collection(checks, vectors, store=store)
    for start in range(0, len(queries), batch):
        chunk = queries[start:start + batch]
        found = retrieve_many([q["text"] for q in chunk], collection, top=top,
                              embedder=embedder, reranker=reranker)
        for q, r in zip(chunk, found):
            yield {"id": q["id"], "verdict": r.verdict,
                   "matches": [{"rank": h.rank, "url": h.record.get("url"),
                                "claim": h.text, "rating": h.record.get("rating"),
                                "checker": h.record.get("checker"), "date": h.record.get("date"),
                                "score": round(h.score, 4), "probability": round(h.probability, 4),
                                "verdict": h.verdict, "cosine": round(h.cosine, 4),
                                "conflicts": list(h.conflicts)} for h in r.hits]}


def article_factchecks(analysis, store, *, top: int = 3, embedder=None, reranker=None
                       ) -> list[dict[str, Any]]:
    """The stored fact-checks of an analysed article's claims (claims.extract_claims): for
    each claim with a fact-check marked ``same`` or ``contradicts``, ``{"claim_id",
    "claim", "matches": [{"rank", "verdict", "probability", "score", "claim", "rating",
    "checker", "date", "url"}, ...]}`` (those hits only, best first)."""
    from .claims import extract_claims
    from .retrieve import CONTRADICTS, SAME, factchecks_collection, retrieve_many

    checks, vectors = stored_factchecks(store)
    if not checks:
        return []
    claims = extract_claims(analysis, article_id=str((analysis.meta or {}).get("id") or "article"))
    if not claims:
        return []
    collection = factchecks_collection(checks, vectors, store=store)
    found = retrieve_many([c.text for c in claims], collection, top=top, embedder=embedder,
                          reranker=reranker)
    out = []
    for claim, r in zip(claims, found):
        hits = [h for h in r.hits if h.verdict in (SAME, CONTRADICTS)]
        if hits:
            out.append({"claim_id": claim.id, "claim": claim.text, "matches": [
                {"rank": h.rank, "verdict": h.verdict, "probability": round(h.probability, 4),
                 "score": round(h.score, 4), "claim": h.text, "rating": h.record.get("rating"),
                 "checker": h.record.get("checker"), "date": h.record.get("date"),
                 "url": h.record.get("url"), "conflicts": list(h.conflicts)} for h in hits]})
    return out


def import_factchecks(store, path: str | Path, embedder=None) -> list[FactCheck]:
    """Read a file of ClaimReviews and keep them in ``store`` with the embedding of
    each claim (one transaction); the fact-checks imported. A malformed file raises
    InputError and imports nothing."""
    checks = read_factchecks(path)
    if embedder is None:
        from .embed import get_embedder

        embedder = get_embedder()
    vectors = np.asarray(embedder.encode([fc.claim for fc in checks]), dtype=np.float32)
    store.add_factchecks((fc.id, json.dumps(fc.to_dict(), ensure_ascii=False),
                          v.astype(np.float16).tobytes()) for fc, v in zip(checks, vectors))
    from .retrieve import fill_text_search

    fill_text_search(store, "factchecks")      # indexed here, so that readers never write
    return checks
