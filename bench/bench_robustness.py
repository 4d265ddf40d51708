#!/usr/bin/env python3
"""Never lose the corpus: the data-loss probes of issue 24, rerun as a user would.

    python bench/bench_robustness.py [--markdown] [--keep DIR]
    PYTHONPATH=/tmp/before/src python bench/bench_robustness.py   # the same probes on another tree

Every probe runs ``python -m sourcetrace ...`` in a child process (the rules only, so that
a probe takes seconds), except the sweeps, which call the readers (``inputs.collect``) on
many damaged inputs. Each row says what was tried, what a careful tool must do, what
happened and whether that is right:

- overwrite: every command that writes, aimed at the corpus (its file, its -wal, a link to
  it), at its own input, or at an existing file without --force; the corpus and the input
  must keep every byte;
- surrogates: 12 JSON lines, 3 with a lone surrogate (a JSON ``\\udc80`` escape) in title,
  author, an unknown key / outlet, date / id, url: ingest must store all 12 (or the 9 good
  ones) with no exit 70, extract must write 12 lines, ``analyze rec.json -o out.json`` a
  valid out.json;
- one-line feed HTML: a feed item whose content is ``<p>..</p><p>..</p>`` on one line must
  be stored as text without tags;
- WARC: a plain .warc with its middle record cut at 40 points (headers and body): the
  records before and after must be read and the cut one listed;
- CSV: rows with a quote left open or closed mid-field: no good row lost, no fragment
  stored, the bad row listed;
- Latin-1: 300 short Western texts in Latin-1 (charset-normalizer alone reads some as Big5
  or Baltic code pages): read right, or refused, never another script;
- links: a folder with links to a file and a folder outside it;
- 0-byte corpus: read commands on an empty --db must leave it empty;
- missing input: ``ingest missing.jsonl --db new.db`` exits 2 and makes no new.db;
- read-only: a corpus in a folder neither it nor its folder writable (as user nobody when
  run as root, where that user can run the package) must be searchable;
- disk full: ingest onto a 300 KB tmpfs (needs root and mount; skipped otherwise) must say
  "disk full".
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
try:   # the installed package (PYTHONPATH=... runs the probes on another tree), else ours
    import sourcetrace  # noqa: F401
except ImportError:
    sys.path.insert(0, str(ROOT / "src"))

TEXT = ("The mayor told reporters on Tuesday that the budget for district {n} would be "
        "balanced by the end of the year. \u201cWe will not raise taxes,\u201d she said, "
        "adding that the council had found savings in transport and housing. ")
ROWS: list[tuple[str, str, str, str, bool]] = []   # probe, case, expected, got, ok


def sourcetrace(*args: str, cwd: Path, preexec=None, timeout: float = 600
                ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sourcetrace", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, preexec_fn=preexec)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def row(probe: str, case: str, expected: str, got: str, ok: bool) -> None:
    ROWS.append((probe, case, expected, got, ok))
    print(f"{'ok ' if ok else 'BAD'} {probe}: {case}: {got}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- probes

def overwrite(d: Path) -> None:
    records = d / "in.jsonl"
    records.write_text("".join(json.dumps({"id": f"r{i}", "text": TEXT.format(n=i)}) + "\n"
                               for i in range(3)), encoding="utf-8")
    (d / "a.txt").write_text(TEXT.format(n=9), encoding="utf-8")
    (d / "mine.txt").write_text("mine\n", encoding="utf-8")
    done = sourcetrace("ingest", "in.jsonl", "--db", "c.db", "--rules-only", "--no-progress",
                       cwd=d)
    assert done.returncode == 0, done.stderr
    (d / "link.json").symlink_to("c.db")
    attempts = [
        ("export", "--db", "c.db", "-o", "c.db", "--force"),
        ("export", "--db", "c.db", "-o", "c.db-wal", "--force"),
        ("export", "--db", "c.db", "-o", "link.json", "--force"),
        ("report", "--db", "c.db", "-o", "c.db"),
        ("report", "--db", "c.db", "-o", "c.db", "--force"),
        ("report", "--db", "c.db", "-o", "mine.txt"),
        ("corrections", "export", "--article", "1", "--db", "c.db", "-o", "c.db"),
        ("corrections", "export", "a.txt", "-o", "a.txt", "--rules-only"),
        ("analyze", "a.txt", "-o", "a.txt", "--force", "--rules-only"),
        ("analyze", "a.txt", "-o", "c.db", "--force", "--rules-only"),
        ("extract", "in.jsonl", "-o", "in.jsonl", "--force", "--rules-only"),
        ("train", "--data", "in.jsonl", "-o", "in.jsonl"),
    ]
    names = ("c.db", "in.jsonl", "a.txt", "mine.txt")
    pristine = {p: (d / p).read_bytes() for p in names}
    kept = {p: digest(d / p) for p in names}
    for args in attempts:   # each attempt on the files as they were at first
        for p, data in pristine.items():
            (d / p).write_bytes(data)
        for side in ("c.db-wal", "c.db-shm"):
            (d / side).unlink(missing_ok=True)
        result = sourcetrace(*args, cwd=d)
        same = {p: digest(d / p) for p in kept} == kept
        row("overwrite", " ".join(args), "refused (exit 2), nothing changed",
            f"exit {result.returncode}, files {'unchanged' if same else 'CHANGED'}",
            result.returncode == 2 and same)


def surrogates(d: Path) -> None:
    fields = ("title", "outlet", "id", "author", "date", "url", "extra\udc80")
    bad = (2, 5, 9)
    with open(d / "s.jsonl", "w", encoding="ascii") as f:
        for i in range(12):
            r = {"id": f"r{i}", "title": f"Title {i}", "text": TEXT.format(n=i)}
            if i in bad:
                for k in fields[bad.index(i) % 3::3]:
                    r[k] = str(r.get(k) or "v") + "\udc80"
            f.write(json.dumps(r) + "\n")
    result = sourcetrace("ingest", "s.jsonl", "--db", "s.db", "--rules-only", "--no-progress",
                         cwd=d)
    stored = sqlite3.connect(d / "s.db").execute("SELECT count(*) FROM articles").fetchone()[0] \
        if (d / "s.db").exists() else 0
    row("surrogates", "ingest, 12 records, 3 with surrogates", "exit 0, 12 (or 9) stored",
        f"exit {result.returncode}, {stored} stored", result.returncode == 0 and stored >= 9)
    result = sourcetrace("extract", "s.jsonl", "-o", "spans.jsonl", "--rules-only", cwd=d)
    lines = len((d / "spans.jsonl").read_text(encoding="utf-8").splitlines()) \
        if (d / "spans.jsonl").exists() else 0
    row("surrogates", "extract", "exit 0, 12 lines", f"exit {result.returncode}, {lines} lines",
        result.returncode == 0 and lines == 12)
    (d / "rec.json").write_text((d / "s.jsonl").read_text(encoding="ascii").splitlines()[2],
                                encoding="ascii")
    result = sourcetrace("analyze", "rec.json", "-o", "out.json", "-f", "json", "--rules-only",
                         cwd=d)
    try:
        valid = bool(json.loads((d / "out.json").read_text(encoding="utf-8"))["attributions"])
    except (OSError, ValueError, KeyError):
        valid = False
    row("surrogates", "analyze rec.json -o out.json", "exit 0, a valid out.json",
        f"exit {result.returncode}, out.json {'valid' if valid else 'missing or invalid'}",
        result.returncode == 0 and valid)


def feed(d: Path) -> None:
    def body(n: int) -> str:
        return "".join(f"<p>{TEXT.format(n=n + i)}</p>" for i in range(2))

    items = [f"<content:encoded><![CDATA[{body(0)}]]></content:encoded>",
             "<description>" + body(10).replace("<", "&lt;").replace(">", "&gt;")
             + "</description>",
             "<description>" + TEXT.format(n=30) + " &lt;b&gt;bold&lt;/b&gt; words</description>"]
    (d / "f.rss").write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:content='
        '"http://purl.org/rss/1.0/modules/content/"><channel><title>T</title>'
        + "".join(f"<item><title>I{n}</title><guid>g{n}</guid>{it}</item>"
                  for n, it in enumerate(items)) + "</channel></rss>", encoding="utf-8")
    result = sourcetrace("ingest", "f.rss", "--db", "f.db", "--rules-only", "--no-progress",
                         cwd=d)
    texts = [r[0] for r in sqlite3.connect(d / "f.db").execute("SELECT text FROM articles")]
    tagged = sum(1 for t in texts if "<" in t or ">" in t)
    row("feed HTML on one line", "content:encoded, description, inline markup",
        "3 stored, 0 with tags", f"exit {result.returncode}, {len(texts)} stored, {tagged} with "
        "tags", result.returncode == 0 and len(texts) == 3 and tagged == 0)


def warc(d: Path) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from sourcetrace.inputs.collect import Collected, collect

    html = ("<html><head><title>T{i}</title></head><body><article><h1>Bridge {i}</h1><p>"
            + TEXT + "</p><p>Traffic will return to normal next week, officials said."
            "</p></article></body></html>")
    recs = []
    for i in range(3):
        b = io.BytesIO()
        w = WARCWriter(b, gzip=False)
        h = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        w.write_record(w.create_warc_record(f"https://n.example.com/{i}", "response",
                                            payload=io.BytesIO(html.format(i=i, n=i).encode()),
                                            http_headers=h))
        recs.append(b.getvalue())
    good = 0
    cuts = [int(len(recs[1]) * k / 41) for k in range(1, 41)]
    for cut in cuts:
        p = d / "cut.warc"
        p.write_bytes(recs[0] + recs[1][:cut] + recs[2])
        got = list(collect([str(p)]))
        urls = [g.document.meta.get("url") for g in got if isinstance(g, Collected)]
        listed = [g for g in got if not isinstance(g, Collected)]
        good += urls == ["https://n.example.com/0", "https://n.example.com/2"] and len(listed) == 1
    row("WARC", f"plain .warc, middle record cut at {len(cuts)} points",
        "records 1 and 3 read, the cut one listed, every time", f"{good} of {len(cuts)}",
        good == len(cuts))


def csv_rows(d: Path) -> None:
    from sourcetrace.inputs.collect import Collected, collect

    text = ("The mayor told reporters on Tuesday that the budget for district {n} would be "
            "balanced by the end of the year, officials said on Monday.")
    variants = {"quote closed mid-field": 'r2,"Broken title,"{t}',
                "title quote never closed": 'r2,"Broken title,{t}',
                "text quote never closed": 'r2,Title 2,"{t}',
                "a field too many": 'r2,Title 2,{t},extra'}
    for name, broken in variants.items():
        lines = ["id,title,text"] + [broken.format(t=text.format(n=i)) if i == 2 else
                                     f'r{i},Title {i},"{text.format(n=i)}"' for i in range(6)]
        p = d / "q.csv"
        p.write_text("\n".join(lines) + "\n", encoding="utf-8")
        got = list(collect([str(p)]))
        texts = [g.document.text for g in got if isinstance(g, Collected)]
        wanted = [text.format(n=i) for i in (0, 1, 3, 4, 5)]
        kept = sum(t in wanted for t in texts)
        fragments = sum(t not in wanted for t in texts)
        listed = [g.input.rsplit(":", 1)[-1] for g in got if not isinstance(g, Collected)]
        row("CSV", name, "5 good rows kept, 0 fragments, row 4 listed",
            f"{kept} kept, {fragments} fragments, listed {listed}",
            kept == 5 and fragments == 0 and listed == ["4"])


def latin1(d: Path) -> None:
    from charset_normalizer import from_bytes

    from sourcetrace.errors import EncodingError
    from sourcetrace.inputs.read import decode

    rng = random.Random(24)
    words = ("the mayor said café naïve año señor niño über straße façade déjà müller zürich "
             "été élève côte crème brûlée").split()
    right = refused = wrong = detector_wrong = 0
    for _ in range(300):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(3, 40)))
        data = text.encode("latin-1")
        best = from_bytes(data).best()
        detector_wrong += best is None or str(best) != text
        try:
            got, _ = decode(data)
        except EncodingError:
            refused += 1
            continue
        if got == text:
            right += 1
        else:
            wrong += 1
    row("Latin-1", "300 short Western texts", "read right or refused, none read wrong",
        f"{right} right, {refused} refused, {wrong} wrong (charset-normalizer alone: "
        f"{detector_wrong} wrong)", wrong == 0)


def links(d: Path) -> None:
    folder, outside = d / "folder", d / "outside"
    folder.mkdir()
    outside.mkdir()
    (folder / "a.txt").write_text(TEXT.format(n=1), encoding="utf-8")
    (outside / "secret.txt").write_text(TEXT.format(n=2), encoding="utf-8")
    (folder / "link.txt").symlink_to(outside / "secret.txt")
    (folder / "dir").symlink_to(outside)
    result = sourcetrace("ingest", "folder", "--db", "l.db", "--rules-only", "--no-progress",
                         cwd=d)
    db = sqlite3.connect(d / "l.db")
    stored = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    listed = db.execute("SELECT count(*) FROM failures WHERE code = 'skipped_link'").fetchone()[0]
    row("links", "folder with links to a file and a folder outside it",
        "1 stored, 2 links listed, none followed",
        f"exit {result.returncode}, {stored} stored, {listed} listed", stored == 1 and listed == 2)


def empty_corpus(d: Path) -> None:
    (d / "empty.db").write_bytes(b"")
    for args in (("search", "mayor"), ("report",), ("failures",), ("sources",)):
        result = sourcetrace(*args, "--db", "empty.db", cwd=d)
        size = (d / "empty.db").stat().st_size
        row("0-byte corpus", " ".join(args), "refused, the file stays 0 bytes",
            f"exit {result.returncode}, {size} bytes", result.returncode != 0 and size == 0)


def missing(d: Path) -> None:
    result = sourcetrace("ingest", "missing.jsonl", "--db", "new.db", cwd=d)
    made = (d / "new.db").exists()
    row("missing input", "ingest missing.jsonl --db new.db", "exit 2, no new.db",
        f"exit {result.returncode}, new.db {'made' if made else 'not made'}",
        result.returncode == 2 and not made)


def _nobody() -> None:
    os.setgid(65534)
    os.setuid(65534)


def read_only(d: Path) -> None:
    ro = d / "ro"
    ro.mkdir()
    src, dst = sqlite3.connect(d / "s.db"), sqlite3.connect(ro / "c.db")
    src.backup(dst)
    dst.close()
    src.close()
    (ro / "c.db").chmod(0o444)
    ro.chmod(0o555)
    preexec, who, mounted = None, "this user, file 0444 in a 0555 folder", False
    if os.geteuid() == 0:   # root writes anywhere: user nobody, else a read-only mount
        try:
            ok = subprocess.run([sys.executable, "-c", "import sourcetrace"], preexec_fn=_nobody,
                                capture_output=True, timeout=120).returncode == 0
        except OSError:
            ok = False
        if ok:
            preexec, who = _nobody, "user nobody, file 0444 in a 0555 folder"
            d.chmod(0o755)
        else:
            mounted = subprocess.run(["mount", "--bind", str(ro), str(ro)],
                                     capture_output=True).returncode == 0 and subprocess.run(
                ["mount", "-o", "remount,ro,bind", str(ro)], capture_output=True).returncode == 0
            if not mounted:
                subprocess.run(["umount", str(ro)], capture_output=True)
                row("read-only", "search a corpus on read-only storage", "answers",
                    "skipped: as root, user nobody cannot run the package and no mount", True)
                ro.chmod(0o755)
                return
            who = "root, a read-only bind mount"
    try:
        result = sourcetrace("search", "mayor", "--db", str(ro / "c.db"), "-f", "json",
                             cwd=d, preexec=preexec)
    finally:
        if mounted:
            subprocess.run(["umount", str(ro)], capture_output=True)
        ro.chmod(0o755)
    left = sorted(p.name for p in ro.iterdir())
    row("read-only", f"search, {who}", "exit 0, nothing written",
        f"exit {result.returncode}, folder holds {left}",
        result.returncode == 0 and left == ["c.db"])


def disk_full(d: Path) -> None:
    small = d / "small"
    small.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(small)],
        capture_output=True).returncode == 0
    if not mounted:
        row("disk full", "ingest onto a 300 KB file system", "'disk full'",
            "skipped: cannot mount a tmpfs here", True)
        return
    try:
        big = d / "big.jsonl"
        big.write_text("".join(json.dumps({"text": TEXT.format(n=i) * 40}) + "\n"
                               for i in range(60)), encoding="utf-8")
        result = sourcetrace("ingest", str(big), "--db", str(small / "c.db"), "--rules-only",
                             "--no-progress", cwd=d)
        said = "disk full" in result.stderr
        rollback = "cannot rollback" in result.stderr
        row("disk full", "ingest 60 articles onto a 300 KB tmpfs",
            "exit 4 naming 'disk full', no 'cannot rollback'",
            f"exit {result.returncode}, {'disk full' if said else 'no disk full'}"
            + (", 'cannot rollback'" if rollback else ""),
            result.returncode == 4 and said and not rollback)
        try:   # whatever room is left, taken
            with open(small / "filler", "wb") as f:
                while True:
                    f.write(b"\0" * 4096)
                    f.flush()
        except OSError:
            pass
        result = sourcetrace("export", "--db", str(d / "c.db"), "-o", str(small / "out.jsonl"),
                             cwd=d)
        row("disk full", "export onto the full tmpfs", "exit 2 naming 'disk full', no out.jsonl",
            f"exit {result.returncode}, {'disk full' if 'disk full' in result.stderr else 'no disk full'}"
            f", out.jsonl {'left' if (small / 'out.jsonl').exists() else 'absent'}",
            result.returncode == 2 and "disk full" in result.stderr
            and not (small / "out.jsonl").exists())
    finally:
        subprocess.run(["umount", str(small)], capture_output=True)


PROBES = [overwrite, surrogates, feed, warc, csv_rows, latin1, links, empty_corpus, missing,
          read_only, disk_full]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="sourcetrace-robustness-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.time()
    try:
        for probe in PROBES:
            probe(work)
    finally:
        if args.keep is None:
            for p in work.rglob("*"):
                if p.is_dir() and not p.is_symlink():
                    p.chmod(0o755)
            shutil.rmtree(work, ignore_errors=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    passed = sum(r[4] for r in ROWS)
    if args.markdown:
        print(f"{stamp}, {time.time() - started:.0f} s, {passed} of {len(ROWS)} right\n")
        print("| probe | case | a careful tool | got | |")
        print("|---|---|---|---|---|")
        for probe, case, expected, got, ok in ROWS:
            print(f"| {probe} | `{case}` | {expected} | {got} | {'ok' if ok else '**no**'} |")
    else:
        width = max(len(r[1]) for r in ROWS)
        for probe, case, expected, got, ok in ROWS:
            print(f"{'ok ' if ok else 'BAD'}  {probe:22s} {case:{width}s}  {got}")
        print(f"{passed} of {len(ROWS)} right ({stamp}, {time.time() - started:.0f} s)")
    sys.exit(0 if passed == len(ROWS) else 1)


if __name__ == "__main__":
    main()
