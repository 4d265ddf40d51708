"""The HTTP API and the web pages through an in-process ASGI client (no network, no server)."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed: pip install 'sourcetrace[web]'")

from fastapi import FastAPI  # noqa: E402
import functools  # noqa: E402

from fastapi import testclient  # noqa: E402

# The server answers only to the names it listens on (127.0.0.1 here), not to the test
# client's default "testserver".
TestClient = functools.partial(testclient.TestClient, base_url="http://127.0.0.1")

import sourcetrace
from sourcetrace import errors
from sourcetrace.web.app import CSP, NotFoundError, create_app, status_of
from sourcetrace.config import DEFAULT
from sourcetrace.model import Analysis

ROOT = Path(__file__).resolve().parents[1]
SEED = (ROOT / "examples" / "belarus-commanders.txt").read_text(encoding="utf-8")
SHORT = ("\u201cWe will not retreat,\u201d the mayor of Kharkiv said on Monday. Officials said "
         "300 troops had refused orders, according to a statement on Telegram.")
OTHER = ("The minister told reporters that the bridge would reopen in May. \u201cIt is safe,\u201d "
         "she said. A source familiar with the talks said the deal was close.")


@pytest.fixture(scope="module")
def client():
    from sourcetrace.corpus.store import open_store

    with TestClient(create_app(DEFAULT, store=open_store(":memory:"))) as c:
        yield c


@pytest.fixture(scope="module")
def corpus(client):
    """Two stored articles (ids 1 and 2)."""
    for text, meta in ((SHORT, {"title": "Mayor vows to hold Kharkiv", "outlet": "kyivpost.com",
                                "date": "2022-03-01"}),
                       (OTHER, {"title": "Bridge to reopen", "outlet": "example.com",
                                "date": "2022-03-02"})):
        r = client.post("/api/ingest", json={"text": text, "meta": meta})
        assert r.status_code == 200, r.text
    return client


def error_of(r) -> dict:
    body = r.json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"]), body
    return body["error"]


def test_api_analyze_returns_the_library_records(client):
    r = client.post("/api/analyze", json={"text": SHORT})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    got = Analysis.from_dict(r.json())
    want = sourcetrace.analyze(SHORT)
    assert got == want
    assert got.attributions, "the mayor's quote is an attribution"
    for a in got.attributions:
        for span in a.source + a.cue + a.content:
            assert got.text[span.start:span.end] == span.text


def test_api_analyze_html_extracts_the_article(client):
    page = ("<html><head><title>Bridge</title></head><body><nav>Home | World</nav><article>"
            f"<h1>Bridge to reopen</h1><p>{OTHER}</p></article></body></html>")
    r = client.post("/api/analyze", json={"html": page})
    assert r.status_code == 200, r.text
    body = r.json()
    assert "<p>" not in body["text"] and "bridge would reopen" in body["text"]
    assert body["meta"]["input_kind"] == "html"


def test_api_analyze_as_html_gives_the_standalone_view(client):
    r = client.post("/api/analyze?format=html", json={"text": SHORT})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.text.startswith("<!DOCTYPE html>") and "st-m" in r.text
    # its own policy: the inline blocks by hash, nothing else
    assert "sha256-" in r.headers["content-security-policy"]
    assert "unsafe-inline" not in r.headers["content-security-policy"]


@pytest.mark.parametrize("body", [{}, {"text": SHORT, "url": "https://example.com/a"},
                                  {"url": "/etc/passwd"}, {"url": "file:///etc/passwd"},
                                  {"text": 5}, {"text": "x", "extra": 1}])
def test_api_analyze_refuses_a_bad_request_with_a_json_error(client, body):
    r = client.post("/api/analyze", json=body)
    assert r.status_code == 422
    assert error_of(r)["code"] == "invalid_request"


def test_api_errors_map_the_library_hierarchy(client):
    r = client.post("/api/analyze", json={"text": "   \n  "})
    assert (r.status_code, error_of(r)["code"]) == (400, "empty_input")
    r = client.post("/api/analyze", json={"url": "http://127.0.0.1:9/private"})
    assert (r.status_code, error_of(r)["code"]) == (403, "blocked_address")
    assert "allow" in error_of(r)["hint"]
    german = ("Der Bürgermeister sagte am Montag, die Brücke werde im Mai wieder geöffnet. Die "
              "Regierung erklärte, man sei mit den Gesprächen zufrieden und hoffe auf eine "
              "schnelle Einigung. Nach Angaben der Polizei wurden am Wochenende mehrere Straßen "
              "gesperrt, weil Tausende Menschen in der Innenstadt demonstrierten.")
    r = client.post("/api/analyze", json={"text": german})
    assert (r.status_code, error_of(r)["code"]) == (422, "unsupported_language")
    r = client.get("/api/no-such-endpoint")
    assert (r.status_code, error_of(r)["code"]) == (404, "not_found")
    r = client.delete("/api/analyze")
    assert (r.status_code, error_of(r)["code"]) == (405, "method_not_allowed")


def _error_classes():
    return [c for c in vars(errors).values()
            if isinstance(c, type) and issubclass(c, errors.SourcetraceError)]


@pytest.mark.parametrize("cls", _error_classes() + [NotFoundError], ids=lambda c: c.__name__)
def test_api_one_handler_turns_every_error_into_json(cls):
    app: FastAPI = create_app(DEFAULT)

    @app.get("/api/raise")
    def boom():
        raise cls("something went wrong", hint="do this next")

    r = TestClient(app).get("/api/raise")
    assert r.status_code == status_of(cls("x"))
    assert error_of(r) == {"code": cls.code, "message": "something went wrong", "hint": "do this next"}
    assert r.headers["content-security-policy"] == CSP
    if cls is not errors.SourcetraceError:
        assert r.status_code != 500, f"{cls.__name__} should say what the user did wrong"


def test_api_unexpected_errors_are_500_json_without_internals():
    app = create_app(DEFAULT)

    @app.get("/api/bug")
    def bug():
        raise RuntimeError("secret internals")

    r = TestClient(app, raise_server_exceptions=False).get("/api/bug")
    assert r.status_code == 500
    assert error_of(r)["code"] == "internal_error"
    assert "secret" not in r.text
    assert r.headers["content-security-policy"] == CSP


def test_api_request_body_over_the_limit_is_refused():
    app = create_app(DEFAULT.replace(max_input_bytes=2000))
    c = TestClient(app)
    big = {"text": "word " * 20_000}
    r = c.post("/api/analyze", json=big)
    assert (r.status_code, error_of(r)["code"]) == (413, "input_too_large")

    def chunks():  # no Content-Length: counted while it streams
        for _ in range(100):
            yield b"x" * 1000

    r = c.post("/api/analyze", content=chunks(), headers={"content-type": "application/json"})
    assert (r.status_code, error_of(r)["code"]) == (413, "input_too_large")


def test_api_writes_need_the_token_when_one_is_set(monkeypatch):
    from sourcetrace.corpus.store import open_store

    monkeypatch.delenv("SOURCETRACE_TOKEN", raising=False)
    c = TestClient(create_app(DEFAULT, store=open_store(":memory:"), token="s3cret-token"))
    r = c.post("/api/ingest", json={"text": SHORT})
    assert (r.status_code, error_of(r)["code"]) == (401, "unauthorized")
    assert r.headers["www-authenticate"] == "Bearer"
    r = c.post("/api/ingest", json={"text": SHORT}, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401
    r = c.post("/api/ingest", json={"text": SHORT}, headers={"Authorization": "Bearer s3cret-token"})
    assert r.status_code == 200 and r.json()["added"] == 1
    # reading and analysing need no token
    assert c.get("/api/articles").status_code == 200
    assert c.post("/api/analyze", json={"text": SHORT}).status_code == 200


def test_api_listening_beyond_localhost_requires_a_token(monkeypatch):
    monkeypatch.delenv("SOURCETRACE_TOKEN", raising=False)
    with pytest.raises(errors.ConfigError, match="SOURCETRACE_TOKEN"):
        create_app(DEFAULT, host="0.0.0.0")
    create_app(DEFAULT, host="127.0.0.1")
    create_app(DEFAULT, host="::1")
    monkeypatch.setenv("SOURCETRACE_TOKEN", "from-the-environment")
    c = TestClient(create_app(DEFAULT, store=":memory:", host="0.0.0.0"))
    assert c.post("/api/ingest", json={"text": SHORT}).status_code == 401
    r = c.post("/api/ingest", json={"text": SHORT},
               headers={"Authorization": "Bearer from-the-environment"})
    assert r.status_code == 200


def test_api_every_response_carries_the_csp(client):
    for path in ("/", "/api/health", "/api", "/static/article.css", "/openapi.json", "/nope"):
        r = client.get(path)
        assert r.headers["content-security-policy"] == CSP, path
        assert r.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP


def test_api_corpus_endpoints(corpus):
    r = corpus.get("/api/articles")
    listing = r.json()
    assert listing["total"] == 2 and [a["id"] for a in listing["articles"]] == [1, 2]
    assert {"profile", "n_attributions", "outlet"} <= set(listing["articles"][0])
    assert corpus.get("/api/articles?outlet=example.com").json()["total"] == 1
    assert corpus.get("/api/articles?offset=1&limit=1").json()["articles"][0]["id"] == 2

    one = corpus.get("/api/articles/1").json()
    assert one["title"] == "Mayor vows to hold Kharkiv"
    analysis = Analysis.from_dict(one["analysis"])
    assert analysis.text == SHORT
    atts = corpus.get("/api/articles/1/attributions").json()
    assert atts == [a.to_dict() for a in analysis.attributions]
    assert corpus.get("/api/articles/1/sources").json() == [s.to_dict() for s in analysis.sources]
    r = corpus.get("/api/articles/99")
    assert (r.status_code, error_of(r)["code"]) == (404, "not_found")

    hits = corpus.get("/api/search", params={"q": "bridge reopen"}).json()
    assert hits and {h["article_id"] for h in hits} == {2}
    quotes = corpus.get("/api/search", params={"q": "retreat", "what": "quote"}).json()
    assert quotes and all(h["what"] == "quote" for h in quotes)
    assert corpus.get("/api/search", params={"q": "!!!"}).status_code == 400

    sources = corpus.get("/api/sources").json()
    assert sources and all({"name", "articles", "attributions"} <= set(s) for s in sources)
    by_outlet = corpus.get("/api/sources?by=outlet").json()
    assert {s["group"] for s in by_outlet} <= {"kyivpost.com", "example.com"}

    view = corpus.get("/api/articles/1/view")
    assert view.headers["content-disposition"].startswith("attachment")
    assert view.text.startswith("<!DOCTYPE html>")


def test_api_ingest_is_idempotent(corpus):
    r = corpus.post("/api/ingest", json={"text": SHORT})
    assert r.json()["added"] == 0 and r.json()["duplicates"] == 1
    assert corpus.get("/api/articles").json()["total"] == 2


def test_api_without_a_corpus_says_how_to_open_one():
    c = TestClient(create_app(DEFAULT))
    r = c.get("/api/articles")
    assert (r.status_code, error_of(r)["code"]) == (503, "store_error")
    assert "--db" in error_of(r)["hint"]
    assert c.post("/api/analyze", json={"text": SHORT}).status_code == 200


def test_api_openapi_documents_every_endpoint(client):
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ("/api/analyze", "/api/ingest", "/api/articles", "/api/articles/{article_id}",
                 "/api/articles/{article_id}/attributions", "/api/sources", "/api/search"):
        assert path in paths, path
        for op in paths[path].values():
            assert op.get("summary") and op.get("description"), path
    assert paths["/api/ingest"]["post"]["security"]
    assert "AnalysisOut" in spec["components"]["schemas"]


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def _tags(html_text: str):
    p = _Tags()
    p.feed(html_text)
    return p.found


def test_api_pages_render(corpus):
    for path in ("/", "/articles", "/articles/1", "/sources", "/sources?by=kind", "/search",
                 "/search?q=bridge", "/api"):
        r = corpus.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith("text/html")
        # no inline script anywhere: the CSP would block it
        for tag, attrs in _tags(r.text):
            if tag == "script":
                assert attrs.get("src", "").startswith("/static/"), (path, attrs)
    page = corpus.get("/articles/1").text
    assert 'class="st-root"' in page and "Mayor vows to hold Kharkiv" in page
    listing = corpus.get("/articles").text
    assert "Bridge to reopen" in listing
    from sourcetrace.output.html import profile_score

    score = profile_score(sourcetrace.analyze(OTHER).profile)
    if score is not None:                            # each article's transparency score
        assert f'value="{int(score + 0.5)}"' in listing   # Jinja rounds half up
    r = corpus.get("/articles/42", headers={"accept": "text/html"})
    assert r.status_code == 404 and "<h1>there is no article 42" in r.text


def test_api_form_analyses_pasted_text_upload_and_refuses_two_inputs(client):
    r = client.post("/analyze", data={"text": SHORT})
    assert r.status_code == 200 and 'class="st-root"' in r.text and "st-m" in r.text
    r = client.post("/analyze", files={"file": ("story.txt", OTHER.encode(), "text/plain")})
    assert r.status_code == 200 and "bridge would reopen" in r.text
    r = client.post("/analyze", data={"text": SHORT, "download": "1"})
    assert r.headers["content-disposition"].startswith("attachment")
    r = client.post("/analyze", data={"text": SHORT, "url": "https://example.com/"},
                    headers={"accept": "text/html"})
    assert r.status_code == 400 and "give one article" in r.text
    r = client.post("/analyze", data={"url": "javascript:alert(1)"}, headers={"accept": "text/html"})
    assert r.status_code == 400


def test_api_hostile_article_stays_inert_in_the_page(client):
    text = ('Officials said the <script>alert("x")</script> bridge was closed. '
            '<img src=x onerror="alert(1)"> The <a href="javascript:alert(2)">mayor</a> said '
            '\u201cwe will reopen it\u201d on Monday.')
    r = client.post("/analyze", data={"text": text})
    assert r.status_code == 200
    found = _tags(r.text)
    assert [a for t, a in found if t == "script"] == [{"src": "/static/article.js", "defer": None}]
    assert not [t for t, _ in found if t in ("img", "iframe", "object")]
    assert not [a for t, a in found if t == "a" and "javascript:" in a.get("href", "")]
    assert not [a for _, a in found if any(k.startswith("on") for k in a)]
    assert "&lt;script&gt;" in r.text


def test_api_health(client):
    r = client.get("/api/health")
    assert r.json() == {"status": "ok", "version": sourcetrace.__version__, "store": True}


def test_api_sqlite_store_by_name_works_across_threads(tmp_path):
    db = str(tmp_path / "corpus.db")
    with TestClient(create_app(DEFAULT, store=db)) as c:
        assert c.post("/api/ingest", json={"text": OTHER}).json()["added"] == 1
        for _ in range(3):  # each request may run on another worker thread
            assert c.get("/api/articles").json()["total"] == 1
    assert re.search(r"corpus\.db$", db)


KYIV = ("Kyiv said that some 300 Russian troops had refused to obey orders in the Okhtyrka "
        "region, according to a statement.")
WIRE = ("Some 300 Russian troops refused to obey orders in the Okhtyrka region, Ukraine's "
        "government said on Tuesday.")


@pytest.fixture(scope="module")
def claims_client():
    from sourcetrace.corpus.store import open_store

    c = TestClient(create_app(DEFAULT, store=open_store(":memory:")))
    for text, outlet, date in ((WIRE, "apnews.com", "2022-03-02"),
                               (KYIV, "kyivindependent.com", "2022-03-01"),
                               (OTHER, "example.com", "2022-03-03")):
        r = c.post("/api/ingest", json={"text": text, "meta": {"outlet": outlet, "date": date}})
        assert r.json()["added"] == 1
    return c


def test_api_claims_are_matched_across_outlets(claims_client):
    clusters = claims_client.get("/api/claims?min_outlets=2").json()
    assert clusters, "the troops claim is carried by two outlets"
    troops = next(c for c in clusters if "300" in c["text"])
    assert set(troops["outlets"]) == {"apnews.com", "kyivindependent.com"}
    assert troops["earliest_outlet"] == "kyivindependent.com"   # by date, not by arrival
    assert troops["corroboration"] >= 1
    every = claims_client.get("/api/claims").json()
    assert len(every) >= len(clusters)


def test_api_trace_gives_the_first_appearance_per_outlet(claims_client):
    troops = next(c for c in claims_client.get("/api/claims?min_outlets=2").json() if "300" in c["text"])
    found = claims_client.get("/api/trace", params={"claim": troops["earliest"]}).json()
    assert [t["outlet"] for t in found["timeline"]] == ["kyivindependent.com", "apnews.com"]
    assert [t["date"] for t in found["timeline"]] == ["2022-03-01", "2022-03-02"]
    assert {c["id"] for c in found["claims"]} == set(found["cluster"]["claim_ids"])
    by_text = claims_client.get("/api/trace", params={"text": "some 300 Russian troops refused to obey orders"}).json()
    assert by_text["cluster"] and by_text["matches"]
    r = claims_client.get("/api/trace", params={"claim": "999#a0"})
    assert (r.status_code, error_of(r)["code"]) == (404, "not_found")
    r = claims_client.get("/api/trace")
    assert (r.status_code, error_of(r)["code"]) == (400, "bad_input")
    # the pages
    page = claims_client.get("/claims").text
    assert "corroboration" in page and "timeline" in page
    page = claims_client.get("/claims/trace", params={"claim": troops["earliest"]}).text
    assert page.index("kyivindependent.com") < page.index("apnews.com")


def test_api_serve_refuses_a_public_host_without_a_token(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from sourcetrace.cli import _register_commands, app

    _register_commands()
    monkeypatch.delenv("SOURCETRACE_TOKEN", raising=False)
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--db", ":memory:"])
    assert result.exit_code == 2
    assert "SOURCETRACE_TOKEN" in result.output
    result = CliRunner().invoke(app, ["serve", "--db", str(tmp_path / "no" / "such" / "dir.db")])
    assert result.exit_code == 2 and "there is no corpus at" in result.output


def test_api_ingest_of_a_refused_url_answers_with_its_error(monkeypatch):
    from sourcetrace.corpus.store import open_store

    store = open_store(":memory:")
    c = TestClient(create_app(DEFAULT, store=store))
    r = c.post("/api/ingest", json={"url": "http://127.0.0.1:9/story"})
    assert (r.status_code, error_of(r)["code"]) == (403, "blocked_address")
    assert [f.input for f in store.failures()] == ["http://127.0.0.1:9/story"]


# ---------------------------------------------------------------- the same validation everywhere


def _stores(tmp_path):
    import os

    yield "sqlite", str(tmp_path / "v.db")
    dsn = os.environ.get("SOURCETRACE_TEST_POSTGRES")
    if dsn:
        yield "postgres", dsn


@pytest.mark.parametrize("url", [
    "/api/search?q=bridge&since=2024-13-45", "/api/search?q=bridge&until=2024-02-30",
    "/api/search?q=bridge&since=yesterday", "/api/report?since=2024-13-45"])
def test_api_every_endpoint_refuses_an_impossible_date(url, tmp_path):
    for _backend, db in _stores(tmp_path):
        with TestClient(create_app(DEFAULT, store=db)) as c:
            r = c.get(url)
            assert r.status_code == 400, (db, r.text)
            assert "not a date" in error_of(r)["message"]


def test_api_search_takes_real_dates_and_times(tmp_path):
    with TestClient(create_app(DEFAULT, store=str(tmp_path / "v.db"))) as c:
        for since in ("2024", "2024-02", "2024-02-29", "2024-02-29T10:00:00Z"):
            assert c.get("/api/search", params={"q": "bridge", "since": since}).status_code == 200


@pytest.mark.parametrize("url", [
    "/api/search?q=bridge&outlet=a%00b", "/api/search?q=bri%00dge", "/api/search?q=x&kind=%01",
    "/api/sources?outlet=a%00b", "/api/sources?identity=%1b", "/api/report?outlet=a%00b",
    "/api/articles?outlet=%00", "/api/trace?text=300%00troops", "/api/search?q=x&since=2024%00",
    "/search?q=bridge%00"])
def test_api_a_control_character_in_any_filter_is_a_400_on_every_store(url, tmp_path):
    for backend, db in _stores(tmp_path):
        with TestClient(create_app(DEFAULT, store=db)) as c:
            r = c.get(url)
            assert r.status_code == 400, (backend, url, r.text)
            if url.startswith("/api"):
                err = error_of(r)
                assert err["code"] == "bad_input" and "control character" in err["message"]


def test_api_store_filters_refuse_control_characters_and_bad_dates_for_every_caller(tmp_path):
    from sourcetrace.corpus.store import open_store

    for backend, db in _stores(tmp_path):
        with open_store(db) as store:
            for call in (lambda: store.search("bridge", outlet="a\x00b"),
                         lambda: store.search("bri\x00dge"),
                         lambda: store.search("bridge", since="2024-13-45"),
                         lambda: store.top_sources(kind="\x00")):
                with pytest.raises(errors.ConfigError):
                    call()
            assert store.search("bridge", outlet="a\tb") == []
