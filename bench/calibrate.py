#!/usr/bin/env python3
"""Fit and check the confidence calibration (attribution/calibration.py) on PolNeAR.

    python bench/calibrate.py                  # dump raw scores (cached), fit, report
    python bench/calibrate.py --refresh        # re-run the pipeline for the dumps
    python bench/calibrate.py --no-write       # report without writing the mapping
    python bench/calibrate.py --setting accurate --stored   # the stored mapping on the
                                               # accurate setting's predictions

1. Runs the default pipeline (rules + fast role tagger, top-level attributions, as
   `sourcetrace extract` does) with raw scores on two sets of articles:
   "heldout": the 79 PolNeAR train articles the role tagger never learned from
   (``training.is_validation``: held out for its model selection), and PolNeAR dev.
   Each predicted attribution (merged by cue as the shared scorer merges them) is marked
   right when the scorer's end-to-end pairing pairs it with a gold attribution.
   Dumps go to bench/out/calib-<set>.jsonl (ids, rules, scores, acts: no text).
2. Fits an isotonic mapping per rule group on "heldout" only and writes it to
   src/sourcetrace/lexicons/attribution_calibration.json.
3. Reports on dev: the reliability table (10 equal-width bins) and the expected
   calibration error, raw and calibrated, and the share of speech among the predictions
   typed speech at several confidence floors (for the web UI's default).

The rules' raw scores (cue-word shares) were counted on all of PolNeAR train, the held-out
articles included; the mapping is fitted on those articles' predictions end to end, which
no rule was tuned on, and checked on dev, which neither saw.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT.parent / "shared" / "bench"))
DATA = ROOT.parent / "shared" / "data" / "polnear"
OUT = ROOT / "bench" / "out"
TARGET = ROOT / "src" / "sourcetrace" / "lexicons" / "attribution_calibration.json"
MIN_GROUP = 60  # predictions a rule needs on heldout for a mapping of its own


def articles(which: str) -> list[dict]:
    from sourcetrace.attribution.training import is_validation

    path = DATA / ("dev.jsonl" if which == "dev" else "train.jsonl")
    with path.open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return rows if which == "dev" else [r for r in rows if is_validation(r["id"])]


def dump(which: str, setting: str) -> Path:
    """Raw-scored predictions of one set, each marked right or wrong."""
    import attribution_score as scorer

    from sourcetrace import attribution, pipeline
    from sourcetrace.config import Config
    from sourcetrace.corpus.extract import parse_record

    attribution._calibration = lambda: None  # raw scores for the fit
    rows = articles(which)
    config = Config(nested=False, model_setting=setting)
    docs = [parse_record(json.dumps({"id": r["id"], "text": r["text"]}), i, config).document
            for i, r in enumerate(rows, 1)]
    path = OUT / f"calib-{which}-{setting}.jsonl"
    OUT.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for row, analysis in zip(rows, pipeline.analyze_documents(docs, config=config,
                                                                  attributions_only=True)):
            text = row["text"]
            preds = [a for a in analysis.attributions if a.parent is None]
            norm = lambda a, text=text: {r: scorer.normalise(text, a[r]) for r in scorer.ROLES}
            # merge by normalised cue as the scorer does; remember each group's members
            groups, by_cue = [], {}
            for k, a in enumerate(preds):
                n = norm(a.offsets())
                if n["cue"] and n["cue"] in by_cue:
                    g = groups[by_cue[n["cue"]]]
                    g["source"] |= n["source"]
                    g["content"] |= n["content"]
                    g["members"].append(k)
                else:
                    groups.append({**n, "members": [k]})
                    if n["cue"]:
                        by_cue[n["cue"]] = len(groups) - 1
            gold = scorer.merge_by_cue([norm(a) for a in row["attributions"]])
            def ok(i, j, groups=groups, gold=gold):
                return all(bool(groups[i][r] & gold[j][r]) or not (groups[i][r] or gold[j][r])
                           for r in ("source", "cue"))
            matched = {i for i, _, _ in scorer.pair([g["content"] for g in groups],
                                                   [g["content"] for g in gold], ok)}
            for i, g in enumerate(groups):
                best = max(g["members"], key=lambda k: preds[k].confidence)
                a = preds[best]
                out.write(json.dumps({"id": row["id"], "rule": a.rule, "raw": a.confidence,
                                      "act": a.act, "kind": a.kind, "right": int(i in matched),
                                      **a.offsets()}) + "\n")
    return path


def load_dump(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def fit(rows: list[dict]) -> dict:
    from sourcetrace.attribution import calibration

    by_rule = Counter("model:*" if r["rule"].startswith("model:") else r["rule"] for r in rows)
    own = {rule for rule, n in by_rule.items() if n >= MIN_GROUP}
    groups: dict[str, list] = defaultdict(list)
    for r in rows:
        key = "model:*" if r["rule"].startswith("model:") else r["rule"]
        pt = (r["raw"], r["right"])
        groups[key if key in own else "other"].append(pt)
        if key in own:
            groups["other"].append(pt)  # "other" is the pooled fallback
    out = {"method": "isotonic",
           "fitted_on": f"PolNeAR train, held-out split (training.is_validation), "
                        f"{len({r['id'] for r in rows})} articles, {len(rows)} predictions",
           "groups": {}, "rule_groups": {rule: rule for rule in sorted(own)}}
    for name, pts in sorted(groups.items()):
        xs, ys = calibration.isotonic(pts)
        out["groups"][name] = {"x": xs, "y": ys, "n": len(pts)}
    return out


def report(rows: list[dict], cal, title: str) -> str:
    from sourcetrace.attribution import calibration

    raw = [(r["raw"], r["right"]) for r in rows]
    cooked = [(cal.probability(r["raw"], r["rule"]), r["right"]) for r in rows]
    lines = [f"**{title}**: {len(rows)} predictions, {sum(r['right'] for r in rows)} right"]
    for name, pts in (("raw", raw), ("calibrated", cooked)):
        ece, table = calibration.expected_calibration_error(pts)
        lines.append(f"\n{name}: ECE {ece:.3f}\n\n| confidence | n | mean confidence | right |"
                     "\n|---|---:|---:|---:|")
        for lo, hi, n, conf, acc in table:
            lines.append(f"| {lo:.1f}-{hi:.1f} | {n} | {conf:.3f} | {acc:.3f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--refresh", action="store_true")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--setting", default="fast", choices=["fast", "accurate"])
    ap.add_argument("--stored", action="store_true",
                    help="report the stored mapping (what runs) instead of fitting one")
    args = ap.parse_args(argv)
    if not DATA.exists():
        print(f"PolNeAR is not at {DATA}: nothing to calibrate")
        return 0
    from sourcetrace.attribution import calibration

    paths = {}
    for which in ("heldout", "dev"):
        path = OUT / f"calib-{which}-{args.setting}.jsonl"
        paths[which] = dump(which, args.setting) if args.refresh or not path.exists() else path
    held, dev = load_dump(paths["heldout"]), load_dump(paths["dev"])
    fitted = fit(held)
    cal = calibration.load() if args.stored else calibration.from_dict(fitted)
    if not args.no_write and not args.stored:
        TARGET.write_text(json.dumps(fitted, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {TARGET.relative_to(ROOT)}")
    print(report(held, cal, f"held-out train ({args.setting}; "
                            f"{'stored mapping' if args.stored else 'fitted here'})"))
    print()
    print(report(dev, cal, f"PolNeAR dev ({args.setting})"))
    print("\nper rule on dev (n, right):",
          sorted(((r, n, round(sum(x["right"] for x in dev if x["rule"] == r) / n, 2))
                  for r, n in Counter(x["rule"] for x in dev).items()), key=lambda t: -t[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
