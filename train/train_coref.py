#!/usr/bin/env python3
"""Train the in-article coreference ranker on GUM's train split and score it on GUM's test split.

    python train/train_coref.py [--gum ../shared/data/gum-coref] [--output src/sourcetrace/models/coref.json]
                                [--epochs 8] [--seed 0] [--cache bench/out/coref-train.pkl]
                                [--report bench/out/coref-gum-test.json]

Deterministic for a seed. The parsed training features are cached (``--cache``): a run that
stops after parsing resumes from the cache; training itself takes a few minutes on one core.
The report: CoNLL F1 (MUC, B3, CEAF-e) with and without singletons, head-match mention recall
and third-person pronoun-antecedent accuracy on GUM test (sources/coref_train.py says how).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sourcetrace.sources.coref_train import run  # noqa: E402


def polnear_speakers(nlp, vocab, n: int, seed: int) -> list:
    """Pronoun-speaker examples from ``n`` PolNeAR train articles that are not in
    bench/labels/speaker_gold.jsonl, their references derived by the label rules."""
    import random

    sys.path.insert(0, str(ROOT / "bench"))
    import make_speaker_labels as labels
    from sourcetrace.sources.coref_train import speaker_examples
    from sourcetrace.sources.wordlists import lexicons

    held = {json.loads(x)["id"] for x in (ROOT / "bench" / "labels" / "speaker_gold.jsonl").open()}
    train = [json.loads(x) for x in (labels.SHARED / "train.jsonl").open(encoding="utf-8") if x.strip()]
    pool = [r for r in train if r["id"] not in held]
    lex = lexicons()
    out = []
    for rec in random.Random(seed).sample(pool, min(n, len(pool))):
        doc = nlp(rec["text"])
        items, _ = labels.derive(rec, doc, lex)
        refs = [(it["start"], labels._surname(it["ref"])) for it in items if it["how"] == "pronoun"]
        out.extend(speaker_examples(doc, refs, vocab))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gum", default=str(ROOT.parent / "shared" / "data" / "gum-coref"))
    ap.add_argument("--output", default=str(ROOT / "src" / "sourcetrace" / "models" / "coref.json"))
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", default=str(ROOT / "bench" / "out" / "coref-train.pkl"))
    ap.add_argument("--report", default=str(ROOT / "bench" / "out" / "coref-gum-test.json"))
    ap.add_argument("--speakers", type=int, default=0, metavar="N",
                    help="also train on the pronoun speakers of N PolNeAR train articles (derived "
                         "as bench/make_speaker_labels.py does; the articles of the speaker set "
                         "are left out)")
    ap.add_argument("--speaker-weight", type=int, default=3)
    args = ap.parse_args()
    if not Path(args.gum, "conll").is_dir():
        print(f"GUM coreference data not found in {args.gum}: give --gum", file=sys.stderr)
        return 2
    extra = None
    if args.speakers:
        extra = lambda nlp, vocab: (polnear_speakers(nlp, vocab, args.speakers, args.seed), \
            "pronoun speakers from PolNeAR train")
    report = run(args.gum, args.output, cache=args.cache or None, epochs=args.epochs,
                 seed=args.seed, log=lambda s: print(s, flush=True), extra=extra,
                 extra_weight=args.speaker_weight)
    Path(args.report).parent.mkdir(parents=True, exist_ok=True)
    Path(args.report).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
