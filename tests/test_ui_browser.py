"""The web UI end to end: the real server on a loopback port, driven in headless Chromium.

Chromium is Debian's package (/usr/bin/chromium, installed by .ci/run); Playwright
only drives it and never downloads a browser. Skips when either is missing.
"""
from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "belarus-commanders.txt"

if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium package (apt-get install -y "
                "chromium) to run the browser tests", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api",
                                     reason="playwright is not installed (pip install -e '.[dev]')")
pytest.importorskip("uvicorn", reason="the web extra is not installed")

HOSTILE = ('Officials said the <script>window.pwned = 1; alert("x")</script> bridge was closed. '
           '<img src=x onerror="window.pwned = 2"> The <a href="javascript:window.pwned = 3">mayor'
           '</a> said \u201cwe will reopen it\u201d on Monday, according to a statement.')


def _serve(app):
    """Run ``app`` with uvicorn on a free loopback port; yield its base URL, then stop it."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                        lifespan="off"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def server():
    from sourcetrace.web.app import create_app
    from sourcetrace.config import DEFAULT
    from sourcetrace.corpus.store import open_store

    app = create_app(DEFAULT, store=open_store(":memory:"))
    yield from _serve(app)


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def open_page(browser, width=1366, height=900):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    return page


def analyse_in_page(page, base: str, text: str) -> None:
    page.goto(base + "/")
    page.fill("#text", text)
    page.click("button[type=submit]")
    page.wait_for_selector(".st-root .st-text")


def test_ui_browser_analyses_the_seed_article(server, browser, tmp_path):
    import sourcetrace

    text = SEED.read_text(encoding="utf-8")
    expected = sourcetrace.analyze(text)
    assert expected.attributions, "the seed article has attributions"
    page = open_page(browser)
    analyse_in_page(page, server, text)

    # every attribution is highlighted, and the marks rebuild the article text
    marked = page.eval_on_selector_all(
        ".st-text .st-m[data-a]", "els => els.map(e => e.getAttribute('data-a').split(' ')).flat()")
    assert {int(i) for i in marked} == set(range(len(expected.attributions)))
    assert page.eval_on_selector(".st-text", "e => e.textContent") == expected.text

    # the source panel lists the sources the library found
    names = page.eval_on_selector_all(".st-sources .st-name", "els => els.map(e => e.textContent)")
    assert names == [s.name for s in expected.sources]

    # selecting the first quote shows its card: cue and resolved speaker
    first = expected.attributions[0]
    page.locator('.st-text .st-m[data-a^="0"]').first.click()
    card = page.locator(".st-selected .st-card")
    card.wait_for(state="visible")
    card_text = card.inner_text()
    assert first.cue[0].text in card_text
    assert (first.speaker or "") in card_text or expected.sources[first.source_id].name in card_text
    assert "Hearsay chain" in card_text
    page.screenshot(path=str(tmp_path / "seed-desktop.png"), full_page=True)

    # selecting a source marks all its attributions
    if expected.sources:
        page.keyboard.press("Escape")
        page.locator(".st-sources li[data-src] .st-name").first.click()   # not its details
        n_on = page.locator(".st-text .st-m.st-on").count()
        assert n_on >= 1
    assert page.problems == [], page.problems   # no CSP violation, no script error
    assert (tmp_path / "seed-desktop.png").stat().st_size > 10_000
    page.close()


def test_ui_browser_hostile_article_stays_inert(server, browser):
    page = open_page(browser)
    analyse_in_page(page, server, HOSTILE)
    assert page.evaluate("window.pwned") is None
    assert page.dialogs == []
    shown = page.inner_text(".st-text")
    assert '<script>window.pwned = 1; alert("x")</script>' in shown
    assert page.locator(".st-text img, .st-text a, .st-text script").count() == 0
    page.close()


def test_ui_browser_reads_on_a_phone_and_offline(server, browser, tmp_path):
    import sourcetrace
    from sourcetrace.output.html import render_analysis_html

    text = SEED.read_text(encoding="utf-8")
    page = open_page(browser, 390, 844)
    analyse_in_page(page, server, text)
    # nothing wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator(".st-text .st-m[data-a]").first.click()
    sheet = page.locator(".st-selected")
    sheet.wait_for(state="visible")
    box = sheet.bounding_box()
    assert box["y"] + box["height"] <= 844 and box["width"] <= 390
    page.screenshot(path=str(tmp_path / "seed-phone.png"))
    assert page.problems == [], page.problems
    page.close()

    # the standalone file works from disk, its own script allowed by hash
    path = tmp_path / "article.html"
    path.write_text(render_analysis_html(sourcetrace.analyze(text)), encoding="utf-8")
    page = open_page(browser)
    page.goto(path.as_uri())
    page.locator(".st-text .st-m[data-a]").first.click()
    page.locator(".st-selected .st-card").wait_for(state="visible")
    assert page.problems == [], page.problems
    page.close()


@pytest.fixture(scope="module")
def report_server(tmp_path_factory):
    """A server over a small SQLite corpus of two outlets and two months (no model)."""
    from sourcetrace.config import DEFAULT
    from sourcetrace.corpus.store.sqlite import SqliteStore
    from sourcetrace.web.app import create_app
    from test_report import corpus

    db = str(tmp_path_factory.mktemp("report") / "corpus.db")
    store = SqliteStore(db)
    store.add_many(corpus())
    store.close()
    app = create_app(DEFAULT, store=db)
    for base in _serve(app):
        yield base, db


def drawn_charts(page) -> list[int]:
    """The natural width of every chart image (0 when the browser could not draw it)."""
    return page.eval_on_selector_all(
        "img.chart", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")


def test_ui_browser_outlets_page_draws_the_charts(report_server, browser, tmp_path):
    pytest.importorskip("matplotlib", reason="charts need the report extra (matplotlib)")
    base, _db = report_server
    page = open_page(browser)
    page.goto(base + "/outlets?by=outlet&since=2024-01-01")
    widths = drawn_charts(page)
    assert len(widths) >= 6 and all(w > 100 for w in widths), widths
    assert "x.com" in page.inner_text("table.data") and "y.org" in page.inner_text("table.data")
    assert page.problems == []        # no CSP violation, no script error
    page.select_option("select[name=outlet]", ["x.com"])
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    assert "outlet=x.com" in page.url
    rows = page.inner_text("table.data tbody")
    assert "x.com" in rows and "y.org" not in rows
    shot = tmp_path / "outlets.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    page.close()


def test_ui_browser_html_report_opens_offline_with_charts(report_server, browser, tmp_path):
    pytest.importorskip("matplotlib", reason="charts need the report extra (matplotlib)")
    from sourcetrace.cli import main

    _base, db = report_server
    out = tmp_path / "report.html"
    with pytest.raises(SystemExit) as exit:
        main(["report", "--db", db, "--format", "html", "-o", str(out)])
    assert exit.value.code in (0, None)
    context = browser.new_context(offline=True)
    page = context.new_page()
    page.goto(out.as_uri())
    widths = drawn_charts(page)
    assert len(widths) >= 6 and all(w > 100 for w in widths), widths
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    context.close()


# ------------------------------------------------------------ issue 21: the corpus pages

LONG_NAME = "Senator Alexandra Montgomery-Whitfield of the Intergovernmental Committee"
HOSTILE_NAME = 'Mallory <script>window.pwned=8</script><img src=x onerror="window.pwned=9">'


@pytest.fixture(scope="module")
def corpus_server(tmp_path_factory):
    """A server over a SQLite corpus of stories (no model): nested and self-nested voices,
    descriptions typed named, long names and aliases, beliefs beside speech, and the
    claims of every article in the store."""
    from sourcetrace.config import DEFAULT
    from sourcetrace.corpus.store.sqlite import SqliteStore
    from sourcetrace.crossoutlet.corroboration import CrossOutlet
    from sourcetrace.web.app import create_app
    from test_report import OBAMA, story

    db = str(tmp_path_factory.mktemp("corpus") / "corpus.db")
    store = SqliteStore(db)
    records = []
    for n in range(12):
        outlet = ("alpha.example", "beta.example", "gamma-longer-outlet-name.example")[n % 3]
        records.append(story(outlet, f"2024-0{1 + n % 3}-1{n % 9}", [
            (*OBAMA, "speech", None), ("Jane Aide", "named", "person", "speech", 0),
            (LONG_NAME, "named", "official", "speech", None),
            ("Barack Obama" if n % 2 else "Obama", "named", "person", "belief", None),
            ("One Republican", "named", "person", "speech", None)], n=100 + n))
    records.append(story("alpha.example", "2024-01-20", [
        (HOSTILE_NAME, "named", "person", "speech", None)], n=200))
    ids = store.add_many(records)
    cross = CrossOutlet()
    for article_id, rec in zip(ids, records):
        cross.add_stored(store, article_id, rec.analysis, outlet=rec.outlet, date=rec.date)
    store.close()
    app = create_app(DEFAULT, store=db)
    yield from _serve(app)


SHOTS = Path(os.environ.get("SOURCETRACE_SHOTS", "/tmp"))


def test_ui_browser_sources_table_fits_1400_sorts_and_names_the_counted_acts(corpus_server, browser):
    page = open_page(browser, width=1400, height=900)
    page.goto(corpus_server + "/sources")
    assert "Counted: speech" in page.inner_text(".counted-line")
    table = page.locator("table.sources-table")
    # not clipped: every heading lies inside the viewport and the wrapper does not scroll
    right = page.eval_on_selector_all("table.sources-table th",
                                      "ths => Math.max(...ths.map(t => t.getBoundingClientRect().right))")
    assert right <= 1400, right
    assert page.eval_on_selector(".table-wrap", "w => w.scrollWidth <= w.clientWidth + 1")
    names = page.eval_on_selector_all("table.sources-table tbody td.name", "t => t.map(x => x.textContent.trim())")
    assert "Barack Obama" in names and LONG_NAME in names
    one = page.locator("table.sources-table tbody tr", has_text="One Republican")
    assert one.locator("td").nth(2).inner_text().startswith("described")   # never named
    # sort by articles: a click ascends, a second descends
    head = table.locator("th", has_text="Articles")
    head.click()
    col = page.eval_on_selector_all("table.sources-table tbody tr td:nth-child(6)",
                                    "t => t.map(x => +x.textContent)")
    assert col == sorted(col)
    head.click()
    col = page.eval_on_selector_all("table.sources-table tbody tr td:nth-child(6)",
                                    "t => t.map(x => +x.textContent)")
    assert col == sorted(col, reverse=True)
    page.screenshot(path=str(SHOTS / "st21-sources-1400.png"), full_page=True)
    # the toggle: every act counted, named on the page and kept in the links
    page.select_option("select[name=acts]", "all")
    page.select_option("select[name=min_confidence]", "0")
    page.click("form.counted button[type=submit]")
    page.wait_for_load_state()
    assert "acts=all" in page.url and "Counted: all acts" in page.inner_text(".counted-line")
    obama = page.locator("table.sources-table tbody tr", has_text="Barack Obama")
    assert int(obama.locator("td").nth(6).inner_text()) > 12     # his beliefs now counted too
    # phone width: the table scrolls inside its wrapper, the page does not
    phone = open_page(browser, width=390, height=844)
    phone.goto(corpus_server + "/sources")
    assert phone.eval_on_selector("body", "b => b.scrollWidth <= window.innerWidth + 1")
    phone.screenshot(path=str(SHOTS / "st21-sources-phone.png"), full_page=True)
    assert page.problems == [] and phone.problems == []
    phone.close()
    page.close()


def test_ui_browser_entity_page_shows_attributions_by_outlet_and_act(corpus_server, browser):
    page = open_page(browser, width=1400)
    page.goto(corpus_server + "/sources?acts=all&min_confidence=0")
    page.locator("table.sources-table a", has_text="Barack Obama").click()
    page.wait_for_load_state()
    assert "/entities/" in page.url and page.inner_text("h1") == "Barack Obama"
    facts = page.inner_text(".facts-list")
    assert "Obama" in facts and "named" in facts           # aliases and identity
    head = page.eval_on_selector_all("table.by-outlet th", "t => t.map(x => x.textContent.trim())")
    assert "belief" in head and "speech" in head and len(head) >= 4
    outlets = page.eval_on_selector_all("table.by-outlet tbody td:first-child",
                                        "t => t.map(x => x.textContent.trim())")
    assert len(outlets) == 3
    said = page.locator("table.said tbody tr")
    assert said.count() >= 12 and page.locator("table.said a", has_text="trace").count() >= 1
    page.screenshot(path=str(SHOTS / "st21-entity.png"), full_page=True)
    assert page.problems == []
    page.close()


def test_ui_browser_search_marks_matches_names_the_speaker_and_the_total(corpus_server, browser):
    import json as _json
    import urllib.request

    page = open_page(browser, width=1400)
    page.goto(corpus_server + "/search?q=plan&what=quote&limit=5")
    marks = page.eval_on_selector_all(".hits mark", "m => m.map(x => x.textContent.toLowerCase())")
    assert marks and set(marks) == {"plan"}
    assert "[plan]" not in page.inner_text(".hits")
    with urllib.request.urlopen(corpus_server + "/api/search?q=plan&what=quote&limit=5") as r:
        total = int(r.headers["X-Total-Count"])
        hits = _json.loads(r.read())
    assert total > 5 and len(hits) == 5 and hits[0]["highlights"]
    assert f"{total} matches" in page.inner_text("p.total")
    assert "said by" in page.inner_text(".hits li >> nth=0")
    assert page.locator(".pager a[rel=next]").count() == 1
    page.screenshot(path=str(SHOTS / "st21-search.png"), full_page=True)
    page.locator(".pager a[rel=next]").click()
    page.wait_for_load_state()
    assert "offset=5" in page.url and page.locator(".hits li").count() >= 1
    # stored text is shown, never run: the match is marked inside the escaped text
    page.goto(corpus_server + "/search?q=mallory&what=source")
    assert page.inner_text(".hits mark").lower() == "mallory"
    assert "<script>" in page.inner_text(".hits .snippet")
    assert page.evaluate("() => window.pwned") is None
    assert page.locator(".hits img").count() == 0
    assert page.problems == [] and page.dialogs == []
    page.close()


def test_ui_browser_claims_page_shows_the_true_total_and_pages(corpus_server, browser):
    page = open_page(browser, width=1400)
    import json as _json
    import urllib.request

    page.goto(corpus_server + "/claims?limit=3")
    total = int(page.inner_text("h1 .count"))
    assert total > 3
    with urllib.request.urlopen(corpus_server + "/api/claims?limit=3") as r:
        assert int(r.headers["X-Total-Count"]) == total and len(_json.loads(r.read())) == 3
        assert r.headers["X-Sourcetrace-Counted"].startswith("counted: speech")
    with urllib.request.urlopen(corpus_server + "/api/claims?limit=3&acts=belief") as r:
        beliefs = int(r.headers["X-Total-Count"])
    assert 0 < beliefs < total
    assert page.locator("ol.claims > li").count() == 3
    assert f"1–3 of {total}" in page.inner_text(".pager")
    page.locator(".pager a[rel=next]").click()
    page.wait_for_load_state()
    assert "offset=3" in page.url and f"4–6 of {total}" in page.inner_text(".pager")
    page.screenshot(path=str(SHOTS / "st21-claims.png"), full_page=True)
    assert page.problems == []
    page.close()


def test_ui_browser_hover_card_shows_the_act_and_the_probability(server, browser):
    page = open_page(browser)
    analyse_in_page(page, server, SEED.read_text(encoding="utf-8"))
    page.locator(".st-text .st-m[data-a]").first.click()
    card = page.locator(".st-selected .st-card")
    card.wait_for(state="visible")
    text = card.inner_text()
    assert "Act" in text and any(a in text for a in ("speech", "belief", "finding", "intention",
                                                     "perception"))
    import re as _re

    assert _re.search(r"probability 0\.\d\d", text) or "probability 1.00" in text
    page.screenshot(path=str(SHOTS / "st21-card.png"))
    page.close()


def test_ui_browser_outlets_table_fits_1400_and_marks_small_groups(corpus_server, browser):
    page = open_page(browser, width=1400)
    page.goto(corpus_server + "/outlets?by=outlet,month")
    right = page.eval_on_selector("table.data", "t => t.getBoundingClientRect().right")
    assert right <= 1400, right
    assert page.locator("table.data tbody tr.small-group").count() >= 1     # 1-2 articles each
    assert "Counted: speech" in page.inner_text(".counted-line")
    page.screenshot(path=str(SHOTS / "st21-outlets.png"), full_page=True)
    assert page.problems == []
    page.close()
