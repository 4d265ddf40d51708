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
    .venv/bin/python bench/eval_match.py --only match --write-scorer   # refit the score

Ranked retrieval with the reranker (retrieve.py, rerank.py), after
``train/reranker_pairs.py --out /tmp/reranker-data`` has written the held-out pairs:

    .venv/bin/python bench/eval_match.py --calibrate        # fit models/reranker/calibration.json
    .venv/bin/python bench/eval_match.py --only retrieval   # CLEF dev MAP@5, P@1; `same` P/R

The calibration is fitted on pairs never trained on: the reranked candidates of the CLEF train
queries held out of training (one in five) and the "calib" quarter of the PolNeAR pairs; the
report uses CLEF dev and the "report" quarter (other articles).

The score of match.py (a logistic regression over the cosine, the weight of the
unmatched content words and the length) is fitted here on the "tune" half only;
--write-scorer stores its coefficients, threshold and cosine floor in
src/sourcetrace/lexicons/claim_match_scorer.json.
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
POLNEAR = ROOT.parent / "shared" / "data" / "polnear"
LABELS = ROOT / "bench" / "labels" / "claim_pairs.jsonl"
EDITED = ROOT / "bench" / "labels" / "claim_pairs_edited.jsonl"
LEXICONS = ROOT / "src" / "sourcetrace" / "lexicons"
SCORER_FEATURES = ("cosine", "unmatched", "log_words")
MIN_RECALL = 0.80        # the score's threshold: best precision at this recall on "tune"
L2 = 1.0                 # ridge penalty on the standardised coefficients


def load_articles(folder: Path = POLNEAR,
                  names: tuple[str, ...] = ("train.jsonl", "dev.jsonl")) -> dict[str, dict]:
    articles = {}
    for name in names:
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


# ---------------------------------------------------------------------------
# Edited pairs: a PolNeAR claim and a copy of it with one kind of edit

NUMBER = re.compile(r"(?<![\w.,])\d+(?:,\d{3})*(?:\.\d+)?(?![\w])")
AUXILIARY = re.compile(r"\b(is|was|are|were|will|would|can|could|should|has|have|had|did|does)\b"
                       r"(?!\s+(?:not|never|no)\b|n't|'t)")
NOT = re.compile(r"\s(?:not|never)\b")
ACTORS = {"Trump": "Clinton", "Clinton": "Trump", "Sanders": "Cruz", "Cruz": "Sanders",
          "Obama": "Bush", "Bush": "Obama", "Rubio": "Kasich", "Kasich": "Rubio",
          "Carson": "Fiorina", "Republicans": "Democrats", "Democrats": "Republicans",
          "Republican": "Democratic", "Democratic": "Republican", "Russia": "China",
          "China": "Russia", "Mexico": "Canada", "Iran": "Iraq", "Iraq": "Iran",
          "Hillary": "Melania", "Donald": "Bernie"}
SYNONYMS = {"said": "stated", "says": "states", "told": "informed", "big": "large",
            "nearly": "almost", "almost": "nearly", "however": "but", "because": "since",
            "buy": "purchase", "help": "assist", "start": "begin", "started": "began",
            "quickly": "rapidly", "rise": "increase", "wants": "would like", "want": "would like",
            "U.S.": "United States", "United States": "U.S.", "percent": "%", "also ": "",
            "very ": "", "really ": "", "just ": "", "people": "individuals",
            "country": "nation", "nation": "country", "president": "President", "going to": "gonna",
            "plan": "proposal", "proposal": "plan", "think": "believe", "believe": "think",
            "get": "obtain", "got": "obtained", "show": "demonstrate", "shows": "demonstrates",
            "many": "numerous", "asked": "requested", "attack": "assault", "attacks": "assaults",
            "try": "attempt", "tried": "attempted", "enough": "sufficient", "need": "require",
            "needs": "requires", "kids": "children", "children": "kids", "job": "work",
            "jobs": "employment", "Mr. ": "", "Mrs. ": "", "Ms. ": ""}
