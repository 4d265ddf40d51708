"""Claims however the ingest ran: the same articles in one run, killed and resumed, and
in two concurrent ingests, through the real entry point (`sourcetrace ingest`).

1. Writes the first ``--n`` PolNeAR train articles that mention ``--about`` (default
   Paris: 62 articles of 7 outlets), each in ``--versions`` versions (default 3: the
   story and two republished copies with one sentence added, under other outlets, as
   syndication gives, so that many claims match), as JSON lines (a temporary folder;
   nothing is written into the repository), and the two halves of that file.
2. ``one run``: `sourcetrace ingest articles.jsonl --db one.db`.
3. ``killed + resumed``: the same into a second store, SIGKILL once the store holds
   ``--kill-at`` articles (whatever it was doing: analysing, storing, matching), then
   the same command again to the end.
4. ``two at once``: two `sourcetrace ingest` processes started together into a third
   store, one with each half of the file.

For each store: articles, articles left without claims right after the run (and after
the kill), claims, matches, syndication copies and clusters in two or more outlets;
then whether its claims, matches and copies are the same as the one run's, compared by
content (article content hash and place of the claim in it), since article ids differ
between runs. Analyses that differ from the one run's are counted too, to tell the
pipeline's own variation from the claims'.

    nice -n 5 .venv/bin/python bench/bench_claims_runs.py --n 60 --kill-at 25 [--about Paris]
    nice -n 5 .venv/bin/python bench/bench_claims_runs.py --src /path/to/other/src   # another tree
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POLNEAR = ROOT.parent / "shared" / "data" / "polnear"


def write_inputs(folder: Path, n: int, about: str, versions: int) -> tuple[Path, Path, Path]:
    rows: list[str] = []
    with (POLNEAR / "train.jsonl").open(encoding="utf-8") as f:
        for line in f:
            if len(rows) >= n:
                break
            r = json.loads(line)
            if about.lower() not in r["text"].lower():
                continue
            for v in range(versions):   # a story and its republished copies
                if len(rows) < n:
                    extra = f"\n\nThis story was republished by partner site {v}." if v else ""
                    rows.append(json.dumps({
                        "id": f"{r['id']}-{v}", "text": r["text"] + extra, "title": r["title"],
                        "date": r["date"],
                        "outlet": r["publisher"] + (f"-partner{v}" if v else "")}))
    paths = folder / "articles.jsonl", folder / "a.jsonl", folder / "b.jsonl"
    for path, part in zip(paths, (rows, rows[: n // 2], rows[n // 2:])):
        path.write_text("\n".join(part) + "\n", encoding="utf-8")
    return paths


def command(inputs: Path, db: str) -> list[str]:
    return [sys.executable, "-m", "sourcetrace", "ingest", str(inputs), "--db", db]


def env(src: Path | None) -> dict:
    e = dict(os.environ)
    if src is not None:
        e["PYTHONPATH"] = str(src)
    return e


def count(db: str) -> int:
    import sqlite3

    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as c:
            return c.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.Error:
        return 0


def pending(db: str) -> int:
    import sqlite3

    with sqlite3.connect(db) as c:
        return c.execute("SELECT count(*) FROM articles WHERE id NOT IN "
                         "(SELECT article_id FROM claim_batches)").fetchone()[0]


def _digest(analysis_json: str) -> str:
    """The analysis without its meta (which names the input file)."""
    data = json.loads(analysis_json)
    data.pop("meta", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def contents(db: str) -> dict:
    """The claims, matches, copies and analyses of a store, keyed by content."""
    import sqlite3

    with sqlite3.connect(db) as c:
        article = dict(c.execute("SELECT id, content_hash FROM articles"))
        analysis = {h: _digest(a) for h, a in
                    c.execute("SELECT content_hash, analysis FROM articles")}
        batch_of = {seq: aid for seq, aid in c.execute("SELECT seq, article_id FROM claim_batches")}
        key = {cid: (article[batch_of[b]], pos) for cid, b, pos in
               c.execute("SELECT id, batch, pos FROM claims")}
        claims = {(key[cid], json.loads(data)["text"]) for cid, data in
                  c.execute("SELECT id, data FROM claims")}
        matches = {frozenset((key[a], key[b])) for a, b in
                   c.execute("SELECT claim_id, other_id FROM claim_matches")}
        copies = {frozenset((article[a], article[int(o)])) for a, cs in
                  c.execute("SELECT article_id, copies FROM claim_batches") for o in json.loads(cs)}
    return {"articles": len(article), "claims": claims, "matches": matches, "copies": copies,
            "analysis": analysis}


def clusters(db: str, src: Path | None) -> int:
    code = ("import sys; from sourcetrace.corpus.store import open_store; "
            "from sourcetrace.crossoutlet.corroboration import CrossOutlet; "
            "s = open_store(sys.argv[1]); x = CrossOutlet(embedder=object()); x.load_store(s); "
            "print(len(x.clusters(min_outlets=2)))")
    out = subprocess.run([sys.executable, "-c", code, db], capture_output=True, text=True,
                         env=env(src), timeout=600)
    return int(out.stdout.strip() or -1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=60, help="PolNeAR train articles")
    ap.add_argument("--about", default="Paris",
                    help="only articles whose text has this word (one story across outlets, "
                         "so that claims match)")
    ap.add_argument("--versions", type=int, default=3,
                    help="each story this many times: itself and republished copies (one "
                         "sentence added, another outlet), as syndication gives")
    ap.add_argument("--kill-at", type=int, default=25,
                    help="kill the second run once the store holds this many articles")
    ap.add_argument("--src", type=Path, default=None,
                    help="run sourcetrace from this source tree (PYTHONPATH)")
    args = ap.parse_args()
    if not (POLNEAR / "train.jsonl").exists():
        raise SystemExit(f"{POLNEAR / 'train.jsonl'} is absent: this bench reads ../shared")

    rows: list[tuple[str, dict, dict]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        whole, first, second = write_inputs(folder, args.n, args.about, args.versions)
        e = env(args.src)

        db = str(folder / "one.db")
        t = time.perf_counter()
        subprocess.run(command(whole, db), env=e, check=True, capture_output=True, timeout=3600)
        one_seconds = time.perf_counter() - t
        extra = {"seconds": one_seconds, "pending after": pending(db)}
        one = contents(db)
        rows.append(("one run", one, {**extra, "clusters": clusters(db, args.src)}))

        db = str(folder / "killed.db")
        t = time.perf_counter()
        proc = subprocess.Popen(command(whole, db), env=e, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        while proc.poll() is None and count(db) < args.kill_at:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed_at, pending_at_kill = count(db), pending(db)
        subprocess.run(command(whole, db), env=e, check=True, capture_output=True, timeout=3600)
        extra = {"seconds": time.perf_counter() - t, "pending after": pending(db),
                 "killed at": killed_at, "pending at kill": pending_at_kill}
        rows.append(("killed + resumed", contents(db), {**extra, "clusters": clusters(db, args.src)}))

        db = str(folder / "both.db")
        t = time.perf_counter()
        procs = [subprocess.Popen(command(part, db), env=e, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE) for part in (first, second)]
        codes = [p.wait(timeout=3600) for p in procs]
        if any(codes):
            raise SystemExit(f"a concurrent ingest failed: "
                             f"{[p.stderr.read().decode()[-500:] for p in procs]}")
        extra = {"seconds": time.perf_counter() - t, "pending after": pending(db)}
        rows.append(("two at once", contents(db), {**extra, "clusters": clusters(db, args.src)}))

    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; the first {args.n} PolNeAR "
          f"train articles about {args.about!r} ({args.versions} versions of each story), "
          f"kill at {args.kill_at}")
    print("| ingest | articles | left without claims | claims | matches | copies | clusters "
          "(2+ outlets) | same claims / matches / copies as one run | analyses differing | "
          "seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, c, extra in rows:
        same = "/".join("yes" if c[k] == one[k] else "NO" for k in ("claims", "matches", "copies"))
        differing = sum(1 for h, a in c["analysis"].items() if one["analysis"].get(h) != a)
        left = str(extra["pending after"])
        if "killed at" in extra:
            left = f"{extra['pending at kill']} at the kill ({extra['killed at']} stored), {left} after"
        print(f"| {name} | {c['articles']} | {left} | {len(c['claims'])} | {len(c['matches'])} | "
              f"{len(c['copies'])} | {extra['clusters']} | {same} | {differing} | "
              f"{extra['seconds']:.0f} |")
    for name, c, _ in rows[1:]:
        only_one = len(one["matches"] - c["matches"])
        only_this = len(c["matches"] - one["matches"])
        if only_one or only_this:
            print(f"\n{name}: {only_one} matches only in the one run, {only_this} only here")


if __name__ == "__main__":
    main()
