"""The corpus batch with the real pipeline on a few short articles: records, idempotence,
resume after a crash, failures, local workers, export."""
from __future__ import annotations

import csv
import io
import json

import pytest

from sourcetrace.corpus.counted import ALL

from sourcetrace.corpus import runner as corpus
from sourcetrace import pipeline
from sourcetrace.inputs.collect import Collected, Failure
from sourcetrace.errors import ConfigError
from sourcetrace.inputs.read import Document
from sourcetrace.model import Analysis
from sourcetrace.corpus.store import content_hash
from sourcetrace.corpus.store.memory import MemoryStore
from sourcetrace.corpus.store.sqlite import SqliteStore

ARTICLES = [
    '"The bridge will reopen on Friday," the mayor said on Monday.',
    'Engineers found no damage to the main span, according to a city report.',
    'Officials said the river rose overnight. "We expect delays," a spokesman told reporters.',
    'The minister told parliament that the budget would balance next year.',
    'Residents say the flood was the worst in decades, a local newspaper reported.',
    '"Nobody moved," Ann Lee said after the meeting ended.',
]


def docs(texts=ARTICLES, **meta):
    return [Collected(f"art{i}.txt", Document(t, {"path": f"art{i}.txt", **meta}), "text")
            for i, t in enumerate(texts)]


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    for i, text in enumerate(ARTICLES[:3]):
        (d / f"a{i}.txt").write_text(text, encoding="utf-8")
    (d / "more.jsonl").write_text(
        "\n".join(json.dumps({"id": f"r{i}", "text": t, "url": f"https://www.News.example.com/s/{i}?utm_source=x",
                              "date": "2024-03-05T10:00:00", "title": f"Story {i}"})
                  for i, t in enumerate(ARTICLES[3:])) + "\n{broken\n", encoding="utf-8")
    (d / "empty.txt").write_text("   \n", encoding="utf-8")
    return d


def test_corpus_ingest_folder_stores_articles_and_failures(folder, tmp_path):
    with SqliteStore(str(tmp_path / "c.db")) as store:
        report = corpus.ingest([str(folder)], store)
        assert (report.added, report.duplicates, report.failed) == (6, 0, 2)
        assert store.count() == 6
        assert {f.input for f in store.failures()} == {f"{folder}/more.jsonl:4", f"{folder}/empty.txt"}
        reason = {f.input: f.reason for f in store.failures()}[f"{folder}/empty.txt"]
        assert "empty" in reason
        arts = {a.input: a for a in store.iter_articles()}
        rec = arts[f"{folder}/more.jsonl:1"]
        assert rec.outlet == "example.com" and rec.date == "2024-03-05" and rec.title == "Story 0"
        assert rec.canonical_url == "https://www.news.example.com/s/0"
        plain = arts[f"{folder}/a0.txt"]
        assert plain.analysis.attributions and plain.analysis.text == ARTICLES[0]
        assert plain.content_hash == content_hash(ARTICLES[0])


def test_corpus_second_ingest_adds_nothing(folder, tmp_path):
    with SqliteStore(str(tmp_path / "c.db")) as store:
        corpus.ingest([str(folder)], store)
        again = corpus.ingest([str(folder)], store)
        assert (again.added, again.duplicates) == (0, 6)
        assert store.count() == 6
        assert {f.attempts for f in store.failures()} == {2}


def test_corpus_same_text_twice_in_one_run_is_stored_once():
    store = MemoryStore()
    report = corpus.ingest([], store, items=docs(ARTICLES[:2] + ARTICLES[:1]))
    assert (report.added, report.duplicates) == (2, 1) and store.count() == 2


def test_corpus_resume_after_crash_loses_and_duplicates_nothing(tmp_path):
    path = str(tmp_path / "c.db")

    def crashing():
        for i, item in enumerate(docs()):
            if i == 4:
                raise KeyboardInterrupt  # the run is killed mid-way
            yield item

    with SqliteStore(path) as store:
        with pytest.raises(KeyboardInterrupt):
            corpus.ingest([], store, items=crashing(), chunk_size=2)
        assert store.count() == 4  # whole chunks only
    with SqliteStore(path) as store:
        report = corpus.ingest([], store, items=docs(), chunk_size=2)
        assert (report.added, report.duplicates) == (2, 4)
        hashes = [a.content_hash for a in store.iter_articles()]
        assert len(hashes) == len(set(hashes)) == len(ARTICLES)
        assert sorted(a.analysis.text for a in store.iter_articles()) == sorted(ARTICLES)


