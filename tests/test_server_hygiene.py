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


# ---------------------------------------------------------------- fair serving


def client_at(app, address: str) -> testclient.TestClient:
    """A client whose requests come from ``address`` (the server tells clients apart by it)."""
    return testclient.TestClient(app, base_url=LOCAL, raise_server_exceptions=False,
                                 client=(address, 50000))


LARGE = "slow " + "x" * 30_000     # over services.LARGE_CHARS


@pytest.fixture
def lanes(monkeypatch):
    """pipeline.analyze blocks on a large text until released, and read.load on a URL
    ending in /slow; each call records the config it was given."""
    release = threading.Event()
    running = {"large": 0, "fetch": 0}
    seen: list = []
    lock = threading.Lock()

    def analyze(text, *, config=DEFAULT, meta=None):
        seen.append(config)
        if len(text) > 20_000:
            with lock:
                running["large"] += 1
            release.wait(30)
        return Analysis(text=text[:50])

    def load(target, *, config=DEFAULT):
        seen.append(config)
        if target.endswith("/slow"):
            with lock:
                running["fetch"] += 1
            release.wait(30)
        return read.Document("fetched text", {"url": target})

    def analyze_documents(docs, config=DEFAULT, **kw):
        seen.append(config)
        return (Analysis(text=d.text) for d in docs)

    monkeypatch.setattr(pipeline, "analyze", analyze)
    monkeypatch.setattr(read, "load", load)
    monkeypatch.setattr(pipeline, "analyze_documents", analyze_documents)
    yield release, running, seen
    release.set()


