"""Claims kept in the store: what ingest pays for them and how fast they are read back.

1. Ingests the first ``--n`` PolNeAR train articles (JSON lines made from
   ../shared, in a temporary folder; nothing is written into the repository) into a
   fresh SQLite store twice: once without claims (``ingest(..., claims=False)``) and
   once with them (the default: each article's claims are extracted, embedded,
   matched and written to the store as it is stored). The throughput of both, and
   the drop, on wall time and on the process's CPU time (the steadier figure on a
   machine shared with other work).
2. From the store with claims, in fresh processes through the real entry point:
   ``sourcetrace claims --clusters``, ``sourcetrace trace --claim ID`` and
   ``sourcetrace trace "TEXT"`` (wall time of the whole command, Python start
   included), and a fresh server's first ``/claims`` page and ``/api/claims``
   (an ASGI client on a new app in a new process).
3. With ``--postgres DSN``: the same articles and claim batches copied into a
   schema of their own (``sourcetrace_bench_claims``, dropped first) and the same
   commands against it.

    nice -n 5 .venv/bin/python bench/bench_claims_store.py --n 1000 [--compare 200] [--postgres DSN]
    nice -n 5 .venv/bin/python bench/bench_claims_store.py --replicate dev.db 12   # reading only
    nice -n 5 .venv/bin/python bench/bench_claims_store.py --n 30 --ingest-only --repeat 2
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POLNEAR = ROOT.parent / "shared" / "data" / "polnear"
BIN = Path(sys.executable).parent / "sourcetrace"
SCHEMA = "sourcetrace_bench_claims"


def write_inputs(folder: Path, n: int) -> Path:
    path = folder / "articles.jsonl"
    with (POLNEAR / "train.jsonl").open(encoding="utf-8") as f, path.open("w") as out:
        for i, line in enumerate(f):
            if i >= n:
                break
            r = json.loads(line)
            out.write(json.dumps({"id": r["id"], "text": r["text"], "title": r["title"],
                                  "date": r["date"], "outlet": r["publisher"]}) + "\n")
    return path


def ingest_into(db: str, inputs: Path, claims: bool) -> dict:
    from sourcetrace.corpus.runner import ingest
    from sourcetrace.corpus.store import open_store

    with open_store(db) as store:
        t, cpu = time.perf_counter(), time.process_time()
        report = ingest([str(inputs)], store, claims=claims)
        seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
        batches = store.claim_batches() if claims else []
    return {"articles": report.added, "failed": report.failed, "seconds": round(seconds, 1),
            "cpu_seconds": round(cpu, 1),
            "articles_per_second": round(report.added / seconds, 3),
            "articles_per_cpu_second": round(report.added / cpu, 3),
            "claims": sum(len(b.claims) for b in batches),
            "matches": sum(len(b.matches) for b in batches)}


def timed(cmd: list[str]) -> dict:
    """Wall time of a command, and the CPU time it used (user + system: on a machine
    shared with other work the steadier figure)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"seconds": round(wall, 3), "cpu_seconds": round(cpu, 3), "exit": p.returncode,
            "first_line": (p.stdout or p.stderr).strip().splitlines()[:1]}


def in_process(db: str, claim_id: str, text: str) -> dict:
    """Open the store, read its claims and trace, in this process (imports and the
    embedding model already loaded): what the commands do after Python starts."""
    from sourcetrace.corpus.store import open_store
    from sourcetrace.crossoutlet.corroboration import CrossOutlet, sync_with_store
    from sourcetrace.crossoutlet.embed import get_embedder
    from sourcetrace.crossoutlet.rerank import get_reranker

    embedder = get_embedder()
    t = time.perf_counter()
    with open_store(db) as store:
        x = sync_with_store(store, cross=CrossOutlet(embedder=embedder))
    read = time.perf_counter() - t
    t = time.perf_counter()
    x.trace_claim(claim_id)
    by_id = time.perf_counter() - t
    t = time.perf_counter()
    x.trace_text(text)
    by_text = time.perf_counter() - t
    t = time.perf_counter()
    clusters = x.clusters(min_outlets=2)
    listed = time.perf_counter() - t
    # what `trace` does since: read only the candidates (crossoutlet/stored.py)
    from sourcetrace.crossoutlet.stored import open_claims
    from sourcetrace.crossoutlet.tracing import ranked_trace

    get_reranker()
    with open_store(db, create=False) as store:
        t = time.perf_counter()
        stored = open_claims(store, embedder=embedder)
        opened = time.perf_counter() - t
        t = time.perf_counter()
        ranked_trace(stored, claim_id=claim_id, store=store)
        stored_by_id = time.perf_counter() - t
        t = time.perf_counter()
        ranked_trace(stored, text=text, store=store)
        stored_by_text = time.perf_counter() - t
    return {"claims": len(x.claims), "matches": len(x.matches), "clusters_2_outlets": len(clusters),
            "read_seconds": round(read, 3), "trace_claim_seconds": round(by_id, 3),
            "trace_text_seconds": round(by_text, 3), "clusters_seconds": round(listed, 3),
            "stored_open_seconds": round(opened, 3),
            "stored_vectors_from_file": getattr(getattr(stored, "index", None), "from_file", None),
            "stored_trace_claim_seconds": round(stored_by_id, 3),
            "stored_trace_text_seconds": round(stored_by_text, 3)}


