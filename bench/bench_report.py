"""The outlet report on a large store: seconds per report on 1,000 to 10,000 articles.

Builds synthetic corpora (no model: articles of 5-40 attributions with random speakers,
identities, kinds, nesting and check-worthy statements, each with its real sourcing
profile from ``sources.profile.build_profile``) in SQLite (and in PostgreSQL when
SOURCETRACE_TEST_POSTGRES holds a DSN, in a schema of its own, dropped afterwards),
then times ``corpus.report.build_report`` by outlet, by outlet and month and by week
(best of ``--repeat`` runs, wall time, the store already open), and the HTML charts once.
The report is a fixed number of GROUP BY queries over the store's views, so its time
grows with the rows scanned, not with Python work per row.

    .venv/bin/python bench/bench_report.py                    # 1k, 3k, 10k articles, SQLite
    .venv/bin/python bench/bench_report.py --sizes 10000 --repeat 5
    .venv/bin/python bench/bench_report.py --polnear DB       # acceptance on an ingested dev set

``--polnear DB`` checks a store holding the 84 PolNeAR dev articles (``sourcetrace ingest
../shared/data/polnear/dev.jsonl --db DB``): groups, article counts, identity shares, the
outlet,month CSV read by pandas.

``--shares DB`` prints the two figures a researcher quotes first, over all the store's
articles: the share of articles with a hearsay chain and the share of attributions to named
sources, each with its n and 95% interval, for every act at any confidence and for the
default selection; ``--shares-json FILE`` reads the same two figures from a saved
``sourcetrace report -f json`` (a report made by an earlier version: the measure before).
``--sample DB --out-chains F --out-named F`` writes 50 reported chains and 50 attributions
counted named (seeded) for a hand check: ids, offsets and hashes only, never text.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

from sourcetrace.corpus import report as reports
from sourcetrace.corpus.store import ArticleRecord
from sourcetrace.model import Analysis, Assertion, Attribution, Source, Span
from sourcetrace.sources.profile import build_profile

IDENTITIES = ("named", "named", "named", "described", "described", "anonymous", "unspecified")
KINDS = ("person", "official", "organization", "media", "document", "social", None)
QUOTES = ("direct", "indirect", "mixed")


def synthetic(n: int, seed: int = 7) -> list[ArticleRecord]:
    """``n`` articles over 20 outlets and 24 months, each with a real profile; source names
    come from a pool of 5,000 (a few dozen very common, as in news)."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        parts, atts, sources = [], [], []
        pos = 0
        for j in range(rnd.randint(5, 40)):
            if j == 0 or rnd.random() < 0.6:   # names from a pool of 5,000, a few very common
                pick = min(int(rnd.paretovariate(1.2)) - 1, 4999)
                name = f"Speaker {pick}" if pick < 50 else f"Speaker {rnd.randrange(50, 5000)}"
                if all(name != s[0] for s in sources):
                    sources.append((name, rnd.choice(IDENTITIES), rnd.choice(KINDS)))
            sid = rnd.randrange(len(sources))
            name = sources[sid][0]
            content = f"the plan {i} {j} will cost {rnd.randint(1, 900)} million"
            sentence = f'"{content}," {name} said. '
            q0, s0 = pos + 1, pos + len(content) + 4
            parent = rnd.randrange(j) if j and rnd.random() < 0.15 else None
            atts.append((Span(s0, s0 + len(name)), Span(s0 + len(name) + 1, s0 + len(name) + 5),
                         Span(q0, q0 + len(content)), sid, name, rnd.choice(QUOTES), parent))
            parts.append(sentence)
            pos += len(sentence)
        claims = []
        for k in range(rnd.randint(0, 6)):
            sentence = f"Prices rose {k + 2} percent in region {i}. "
            claims.append(Span(pos, pos + len(sentence) - 1))
            parts.append(sentence)
            pos += len(sentence)
        text = "".join(parts)
        attributions = tuple(
            Attribution(source=(Span.of(text, s.start, s.end),), cue=(Span.of(text, c.start, c.end),),
                        content=(Span.of(text, q.start, q.end),), kind=qk, rule="bench",
                        confidence=0.9, speaker=name, source_id=sid, parent=parent)
            for s, c, q, sid, name, qk, parent in atts)
        srcs = tuple(
            Source(id=sid, name=name, mentions=(Span.of(text, text.index(name),
                                                         text.index(name) + len(name)),),
                   identity=ident, kind=kind,
                   attributions=tuple(k for k, a in enumerate(attributions) if a.source_id == sid))
            for sid, (name, ident, kind) in enumerate(sources) if name in text)
        assertions = tuple(Assertion(Span.of(text, c.start, c.end), "checkworthy") for c in claims)
        a = Analysis(text=text, attributions=attributions, sources=srcs, assertions=assertions,
                     meta={"id": f"syn-{i}"})
        a = a.replace(profile=build_profile(a))
        month = rnd.randrange(24)
        date = f"{2023 + month // 12}-{month % 12 + 1:02d}-{rnd.randint(1, 28):02d}"
        out.append(ArticleRecord(analysis=a, input=f"synthetic:{i}", outlet=f"outlet{i % 20:02d}.com",
                                 date=date, title=f"Article {i}", record_id=f"syn-{i}"))
    return out


