"""Robustness: bounded time, every good record kept, safe edges (issue 13).

Each test goes through an entry point (``sourcetrace.analyze``, the ``ingest`` library
call, ``extract_file``, ``fetch``, ``python -m sourcetrace``) with an input that used
to be slow, lose records, crash or slip through.
"""
from __future__ import annotations

import gzip
import io
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import sourcetrace
from sourcetrace import pipeline
from sourcetrace.config import Config
from sourcetrace.corpus import runner as corpus
from sourcetrace.corpus.extract import extract_file
from sourcetrace.corpus.store.memory import MemoryStore
from sourcetrace.errors import (BlockedAddressError, DocumentTimeoutError, FetchError,
                                StoreError)
from sourcetrace.inputs import fetch
from sourcetrace.inputs.collect import Failure, collect

from conftest import ROOT

SEED = (ROOT / "examples" / "belarus-commanders.txt").read_text(encoding="utf-8")
ARTICLE = ("The mayor told reporters on Tuesday that the budget for district {n} would be "
           "balanced by the end of the year. “We will not raise taxes,” she said, adding that "
           "the council had found savings in transport and housing. Critics said the plan "
           "relied on optimistic forecasts. ")
CONFIG = Config(require_english=False)


def article(n: int) -> str:
    return ARTICLE.format(n=n) * 2


def spans_slice(a) -> bool:
    spans = [s for x in a.attributions for s in (*x.source, *x.cue, *x.content)]
    return all(a.text[s.start:s.end] == s.text for s in spans)


# ----------------------------------------------------------------------------- linear time

def _seconds(text: str):
    started = time.perf_counter()
    a = sourcetrace.analyze(text, config=CONFIG)
    return time.perf_counter() - started, a


@pytest.mark.parametrize("mark", ["?", "“"])
def test_robustness_punctuation_run_is_analysed_in_linear_time(mark):
    """seed + "?" x 8,000 took 22 s (spaCy's affix search is quadratic in a run), 20
    times ordinary prose of the same length; now less than prose."""
    sourcetrace.analyze(SEED[:500])  # the model, loaded outside the timings
    prose, _ = _seconds(SEED[:1500] + " ".join(SEED.split()[:1600])[:8000])
    text = SEED[:1500] + mark * 8000
    seconds, a = _seconds(text)
    assert seconds < max(3 * prose, 2.0)
    assert a.text == text and spans_slice(a)