SYNONYM = re.compile(r"(?<![\w.])(" + "|".join(re.escape(k.strip()) + (r"\s" if k.endswith(" ") else "")
                                           for k in sorted(SYNONYMS, key=len, reverse=True))
                     + r")(?![\w])")


def _edits_for(kind: str, text: str, rng: random.Random) -> list[list]:
    """[start, end, new] replacements in ``text`` for one kind of edit ([] if none fits)."""
    if kind == "number":
        found = [m for m in NUMBER.finditer(text) if not re.fullmatch(r"(19|20)\d\d", m.group())]
        if not found:
            return []
        m = rng.choice(found)
        value = float(m.group().replace(",", ""))
        new = value * rng.choice((2, 3, 10)) + rng.randint(1, 9)
        return [[m.start(), m.end(), f"{new:,.0f}" if new >= 1000 else f"{new:g}"]]
    if kind == "negation":
        nots = list(NOT.finditer(text))
        if nots and rng.random() < 0.4:
            m = nots[0]
            return [[m.start(), m.end(), ""]]
        m = AUXILIARY.search(text)
        return [[m.end(), m.end(), " not"]] if m else []
    if kind == "actor":
        hits = [m for name in ACTORS for m in re.finditer(rf"\b{name}\b", text)]
        if not hits:
            return []
        name = rng.choice(hits).group()
        return [[m.start(), m.end(), ACTORS[name]] for m in re.finditer(rf"\b{name}\b", text)]
    if kind == "paraphrase":
        out = []
        for m in SYNONYM.finditer(text):
            key = m.group(1)
            new = SYNONYMS.get(key, SYNONYMS.get(key.rstrip() + " "))
            if new is not None:
                out.append([m.start(), m.end(), new])
        if text.startswith("that "):
            out.append([0, 5, ""])
        return out
    raise ValueError(kind)


def apply_edits(text: str, edits: list[list]) -> str:
    for start, end, new in sorted(edits, key=lambda e: -e[0]):
        text = text[:start] + new + text[end:]
    return text


def make_edited_pairs(articles: dict[str, dict], *, per_kind: int = 170, seed: int = 12) -> list[dict]:
    """Pairs of (a PolNeAR train claim, the same claim edited): changed numbers,
    negations and other actors ("different"), paraphrases by synonyms and spelling
    ("same"). Only offsets, hashes and the edits (our own words) are kept."""
    from sourcetrace.crossoutlet.match import is_topic_fragment

    rng = random.Random(seed)
    train = sorted(articles)
    candidates = []
    for aid in train:
        for att in articles[aid]["attributions"]:
            content = att.get("content") or []
            if not content:
                continue
            text = claim_text(articles[aid], content)
            if 6 <= len(text.split()) <= 45 and not is_topic_fragment(text):
                candidates.append((aid, content, text))
    rng.shuffle(candidates)
    kinds = {"number": "different", "negation": "different", "actor": "different",
             "paraphrase": "same"}
    target = {"number": per_kind // 2, "negation": per_kind // 2, "actor": per_kind // 2,
              "paraphrase": per_kind + 10}
    counts = {k: 0 for k in kinds}
    used: set[str] = set()
    rows = []
    for aid, content, text in candidates:
        for kind in kinds:
            if counts[kind] >= target[kind] or (aid, str(content)) in used:
                continue
            edits = _edits_for(kind, text, rng)
            if not edits:
                continue
            edited = apply_edits(text, edits)
            if edited == text:
                continue
            used.add((aid, str(content)))
            counts[kind] += 1
            split = "tune" if int(hashlib.sha1(aid.encode()).hexdigest(), 16) % 2 else "test"
            rows.append({"pair": len(rows), "a": {"article": aid, "content": content,
                                                  "sha": short_hash(text)},
                         "edits": edits, "b_sha": short_hash(edited), "kind": kind,
                         "label": kinds[kind], "hard": kinds[kind] == "different",
                         "split": split})
            break
    return rows