def wait_for(predicate, seconds: float = 10.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_server_hygiene_a_small_analysis_completes_while_large_ones_are_in_flight(lanes):
    release, running, _seen = lanes
    app = create_app(DEFAULT, threads=2)
    large = [in_background(lambda a=a: client_at(app, a).post("/api/analyze",
                                                             json={"text": LARGE}))
             for a in ("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4")]
    assert wait_for(lambda: running["large"] >= 1)
    t0 = time.perf_counter()
    r = client_at(app, "10.0.0.9").post("/api/analyze", json={"text": "a short article"})
    assert r.status_code == 200 and r.json()["text"] == "a short article"
    assert time.perf_counter() - t0 < 5
    assert all(t.is_alive() for t, _ in large)     # the large ones are still in flight
    release.set()
    for t, box in large:
        t.join(10)
        assert box["result"].status_code == 200


def test_server_hygiene_a_client_over_its_share_gets_429_with_retry_after(lanes):
    release, running, _seen = lanes
    app = create_app(DEFAULT, threads=2, queue=8)   # large lane: 1 worker, 4 waiting, 2 a client
    mine = [in_background(lambda: client_at(app, "10.0.0.1").post("/api/analyze",
                                                                 json={"text": LARGE}))
            for _ in range(2)]
    assert wait_for(lambda: running["large"] >= 1)
    time.sleep(0.2)                                   # the second one is queued
    r = client_at(app, "10.0.0.1").post("/api/analyze", json={"text": LARGE})
    assert (r.status_code, r.json()["error"]["code"]) == (429, "too_many_requests")
    assert int(r.headers["retry-after"]) > 0
    # another client still has its share of the same lane
    other = in_background(lambda: client_at(app, "10.0.0.2").post("/api/analyze",
                                                                 json={"text": LARGE}))
    release.set()
    for t, box in [*mine, other]:
        t.join(10)
        assert box["result"].status_code == 200


def test_server_hygiene_slow_urls_of_one_client_leave_other_clients_theirs(lanes):
    release, running, _seen = lanes
    app = create_app(DEFAULT.replace(allow_private=True), threads=2)
    slow = [in_background(lambda: client_at(app, "10.0.0.1").post(
        "/api/analyze", json={"url": "http://example.org/slow"})) for _ in range(16)]
    assert wait_for(lambda: running["fetch"] >= 1)
    time.sleep(0.3)
    t0 = time.perf_counter()
    for address in ("10.0.0.2", "10.0.0.3", "10.0.0.4"):
        r = client_at(app, address).post("/api/analyze", json={"url": "http://example.org/a"})
        assert r.status_code == 200, r.text
    assert time.perf_counter() - t0 < 5
    assert running["fetch"] <= 2                      # one client holds at most its share
    release.set()
    codes = []
    for t, box in slow:
        t.join(10)
        codes.append(box["result"].status_code)
    assert codes.count(200) == 2 and codes.count(429) == 14


def test_server_hygiene_work_queued_past_the_deadline_never_runs(lanes):
    release, running, seen = lanes
    app = create_app(DEFAULT, threads=2, queue=4, time_limit=1.0)   # large lane: 1 worker
    first = in_background(lambda: client_at(app, "10.0.0.1").post("/api/analyze",
                                                                 json={"text": LARGE}))
    assert wait_for(lambda: running["large"] == 1)
    r = client_at(app, "10.0.0.2").post("/api/analyze", json={"text": LARGE + "y"})
    assert (r.status_code, r.json()["error"]["code"]) == (504, "request_timeout")
    release.set()
    first[0].join(10)
    time.sleep(0.3)
    assert running["large"] == 1 and len(seen) == 1   # the second analysis never started
    # and the queue is free again
    assert client_at(app, "10.0.0.2").post("/api/analyze", json={"text": "short"}).status_code \
        == 200


def test_server_hygiene_work_gets_only_the_time_left_before_its_answer(lanes):
    release, running, seen = lanes
    app = create_app(DEFAULT.replace(allow_private=True, fetch_timeout=15.0), threads=1,
                     time_limit=4.0)
    # a fetch cannot outlive the request: its whole deadline (4 x fetch_timeout) ends by it
    r = client_at(app, "10.0.0.1").post("/api/analyze", json={"url": "http://example.org/a"})
    assert r.status_code == 200
    fetch_config, analysis_config = seen[0], seen[1]
    assert 0 < 4 * fetch_config.fetch_timeout <= 4.0
    assert 0 < analysis_config.time_budget <= 4.0
    # an analysis that waited in the queue gets what was left, not a fresh budget
    seen.clear()
    first = in_background(lambda: client_at(app, "10.0.0.1").post("/api/analyze",
                                                                 json={"text": LARGE}))
    assert wait_for(lambda: running["large"] == 1)
    threading.Timer(1.5, release.set).start()
    r = client_at(app, "10.0.0.2").post("/api/analyze", json={"text": LARGE + "z"})
    first[0].join(10)
    assert r.status_code == 200 and len(seen) == 2
    assert seen[1].time_budget <= 2.7


def test_server_hygiene_an_ingest_answered_504_stores_nothing(monkeypatch):
    from sourcetrace.corpus import runner
    from sourcetrace.errors import DocumentTimeoutError

    store = open_store(":memory:")

    def analyze_documents(docs, config=DEFAULT, **kw):
        for d in docs:       # 2 s of work, which stops (as the pipeline does) past its budget
            time.sleep(2.0)
            if config.time_budget and config.time_budget < 2.0:
                raise DocumentTimeoutError("the article took longer than its time budget")
            yield Analysis(text=d.text)

    monkeypatch.setattr(pipeline, "analyze_documents", analyze_documents)
    monkeypatch.setattr(runner._Run, "add_claims", lambda self, stored: None)  # no embedder
    read.from_string("An article to load the language model.", config=DEFAULT)
    pipeline.model_info(DEFAULT)                       # its imports, outside the timings
    app = create_app(DEFAULT, store=store, threads=1, time_limit=3.0)
    first = in_background(lambda: client_at(app, "10.0.0.1").post(
        "/api/ingest", json={"text": "A first article about a bridge and a river."}))
    time.sleep(0.3)
    # waits 1.7 s for the worker, then has 1.3 s left for 2 s of work: 504, nothing kept
    r = client_at(app, "10.0.0.2").post(
        "/api/ingest", json={"text": "A second article about a tunnel and a road."})
    first[0].join(10)
    assert first[1]["result"].status_code == 200, first[1]["result"].text
    assert (r.status_code, r.json()["error"]["code"]) == (504, "request_timeout")
    time.sleep(1.0)
    assert store.count() == 1


def test_server_hygiene_a_free_worker_serves_the_client_served_least_first():
    from sourcetrace.web.services import FairPool

    pool = FairPool("analysis", workers=1, queue=10, per_client=5)
    release = threading.Event()
    order: list[str] = []

    def task(name: str) -> str:
        if name == "a1":
            release.wait(10)
        order.append(name)
        return name

    futures = [pool.submit("a", task, "a1")]
    assert wait_for(lambda: futures[0].running())
    futures += [pool.submit("a", task, n) for n in ("a2", "a3")]
    futures += [pool.submit("b", task, "b1"), pool.submit("c", task, "c1")]
    release.set()
    assert [f.result(10) for f in futures] == ["a1", "a2", "a3", "b1", "c1"]
    assert order == ["a1", "b1", "c1", "a2", "a3"]      # not a1, a2, a3: a was being served
    pool.close()


def test_server_hygiene_a_withdrawn_task_frees_its_place_and_never_runs():
    from sourcetrace.web.services import FairPool

    pool = FairPool("analysis", workers=1, queue=1, per_client=2)
    release = threading.Event()
    ran: list[str] = []
    first = pool.submit("a", lambda: (release.wait(10), ran.append("first")))
    assert wait_for(first.running)
    queued = pool.submit("a", lambda: ran.append("queued"))
    assert pool.admitted == 2 and pool.withdraw(queued) and queued.cancelled()
    assert pool.admitted == 1
    later = pool.submit("b", lambda: ran.append("later"))
    release.set()
    later.result(10)
    assert ran == ["first", "later"]
    pool.close()