@pytest.mark.parametrize("suffix", [".txt", ".xml"])
def test_robustness_comment_runs_do_not_backtrack(tmp_path, suffix):
    """'<!---->' x 40 made the HTML and feed sniffers backtrack exponentially (2^39)."""
    p = tmp_path / f"comments{suffix}"
    p.write_text("<!---->" * 40 + "x " + article(1), encoding="utf-8")
    code = ("import sys; from sourcetrace.inputs.collect import collect; "
            "print(len(list(collect([sys.argv[1]]))))")
    run = subprocess.run([sys.executable, "-c", code, str(p)], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.strip() == "1"


def test_robustness_make_doc_keeps_the_text_and_ordinary_tokens():
    nlp = pipeline.load_for(CONFIG)
    ordinary = SEED[:2000]
    assert [t.text for t in pipeline.make_doc(nlp, ordinary)] == \
        [t.text for t in nlp.make_doc(ordinary)]
    text = "He said: " + "?!" * 3000 + " and left.  " + "x" * 500
    doc = pipeline.make_doc(nlp, text)
    assert doc.text == text and len(doc) < 200


def test_robustness_learned_pairing_is_linear():
    """Every content was compared with every cue: 10,000 of each, 10^8 comparisons."""
    from sourcetrace.attribution import learned
    from sourcetrace.model import Span

    nlp = pipeline.load_for(CONFIG)
    text = " ".join(["said", "it"] * 10_000)
    doc = nlp.make_doc(text)
    pipeline.register_extensions()
    one = getattr(learned, "RoleSpan", None) or learned.Proposal
    many = getattr(learned, "RoleSpans", None) or learned.Proposals
    spans = []
    for tok in doc:
        role = "cue" if tok.text == "said" else "content"
        spans.append(one(role, Span.of(text, tok.idx, tok.idx + len(tok.text)),
                                      tok.i, tok.i + 1, 0.9))
    started = time.perf_counter()
    out = learned.attributions_from_proposals(doc, many(tuple(spans), ()))
    assert time.perf_counter() - started < 5
    assert len(out) == 10_000


def test_robustness_long_article_goes_through_spacy_in_chunks(monkeypatch):
    monkeypatch.setattr(pipeline, "CHUNK_CHARS", 20_000)  # a shorter text to analyse
    text = "\n\n".join(article(n) for n in range(90))  # ~48,000 characters
    pieces = pipeline.split_chunks(text, pipeline.CHUNK_CHARS)
    assert "".join(pieces) == text and len(pieces) > 2
    assert max(len(p) for p in pieces) <= pipeline.CHUNK_CHARS + 10
    a = sourcetrace.analyze(text, config=CONFIG)
    assert spans_slice(a)
    assert sum(1 for x in a.attributions if x.cue[0].text == "said") >= 100


def test_robustness_time_budget_fails_one_document_and_the_batch_goes_on(monkeypatch):
    monkeypatch.setattr(pipeline, "CHUNK_CHARS", 20_000)
    long = "\n\n".join(article(n) for n in range(100))  # chunked: checked between chunks
    store = MemoryStore()
    config = Config(require_english=False, time_budget=1.5)
    from sourcetrace.inputs.collect import Collected
    from sourcetrace.inputs.read import Document

    items = [Collected("short-1", Document(article(1)), "text"),
             Collected("long", Document(long), "text"),
             Collected("short-2", Document(article(2)), "text")]
    report = corpus.ingest([], store, config=config, items=items)
    assert [(f.input, f.code) for f in store.failures()] == [("long", DocumentTimeoutError.code)]
    assert report.added == 2 and report.failed == 1
    with pytest.raises(DocumentTimeoutError, match="time budget"):
        sourcetrace.analyze(long, config=config)


# ----------------------------------------------------------------------------- records kept

def ingested(*paths, config=CONFIG):
    store = MemoryStore()
    report = corpus.ingest([str(p) for p in paths], store, config=config)
    return store, report


def test_robustness_jsonl_huge_integer_and_deep_nesting_fail_alone(tmp_path):
    p = tmp_path / "six.jsonl"
    lines = [json.dumps({"id": n, "text": article(n)}) for n in range(6)]
    lines[1] = '{"id": ' + "1" * 5000 + ', "text": "x"}'
    lines[3] = '{"id": 3, "x": ' + "[" * 100_000 + "]" * 100_000 + ', "text": "x"}'
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store, report = ingested(p)
    assert store.count() == 4
    assert {f.input for f in store.failures()} == {f"{p}:2", f"{p}:4"}


def test_robustness_analyze_of_a_bad_json_file_is_one_line(tmp_path):
    p = tmp_path / "x.json"
    p.write_text('{"id": ' + "9" * 5000 + ', "text": "hello"}', encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "sourcetrace", "analyze", str(p)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) <= 2 and "JSON" in run.stderr


def test_robustness_csv_huge_field_and_bad_utf8_row_fail_alone(tmp_path):
    p = tmp_path / "ten.csv"
    with p.open("wb") as f:
        f.write(b"id,text\n")
        for n in range(10):
            if n == 2:
                f.write(b'2,"' + b"word " * 4_200_000 + b'"\n')  # 21 MB
            elif n == 4:
                f.write(b'4,"caf\xe9 ' + article(n).encode() + b'"\n')
            else:
                f.write(f'{n},"{article(n)}"\n'.encode())
    store, report = ingested(p)
    assert store.count() == 8
    assert {f.input for f in store.failures()} == {f"{p}:4", f"{p}:6"}


def _warc_records(n: int, gz: bool) -> list[bytes]:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    out = []
    for i in range(n):
        buf = io.BytesIO()
        body = f"<html><body><article><p>{article(i)}</p></article></body></html>".encode()
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")],
                                protocol="HTTP/1.1")
        writer = WARCWriter(buf, gzip=gz)
        writer.write_record(writer.create_warc_record(
            f"https://news.example.com/{i}", "response", payload=io.BytesIO(body),
            http_headers=http))
        out.append(buf.getvalue())
    return out


def _length(record: bytes, change) -> bytes:
    m = re.search(rb"Content-Length: (\d+)", record)
    return record.replace(m.group(0), b"Content-Length: " + change(int(m.group(1))), 1)


