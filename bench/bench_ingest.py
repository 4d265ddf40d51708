#!/usr/bin/env python3
"""Corpus ingest: throughput, memory per worker, crash-resume and bad inputs.

    python bench/bench_ingest.py throughput [--n 2000] [--engines one,two,ray] [--repeat 1]
    python bench/bench_ingest.py memory     [--sizes 1000,10000] [--workers 2]
    python bench/bench_ingest.py resume     [--n 200] [--kills 5] [--seed 7]
    python bench/bench_ingest.py bad
    python bench/bench_ingest.py all        (each with its defaults)

Articles are PolNeAR train + dev texts read from ../shared at run time (never copied);
past their 924 texts they repeat with a "(copy k)" line added, so that each has its own
content hash. Every run writes into a fresh temporary folder and SQLite file.

throughput  the whole `corpus.ingest` call (model loading and, for Ray, the actor pool
            included; `ray.init` timed apart) for 1 process, 2 local workers, and Ray
            with 2 actors (ray.init(num_cpus=2), ActorPoolStrategy(size=2), 0.5 CPU each).
            Wall and CPU seconds (CPU: this process and its reaped children, i.e. the local
            workers; for Ray, its live processes are read from /proc before shutdown as
            ray_processes_cpu_s). Ratio = articles/s over the 1-process figure.
            cores_busy = our CPU seconds / wall seconds (about 2 for 2 workers that are
            never starved); others_cpu_s = CPU the rest of the machine used meanwhile
            (from /proc/stat; for Ray it includes Ray's own processes). A 2-worker ratio
            well under 2 with others_cpu_s near 0 points at our code; with others_cpu_s
            large, at the machine.
memory      peak resident memory (VmHWM) of each worker process for two input sizes,
            sampled from /proc every 0.2 s, plus the parent's own peak.
resume      `sourcetrace ingest` as a subprocess, SIGKILLed (its whole process group) at
            random moments, then rerun; after the last kill it runs to the end. Lost =
            articles never stored; duplicated = articles stored more than once (by input
            and by text). Both must be 0.
bad         one run over: a truncated WARC (with good records before the cut), a feed
            that is HTML, a CSV without a text column, a URL that times out (a local
            server that sleeps), a 200 MB file, and 3 good articles; every bad input must
            come out as a recorded failure with its reason while the good ones are stored.

Results are printed and written to bench/out/ingest-<what>.json. Run it under `nice`.
"""
from __future__ import annotations

import argparse
import http.server
import io
import json
import os
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
POLNEAR = [SHARED / "data" / "polnear" / "train.jsonl", SHARED / "data" / "polnear" / "dev.jsonl"]
OUT = ROOT / "bench" / "out"


def texts() -> list[dict]:
    rows = []
    for path in POLNEAR:
        if not path.exists():
            sys.exit(f"{path} is absent: this benchmark reads PolNeAR from ../shared")
        with path.open(encoding="utf-8") as f:
            rows += [json.loads(line) for line in f if line.strip()]
    return rows


def articles(n: int) -> list[dict]:
    base = texts()
    out = []
    for i in range(n):
        r = base[i % len(base)]
        k = i // len(base)
        text = r["text"] if k == 0 else f"{r['text']}\n\n(copy {k})"
        out.append({"id": f"{r['id']}#{k}", "text": text, "title": r.get("title"),
                    "date": r.get("date"), "outlet": r.get("publisher")})
    return out


def write_jsonl(rows: list[dict], path: Path) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


def cpu_seconds() -> float:
    return sum(cpu_split())


