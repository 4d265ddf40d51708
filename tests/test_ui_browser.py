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


@pytest.fixture(scope="module")
def server():
    import uvicorn

    from sourcetrace.web.app import create_app
    from sourcetrace.config import DEFAULT
    from sourcetrace.corpus.store import open_store

    app = create_app(DEFAULT, store=open_store(":memory:"))
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
        page.locator(".st-sources li[data-src]").first.click()
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
    import uvicorn

    from sourcetrace.config import DEFAULT
    from sourcetrace.corpus.store.sqlite import SqliteStore
    from sourcetrace.web.app import create_app
    from test_report import corpus

    db = str(tmp_path_factory.mktemp("report") / "corpus.db")
    store = SqliteStore(db)
    store.add_many(corpus())
    store.close()
    app = create_app(DEFAULT, store=db)
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
    yield f"http://127.0.0.1:{port}", db
    srv.should_exit = True
    thread.join(10)


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
