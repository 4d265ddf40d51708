"""Confidence calibration (attribution/calibration.py): the fit, the mapping, the stored data."""
from __future__ import annotations

import json
import random

import pytest

from sourcetrace.attribution import calibration
from sourcetrace.model import Attribution, Span


def test_calibration_isotonic_is_monotone_and_pools_violators():
    xs, ys = calibration.isotonic([(0.1, 0), (0.2, 1), (0.3, 0), (0.9, 1), (0.95, 1)])
    assert ys == sorted(ys)
    assert xs == sorted(xs)
    assert ys[0] == pytest.approx(1 / 3, abs=1e-3) and ys[-1] == pytest.approx(3 / 4, abs=1e-3)  # add-one smoothed
    assert len(ys) == 3  # 0.2 (right) and 0.3 (wrong) pooled


def test_calibration_fit_recovers_a_known_probability():
    rng = random.Random(7)
    pts = [(s, int(rng.random() < s * 0.5)) for s in (rng.random() for _ in range(4000))]
    cal = calibration.from_dict({"groups": {"other": dict(zip("xy", calibration.isotonic(pts)))}})
    assert cal.probability(0.8, "any") == pytest.approx(0.4, abs=0.08)
    ece, _ = calibration.expected_calibration_error(
        [(cal.probability(s, "any"), y) for s, y in pts])
    assert ece < 0.03


def test_calibration_interpolates_and_clamps_per_group():
    cal = calibration.from_dict({"groups": {"other": {"x": [0.2, 0.8], "y": [0.1, 0.7]},
                                            "quote": {"x": [0.5], "y": [0.95]}},
                                 "rule_groups": {"quote+speech_verb": "quote"}})
    assert cal.probability(0.5, "verb_ccomp") == pytest.approx(0.4)
    assert cal.probability(0.0, "verb_ccomp") == 0.1
    assert cal.probability(1.0, "verb_ccomp") == 0.7
    assert cal.probability(0.1, "quote+speech_verb") == 0.95
    a = Attribution(source=(), cue=(Span(0, 1),), content=(Span(2, 3),), rule="x", confidence=0.5)
    assert cal.apply([a])[0].confidence == 0.4


def test_calibration_refuses_a_malformed_mapping():
    with pytest.raises(ValueError, match="other"):
        calibration.from_dict({"groups": {"quote": {"x": [0.5], "y": [0.9]}}})
    with pytest.raises(ValueError, match="sorted"):
        calibration.from_dict({"groups": {"other": {"x": [0.9, 0.1], "y": [0.1, 0.2]}}})


def test_calibration_stored_mapping_is_valid_and_monotone():
    cal = calibration.load()
    if cal is None:
        pytest.skip("no calibration stored (bench/calibrate.py writes it)")
    for name, (xs, ys) in cal.groups.items():
        assert list(ys) == sorted(ys), name
        assert all(0.0 <= y <= 1.0 for y in ys), name
    stored = json.loads((calibration.LEXICON_DIR / calibration.FILE).read_text())
    assert "held-out" in stored["fitted_on"]


def test_calibration_ece_of_perfect_forecasts_is_zero():
    ece, rows = calibration.expected_calibration_error([(1.0, 1), (1.0, 1), (0.0, 0)])
    assert ece == 0.0 and sum(n for _, _, n, _, _ in rows) == 3
