"""Trace with ranked retrieval: the closest claims for a text or a stored claim, the closest
fact-checks, and the provenance cluster of the claims marked ``same``.

``ranked_trace`` is what ``sourcetrace trace``, ``GET /api/trace`` and the web UI's trace page
call (retrieve.py ranks; corroboration.py builds the cluster)::

    ranked, checks, cluster = ranked_trace(cross, text="300 troops refused orders", store=store)
"""
from __future__ import annotations

from typing import Any

from .retrieve import Retrieval, claims_collection, factchecks_collection, retrieve

__all__ = ["ranked_trace"]


def ranked_trace(cross, *, text: str | None = None, claim_id: str | None = None, top: int = 10,
                 store=None) -> tuple[Retrieval, Retrieval | None, Any]:
    """The ranked list for a free text or a stored claim (the claim itself left out), the
    closest fact-checks when ``cross`` has any, and the cluster of the claims marked
    ``same`` merged with the claim's own (None when there is none)."""
    if (text is None) == (claim_id is None):
        raise ValueError("give text or claim_id")
    if claim_id is not None:
        query, vector, exclude = cross.claims[claim_id].text, cross.matcher.index.vector(claim_id), \
            {claim_id}
    else:
        query, vector, exclude = text, None, set()
    ranked = retrieve(query, claims_collection(cross, store), top=top, vector=vector,
                      exclude=exclude)
    checks = None
    if getattr(cross, "factchecks", None):
        if getattr(cross, "_factcheck_collection", (None, 0))[1] != len(cross.factchecks):
            cross._factcheck_collection = (factchecks_collection(cross.factchecks,
                                                                 cross.factcheck_vectors),
                                           len(cross.factchecks))
        checks = retrieve(query, cross._factcheck_collection[0], top=top, vector=vector)
    hit = {h.id for h in ranked.confirmed} | set(exclude)
    if not hit:
        return ranked, checks, None
    return ranked, checks, cross.cluster_of(hit)
