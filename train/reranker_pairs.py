"""Build the claim-pair sets the cross-encoder reranker is trained, calibrated and scored on.

Run with the project's venv (it embeds with the packaged MiniLM to pick hard negatives):

    .venv/bin/python train/reranker_pairs.py --out /tmp/reranker-data

Writes, outside the repository (the pairs hold text of ../shared data, never committed):

- ``train.jsonl``      pairs to fine-tune on: {"a", "b", "label" (1 same claim / 0 not), "source"}
- ``calib.jsonl``      held-out pairs to fit the calibration on (PolNeAR only; CLEF calibration
                       pairs are made from the reranked candidates of the ``calib`` queries)
- ``report.jsonl``     held-out pairs the precision and recall of ``same`` are reported on
- ``clef_split.json``  CLEF train query ids used for fitting and for calibration
- ``clef_vectors.npz`` MiniLM vectors of the CLEF fact-checks and tweets (reused by the eval)

Sources of pairs (seed 20, reproducible):

CLEF 2020 Task 2 train (800 tweets): a tweet and the fact-check that verifies it (positive); the
8 fact-checks the packaged MiniLM ranks highest that are not gold (hard negatives). Queries are
split by a hash of their id: one in five is kept for calibration, never trained on.

PolNeAR train articles, split by a hash of the article id exactly as
bench/labels/claim_pairs_edited.jsonl is: the "tune" half is trained on, the "test" half is
held out (one half of it for calibration, the other for the report). For each attribution content
of 6-45 words that states something:
  positives  the content vs the whole sentence that carries it ("X said that ..."), and vs a
             copy rewritten with synonyms and spellings (the lists of bench/eval_match.py)
  negatives  a copy with a number changed, a negation added or removed, another actor, another
             date (year, month or weekday); either side may be the whole sentence;
             another claim of the same article (same topic, different claim)
plus the labelled read pairs (bench/labels/claim_pairs.jsonl) and the edited pairs
(bench/labels/claim_pairs_edited.jsonl), "tune" split trained on and "test" split reported.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

import eval_match as em  # noqa: E402  (bench/eval_match.py: PolNeAR readers and edit lists)

CLEF = ROOT.parent / "shared" / "data" / "clef2020-claims"
SEED = 20
HARD_NEGATIVES = 8

_YEAR = re.compile(r"\b(19|20)(\d\d)\b")
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_MONTH = re.compile(r"\b(" + "|".join(_MONTHS) + r")\b")
_DAY = re.compile(r"\b(" + "|".join(_DAYS) + r")\b")


def half(key: str) -> str:
    """The split of bench/labels/claim_pairs_edited.jsonl: "tune" or "test" by article hash."""
    return "tune" if int(hashlib.sha1(key.encode()).hexdigest(), 16) % 2 else "test"


def quarter(key: str) -> str:
    """Within the "test" half: "calib" or "report" by another bit of the same hash."""
    return "calib" if (int(hashlib.sha1(key.encode()).hexdigest(), 16) >> 1) % 2 else "report"


def read_clef(split: str) -> tuple[dict[str, str], dict[str, set[str]]]:
    queries, qrels = {}, {}
    with (CLEF / split / "tweets.queries.tsv").open(encoding="utf-8", newline="") as f:
        rows = csv.reader(f, delimiter="\t")
        next(rows)
        for qid, text in rows:
            queries[qid] = text
    with (CLEF / split / "tweet-vclaim-pairs.qrels").open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                qid, _, vid, _ = line.split()
                qrels.setdefault(qid, set()).add(vid)
    return queries, qrels


def read_vclaims() -> dict[str, dict]:
    """The fact-checks by id (the file quotes fields that hold a line break)."""
    out = {}
    with (CLEF / "verified_claims.docs.tsv").open(encoding="utf-8", newline="") as f:
        rows = csv.reader(f, delimiter="\t")
        next(rows)
        for parts in rows:
            out[parts[0]] = {"claim": " ".join(parts[1].split()),
                             "title": " ".join(parts[2].split()) if len(parts) > 2 else ""}
    return out


def date_edit(text: str, rng: random.Random) -> str | None:
    """The text with one year, month or weekday changed (None when it names none)."""
    options = []
    for m in _YEAR.finditer(text):
        year = int(m.group())
        options.append((m.start(), m.end(), str(year + rng.choice((-3, -2, -1, 1, 2, 4)))))
    for m in _MONTH.finditer(text):
        options.append((m.start(), m.end(), rng.choice([x for x in _MONTHS if x != m.group()])))
    for m in _DAY.finditer(text):
        options.append((m.start(), m.end(), rng.choice([x for x in _DAYS if x != m.group()])))
    if not options:
        return None
    s, e, new = rng.choice(options)
    return text[:s] + new + text[e:]


def sentence_around(text: str, start: int, end: int) -> str:
    """The sentence(s) of ``text`` that hold the span [start, end)."""
    left = max(text.rfind(". ", 0, start), text.rfind("\n", 0, start), text.rfind("? ", 0, start))
    left = 0 if left < 0 else left + 1
    m = re.compile(r"[.!?][\"”’']?(?:\s|$)").search(text, end)
    right = m.end() if m else len(text)
    return " ".join(text[left:right].split())


def polnear_pairs(articles: dict[str, dict], aids: list[str], rng: random.Random,
                  max_claims: int) -> list[dict]:
    from sourcetrace.crossoutlet.match import is_topic_fragment

    claims = []
    for aid in aids:
        art = articles[aid]
        for att in art["attributions"]:
            content = att.get("content") or []
            if not content:
                continue
            text = em.claim_text(art, content)
            if 6 <= len(text.split()) <= 45 and not is_topic_fragment(text):
                s = min(a for a, _ in content)
                e = max(b for _, b in content)
                claims.append((aid, text, sentence_around(art["text"], s, e)))
    rng.shuffle(claims)
    claims = claims[:max_claims]
    by_article: dict[str, list[str]] = {}
    for aid, text, _ in claims:
        by_article.setdefault(aid, []).append(text)
    pairs = []

    def add(a, b, label, source, aid):
        if a.strip() and b.strip() and a != b:
            if rng.random() < 0.5:
                a, b = b, a
            pairs.append({"a": a, "b": b, "label": label, "source": source, "article": aid})

    for aid, text, sentence in claims:
        has_sentence = sentence != text and len(sentence.split()) <= 70
        if has_sentence:
            add(text, sentence, 1, "polnear-sentence", aid)
        para = em._edits_for("paraphrase", text, rng)
        if para:
            edited = em.apply_edits(text, para)
            add(edited, sentence if has_sentence and rng.random() < 0.3 else text, 1,
                "polnear-paraphrase", aid)
        for kind in ("number", "negation", "actor", "date"):
            if kind == "date":
                edited = date_edit(text, rng)
            else:
                edits = em._edits_for(kind, text, rng)
                edited = em.apply_edits(text, edits) if edits else None
            if edited and edited != text:
                other = sentence if has_sentence and rng.random() < 0.4 else text
                add(edited, other, 0, f"polnear-{kind}", aid)
        siblings = [t for t in by_article[aid] if t != text]
        if siblings:
            add(text, rng.choice(siblings), 0, "polnear-sibling", aid)
    return pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/reranker-data"))
    parser.add_argument("--max-claims", type=int, default=2600,
                        help="PolNeAR claims drawn from the training half")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)

    from sourcetrace.crossoutlet.embed import Embedder

    embedder = Embedder(threads=1)
    vclaims = read_vclaims()
    vids = sorted(vclaims, key=int)
    train_q, train_rel = read_clef("train")
    dev_q, dev_rel = read_clef("dev")
    cache = args.out / "clef_vectors.npz"
    if cache.exists():
        z = np.load(cache, allow_pickle=False)
        vc, tq, dq = z["vclaims"], z["train"], z["dev"]
    else:
        vc = embedder.encode([vclaims[v]["claim"] for v in vids], batch_size=16)
        tq = embedder.encode([train_q[q] for q in train_q], batch_size=16)
        dq = embedder.encode([dev_q[q] for q in dev_q], batch_size=16)
        np.savez(cache, vclaims=vc, train=tq, dev=dq, vids=np.array(vids),
                 train_ids=np.array(list(train_q)), dev_ids=np.array(list(dev_q)))
    print(f"CLEF vectors: {vc.shape[0]} fact-checks, {tq.shape[0]} + {dq.shape[0]} tweets",
          file=sys.stderr)

    train, calib, report = [], [], []
    fit_ids, calib_ids = [], []
    sims = tq @ vc.T
    for row, qid in enumerate(train_q):
        gold = train_rel.get(qid, set())
        if int(hashlib.sha1(qid.encode()).hexdigest(), 16) % 5 == 0:
            calib_ids.append(qid)
            continue
        fit_ids.append(qid)
        for vid in gold:
            for _ in range(2):      # positives twice: 2 of 10 pairs per tweet
                train.append({"a": train_q[qid], "b": vclaims[vid]["claim"], "label": 1,
                              "source": "clef"})
        order = np.argsort(-sims[row])
        negatives = [vids[i] for i in order[:HARD_NEGATIVES + len(gold)] if vids[i] not in gold]
        for vid in negatives[:HARD_NEGATIVES]:
            train.append({"a": train_q[qid], "b": vclaims[vid]["claim"], "label": 0,
                          "source": "clef-hard"})

    articles = em.load_articles(names=("train.jsonl",))
    aids = sorted(articles)
    tune_aids = [a for a in aids if half(a) == "tune"]
    test_aids = [a for a in aids if half(a) == "test"]
    train += polnear_pairs(articles, tune_aids, rng, args.max_claims)
    held = polnear_pairs(articles, test_aids, random.Random(SEED + 1), args.max_claims // 2)
    for p in held:
        (calib if quarter(p["article"]) == "calib" else report).append(p)

    for row in em.load_pairs(articles | em.load_articles(names=("dev.jsonl",))):
        pair = {"a": row["a_text"], "b": row["b_text"], "label": int(row["label"] == "same"),
                "source": "read-pairs", "article": row["a"]["article"]}
        if row["split"] == "tune":
            train.append(pair)
        else:
            (calib if quarter(row["a"]["article"]) == "calib" else report).append(pair)
    for row in em.load_edited_pairs(articles):
        pair = {"a": row["a_text"], "b": row["b_text"], "label": int(row["label"] == "same"),
                "source": f"edited-{row['kind']}", "article": row["a"]["article"]}
        if row["split"] == "tune":
            train.append(pair)
        else:
            (calib if quarter(row["a"]["article"]) == "calib" else report).append(pair)

    rng.shuffle(train)
    for name, rows in (("train", train), ("calib", calib), ("report", report)):
        with (args.out / f"{name}.jsonl").open("w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        counts: dict[str, list[int]] = {}
        for r in rows:
            counts.setdefault(r["source"], [0, 0])[r["label"]] += 1
        print(name, len(rows), json.dumps(counts), file=sys.stderr)
    (args.out / "clef_split.json").write_text(json.dumps({"fit": fit_ids, "calib": calib_ids}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
