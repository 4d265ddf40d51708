#!/usr/bin/env python3
"""Speech-act precision of a setting on the labelled speech predictions it keeps.

    nice .venv/bin/python bench/calibrate.py --setting accurate --stored --refresh --no-write
    python bench/speech_precision_kept.py --setting accurate

bench/labels/acts-speech-precision.jsonl labels 400 dev predictions of the default (fast)
pipeline typed speech (samples 2 and 3) as speech attributions or not. For another
setting's dev predictions (the dump bench/calibrate.py writes to
bench/out/calib-dev-<setting>.jsonl: ids, offsets, acts, no text) this counts, per
sample, the labelled predictions it still types speech (same article and cue offsets),
the share of them that are speech, and how many of the labelled non-speech ones it still
makes. Its predictions outside the labelled ones are counted but not judged: this is a
partial measure, not precision over everything the setting predicts.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "bench" / "labels" / "acts-speech-precision.jsonl"


def key(rec) -> tuple:
    return rec["id"], tuple(tuple(c) for c in rec["cue"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--setting", default="accurate", choices=("fast", "accurate"))
    args = ap.parse_args(argv)
    dump = ROOT / "bench" / "out" / f"calib-dev-{args.setting}.jsonl"
    if not dump.is_file():
        print(f"{dump} is absent: run bench/calibrate.py --setting {args.setting} --stored "
              "--refresh --no-write first", file=sys.stderr)
        return 2
    labels = [json.loads(line) for line in LABELS.open(encoding="utf-8") if line.strip()]
    preds = [json.loads(line) for line in dump.open(encoding="utf-8") if line.strip()]
    speech = {key(p) for p in preds if p["act"] == "speech"}
    predicted = {key(p) for p in preds}
    for sample in sorted({lab["sample"] for lab in labels}):
        rows = [lab for lab in labels if lab["sample"] == sample]
        kept = [lab for lab in rows if key(lab) in speech]
        right = sum(lab["speech_attribution"] for lab in kept)
        wrong = [lab for lab in rows if not lab["speech_attribution"]]
        print(f"sample {sample}: labelled {len(rows)} (speech {len(rows) - len(wrong)}); "
              f"{args.setting} types speech {len(kept)}, of which speech {right} "
              f"({right / max(1, len(kept)):.3f}); non-speech still typed speech "
              f"{sum(key(lab) in speech for lab in wrong)} / {len(wrong)}, still predicted "
              f"{sum(key(lab) in predicted for lab in wrong)}")
    labelled = {key(lab) for lab in labels}
    own = sum(1 for p in preds if p["act"] == "speech" and key(p) not in labelled)
    print(f"{args.setting}: {len(speech)} dev predictions typed speech, {own} not labelled")
    return 0


if __name__ == "__main__":
    sys.exit(main())
