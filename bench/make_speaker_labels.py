#!/usr/bin/env python3
"""Derive the speaker reference set bench/labels/speaker_gold.jsonl from PolNeAR's gold sources.

    python bench/make_speaker_labels.py [--train-articles 40] [--seed 19] [--show-sample 40]

Every gold attribution with a source span, in the 84 PolNeAR dev articles and a seeded
sample of train articles, gets the reference string a reader would give for who speaks,
derived from the gold source span alone (never from sourcetrace's resolver), by these
rules in order (``how`` in the file):

  name      the span's head is one person's name, or a description in apposition to it: the
            name with a first name the article writes for that person, the nearest before
            (same surname, first names agreeing: "Clinton" -> "Hillary Clinton"), else the
            first after; a name that only modifies the head ("Trump's spokesman") is left out
  org       the span's head is inside an organisation / place / group name: that name
  first     "I"/"we"/"me"/"us" inside another gold attribution's content: that
            attribution's reference
  pronoun   "he"/"she" (also "him"/"her"): the nearest earlier gold source of the article
            whose reference is a person's name of the same gender (gender from an honorific
            or the first-name lexicon, or unknown), provided no other person of a compatible
            gender is named between that source and the pronoun (a person entity, or a proper
            noun that is the surname of one)
  desc      an indefinite or plural description without a name ("officials", "a senior
            adviser", "critics"): the description without its determiner

Left out (counted): several names in one span ("Kim and Lee Park"), "they"/"it", a
pronoun with no earlier person source, definite singular descriptions ("the spokesman":
the name they stand for is not derivable from the span), and empty spans. ``--show-sample``
prints derived pronoun and first-person items with their context, for checking by hand.

The file holds ids, offsets, a hash of the source text, the reference string and the rule,
never article text.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
SHARED = ROOT.parent / "shared" / "data" / "polnear"
OUT = ROOT / "bench" / "labels" / "speaker_gold.jsonl"

_PRON = {"he": "m", "him": "m", "she": "f", "her": "f"}
_FIRST = {"i", "we", "me", "us"}
_DETS = {"a", "an", "the", "this", "that", "these", "those", "some", "his", "her", "their", "its"}


def sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def _surname(name: str) -> str:
    words = [w for w in re.findall(r"[\w'’.-]+", name) if w[:1].isupper()]
    words = [w for w in words if w.lower().rstrip(".") not in {"jr", "sr", "ii", "iii"}]
    return re.sub(r"(?:'s|’s)$", "", words[-1]).lower() if words else ""


def _first(name: str, honor) -> str:
    words = [w for w in name.split() if w[:1].isupper()]
    while words and words[0].lower().rstrip(".") in honor:
        words = words[1:]
    return words[0].lower() if len(words) >= 2 else ""


def _clean(text: str) -> str:
    text = re.sub(r"(?:'s|’s)$", "", text.strip())
    words = text.split()
    while words and words[0].lower() in _DETS:
        words = words[1:]
    return " ".join(words).strip(" ,;:")


def derive(rec: dict, doc, lex) -> tuple[list[dict], Counter]:
    text = rec["text"]
    honor = lex.honorifics
    persons = [e for e in doc.ents if e.label_ == "PERSON"]
    surnames = {_surname(e.text) for e in persons}

    def fullest(ent_text: str, at: int) -> str:
        """The name with a first name written for this person: the nearest one before
        ``at`` with the same surname (first names agreeing), else the first one after."""
        sur, first = _surname(ent_text), _first(ent_text, honor)
        same = [e for e in persons if _surname(e.text) == sur and _first(e.text, honor)
                and (not first or _first(e.text, honor) == first)]
        before = [e for e in same if e.start_char <= at]
        best = before[-1] if before else (same[0] if same else None)
        return _clean(best.text if best is not None else ent_text)

    def gender(name: str) -> str:
        for e in persons:
            if _surname(e.text) != _surname(name):
                continue
            before = text[max(0, e.start_char - 6):e.start_char].lower()
            for h, g in honor.items():
                if re.search(rf"\b{re.escape(h)}\.?\s*$", before) and g in {"m", "f"}:
                    return g
        return lex.first_names.get(_first(name, honor), "")

    atts = sorted(rec["attributions"], key=lambda a: a["cue"][0][0] if a["cue"] else 0)
    out, skipped = [], Counter()
    done: list[tuple[int, dict]] = []     # (cue start, item) of derived person references
    deferred = []                         # first-person sources, once every speaker is known
    for a in atts:
        if not a["source"] or not a["cue"]:
            skipped["no source span"] += 1
            continue
        s, e = a["source"][0]
        if len(a["source"]) > 1:
            e = a["source"][-1][1]
        span = doc.char_span(s, e, alignment_mode="expand")
        if span is None or not len(span):
            skipped["span not on tokens"] += 1
            continue
        src_text = text[s:e]
        low = src_text.strip().lower()
        ents = [x for x in doc.ents if x.start >= span.start and x.end <= span.end]
        people = {_surname(x.text) for x in ents if x.label_ == "PERSON"}
        item = {"id": rec["id"], "start": s, "end": e, "sha": sha(src_text),
                "cue": [a["cue"][0][0], a["cue"][0][1]]}
        cue_start = a["cue"][0][0]
        if len(people) > 1 or (people and any(t.lower_ in {"and", "&"} for t in span)):
            skipped["several names"] += 1
            continue
        root = span.root
        head_ent = [x for x in ents if x.label_ == "PERSON" and (
            x.start <= root.i < x.end or x.root.dep_ == "appos" and x.root.head.i == root.i
            or root.dep_ == "appos" and x.start <= root.head.i < x.end)]
        if people and not head_ent:
            skipped["a name that is not the head (\"Trump's spokesman\")"] += 1
            continue
        if people:
            ent = head_ent[0]
            ref = fullest(ent.text, ent.start_char)
            item.update(ref=ref, how="name")
            out.append(item)
            done.append((cue_start, item))
            continue
        root = span.root
        root_ent = next((x for x in ents if x.start <= root.i < x.end), None)
        if root_ent is not None and root_ent.label_ in {"ORG", "GPE", "NORP", "FAC", "LOC"}:
            item.update(ref=_clean(root_ent.text), how="org")
            out.append(item)
            continue
        if low in _FIRST:
            deferred.append((item, s, e, a))
            continue
        if low in _PRON:
            g = _PRON[low]
            ref, since = None, 0
            for _, prev in sorted(done, key=lambda x: -x[0]):
                if prev["cue"][0] >= cue_start or prev["how"] not in {"name", "pronoun", "first"}:
                    continue
                pg = gender(prev["ref"])
                if pg == g or not pg:
                    ref, since = prev["ref"], min(prev["start"], prev["cue"][0])
                    break
            # another person of a compatible gender named in between: not derivable
            between = {_surname(x.text) for x in persons if since < x.start_char < s
                       and gender(x.text) in ("", g)}
            gap = doc.char_span(since, s, alignment_mode="expand") if since < s else None
            between |= {t.lower_ for t in gap or ()
                        if t.pos_ == "PROPN" and t.lower_ in surnames
                        and gender(t.text) in ("", g)}
            between -= {_surname(ref or "")}
            if ref and between:
                skipped["pronoun with another person named in between"] += 1
                continue
            if ref:
                item.update(ref=ref, how="pronoun")
                out.append(item)
                done.append((cue_start, item))
            else:
                skipped["pronoun without an earlier person source"] += 1
            continue
        if low in {"they", "them", "it", "you", "one"} or root.pos_ == "PRON":
            skipped["they / it / other pronoun"] += 1
            continue
        definite = any(t.lower_ in {"the", "this", "that"} or t.dep_ == "poss" for t in root.lefts)
        if root.pos_ in {"NOUN", "PROPN"} and not (definite and root.tag_ not in {"NNS", "NNPS"}):
            item.update(ref=_clean(src_text), how="desc")
            out.append(item)
            continue
        skipped["definite singular description or fragment"] += 1
    for item, s, e, a in deferred:
        encl = [b for b in atts if b is not a and b["cue"]
                and any(cs <= s and e <= ce for cs, ce in b["content"])]
        ref = None
        if encl:
            inner = min(encl, key=lambda b: sum(ce - cs for cs, ce in b["content"]))
            match = [it for it in out if it["cue"] == [inner["cue"][0][0], inner["cue"][0][1]]]
            ref = match[0]["ref"] if match else None
        if ref:
            item.update(ref=ref, how="first")
            out.append(item)
        else:
            skipped["first person, speaker not derived"] += 1
    return out, skipped


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train-articles", type=int, default=40)
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--show-sample", type=int, default=0)
    ap.add_argument("--output", default=str(OUT))
    args = ap.parse_args()
    from sourcetrace.pipeline import load_base
    from sourcetrace.sources.wordlists import lexicons

    if not (SHARED / "dev.jsonl").is_file():
        print(f"PolNeAR not found in {SHARED}", file=sys.stderr)
        return 2
    dev = [json.loads(x) for x in (SHARED / "dev.jsonl").open(encoding="utf-8") if x.strip()]
    train = [json.loads(x) for x in (SHARED / "train.jsonl").open(encoding="utf-8") if x.strip()]
    rng = random.Random(args.seed)
    picked = rng.sample(train, args.train_articles)
    nlp = load_base()
    lex = lexicons()
    items, skipped = [], Counter()
    for file, recs in (("dev", dev), ("train", picked)):
        for rec in recs:
            got, why = derive(rec, nlp(rec["text"]), lex)
            for it in got:
                it["file"] = file
            items.extend(got)
            skipped.update(why)
    Path(args.output).write_text("".join(json.dumps(it, ensure_ascii=False) + "\n" for it in items),
                                 encoding="utf-8")
    print(json.dumps({"items": len(items), "articles": len({i['id'] for i in items}),
                      "by_rule": Counter(i["how"] for i in items), "left_out": skipped}, indent=1))
    if args.show_sample:
        texts = {r["id"]: r["text"] for r in dev + picked}
        pool = [i for i in items if i["how"] in {"pronoun", "first"}]
        for it in random.Random(args.seed + 1).sample(pool, min(args.show_sample, len(pool))):
            t = texts[it["id"]]
            ctx = t[max(0, it["start"] - 700):it["end"] + 80].replace("\n", " ")
            print(f"\n=== {it['id']} {it['start']} {it['how']} -> {it['ref']!r}\n{ctx}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
