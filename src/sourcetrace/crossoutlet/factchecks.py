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
claim, with the same confirmation checks as claims across outlets (match.confirm):

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
from .match import MatchEvidence, MatchOptions, confirm

__all__ = ["FactCheck", "parse_factchecks", "read_factchecks", "match_factchecks",
           "import_factchecks"]

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
    """The fact-checks whose claim is the same as ``text`` (embedded as ``vector``),
    best first, each with the evidence of the match."""
    if not factchecks:
        return []
    unit = vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
    cosines = unit @ (vector / max(float(np.linalg.norm(vector)), 1e-12))
    out = []
    for i in np.argsort(-cosines)[:20]:
        evidence = confirm(text, factchecks[int(i)].claim, float(cosines[int(i)]), options)
        if evidence.same:
            out.append((factchecks[int(i)], evidence))
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
    return checks