def fill(store, records, chunk: int = 500) -> float:
    t = time.perf_counter()
    for k in range(0, len(records), chunk):
        store.add_many(records[k:k + chunk])
    return time.perf_counter() - t


def best(fn, repeat: int) -> tuple[float, float]:
    """(best wall seconds, best CPU seconds of this process) over ``repeat`` runs. The CPU
    time leaves out the database server's work (PostgreSQL runs in its own processes)."""
    walls, cpus = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return min(walls), min(cpus)


CASES = {
    "outlet": {"by": "outlet"},
    "outlet,month": {"by": "outlet,month"},
    "week": {"by": "week"},
    "filtered": {"by": "outlet", "outlets": ["outlet01.com", "outlet02.com"],
                 "since": "2023-04", "until": "2023-09"},
}


def time_store(store, repeat: int) -> dict[str, float]:
    out = {}
    for name, kw in CASES.items():
        out[name], out[name + " cpu"] = best(lambda: reports.build_report(store, **kw), repeat)
    return out


def postgres_store(dsn: str):
    import psycopg
    from psycopg.conninfo import make_conninfo

    from sourcetrace.corpus.store.postgres import PostgresStore

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS sourcetrace_bench_report CASCADE")
        conn.execute("CREATE SCHEMA sourcetrace_bench_report")
    return PostgresStore(make_conninfo(dsn, options="-c search_path=sourcetrace_bench_report"))


