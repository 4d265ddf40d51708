"""Scale benchmark of ``ingest --engine ray`` (workers that write) and of the store's readers.

    .venv/bin/python bench/bench_scale.py [--articles 2000] [--workers 1,2]
        [--store-articles 100000] [--skip-cluster] [--skip-store] [--out FILE]

Cluster side: a throwaway PostgreSQL (as .ci/run starts one) and a local two-node Ray
cluster (`ray start --head` and `ray start --address`, one CPU each, in their own temp
dir); ``--articles`` perturbed copies of PolNeAR train (../shared/data/polnear/train.jsonl,
read at run time, never written to the repository: the copies live in a temp dir) in
JSON-lines shards; `sourcetrace ingest 'SHARDS/*.jsonl' --engine ray --address ...` in a
fresh process for each worker count, each into its own schema. Measured: wall time and
articles per second (the whole command, and the steady rate between the first and the
last article stored), the CPU seconds of the driver, of the cluster's processes and of
PostgreSQL (sampled from /proc every half second; the driver's exactly from wait4), the
resident memory of each RayWriter actor over time, and the CPU the rest of the machine
used meanwhile (/proc/stat). Then a run killed with SIGKILL once half the articles are
stored and run again: articles lost or doubled, and claims lost, against the
uninterrupted run with the most workers.

Store side: the analyses of that run copied in bulk (INSERT ... SELECT, perturbed content
hashes; nothing analysed again) until the schema holds ``--store-articles`` articles, then
`trace --claim`, `trace TEXT`, the first `claims` page and `report` timed in fresh
processes (each with ``--command-timeout``).

Results: a JSON file (``--out``, default bench/out/scale.json; not committed) and a summary on
stdout.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DATA = ROOT.parent / "shared" / "data" / "polnear" / "train.jsonl"
CLK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- PostgreSQL

def start_postgres(work: Path) -> tuple[str, list[str]]:
    """A throwaway server on 127.0.0.1 (as .ci/run's start_postgres): its DSN and the
    command that stops it."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name))
    if not found:
        sys.exit("PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb)")
    bin_dir = found[-1].parent
    folder = work / "pg"
    folder.mkdir()
    as_pg: list[str] = []
    if os.getuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(work, "postgres")
        as_pg = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run([*as_pg, str(bin_dir / "initdb"), "-D", str(folder / "data"), "-A", "trust",
                    "-U", "postgres"], check=True, capture_output=True)
    subprocess.run([*as_pg, str(bin_dir / "pg_ctl"), "-D", str(folder / "data"), "-l",
                    str(folder / "server.log"), "-w", "-o",
                    f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 "
                    "-c shared_buffers=512MB -c max_wal_size=4GB -c synchronous_commit=off",
                    "start"], check=True, capture_output=True)
    stop = [*as_pg, str(bin_dir / "pg_ctl"), "-D", str(folder / "data"), "-m", "fast", "-w", "stop"]
    return f"postgresql://postgres@127.0.0.1:{port}/postgres", stop


def schema_db(dsn: str, schema: str, fresh: bool = True) -> str:
    import psycopg

    if fresh:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            conn.execute(f"CREATE SCHEMA {schema}")
    return dsn + f"?options=-c%20search_path%3D{schema}"


def sql(db: str, query: str, args: tuple = ()) -> list[tuple]:
    import psycopg

    with psycopg.connect(db, autocommit=True) as conn:
        try:
            return conn.execute(query, args).fetchall()
        except psycopg.errors.UndefinedTable:
            return []


# --------------------------------------------------------------------------- data

def make_shards(n: int, shards: int, folder: Path) -> int:
    """``n`` articles from PolNeAR train in ``shards`` JSON-lines files: copy k of an article
    (k >= 1) has its title line marked with the edition, another outlet name and its date
    moved k days, so that every content hash differs (deterministic: no randomness)."""
    import datetime

    base = [json.loads(line) for line in DATA.open(encoding="utf-8")]
    folder.mkdir(parents=True, exist_ok=True)
    files = [open(folder / f"shard-{i:03d}.jsonl", "w", encoding="utf-8") for i in range(shards)]
    try:
        for i in range(n):
            k, j = divmod(i, len(base))
            r = base[j]
            text = r["text"]
            date = r.get("date")
            if k:
                head, sep, rest = text.partition("\n")
                text = f"{head} (edition {k}){sep}{rest}"
                try:
                    date = (datetime.date.fromisoformat(date) + datetime.timedelta(days=k)).isoformat()
                except (TypeError, ValueError):
                    pass
            rec = {"id": f"{r['id']}~{k}", "outlet": f"{r.get('publisher') or 'outlet'}"
                   + (f"-{k}" if k else ""), "date": date, "title": r.get("title"), "text": text}
            files[i % shards].write(json.dumps(rec, ensure_ascii=False) + "\n")
    finally:
        for f in files:
            f.close()
    return n


# --------------------------------------------------------------------------- Ray cluster

def start_cluster(work: Path) -> tuple[str, str, Path]:
    """`ray start --head` and a second node, one CPU each; (address, session, temp dir)."""
    temp = Path(tempfile.mkdtemp(prefix="st-scale-", dir="/tmp"))
    port = free_port()
    # Ray runs its workers at nice 15 by default; here at 0 like the driver and PostgreSQL,
    # so that other work on a shared machine (tests at nice 5) does not come first
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled",
           "RAY_worker_niceness": "0"}
    common = ["--num-cpus", "1", "--num-gpus", "0", "--disable-usage-stats"]
    subprocess.run([str(BIN / "ray"), "start", "--head", "--port", str(port), "--temp-dir",
                    str(temp), "--include-dashboard", "false", *common], check=True, env=env,
                   capture_output=True, timeout=180)
    session = os.path.basename(os.path.realpath(temp / "session_latest"))
    subprocess.run([str(BIN / "ray"), "start", "--address", f"127.0.0.1:{port}", *common],
                   check=True, env=env, capture_output=True, timeout=180)
    return f"127.0.0.1:{port}", session, temp


