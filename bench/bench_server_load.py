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

3. ``four large``: four hostile 80 KB analyses, each from its own client address
   (127.0.0.11-14: every 127/8 address is this machine), then the normal request from
   another client (127.0.0.2) --repeat times while they are in flight;
4. ``sixteen slow URLs``: sixteen slow-header URL requests at once from one client
   (127.0.0.21), then a URL request of a quick loopback page from each of three other
   clients (127.0.0.31-33), --repeat rounds; then how many connections to the
   slow-header server are still open 3 s after the last of the sixteen was answered
   (fetches that go on after their client got its answer).

Reported: the normal request's latency alone and under attack (median, max), the delay
(median under attack minus median alone), and how each hostile request ended (status,
seconds). The load generator runs on the same machine (2 cores, shared).

    .venv/bin/python bench/bench_server_load.py
    .venv/bin/python bench/bench_server_load.py --repeat 5 --src /path/to/other/src   # another tree
    .venv/bin/python bench/bench_server_load.py --time-limit 20   # shorter phases
"""
from __future__ import annotations

import argparse
import collections
import http.server
import os
import platform
import select
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
        self.open = 0                   # connections not yet closed by the client
        self.lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with self.lock:
            self.open += 1
        with conn:
            try:
                conn.recv(65536)
                for byte in self.RESPONSE:
                    # wait ``every`` seconds, or less when the client closes the connection
                    readable, _, _ = select.select([conn], [], [], self.every)
                    if self.stop.is_set() or (readable and not conn.recv(65536)):
                        return
                    conn.sendall(bytes([byte]))
            except OSError:
                return
            finally:
                with self.lock:
                    self.open -= 1

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


class QuickPage:
    """A loopback HTTP server answering every GET at once with a short article page."""

    def __init__(self, text: str) -> None:
        body = ("<html><head><title>Quick</title></head><body><article>"
                + "".join(f"<p>{p}</p>" for p in text.split("\n\n") if p.strip())
                + "</article></body></html>").encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the stdlib's name
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_server(port: int, db: str, src: Path | None,
                 time_limit: float | None = None) -> subprocess.Popen:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    cmd = [sys.executable, "-m", "sourcetrace", "serve", "--db", db, "--port", str(port),
           "--allow-private", "--log-level", "warning"]
    if time_limit is not None:
        cmd += ["--time-limit", f"{time_limit:g}"]
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


def timed_post(base: str, body: dict, timeout: float,
               address: str | None = None) -> tuple[int | str, float]:
    """POST /api/analyze from ``address`` (a loopback address: the server tells clients
    apart by it); (status, seconds)."""
    transport = httpx.HTTPTransport(local_address=address) if address else None
    t0 = time.perf_counter()
    try:
        with httpx.Client(transport=transport, timeout=timeout) as c:
            status: int | str = c.post(f"{base}/api/analyze", json=body).status_code
    except httpx.HTTPError as exc:
        status = type(exc).__name__
    return status, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="normal requests per phase")
    ap.add_argument("--src", type=Path, default=None,
                    help="run the server from this source tree (PYTHONPATH)")
    ap.add_argument("--client-timeout", type=float, default=200.0)
    ap.add_argument("--time-limit", type=float, default=None,
                    help="the server's --time-limit (default: its own, 60 s)")
    args = ap.parse_args()

    normal = {"text": EXAMPLE.read_text(encoding="utf-8")}
    hostile = {"text": hostile_text()}
    slow = SlowHeaders()
    quick = QuickPage(normal["text"])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "corpus.db")
        sys.path.insert(0, str(args.src or ROOT / "src"))
        from sourcetrace.corpus.store import open_store

        open_store(db).close()
        server = start_server(port, db, args.src, args.time_limit)
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

            # four large analyses, each from its own client, and a normal one from another
            large: dict[str, tuple[int | str, float]] = {}
            threads = [threading.Thread(target=lambda a=a: large.update(
                {a: timed_post(base, hostile, args.client_timeout, a)}), daemon=True)
                for a in ("127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14")]
            for t in threads:
                t.start()
            time.sleep(1.0)
            beside_large = [timed_post(base, normal, args.client_timeout, "127.0.0.2")
                            for _ in range(args.repeat)]
            for t in threads:
                t.join(args.client_timeout + 5)

            # sixteen slow URLs from one client, quick URLs from three others
            slow_ends: list[tuple[int | str, float]] = []
            lock = threading.Lock()

            def slow_url() -> None:
                end = timed_post(base, {"url": f"http://127.0.0.1:{slow.port}/story"},
                                 args.client_timeout, "127.0.0.21")
                with lock:
                    slow_ends.append(end)

            threads = [threading.Thread(target=slow_url, daemon=True) for _ in range(16)]
            for t in threads:
                t.start()
            time.sleep(1.0)
            quick_urls = [timed_post(base, {"url": f"http://127.0.0.1:{quick.port}/news"},
                                     args.client_timeout, a)
                          for _ in range(args.repeat)
                          for a in ("127.0.0.31", "127.0.0.32", "127.0.0.33")]
            for t in threads:
                t.join(args.client_timeout + 5)
            time.sleep(3.0)
            open_after = slow.open
        finally:
            server.terminate()
            server.wait(10)
            slow.close()
            quick.close()

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
    print(row("beside four large analyses of four clients", beside_large))
    print(row("quick URLs of three clients beside 16 slow URLs of one", quick_urls))
    print(f"\ndelay of the normal request under attack (median): {delay:+.2f} s")
    print("\n| hostile request | status | seconds |\n|---|---|---|")
    for name, (status, secs) in ends.items():
        print(f"| {name} | {status} | {secs:.1f} |")
    for address, (status, secs) in sorted(large.items()):
        print(f"| hostile 80 KB from {address} | {status} | {secs:.1f} |")
    by_status = collections.defaultdict(list)
    for status, secs in slow_ends:
        by_status[str(status)].append(secs)
    for status, secs in sorted(by_status.items()):
        print(f"| slow-header URL from 127.0.0.21 (x{len(secs)}) | {status} | "
              f"{min(secs):.1f}-{max(secs):.1f} |")
    print(f"\nconnections to the slow-header server still open 3 s after the last answer: "
          f"{open_after}")


if __name__ == "__main__":
    main()
