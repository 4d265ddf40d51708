"""Fact-checks: ClaimReview read from pages, JSON-LD and JSON lines, matched to claims."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from sourcetrace.crossoutlet.factchecks import FactCheck, parse_factchecks, read_factchecks
from sourcetrace.errors import InputError
from sourcetrace.model import Analysis, Attribution, Source, Span

FIXTURES = Path(__file__).parent / "fixtures" / "factchecks"


def test_factchecks_reads_json_ld_inside_a_page():
    (fc,) = read_factchecks(FIXTURES / "page.html")         # the WebSite block is not one
    assert fc == FactCheck("Some 300 Russian troops refused to obey orders near Avdiivka",
                           "Unproven", "Example Check", "2024-03-01",
                           "https://factcheck.example/2024/03/300-troops",
                           "Ukrainian military command")
    assert fc.describe().startswith("Example Check rated it \u201cUnproven\u201d on 2024-03-01")


def test_factchecks_reads_bare_json_ld_with_a_graph_and_json_lines():
    wall, jobs = read_factchecks(FIXTURES / "claimreview.json")
    assert (wall.rating, wall.date, wall.checker) == ("False", "2016-09-27", "Checker")
    assert jobs.rating == "5/5"                        # no name: the value on its scale
    lines = read_factchecks(FIXTURES / "reviews.jsonl")
    assert [f.rating for f in lines] == ["Mostly true", "Unproven"]
    assert FactCheck.from_dict(lines[0].to_dict()) == lines[0]


def test_factchecks_malformed_input_is_a_clear_error_naming_the_line():
    with pytest.raises(InputError, match=r"malformed.jsonl: line 2: not JSON"):
        read_factchecks(FIXTURES / "malformed.jsonl")
    with pytest.raises(InputError, match="without reviewRating"):
        parse_factchecks('{"@type": "ClaimReview", "claimReviewed": "x is y"}')
    with pytest.raises(InputError, match="no ClaimReview"):
        parse_factchecks('{"@type": "NewsArticle", "headline": "x"}')
    with pytest.raises(InputError, match="neither HTML"):
        parse_factchecks("just words")
    with pytest.raises(InputError, match="cannot read"):
        read_factchecks(FIXTURES / "absent.json")


def _article(text, content, source_name):
    start, src = text.index(content), text.index(source_name)
    attribution = Attribution(source=(Span.of(text, src, src + len(source_name)),), cue=(),
                              content=(Span.of(text, start, start + len(content)),), source_id=0)
    return Analysis(text=text, attributions=(attribution,),
                    sources=(Source(0, source_name, identity="described", kind="official"),))


def test_factchecks_import_and_trace_show_the_rating(tmp_path):
    from typer.testing import CliRunner

    from sourcetrace.cli import _register_commands, app
    from sourcetrace.corpus.store import ArticleRecord, open_store
    from sourcetrace.crossoutlet.corroboration import sync_with_store

    db = str(tmp_path / "corpus.db")
    with open_store(db) as store:
        store.add(ArticleRecord(
            analysis=_article("The military command said about 300 Russian soldiers refused to "
                              "obey orders near Avdiivka on Monday.",
                              "about 300 Russian soldiers refused to obey orders near Avdiivka",
                              "The military command"),
            input="a.txt", outlet="pravda.com.ua", date="2024-02-27"))
        store.add(ArticleRecord(
            analysis=_article("Officials said the bridge reopened after repairs last week.",
                              "the bridge reopened after repairs last week", "Officials"),
            input="b.txt", outlet="apnews.com", date="2024-02-28"))
        sync_with_store(store)
    _register_commands()
    runner = CliRunner()
    before = runner.invoke(app, ["trace", "--claim", "1#a0", "--db", db, "--format", "json"])
    assert before.exit_code == 0 and json.loads(before.output)["factchecks"] == []
    done = runner.invoke(app, ["factchecks", "import", str(FIXTURES / "page.html"), "--db", db])
    assert done.exit_code == 0 and "imported 1 fact-check" in done.output
    traced = runner.invoke(app, ["trace", "--claim", "1#a0", "--db", db])
    assert traced.exit_code == 0, traced.output
    assert ("fact-check: Example Check rated it \u201cUnproven\u201d on 2024-03-01 "
            "(https://factcheck.example/2024/03/300-troops)") in traced.output
    data = json.loads(runner.invoke(app, ["trace", "--claim", "1#a0", "--db", db, "-f", "json"]).output)
    (fc,) = data["factchecks"]
    assert fc["matched_claim"] == "1#a0" and fc["evidence"]["same"] is True
    other = runner.invoke(app, ["trace", "--claim", "2#a0", "--db", db, "-f", "json"])
    assert json.loads(other.output)["factchecks"] == []
    bad = runner.invoke(app, ["factchecks", "import", str(FIXTURES / "malformed.jsonl"), "--db", db])
    assert bad.exit_code == 2 and "line 2" in bad.output
    with open_store(db) as store:
        assert len(store.factchecks()) == 1          # the malformed file added nothing


def test_factchecks_api_trace_lists_the_checks(tmp_path):
    import asyncio

    import httpx

    from sourcetrace.corpus.store import ArticleRecord, open_store
    from sourcetrace.crossoutlet.corroboration import sync_with_store
    from sourcetrace.crossoutlet.factchecks import import_factchecks
    from sourcetrace.web.app import create_app

    db = str(tmp_path / "c.db")
    store = open_store(db)
    store.add(ArticleRecord(
        analysis=_article("The command said the strike on Kharkiv killed 12 people on Tuesday.",
                          "the strike on Kharkiv killed 12 people on Tuesday", "The command"),
        input="a.txt", outlet="kyivpost.com", date="2024-02-27"))
    sync_with_store(store)
    import_factchecks(store, FIXTURES / "reviews.jsonl")
    store.close()
    app = create_app(store=db)

    async def get(params):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            return await c.get("/api/trace", params=params)

    r = asyncio.run(get({"claim": "1#a0"}))
    assert r.status_code == 200, r.text
    (fc,) = r.json()["factchecks"]
    assert (fc["checker"], fc["rating"], fc["url"]) == ("Feed Checks", "Mostly true",
                                                        "https://feed.example/1")


def test_factchecks_web_trace_page_shows_the_rating(tmp_path):
    import asyncio

    import httpx

    from sourcetrace.corpus.store import ArticleRecord, open_store
    from sourcetrace.crossoutlet.corroboration import sync_with_store
    from sourcetrace.crossoutlet.factchecks import import_factchecks
    from sourcetrace.web.app import create_app

    db = str(tmp_path / "c.db")
    with open_store(db) as store:
        store.add(ArticleRecord(
            analysis=_article("The command said the strike on Kharkiv killed 12 people on "
                              "Tuesday.", "the strike on Kharkiv killed 12 people on Tuesday",
                              "The command"), input="a.txt", outlet="kyivpost.com"))
        sync_with_store(store)
        import_factchecks(store, FIXTURES / "reviews.jsonl")
    app = create_app(store=db)

    async def get():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            return await c.get("/claims/trace", params={"claim": "1#a0"})

    page = asyncio.run(get()).text
    assert "Fact-checks" in page and "Feed Checks" in page and "Mostly true" in page
    assert 'href="https://feed.example/1"' in page