def test_corpus_analysis_failure_costs_only_its_article(monkeypatch):
    real = pipeline.analyze_documents

    def flaky(documents, **kw):
        for d in documents:
            if "BOOM" in d.text:
                raise RuntimeError("the parser broke")
        return real(documents, **kw)

    monkeypatch.setattr(pipeline, "analyze_documents", flaky)
    store = MemoryStore()
    report = corpus.ingest([], store, items=docs(ARTICLES[:2] + ["A BOOM article, he said."]))
    assert (report.added, report.failed) == (2, 1)
    [f] = store.failures()
    assert f.input == "art2.txt" and "RuntimeError: the parser broke" in f.reason


def test_corpus_collect_failures_are_recorded_and_run_goes_on():
    store = MemoryStore()
    items = [Failure("feed.xml", "feed.xml is an HTML page, not an RSS or Atom feed")] + docs(ARTICLES[:1])
    report = corpus.ingest([], store, items=items)
    assert (report.added, report.failed) == (1, 1)
    assert store.failures()[0].reason.startswith("feed.xml is an HTML page")


def test_corpus_two_local_workers_match_one_process(tmp_path):
    one, two = MemoryStore(), MemoryStore()
    corpus.ingest([], one, items=docs(ARTICLES[:4]))
    report = corpus.ingest([], two, items=docs(ARTICLES[:4]), workers=2, chunk_size=1)
    assert report.added == 4
    by_text = {a.analysis.text: a.analysis for a in one.iter_articles()}
    for a in two.iter_articles():
        assert a.analysis == by_text[a.analysis.text]


def test_corpus_rejects_bad_engine_and_workers():
    with pytest.raises(ConfigError):
        corpus.ingest([], MemoryStore(), engine="spark")
    with pytest.raises(ConfigError):
        corpus.ingest([], MemoryStore(), workers=0)


def test_corpus_make_record_columns():
    analysis = Analysis(text="x", meta={"url": "https://www.bbc.co.uk/news/a?utm_campaign=z#top",
                                        "title": " T ", "author": "A B", "date": "2024-03"})
    rec = corpus.make_record(Collected("u", Document("x"), "url", "<html>"), analysis)
    assert rec.outlet == "bbc.co.uk" and rec.canonical_url == "https://www.bbc.co.uk/news/a"
    assert (rec.title, rec.author, rec.date, rec.raw, rec.input_kind) == ("T", "A B", "2024-03", "<html>", "url")
    bare = corpus.make_record(Collected("r", Document("x"), "json"),
                              Analysis(text="x", meta={"outlet": "breitbart"}))
    assert bare.outlet == "breitbart" and bare.url is None and bare.canonical_url is None


@pytest.fixture(scope="module")
def filled():
    store = MemoryStore()
    corpus.ingest([], store, items=docs(ARTICLES[:3], url="https://news.example.com/x"))
    return store


def test_corpus_export_jsonl_round_trips_the_analysis(filled):
    out = io.StringIO()
    assert corpus.export(filled, out, format="jsonl") == 3
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    for line, stored in zip(lines, filled.iter_articles()):
        assert Analysis.from_dict(line["analysis"]) == stored.analysis
        assert line["outlet"] == "example.com" and line["id"] == stored.id


def test_corpus_export_csv_tables(filled):
    out = io.StringIO()
    n = corpus.export(filled, out, format="csv", table="attributions", selection=ALL)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert n == len(rows) == sum(len(a.analysis.attributions) for a in filled.iter_articles()) > 0
    assert rows[0]["cue"] and json.loads(rows[0]["offsets"])["cue"]
    out = io.StringIO()
    corpus.export(MemoryStore(), out, format="csv", table="sources")
    assert out.getvalue().startswith("article_id,outlet,date,source_id,name")


def test_corpus_export_parquet(filled, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    path = str(tmp_path / "a.parquet")
    assert corpus.export(filled, path, format="parquet", table="articles") == 3
    table = pq.read_table(path)
    assert table.num_rows == 3 and table.column("text").to_pylist()[0] == ARTICLES[0]
    empty = str(tmp_path / "e.parquet")
    assert corpus.export(MemoryStore(), empty, format="parquet", table="sources") == 0
    assert pq.read_table(empty).num_rows == 0
    with pytest.raises(ConfigError):
        corpus.export(filled, io.StringIO(), format="parquet")
    with pytest.raises(ConfigError):
        corpus.export(filled, path, format="xml")
