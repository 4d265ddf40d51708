"""Calibrated confidence: raw rule and model scores mapped to the probability of being right.

The raw ``confidence`` of a rule is the share of its cue word's occurrences that PolNeAR
train annotates, and a model's is its tagger's probability; neither is the probability
that the whole attribution (source, cue and content) is right. ``bench/calibrate.py``
fits a monotone (isotonic) mapping from the raw score to that probability, per group of
rules, on PolNeAR train articles the role tagger did not learn from, and stores it as
data in ``lexicons/attribution_calibration.json``:

    {"method": "isotonic", "fitted_on": "...", "groups": {"GROUP": {"x": [...], "y": [...]}},
     "rule_groups": {"RULE": "GROUP", ...}}

``x`` are raw scores and ``y`` probabilities at those scores (non-decreasing); a score in
between is interpolated linearly, one outside takes the nearest end. A rule not in
``rule_groups`` uses the group "other". "Right" means what the shared scorer counts end to
end: the attribution pairs with a gold one whose content overlaps it and whose source and
cue overlap it (or are both absent).
"""
from __future__ import annotations

import dataclasses
import json
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from ..model import Attribution
from .lexicon import LEXICON_DIR

FILE = "attribution_calibration.json"


@dataclass(frozen=True)
class Calibration:
    groups: dict[str, tuple[tuple[float, ...], tuple[float, ...]]]
    rule_groups: dict[str, str]

    def group_of(self, rule: str) -> str:
        key = self.rule_groups.get(rule)
        if key is None and rule.startswith("model:"):
            key = self.rule_groups.get("model:*")
        return key if key in self.groups else "other"

    def probability(self, raw: float, rule: str) -> float:
        xs, ys = self.groups[self.group_of(rule)]
        if raw <= xs[0]:
            return ys[0]
        if raw >= xs[-1]:
            return ys[-1]
        k = bisect_right(xs, raw)
        x0, x1, y0, y1 = xs[k - 1], xs[k], ys[k - 1], ys[k]
        return y0 if x1 == x0 else y0 + (y1 - y0) * (raw - x0) / (x1 - x0)

    def apply(self, attributions: Iterable[Attribution]) -> tuple[Attribution, ...]:
        """The attributions with their confidence calibrated (rounded to 3 places)."""
        return tuple(dataclasses.replace(
            a, confidence=round(self.probability(a.confidence, a.rule), 3)) for a in attributions)

    def to_dict(self) -> dict:
        return {"method": "isotonic",
                "groups": {g: {"x": list(x), "y": list(y)} for g, (x, y) in self.groups.items()},
                "rule_groups": dict(self.rule_groups)}


def from_dict(d: dict) -> Calibration:
    groups = {}
    for name, g in d["groups"].items():
        xs, ys = tuple(float(v) for v in g["x"]), tuple(float(v) for v in g["y"])
        if not xs or len(xs) != len(ys) or list(xs) != sorted(xs):
            raise ValueError(f"calibration group {name!r}: x must be sorted and as long as y")
        groups[name] = (xs, ys)
    if "other" not in groups:
        raise ValueError('calibration needs an "other" group')
    return Calibration(groups, dict(d.get("rule_groups") or {}))


def load(name: str = FILE) -> Calibration | None:
    """The stored calibration, or None when there is none (raw scores are then kept)."""
    path = LEXICON_DIR / name
    if not path.exists():
        return None
    return from_dict(json.loads(path.read_text(encoding="utf-8")))


def isotonic(points: list[tuple[float, int]]) -> tuple[list[float], list[float]]:
    """Pool-adjacent-violators fit of 0/1 outcomes on scores: (block mean scores,
    block success rates with add-one smoothing), non-decreasing."""
    tied: dict[float, list[float]] = {}
    for x, y in points:  # equal scores form one block first
        t = tied.setdefault(float(x), [0.0, 0.0, 0.0])
        t[0] += x
        t[1] += y
        t[2] += 1
    blocks: list[list[float]] = []  # [sum_x, sum_y, n]
    for x in sorted(tied):
        blocks.append(list(tied[x]))
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] >= blocks[-1][1] / blocks[-1][2]:
            sx, sy, n = blocks.pop()
            blocks[-1][0] += sx
            blocks[-1][1] += sy
            blocks[-1][2] += n
    # each block's rate with one success and one failure added (Laplace): a small block
    # at either end never claims certainty
    return ([round(b[0] / b[2], 4) for b in blocks],
            [round((b[1] + 1) / (b[2] + 2), 4) for b in blocks])


def expected_calibration_error(points: list[tuple[float, int]], bins: int = 10):
    """(ECE, rows): rows are (low, high, n, mean confidence, accuracy) per equal-width bin."""
    rows, total, err = [], len(points), 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = [(c, y) for c, y in points if lo <= c < hi or (b == bins - 1 and c == 1.0)]
        if not inside:
            continue
        conf = sum(c for c, _ in inside) / len(inside)
        acc = sum(y for _, y in inside) / len(inside)
        err += len(inside) / total * abs(acc - conf)
        rows.append((lo, hi, len(inside), conf, acc))
    return err, rows
