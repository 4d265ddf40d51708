"""The corpus commands through the real entry point (python -m sourcetrace)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

ARTICLES = [
    '"The bridge will reopen on Friday," the mayor said on Monday.',
    'Officials said the river rose overnight, a city report found.',
]


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "sourcetrace", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    (d / "in").mkdir()
    for i, t in enumerate(ARTICLES):
        (d / "in" / f"a{i}.txt").write_text(t, encoding="utf-8")
    (d / "in" / "feed.xml").write_text("<html><body><p>not a feed</p></body></html>",
                                       encoding="utf-8")
    db = str(d / "c.db")
    first = run("ingest", str(d / "in"), "--db", db, "--no-progress")
    second = run("ingest", str(d / "in"), "--db", db, "--no-progress", "--strict")
    return d, db, first, second


def test_cli_corpus_ingest_reports_and_is_idempotent(corpus_db):
    _, _, first, second = corpus_db
    assert first.returncode == 0, first.stderr
    assert "added 2, already stored 0, failed 1" in first.stderr
    assert "sourcetrace failures" in first.stderr
    assert second.returncode == 5  # --strict: an input failed
    assert "added 0, already stored 2, failed 1" in second.stderr


def test_cli_corpus_search_json_and_table(corpus_db):
    d, db, _, _ = corpus_db
    out = run("search", "bridge", "--db", db, "--format", "jsonl", "--acts", "all")
    assert out.returncode == 0, out.stderr
    hits = [json.loads(line) for line in out.stdout.splitlines()]
    assert hits and {h["what"] for h in hits} <= {"article", "quote", "source"}
    # the snippet is plain text; each match is an offset pair into it
    for h in hits:
        assert "[" not in h["snippet"] and h["highlights"]
        s, e = h["highlights"][0]
        assert h["snippet"][s:e].lower() == "bridge"
    quote = next(h for h in hits if h["what"] == "quote")
    assert quote["speaker"] and quote["act"] and quote["counted_acts"] == "all acts"
    doc = json.loads(run("search", "bridge", "--db", db, "-f", "json", "--acts", "all",
                         "--limit", "1").stdout)
    assert doc["total"] == len(hits) and doc["count"] == 1 and doc["counted"]["all_acts"]
    second = json.loads(run("search", "bridge", "--db", db, "-f", "json", "--acts", "all",
                            "--limit", "1", "--offset", "1").stdout)
    assert second["rows"][0] == {k: v for k, v in hits[1].items()
                                 if k not in ("counted_acts", "min_confidence")}
    table = run("search", "river", "--db", db, "--in", "article", "--acts", "all")
    assert table.returncode == 0 and "«river»" in table.stdout
    assert "counted: all acts" in table.stdout and "of " in table.stdout.splitlines()[0]
    none = run("search", "volcano", "--db", db)
    assert none.returncode == 1 and "no matches" in none.stderr   # as trace: 1 = no match


def test_cli_corpus_search_bad_query_is_a_clear_error(corpus_db):
    _, db, _, _ = corpus_db
    out = run("search", "?!", "--db", db)
    assert out.returncode == 2 and "sourcetrace: error: the search query has no words" in out.stderr
    assert "Traceback" not in out.stderr


def test_cli_corpus_failures_lists_the_reason(corpus_db):
    d, db, _, _ = corpus_db
    out = run("failures", "--db", db, "--format", "jsonl")
    [f] = [json.loads(line) for line in out.stdout.splitlines()]
    assert f["input"].endswith("feed.xml") and "not an RSS or Atom feed" in f["reason"]
    assert f["attempts"] == 2


def test_cli_corpus_sources_and_export(corpus_db):
    d, db, _, _ = corpus_db
    src = run("sources", "--db", db, "--by", "kind", "--format", "json")
    assert src.returncode == 0, src.stderr
    assert json.loads(src.stdout)["counted"]["acts"] == ["speech"]
    out = d / "attr.csv"
    exp = run("export", str(out), "--db", db, "--table", "attributions")
    assert exp.returncode == 0, exp.stderr
    assert out.read_text(encoding="utf-8").startswith(
        "article_id,outlet,date,url,idx,act,kind,speaker,source_id,entity_id")
    lines = run("export", "-", "--db", db).stdout.splitlines()
    assert len(lines) == 2 and json.loads(lines[0])["analysis"]["text"] in ARTICLES


def test_cli_corpus_bad_db_path_is_a_clear_error(tmp_path):
    out = run("search", "x", "--db", str(tmp_path / "no" / "such" / "dir.db"))
    assert out.returncode == 2 and "there is no corpus at" in out.stderr
    junk = tmp_path / "junk.db"
    junk.write_text("this is not sqlite " * 100, encoding="utf-8")
    out = run("failures", "--db", str(junk))
    assert out.returncode == 4 and "cannot open" in out.stderr and "Traceback" not in out.stderr


def test_cli_corpus_every_listing_command_takes_the_four_formats(corpus_db):
    _, db, _, _ = corpus_db
    for cmd in (["search", "bridge"], ["sources"], ["failures"], ["claims"]):
        args = [*cmd, "--db", db, "--acts", "all", "--min-confidence", "0"] \
            if cmd[0] != "failures" else [*cmd, "--db", db]
        for fmt in ("text", "json", "jsonl", "csv"):
            out = run(*args, "-f", fmt)
            assert out.returncode in (0, 1), (cmd, fmt, out.stderr)
            if out.returncode == 1:
                continue
            if fmt == "json":
                doc = json.loads(out.stdout)
                assert doc["count"] == len(doc["rows"]) <= doc["total"]
            elif fmt == "jsonl":
                assert all(json.loads(line) for line in out.stdout.splitlines())
            elif fmt == "csv":
                import csv
                import io

                rows = list(csv.reader(io.StringIO(out.stdout)))
                assert len({len(r) for r in rows}) == 1, (cmd, rows[:2])


def test_cli_corpus_piped_text_is_plain_aligned_and_never_wrapped(corpus_db):
    _, db, _, _ = corpus_db
    out = run("search", "bridge", "--db", db, "--acts", "all")   # stdout is a pipe here
    lines = out.stdout.splitlines()
    assert not any(ch in out.stdout for ch in "┃│━─┏")          # no box drawing
    head = lines[1]
    col = head.index("in ")
    assert all(line[col:].startswith(("quote", "article", "source")) for line in lines[2:])
    # one line per match: the number of lines is the header, the column names and the rows
    doc = json.loads(run("search", "bridge", "--db", db, "-f", "json", "--acts", "all").stdout)
    assert len(lines) == 2 + doc["count"]


def test_cli_corpus_sources_names_the_counted_acts_and_pages(corpus_db):
    _, db, _, _ = corpus_db
    every = json.loads(run("sources", "--db", db, "-f", "json", "--acts", "all",
                           "--min-confidence", "0").stdout)
    speech = json.loads(run("sources", "--db", db, "-f", "json").stdout)
    assert every["counted"]["all_acts"] and speech["counted"]["acts"] == ["speech"]
    assert sum(r["attributions"] for r in speech["rows"]) <= \
        sum(r["attributions"] for r in every["rows"])
    first = json.loads(run("sources", "--db", db, "-f", "json", "--acts", "all",
                           "--min-confidence", "0", "-n", "1").stdout)
    nxt = json.loads(run("sources", "--db", db, "-f", "json", "--acts", "all",
                         "--min-confidence", "0", "-n", "1", "--offset", "1").stdout)
    if len(every["rows"]) > 1:
        assert first["rows"][0] == every["rows"][0] and nxt["rows"][0] == every["rows"][1]
    text = run("sources", "--db", db)
    assert "counted: speech; confidence >= 0.6" in text.stdout
    bad = run("sources", "--db", db, "--acts", "gossip")
    assert bad.returncode == 2 and "gossip" in bad.stderr


def test_cli_corpus_claims_clusters_with_filters_and_pages(corpus_db):
    _, db, _, _ = corpus_db
    out = run("claims", "--db", db, "--clusters", "--outlet", "nowhere.example")
    assert out.returncode == 1 and "no claims" in out.stderr   # combined, not refused
    every = run("claims", "--db", db, "-f", "json", "--acts", "all", "--min-confidence", "0")
    assert every.returncode == 0, every.stderr
    doc = json.loads(every.stdout)
    assert doc["total"] == len(doc["rows"]) >= 1
    page = json.loads(run("claims", "--db", db, "-f", "json", "--acts", "all",
                          "--min-confidence", "0", "-n", "1", "--offset", "1").stdout
                      or "null")
    if doc["total"] > 1:
        assert page["rows"][0]["id"] == doc["rows"][1]["id"] and page["total"] == doc["total"]


def test_cli_corpus_failed_ray_run_leaves_no_empty_corpus(tmp_path, monkeypatch):
    from sourcetrace.cli import main
    from sourcetrace.corpus import runner
    from sourcetrace.errors import ConfigError

    def refuse(*a, **k):
        raise ConfigError("ray is not installed", hint="pip install 'sourcetrace[ray]'")

    monkeypatch.setattr(runner, "_ingest_ray", refuse)
    (tmp_path / "a.txt").write_text(ARTICLES[0], encoding="utf-8")
    db = tmp_path / "new.db"
    with pytest.raises(SystemExit) as exit:
        main(["ingest", str(tmp_path / "a.txt"), "--db", str(db), "--engine", "ray",
              "--no-progress"])
    assert exit.value.code == 2
    assert not db.exists() and not (tmp_path / "new.db-wal").exists()


def test_cli_corpus_commands_have_help():
    for cmd in ("ingest", "search", "sources", "export", "failures"):
        out = run(cmd, "--help")
        assert out.returncode == 0 and "--db" in out.stdout


# ------------------------------------------------------------ issue 24: text hygiene at the edge

LONG = ("The mayor told reporters on Tuesday that the budget for district {n} would be balanced "
        "by the end of the year. \u201cWe will not raise taxes,\u201d she said on Monday.")
FIELDS = ("title", "outlet", "id", "author", "date", "url", "extra\udc80")


def _surrogates(path, n=12, bad=(2, 5, 9)):
    with open(path, "w", encoding="ascii") as f:
        for i in range(n):
            r = {"id": f"r{i}", "title": f"Title {i}", "text": LONG.format(n=i)}
            if i in bad:
                for k in FIELDS[bad.index(i) % 3::3]:
                    r[k] = str(r.get(k) or "v") + "\udc80"
            f.write(json.dumps(r) + "\n")   # the surrogate as a JSON escape
    return path


def test_cli_corpus_ingest_keeps_every_record_past_lone_surrogates(tmp_path):
    src = _surrogates(tmp_path / "s.jsonl")
    db = str(tmp_path / "s.db")
    out = run("ingest", str(src), "--db", db, "--rules-only", "--no-progress")
    assert out.returncode == 0, out.stderr
    assert "added 12, already stored 0, failed 0" in out.stderr
    again = run("ingest", str(src), "--db", db, "--rules-only", "--no-progress")
    assert again.returncode == 0 and "already stored 12" in again.stderr, again.stderr
    rows = [json.loads(line) for line in run("export", "--db", db).stdout.splitlines()]
    assert len(rows) == 12
    assert rows[2]["title"] == "Title 2\ufffd" and rows[5]["outlet"] == "v\ufffd"
    assert rows[9]["record_id"] == "r9\ufffd"


def test_cli_corpus_extract_and_analyze_take_lone_surrogates(tmp_path):
    src = _surrogates(tmp_path / "s.jsonl")
    spans = tmp_path / "spans.jsonl"
    out = run("extract", str(src), "-o", str(spans), "--rules-only")
    assert out.returncode == 0, out.stderr
    ids = [json.loads(line)["id"] for line in spans.read_text(encoding="utf-8").splitlines()]
    assert len(ids) == 12 and ids[9] == "r9\ufffd"
    rec = tmp_path / "rec.json"
    rec.write_text(src.read_text(encoding="ascii").splitlines()[2], encoding="ascii")
    result = tmp_path / "out.json"
    out = run("analyze", str(rec), "-o", str(result), "-f", "json", "--rules-only")
    assert out.returncode == 0, out.stderr
    assert json.loads(result.read_text(encoding="utf-8"))["meta"]["title"] == "Title 2\ufffd"


def test_cli_corpus_feed_item_html_on_one_line_is_stored_as_text(tmp_path):
    feed = tmp_path / "f.rss"
    body = "".join(f"<p>{LONG.format(n=i)}</p>" for i in range(2))
    feed.write_text('<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:content='
                    '"http://purl.org/rss/1.0/modules/content/"><channel><title>T</title>'
                    f'<item><title>One</title><guid>a1</guid><content:encoded><![CDATA[{body}]]>'
                    '</content:encoded></item></channel></rss>', encoding="utf-8")
    db = str(tmp_path / "f.db")
    out = run("ingest", str(feed), "--db", db, "--rules-only", "--no-progress")
    assert out.returncode == 0 and "added 1" in out.stderr, out.stderr
    [row] = [json.loads(line) for line in run("export", "--db", db).stdout.splitlines()]
    text = row["analysis"]["text"]
    assert "<p>" not in text and "</p>" not in text
    assert text == LONG.format(n=0) + "\n\n" + LONG.format(n=1)
    for att in row["analysis"]["attributions"]:
        for span in att["content"]:
            assert text[span["start"]:span["end"]] == span["text"]


def test_cli_corpus_ingest_past_lone_surrogates_on_postgresql(tmp_path):
    """The same edge on PostgreSQL: the records are cleaned before any store sees them."""
    import os
    import uuid

    dsn = os.environ.get("SOURCETRACE_TEST_POSTGRES")
    if not dsn:
        pytest.skip("SOURCETRACE_TEST_POSTGRES is not set: no PostgreSQL to test on")
    src = _surrogates(tmp_path / "s.jsonl")
    tag = uuid.uuid4().hex   # new texts: a rerun on the same server adds them again
    src.write_text(src.read_text(encoding="ascii").replace("district", f"district {tag}"),
                   encoding="ascii")
    out = run("ingest", str(src), "--db", dsn, "--rules-only", "--no-progress")
    assert out.returncode == 0, out.stderr
    assert "added 12, already stored 0, failed 0" in out.stderr
