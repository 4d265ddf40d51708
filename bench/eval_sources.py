"""Score source typing and assertion classes against the hand labels in bench/labels/.

    python bench/eval_sources.py                 # tables for identity, kind and assertion classes
    python bench/eval_sources.py --json          # the same figures as JSON
    python bench/eval_sources.py --speed 40      # time sources+assertions+profile against analyze
    python bench/eval_sources.py --speakers      # speaker references and entity pairs (found attributions)

Typing is scored given the gold source span: every gold attribution of a labelled
PolNeAR train article becomes a model.Attribution (source, cue, content from the
gold offsets, no speaker set), the article is parsed with the spaCy model (up to the
end of the paragraph holding its last labelled attribution), and
``sources.resolve_sources`` runs on all of them (so pronouns resolve against the
article's other gold sources). The identity and kind of the source that owns
the labelled attribution are compared with the label. Assertion classes are
scored by ``assertions.classify_sentence`` on the labelled sentence span, parsed
within its paragraph.

Articles are split by a hash of their id into two halves ("dev": the rules were
adjusted looking at its errors only, "test": never looked at); figures are
given for both and for all. Labels carry a hash of the covered text and are
refused if the text no longer matches. Nothing here is copied from PolNeAR.
"""
from __future__ import annotations

import argparse
import functools
import hashlib
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "bench" / "labels"
SHARED = ROOT.parent / "shared"
TRAIN = SHARED / "data" / "polnear" / "train.jsonl"
DEV = SHARED / "data" / "polnear" / "dev.jsonl"


def split_of(article_id: str) -> str:
    return "dev" if int(hashlib.sha1(article_id.encode()).hexdigest()[0], 16) % 2 == 0 else "test"


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def check_hash(text: str, item: dict) -> None:
    got = hashlib.sha1(text[item["start"]:item["end"]].encode()).hexdigest()[:8]
    if got != item["sha"]:
        raise SystemExit(f"label {item['id']} [{item['start']}, {item['end']}) no longer matches the "
                         f"article text (hash {got} != {item['sha']}): the PolNeAR file changed")


def prf(pairs: list[tuple[str, str]]) -> dict:
    """Per-class precision/recall/F1 and macro F1 over the gold classes."""
    classes = sorted({g for g, _ in pairs})
    out = {}
    for c in classes:
        tp = sum(1 for g, p in pairs if g == c and p == c)
        fp = sum(1 for g, p in pairs if g != c and p == c)
        fn = sum(1 for g, p in pairs if g == c and p != c)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[c] = {"precision": round(prec, 3), "recall": round(rec, 3), "f1": round(f1, 3), "support": tp + fn}
    macro = sum(v["f1"] for v in out.values()) / len(out) if out else 0.0
    acc = sum(1 for g, p in pairs if g == p) / len(pairs) if pairs else 0.0
    return {"classes": out, "macro_f1": round(macro, 3), "accuracy": round(acc, 3), "n": len(pairs)}


def _labelled(rec: dict, item: dict) -> dict:
    """The gold attribution a mention label is keyed to (by its source or cue extent)."""
    for a in rec["attributions"]:
        spans = a[item["role"]]
        if spans and spans[0][0] == item["start"] and spans[-1][1] == item["end"]:
            return a
    raise SystemExit(f"no gold attribution with that {item['role']} span in {rec['id']}: {item}")