def load_edited_pairs(articles: dict[str, dict], labels: Path = EDITED) -> list[dict]:
    pairs = []
    if not labels.exists():
        return pairs
    with labels.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            ref = row["a"]
            text = claim_text(articles[ref["article"]], ref["content"])
            edited = apply_edits(text, row["edits"])
            if short_hash(text) != ref["sha"] or short_hash(edited) != row["b_sha"]:
                raise ValueError(f"edited pair {row['pair']}: text of {ref['article']} "
                                 f"{ref['content']} does not match its hash")
            row["a_text"], row["b_text"] = text, edited
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
    from sourcetrace.crossoutlet.match import confirm

    return lambda p: confirm(p["a_text"], p["b_text"], p["cosine"], options).same


def tune(pairs: list[dict], *, checks: bool = True, **fixed) -> tuple[object, dict]:
    """The MatchOptions with the best F1 on ``pairs`` (grid over the thresholds).

    The checks do not depend on the cosine threshold, so each setting of the
    other options runs them once and the cosine grid reuses the outcome.
    """
    from sourcetrace.crossoutlet.match import MatchOptions, confirm

    best = None
    cosines = [round(0.50 + 0.01 * i, 2) for i in range(46)]
    overlaps = (0.0, 0.2, 0.34, 0.5, 0.67, 1.0) if checks else (0.0,)
    negation = (True, False) if checks else (False,)
    for overlap, neg in itertools.product(overlaps, negation):
        kwargs = dict(entity_min_overlap=overlap, check_negation=neg)
        if not checks:
            kwargs.update(check_numbers=False, check_dates=False, check_polarity=False,
                          check_entities=False, use_scorer=False)
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


def fit_logistic(rows: list[list[float]], labels: list[bool], l2: float = L2):
    """Logistic regression by Newton's method, ridge ``l2`` on the standardised
    coefficients (not the intercept); returns (coefficients, intercept) on the raw
    feature scale."""
    import numpy as np

    x = np.asarray(rows, dtype=float)
    y = np.asarray(labels, dtype=float)
    mu, sd = x.mean(0), x.std(0) + 1e-9
    z = np.hstack([(x - mu) / sd, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    penalty = np.diag(np.r_[np.full(z.shape[1] - 1, l2), 0.0])
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-z @ w))
        grad = z.T @ (p - y) + penalty @ w
        hess = (z * (p * (1 - p))[:, None]).T @ z + penalty
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    coef = w[:-1] / sd
    return [float(c) for c in coef], float(w[-1] - (coef * mu).sum())


def _features(p: dict) -> list[float]:
    from sourcetrace.crossoutlet.match import pair_features

    if "_features" not in p:
        f = pair_features(p["a_text"], p["b_text"], p["cosine"])
        p["_features"] = [f[k] for k in SCORER_FEATURES]
    return p["_features"]


def fit_scorer(pairs: list[dict], **fixed) -> tuple[object, dict, dict]:
    """Fit the score on ``pairs`` and tune its threshold and the cosine floor there.

    The logistic regression is fitted on the pairs read by a person (the edited
    pairs differ by a number, a negation or a name, which the checks catch, not the
    score; fitted on them it would learn that unmatched words do not matter); the
    threshold (0.10-0.90) and
    the cosine floor (0.50-0.80) are then chosen for the best precision at a recall
    of at least MIN_RECALL on the same pairs, with the other checks as shipped. Returns (options, scorer model, score).
    """
    from sourcetrace.crossoutlet.match import MatchOptions, confirm, pair_score

    read = [p for p in pairs if "edits" not in p] or pairs
    coef, intercept = fit_logistic([_features(p) for p in read],
                                   [p["label"] == "same" for p in read])
    model = {"features": list(SCORER_FEATURES), "coefficients": coef, "intercept": intercept}
    no_score = MatchOptions(min_cosine=-1.0, use_scorer=False, **fixed)
    passed = {id(p): confirm(p["a_text"], p["b_text"], p["cosine"], no_score).same
              for p in pairs}
    prob = {id(p): pair_score(dict(zip(SCORER_FEATURES, _features(p))), model) for p in pairs}
    best = None
    for floor in [round(0.50 + 0.01 * i, 2) for i in range(31)]:
        for threshold in [round(0.10 + 0.01 * i, 2) for i in range(81)]:
            score = prf(pairs, lambda p: p["cosine"] >= floor and passed[id(p)]
                        and prob[id(p)] >= threshold)
            enough = score["recall"] >= MIN_RECALL
            key = (enough, score["precision"] if enough else score["f1"], score["recall"],
                   -abs(threshold - 0.5), floor)
            if best is None or key > best[0]:
                best = (key, floor, threshold, score)
    _, floor, threshold, score = best
    model["threshold"] = threshold
    model["min_cosine"] = floor
    return MatchOptions(min_cosine=floor, min_score=threshold, **fixed), model, score


