#!/usr/bin/env python3
"""Adversarial inputs: time per 10 KB and peak memory against ordinary news of the same length.

    python bench/bench_adversarial.py [--sizes 100000,1000000] [--cases a,b] [--markdown]

Generates each case at each size (characters), analyses it with ``sourcetrace.analyze``
(the full library path: reading, spaCy, attributions, sources, assertions, profile) in a
child process forked after the model is loaded, and reports the child's wall time,
seconds per 10 KB, the ratio to the ``news`` case of the same size, and the child's peak
resident memory (``ru_maxrss``: the loaded model, shared with the parent, included).

Cases: ``news`` (ordinary news: paragraphs of reported speech written for this bench and
the bundled example article, shuffled and repeated to the size), a run of each quote and
punctuation character in ``RUN_CHARS`` after one news paragraph (``run:?`` ...), thousands
of short quotes, quotes without spaces, unbalanced quotes, colon cues, one giant sentence,
one giant paragraph, "said" on every line. Target (issue 13): every case within 3x of
``news`` in seconds per 10 KB, and a 1 MB article well under 1 GB.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUN_CHARS = '"\'“”‘’«»„‚`?!.,;:-—–()[]…*/_'

SENTENCES = [
    "“We will not accept any deal that leaves our members behind,” said Maria Lopez, the union’s president.",
    "The mayor told reporters on Tuesday that the budget would be balanced by the end of the year.",
    "According to two officials familiar with the talks, the negotiations stalled over pensions.",
    "“It is a difficult moment for the city,” a spokesman for the port authority said in a statement.",
    "Critics argue that the plan does little to address the housing shortage.",
    "The company said it expected profits to fall by a third, citing higher energy costs.",
    "“Nobody wants a strike,” he added. “But we have run out of patience.”",
    "Police said three people were arrested after the protest turned violent late on Friday.",
    "Economists warned that inflation could stay above target well into next year.",
    "The minister denied the claims, saying the report was based on outdated figures.",
    "Residents described hearing loud explosions shortly after midnight, local media reported.",
    "In a post on Telegram, the group claimed responsibility for the attack.",
    "“This is just the beginning,” Senator Jane Morris told the Associated Press.",
    "A source close to the investigation said the suspect had been under surveillance for months.",
    "The report found that nearly half of schools lacked enough teachers.",
    "She said the decision was final and would not be reviewed.",
]


def _paragraphs(rng: random.Random) -> list[str]:
    example = (ROOT / "examples" / "belarus-commanders.txt").read_text(encoding="utf-8")
    paras = [p.strip() for p in example.split("\n\n") if len(p.strip()) > 40]
    for _ in range(40):
        paras.append(" ".join(rng.sample(SENTENCES, rng.randint(2, 4))))
    return paras


def news(size: int, rng: random.Random) -> str:
    paras = _paragraphs(rng)
    out: list[str] = []
    n = 0
    while n < size:
        p = rng.choice(paras)
        out.append(p)
        n += len(p) + 2
    return "\n\n".join(out)[:size]


def _fill(unit: str, size: int, head: str = "") -> str:
    body = unit * (max(size - len(head), 0) // len(unit) + 1)
    return (head + body)[:size]


def cases(size: int, rng: random.Random) -> dict[str, str]:
    head = SENTENCES[0] + "\n\n" + SENTENCES[1] + "\n\n"
    words = [w.strip(".,“”") for s in SENTENCES for w in s.split()]
    out = {"news": news(size, rng)}
    for ch in RUN_CHARS:
        out[f"run:{ch}"] = _fill(ch, size, head)
    out["short-quotes"] = _fill("“Yes,” he said. “No.” ", size, head)
    out["quotes-no-spaces"] = _fill("“a”", size, head)
    out["unbalanced-quotes"] = _fill("“We will win, she said ", size, head)
    out["colon-cues"] = _fill("The minister said:\n\n“We will win.”\n\n", size, head)
    out["said-lines"] = _fill("He said.\n", size, head)
    giant = " ".join(rng.choice(words) for _ in range(size // 5))
    out["giant-sentence"] = _fill(giant.replace(".", "") + " ", size, head)
    sentences = [rng.choice(SENTENCES) for _ in range(size // 60 + 1)]
    out["giant-paragraph"] = (head + " ".join(sentences))[:size]
    return out


def measure(text: str) -> tuple[float, int, str]:
    """(seconds, peak RSS in MB, error or "") of analysing ``text`` in a forked child."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: analyse, report, exit
        os.close(r)
        import sourcetrace

        t = time.perf_counter()
        try:
            sourcetrace.analyze(text, config=sourcetrace.Config(require_english=False,
                                                                time_budget=0))
            err = ""
        except Exception as exc:  # reported, not raised: the bench goes on
            err = f"{type(exc).__name__}: {exc}"[:200]
        seconds = time.perf_counter() - t
        os.write(w, f"{seconds}\t{err}".encode())
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    _, _, usage = os.wait4(pid, 0)
    seconds, err = data.decode().split("\t", 1)
    return float(seconds), usage.ru_maxrss // 1024, err


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="100000", help="comma-separated sizes in characters")
    ap.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    ap.add_argument("--markdown", action="store_true", help="print a table for RESULTS.md")
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()
    import sourcetrace

    sourcetrace.analyze(news(5000, random.Random(0)))  # load the model once, in the parent
    sizes = [int(s) for s in args.sizes.split(",")]
    wanted = [c for c in args.cases.split(",") if c]
    rows = []
    worst = 0.0
    for size in sizes:
        generated = cases(size, random.Random(args.seed))
        names = ["news"] + [n for n in generated if n != "news" and (not wanted or n in wanted)]
        base = None
        for name in names:
            text = generated[name]
            seconds, rss, err = measure(text)
            per10k = seconds / (len(text) / 10_000)
            if name == "news":
                base = per10k
            ratio = per10k / base if base else float("nan")
            if name != "news" and not err:
                worst = max(worst, ratio)
            rows.append((size, name, len(text), seconds, per10k, ratio, rss, err))
            print(f"{size:>8} {name:<18} {seconds:8.2f}s {per10k:7.3f}s/10KB "
                  f"{ratio:5.2f}x {rss:6d} MB {err}", flush=True)
    print(f"worst ratio to news: {worst:.2f}x (target <= 3x)")
    if args.markdown:
        print(f"\n### {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC\n")
        print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
              f"Python {platform.python_version()}. Command: `python bench/bench_adversarial.py "
              f"--sizes {args.sizes}`.\n")
        print("| size | case | s | s / 10 KB | x news | peak MB | error |")
        print("|---:|---|---:|---:|---:|---:|---|")
        for size, name, n, s, p, ratio, rss, err in rows:
            print(f"| {size:,} | `{name}` | {s:.2f} | {p:.3f} | {ratio:.2f} | {rss} | {err} |")
        print(f"\nWorst case: {worst:.2f}x ordinary news of the same length.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
