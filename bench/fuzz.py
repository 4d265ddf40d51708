#!/usr/bin/env python3
"""Fuzz the library: mutated articles through ``sourcetrace.analyze``.

    python bench/fuzz.py [--n 10000] [--seed 13] [--shard K/N] [--report bench/out/fuzz.json]
    python bench/fuzz.py --merge bench/out/fuzz-*.json    # one summary of the shards

Input i is generated from its own random stream (seed, i), so that shards (``--shard
1/2`` and ``2/2`` in two processes) run disjoint halves of the same inputs. Each input
is a window (100-1,000 characters) of a seed article (the bundled examples/
and the news paragraphs of bench_adversarial.py) given as ``str`` or as ``bytes``, with
one to four mutations: byte flips, truncation (also inside a multi-byte character),
inserted quotes and punctuation (single marks and runs), control characters (NUL
included), odd Unicode (right-to-left marks, combining marks, emoji, zero-width and
line/paragraph separators, invalid UTF-8 in bytes), duplicated or deleted ranges,
HTML markup.

Every input must end in an Analysis or in one of our errors (``SourcetraceError``);
anything else is a crash. For each Analysis: every span (source, cue, content, each
source's mentions, assertions, boilerplate) must slice the analysed text, and the
JSON must be strict (no NaN/Infinity). Time per input is measured against
``Config.time_budget``. The script prints the counts and writes them (with the first
failures, input hashes only) to ``--report``; exit status 1 when any check failed.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

QUOTES = '"\'“”‘’«»„‚‹›`'
PUNCT = '?!.,;:-—–()[]{}…*/_\\|#@&%$^~<>'
ODD = ["\u200f", "\u200e", "\u202e", "\u0301", "\u0308", "😀", "👩‍👩‍👧", "\u200b", "\ufeff",
       "\u2028", "\u2029", "\u00a0", "\u3000", "Ω", "ß", "İ", "ﬁ", "\U0001d400", "\ufffd"]
CONTROL = [chr(c) for c in range(0, 32) if c not in (9, 10, 13)] + ["\x7f", "\x85"]


def seeds() -> list[str]:
    import bench_adversarial as adv

    out = []
    for p in sorted((ROOT / "examples").iterdir()):
        if p.suffix in (".txt", ".html"):
            out.append(p.read_text(encoding="utf-8"))
    out.append(adv.news(20_000, random.Random(0)))
    return out


def mutate(text: str, rng: random.Random) -> str | bytes:
    start = rng.randrange(max(len(text) - 200, 1))
    s = text[start:start + rng.randint(100, 1000)]
    as_bytes = rng.random() < 0.4
    data: str | bytes = s.encode("utf-8") if as_bytes else s
    for _ in range(rng.randint(1, 4)):
        data = _one(data, rng)
    return data


def _one(data: str | bytes, rng: random.Random) -> str | bytes:
    n = len(data)
    at = rng.randint(0, n)
    kind = rng.randrange(9)
    if isinstance(data, bytes):
        if kind == 0 and n:  # flip bytes
            b = bytearray(data)
            for _ in range(rng.randint(1, 20)):
                b[rng.randrange(n)] = rng.randrange(256)
            return bytes(b)
        if kind == 1:  # truncate, maybe inside a multi-byte character
            return data[:at]
        if kind == 2:  # invalid UTF-8
            return data[:at] + rng.choice([b"\xff", b"\xc3", b"\xe2\x80", b"\xed\xa0\x80",
                                           b"\xf8\x88\x80\x80\x80"]) + data[at:]
        ins = _insertion(rng).encode("utf-8", "surrogatepass")
        return data[:at] + ins + data[at:]
    if kind == 1:
        return data[:at]
    if kind == 2 and n:  # duplicate or delete a range
        end = min(n, at + rng.randint(1, 2000))
        return data[:end] + data[at:end] * rng.randint(1, 20) if rng.random() < 0.5 \
            else data[:at] + data[end:]
    return data[:at] + _insertion(rng) + data[at:]


def _insertion(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return rng.choice(QUOTES) * rng.choice([1, 2, 3, 50, 500, 3000])
    if kind == 1:
        return rng.choice(PUNCT) * rng.choice([1, 2, 10, 200, 3000])
    if kind == 2:
        return "".join(rng.choice(CONTROL) for _ in range(rng.randint(1, 5)))
    if kind == 3:
        return "".join(rng.choice(ODD) for _ in range(rng.randint(1, 30)))
    if kind == 4:
        return rng.choice(['“Yes,” he said. ', '"No," she said: "', "He said: \n\n“",
                           "<p>", "</div><script>alert(1)</script>", "<html><body>",
                           "&amp;&#0;&#x110000;", "\n\n\n", "said said said "]) * rng.randint(1, 200)
    return "".join(chr(rng.randrange(0x20, 0x2FFFF)) for _ in range(rng.randint(1, 20)))


def spans_of(a) -> list:
    out = []
    for att in a.attributions:
        out += [*att.source, *att.cue, *att.content]
    for s in a.sources:
        out += list(getattr(s, "mentions", ()) or ())
    for x in a.assertions:
        out += [x.span, *x.hedges]
    out += list(a.boilerplate)
    return out


def _strict(_name: str):
    raise ValueError("not strict JSON")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--shard", default="1/1", help="K/N: run inputs i with i %% N == K-1")
    ap.add_argument("--report", default=str(ROOT / "bench" / "out" / "fuzz.json"))
    ap.add_argument("--merge", nargs="*", help="merge these shard reports and exit")
    args = ap.parse_args()
    if args.merge:
        return merge(args.merge)
    k, n_shards = (int(x) for x in args.shard.split("/"))
    import sourcetrace
    from sourcetrace import SourcetraceError

    config = sourcetrace.Config()
    texts = seeds()
    sourcetrace.analyze(texts[0], config=config)  # load the model outside the timings
    counts = {"inputs": 0, "analysed": 0, "refused": 0, "crashes": 0, "over_budget": 0,
              "offset_errors": 0, "json_errors": 0}
    refusals: dict[str, int] = {}
    problems: list[dict] = []
    times: list[float] = []
    started = time.time()
    for i in range(k - 1, args.n, n_shards):
        rng = random.Random(f"{args.seed}-{i}")
        data = mutate(rng.choice(texts), rng)
        digest = hashlib.sha256(data if isinstance(data, bytes) else
                                data.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        t = time.perf_counter()
        try:
            a = sourcetrace.analyze(data, config=config)
        except SourcetraceError as exc:
            a = None
            counts["refused"] += 1
            refusals[exc.code] = refusals.get(exc.code, 0) + 1
            if exc.code == "timeout":
                counts["over_budget"] += 1
                problems.append({"i": i, "sha256_16": digest, "kind": "timeout"})
        except Exception as exc:  # noqa: BLE001 - what the fuzz run looks for
            a = None
            counts["crashes"] += 1
            problems.append({"i": i, "sha256_16": digest, "kind": "crash",
                             "error": f"{type(exc).__name__}: {exc}"[:300],
                             "where": traceback.format_exc().splitlines()[-3:]})
        seconds = time.perf_counter() - t
        times.append(seconds)
        counts["inputs"] += 1
        if config.time_budget and seconds > config.time_budget and a is not None:
            counts["over_budget"] += 1
            problems.append({"i": i, "sha256_16": digest, "kind": "slow", "seconds": seconds})
        if a is not None:
            counts["analysed"] += 1
            bad = [s for s in spans_of(a) if not (0 <= s.start <= s.end <= len(a.text)
                                                  and a.text[s.start:s.end] == s.text)]
            if bad:
                counts["offset_errors"] += 1
                problems.append({"i": i, "sha256_16": digest, "kind": "offsets",
                                 "spans": [[s.start, s.end] for s in bad[:5]]})
            try:
                json.loads(a.to_json(), parse_constant=_strict)
            except Exception as exc:  # noqa: BLE001
                counts["json_errors"] += 1
                problems.append({"i": i, "sha256_16": digest, "kind": "json", "error": str(exc)})
        if counts["inputs"] % 250 == 0:
            print(f"{counts['inputs']} inputs, {time.time() - started:.0f}s: {counts}", flush=True)
    times.sort()
    summary = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "seed": args.seed,
        "counts": counts, "refusals": refusals, "wall_seconds": round(time.time() - started),
        "seconds_per_input": {"median": round(times[len(times) // 2], 3),
                              "p99": round(times[int(len(times) * 0.99)], 3),
                              "max": round(times[-1], 3)},
        "time_budget": config.time_budget, "problems": problems[:50],
        "shard": args.shard, "n": args.n, "times": [round(t, 4) for t in times],
    }
    os.makedirs(os.path.dirname(args.report), exist_ok=True)
    with open(args.report, "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
    print(json.dumps({k: v for k, v in summary.items() if k not in ("problems", "times")},
                     indent=1))
    failed = counts["crashes"] + counts["over_budget"] + counts["offset_errors"] + counts["json_errors"]
    return 1 if failed else 0


def merge(paths: list[str]) -> int:
    """One summary of several shard reports (counts added, timings pooled)."""
    parts = [json.load(open(p, encoding="utf-8")) for p in paths]
    counts: dict[str, int] = {}
    refusals: dict[str, int] = {}
    for part in parts:
        for key, value in part["counts"].items():
            counts[key] = counts.get(key, 0) + value
        for key, value in part["refusals"].items():
            refusals[key] = refusals.get(key, 0) + value
    times = sorted(t for part in parts for t in part["times"])
    print(json.dumps({
        "shards": [p["shard"] for p in parts], "counts": counts, "refusals": refusals,
        "wall_seconds": max(p["wall_seconds"] for p in parts),
        "seconds_per_input": {"median": times[len(times) // 2],
                              "p99": times[int(len(times) * 0.99)], "max": times[-1]},
        "time_budget": parts[0]["time_budget"],
        "problems": [q for p in parts for q in p["problems"]][:20]}, indent=1))
    bad = counts["crashes"] + counts["over_budget"] + counts["offset_errors"] + counts["json_errors"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