def cross_validated(pairs: list[dict], folds: int = 5, repeats: int = 10) -> dict:
    """F1 of the whole fitting procedure (coefficients, threshold, floor) on held-out
    folds of ``pairs``: what the tune half itself says the score generalises to."""
    from sourcetrace.crossoutlet.match import confirm

    f1s, totals = [], {"precision": [], "recall": []}
    for r in range(repeats):
        rng = random.Random(r)
        order = pairs[:]
        rng.shuffle(order)
        predicted = {}
        for k in range(folds):
            held = order[k::folds]
            train = [p for i, p in enumerate(order) if i % folds != k]
            options, model, _ = fit_scorer(train)
            for p in held:
                predicted[id(p)] = _confirm_with(model, options, p)
        score = prf(pairs, lambda p: predicted[id(p)])
        f1s.append(score["f1"])
        totals["precision"].append(score["precision"])
        totals["recall"].append(score["recall"])
    mean = lambda xs: round(sum(xs) / len(xs), 4)
    return {"folds": folds, "repeats": repeats, "f1": mean(f1s),
            "precision": mean(totals["precision"]), "recall": mean(totals["recall"]),
            "f1_min": min(f1s), "f1_max": max(f1s)}


def _confirm_with(model: dict, options, p: dict) -> bool:
    """confirm() with a scorer model that is not (yet) the packaged one."""
    from sourcetrace.crossoutlet import match

    saved = match.scorer_model
    match.scorer_model = lambda: model
    try:
        return match.confirm(p["a_text"], p["b_text"], p["cosine"], options).same
    finally:
        match.scorer_model = saved


def write_scorer(model: dict, tune_pairs: int) -> Path:
    path = LEXICONS / "claim_match_scorer.json"
    out = {
        "about": ("Score of claim matching (match.py): P(same) = 1 / (1 + exp(-(intercept + "
                  "sum of coefficient * feature))); a candidate passes when P >= threshold "
                  "and its cosine >= min_cosine (the MatchOptions default). Features: see "
                  "match.pair_features."),
        "fitted": (f"bench/eval_match.py --write-scorer: logistic regression (Newton, ridge "
                   f"{L2} on standardised coefficients) on the 'tune' pairs of "
                   "bench/labels/claim_pairs.jsonl; threshold and min_cosine chosen for "
                   f"the best precision at a recall of at least {MIN_RECALL} with the other checks "
                   f"on, on those and the 'tune' pairs of claim_pairs_edited.jsonl ({tune_pairs} "
                   "pairs in all). The 'test' pairs are never used."),
        "features": model["features"],
        "coefficients": [round(c, 6) for c in model["coefficients"]],
        "intercept": round(model["intercept"], 6),
        "threshold": model["threshold"],
        "min_cosine": model["min_cosine"],
    }
    path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return path


