"""Claim matching and syndication measured on PolNeAR.

Claim matching: bench/labels/claim_pairs.jsonl holds pairs of PolNeAR attribution
contents (article id + content offsets + a short hash of the text, never the
text) labelled "same" or "different" by reading both. The texts are read from
../shared/data/polnear at run time. Thresholds are tuned on the "tune" half and
precision/recall/F1 reported on the "test" half.

Syndication: real PolNeAR articles are edited the way wire copies are
(headline changed, paragraphs dropped or reordered, a trailer added, a few words
changed) and clustered together with the untouched corpus; precision and recall
are over pairs of articles (a copy and its original should share a cluster,
distinct articles should not).

    .venv/bin/python bench/eval_match.py              # both, JSON on stdout
    .venv/bin/python bench/eval_match.py --only match
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POLNEAR = ROOT.parent / "shared" / "data" / "polnear"
LABELS = ROOT / "bench" / "labels" / "claim_pairs.jsonl"


def load_articles(folder: Path = POLNEAR) -> dict[str, dict]:
    articles = {}
    for name in ("train.jsonl", "dev.jsonl"):
        with (folder / name).open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    articles[r["id"]] = r
    return articles


def claim_text(article: dict, content: list[list[int]]) -> str:
    return " ".join(article["text"][s:e].strip() for s, e in sorted(content))


def short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def load_pairs(articles: dict[str, dict], labels: Path = LABELS) -> list[dict]:
    """The labelled pairs with their texts; raises if a text no longer matches its hash."""
    pairs = []
    with labels.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            for side in ("a", "b"):
                ref = row[side]
                text = claim_text(articles[ref["article"]], ref["content"])
                if short_hash(text) != ref["sha"]:
                    raise ValueError(f"pair {row['pair']}: text of {ref['article']} "
                                     f"{ref['content']} does not match its hash")
                row[side + "_text"] = text
            pairs.append(row)
    return pairs


def add_cosines(pairs: list[dict], embedder) -> None:
    texts = sorted({p["a_text"] for p in pairs} | {p["b_text"] for p in pairs})
    vectors = embedder.encode(texts)
    row = {t: i for i, t in enumerate(texts)}
    for p in pairs:
        p["cosine"] = float(vectors[row[p["a_text"]]] @ vectors[row[p["b_text"]]])


def prf(pairs: list[dict], predict) -> dict:
    tp = fp = fn = tn = 0
    for p in pairs:
        gold = p["label"] == "same"
        pred = predict(p)
        tp += gold and pred
        fp += (not gold) and pred
        fn += gold and not pred
        tn += (not gold) and not pred
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "tp": tp, "fp": fp, "fn": fn, "tn": tn, "n": len(pairs)}


def matcher_predict(options):
    from sourcetrace.match import confirm

    return lambda p: confirm(p["a_text"], p["b_text"], p["cosine"], options).same


def tune(pairs: list[dict], *, checks: bool = True, **fixed) -> tuple[object, dict]:
    """The MatchOptions with the best F1 on ``pairs`` (grid over the thresholds).

    The checks do not depend on the cosine threshold, so each setting of the
    other options runs them once and the cosine grid reuses the outcome.
    """
    from sourcetrace.match import MatchOptions, confirm

    best = None
    cosines = [round(0.50 + 0.01 * i, 2) for i in range(46)]
    overlaps = (0.0, 0.2, 0.34, 0.5, 0.67, 1.0) if checks else (0.0,)
    negation = (True, False) if checks else (False,)
    for overlap, neg in itertools.product(overlaps, negation):
        kwargs = dict(entity_min_overlap=overlap, check_negation=neg)
        if not checks:
            kwargs.update(check_numbers=False, check_dates=False, check_polarity=False,
                          check_entities=False)
        kwargs.update(fixed)
        loose = MatchOptions(min_cosine=-1.0, **kwargs)
        passed = {id(p): confirm(p["a_text"], p["b_text"], p["cosine"], loose).same
                  for p in pairs}
        for min_cosine in cosines:
            score = prf(pairs, lambda p: p["cosine"] >= min_cosine and passed[id(p)])
            key = (score["f1"], score["precision"], -min_cosine)
            if best is None or key > best[0]:
                best = (key, MatchOptions(min_cosine=min_cosine, **kwargs), score)
    return best[1], best[2]


def evaluate_matching(articles: dict[str, dict]) -> dict:
    from sourcetrace.embed import get_embedder
    from sourcetrace.match import MatchOptions

    pairs = load_pairs(articles)
    t = time.perf_counter()
    add_cosines(pairs, get_embedder())
    embed_s = time.perf_counter() - t
    tune_set = [p for p in pairs if p["split"] == "tune"]
    test_set = [p for p in pairs if p["split"] == "test"]
    options, tune_score = tune(tune_set)
    cosine_only, cosine_only_tune = tune(tune_set, checks=False)
    result = {
        "pairs": len(pairs),
        "same": sum(p["label"] == "same" for p in pairs),
        "hard_negatives": sum(p["hard"] for p in pairs),
        "tune_pairs": len(tune_set), "test_pairs": len(test_set),
        "embed_seconds": round(embed_s, 2),
        "tuned": {"min_cosine": options.min_cosine,
                  "entity_min_overlap": options.entity_min_overlap,
                  "check_negation": options.check_negation},
        "tune": tune_score,
        "test": prf(test_set, matcher_predict(options)),
        "cosine_only": {"min_cosine": cosine_only.min_cosine, "tune": cosine_only_tune,
                        "test": prf(test_set, matcher_predict(cosine_only))},
        "ablation_test": {},
        "test_hard_negatives_rejected": None,
    }
    for check in ("numbers", "dates", "negation", "polarity", "entities"):
        if not getattr(options, f"check_{check}"):
            continue
        off = MatchOptions(**{**_fields(options), f"check_{check}": False})
        result["ablation_test"][f"without_{check}"] = prf(test_set, matcher_predict(off))
    hard = [p for p in test_set if p["hard"]]
    predict = matcher_predict(options)
    result["test_hard_negatives_rejected"] = round(
        sum(not predict(p) for p in hard) / len(hard), 4) if hard else None
    return result


def _fields(options) -> dict:
    import dataclasses

    return {f.name: getattr(options, f.name) for f in dataclasses.fields(options)}


# ---------------------------------------------------------------------------
# Syndication

TRAILERS = (
    "Source: Read Full Article",
    "This story has been corrected to fix a typo.",
    "(Reporting by staff; editing by the desk)",
    "Copyright 2016 The Associated Press. All rights reserved. This material may not be "
    "published, broadcast, rewritten or redistributed.",
    "Follow us on Twitter and Facebook for the latest news.",
)
SWAPS = {"said": "says", "told": "said to", "Tuesday": "Tuesday night", "also": "",
         "percent": "per cent", "president": "President", "however": "but",
         "would": "will", "people": "persons"}


def wire_copy(text: str, rng: random.Random) -> tuple[str, list[str]]:
    """A republished copy: new headline, paragraphs dropped/reordered, trailer, words changed."""
    paras = [p for p in text.split("\n") if p.strip()]
    edits = []
    if len(paras) > 1:
        paras[0] = "Republished: " + " ".join(reversed(paras[0].split()[:8]))
        edits.append("headline")
    body = paras[1:] if len(paras) > 1 else paras
    if len(body) > 4 and rng.random() < 0.7:
        keep = max(3, int(len(body) * rng.uniform(0.6, 0.9)))
        body = body[:keep]
        edits.append("trimmed")
    if len(body) > 3 and rng.random() < 0.5:
        i = rng.randrange(1, len(body) - 1)
        body[i], body[i + 1] = body[i + 1], body[i]
        edits.append("reordered")
    if len(body) > 3 and rng.random() < 0.4:
        del body[rng.randrange(1, len(body))]
        edits.append("dropped")
    words = "\n".join(body).split(" ")
    changed = 0
    for i, w in enumerate(words):
        if w in SWAPS and rng.random() < 0.5:
            words[i] = SWAPS[w]
            changed += 1
    if changed:
        edits.append(f"{changed} words")
    trailer = rng.choice(TRAILERS)
    edits.append("trailer")
    out = (paras[0] + "\n" if len(paras) > 1 else "") + " ".join(words) + "\n" + trailer
    return out, edits


def evaluate_syndication(articles: dict[str, dict], *, n_copies: int = 150, seed: int = 5) -> dict:
    from sourcetrace.syndication import SyndicationIndex

    rng = random.Random(seed)
    ids = sorted(articles)
    originals = rng.sample(ids, n_copies)
    docs = [(aid, articles[aid]["text"]) for aid in ids]
    copy_of = {}
    copy_edits: dict[str, list[str]] = {}
    edit_counts: dict[str, int] = {}
    for aid in originals:
        text, edits = wire_copy(articles[aid]["text"], rng)
        cid = f"copy:{aid}"
        copy_of[cid] = aid
        docs.append((cid, text))
        copy_edits[cid] = edits
        for e in edits:
            key = "words" if e.endswith("words") else e
            edit_counts[key] = edit_counts.get(key, 0) + 1
    rng.shuffle(docs)
    index = SyndicationIndex()
    t = time.perf_counter()
    for aid, text in docs:
        index.add(aid, text)
    seconds = time.perf_counter() - t
    clusters = index.clusters(min_size=2)
    predicted = set()
    for members in clusters.values():
        for a, b in itertools.combinations(sorted(members), 2):
            predicted.add((a, b))
    gold = {tuple(sorted((c, o))) for c, o in copy_of.items()}
    tp = len(predicted & gold)
    precision = tp / len(predicted) if predicted else 0.0
    recall = tp / len(gold) if gold else 0.0
    # Pairs not made by us: either an error, or two PolNeAR articles that already are
    # near-duplicates (a story republished the next day, live blogs sharing entries).
    # Exact shingle containment tells which; both precisions are reported.
    from sourcetrace.syndication import shingles

    texts = dict(docs)
    false_pairs = []
    corpus_duplicates = 0
    for a, b in sorted(predicted - gold):
        sa, sb = shingles(texts[a]), shingles(texts[b])
        containment = len(sa & sb) / max(1, min(len(sa), len(sb)))
        jaccard = len(sa & sb) / max(1, len(sa | sb))
        corpus_duplicates += containment >= 0.7
        false_pairs.append({"pair": [a, b], "exact_jaccard": round(jaccard, 3),
                            "exact_containment": round(containment, 3)})
    missed = [{"copy": c, "edits": copy_edits[c]} for c in sorted(copy_of)
              if tuple(sorted((c, copy_of[c]))) not in predicted]
    p_corpus = (tp + corpus_duplicates) / len(predicted) if predicted else 0.0
    return {
        "articles": len(ids), "copies": len(copy_of), "edits": edit_counts,
        "seconds": round(seconds, 2),
        "pairs_predicted": len(predicted), "pairs_gold": len(gold),
        "precision": round(precision, 4), "recall": round(recall, 4),
        "f1": round(2 * precision * recall / (precision + recall), 4) if tp else 0.0,
        "precision_counting_corpus_duplicates_as_right": round(p_corpus, 4),
        "corpus_duplicates": corpus_duplicates,
        "other_pairs": false_pairs[:20],
        "missed": missed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("match", "syndication"))
    parser.add_argument("--polnear", type=Path, default=POLNEAR)
    args = parser.parse_args(argv)
    if not args.polnear.exists():
        print(f"{args.polnear} is absent: this benchmark reads PolNeAR from ../shared",
              file=sys.stderr)
        return 2
    articles = load_articles(args.polnear)
    out = {}
    if args.only in (None, "match"):
        out["matching"] = evaluate_matching(articles)
    if args.only in (None, "syndication"):
        out["syndication"] = evaluate_syndication(articles)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
