"""The server stays responsive and answers only for itself, through the ASGI client:
no global lock across analyses, fetches or claim building; a full queue answers 503, a
slow request 504; the Host header must name the server (DNS rebinding); ids are checked.

The library calls are replaced by stand-ins that wait on an Event, so that each test
controls exactly which request is still working while another one arrives."""
from __future__ import annotations

import threading
import time

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed")

from fastapi import testclient  # noqa: E402

from sourcetrace import pipeline  # noqa: E402
from sourcetrace.config import DEFAULT  # noqa: E402
from sourcetrace.corpus.store import open_store  # noqa: E402
from sourcetrace.crossoutlet import corroboration  # noqa: E402
from sourcetrace.inputs import read  # noqa: E402
from sourcetrace.model import Analysis  # noqa: E402
from sourcetrace.web.app import create_app  # noqa: E402

LOCAL = "http://127.0.0.1"


def client(app, base_url: str = LOCAL) -> testclient.TestClient:
    return testclient.TestClient(app, base_url=base_url, raise_server_exceptions=False)


@pytest.fixture
def gate(monkeypatch):
    """pipeline.analyze and read.load (the fetch) wait while ``gate[text]`` is unset:
    the text "slow" (or a URL ending in /slow) blocks, anything else answers at once."""
    events: dict[str, threading.Event] = {"slow": threading.Event()}
    started = {"slow": threading.Event()}

    def analyze(text, *, config=DEFAULT, meta=None):
        if text == "slow":
            started["slow"].set()
            events["slow"].wait(30)
        return Analysis(text=text)

    def load(target, *, config=DEFAULT):
        if target.endswith("/slow"):
            started["slow"].set()
            events["slow"].wait(30)
        return read.Document("fetched text", {"url": target})

    monkeypatch.setattr(pipeline, "analyze", analyze)
    monkeypatch.setattr(read, "load", load)
    monkeypatch.setattr(pipeline, "analyze_documents",
                        lambda docs, config=DEFAULT, **kw: (Analysis(text=d.text) for d in docs))
    yield events, started
    events["slow"].set()


def in_background(fn):
    box: dict = {}
    thread = threading.Thread(target=lambda: box.update(result=fn()), daemon=True)
    thread.start()
    return thread, box


# ---------------------------------------------------------------- responsive


def test_server_hygiene_a_slow_analysis_does_not_hold_up_another(gate):
    events, started = gate
    app = create_app(DEFAULT, threads=2)
    slow, _ = in_background(lambda: client(app).post("/api/analyze", json={"text": "slow"}))
    assert started["slow"].wait(10)
    t0 = time.perf_counter()
    r = client(app).post("/api/analyze", json={"text": "quick"})
    assert r.status_code == 200 and r.json()["text"] == "quick"
    assert time.perf_counter() - t0 < 5 and slow.is_alive()
    events["slow"].set()
    slow.join(10)


def test_server_hygiene_a_slow_fetch_holds_no_analysis_slot(gate):
    events, started = gate
    app = create_app(DEFAULT.replace(allow_private=True), threads=1, queue=0)
    slow, _ = in_background(
        lambda: client(app).post("/api/analyze", json={"url": "http://example.org/slow"}))
    assert started["slow"].wait(10)
    r = client(app).post("/api/analyze", json={"text": "quick"})
    assert r.status_code == 200 and slow.is_alive()
    events["slow"].set()
    slow.join(10)


def test_server_hygiene_a_full_queue_answers_503_at_once(gate):
    events, started = gate
    app = create_app(DEFAULT, threads=1, queue=0)
    slow, _ = in_background(lambda: client(app).post("/api/analyze", json={"text": "slow"}))
    assert started["slow"].wait(10)
    t0 = time.perf_counter()
    r = client(app).post("/api/analyze", json={"text": "quick"})
    assert (r.status_code, r.json()["error"]["code"]) == (503, "busy")
    assert r.headers["retry-after"] and time.perf_counter() - t0 < 5
    events["slow"].set()
    slow.join(10)
    assert client(app).post("/api/analyze", json={"text": "quick"}).status_code == 200