def evaluate(train_path: Path = TRAIN, labels_dir: Path = LABELS,
             axes: tuple[str, ...] = ("identity", "kind", "assertion")) -> dict:
    """Score the system against the labels; ``axes`` limits the work to some of
    identity, kind (both from the mention labels) and assertion (the sentence labels)."""
    from sourcetrace import pipeline as nlp_mod
    from sourcetrace.sources.assertions import classify_sentence
    from sourcetrace.model import Attribution, Span
    from sourcetrace.sources import resolve_sources

    mentions = read_jsonl(labels_dir / "source_mentions.jsonl") if {"identity", "kind"} & set(axes) else []
    sentences = read_jsonl(labels_dir / "assertion_sentences.jsonl") if "assertion" in axes else []
    wanted = {m["id"] for m in mentions} | {s["id"] for s in sentences}
    articles = {}
    with train_path.open(encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if rec["id"] in wanted:
                articles[rec["id"]] = rec
    missing = wanted - set(articles)
    if missing:
        raise SystemExit(f"{len(missing)} labelled articles are not in {train_path}")
    nlp = nlp_mod.load_base()
    by_article_m = defaultdict(list)
    for m in mentions:
        by_article_m[m["id"]].append(m)
    by_article_s = defaultdict(list)
    for s in sentences:
        by_article_s[s["id"]].append(s)

    ids = sorted(wanted)
    results = {"identity": [], "kind": [], "assertion": []}
    errors = {"identity": [], "kind": [], "assertion": []}
    t0 = time.perf_counter()

    # What to parse (parsing is most of the time): for the source labels, each article up to
    # the end of the paragraph that holds the last labelled attribution (antecedents come
    # before a mention; later text is not needed); for the sentence labels, each sentence's
    # paragraph.
    jobs: list[tuple[str, str, int, str]] = []   # (kind, article id, offset, text)
    for aid in ids:
        text = articles[aid]["text"]
        if by_article_m[aid]:
            ends = []
            for item in by_article_m[aid]:
                check_hash(text, item)
                a = _labelled(articles[aid], item)
                ends.append(max(e for role in ("source", "cue", "content") for _, e in a[role]))
            cut = text.find("\n", max(ends))
            jobs.append(("mentions", aid, 0, text[:cut if cut >= 0 else len(text)]))
        for item in by_article_s[aid]:
            check_hash(text, item)
            p0 = text.rfind("\n", 0, item["start"]) + 1
            p1 = text.find("\n", item["end"])
            jobs.append(("sentence", aid, p0, text[p0:p1 if p1 >= 0 else len(text)]))
    sentence_items = {aid: list(by_article_s[aid]) for aid in ids}

    for doc, (job, aid, offset, part) in zip(nlp.pipe((j[3] for j in jobs), batch_size=16), jobs):
        rec = articles[aid]
        text = rec["text"]
        split = split_of(aid)
        if job == "mentions":
            atts = []
            for a in rec["attributions"]:
                spans = [x for role in ("source", "cue", "content") for x in a[role]]
                if spans and max(e for _, e in spans) > len(part):
                    continue
                atts.append(Attribution(
                    source=tuple(Span.of(text, s, e) for s, e in a["source"]),
                    cue=tuple(Span.of(text, s, e) for s, e in a["cue"]),
                    content=tuple(Span.of(text, s, e) for s, e in a["content"])))
            resolved, registry = resolve_sources(doc, tuple(atts))
            for item in by_article_m[aid]:
                role = item["role"]
                k = None
                for i, a in enumerate(resolved):
                    spans = a.source if role == "source" else a.cue
                    if spans and spans[0].start == item["start"] and spans[-1].end == item["end"]:
                        k = i
                        break
                if k is None:
                    raise SystemExit(f"no gold attribution with that {role} span in {aid}: {item}")
                src = registry[resolved[k].source_id] if resolved[k].source_id is not None else None
                ident = src.identity if src else "unspecified"
                kind = src.kind if src else None
                results["identity"].append((split, role, item["identity"], ident))
                if item["kind"] is not None:
                    results["kind"].append((split, role, item["kind"], kind or "none"))
                for axis, gold, got in (("identity", item["identity"], ident), ("kind", item["kind"], kind)):
                    if gold is not None and gold != got:
                        errors[axis].append({"split": split, "id": aid, "span": [item["start"], item["end"]],
                                             "text": text[item["start"]:item["end"]][:80], "gold": gold,
                                             "got": got, "evidence": dict(src.evidence) if src else {}})
        else:
            for item in [x for x in sentence_items[aid] if offset <= x["start"] and x["end"] <= offset + len(part)]:
                sentence_items[aid].remove(item)
                span = doc.char_span(item["start"] - offset, item["end"] - offset, alignment_mode="expand")
                label, why = classify_sentence(span)
                results["assertion"].append((split, "sentence", item["label"], label))
                if label != item["label"]:
                    errors["assertion"].append({"split": split, "id": aid, "text": span.text[:160],
                                                "gold": item["label"], "got": label, "evidence": why})
    elapsed = time.perf_counter() - t0
    report = {"articles": len(ids), "seconds": round(elapsed, 1)}
    for axis, rows in results.items():
        if axis not in axes:
            continue
        report[axis] = {
            "all": prf([(g, p) for _, _, g, p in rows]),
            "dev": prf([(g, p) for s, _, g, p in rows if s == "dev"]),
            "test": prf([(g, p) for s, _, g, p in rows if s == "test"]),
        }
        if axis == "identity":
            report[axis]["source_spans_only"] = prf([(g, p) for _, r, g, p in rows if r == "source"])
    report["errors"] = errors
    return report


def speed(n: int, dev_path: Path = DEV) -> dict:
    """Time analyze's spaCy + attribution work and the sources+assertions+profile stage
    on the same documents, wall and CPU (this process only)."""
    import platform

    from sourcetrace.sources import assertions, profile
    from sourcetrace.inputs import clean
    from sourcetrace import sources
    from sourcetrace import pipeline as nlp_mod
    from sourcetrace.pipeline import doc_attributions, doc_boilerplate, register_extensions as register
    from sourcetrace.model import Analysis

    register()
    texts = [r["text"] for r in read_jsonl(dev_path)[:n]]
    nlp = nlp_mod.load()
    list(nlp.pipe(texts[:2]))  # warm up
    w0, c0 = time.perf_counter(), time.process_time()
    docs = []
    for t in texts:
        d = nlp.make_doc(t)
        d._.boilerplate = clean.find_boilerplate(t)
        docs.append(d)
    docs = list(nlp.pipe(docs, batch_size=16))
    w1, c1 = time.perf_counter(), time.process_time()
    for d in docs:
        atts, reg = sources.resolve_sources(d, doc_attributions(d))
        found = assertions.find_assertions(d, atts, doc_boilerplate(d))
        a = Analysis(text=d.text, attributions=atts, sources=reg, assertions=found,
                     boilerplate=doc_boilerplate(d))
        profile.build_profile(a)
    w2, c2 = time.perf_counter(), time.process_time()
    # the same stage with the coreference ranker switched off: what the ranker adds
    from sourcetrace.sources import coref

    has_model = coref.has_model
    coref.has_model = lambda: False
    try:
        c3 = time.process_time()
        for d in docs:
            sources.resolve_sources(d, doc_attributions(d))
        c4 = time.process_time()
        for d in docs:
            sources.resolve_sources(d, doc_attributions(d))   # sources alone, with the ranker
    finally:
        coref.has_model = has_model
    c5 = time.process_time()
    for d in docs:
        sources.resolve_sources(d, doc_attributions(d))
    c6 = time.process_time()
    return {"documents": len(texts), "chars": sum(map(len, texts)), "python": platform.python_version(),
            "resolve_cpu_s": {"without_coref": round(c4 - c3, 2), "with_coref": round(c6 - c5, 2)},
            "coref_added_share_cpu": round(((c6 - c5) - (c4 - c3)) / (c1 - c0), 3),
            "nlp_and_attribution": {"wall_s": round(w1 - w0, 2), "cpu_s": round(c1 - c0, 2)},
            "sources_assertions_profile": {"wall_s": round(w2 - w1, 2), "cpu_s": round(c2 - c1, 2)},
            "added_share_wall": round((w2 - w1) / (w1 - w0), 3),
            "added_share_cpu": round((c2 - c1) / (c1 - c0), 3)}


def _table(name: str, block: dict) -> str:
    lines = [f"{name}: macro F1 {block['macro_f1']:.3f}, accuracy {block['accuracy']:.3f}, n={block['n']}",
             f"  {'class':<14}{'P':>7}{'R':>7}{'F1':>7}{'n':>6}"]
    for c, v in block["classes"].items():
        lines.append(f"  {c:<14}{v['precision']:>7.3f}{v['recall']:>7.3f}{v['f1']:>7.3f}{v['support']:>6}")
    return "\n".join(lines)


_NAME_NOISE = {"the", "a", "an", "mr", "mrs", "ms", "dr", "rev", "sen", "rep", "gov", "president", "former", "s"}


def _name_tokens(text: str) -> list[str]:
    import re

    return [t for t in re.findall(r"[\w-]+", text.lower().replace("’s", "").replace("'s", ""))
            if t not in _NAME_NOISE]


def same_reference(speaker: str | None, ref: str) -> bool:
    """Whether a resolved speaker names the labelled reference: a shared name word (titles
    and determiners dropped) and, where both give two words or more, the same first word
    ("Clinton" = "Hillary Clinton", "Bill Clinton" != "Hillary Clinton")."""
    if not speaker:
        return False
    a, b = _name_tokens(speaker), _name_tokens(ref)
    if not a or not b or not set(a) & set(b):
        return False
    return len(a) < 2 or len(b) < 2 or a[0] == b[0] or " ".join(a) in " ".join(b) or " ".join(b) in " ".join(a)


def evaluate_speakers(dev_path: Path = DEV, labels_dir: Path = LABELS) -> dict:
    """Speaker references (bench/labels/speaker_refs.jsonl) and entity pairs over them.

    Each labelled found attribution (by its cue offsets) is looked up in ``analyze``'s
    output; its speaker is right when it names the labelled reference
    (``same_reference``), or, for a reference labelled "unspecified", when its source
    is unspecified. Entity pairs: every two labelled attributions with a reference;
    gold "same" when the references are the same string, predicted "same" when their
    sources link to the same entity in a store holding these articles."""
    import sourcetrace
    from sourcetrace.corpus.store import ArticleRecord, open_store

    labels = read_jsonl(labels_dir / "speaker_refs.jsonl")
    rows = {r["id"]: r for r in read_jsonl(dev_path)}
    by_article: dict[str, list[dict]] = defaultdict(list)
    for item in labels:
        check_hash(rows[item["id"]]["text"], item)
        by_article[item["id"]].append(item)
    store = open_store(":memory:")
    results, missing = [], []
    t0 = time.perf_counter()
    for aid, items in by_article.items():
        analysis = sourcetrace.analyze(rows[aid]["text"])
        art = store.add(ArticleRecord(analysis=analysis, input=aid, outlet=rows[aid].get("publisher")))
        for item in items:
            att = next((a for a in analysis.attributions
                        if a.cue and a.cue[0].start == item["start"] and a.cue[0].end == item["end"]), None)
            if att is None:   # analyze no longer finds this attribution: not scored, counted
                missing.append(item)
                continue
            src = analysis.sources[att.source_id] if att.source_id is not None else None
            if item["ref"] == "unspecified":
                ok = att is not None and (src is None or src.identity == "unspecified")
            else:
                ok = att is not None and same_reference(att.speaker, item["ref"])
            results.append({"split": split_of(aid), "id": aid, "start": item["start"], "ref": item["ref"],
                            "got": att.speaker if att is not None else "(attribution not found)", "ok": ok,
                            "article": art, "source": src.id if src is not None else None})
    for r in results:   # entities once every article is in (a later full name takes a bare surname)
        r["entity"] = store.entity_links(r.pop("article")).get(r.pop("source"), (None,))[0]
    out: dict = {"items": len(results), "not_found": len(missing), "articles": len(by_article), "seconds": round(time.perf_counter() - t0, 1)}
    for split in ("all", "dev", "test"):
        rs = [r for r in results if split == "all" or r["split"] == split]
        pairs = [(a, b) for k, a in enumerate(rs) for b in rs[k + 1:]
                 if a["ref"] != "unspecified" and b["ref"] != "unspecified"]
        tp = sum(1 for a, b in pairs if a["ref"] == b["ref"] and a["entity"] is not None and a["entity"] == b["entity"])
        fp = sum(1 for a, b in pairs if a["ref"] != b["ref"] and a["entity"] is not None and a["entity"] == b["entity"])
        fn = sum(1 for a, b in pairs if a["ref"] == b["ref"] and not (a["entity"] is not None and a["entity"] == b["entity"]))
        out[split] = {"n": len(rs), "speaker_share": round(sum(r["ok"] for r in rs) / max(1, len(rs)), 3),
                      "pairs": len(pairs), "same_pairs": tp + fn,
                      "pair_precision": round(tp / (tp + fp), 3) if tp + fp else None,
                      "pair_recall": round(tp / (tp + fn), 3) if tp + fn else None}
    out["errors"] = [r for r in results if not r["ok"]]
    refs = defaultdict(list)
    for r in results:
        refs[r["ref"]].append(r)
    out["split_references"] = {ref: [(r["got"], r["entity"]) for r in rs] for ref, rs in refs.items()
                               if ref != "unspecified" and len({r["entity"] for r in rs}) > 1}
    return out


def evaluate_speaker_set(labels_dir: Path = LABELS, *, limit: int | None = None) -> dict:
    """The derived speaker set (bench/labels/speaker_gold.jsonl; bench/make_speaker_labels.py
    says how it was made) against ``analyze``: each labelled gold attribution is matched to
    the found attribution whose first cue fragment overlaps its gold cue; its speaker is
    right when it names the reference (``same_reference``). Items without such a found
    attribution are counted, not scored. Entity pairs: every two scored items whose
    reference is a name (rules name, org, pronoun), across articles; gold "same" when the
    references name the same one (``same_reference``: "Obama" = "Barack Obama", "Bill
    Clinton" != "Hillary Clinton"), predicted "same" when their sources link to the same entity in
    a store holding these articles. Halves by ``split_of`` (dev: tuned on; test: held out)."""
    import sourcetrace
    from sourcetrace.corpus.store import ArticleRecord, open_store

    labels = read_jsonl(labels_dir / "speaker_gold.jsonl")
    rows = {}
    for path in (DEV, TRAIN):
        for r in read_jsonl(path):
            rows[r["id"]] = r
    by_article: dict[str, list[dict]] = defaultdict(list)
    for item in labels:
        check_hash(rows[item["id"]]["text"], item)
        by_article[item["id"]].append(item)
    ids = sorted(by_article)[:limit] if limit else sorted(by_article)
    store = open_store(":memory:")
    results, missing = [], 0
    t0 = time.perf_counter()
    for aid in ids:
        analysis = sourcetrace.analyze(rows[aid]["text"])
        art = store.add(ArticleRecord(analysis=analysis, input=aid, outlet=rows[aid].get("publisher")))
        for item in by_article[aid]:
            cs, ce = item["cue"]
            att = next((a for a in analysis.attributions
                        if a.cue and a.cue[0].start < ce and cs < a.cue[0].end), None)
            if att is None:
                missing += 1
                continue
            src = analysis.sources[att.source_id] if att.source_id is not None else None
            results.append({"split": split_of(aid), "id": aid, "start": item["start"],
                            "ref": item["ref"], "how": item["how"], "got": att.speaker,
                            "ok": same_reference(att.speaker, item["ref"]),
                            "article": art, "source": src.id if src is not None else None})
    for r in results:
        r["entity"] = store.entity_links(r.pop("article")).get(r.pop("source"), (None,))[0]
    out: dict = {"items": len(results), "not_found": missing, "articles": len(ids),
                 "seconds": round(time.perf_counter() - t0, 1)}
    for split in ("all", "dev", "test"):
        rs = [r for r in results if split == "all" or r["split"] == split]
        named = [r for r in rs if r["how"] != "desc"]
        tp = fp = fn = 0
        same_ref = functools.lru_cache(maxsize=None)(same_reference)
        for k, a in enumerate(named):
            for b in named[k + 1:]:
                same = same_ref(*sorted((a["ref"], b["ref"])))
                linked = a["entity"] is not None and a["entity"] == b["entity"]
                tp += same and linked
                fp += (not same) and linked
                fn += same and not linked
        by_how = {}
        for how in sorted({r["how"] for r in rs}):
            hs = [r for r in rs if r["how"] == how]
            by_how[how] = {"n": len(hs), "share": round(sum(r["ok"] for r in hs) / len(hs), 3)}
        out[split] = {"n": len(rs), "speaker_share": round(sum(r["ok"] for r in rs) / max(1, len(rs)), 3),
                      "by_rule": by_how, "same_pairs": tp + fn,
                      "pair_precision": round(tp / (tp + fp), 3) if tp + fp else None,
                      "pair_recall": round(tp / (tp + fn), 3) if tp + fn else None}
    out["errors"] = [{k: r[k] for k in ("split", "id", "start", "how", "ref", "got")}
                     for r in results if not r["ok"]]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--errors", choices=["identity", "kind", "assertion"], help="list the errors of one axis (dev split)")
    ap.add_argument("--speed", type=int, metavar="N", help="time the stage on N PolNeAR dev articles")
    ap.add_argument("--speaker-set", action="store_true",
                    help="the derived speaker set (bench/labels/speaker_gold.jsonl): speaker share "
                         "by half and entity pairs")
    ap.add_argument("--limit", type=int, default=None, help="with --speaker-set: the first N articles")
    ap.add_argument("--misses", action="store_true", help="with --speaker-set: list the misses")
    ap.add_argument("--speakers", action="store_true",
                    help="speaker references and entity pairs (bench/labels/speaker_refs.jsonl)")
    args = ap.parse_args(argv)
    if not TRAIN.exists():
        print(f"{TRAIN} is absent: the evaluation reads PolNeAR from ../shared", file=sys.stderr)
        return 2
    if args.speed:
        print(json.dumps(speed(args.speed), indent=1))
        return 0
    if args.speaker_set:
        result = evaluate_speaker_set(limit=args.limit)
        if not args.misses:
            result.pop("errors")
        print(json.dumps(result, indent=1, ensure_ascii=False))
        return 0
    if args.speakers:
        print(json.dumps(evaluate_speakers(), indent=1, ensure_ascii=False))
        return 0
    report = evaluate()
    if args.errors:
        for e in report["errors"][args.errors]:
            if e["split"] == "dev":
                print(json.dumps(e, ensure_ascii=False))
        return 0
    if args.json:
        report.pop("errors")
        print(json.dumps(report, indent=1))
        return 0
    print(f"{report['articles']} articles, {report['seconds']} s")
    for axis in ("identity", "kind", "assertion"):
        for split in ("all", "dev", "test"):
            print(_table(f"{axis} [{split}]", report[axis][split]))
        print()
    print(_table("identity [gold source spans only]", report["identity"]["source_spans_only"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