SERVER = """
import sys, time
import httpx, asyncio
from sourcetrace.web.app import create_app
t = time.perf_counter()
app = create_app(store=sys.argv[1])
async def main():
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as c:
        out = []
        for path in sys.argv[2:]:
            t1 = time.perf_counter()
            r = await c.get(path)
            out.append((path, r.status_code, round(time.perf_counter() - t1, 3)))
        return out
print(asyncio.run(main()), round(time.perf_counter() - t, 3))
"""


def read_side(db: str) -> dict:
    from sourcetrace.corpus.store import open_store

    with open_store(db) as store:
        batches = store.claim_batches()
    linked = [m[0] for b in batches for m in b.matches] or [c[0] for b in batches for c in b.claims]
    claim_id = linked[len(linked) // 2]
    text = next(json.loads(c[1])["text"] for b in batches for c in b.claims if c[0] == claim_id)
    return {
        "in_process": in_process(db, claim_id, text),
        "claims_clusters": timed([str(BIN), "claims", "--clusters", "--db", db, "-n", "5"]),
        "trace_claim": timed([str(BIN), "trace", "--claim", claim_id, "--db", db]),
        "trace_text": timed([str(BIN), "trace", text, "--db", db]),
        "fresh_server": timed([sys.executable, "-c", SERVER, db, "/claims", "/api/claims"]),
    }


def copy_to_postgres(db: str, dsn: str) -> str:
    import psycopg
    from psycopg.conninfo import make_conninfo

    from sourcetrace.corpus.store import ArticleRecord, open_store

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
    target = _pg_url(make_conninfo(dsn, options=f"-c search_path={SCHEMA}"))
    with open_store(db) as src, open_store(target) as dst:
        ids = {}
        for a in src.iter_articles():
            ids[a.id] = dst.add(ArticleRecord(analysis=a.analysis, input=a.input, outlet=a.outlet,
                                              url=a.url, title=a.title, date=a.date,
                                              content_hash=a.content_hash))
        assert all(k == v for k, v in ids.items()), "article ids differ in PostgreSQL"
        for b in src.claim_batches():
            dst.add_claim_batch(b.article_id, b.signature, b.size, outlet=b.outlet,
                                site_name=b.site_name, claims=b.claims, matches=b.matches,
                                copies=b.copies)
    return target


def _pg_url(conninfo: str) -> str:
    """A postgresql:// URL for a key=value conninfo (open_store picks the backend by it)."""
    from psycopg.conninfo import conninfo_to_dict
    from urllib.parse import quote

    d = conninfo_to_dict(conninfo)
    auth = quote(d.get("user", "")) + (":" + quote(d["password"]) if d.get("password") else "")
    host = d.get("host", "localhost") + (":" + str(d["port"]) if d.get("port") else "")
    return (f"postgresql://{auth}@{host}/{d.get('dbname', '')}?options="
            + quote(d.get("options", "")))


def replicate(src_db: str, db: str, times: int) -> dict:
    """A store holding every article of ``src_db`` ``times`` over, with its claim batch:
    claims, vectors and matches copied (ids renumbered; matches only within a copy),
    nothing analysed or embedded again. Measures reading at a larger scale."""
    from sourcetrace.corpus.store import ArticleRecord, open_store

    with open_store(src_db) as src, open_store(db) as dst:
        articles = list(src.iter_articles())
        batches = {b.article_id: b for b in src.claim_batches()}
        for k in range(times):
            ids = {}
            for a in articles:
                ids[a.id] = dst.add(ArticleRecord(
                    analysis=a.analysis, input=f"{a.input}#{k}", outlet=a.outlet, url=a.url,
                    title=a.title, date=a.date, content_hash=f"{a.content_hash}-{k}"))
            for a in articles:
                b = batches.get(a.id)
                if b is None:
                    continue
                new = ids[a.id]

                def renum(cid: str) -> str:
                    old_article, _, rest = cid.partition("#")
                    return f"{ids[int(old_article)]}#{rest}"

                claims = []
                for cid, data, vec in b.claims:
                    d = json.loads(data)
                    d["id"], d["article_id"] = renum(cid), str(new)
                    claims.append((d["id"], json.dumps(d), vec))
                dst.add_claim_batch(new, b.signature, b.size, outlet=b.outlet,
                                    site_name=b.site_name, claims=claims,
                                    matches=[(renum(x), renum(y), ev) for x, y, ev in b.matches],
                                    copies=[ids[c] for c in b.copies])
        # what the writer of each batch (CrossOutlet.add_stored) brings up to date after it:
        # the full-text index of the claims and the claim vector file beside the corpus
        from sourcetrace.crossoutlet.stored import fill_claim_search, update_claim_vectors

        fill_claim_search(dst)
        update_claim_vectors(dst)
        return {"articles": dst.count(), "claims": sum(len(b.claims) for b in dst.claim_batches())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--postgres", default=os.environ.get("SOURCETRACE_TEST_POSTGRES"))
    parser.add_argument("--compare", type=int, default=None,
                        help="compare ingest with and without claims on the first N articles "
                             "(default: all of --n)")
    parser.add_argument("--no-entity-linking", action="store_true",
                        help="skip the store's linking of sources to entities in every run "
                             "(the same in the runs compared)")
    parser.add_argument("--replicate", nargs=2, metavar=("STORE", "TIMES"),
                        help="no ingest: read a store made of STORE's articles and claims "
                             "copied TIMES over")
    parser.add_argument("--ingest-only", action="store_true",
                        help="only the ingest with and without claims (no reading side), "
                             "after one warm-up ingest that loads the pipeline and the "
                             "embedding model, so that neither run pays for loading them")
    parser.add_argument("--repeat", type=int, default=1,
                        help="with --ingest-only: the two ingests this many times, in turn")
    args = parser.parse_args(argv)
    if args.no_entity_linking:
        from sourcetrace.corpus.store.sql import SqlAlchemyStore

        SqlAlchemyStore._link_entities = lambda self, article_id, analysis: None
        out_note = "entity linking skipped in every run (--no-entity-linking)"
    else:
        out_note = None
    if not POLNEAR.exists():
        print(f"{POLNEAR} is absent: this benchmark reads PolNeAR from ../shared", file=sys.stderr)
        return 2
    out: dict = {"n": args.n}
    if out_note:
        out["note"] = out_note
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.replicate:
            out = {"replicated_from": args.replicate[0], "times": int(args.replicate[1])}
            out.update(replicate(args.replicate[0], str(tmp / "claims.db"), int(args.replicate[1])))
            out["sqlite"] = read_side(str(tmp / "claims.db"))
            if args.postgres:
                out["postgres"] = read_side(copy_to_postgres(str(tmp / "claims.db"), args.postgres))
            print(json.dumps(out, indent=1))
            return 0
        inputs = write_inputs(tmp, args.n)
        if args.ingest_only:
            (tmp / "warm").mkdir()
            ingest_into(str(tmp / "warm.db"), write_inputs(tmp / "warm", 2), True)
            runs = {"without": [], "with": []}
            for r in range(args.repeat):
                runs["without"].append(ingest_into(str(tmp / f"plain{r}.db"), inputs, False))
                runs["with"].append(ingest_into(str(tmp / f"claims{r}.db"), inputs, True))
            out.update(runs)
            cpu = {k: sorted(x["cpu_seconds"] for x in v)[len(v) // 2] for k, v in runs.items()}
            out["throughput_drop_cpu_median"] = round(1 - cpu["without"] / cpu["with"], 3)
            print(json.dumps(out, indent=1))
            return 0
        compare = args.compare or args.n
        if compare != args.n:
            (tmp / "first").mkdir()
            first = write_inputs(tmp / "first", compare)
            out["compare_n"] = compare
            out["compare_with_claims"] = ingest_into(str(tmp / "first.db"), first, True)
        else:
            first = inputs
        out["ingest_without_claims"] = ingest_into(str(tmp / "plain.db"), first, False)
        out["ingest_with_claims"] = ingest_into(str(tmp / "claims.db"), inputs, True)
        plain = out["ingest_without_claims"]
        with_claims = out.get("compare_with_claims", out["ingest_with_claims"])
        out["throughput_drop"] = round(1 - with_claims["articles_per_second"]
                                       / plain["articles_per_second"], 3)
        out["throughput_drop_cpu"] = round(1 - with_claims["articles_per_cpu_second"]
                                           / plain["articles_per_cpu_second"], 3)
        out["sqlite"] = read_side(str(tmp / "claims.db"))
        if args.postgres:
            out["postgres"] = read_side(copy_to_postgres(str(tmp / "claims.db"), args.postgres))
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
