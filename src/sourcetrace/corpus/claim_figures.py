"""The outlet report's figures from the cross-outlet claims tables (migration 0003).

    claim_figures(store, keys) -> {group key: {"syndication": {...}, "first_reports": {...}}}

``keys`` maps each article id of the report to its group key (outlet, month, ...). Per group:

syndication     ``copies``: articles found to copy an earlier article of the corpus (the
                ``copies`` list each claim batch keeps, crossoutlet/syndication.py), with
                their share of the group's articles that have claims read; ``copied``:
                articles of the group that a later article copies; ``articles``: the base.
first_reports   over the claim clusters carried by two or more outlets (the connected
                components of the stored confirmed matches): ``clusters`` the group's
                articles take part in, ``first`` those whose earliest appearance (article
                date, then arrival order) is one of the group's articles.

Three reads (batches, claims in matches, matches) whatever the corpus size, plus the
article dates; Python joins them. Articles ingested before claims were kept in the store
have no batch and are left out of both bases.
"""
from __future__ import annotations

import json
from typing import Any, Hashable, Mapping

__all__ = ["claim_figures"]


def claim_figures(store: Any, keys: Mapping[int, Hashable]) -> dict[Hashable, dict[str, Any]]:
    """Syndication and first reports per group (see the module docstring)."""
    batches = store.read_sql("SELECT seq, article_id, copies FROM claim_batches")
    seq_article = {int(s): int(a) for s, a, _ in batches}
    copied_by: dict[int, int] = {}
    out: dict[Hashable, dict[str, Any]] = {}

    def group(article_id: int) -> dict[str, Any] | None:
        key = keys.get(article_id)
        if key is None:
            return None
        return out.setdefault(key, {"syndication": {"articles": 0, "copies": 0, "copied": 0},
                                    "first_reports": {"clusters": 0, "first": 0}})

    for _, article_id, copies in batches:
        g = group(int(article_id))
        earlier = json.loads(copies or "[]")
        for other in earlier:
            copied_by[int(other)] = copied_by.get(int(other), 0) + 1
        if g is not None:
            g["syndication"]["articles"] += 1
            g["syndication"]["copies"] += bool(earlier)
    for article_id in copied_by:
        g = group(article_id)
        if g is not None:
            g["syndication"]["copied"] += 1
    for key, g in out.items():
        s = g["syndication"]
        s["copy_share"] = round(s["copies"] / s["articles"], 4) if s["articles"] else None

    matches = store.read_sql("SELECT claim_id, other_id FROM claim_matches")
    if matches:
        claim_batch = {str(c): int(b) for c, b in store.read_sql(
            "SELECT id, batch FROM claims WHERE id IN (SELECT claim_id FROM claim_matches) "
            "OR id IN (SELECT other_id FROM claim_matches)")}
        dates = {int(i): d for i, d in store.read_sql("SELECT id, date FROM articles")}
        outlets = {int(i): o for i, o in store.read_sql("SELECT id, outlet FROM articles")}
        parent: dict[str, str] = {}

        def find(a: str) -> str:
            parent.setdefault(a, a)
            while parent[a] != a:
                parent[a] = parent[parent[a]]
                a = parent[a]
            return a

        for a, b in matches:
            if str(a) in claim_batch and str(b) in claim_batch:
                ra, rb = find(str(a)), find(str(b))
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
        clusters: dict[str, list[int]] = {}
        for cid in parent:
            clusters.setdefault(find(cid), []).append(claim_batch[cid])
        for seqs in clusters.values():
            articles = sorted({seq_article[s] for s in seqs if s in seq_article},
                              key=lambda a: (dates.get(a) or "9999", min(
                                  s for s in seqs if seq_article.get(s) == a)))
            if len({outlets.get(a) for a in articles}) < 2:
                continue
            seen_groups = set()
            for a in articles:
                key = keys.get(a)
                if key is not None and key not in seen_groups:
                    seen_groups.add(key)
                    group(a)["first_reports"]["clusters"] += 1
            first = group(articles[0])
            if first is not None:
                first["first_reports"]["first"] += 1
    return out