def test_server_hygiene_a_request_past_the_time_limit_answers_504(gate):
    app = create_app(DEFAULT, time_limit=1.0)
    t0 = time.perf_counter()
    r = client(app).post("/api/analyze", json={"text": "slow"})
    assert (r.status_code, r.json()["error"]["code"]) == (504, "request_timeout")
    assert time.perf_counter() - t0 < 5


def test_server_hygiene_claim_building_blocks_no_analysis(gate, monkeypatch):
    events, _started = gate
    building = threading.Event()

    def slow_sync(store, folder, *, cross=None, progress=None):
        building.set()
        events["slow"].wait(30)
        return cross

    class Claims:  # no model to load: only the building is slow
        def clusters(self, min_outlets=1, limit=None):
            return []

    monkeypatch.setattr(corroboration, "CrossOutlet", Claims)
    monkeypatch.setattr(corroboration, "sync_with_store", slow_sync)
    app = create_app(DEFAULT, store=open_store(":memory:"), time_limit=1.0)
    r = client(app).get("/api/claims")
    assert (r.status_code, r.json()["error"]["code"]) == (503, "busy") and building.is_set()
    t0 = time.perf_counter()
    assert client(app).post("/api/analyze", json={"text": "quick"}).status_code == 200
    assert time.perf_counter() - t0 < 5
    events["slow"].set()
    for _ in range(50):  # built: the claims answer again
        r = client(app).get("/api/claims")
        if r.status_code == 200:
            break
        time.sleep(0.1)
    assert (r.status_code, r.json()) == (200, [])


# ---------------------------------------------------------------- Host header, ids


@pytest.mark.parametrize("host, ok", [
    ("127.0.0.1", True), ("127.0.0.1:8000", True), ("localhost:8000", True), ("[::1]:8000", True),
    ("LOCALHOST", True), ("evil.example", False), ("evil.example:8000", False),
    ("127.0.0.1.evil.example", False), ("", False)])
def test_server_hygiene_loopback_server_answers_only_to_loopback_names(host, ok):
    c = client(create_app(DEFAULT))
    r = c.get("/api/health", headers={"host": host})
    if ok:
        assert r.status_code == 200
    else:
        assert (r.status_code, r.json()["error"]["code"]) == (400, "bad_input")
        assert "host name" in r.json()["error"]["message"]


def test_server_hygiene_host_names_the_server_was_started_for(monkeypatch):
    monkeypatch.setenv("SOURCETRACE_TOKEN", "t" * 32)
    named = client(create_app(DEFAULT, host="127.0.0.1", allowed_hosts=["news.example"]))
    assert named.get("/api/health", headers={"host": "news.example:8000"}).status_code == 200
    bound = client(create_app(DEFAULT, host="192.0.2.7"))
    assert bound.get("/api/health", headers={"host": "192.0.2.7:8000"}).status_code == 200
    assert bound.get("/api/health", headers={"host": "evil.example"}).status_code == 400
    writes = client(create_app(DEFAULT, store=open_store(":memory:")), base_url="http://evil.example")
    assert writes.post("/api/ingest", json={"text": "x"}).status_code == 400


@pytest.mark.parametrize("article_id", [2**63, 2**64 + 5, 0, -1])
def test_server_hygiene_out_of_range_article_ids_are_422(article_id):
    c = client(create_app(DEFAULT, store=open_store(":memory:")))
    for path in (f"/api/articles/{article_id}", f"/api/articles/{article_id}/sources",
                 f"/api/articles/{article_id}/view"):
        r = c.get(path)
        assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_request"), path
    assert c.get(f"/articles/{article_id}").status_code == 422
    assert c.get(f"/api/articles/{2**63 - 1}").status_code == 404
