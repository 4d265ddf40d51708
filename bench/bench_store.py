#!/usr/bin/env python3
"""The store alone: writing analysed articles and reading them back, on SQLite.

    python bench/bench_store.py [--n 300] [--repeat 3] [--cache FILE] [--db postgresql://...]

The first N PolNeAR train texts (read from ../shared at run time, never copied) are
analysed once with the rules (``--cache FILE`` keeps the analyses as JSON lines between
runs, e.g. to time two versions of the store on the same analyses). Then, per repeat, in a
fresh SQLite file (or a fresh PostgreSQL schema with ``--db``): ``add_many`` in chunks of
16 articles (one transaction each, as ingest writes them), one claim batch per article
(8 claims of 768 bytes each), then reads: ``iter_articles``, 20 searches,
``top_sources``, the outlet report. Each is timed on its own (wall seconds); the median of
the repeats is printed as JSON with the sourcetrace module that ran (so that
``PYTHONPATH=/old/src`` runs are told apart).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POLNEAR = ROOT.parent / "shared" / "data" / "polnear" / "train.jsonl"
QUERIES = ("said", "Clinton", "Trump campaign", '"White House"', "officials", "email", "poll",
           "debate", "senator", "foundation", "police", "economy", "voters", "FBI", "Obama",
           "immigration", "Russia", "taxes", "health", "speech")


def analyses(n: int, cache: str | None) -> list[dict]:
    """(meta, analysis JSON) of the first ``n`` texts, analysed with the rules."""
    if cache and os.path.exists(cache):
        rows = [json.loads(line) for line in open(cache, encoding="utf-8")]
        if len(rows) >= n:
            return rows[:n]
    from sourcetrace.config import Config
    from sourcetrace.pipeline import analyze

    config = Config(rules_only=True)
    rows = []
    with open(POLNEAR, encoding="utf-8") as f:
        for line in f:
            if len(rows) == n:
                break
            d = json.loads(line)
            a = analyze(d["text"], config=config)
            rows.append({"id": d["id"], "outlet": d.get("publisher"), "date": d.get("date"),
                         "title": d.get("title"), "analysis": a.to_json()})
    if cache:
        with open(cache, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
    return rows


def open_fresh(db: str | None, folder: str, k: int):
    from sourcetrace.corpus.store import open_store

    if not db:
        return open_store(os.path.join(folder, f"c{k}.db"))
    import psycopg
    from psycopg.conninfo import make_conninfo

    schema = f"bench_store_{k}"
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
    from sourcetrace.corpus.store.postgres import PostgresStore

    return PostgresStore(make_conninfo(db, options=f"-c search_path={schema}"))


def one_run(rows: list[dict], db: str | None, folder: str, k: int) -> dict[str, float]:
    import sourcetrace.corpus.report as reports
    from sourcetrace.corpus.store import ArticleRecord
    from sourcetrace.model import Analysis

    records = [ArticleRecord(analysis=Analysis.from_json(r["analysis"]), input=f"polnear:{r['id']}",
                             outlet=r["outlet"], date=r["date"], title=r["title"],
                             record_id=r["id"], model="rules") for r in rows]
    out: dict[str, float] = {}
    t = time.perf_counter()
    store = open_fresh(db, folder, k)
    out["open_s"] = time.perf_counter() - t
    t = time.perf_counter()
    ids = []
    for i in range(0, len(records), 16):
        ids += store.add_many(records[i:i + 16])
    out["add_many_s"] = time.perf_counter() - t
    t = time.perf_counter()
    last = 0
    for aid in ids:
        last = store.add_claim_batch(aid, b"\x01" * 64, 100, outlet="x", after=last, claims=[
            (f"{aid}#a{j}", json.dumps({"text": f"claim {j} of {aid}"}), b"\0" * 768)
            for j in range(8)])
    out["claims_s"] = time.perf_counter() - t
    t = time.perf_counter()
    n = sum(1 for _ in store.iter_articles())
    out["iter_articles_s"] = time.perf_counter() - t
    t = time.perf_counter()
    hits = sum(len(store.search(q)) for q in QUERIES)
    out["search_20_s"] = time.perf_counter() - t
    t = time.perf_counter()
    store.top_sources(limit=50)
    out["top_sources_s"] = time.perf_counter() - t
    t = time.perf_counter()
    reports.build_report(store, by="outlet")
    out["report_s"] = time.perf_counter() - t
    store.close()
    assert n == len(records) and hits > 0
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cache")
    ap.add_argument("--db")
    args = ap.parse_args()
    import sourcetrace

    rows = analyses(args.n, args.cache)
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        for k in range(args.repeat):
            runs.append(one_run(rows, args.db, folder, k))
    median = {key: round(statistics.median(r[key] for r in runs), 3) for key in runs[0]}
    print(json.dumps({"sourcetrace": os.path.dirname(sourcetrace.__file__), "n": len(rows),
                      "repeat": args.repeat, "backend": "postgres" if args.db else "sqlite",
                      "median": median, "runs": runs}, indent=1))


if __name__ == "__main__":
    sys.exit(main())
