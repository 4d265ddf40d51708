"""The CoNLL-2012 coreference scores: MUC, B-cubed, CEAF-e, and their mean (CoNLL F1).

Entities are collections of hashable mention keys. Each function returns
(recall, precision, F1), following Pradhan et al. (2014), "Scoring Coreference
Partitions of Predicted Mentions: A Reference Implementation" (mentions missing on
one side count as singletons of their own there, so that predicted mentions need not
equal the gold ones).
"""
from __future__ import annotations

from typing import Hashable, Iterable, Sequence

Entity = frozenset


def _assignment(cost: list[list[float]]) -> list[tuple[int, int]]:
    """Maximum-weight matching of a rectangular similarity matrix (Hungarian method)."""
    n, m = len(cost), len(cost[0]) if cost else 0
    if n == 0 or m == 0:
        return []
    size = max(n, m)
    top = max(max(row) for row in cost) if cost else 0.0
    # minimise (top - similarity) on a square matrix padded with "top"
    a = [[(top - cost[i][j]) if i < n and j < m else top for j in range(size)]
         for i in range(size)]
    INF = float("inf")
    u = [0.0] * (size + 1)
    v = [0.0] * (size + 1)
    p = [0] * (size + 1)
    way = [0] * (size + 1)
    for i in range(1, size + 1):
        p[0] = i
        j0 = 0
        minv = [INF] * (size + 1)
        used = [False] * (size + 1)
        while True:
            used[j0] = True
            i0, delta, j1 = p[j0], INF, 0
            for j in range(1, size + 1):
                if not used[j]:
                    cur = a[i0 - 1][j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j], way[j] = cur, j0
                    if minv[j] < delta:
                        delta, j1 = minv[j], j
            for j in range(size + 1):
                if used[j]:
                    u[p[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while True:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
            if j0 == 0:
                break
    return [(p[j] - 1, j - 1) for j in range(1, size + 1)
            if p[j] and p[j] - 1 < n and j - 1 < m]


def _f1(r: float, p: float) -> float:
    return 2 * r * p / (r + p) if r + p else 0.0


def _entities(chains: Iterable[Iterable[Hashable]]) -> list[frozenset]:
    return [frozenset(c) for c in chains if c]


def _muc_side(keys, responses) -> tuple[float, float]:
    where = {m: i for i, e in enumerate(responses) for m in e}
    num = den = 0
    for k in keys:
        parts = {where.get(m, ("alone", m)) for m in k}
        num += len(k) - len(parts)
        den += len(k) - 1
    return num, den


def _b3_side(keys, responses) -> tuple[float, float]:
    where = {m: e for e in responses for m in e}
    num = den = 0.0
    for k in keys:
        for m in k:
            r = where.get(m)
            if r is not None:
                num += len(k & r) / len(k)
            den += 1
    return num, den


def _ceaf_total(gold: list[frozenset], pred: list[frozenset]) -> float:
    """The summed phi4 similarity of the best one-to-one alignment of entities,
    phi4(K, R) = 2|K & R| / (|K| + |R|), solved per connected group of entities."""
    index: dict = {}
    for j, r in enumerate(pred):
        for m in r:
            index.setdefault(m, []).append(j)
    links: dict[int, set[int]] = {}
    for i, k in enumerate(gold):
        links[i] = {j for m in k for j in index.get(m, ())}
    # connected components of the gold-pred graph
    seen_g: set[int] = set()
    total = 0.0
    back: dict[int, set[int]] = {}
    for i, js in links.items():
        for j in js:
            back.setdefault(j, set()).add(i)
    for i0 in links:
        if i0 in seen_g or not links[i0]:
            continue
        gs, ps, stack = set(), set(), [i0]
        while stack:
            i = stack.pop()
            if i in gs:
                continue
            gs.add(i)
            for j in links[i]:
                if j not in ps:
                    ps.add(j)
                    stack.extend(back[j] - gs)
        seen_g |= gs
        gl, pl = sorted(gs), sorted(ps)
        sim = [[2 * len(gold[i] & pred[j]) / (len(gold[i]) + len(pred[j])) for j in pl]
               for i in gl]
        total += sum(sim[a][b] for a, b in _assignment(sim))
    return total


def counts(gold: Sequence, pred: Sequence) -> dict[str, tuple[float, float, float, float]]:
    """Per metric (recall numerator, recall denominator, precision numerator, precision
    denominator) for one document; sum them over documents for corpus scores."""
    gold, pred = _entities(gold), _entities(pred)
    out = {}
    for name, side in (("muc", _muc_side), ("b3", _b3_side)):
        rn, rd = side(gold, pred)
        pn, pd = side(pred, gold)
        out[name] = (rn, rd, pn, pd)
    total = _ceaf_total(gold, pred) if gold and pred else 0.0
    out["ceafe"] = (total, len(gold), total, len(pred))
    return out


def scores(per_doc: Iterable[dict]) -> dict[str, dict[str, float]]:
    """Corpus recall, precision and F1 of each metric from summed ``counts``, and
    ``conll``: the mean of the three F1."""
    sums: dict[str, list[float]] = {}
    for c in per_doc:
        for name, vals in c.items():
            acc = sums.setdefault(name, [0.0, 0.0, 0.0, 0.0])
            for k in range(4):
                acc[k] += vals[k]
    out: dict[str, dict[str, float]] = {}
    for name, (rn, rd, pn, pd) in sums.items():
        r = rn / rd if rd else 0.0
        p = pn / pd if pd else 0.0
        out[name] = {"r": r, "p": p, "f1": _f1(r, p)}
    out["conll"] = {"f1": sum(out[n]["f1"] for n in ("muc", "b3", "ceafe")) / 3}
    return out


def muc(gold: Sequence, pred: Sequence) -> tuple[float, float, float]:
    """Link-based: for each key entity, |K| minus the number of response parts it falls in."""
    return _one(counts(gold, pred)["muc"])


def b_cubed(gold: Sequence, pred: Sequence) -> tuple[float, float, float]:
    """Mention-based: the overlap of each mention's key and response entities."""
    return _one(counts(gold, pred)["b3"])


def ceaf_e(gold: Sequence, pred: Sequence) -> tuple[float, float, float]:
    """Entity-based CEAF with phi4 similarity."""
    return _one(counts(gold, pred)["ceafe"])


def conll_f1(gold: Sequence, pred: Sequence) -> dict[str, float]:
    """MUC, B3 and CEAF-e F1 of one document and their mean."""
    s = scores([counts(gold, pred)])
    return {"muc": s["muc"]["f1"], "b3": s["b3"]["f1"], "ceafe": s["ceafe"]["f1"],
            "conll": s["conll"]["f1"]}


def _one(c) -> tuple[float, float, float]:
    rn, rd, pn, pd = c
    r = rn / rd if rd else 0.0
    p = pn / pd if pd else 0.0
    return r, p, _f1(r, p)
