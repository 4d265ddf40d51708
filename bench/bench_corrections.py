#!/usr/bin/env python3
"""Corrections that retrain, at real scale: fine-tune the shipped role tagger on N
corrected articles and measure how its predictions on them move, and what it costs on
PolNeAR dev (forgetting).

The corrections are PolNeAR train articles of the validation split (one in ten by id
hash: the shipped weights were selected on them, never trained on them), with their gold
attributions standing in for a user's corrections. Scores are the role tagger's alone:
token accuracy of its BIO role tags and exact-span F1 of its source, cue and content runs
against the gold tags. Nothing of the articles' text is written.

    .venv/bin/python bench/bench_corrections.py --n 20 --epochs 5 [--mix 60] [--dev 40]
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "polnear"


def read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def score(nlp, records) -> dict[str, float]:
    from sourcetrace.attribution import learned

    hit = total = 0
    tp = fp = fn = 0
    for doc, rec in zip(nlp.pipe((r["text"] for r in records), batch_size=8), records):
        gold = learned.gold_tags(doc, rec["attributions"])
        pred = list(doc._.roles)
        hit += sum(1 for g, p in zip(gold, pred) if g == p)
        total += len(gold)
        g_spans = set(learned.tag_spans(gold))
        p_spans = set(learned.tag_spans(pred))
        tp += len(g_spans & p_spans)
        fp += len(p_spans - g_spans)
        fn += len(g_spans - p_spans)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"token_acc": round(hit / total, 4) if total else 0.0,
            "span_p": round(p, 4), "span_r": round(r, 4),
            "span_f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}


def tagger(path=None):
    from sourcetrace.attribution import learned
    from sourcetrace.pipeline import spacy_load

    nlp = spacy_load("en_core_web_sm", exclude=["ner"])
    learned.add_to_pipeline(nlp, path=path)
    return nlp


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20, help="corrected articles")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--mix", type=int, default=0, help="PolNeAR train articles mixed in")
    ap.add_argument("--dev", type=int, default=40, help="PolNeAR dev articles scored")
    args = ap.parse_args()
    if not (SHARED / "train.jsonl").is_file():
        print(f"PolNeAR is not at {SHARED}", file=sys.stderr)
        return 2
    from sourcetrace.attribution import training

    train = read(SHARED / "train.jsonl")
    corrected = [r for r in train if training.is_validation(r["id"])][:args.n]
    dev = read(SHARED / "dev.jsonl")[:args.dev]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "corrections.jsonl"
        data.write_text("".join(json.dumps(r) + "\n" for r in corrected), encoding="utf-8")
        mix = None
        if args.mix:
            mix = Path(tmp) / "mix.jsonl"
            rest = [r for r in train if not training.is_validation(r["id"])][:args.mix]
            mix.write_text("".join(json.dumps(r) + "\n" for r in rest), encoding="utf-8")
        base = tagger()
        before = {"corrected": score(base, corrected), "dev": score(base, dev)}
        t0 = time.perf_counter()
        result = training.fine_tune(data, Path(tmp) / "tuned", base="fast", mix=mix,
                                    mix_limit=args.mix or 1, epochs=args.epochs)
        seconds = time.perf_counter() - t0
        tuned = tagger(Path(tmp) / "tuned")
        after = {"corrected": score(tuned, corrected), "dev": score(tuned, dev)}
    out = {"n": len(corrected), "mix": args.mix, "epochs": args.epochs, "dev": len(dev),
           "fine_tune_s": round(seconds, 1), "losses": [round(x, 1) for x in result["losses"]],
           "before": before, "after": after, "machine": platform.machine(),
           "python": platform.python_version()}
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
