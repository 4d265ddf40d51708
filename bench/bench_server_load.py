"""A normal request while the server is under attack: how much later does it come back?

Starts ``sourcetrace serve`` (one process, its default pools and time limit, with
--allow-private so that it may fetch from this machine) on a free 127.0.0.1 port, and
beside it a "slow-header" HTTP server on loopback that answers every request by
sending its status line and headers one byte every 5 seconds (a read timeout that
restarts on every byte never fires). Then, after a warm-up:

1. ``alone``: the normal request (POST /api/analyze with the bundled example article,
   about 2 KB) --repeat times on an idle server;
2. ``under attack``: the same while two hostile requests are in flight: an 80 KB
   analyse request built to be slow (thousands of short quotes, long runs of quote and
   punctuation characters, one giant sentence) and an analyse request for a URL of the
   slow-header server. The normal requests start once both hostile ones are sent.

Reported: the normal request's latency alone and under attack (median, max), the delay
(median under attack minus median alone), and how each hostile request ended (status,
seconds). The load generator runs on the same machine (2 cores, shared).

    .venv/bin/python bench/bench_server_load.py
    .venv/bin/python bench/bench_server_load.py --repeat 5 --src /path/to/other/src   # another tree
"""
from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "belarus-commanders.txt"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hostile_text(size: int = 80_000) -> str:
    """About ``size`` characters of the input shapes that were slowest: many short
    quotes, runs of each quote and punctuation character, one sentence without end."""
    parts = ['The minister spoke on Monday. ']
    quotes = "".join(f'"No {i}," he said. ' for i in range(2000))
    parts.append(quotes)
    for ch in '"\u201c\u201d\'?!.,;:-':
        parts.append("Seed text " + ch * 2000 + " end. ")
    sentence = " ".join(f"and officials said claim {i} was true" for i in range(3000))
    text = "".join(parts)
    return (text + sentence)[:size]


class SlowHeaders:
    """A loopback HTTP server that sends its response headers one byte every ``every`` s."""

    RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nok"

    def __init__(self, every: float = 5.0) -> None:
        self.every = every
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                for byte in self.RESPONSE:
                    if self.stop.wait(self.every):
                        return
                    conn.sendall(bytes([byte]))
            except OSError:
                return

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


def start_server(port: int, db: str, src: Path | None) -> subprocess.Popen:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    cmd = [sys.executable, "-m", "sourcetrace", "serve", "--db", db, "--port", str(port),
           "--allow-private", "--log-level", "warning"]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.5)
        if server.poll() is not None:
            raise SystemExit(f"server exited: {server.stderr.read().decode()[-2000:]}")
    server.kill()
    raise SystemExit("server did not start within 180 s")


def timed_post(base: str, body: dict, timeout: float) -> tuple[int | str, float]:
    t0 = time.perf_counter()
    try:
        status: int | str = httpx.post(f"{base}/api/analyze", json=body, timeout=timeout).status_code
    except httpx.HTTPError as exc:
        status = type(exc).__name__
    return status, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="normal requests per phase")
    ap.add_argument("--src", type=Path, default=None,
                    help="run the server from this source tree (PYTHONPATH)")
    ap.add_argument("--client-timeout", type=float, default=200.0)
    args = ap.parse_args()

    normal = {"text": EXAMPLE.read_text(encoding="utf-8")}
    hostile = {"text": hostile_text()}
    slow = SlowHeaders()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "corpus.db")
        sys.path.insert(0, str(args.src or ROOT / "src"))
        from sourcetrace.corpus.store import open_store

        open_store(db).close()
        server = start_server(port, db, args.src)
        try:
            for _ in range(2):  # warm-up: the model loads, the first parse is slow
                timed_post(base, normal, args.client_timeout)
            alone = [timed_post(base, normal, args.client_timeout) for _ in range(args.repeat)]

            ends: dict[str, tuple[int | str, float]] = {}

            def attack(name: str, body: dict) -> None:
                ends[name] = timed_post(base, body, args.client_timeout)

            attackers = [threading.Thread(target=attack, args=(n, b), daemon=True) for n, b in (
                ("hostile 80 KB", hostile),
                ("slow-header URL", {"url": f"http://127.0.0.1:{slow.port}/story"}))]
            for t in attackers:
                t.start()
            time.sleep(1.0)  # both hostile requests are in the server
            under = [timed_post(base, normal, args.client_timeout) for _ in range(args.repeat)]
            for t in attackers:
                t.join(args.client_timeout + 5)
        finally:
            server.terminate()
            server.wait(10)
            slow.close()

    def row(name: str, runs: list[tuple[int | str, float]]) -> str:
        secs = [s for _, s in runs]
        codes = sorted({str(c) for c, _ in runs})
        return (f"| {name} | {len(runs)} | {statistics.median(secs):.2f} | {max(secs):.2f} | "
                f"{','.join(codes)} |")

    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; "
          f"hostile text {len(hostile['text']):,} chars")
    print("| normal request (example, POST /api/analyze) | n | median s | max s | statuses |")
    print("|---|---|---|---|---|")
    print(row("alone", alone))
    print(row("under attack", under))
    delay = statistics.median(s for _, s in under) - statistics.median(s for _, s in alone)
    print(f"\ndelay of the normal request under attack (median): {delay:+.2f} s")
    print("\n| hostile request | status | seconds |\n|---|---|---|")
    for name, (status, secs) in ends.items():
        print(f"| {name} | {status} | {secs:.1f} |")


if __name__ == "__main__":
    main()
