"""Trace with ranked retrieval: the closest claims for a text or a stored claim, the closest
fact-checks, and the provenance cluster of the claims marked ``same``.

``ranked_trace`` is what ``sourcetrace trace``, ``GET /api/trace`` and the web UI's trace page
call (retrieve.py ranks; corroboration.py builds the cluster). It takes the claims as a
``CrossOutlet`` (every claim in memory) or as stored.StoredClaims (a store read only as far as
the trace needs)::

    ranked, checks, cluster = ranked_trace(cross, text="300 troops refused orders", store=store)
"""
from __future__ import annotations

from typing import Any, Sequence

from .retrieve import Retrieval, as_evidence, retrieve

__all__ = ["ranked_trace", "checked_factchecks"]


def ranked_trace(cross, *, text: str | None = None, claim_id: str | None = None, top: int = 10,
                 store=None) -> tuple[Retrieval, Retrieval | None, Any]:
    """The ranked list for a free text or a stored claim (the claim itself left out), the
    closest fact-checks when ``cross`` has any, and the cluster of the claims marked
    ``same`` merged with the claim's own (None when there is none)."""
    if (text is None) == (claim_id is None):
        raise ValueError("give text or claim_id")
    if claim_id is not None:
        query, vector, exclude = cross.claim_text(claim_id), cross.claim_vector(claim_id), \
            {claim_id}
    else:
        query, vector, exclude = text, None, set()
    ranked = retrieve(query, cross.claim_collection(store), top=top, vector=vector,
                      exclude=exclude)
    collection = cross.factcheck_collection()
    checks = None if collection is None else retrieve(query, collection, top=top, vector=vector)
    hit = {h.id for h in ranked.confirmed} | set(exclude)
    if not hit:
        return ranked, checks, None
    return ranked, checks, cross.cluster_of(hit)


def checked_factchecks(cross, *, text: str | None = None, claim_ids: Sequence[str] = ()
                       ) -> list[dict[str, Any]]:
    """The fact-checks that state the same as ``text`` or as one of ``claim_ids`` (claims
    of ``cross``: a CrossOutlet or a stored.StoredClaims), each once: the FactCheck's fields,
    the claim it matched and the evidence."""
    collection = cross.factcheck_collection()
    if collection is None:
        return []
    asked: list[tuple[str | None, str, Any]] = []
    if text:
        asked.append((None, text, cross.embed([text])[0]))
    for cid in claim_ids:
        asked.append((cid, cross.claim_text(cid), cross.claim_vector(cid)))
    seen: dict[str, dict[str, Any]] = {}
    for cid, words, vector in asked:
        found = retrieve(words, collection, vector=vector, top=5)
        for hit in found.confirmed:                 # ranked retrieval, verdict "same"
            if hit.id not in seen:
                seen[hit.id] = {**{k: v for k, v in hit.record.items() if k != "id"},
                                "matched_claim": cid, "probability": round(hit.probability, 4),
                                "score": round(hit.score, 4), "verdict": hit.verdict,
                                "evidence": as_evidence(hit).to_dict()}
    return list(seen.values())