def drop_postgres(dsn: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS sourcetrace_bench_report CASCADE")


def polnear(db: str) -> int:
    from sourcetrace.corpus.store import open_store

    with open_store(db) as store:
        r = reports.build_report(store, by="outlet")
        csv_text = reports.render(reports.build_report(store, by="outlet,month"), "csv")
    sums = {g["outlet"]: sum(v["share"] for v in g["identity"].values()) for g in r["groups"]}
    print(f"groups {len(r['groups'])}, articles {sum(g['articles'] for g in r['groups'])}, "
          f"attributions {r['total']['attributions']}")
    for g in r["groups"]:
        print(f"  {g['outlet']:14} articles {g['articles']:3}  identity shares sum "
              f"{sums[g['outlet']]:.12f}  named {g['identity']['named']['share']:.3f} "
              f"[{g['identity']['named']['ci'][0]:.3f}, {g['identity']['named']['ci'][1]:.3f}]  "
              f"transparency mean {g['transparency']['mean']:.1f} median "
              f"{g['transparency']['median']:.1f}")
    try:
        import pandas as pd

        frame = pd.read_csv(io.StringIO(csv_text))
        print(f"outlet,month CSV read by pandas {pd.__version__}: {frame.shape[0]} rows x "
              f"{frame.shape[1]} columns, articles sum {int(frame['articles'].sum())}")
    except ImportError:
        import csv

        rows = list(csv.DictReader(io.StringIO(csv_text)))
        print(f"outlet,month CSV read by the csv module: {len(rows)} rows")
    ok = (len(r["groups"]) == 7 and sum(g["articles"] for g in r["groups"]) == 84
          and all(abs(s - 1) < 1e-9 for s in sums.values()))
    print("acceptance:", "met" if ok else "NOT met")
    return 0 if ok else 1


def _pooled(report: dict) -> dict:
    """Articles with a chain and named attributions summed over the report's groups."""
    arts = sum(g["articles"] for g in report["groups"])
    chained = sum(g["hearsay"]["articles_with_chains"]["count"] for g in report["groups"])
    atts = sum(g["attributions"]["count"] for g in report["groups"])
    named = sum(g["identity"]["named"]["count"] for g in report["groups"])
    def fig(c, n):
        lo, hi = reports.wilson(c, n)
        return f"{c}/{n} = {c / n:.3f} [{lo:.3f}, {hi:.3f}]"
    return {"articles with a hearsay chain": fig(chained, arts),
            "attributions to named sources": fig(named, atts)}


def shares(db: str | None, saved: str | None) -> int:
    if saved:
        r = json.load(open(saved, encoding="utf-8"))
        print(f"{saved} (counted: {(r.get('counted') or {}).get('describe', 'every attribution, as reported before --acts')})")
        for k, v in _pooled(r).items():
            print(f"  {k}: {v}")
        return 0
    from sourcetrace.corpus.counted import ALL, DEFAULT_SELECTION
    from sourcetrace.corpus.store import open_store

    with open_store(db) as store:
        for sel in (ALL, DEFAULT_SELECTION):
            r = reports.build_report(store, by="outlet", selection=sel)
            print(f"{db} ({sel.describe()})")
            for k, v in _pooled(r).items():
                print(f"  {k}: {v}")
    return 0


def sample(db: str, out_chains: str, out_named: str, n: int = 50, seed: int = 21) -> int:
    """50 reported relay links (parent voice -> child voice, every act counted: the
    widest set) and 50 attributions counted named (default selection), for a hand check."""
    import hashlib

    from sourcetrace.corpus.counted import ALL, DEFAULT_SELECTION
    from sourcetrace.corpus.store import open_store
    from sourcetrace.sources.entities import corpus_identity

    def h(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    rnd = random.Random(seed)
    links, named = [], []
    with open_store(db) as store:
        keys = {int(r[0]): r[1] for r in store.read_sql("SELECT id, key FROM entities")}
        for a in store.iter_articles():
            ents = {int(r[0]): r[1] for r in store.read_sql(
                "SELECT idx, entity_id FROM sources WHERE article_id = ?", [a.id])}
            an = a.analysis
            for i, att in enumerate(an.attributions):
                src = an.source_of(att)
                key = keys.get(ents.get(att.source_id)) if att.source_id is not None else None
                ident = corpus_identity(src.name, src.identity, key) if src else "unspecified"
                if att.parent is not None and 0 <= att.parent < len(an.attributions):
                    par = an.attributions[att.parent]
                    psrc = an.source_of(par)
                    pkey = keys.get(ents.get(par.source_id)) if par.source_id is not None else None
                    pid = corpus_identity(psrc.name, psrc.identity, pkey) if psrc else "unspecified"
                    pv = ents.get(par.source_id) if par.source_id is not None else None
                    cv = ents.get(att.source_id) if att.source_id is not None else None
                    relay = (pid not in ("unspecified", "author") and ident != "unspecified"
                             and pv != cv and not (ident == "author"))
                    if relay and ALL.keeps(att.act, att.confidence):
                        links.append({"record_id": a.record_id, "article_id": a.id, "child": i,
                                      "parent": att.parent,
                                      "parent_source": [s.start for s in par.source][:1] + [s.end for s in par.source][-1:],
                                      "child_source": [s.start for s in att.source][:1] + [s.end for s in att.source][-1:],
                                      "parent_hash": h(an.span_text(par.source)),
                                      "child_hash": h(an.span_text(att.source))})
                if ident == "named" and DEFAULT_SELECTION.keeps(att.act, att.confidence) and att.source:
                    named.append({"record_id": a.record_id, "article_id": a.id, "attribution": i,
                                  "source": [att.source[0].start, att.source[-1].end],
                                  "source_hash": h(an.span_text(att.source)),
                                  "entity_key_hash": h(key or "")})
    for rows, path in ((links, out_chains), (named, out_named)):
        picked = rnd.sample(rows, min(n, len(rows)))
        picked.sort(key=lambda x: (x["article_id"], x.get("child", x.get("attribution"))))
        with open(path, "w", encoding="utf-8") as f:
            for x in picked:
                f.write(json.dumps({**x, "label": None}) + "\n")
        print(f"{path}: {len(picked)} of {len(rows)}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shares", metavar="DB")
    ap.add_argument("--shares-json", metavar="FILE")
    ap.add_argument("--sample", metavar="DB")
    ap.add_argument("--out-chains", default="bench/labels/report_chains.jsonl")
    ap.add_argument("--out-named", default="bench/labels/report_named.jsonl")
    ap.add_argument("--sizes", default="1000,3000,10000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--polnear", metavar="DB")
    args = ap.parse_args()
    if args.shares or args.shares_json:
        return shares(args.shares, args.shares_json)
    if args.sample:
        return sample(args.sample, args.out_chains, args.out_named)
    if args.polnear:
        return polnear(args.polnear)
    from sourcetrace.corpus.store.sqlite import SqliteStore

    sizes = [int(s) for s in args.sizes.split(",")]
    dsn = os.environ.get("SOURCETRACE_TEST_POSTGRES")
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores; Python {platform.python_version()}; best of {args.repeat}; "
          f"load average {os.getloadavg()[0]:.1f}")
    t = time.perf_counter()
    records = synthetic(max(sizes))
    print(f"synthetic corpus: {len(records):,} articles, "
          f"{sum(len(r.analysis.attributions) for r in records):,} attributions "
          f"({time.perf_counter() - t:.0f}s to build)")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            backends = [("sqlite", lambda: SqliteStore(os.path.join(tmp, f"r{n}.db")))]
            if dsn:
                backends.append(("postgres", lambda: postgres_store(dsn)))
            for name, opener in backends:
                store = opener()
                load = fill(store, records[:n])
                timings = time_store(store, args.repeat)
                if name == "sqlite" and n == max(sizes):
                    r = reports.build_report(store)
                    t0 = time.perf_counter()
                    try:
                        reports.render(r, "html", reports.time_report(store, r))
                        timings["html (report + charts)"] = time.perf_counter() - t0
                    except Exception as exc:  # matplotlib missing
                        print(f"html skipped: {exc}")
                store.close()
                if name == "postgres":
                    drop_postgres(dsn)
                results.append({"backend": name, "articles": n, "load_s": load, **timings})
                print(json.dumps(results[-1]))
    print("\nseconds, wall (CPU of this process)")
    print("| backend | articles | by outlet | by outlet,month | by week | 2 outlets, 6 months |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['backend']} | {r['articles']:,} | "
              + " | ".join(f"{r[c]:.3f} ({r[c + ' cpu']:.3f})" for c in CASES) + " |")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
