"""Scale of claim matching: embedding rate, index build and query time, memory.

Vectors: the first ``--real`` PolNeAR attribution contents embedded with the
packaged model (from ../shared), then synthetic vectors to reach each size:
each synthetic vector is a real one plus Gaussian noise (sigma 0.05 per
dimension before renormalising, cosine about 0.7 to its parent), so the
neighbourhood structure resembles real claims without being copies.

Times are given as wall clock and as CPU time of this process (hnswlib runs on
one thread here): on a shared machine the CPU time is the steadier figure.

For each size (10k, 30k, 100k by default) it reports the time to build the
index incrementally in batches of 1,000 (as articles arrive), the resident
memory it added, the time of 1,000 queries for 20 neighbours, and the recall@10
of the HNSW search against exact search on 200 queries.

    nice -n 10 .venv/bin/python bench/bench_match.py            # JSON on stdout

``--factchecks N``: ranked retrieval at scale. The 10,375 CLEF 2020 fact-checks (../shared) are
imported into a fresh SQLite store (their vectors embedded once and cached under
~/.cache/sourcetrace-bench), and ``sourcetrace factchecks match`` runs on N queries (the CLEF
dev tweets, then train tweets) in a fresh process: wall and CPU time of the whole command,
Python start, model loading and the store's first full-text indexing included.

    nice -n 5 .venv/bin/python bench/bench_match.py --factchecks 200
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
POLNEAR = ROOT.parent / "shared" / "data" / "polnear"


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def real_texts(limit: int) -> list[str]:
    texts = []
    for name in ("train.jsonl", "dev.jsonl"):
        with (POLNEAR / name).open(encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                for a in r["attributions"]:
                    t = " ".join(r["text"][s:e].strip() for s, e in sorted(a["content"]))
                    if len(t.split()) >= 4:
                        texts.append(t)
    return texts[:limit]


def synthetic(base: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    parents = base[rng.integers(0, len(base), size=n)]
    out = parents + rng.normal(0, 0.05, size=parents.shape).astype(np.float32)
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def bench_factchecks(n: int) -> dict:
    import resource
    import subprocess
    import tempfile

    sys.path.insert(0, str(ROOT / "bench"))
    import eval_match as em

    from sourcetrace.corpus.store import open_store
    from sourcetrace.crossoutlet.embed import get_embedder
    from sourcetrace.crossoutlet.factchecks import FactCheck

    rp = em._clef()
    collection = em.clef_collection(get_embedder())       # cached vectors
    vclaims = rp.read_vclaims()
    queries = []
    for split in ("dev", "train"):
        q, _ = rp.read_clef(split)
        queries += [{"id": f"{split}-{k}", "text": v} for k, v in q.items()]
    queries = queries[:n]
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "factchecks.db")
        with open_store(db) as store:
            rows = []
            for vid in collection.index.ids():
                fc = FactCheck(vclaims[vid]["claim"], "n/a", "Snopes", None,
                               f"https://clef2020.example/{vid}")
                rows.append((fc.id, json.dumps(fc.to_dict()),
                             collection.index.vector(vid).astype(np.float16).tobytes()))
            store.add_factchecks(rows)
        qpath = Path(tmp) / "q.jsonl"
        qpath.write_text("".join(json.dumps(q) + "\n" for q in queries), encoding="utf-8")
        cmd = [str(Path(sys.executable).parent / "sourcetrace"), "factchecks", "match", str(qpath),
               "--db", db, "--top", "5", "-o", str(Path(tmp) / "out.jsonl")]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise SystemExit(done.stderr)
        out = [json.loads(x) for x in (Path(tmp) / "out.jsonl").read_text().splitlines()]
    return {"factchecks": len(rows), "queries": len(queries), "wall_s": round(wall, 1),
            "cpu_s": round((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), 1),
            "confirmed": sum(r["verdict"] == "same" for r in out),
            "load_average": os.getloadavg()[0], "stderr": done.stderr.strip()[-200:]}


def main(argv: list[str] | None = None) -> int:
    from sourcetrace.crossoutlet.embed import get_embedder
    from sourcetrace.crossoutlet.match import ClaimIndex, MatchOptions

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=int, default=2000, help="real claims to embed")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000, 100_000])
    parser.add_argument("--factchecks", type=int, default=0, metavar="N",
                        help="time `factchecks match` of N queries against the CLEF fact-checks")
    args = parser.parse_args(argv)
    if args.factchecks:
        print(json.dumps({"factchecks_match": bench_factchecks(args.factchecks)}, indent=1))
        return 0
    if not POLNEAR.exists():
        print(f"{POLNEAR} is absent: this benchmark reads PolNeAR from ../shared", file=sys.stderr)
        return 2
    rng = np.random.default_rng(0)
    texts = real_texts(args.real)
    embedder = get_embedder()
    embedder.encode(texts[:32])
    t, c = time.perf_counter(), time.process_time()
    real = embedder.encode(texts)
    embed_s, embed_cpu = time.perf_counter() - t, time.process_time() - c
    out = {"real_claims": len(texts), "embed_sentences_per_s": round(len(texts) / embed_s, 1),
           "embed_sentences_per_cpu_s": round(len(texts) / embed_cpu, 1),
           "load_average": os.getloadavg()[0],
           "mean_words": round(float(np.mean([len(x.split()) for x in texts])), 1),
           "sizes": []}
    options = MatchOptions()
    for size in args.sizes:
        vectors = np.vstack([real, synthetic(real, max(0, size - len(real)), rng)])[:size]
        ids = [f"c{i}" for i in range(size)]
        gc.collect()
        before = rss_mb()
        index = ClaimIndex(options=options)
        t, c = time.perf_counter(), time.process_time()
        for b in range(0, size, 1000):
            index.add(ids[b:b + 1000], vectors[b:b + 1000])
        build_s, build_cpu = time.perf_counter() - t, time.process_time() - c
        added_mb = rss_mb() - before
        queries = vectors[rng.integers(0, size, size=1000)]
        t, c = time.perf_counter(), time.process_time()
        for q in queries:                       # one at a time, as a trace query would
            index.search(q, options.neighbours)
        query_ms = (time.perf_counter() - t) / len(queries) * 1000
        query_cpu_ms = (time.process_time() - c) / len(queries) * 1000
        t = time.perf_counter()
        index.search(queries, options.neighbours)
        batch_ms = (time.perf_counter() - t) / len(queries) * 1000
        # recall@10 against exact cosine, and recall of what matching needs: every
        # neighbour at or above min_cosine among the ``neighbours`` returned
        sample = queries[:200]
        sims = sample @ vectors.T
        exact = np.argsort(-sims, axis=1)[:, :10]
        approx = index.search(sample, 10)
        hits = sum(len({f"c{j}" for j in exact[r]} & {cid for cid, _ in approx[r]})
                   for r in range(len(sample)))
        wide = index.search(sample, options.neighbours)
        need = found_close = 0
        for r in range(len(sample)):
            close = {f"c{j}" for j in np.nonzero(sims[r] >= options.min_cosine)[0]}
            top = np.argsort(-sims[r])[:options.neighbours]
            close &= {f"c{j}" for j in top}
            need += len(close)
            found_close += len(close & {cid for cid, _ in wide[r]})
        out["sizes"].append({
            "claims": size, "build_s": round(build_s, 2), "build_cpu_s": round(build_cpu, 2),
            "build_per_1k_s": round(build_s / size * 1000, 3),
            "rss_added_mb": round(added_mb, 1),
            "vector_bytes_mb": round(vectors.nbytes / 2**20, 1),
            "query_ms": round(query_ms, 3), "query_cpu_ms": round(query_cpu_ms, 3),
            "batch_query_ms": round(batch_ms, 3),
            "recall_at_10": round(hits / (10 * len(sample)), 4),
            "recall_of_candidates_above_min_cosine": round(found_close / need, 4) if need else None,
        })
        out["sizes"][-1]["load_average"] = os.getloadavg()[0]
        del index
        gc.collect()
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
