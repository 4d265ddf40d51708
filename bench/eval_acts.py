#!/usr/bin/env python3
"""Score the act typing (attribution/acts.py) against the hand labels of bench/labels/acts-polnear.jsonl.

    python bench/eval_acts.py                 # per-act P/R/F1, macro F1, confusion, per half
    python bench/eval_acts.py --errors tune   # list the errors of one half (tune | test)
    python bench/eval_acts.py --json

Each label names a gold PolNeAR attribution (article id and cue offsets; train or dev)
and its act, read by hand: 620 drawn at random from all gold attributions of train and
dev with a cue, plus 60 drawn at random among those whose cue holds a sight word (saw,
heard, noticed, felt, ...), since perception is rare. The labels carry a hash of the cue
text and are refused if the text no longer matches. The gold source, cue and content
spans go to ``acts.classify``; the article is parsed with the spaCy pipeline (cached in
bench/out/acts-docs.spacy). Articles are split in two halves by the MD5 of their id:
"tune" (the lexicon was adjusted looking at its errors) and "test" (never looked at).
Nothing here is copied from PolNeAR.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
LABELS = ROOT / "bench" / "labels" / "acts-polnear.jsonl"
SHARED = ROOT.parent / "shared" / "data" / "polnear"
CACHE = ROOT / "bench" / "out" / "acts-docs.spacy"


def load_labels():
    return [json.loads(line) for line in LABELS.open(encoding="utf-8") if line.strip()]


def load_gold(ids: set[str]) -> dict[str, dict]:
    out = {}
    for split in ("train", "dev"):
        path = SHARED / f"{split}.jsonl"
        with path.open(encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                if d["id"] in ids:
                    out[d["id"]] = d
    return out


def parse(articles: dict[str, dict]) -> dict:
    """id -> parsed Doc, from the cache when it holds the same ids."""
    from spacy.tokens import DocBin

    from sourcetrace import pipeline

    nlp = pipeline.load_base()
    ids = sorted(articles)
    if CACHE.exists():
        meta = CACHE.with_suffix(".ids")
        if meta.exists() and meta.read_text().split("\n") == ids:
            docs = list(DocBin().from_disk(CACHE).get_docs(nlp.vocab))
            return dict(zip(ids, docs))
    docs = list(nlp.pipe((articles[i]["text"] for i in ids), batch_size=16))
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    bin_ = DocBin(attrs=["ORTH", "LEMMA", "POS", "TAG", "DEP", "HEAD", "ENT_IOB", "ENT_TYPE",
                         "SENT_START", "SPACY"])
    for d in docs:
        bin_.add(d)
    bin_.to_disk(CACHE)
    CACHE.with_suffix(".ids").write_text("\n".join(ids))
    return dict(zip(ids, docs))


def prf(pairs, acts):
    rows = {}
    for act in acts:
        tp = sum(1 for g, p in pairs if g == act and p == act)
        npred = sum(1 for _, p in pairs if p == act)
        ngold = sum(1 for g, _ in pairs if g == act)
        prec = tp / npred if npred else 0.0
        rec = tp / ngold if ngold else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        rows[act] = {"p": round(prec, 3), "r": round(rec, 3), "f1": round(f1, 3), "n": ngold}
    present = [a for a in acts if rows[a]["n"]]
    macro = sum(rows[a]["f1"] for a in present) / len(present) if present else 0.0
    acc = sum(1 for g, p in pairs if g == p) / len(pairs) if pairs else 0.0
    return {"acts": rows, "macro_f1": round(macro, 3), "accuracy": round(acc, 3), "n": len(pairs)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--errors", choices=["tune", "test"])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if not SHARED.exists():
        print(f"PolNeAR is not at {SHARED}: nothing to score")
        return 0
    from sourcetrace.attribution import acts, load_lexicons
    from sourcetrace.model import ACTS

    labels = load_labels()
    gold = load_gold({r["id"] for r in labels})
    docs = parse(gold)
    lexicon, cue_words = acts.load_lexicon(), load_lexicons()
    results = {"tune": [], "test": []}
    errors = []
    for r in labels:
        d = gold[r["id"]]
        text = d["text"]
        cue_text = " ".join(text[s:e] for s, e in r["cue"])
        if hashlib.sha1(cue_text.encode()).hexdigest()[:8] != r["sha"]:
            raise SystemExit(f"label {r['id']} {r['cue']}: the text changed (hash mismatch)")
        g = next(a for a in d["attributions"] if a["cue"] == r["cue"])
        act, evidence = acts.classify(docs[r["id"]], g["cue"], g["source"], g["content"],
                                      lexicon=lexicon, cue_words=cue_words)
        results[r["half"]].append((r["act"], act))
        if act != r["act"] and r["half"] == args.errors:
            content = " | ".join(text[s:e] for s, e in g["content"])[:70]
            src = " | ".join(text[s:e] for s, e in g["source"])[:30]
            errors.append(f"{r['act']:>10} <- {act:<10} {evidence:<28} [{cue_text}] S={src} C={content}")
    report = {half: prf(pairs, ACTS) for half, pairs in results.items()}
    report["all"] = prf(results["tune"] + results["test"], ACTS)
    for half in ("tune", "test", "all"):
        pairs = results["tune"] + results["test"] if half == "all" else results[half]
        report[half]["confusion"] = {f"{g}->{p}": n for (g, p), n in sorted(Counter(pairs).items())
                                     if g != p}
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        for half in ("tune", "test", "all"):
            rep = report[half]
            print(f"== {half}: n={rep['n']} macro F1 {rep['macro_f1']:.3f} accuracy {rep['accuracy']:.3f}")
            print("| act | P | R | F1 | n |\n|---|---:|---:|---:|---:|")
            for act, row in rep["acts"].items():
                print(f"| {act} | {row['p']:.3f} | {row['r']:.3f} | {row['f1']:.3f} | {row['n']} |")
            print("confusion (gold->pred):", rep["confusion"])
        for line in errors:
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