def cpu_split() -> tuple[float, float]:
    """CPU seconds of this process, and of its reaped children (the local workers)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def machine_busy_s() -> float:
    """CPU seconds spent busy by the whole machine since boot (all cores, /proc/stat)."""
    with open("/proc/stat", encoding="ascii") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def loadavg() -> float:
    return round(os.getloadavg()[0], 2)


def save(name: str, data: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    data["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                       "when": time.strftime("%Y-%m-%d %H:%M:%S")}
    (OUT / f"ingest-{name}.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    print(json.dumps(data, indent=1))


# --------------------------------------------------------------------------- throughput

def run_ingest(path: Path, db: Path, **kw) -> dict:
    from sourcetrace.corpus import runner as corpus
    from sourcetrace.corpus.store.sqlite import SqliteStore

    load0 = loadavg()
    wall0, (me0, kids0), busy0 = time.perf_counter(), cpu_split(), machine_busy_s()
    with SqliteStore(str(db)) as store:
        report = corpus.ingest([str(path)], store, progress=True, **kw)
        count = store.count()
    wall, (me1, kids1) = time.perf_counter() - wall0, cpu_split()
    me, kids = me1 - me0, kids1 - kids0
    others = machine_busy_s() - busy0 - me - kids  # other processes' CPU meanwhile
    return {"articles": count, "added": report.added, "failed": report.failed,
            "wall_s": round(wall, 1), "cpu_s": round(me + kids, 1),
            "parent_cpu_s": round(me, 1), "workers_cpu_s": round(kids, 1),
            "cores_busy": round((me + kids) / wall, 2),
            "others_cpu_s": round(max(others, 0.0), 1),
            "articles_per_s": round(count / wall, 2), "load_before": load0, "load_after": loadavg()}


def throughput(args: argparse.Namespace) -> None:
    engines = args.engines.split(",")
    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    path = write_jsonl(articles(args.n), tmp / "articles.jsonl")
    results: dict = {"n": args.n, "repeat": args.repeat, "runs": {}}
    for name in engines * args.repeat:  # alternating; the fastest run of each counts
        db = tmp / f"{name}-{time.monotonic_ns()}.db"
        print(f"== {name}: {args.n} articles", file=sys.stderr)
        if name == "one":
            r = run_ingest(path, db, workers=1)
        elif name == "two":
            r = run_ingest(path, db, workers=2)
        elif name == "ray":
            import ray

            t0 = time.perf_counter()
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            init_s = time.perf_counter() - t0
            r = run_ingest(path, db, workers=2, engine="ray", ray_window=args.n)
            r["ray_init_s"] = round(init_s, 1)
            r["ray_processes_cpu_s"] = round(_tree_cpu(os.getpid()), 1)  # Ray's own, before shutdown
            ray.shutdown()
        else:
            sys.exit(f"unknown engine {name!r}: use one, two, ray")
        print(json.dumps(r), file=sys.stderr)
        results.setdefault("all", []).append({"engine": name, **r})
        best = results["runs"].get(name)
        if best is None or r["wall_s"] < best["wall_s"]:
            results["runs"][name] = r
    base = results["runs"].get("one")
    if base:
        for r in results["runs"].values():
            r["ratio_to_one"] = round(r["articles_per_s"] / base["articles_per_s"], 2)
    save("throughput", results)


# --------------------------------------------------------------------------- memory

def memory(args: argparse.Namespace) -> None:
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict = {"workers": args.workers, "runs": {}}
    for n in sizes:
        tmp = Path(tempfile.mkdtemp(prefix="bench-mem-"))
        path = write_jsonl(articles(n), tmp / "articles.jsonl")
        code = (
            "import json,resource,sys\n"
            "from sourcetrace import corpus\n"
            "from sourcetrace.store.sqlite import SqliteStore\n"
            f"s = SqliteStore({str(tmp / 'c.db')!r})\n"
            f"r = corpus.ingest([{str(path)!r}], s, workers={args.workers}, progress=True)\n"
            "print(json.dumps({'added': r.added, 'seconds': r.seconds,"
            " 'parent_peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n")
        peaks: dict[int, int] = {}  # pid -> peak resident kB (VmHWM)
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)

        def watch() -> None:  # the workers are the child's children
            while proc.poll() is None:
                for pid in _descendants(proc.pid):
                    try:
                        with open(f"/proc/{pid}/status") as f:
                            for line in f:
                                if line.startswith("VmHWM:"):
                                    kb = int(line.split()[1])
                                    peaks[pid] = max(peaks.get(pid, 0), kb)
                    except OSError:
                        pass
                time.sleep(0.2)

        t = threading.Thread(target=watch, daemon=True)
        t.start()
        out, _ = proc.communicate()
        t.join()
        info = json.loads(out.strip().splitlines()[-1])
        workers = sorted(v / 1024 for v in peaks.values())
        results["runs"][str(n)] = {
            "articles": info["added"], "seconds": round(info["seconds"], 1),
            "parent_peak_mb": round(info["parent_peak_mb"], 1),
            "worker_peak_mb": [round(w, 1) for w in workers[-args.workers:]],
        }
        print(json.dumps(results["runs"][str(n)]), file=sys.stderr)
    save("memory", results)


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of the live descendants of ``pid``."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for child in _descendants(pid):
        try:
            with open(f"/proc/{child}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            pass
    return total / tick


def _descendants(pid: int) -> list[int]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            out.append(c)
            todo.append(c)
    return out


# --------------------------------------------------------------------------- resume

def db_state(db: Path) -> tuple[int, int, int]:
    """(rows, distinct inputs, distinct texts) in the articles table."""
    if not db.exists():
        return 0, 0, 0
    conn = sqlite3.connect(str(db), timeout=30)
    try:
        return conn.execute("SELECT count(*), count(DISTINCT input), count(DISTINCT text) "
                            "FROM articles").fetchone()
    except sqlite3.OperationalError:  # killed before the schema was made
        return 0, 0, 0
    finally:
        conn.close()


def resume(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="bench-resume-"))
    rows = articles(args.n)
    path = write_jsonl(rows, tmp / "articles.jsonl")
    db = tmp / "c.db"
    cmd = [sys.executable, "-m", "sourcetrace", "ingest", str(path), "--db", str(db),
           "--no-progress", "--workers", str(args.workers)]
    kills = []
    for k in range(args.kills):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        delay = rng.uniform(args.min_delay, args.max_delay)
        try:
            proc.wait(timeout=delay)
            finished = True
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            finished = False
        time.sleep(0.5)  # let orphaned workers notice
        rows_, inputs_, texts_ = db_state(db)
        kills.append({"after_s": round(delay, 1), "finished_first": finished, "stored": rows_})
        print(json.dumps(kills[-1]), file=sys.stderr)
    final = subprocess.run(cmd, capture_output=True, text=True)
    rows_, inputs_, texts_ = db_state(db)
    leftover = subprocess.run(["pgrep", "-f", str(path)], capture_output=True, text=True).stdout.split()
    result = {
        "n": args.n, "workers": args.workers, "kills": kills,
        "final_run": final.stderr.strip().splitlines()[-1] if final.stderr.strip() else "",
        "stored": rows_, "lost": args.n - inputs_, "duplicated_rows": rows_ - inputs_,
        "duplicated_texts": rows_ - texts_, "leftover_processes": len(leftover),
    }
    save("resume", result)


# --------------------------------------------------------------------------- bad inputs

class Sleepy(http.server.BaseHTTPRequestHandler):
    delay = 5.0

    def do_GET(self):  # noqa: N802 - the http.server API
        time.sleep(self.delay)
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html><body><p>too late</p></body></html>")
        except OSError:
            pass

    def log_message(self, *args):
        pass


def bad(args: argparse.Namespace) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from sourcetrace.corpus import runner as corpus
    from sourcetrace.inputs.collect import Fetcher
    from sourcetrace.config import Config
    from sourcetrace.corpus.store.sqlite import SqliteStore

    tmp = Path(tempfile.mkdtemp(prefix="bench-bad-"))
    good = articles(6)
    # a WARC of 3 HTML responses, cut in the middle of the third
    warc = tmp / "cut.warc.gz"
    with warc.open("wb") as f:
        w = WARCWriter(f, gzip=True)
        last_start = 0
        for i, r in enumerate(good[3:6]):
            last_start = f.tell()
            html = ("<html><head><title>%s</title></head><body><article>%s</article></body></html>"
                    % (r["title"], "".join(f"<p>{p}</p>" for p in r["text"].split("\n") if p)))
            rec = w.create_warc_record(f"https://news.example.com/{i}", "response",
                                       payload=io.BytesIO(html.encode()),
                                       http_headers=StatusAndHeaders(
                                           "200 OK", [("Content-Type", "text/html")],
                                           protocol="HTTP/1.1"))
            w.write_record(rec)
    data = warc.read_bytes()
    warc.write_bytes(data[: last_start + (len(data) - last_start) // 2])  # cut in the third
    feed = tmp / "news.rss"
    feed.write_text("<!doctype html><html><body><h1>Latest news</h1><p>Not a feed.</p></body></html>",
                    encoding="utf-8")
    csv_path = tmp / "no-text.csv"
    csv_path.write_text("title,url\nA story,https://news.example.com/a\n", encoding="utf-8")
    big = tmp / "big.txt"
    line = ("The minister said the bridge would reopen on Friday. " * 20 + "\n").encode()
    with big.open("wb") as f:
        for _ in range(200 * 1024 * 1024 // len(line) + 1):
            f.write(line)
    good_dir = tmp / "good"
    good_dir.mkdir()
    for i, r in enumerate(good[:3]):
        (good_dir / f"a{i}.txt").write_text(r["text"], encoding="utf-8")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sleepy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    slow_url = f"http://127.0.0.1:{server.server_address[1]}/article"
    config = Config(allow_private=True, fetch_timeout=2.0)
    inputs = [str(warc), str(feed), str(csv_path), slow_url, str(big), str(good_dir)]
    try:
        with SqliteStore(str(tmp / "c.db")) as store:
            t0 = time.perf_counter()
            report = corpus.ingest(inputs, store, config=config,
                                   fetcher=Fetcher(config, min_interval=0.0))
            seconds = time.perf_counter() - t0
            failures = [{"input": f.input.replace(str(tmp) + "/", ""), "code": f.code,
                         "reason": f.reason.replace(str(tmp) + "/", "")}
                        for f in store.failures()]
            stored = [a.input.replace(str(tmp) + "/", "") for a in store.iter_articles()]
    finally:
        server.shutdown()
        server.server_close()
        big.unlink()
    save("bad", {"added": report.added, "failed": report.failed, "seconds": round(seconds, 1),
                 "stored": stored, "failures": failures})


def main() -> None:
    from sourcetrace.corpus.runner import limit_blas_threads

    limit_blas_threads()  # as `sourcetrace ingest` does, before numpy is imported
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    t = sub.add_parser("throughput")
    t.add_argument("--n", type=int, default=2000)
    t.add_argument("--engines", default="one,two,ray")
    t.add_argument("--repeat", type=int, default=1)
    m = sub.add_parser("memory")
    m.add_argument("--sizes", default="1000,10000")
    m.add_argument("--workers", type=int, default=2)
    r = sub.add_parser("resume")
    r.add_argument("--n", type=int, default=200)
    r.add_argument("--kills", type=int, default=5)
    r.add_argument("--workers", type=int, default=2)
    r.add_argument("--seed", type=int, default=7)
    r.add_argument("--min-delay", type=float, default=6.0)
    r.add_argument("--max-delay", type=float, default=30.0)
    sub.add_parser("bad")
    sub.add_parser("all")
    args = p.parse_args()
    if args.what == "all":
        for name, fn in (("bad", bad), ("resume", resume), ("throughput", throughput),
                         ("memory", memory)):
            sub_args = p.parse_args([name])
            fn(sub_args)
        return
    {"throughput": throughput, "memory": memory, "resume": resume, "bad": bad}[args.what](args)


if __name__ == "__main__":
    main()