def evaluate_matching(articles: dict[str, dict], *, write: bool = False) -> dict:
    from sourcetrace.crossoutlet.embed import get_embedder
    from sourcetrace.crossoutlet.match import MatchOptions, scorer_model

    pairs = load_pairs(articles) + load_edited_pairs(articles)
    t = time.perf_counter()
    add_cosines(pairs, get_embedder())
    embed_s = time.perf_counter() - t
    tune_set = [p for p in pairs if p["split"] == "tune"]
    test_set = [p for p in pairs if p["split"] == "test"]
    fitted_options, model, _ = fit_scorer(tune_set)
    if write:
        write_scorer(model, len(tune_set))
        scorer_model.cache_clear()
    shipped = scorer_model()
    if any(abs(a - b) > 1e-4 for a, b in zip(shipped["coefficients"], model["coefficients"])) \
            or shipped["threshold"] != model["threshold"]:
        print("warning: the packaged scorer differs from the one fitted now; "
              "rerun with --write-scorer", file=sys.stderr)
    options = MatchOptions()
    checks_only, checks_only_tune = tune(tune_set, use_scorer=False)
    cosine_only, cosine_only_tune = tune(tune_set, checks=False)
    result = {
        "pairs": len(pairs),
        "edited_pairs": sum("edits" in p for p in pairs),
        "same": sum(p["label"] == "same" for p in pairs),
        "hard_negatives": sum(p["hard"] for p in pairs),
        "tune_pairs": len(tune_set), "test_pairs": len(test_set),
        "embed_seconds": round(embed_s, 2),
        "shipped": {"min_cosine": options.min_cosine, "threshold": shipped["threshold"],
                    "features": shipped["features"], "coefficients": shipped["coefficients"],
                    "intercept": shipped["intercept"],
                    "entity_min_overlap": options.entity_min_overlap,
                    "check_negation": options.check_negation},
        "tune": prf(tune_set, matcher_predict(options)),
        "tune_cross_validated": cross_validated(tune_set),
        "test": prf(test_set, matcher_predict(options)),
        "test_read_pairs": prf([p for p in test_set if "edits" not in p], matcher_predict(options)),
        "test_edited_pairs": prf([p for p in test_set if "edits" in p], matcher_predict(options)),
        "test_edited_by_kind": {
            kind: prf([p for p in test_set if p.get("kind") == kind], matcher_predict(options))
            for kind in ("number", "negation", "actor", "paraphrase")},
        "checks_without_score": {"min_cosine": checks_only.min_cosine,
                                 "tune": checks_only_tune,
                                 "test": prf(test_set, matcher_predict(checks_only))},
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
    from sourcetrace.crossoutlet.syndication import SyndicationIndex

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
    from sourcetrace.crossoutlet.syndication import shingles

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


# ---------------------------------------------------------------------------
# Ranked retrieval with the reranker: CLEF 2020 CheckThat! Task 2 and held-out claim pairs

CLEF = ROOT.parent / "shared" / "data" / "clef2020-claims"
RERANKER_PAIRS = Path("/tmp/reranker-data")     # train/reranker_pairs.py --out
CACHE = Path.home() / ".cache" / "sourcetrace-bench"


def _clef():
    sys.path.insert(0, str(ROOT / "train"))
    import reranker_pairs as rp

    return rp


def clef_collection(embedder):
    """The 10,375 CLEF fact-checks as a retrieval Collection (vectors cached by model hash)."""
    from sourcetrace.crossoutlet.embed import MODEL_DIR
    from sourcetrace.crossoutlet.retrieve import Collection

    rp = _clef()
    vclaims = rp.read_vclaims()
    ids = sorted(vclaims, key=int)
    texts = [vclaims[i]["claim"] for i in ids]
    key = hashlib.sha1((MODEL_DIR / "model.onnx").read_bytes()[:1_000_000]
                       + "\n".join(texts).encode()).hexdigest()[:12]
    cache = CACHE / f"clef-vclaims-{key}.npy"
    if cache.exists():
        vectors = np.load(cache)
    else:
        vectors = embedder.encode(texts, batch_size=16)
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(cache, vectors)
    collection = Collection()
    collection.add(ids, texts, vectors)
    return collection


def clef_scores(split: str, query_ids: list[str] | None = None, *, depth: int | None = None,
                top: int = 10) -> dict:
    """Retrieve for each CLEF query of ``split``; MAP@1/5, P@1, and the `same` verdicts."""
    from sourcetrace.crossoutlet.embed import get_embedder
    from sourcetrace.crossoutlet.retrieve import SAME, retrieve_many

    rp = _clef()
    embedder = get_embedder()
    collection = clef_collection(embedder)
    queries, qrels = rp.read_clef(split)
    qids = query_ids or list(queries)
    t = time.perf_counter()
    vectors = embedder.encode([queries[q] for q in qids])
    from sourcetrace.crossoutlet.retrieve import DEPTH

    found = retrieve_many([queries[q] for q in qids], collection, top=top,
                          depth=DEPTH if depth is None else depth, vectors=vectors)
    seconds = time.perf_counter() - t
    dense_only = collection.index.search(vectors, 5)     # the MiniLM cosine ranking alone
    ap5, ap1, p1, dense_ap5 = [], [], [], []
    marked = right = covered = 0
    rows = []
    for qid, r, dense in zip(qids, found, dense_only):
        gold = qrels.get(qid, set())
        ranked = [h.id for h in r.hits]
        ap5.append(_average_precision(ranked[:5], gold))
        ap1.append(_average_precision(ranked[:1], gold))
        p1.append(float(bool(ranked) and ranked[0] in gold))
        dense_ap5.append(_average_precision([cid for cid, _ in dense], gold))
        same = [h for h in r.hits if h.verdict == SAME]
        if same:
            covered += 1
            marked += len(same)
            right += sum(h.id in gold for h in same)
        for h in r.hits:
            rows.append({"qid": qid, "logit": h.logit, "cosine": h.cosine,
                         "label": int(h.id in gold), "rank": h.rank,
                         "conf": bool(h.conflicts)})
    n = len(qids)
    return {"queries": n, "MAP@5": round(float(np.mean(ap5)), 4),
            "MAP@1": round(float(np.mean(ap1)), 4), "P@1": round(float(np.mean(p1)), 4),
            "dense_only_MAP@5": round(float(np.mean(dense_ap5)), 4),
            "same_precision": round(right / marked, 4) if marked else None,
            "same_coverage": round(covered / n, 4), "same_marked": marked,
            "seconds": round(seconds, 1), "per_query_s": round(seconds / max(n, 1), 3),
            "_rows": rows}


def _average_precision(ranked: list[str], gold: set[str]) -> float:
    hits, total = 0, 0.0
    for i, cid in enumerate(ranked, 1):
        if cid in gold:
            hits += 1
            total += hits / i
    return total / min(len(gold), len(ranked)) if gold and ranked else 0.0


def _pair_rows(path: Path) -> list[dict]:
    from sourcetrace.crossoutlet.embed import get_embedder
    from sourcetrace.crossoutlet.rerank import get_reranker

    with path.open(encoding="utf-8") as f:
        pairs = [json.loads(line) for line in f if line.strip()]
    texts = sorted({p["a"] for p in pairs} | {p["b"] for p in pairs})
    vectors = get_embedder().encode(texts, batch_size=16)
    row = {t: i for i, t in enumerate(texts)}
    logits = get_reranker().score_pairs([(p["a"], p["b"]) for p in pairs])
    for p, logit in zip(pairs, logits):
        p["cosine"] = float(vectors[row[p["a"]]] @ vectors[row[p["b"]]])
        p["logit"] = float(logit)
    return pairs


def pair_report(pairs: list[dict]) -> dict:
    """Precision and recall of `same` on labelled pairs, by source of the pair."""
    from sourcetrace.crossoutlet.rerank import get_reranker
    from sourcetrace.crossoutlet.retrieve import SAME, conflicts, verdict

    reranker = get_reranker()
    probs = reranker.probability(np.array([p["logit"] for p in pairs]),
                                 np.array([p["cosine"] for p in pairs]))
    for p, prob in zip(pairs, probs):
        p["pred"] = verdict(float(prob), p["cosine"], conflicts(p["a"], p["b"]), reranker,
                            logit=p["logit"]) == SAME

    def prf_of(items):
        tp = sum(p["pred"] and p["label"] == 1 for p in items)
        fp = sum(p["pred"] and p["label"] == 0 for p in items)
        fn = sum((not p["pred"]) and p["label"] == 1 for p in items)
        return {"precision": round(tp / (tp + fp), 4) if tp + fp else None,
                "recall": round(tp / (tp + fn), 4) if tp + fn else None,
                "tp": tp, "fp": fp, "fn": fn, "n": len(items)}

    by = {}
    for p in pairs:
        by.setdefault(p["source"], []).append(p)
    return {"all": prf_of(pairs), "by_source": {k: prf_of(v) for k, v in sorted(by.items())}}


def calibrate(pairs_dir: Path = RERANKER_PAIRS) -> dict:
    """Fit the reranker's calibration on the held-out calibration pairs (the CLEF train
    queries never trained on, with their 20 fused candidates each, and the PolNeAR "calib"
    quarter) and write models/reranker/calibration.json:

    cosine_weight  w of the rank score s = logit + w * cosine: the w of {5, 10, 15, 20, 30}
                   with the best MAP@5 on the CLEF calibration queries
    slope, intercept  Platt scaling: probability = sigmoid(slope * s + intercept)
    same, min_logit   a hit is `same` when s >= same (given as a probability), the logit alone
                   >= min_logit and no conflict is found (same_margin is kept at 99: every hit
                   that states the query is `same`, not only the best); chosen on the grid to
                   cover the most CLEF calibration queries with `same` precision >= 0.70 there
                   and >= 0.90 on the PolNeAR calibration pairs
    """
    from sourcetrace.crossoutlet import rerank

    split = json.loads((pairs_dir / "clef_split.json").read_text())
    path = rerank.MODEL_DIR / "calibration.json"
    path.write_text(json.dumps({"cosine_weight": 0.0, "slope": 1.0, "intercept": 0.0,
                                "same": 0.5, "min_logit": -99, "same_margin": 99,
                                "related": 0.05}))
    rerank._RERANKER = None
    clef = clef_scores("train", split["calib"], top=20, depth=20)["_rows"]
    polnear = _pair_rows(pairs_dir / "calib.jsonl")
    from sourcetrace.crossoutlet.retrieve import conflicts

    for p in polnear:
        p["conf"] = bool(conflicts(p["a"], p["b"]))
    by_query: dict[str, list[dict]] = {}
    for r in clef:
        by_query.setdefault(r["qid"], []).append(r)

    def clef_map(w: float) -> float:
        aps = []
        for rows in by_query.values():
            ranked = sorted(rows, key=lambda r: -(r["logit"] + w * r["cosine"]))[:5]
            gold = sum(r["label"] for r in rows) or 1
            hits, total = 0, 0.0
            for i, r in enumerate(ranked, 1):
                if r["label"]:
                    hits += 1
                    total += hits / i
            aps.append(total / min(gold, 5))
        return float(np.mean(aps))

    maps = {w: clef_map(w) for w in (5.0, 10.0, 15.0, 20.0, 30.0)}
    w = max(maps, key=lambda k: (maps[k], -k))
    scores = np.array([r["logit"] + w * r["cosine"] for r in clef]
                      + [p["logit"] + w * p["cosine"] for p in polnear])
    labels = np.array([r["label"] for r in clef] + [p["label"] for p in polnear])
    coef, intercept = _fit_weighted([[x] for x in scores], list(labels), np.ones(len(labels)))
    margin = 99.0     # no margin: every claim that states the query is `same`, not just the best

    def clef_same(t: float, low: float) -> tuple[float, float]:
        covered = marked = right = 0
        for rows in by_query.values():
            ss = [r["logit"] + w * r["cosine"] for r in rows]
            top = max(ss)
            same = [r for r, x in zip(rows, ss) if x >= max(t, top - margin)
                    and r["logit"] >= low and not r["conf"]]
            covered += bool(same)
            marked += len(same)
            right += sum(r["label"] for r in same)
        return covered / len(by_query), (right / marked if marked else 0.0)

    def pairs_precision(t: float, low: float) -> float:
        pred = [p for p in polnear if p["logit"] + w * p["cosine"] >= t and p["logit"] >= low
                and not p["conf"]]
        return sum(p["label"] for p in pred) / len(pred) if pred else 0.0

    best = None
    for t in np.arange(6.0, 16.01, 0.5):
        for low in (-2.0, -1.0, 0.0, 1.0):
            coverage, precision = clef_same(t, low)
            if precision >= 0.70 and pairs_precision(t, low) >= 0.90:
                key = (coverage, precision)
                if best is None or key > best[0]:
                    best = (key, float(t), low)
    if best is None:
        raise SystemExit("no threshold reaches the precision targets on the calibration pairs")
    (coverage, precision), t, low = best
    prob_t = float(1 / (1 + np.exp(-(coef[0] * t + intercept))))
    out = {"cosine_weight": w, "slope": round(float(coef[0]), 6),
           "intercept": round(float(intercept), 6), "same": round(prob_t, 6),
           "min_logit": low, "same_margin": margin, "related": 0.05,
           "fitted_on": {"clef_train_calib_queries": len(by_query),
                         "clef_candidate_pairs": len(clef), "polnear_pairs": len(polnear)},
           "calibration_set": {"clef_map5_by_cosine_weight": {str(k): round(v, 4)
                                                              for k, v in maps.items()},
                               "clef_same_coverage": round(coverage, 4),
                               "clef_same_precision": round(precision, 4),
                               "polnear_same_precision": round(pairs_precision(t, low), 4)}}
    path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    rerank._RERANKER = None
    probs = 1 / (1 + np.exp(-(coef[0] * scores + intercept)))
    return {**out, "brier_on_calibration": round(float(np.mean((probs - labels) ** 2)), 4),
            "written": str(path)}


def _fit_weighted(rows, labels, weights, iters: int = 500, lr: float = 0.5):
    x = np.asarray(rows, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-9
    xs = (x - mu) / sd
    w = np.zeros(x.shape[1])
    b = 0.0
    wt = weights / weights.sum()
    for _ in range(iters * 4):
        p = 1 / (1 + np.exp(-(xs @ w + b)))
        g = p - y
        w -= lr * (xs.T @ (g * wt) + 1e-4 * w)
        b -= lr * float((g * wt).sum())
    coef = w / sd
    return coef, b - float((w * mu / sd).sum())


def evaluate_retrieval(pairs_dir: Path = RERANKER_PAIRS) -> dict:
    """CLEF dev MAP@5 and P@1 of the ranked retrieval, its `same` verdicts, and the precision
    and recall of `same` on the held-out report quarter of the PolNeAR pairs."""
    dev = clef_scores("dev")
    dev.pop("_rows")
    out = {"clef_dev": dev}
    report = pairs_dir / "report.jsonl"
    if report.exists():
        out["pairs_report"] = pair_report(_pair_rows(report))
    else:
        out["pairs_report"] = f"{report} absent: run train/reranker_pairs.py --out {pairs_dir}"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("match", "syndication", "retrieval"))
    parser.add_argument("--calibrate", action="store_true",
                        help="fit the reranker's calibration on the held-out calibration pairs "
                             "(models/reranker/calibration.json)")
    parser.add_argument("--pairs", type=Path, default=RERANKER_PAIRS,
                        help="the folder written by train/reranker_pairs.py")
    parser.add_argument("--polnear", type=Path, default=POLNEAR)
    parser.add_argument("--make-edited", action="store_true",
                        help="write bench/labels/claim_pairs_edited.jsonl from PolNeAR train")
    parser.add_argument("--write-scorer", action="store_true",
                        help="refit the score on the tune half and store it in the package")
    args = parser.parse_args(argv)
    if not args.polnear.exists():
        print(f"{args.polnear} is absent: this benchmark reads PolNeAR from ../shared",
              file=sys.stderr)
        return 2
    if args.make_edited:
        rows = make_edited_pairs(load_articles(args.polnear, ("train.jsonl",)))
        with EDITED.open("w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")
        print(f"{len(rows)} pairs -> {EDITED}", file=sys.stderr)
        return 0
    if args.calibrate:
        print(json.dumps(calibrate(args.pairs), indent=1))
        return 0
    if args.only == "retrieval":
        print(json.dumps({"retrieval": evaluate_retrieval(args.pairs)}, indent=1))
        return 0
    articles = load_articles(args.polnear)
    out = {}
    if args.only in (None, "match"):
        out["matching"] = evaluate_matching(articles, write=args.write_scorer)
    if args.only in (None, "syndication"):
        out["syndication"] = evaluate_syndication(articles)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
