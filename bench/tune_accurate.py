#!/usr/bin/env python3
"""How the accurate setting's transformer tagger is combined with the rules: tuned on
held-out PolNeAR train, checked on PolNeAR dev.

    nice .venv/bin/python bench/tune_accurate.py [--model DIR] [--write] [--dev]

1. parses the validation split of PolNeAR train (one article in ten by md5 of its id:
   the articles the tagger was not trained on) with the English pipeline and the
   transformer tagger of --model (default: the packaged accurate setting);
2. scores, with the shared scorer, top-level attributions of: the model alone, the
   model owning the top level (prefer="model"), and the rules plus the model
   (prefer="rules") over a grid of min_confidence (model attributions added where the
   rules found nothing) and min_support (rule attributions the model backs less are
   dropped);
3. picks the best end-to-end F1 on that split; with --write stores it as ``combine`` in
   the model folder's component.json (learned.combined reads it at run time);
4. with --dev, scores the pick and the project's defaults on PolNeAR dev too.

Nothing else is written; figures for bench/RESULTS.md come from `make bench`
(bench/run_bench.py --model-setting accurate).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data" / "polnear"
SCORER = SHARED / "bench" / "attribution_score.py"
CONFIDENCES = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
SUPPORTS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4)


def load_scorer():
    spec = importlib.util.spec_from_file_location("attribution_score", SCORER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def prepared(nlp, records, lexicons):
    """Per article: (rule attributions, model attributions, prefer-model attributions)."""
    from sourcetrace import attribution
    from sourcetrace.attribution import learned

    out = []
    for rec, doc in zip(records, nlp.pipe(r["text"] for r in records)):
        rules = attribution.extract(doc, lexicons)
        model = learned.extract(doc)
        owned = learned.combined(doc, prefer="model", lexicons=lexicons, model_settings=False)
        out.append((doc, rules, model, owned))
    return out


def score(scorer, records, atts_per_doc) -> dict:
    preds = [{"id": r["id"], "attributions": [a.offsets() for a in atts if a.parent is None]}
             for r, atts in zip(records, atts_per_doc)]
    return scorer.score(records, preds)


def figures(res) -> str:
    return (f"e2e {res['attribution']['f1']:.3f} exact src {res['source']['exact']['f1']:.3f} "
            f"cue {res['cue']['exact']['f1']:.3f} con {res['content']['exact']['f1']:.3f}")


def grid(scorer, records, prep):
    from sourcetrace.attribution import learned

    rows = [("model alone", None, score(scorer, records, [p[2] for p in prep])),
            ("rules alone", None, score(scorer, records, [p[1] for p in prep])),
            ("prefer model", {"prefer": "model"}, score(scorer, records, [p[3] for p in prep]))]
    for sup in SUPPORTS:
        kept = [learned.filter_by_support(p[0], p[1], sup) for p in prep]
        for conf in CONFIDENCES:
            atts = [learned.add_missing(k, p[2], conf) for k, p in zip(kept, prep)]
            rows.append((f"rules + model conf>={conf} support>={sup}",
                         {"prefer": "rules", "min_confidence": conf, "min_support": sup},
                         score(scorer, records, atts)))
    return rows


def combine_with(prep, setting) -> list:
    from sourcetrace.attribution import learned

    if setting["prefer"] == "model":
        return [p[3] for p in prep]
    return [learned.add_missing(learned.filter_by_support(p[0], p[1], setting["min_support"]),
                                p[2], setting["min_confidence"]) for p in prep]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None, help="a transformer model folder")
    ap.add_argument("--write", action="store_true", help="store the pick in component.json")
    ap.add_argument("--dev", action="store_true", help="score the pick on PolNeAR dev too")
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args(argv)
    if not DATA.exists() or not SCORER.exists():
        print(f"PolNeAR or the scorer is absent under {SHARED}", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT / "src"))
    from sourcetrace import attribution
    from sourcetrace.attribution import learned, training, transformer
    from sourcetrace.attribution import COMBINE_MIN_CONFIDENCE, COMBINE_MIN_SUPPORT
    from sourcetrace.pipeline import spacy_layer

    folder = args.model or Path(str(learned.model_path("accurate")))
    if not transformer.is_transformer_folder(folder):
        print(f"{folder} holds no transformer tagger", file=sys.stderr)
        return 2
    scorer = load_scorer()
    lexicons = attribution.load_lexicons()
    nlp = spacy_layer.load(model_path=str(folder))
    val = [r for r in read(DATA / "train.jsonl") if training.is_validation(r["id"])]
    if args.limit:
        val = val[:args.limit]
    t0 = time.perf_counter()
    with nlp.select_pipes(disable=[spacy_layer.ATTRIBUTIONS]):
        prep = prepared(nlp, val, lexicons)
    print(f"held-out PolNeAR train: {len(val)} articles parsed and tagged in "
          f"{time.perf_counter() - t0:.0f}s")
    rows = grid(scorer, val, prep)
    for name, _, res in rows:
        print(f"{name:<42} {figures(res)}")
    best = max((r for r in rows if r[1] is not None), key=lambda r: r[2]["attribution"]["f1"])
    print(f"pick: {best[0]} ({figures(best[2])})")
    if args.write:
        info_path = folder / "component.json"
        info = json.loads(info_path.read_text(encoding="utf-8"))
        info["combine"] = {**best[1], "tuned_on": f"PolNeAR train validation split "
                           f"({len(val)} articles), e2e F1 {best[2]['attribution']['f1']:.3f}"}
        info_path.write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
        print(f"wrote combine to {info_path}")
    if args.dev:
        dev = read(DATA / "dev.jsonl")
        with nlp.select_pipes(disable=[spacy_layer.ATTRIBUTIONS]):
            prep = prepared(nlp, dev, lexicons)
        default = {"prefer": "rules", "min_confidence": COMBINE_MIN_CONFIDENCE,
                   "min_support": COMBINE_MIN_SUPPORT}
        for name, setting in (("pick", best[1]), ("defaults", default)):
            print(f"PolNeAR dev, {name} {setting}: "
                  f"{figures(score(scorer, dev, combine_with(prep, setting)))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
