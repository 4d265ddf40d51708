"""One source entity across the corpus: what it said, where, and how.

    entity_profile(store, entity_id, selection=DEFAULT_SELECTION, limit=50, offset=0) -> dict

The entity page of the web UI and ``GET /api/entities/{id}``: the entity (name, kind,
role, external id), the names the articles use for it (aliases, with counts), its
identity and kind by mention (counts, ties kept), its counted attributions by outlet
and act, and one page of them (article, outlet, date, act, quote kind, probability, cue,
content, the claim id where the claim is stored). Every figure counts the attributions
of ``selection`` (corpus.counted), named in ``counted``.
"""
from __future__ import annotations

from typing import Any

from ..sources.entities import corpus_identity, majority_ties
from .counted import DEFAULT_SELECTION, Selection, dropped_in_notes

__all__ = ["entity_profile"]


def _entity(store: Any, entity_id: int) -> dict[str, Any] | None:
    if hasattr(store, "read_sql") and store.has_table("entities"):
        rows = store.read_sql("SELECT id, key, name, kind, role, external_id FROM entities "
                              "WHERE id = ?", [int(entity_id)])
        if not rows:
            return None
        r = rows[0]
        return {"id": int(r[0]), "key": r[1], "name": r[2], "kind": r[3], "role": r[4],
                "external_id": r[5]}
    index = store._entities() if hasattr(store, "_entities") else None
    e = index.by_id.get(int(entity_id)) if index is not None else None
    if e is None:
        return None
    return {"id": e.id, "key": e.key, "name": e.name, "kind": e.kind, "role": e.role,
            "external_id": e.external_id}


def _articles_of(store: Any, entity_id: int) -> list[int]:
    if hasattr(store, "read_sql"):
        return [int(r[0]) for r in store.read_sql(
            "SELECT DISTINCT article_id FROM sources WHERE entity_id = ? ORDER BY article_id",
            [int(entity_id)])]
    return [a.id for a in store.iter_articles()
            if any(v[0] == entity_id for v in store.entity_links(a.id).values())]


def _stored_claims(store: Any, ids: list[str]) -> set[str]:
    if not ids or not hasattr(store, "read_sql") or not store.has_table("claims"):
        return set()
    found: set[str] = set()
    for k in range(0, len(ids), 500):
        chunk = ids[k:k + 500]
        found |= {r[0] for r in store.read_sql(
            f"SELECT id FROM claims WHERE id IN ({', '.join('?' for _ in chunk)})", chunk)}
    return found


def entity_profile(store: Any, entity_id: int, *, selection: Selection | None = None,
                   limit: int = 50, offset: int = 0) -> dict[str, Any] | None:
    """The entity page's data (see the module docstring); None for an unknown id."""
    selection = selection or DEFAULT_SELECTION
    entity = _entity(store, entity_id)
    if entity is None:
        return None
    aliases: dict[str, int] = {}
    identity: dict[str, int] = {}
    kind: dict[str, int] = {}
    by_outlet: dict[str, dict[str, int]] = {}
    rows: list[dict[str, Any]] = []
    for article_id in _articles_of(store, entity_id):
        a = store.get(article_id)
        if a is None:
            continue
        links = store.entity_links(article_id)
        mine = {sid for sid, v in links.items() if v[0] == entity_id}
        an = a.analysis
        for s in an.sources:
            if s.id in mine:
                aliases[s.name] = aliases.get(s.name, 0) + 1
                ident = corpus_identity(s.name, s.identity, entity["key"])
                identity[ident] = identity.get(ident, 0) + 1
                kind[s.kind or "none"] = kind.get(s.kind or "none", 0) + 1
        notes = dropped_in_notes(a.text, {i: t.cue[0].start for i, t in enumerate(an.attributions)
                                          if t.cue})
        for i, att in enumerate(an.attributions):
            if att.source_id not in mine or i in notes \
                    or not selection.keeps(att.act, att.confidence):
                continue
            act = att.act or "speech"
            outlet = a.outlet or "(no outlet)"
            by_outlet.setdefault(outlet, {})
            by_outlet[outlet][act] = by_outlet[outlet].get(act, 0) + 1
            rows.append({"article_id": a.id, "title": a.title or an.title, "outlet": a.outlet,
                         "date": a.date, "idx": i, "act": act, "kind": att.kind,
                         "confidence": att.confidence,
                         "source_text": an.span_text(att.source, strip=True),
                         "cue": an.span_text(att.cue, strip=True),
                         "content": an.span_text(att.content, strip=True),
                         "claim_id": f"{a.id}#a{i}"})
    page = rows[max(0, offset):max(0, offset) + limit]
    stored = _stored_claims(store, [r["claim_id"] for r in page])
    for r in page:
        if r["claim_id"] not in stored:
            r["claim_id"] = None
    acts = sorted({act for v in by_outlet.values() for act in v})
    ident_tied, kind_tied = majority_ties(identity), majority_ties(kind)
    return {
        "entity": entity,
        "counted": selection.to_dict(),
        "aliases": dict(sorted(aliases.items(), key=lambda kv: (-kv[1], kv[0]))),
        "identity": ident_tied[0] if ident_tied else None,
        "identity_tied": list(ident_tied) if len(ident_tied) > 1 else [],
        "identity_counts": identity,
        "kind": entity["kind"] or (kind_tied[0] if kind_tied else None),
        "kind_tied": [] if entity["kind"] or len(kind_tied) < 2 else list(kind_tied),
        "kind_counts": kind,
        "acts": acts,
        "by_outlet": {o: {act: v.get(act, 0) for act in acts}
                      for o, v in sorted(by_outlet.items(), key=lambda kv: -sum(kv[1].values()))},
        "articles": len({r["article_id"] for r in rows}),
        "total": len(rows), "offset": offset, "limit": limit,
        "attributions": page,
    }
