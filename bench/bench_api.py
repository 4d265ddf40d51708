"""Load on the HTTP API: POST /api/analyze requests per second and p50/p99 latency on loopback.

Starts ``sourcetrace serve`` as a subprocess (1 and 2 worker processes by default) on a
free 127.0.0.1 port, warms every worker up (the model loads on its first request), then
sends a fixed number of analyse requests from ``--concurrency`` concurrent clients and
times each one. The articles are the bundled example plus, when ../shared is present,
PolNeAR dev articles (read at run time, never copied), cycled in a fixed order.

Reported per configuration: requests/s on wall time, latency p50/p90/p99/max, errors
(any non-200 answer or transport failure: the run fails unless 0), and the server's CPU
seconds per request (user + system of the server processes, from /proc), which moves less
than wall time on a shared machine. The load generator runs on the same 2 cores.

    .venv/bin/python bench/bench_api.py                       # workers 1 and 2, 200 requests each
    .venv/bin/python bench/bench_api.py --workers 2 --requests 400 --concurrency 8
    .venv/bin/python bench/bench_api.py --baseline 41     # plus the same analyses without HTTP
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "belarus-commanders.txt"
POLNEAR_DEV = ROOT.parent / "shared" / "data" / "polnear" / "dev.jsonl"
OUT = ROOT / "bench" / "out"


def articles(limit: int) -> list[str]:
    texts = [EXAMPLE.read_text(encoding="utf-8")]
    if POLNEAR_DEV.exists():
        with POLNEAR_DEV.open(encoding="utf-8") as f:
            for line in f:
                if len(texts) > limit:
                    break
                record = json.loads(line)
                if record.get("text", "").strip():
                    texts.append(record["text"])
    return texts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """user + system CPU of a process and its (reaped and live) children, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    try:
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15]) / tick   # utime stime cutime cstime
    return total


def start_server(workers: int, port: int, db: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "sourcetrace", "serve", "--db", db, "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    env = {k: v for k, v in os.environ.items() if k != "SOURCETRACE_TOKEN"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not answer within 120 s")


async def load(base: str, texts: list[str], n: int, concurrency: int) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        async def one_client() -> None:
            while True:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                t0 = time.perf_counter()
                try:
                    r = await client.post("/api/analyze", json={"text": texts[i % len(texts)]})
                    if r.status_code != 200:
                        errors.append(f"{r.status_code}: {r.text[:200]}")
                except httpx.HTTPError as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                latencies.append(time.perf_counter() - t0)

        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return latencies, errors, wall


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def run(workers: int, n: int, concurrency: int, texts: list[str]) -> dict:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc = start_server(workers, port, os.path.join(tmp, "bench.db"))
        base = f"http://127.0.0.1:{port}"
        try:
            # warm-up: every worker loads its model (a few requests each, spread by uvicorn)
            asyncio.run(load(base, texts, 4 * workers, workers))
            cpu0 = cpu_seconds(proc.pid)
            latencies, errors, wall = asyncio.run(load(base, texts, n, concurrency))
            cpu = cpu_seconds(proc.pid) - cpu0
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    chars = sum(len(texts[i % len(texts)]) for i in range(n))
    return {
        "workers": workers, "concurrency": concurrency, "requests": n, "errors": len(errors),
        "error_samples": errors[:5], "wall_s": round(wall, 2), "rps": round(n / wall, 2),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p90_ms": round(percentile(latencies, 90) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
        "mean_chars": round(chars / n), "server_cpu_s": round(cpu, 2),
        "server_cpu_ms_per_request": round(cpu / n * 1000, 1),
    }


def library_baseline(texts: list[str], n: int) -> dict:
    """The same analyses in this process, without HTTP: CPU and wall ms per article."""
    import sourcetrace

    sourcetrace.analyze(texts[0])                      # load the model first
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(n):
        sourcetrace.analyze(texts[i % len(texts)])
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {"articles": n, "cpu_ms_per_article": round(cpu / n * 1000, 1),
            "wall_ms_per_article": round(wall / n * 1000, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=0, help="clients (default: 2 x workers)")
    ap.add_argument("--articles", type=int, default=40, help="PolNeAR dev articles to cycle through")
    ap.add_argument("--baseline", type=int, default=0, metavar="N",
                    help="also analyse N articles in-process (no HTTP) for the CPU cost without the API")
    args = ap.parse_args()
    texts = articles(args.articles)
    baseline = library_baseline(texts, args.baseline) if args.baseline else None
    if baseline:
        print(json.dumps({"library_baseline": baseline}), flush=True)
    results = []
    for w in args.workers:
        r = run(w, args.requests, args.concurrency or 2 * w, texts)
        results.append(r)
        print(json.dumps(r), flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    meta = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "python": platform.python_version(),
            "cpus": os.cpu_count(), "loadavg_at_end": os.getloadavg(), "articles": len(texts)}
    (OUT / "bench-api.json").write_text(json.dumps({"meta": meta, "results": results,
                                                    "library_baseline": baseline}, indent=1))
    print("\n| workers | clients | requests | errors | req/s | p50 ms | p90 ms | p99 ms | server CPU ms/req |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['workers']} | {r['concurrency']} | {r['requests']} | {r['errors']} | {r['rps']} | "
              f"{r['p50_ms']:.0f} | {r['p90_ms']:.0f} | {r['p99_ms']:.0f} | {r['server_cpu_ms_per_request']:.0f} |")
    if baseline:
        print(f"\nin-process sourcetrace.analyze, no HTTP: {baseline['cpu_ms_per_article']:.0f} ms CPU "
              f"per article ({baseline['articles']} articles)")
    print(f"\n{meta}")
    if any(r["errors"] for r in results):
        raise SystemExit("errors during the load run: see error_samples above")


if __name__ == "__main__":
    main()