@pytest.mark.parametrize("damage", ["bad-length", "version", "short-length", "long-length",
                                    "gzip-member"])
def test_robustness_warc_bad_record_fails_alone(tmp_path, damage):
    gz = damage == "gzip-member"
    records = _warc_records(6, gz)
    if damage == "bad-length":
        records[2] = _length(records[2], lambda n: b"12x")
    elif damage == "version":
        records[2] = records[2].replace(b"WARC/1.0", b"WARC/X", 1)
    elif damage == "short-length":   # used to give a short article, silently
        records[2] = _length(records[2], lambda n: str(n - 60).encode())
    elif damage == "long-length":
        records[2] = _length(records[2], lambda n: str(n + 400).encode())
    else:
        records[2] = records[2][:30] + b"\x00" * 20 + records[2][50:]
    p = tmp_path / ("six.warc.gz" if gz else "six.warc")
    p.write_bytes(b"".join(records))
    store, report = ingested(p)
    assert store.count() == 5
    [failure] = store.failures()
    offset = len(records[0]) + len(records[1])
    assert failure.input == f"{p}@{offset}" and "WARC" in failure.reason
    texts = [a.text for a in store.iter_articles()]
    assert all("district 2 " not in t for t in texts)


def test_robustness_nul_after_the_first_8192_characters_fails_that_file_only(tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    for n in range(5):
        (folder / f"{n}.txt").write_text(article(n), encoding="utf-8")
    (folder / "late-nul.txt").write_text(article(9) * 30 + "\x00" + article(9),
                                         encoding="utf-8")
    store, report = ingested(folder)
    assert store.count() == 5
    [failure] = store.failures()
    assert failure.input.endswith("late-nul.txt") and "NUL" in failure.reason


def test_robustness_record_metadata_with_nul_or_nan_is_stored_clean(tmp_path):
    p = tmp_path / "meta.jsonl"
    p.write_text(json.dumps({"id": 1, "title": "A\u0000B", "text": article(1)}) + "\n"
                 + '{"id": 2, "score": NaN, "text": ' + json.dumps(article(2)) + "}\n",
                 encoding="utf-8")
    items = [i for i in collect([str(p)], config=CONFIG) if not isinstance(i, Failure)]
    assert len(items) == 2
    assert "\x00" not in json.dumps([i.document.meta for i in items])
    json.loads(json.dumps([i.document.meta for i in items], allow_nan=False))


class _Picky(MemoryStore):
    """A store that refuses one article the way PostgreSQL refuses a bad value."""

    def add_many(self, records):
        records = list(records)
        if any("district 3 " in r.analysis.text for r in records):
            raise StoreError("could not store articles: invalid byte sequence")
        return super().add_many(records)


def test_robustness_an_article_the_store_refuses_fails_alone(tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    for n in range(6):
        (folder / f"{n}.txt").write_text(article(n), encoding="utf-8")
    store = _Picky()
    report = corpus.ingest([str(folder)], store, config=CONFIG)
    assert store.count() == 5 and report.failed == 1
    [failure] = store.failures()
    assert failure.input.endswith("3.txt")


def test_robustness_extract_writes_strict_json(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text('{"id": NaN, "text": "x"}\n{"id": Infinity, "text": "y"}\n'
                   + '{"id": ' + "7" * 5000 + ', "text": "z"}\n'
                   + json.dumps({"id": "ok", "text": article(1)}) + "\n", encoding="utf-8")
    stats = extract_file(src, out, config=CONFIG)
    lines = out.read_text(encoding="utf-8").splitlines()

    def strict(name):
        raise ValueError(name)

    assert [json.loads(line, parse_constant=strict)["id"] for line in lines] == ["ok"]
    assert stats.skipped == 3


# ----------------------------------------------------------------------------- edges

@pytest.mark.parametrize("url", ["http://100.64.0.1/", "http://100.127.255.254/a",
                                 "http://[fec0::1]/", "http://[::ffff:100.64.0.1]/"])
def test_robustness_fetch_refuses_non_global_addresses(url):
    with pytest.raises(BlockedAddressError):
        fetch.fetch(url)


def test_robustness_fetch_refuses_a_redirect_to_shared_address_space():
    import httpx

    def handler(request):
        return httpx.Response(302, headers={"Location": "http://100.64.1.1/inside"})

    with pytest.raises(BlockedAddressError):
        fetch.fetch("http://93.184.216.34/", transport=httpx.MockTransport(handler))


def test_robustness_fetch_deadline_covers_slow_headers():
    """A server sending its headers a byte at a time used to hold a fetch forever."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    port = server.getsockname()[1]
    stop = threading.Event()

    def trickle():
        conn, _ = server.accept()
        conn.recv(65536)
        try:
            for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Slow: " + b"a" * 500:
                if stop.is_set():
                    break
                conn.send(bytes([byte]))
                time.sleep(0.2)
        except OSError:
            pass
        conn.close()

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        with pytest.raises(FetchError, match="timed out"):
            fetch.fetch(f"http://127.0.0.1:{port}/", Config(allow_private=True, fetch_timeout=0.5))
        assert time.monotonic() - started < 0.5 * fetch.DEADLINE_FACTOR + 1.5
    finally:
        stop.set()
        server.close()


@pytest.mark.parametrize("url", ["http://news.example.com/a\x1c", "http://news.example.com/\x00",
                                 "https://news.example.com/a\x1fb"])
def test_robustness_one_url_pattern_refuses_control_characters(url):
    from sourcetrace.web.schemas import URL_PATTERN

    assert URL_PATTERN == fetch.URL_PATTERN
    assert not fetch.is_url(url)
    [item] = list(collect([url]))
    assert isinstance(item, Failure) and "not an http(s) URL" in item.reason


def test_robustness_csv_export_neutralises_formulas():
    from sourcetrace.inputs.collect import Collected
    from sourcetrace.inputs.read import Document

    store = MemoryStore()
    doc = Document(article(1), meta={"title": "=HYPERLINK(\"http://evil.example\",\"x\")"})
    corpus.ingest([], store, config=CONFIG, items=[Collected("a", doc, "text")])
    out = io.StringIO()
    corpus.export(store, out, format="csv")
    import csv

    [row] = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["title"].startswith("'=HYPERLINK")
    kept = io.StringIO()
    corpus.export(store, kept, format="csv", keep_formulas=True)
    [row] = list(csv.DictReader(io.StringIO(kept.getvalue())))
    assert row["title"].startswith("=HYPERLINK")


PARENT = r"""
import multiprocessing, os, sys, time
from sourcetrace.config import Config
from sourcetrace.corpus import runner

def child(ready):
    runner._init_worker(Config())   # what a local ingest worker runs first
    open(ready, "w").write("ready")
    time.sleep(120)

if __name__ == "__main__":
    ready = sys.argv[1]
    p = multiprocessing.get_context("spawn").Process(target=child, args=(ready,))
    p.start()
    for _ in range(1800):
        if os.path.exists(ready):
            break
        time.sleep(0.1)
    print(p.pid, flush=True)
    os.kill(os.getpid(), 9)
"""


def test_robustness_workers_exit_with_their_parent(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(PARENT, encoding="utf-8")
    run = subprocess.run([sys.executable, str(script), str(tmp_path / "ready")],
                         capture_output=True, text=True, timeout=240)
    assert (tmp_path / "ready").exists()
    pid = int(run.stdout.split()[0])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, 9)
    pytest.fail("the worker outlived its parent")


# ----------------------------------------------------------------------------- issue 24

def test_robustness_api_request_with_lone_surrogates_in_meta_is_answered():
    """The API takes what the readers take: a lone surrogate (a JSON \\udc80 escape) in
    meta becomes U+FFFD; in the article text it is a 422 naming its offset, never a
    parse failure."""
    import functools

    from fastapi import testclient

    from sourcetrace.corpus.store import open_store
    from sourcetrace.web.app import create_app

    client = functools.partial(testclient.TestClient, base_url="http://127.0.0.1")
    body = json.dumps({"text": article(1), "meta": {"title": "T\udc80", "outlet": "x\udc80",
                                                    "author": "A\udc80", "url": "u\udc80"}})
    with client(create_app(Config(rules_only=True), store=open_store(":memory:"))) as c:
        r = c.post("/api/analyze", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 200, r.text
        assert r.json()["meta"]["title"] == "T\ufffd" and r.json()["meta"]["outlet"] == "x\ufffd"
        bad = json.dumps({"text": "\udc80" + article(1)})
        r = c.post("/api/analyze", content=bad, headers={"content-type": "application/json"})
        assert r.status_code == 422 and "offset 0" in r.text, r.text
