"""Shared fixtures. Data from ../shared is read at test time and never copied here."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEED_TEXT = SHARED / "data" / "seed" / "belarus-commanders.txt"
SEED_GOLD = SHARED / "data" / "seed" / "belarus-commanders.gold.json"
POLNEAR_DEV = SHARED / "data" / "polnear" / "dev.jsonl"
POLNEAR_TRAIN = SHARED / "data" / "polnear" / "train.jsonl"
SCORER = SHARED / "bench" / "attribution_score.py"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent: this test reads the shared data from ../shared")
    return path


@pytest.fixture(scope="session")
def seed_gold() -> dict:
    return json.loads(_need(SEED_GOLD).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def polnear_dev() -> list[dict]:
    with _need(POLNEAR_DEV).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="session")
def scorer_path() -> Path:
    return _need(SCORER)


@pytest.fixture(scope="session")
def seed_analysis(seed_gold):
    import sourcetrace

    return sourcetrace.analyze(seed_gold["text"])