def stop_cluster(session: str, temp: Path) -> None:
    """Our cluster's processes only, by id (`ray stop` would stop every Ray of the user)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        procs = Procs.snapshot()
        for pid in procs.tree(procs.roots(session)):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        time.sleep(5)
    shutil.rmtree(temp, ignore_errors=True)


# --------------------------------------------------------------------------- /proc sampling

class Procs:
    """One reading of /proc: pid -> (ppid, cpu seconds, rss kB, command line)."""

    def __init__(self, rows: dict[int, tuple[int, float, int, str]]) -> None:
        self.rows = rows

    @classmethod
    def snapshot(cls) -> "Procs":
        rows = {}
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    stat = f.read().decode("ascii", "replace")
                with open(f"/proc/{name}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            rows[int(name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK,
                               int(fields[21]) * PAGE_KB, cmd)
        return cls(rows)

    def roots(self, marker: str) -> list[int]:
        return [pid for pid, row in self.rows.items() if marker in row[3]]

    def tree(self, roots: list[int]) -> set[int]:
        children: dict[int, list[int]] = {}
        for pid, row in self.rows.items():
            children.setdefault(row[0], []).append(pid)
        out, todo = set(), list(roots)
        while todo:
            pid = todo.pop()
            if pid in out:
                continue
            out.add(pid)
            todo.extend(children.get(pid, ()))
        return out


def machine_cpu() -> float:
    with open("/proc/stat", encoding="ascii") as f:
        parts = f.readline().split()[1:]
    busy = sum(int(x) for i, x in enumerate(parts[:8]) if i not in (3, 4))  # not idle, iowait
    return busy / CLK


class Sampler(threading.Thread):
    """Every ``interval`` s: the CPU seconds of each process of the cluster (the tree of
    the processes naming ``session``), of PostgreSQL (the postmaster's tree) and of the
    driver; the memory of each RayWriter actor."""

    def __init__(self, session: str, pg_marker: str, driver: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.session, self.pg_marker, self.driver, self.interval = session, pg_marker, driver, interval
        self.cpu: dict[str, dict[int, float]] = {"cluster": {}, "postgres": {}, "driver": {}}
        self.first: dict[str, dict[int, float]] | None = None
        self.rss: list[tuple[float, int, int]] = []
        self.stopped = threading.Event()
        self.started_at = time.time()

    def sample(self) -> None:
        procs = Procs.snapshot()
        groups = {"cluster": procs.tree(procs.roots(self.session)),
                  "postgres": procs.tree(procs.roots(self.pg_marker)),
                  "driver": procs.tree([self.driver])}
        now = time.time() - self.started_at
        reading = {g: {pid: procs.rows[pid][1] for pid in pids if pid in procs.rows}
                   for g, pids in groups.items()}
        if self.first is None:
            self.first = reading
        for g, values in reading.items():
            self.cpu[g].update(values)
        for pid in groups["cluster"]:
            row = procs.rows.get(pid)
            if row and row[3].startswith("ray::") and "RayWriter" in row[3]:
                self.rss.append((round(now, 1), pid, row[2]))

    def run(self) -> None:
        while not self.stopped.is_set():
            self.sample()
            self.stopped.wait(self.interval)

    def stop(self) -> dict[str, float]:
        self.stopped.set()
        self.join()
        first = self.first or {}
        return {g: round(sum(v - first.get(g, {}).get(pid, 0.0) for pid, v in values.items()), 2)
                for g, values in self.cpu.items()}


# --------------------------------------------------------------------------- one ingest

def run_ingest(shard_glob: str, db: str, address: str, workers: int, session: str,
               pg_marker: str, kill_at: int | None = None) -> dict:
    """`sourcetrace ingest` through the cluster in a fresh process; with ``kill_at``, killed
    with SIGKILL once that many articles are stored."""
    command = [str(BIN / "sourcetrace"), "ingest", shard_glob, "--db", db, "--engine", "ray",
               "--address", address, "--workers", str(workers), "--no-progress"]
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    count_before = count(db)
    machine0 = machine_cpu()
    started = time.time()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sampler = Sampler(session, pg_marker, proc.pid)
    sampler.start()
    errors: list[bytes] = []
    reader = threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True)
    reader.start()
    killed = False
    if kill_at is not None:
        while proc.poll() is None and count(db) < kill_at:
            time.sleep(0.2)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            killed = True
    CHILDREN.append(proc)
    _, status, usage = wait(proc.pid)
    CHILDREN.remove(proc)
    wall = time.time() - started
    reader.join(10)
    cpu = sampler.stop()
    machine = machine_cpu() - machine0
    stderr = b"".join(errors).decode("utf-8", "replace")
    driver_cpu = usage.ru_utime + usage.ru_stime
    ours = driver_cpu + cpu["cluster"] + cpu["postgres"]
    m = re.search(r"added (\d+), already stored (\d+), failed (\d+)", stderr)
    times = sql(db, "SELECT min(added_at), max(added_at), count(*) FROM articles WHERE id > "
                    "(SELECT coalesce(max(id), 0) FROM articles) - %s", (count(db) - count_before,))
    steady = None
    if times and times[0][2] and times[0][2] > 1:
        import datetime

        t0, t1 = (datetime.datetime.fromisoformat(t.replace("Z", "+00:00")) for t in times[0][:2])
        if (t1 - t0).total_seconds() > 0:
            steady = round((times[0][2] - 1) / (t1 - t0).total_seconds(), 3)
    added = int(m.group(1)) if m else count(db) - count_before
    return {
        "workers": workers, "killed": killed, "exit": os.waitstatus_to_exitcode(status),
        "wall_s": round(wall, 1), "added": added,
        "already_stored": int(m.group(2)) if m else None, "failed": int(m.group(3)) if m else None,
        "articles_per_s": round(added / wall, 3) if wall else None,
        "steady_articles_per_s": steady,
        "cpu_s": {"driver": round(driver_cpu, 2), **{k: v for k, v in cpu.items() if k != "driver"}},
        "driver_share_of_cpu": round(driver_cpu / ours, 4) if ours else None,
        "others_cpu_s": round(max(machine - ours, 0.0), 1),
        "cores_busy_by_others": round(max(machine - ours, 0.0) / wall, 2) if wall else None,
        "articles_per_cpu_s": round(added / ours, 4) if ours else None,
        "writer_rss_kb": sampler.rss,
        "stderr_tail": stderr[-1500:],
    }


CHILDREN: list[subprocess.Popen] = []   # killed when the benchmark is interrupted


def wait(pid: int, timeout: float | None = None) -> tuple[int, int, object]:
    """os.wait4 polled, so that a signal reaches this (main) thread while a child runs;
    (0, 0, None) after ``timeout`` seconds."""
    end = None if timeout is None else time.time() + timeout
    while True:
        got, status, usage = os.wait4(pid, os.WNOHANG)
        if got:
            return got, status, usage
        if end is not None and time.time() > end:
            return 0, 0, None
        time.sleep(0.1)


def count(db: str) -> int:
    rows = sql(db, "SELECT count(*) FROM articles")
    return int(rows[0][0]) if rows else 0


def memory_summary(samples: list[tuple[float, int, int]]) -> dict:
    """Per actor: RSS (MB) at its first sample, at 25/50/75 % of its samples and at its last."""
    by_pid: dict[int, list[tuple[float, int]]] = {}
    for t, pid, rss in samples:
        by_pid.setdefault(pid, []).append((t, rss))
    out = {}
    for pid, rows in by_pid.items():
        picks = [rows[0], *(rows[int(len(rows) * q)] for q in (0.25, 0.5, 0.75)), rows[-1]]
        out[str(pid)] = [(t, round(rss / 1024, 1)) for t, rss in picks]
    return out


def compare(reference: str, resumed: str) -> dict:
    """Articles lost or doubled, and articles whose claims differ (count per content hash)."""
    def claims(db: str) -> dict[str, int]:
        return dict(sql(db, "SELECT a.content_hash, count(c.id) FROM articles a LEFT JOIN "
                            "claim_batches b ON b.article_id = a.id LEFT JOIN claims c ON "
                            "c.batch = b.seq GROUP BY a.content_hash"))

    ref, got = claims(reference), claims(resumed)
    rows, distinct, inputs = sql(resumed, "SELECT count(*), count(DISTINCT content_hash), "
                                          "count(DISTINCT input) FROM articles")[0]
    return {"reference_articles": len(ref), "articles": rows,
            "lost": len(set(ref) - set(got)), "extra": len(set(got) - set(ref)),
            "duplicated": rows - min(distinct, inputs),
            "without_claim_batch": sql(resumed, "SELECT count(*) FROM articles WHERE id NOT IN "
                                                "(SELECT article_id FROM claim_batches)")[0][0],
            "claim_batches": sql(resumed, "SELECT count(*) FROM claim_batches")[0][0],
            "claims": sum(got.values()), "reference_claims": sum(ref.values()),
            "articles_with_other_claims": sum(1 for h in ref if h in got and got[h] != ref[h])}


# --------------------------------------------------------------------------- the store at scale

COPY_TABLES = ("articles", "attributions", "sources", "article_figures", "search_index",
               "claim_batches", "claims", "claim_matches")


def replicate(dsn: str, source: str, target: str, articles: int) -> dict:
    """Copy the source schema's articles, derived rows and claims into ``target`` until it
    holds ``articles``: copy k of article i gets id i + k * max(id), a content hash of
    sha256(hash:k), its claims the ids of its new article; matches stay within a copy."""
    import psycopg

    db = schema_db(dsn, target)
    from sourcetrace.corpus.store import open_store

    open_store(db).close()       # the schema, by the store's own migrations
    started = time.time()
    with psycopg.connect(db, autocommit=True) as conn:
        n, max_id = conn.execute(f"SELECT count(*), max(id) FROM {source}.articles").fetchone()
        max_seq = conn.execute(f"SELECT coalesce(max(seq), 0) FROM {source}.claim_batches").fetchone()[0]
        tables = [t for t in COPY_TABLES if conn.execute(
            "SELECT to_regclass(%s)", (f"{target}.{t}",)).fetchone()[0]]
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = "
            "ANY(%s) AND indexname NOT IN (SELECT conname FROM pg_constraint c JOIN "
            "pg_namespace s ON s.oid = c.connamespace WHERE s.nspname = %s)",
            (target, tables, target)).fetchall()
        for name, _ in indexes:          # rebuilt once at the end: faster than row by row
            conn.execute(f"DROP INDEX {target}.{name}")
        columns = {t: conn.execute(
            "SELECT column_name, is_generated, column_default FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (target, t)).fetchall() for t in tables}

        def cid(col: str, off: str) -> str:
            return f"((split_part({col}, '#', 1)::bigint + {off})::text || '#' || split_part({col}, '#', 2))"

        copies = math.ceil(articles / n)
        for k in range(copies):
            limit = min(n, articles - k * n)
            off, soff = k * max_id, k * max_seq
            keep = (f"(SELECT id FROM {source}.articles ORDER BY id LIMIT {limit})")
            special = {
                "articles": {"id": f"id + {off}", "content_hash": "content_hash" if k == 0 else
                             f"encode(sha256((content_hash || ':{k}')::bytea), 'hex')",
                             "input": "input" if k == 0 else f"input || '#copy{k}'"},
                "claim_batches": {"seq": f"seq + {soff}", "article_id": f"article_id + {off}",
                                  "copies": f"(SELECT coalesce(json_agg(x::bigint + {off}), '[]')"
                                            f"::text FROM json_array_elements_text(copies::json) x)"},
                "claims": {"id": cid("id", str(off)), "batch": f"batch + {soff}",
                           "data": f"jsonb_set(jsonb_set(data::jsonb, '{{id}}', to_jsonb("
                                   f"{cid('id', str(off))})), '{{article_id}}', to_jsonb("
                                   f"(split_part(id, '#', 1)::bigint + {off})::text))::text"},
                "claim_matches": {"claim_id": cid("claim_id", str(off)),
                                  "other_id": cid("other_id", str(off)), "batch": f"batch + {soff}"},
            }
            for t in tables:
                cols = [c for c, generated, default in columns[t]
                        if generated != "ALWAYS" and not (default or "").startswith("nextval")
                        or c in special.get(t, {})]
                exprs = [special.get(t, {}).get(c, f"article_id + {off}" if c == "article_id" else c)
                         for c in cols]
                if t == "articles":
                    where = f"id IN {keep}"
                elif t in ("claims", "claim_matches"):
                    where = (f"batch IN (SELECT seq FROM {source}.claim_batches WHERE article_id "
                             f"IN {keep})")
                else:
                    where = f"article_id IN {keep}"
                conn.execute(f"INSERT INTO {target}.{t} ({', '.join(cols)}) SELECT "
                             f"{', '.join(exprs)} FROM {source}.{t} WHERE {where}")
            print(f"  copy {k + 1}/{copies}: {min((k + 1) * n, articles)} articles, "
                  f"{time.time() - started:.0f} s", flush=True)
        for _, definition in indexes:
            conn.execute(definition)
        for table, column in (("articles", "id"), ("claim_batches", "seq"), ("search_index", "id")):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{target}.{table}', '{column}'), "
                         f"(SELECT max({column}) FROM {target}.{table}))")
        conn.execute("ANALYZE")
        size = conn.execute("SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN "
                            "pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = %s "
                            "AND c.relkind = 'r'", (target,)).fetchone()[0]
        sizes = dict(conn.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace s "
            "ON s.oid = c.relnamespace WHERE s.nspname = %s AND c.relkind = 'r'", (target,)).fetchall())
        index_sizes = dict(conn.execute(
            "SELECT c.relname, pg_relation_size(c.oid) FROM pg_class c JOIN pg_namespace s "
            "ON s.oid = c.relnamespace WHERE s.nspname = %s AND c.relkind = 'i'", (target,)).fetchall())
        totals = {t: conn.execute(f"SELECT count(*) FROM {target}.{t}").fetchone()[0] for t in tables}
    return {"db": db, "copy_s": round(time.time() - started, 1), "rows": totals,
            "bytes": int(size or 0), "bytes_by_table": {k: int(v) for k, v in sizes.items()},
            "index_bytes": {k: int(v) for k, v in index_sizes.items()}}


def timed(command: list[str], timeout: float) -> dict:
    """Wall and CPU seconds of one command in a fresh process (killed after ``timeout``)."""
    started = time.time()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    streams: dict[str, bytes] = {}
    readers = [threading.Thread(target=lambda n=n, f=f: streams.__setitem__(n, f.read()),
                                daemon=True) for n, f in (("out", proc.stdout), ("err", proc.stderr))]
    for r in readers:
        r.start()
    CHILDREN.append(proc)
    pid, status, usage = wait(proc.pid, timeout)
    CHILDREN.remove(proc)
    if not pid:
        proc.kill()
        os.wait4(proc.pid, 0)
        return {"command": " ".join(command[1:3]), "wall_s": None, "timed_out_after_s": timeout}
    wall = time.time() - started
    for r in readers:
        r.join(10)
    return {"command": " ".join(command[1:3]), "exit": os.waitstatus_to_exitcode(status),
            "wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "max_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "out_head": streams.get("out", b"").decode("utf-8", "replace")[:300],
            "err_tail": streams.get("err", b"").decode("utf-8", "replace")[-300:]}


def store_side(db: str, timeout: float) -> list[dict]:
    claim = sql(db, "SELECT id, data FROM claims ORDER BY batch DESC LIMIT 1")
    if not claim:
        return []
    claim_id, data = claim[0]
    text = json.loads(data)["text"]
    sourcetrace = str(BIN / "sourcetrace")
    out = []
    for command in ([sourcetrace, "trace", "--claim", claim_id, "--db", db],
                    [sourcetrace, "trace", text, "--db", db],
                    [sourcetrace, "claims", "--db", db, "-n", "20"],
                    [sourcetrace, "report", "--db", db]):
        result = timed(command, timeout)
        if result.get("timed_out_after_s"):   # its query would go on in the server
            sql(db, "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = "
                    "current_database() AND pid <> pg_backend_pid() AND state = 'active'")
        out.append(result)
        print(f"  {result}", flush=True)
    return out


# --------------------------------------------------------------------------- main

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=2000)
    ap.add_argument("--shards", type=int, default=8)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--store-articles", type=int, default=100_000)
    ap.add_argument("--command-timeout", type=float, default=600)
    ap.add_argument("--skip-cluster", action="store_true")
    ap.add_argument("--skip-store", action="store_true")
    ap.add_argument("--skip-resume", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "scale.json"))
    args = ap.parse_args()

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    work = Path(tempfile.mkdtemp(prefix="st-scale-work-", dir="/tmp"))
    dsn, pg_stop = start_postgres(work)
    pg_marker = str(work / "pg" / "data")
    results: dict = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                     "command": " ".join(sys.argv), "articles": args.articles,
                     "load_before": os.getloadavg()}
    session = temp = None
    try:
        counts = [int(w) for w in args.workers.split(",")]
        source = f"scale_w{max(counts)}"
        if not args.skip_cluster:
            make_shards(args.articles, args.shards, work / "shards")
            shard_glob = str(work / "shards" / "*.jsonl")
            address, session, temp = start_cluster(work)
            results["runs"] = []
            for w in counts:
                db = schema_db(dsn, f"scale_w{w}")
                r = run_ingest(shard_glob, db, address, w, session, pg_marker)
                r["writer_memory_mb"] = memory_summary(r.pop("writer_rss_kb"))
                results["runs"].append(r)
                print(json.dumps({k: v for k, v in r.items() if k != "stderr_tail"}), flush=True)
            one = next((r for r in results["runs"] if r["workers"] == 1), None)
            for r in results["runs"]:
                if one and r is not one:
                    r["speedup_wall"] = round(r["articles_per_s"] / one["articles_per_s"], 3)
                    if r["steady_articles_per_s"] and one["steady_articles_per_s"]:
                        r["speedup_steady"] = round(r["steady_articles_per_s"]
                                                    / one["steady_articles_per_s"], 3)
                    r["speedup_cpu"] = round(r["articles_per_cpu_s"] / one["articles_per_cpu_s"], 3)
            if not args.skip_resume:
                db = schema_db(dsn, "scale_resume")
                first = run_ingest(shard_glob, db, address, max(counts), session, pg_marker,
                                   kill_at=args.articles // 2)
                time.sleep(5)
                stored = count(db)
                second = run_ingest(shard_glob, db, address, max(counts), session, pg_marker)
                for r in (first, second):
                    r["writer_memory_mb"] = memory_summary(r.pop("writer_rss_kb"))
                results["resume"] = {"killed_run": first, "stored_after_kill": stored,
                                     "resumed_run": second,
                                     "check": compare(schema_db(dsn, source, fresh=False), db)}
                print(json.dumps(results["resume"]["check"]), flush=True)
        if not args.skip_store:
            if args.skip_cluster:
                sys.exit("--skip-cluster needs a source: run without it")
            stop_cluster(session, temp)
            session = None
            copy = replicate(dsn, source, "scale_store", args.store_articles)
            results["store"] = {**copy, "commands": store_side(copy.pop("db"),
                                                               args.command_timeout)}
    finally:
        for proc in CHILDREN:
            proc.kill()
        if session:
            stop_cluster(session, temp)
        results["load_after"] = os.getloadavg()
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=1))
        subprocess.run(pg_stop, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
