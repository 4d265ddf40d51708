"""URL fetching: canned responses (httpx.MockTransport), a real local server, and the
address policy. Nothing here reaches the internet."""
from __future__ import annotations

import http.server
import socket
import threading

import httpx
import pytest

from sourcetrace.inputs import fetch, read as ingest
from sourcetrace.config import DEFAULT
from sourcetrace.errors import BlockedAddressError, FetchError

HTML = (b"<!DOCTYPE html><html><head><title>Bridge closed</title></head><body><article>"
        b"<h1>Bridge closed</h1><p>The council voted on Tuesday to close the old bridge, the "
        b"mayor said, after engineers warned that its supports had weakened badly.</p>"
        b"</article></body></html>")
PUBLIC_IP = "93.184.216.34"


@pytest.fixture
def public_dns(monkeypatch):
    """Every name resolves to one public address (no DNS traffic)."""
    monkeypatch.setattr(fetch, "resolve", lambda host, port: [PUBLIC_IP])


def _mock(handler):
    return httpx.MockTransport(handler)


# ----------------------------------------------------------------------------- canned


def test_fetch_returns_body_and_content_type(public_dns):
    def handler(request):
        assert request.headers["user-agent"] == DEFAULT.user_agent
        return httpx.Response(200, headers={"content-type": "text/html; charset=ISO-8859-1"},
                              content=HTML)

    page = fetch.fetch("https://news.example/a", transport=_mock(handler))
    assert page.body == HTML and page.status == 200
    assert page.content_type == "text/html" and page.charset == "ISO-8859-1"
    assert page.is_html and page.final_url == "https://news.example/a"


@pytest.mark.parametrize("status", [404, 410, 500, 503])
def test_fetch_http_error_status(public_dns, status):
    transport = _mock(lambda request: httpx.Response(status))
    with pytest.raises(FetchError, match=f"HTTP {status}"):
        fetch.fetch("https://news.example/gone", transport=transport)


@pytest.mark.parametrize("content_type", ["image/png", "application/pdf", "video/mp4",
                                          "application/octet-stream"])
def test_fetch_non_text_content_type_refused(public_dns, content_type):
    transport = _mock(lambda r: httpx.Response(200, headers={"content-type": content_type},
                                               content=b"\x89PNG"))
    with pytest.raises(FetchError, match="not a text or HTML page"):
        fetch.fetch("https://news.example/pic", transport=transport)


def test_fetch_declared_length_over_cap(public_dns):
    transport = _mock(lambda r: httpx.Response(
        200, headers={"content-type": "text/html", "content-length": "999999"}, content=b"x"))
    with pytest.raises(FetchError, match="over the limit"):
        fetch.fetch("https://news.example/big", DEFAULT.replace(fetch_max_bytes=1000),
                    transport=transport)


def test_fetch_streamed_body_over_cap(public_dns):
    def chunks():
        for _ in range(100):
            yield b"y" * 100

    transport = _mock(lambda r: httpx.Response(200, headers={"content-type": "text/plain"},
                                               content=chunks()))
    with pytest.raises(FetchError, match="over the limit of 1,000"):
        fetch.fetch("https://news.example/stream", DEFAULT.replace(fetch_max_bytes=1000),
                    transport=transport)


def test_fetch_follows_redirects(public_dns):
    def handler(request):
        hops = {"/a": "/b", "/b": "https://other.example/c"}
        if request.url.path in hops:
            return httpx.Response(302, headers={"location": hops[request.url.path]})
        return httpx.Response(200, headers={"content-type": "text/html"}, content=HTML)

    page = fetch.fetch("https://news.example/a", transport=_mock(handler))
    assert page.final_url == "https://other.example/c"
    assert page.url == "https://news.example/a"


def test_fetch_too_many_redirects(public_dns):
    def handler(request):
        n = int(request.url.path.strip("/") or 0)
        return httpx.Response(301, headers={"location": f"/{n + 1}"})

    with pytest.raises(FetchError, match="too many redirects"):
        fetch.fetch("https://news.example/0", transport=_mock(handler))


def test_fetch_redirect_to_private_address_refused(monkeypatch):
    monkeypatch.setattr(fetch, "resolve",
                        lambda host, port: ["10.0.0.7"] if host == "intranet" else [PUBLIC_IP])
    seen = []

    def handler(request):
        seen.append(str(request.url))
        return httpx.Response(302, headers={"location": "http://intranet/admin"})

    with pytest.raises(BlockedAddressError, match="10.0.0.7"):
        fetch.fetch("https://news.example/a", transport=_mock(handler))
    assert seen == ["https://news.example/a"]  # the private hop was never requested


def test_fetch_redirect_without_location(public_dns):
    with pytest.raises(FetchError, match="without a Location"):
        fetch.fetch("https://news.example/a", transport=_mock(lambda r: httpx.Response(302)))


@pytest.mark.parametrize("exc,match", [
    (httpx.ConnectTimeout("timed out"), "timed out"),
    (httpx.ReadTimeout("timed out"), "timed out"),
    (httpx.ConnectError("[Errno 111] Connection refused"), "connection refused"),
    (httpx.RemoteProtocolError("peer closed connection"), "failed"),
])
def test_fetch_transport_failures_are_fetch_errors(public_dns, exc, match):
    def handler(request):
        raise exc

    with pytest.raises(FetchError, match=match) as info:
        fetch.fetch("https://news.example/a", transport=_mock(handler))
    assert "\n" not in str(info.value)


def test_fetch_dns_failure(monkeypatch):
    def fail(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with pytest.raises(FetchError, match="cannot resolve no-such-host.example"):
        fetch.fetch("https://no-such-host.example/")


def test_fetch_name_resolving_to_private_address_refused(monkeypatch):
    monkeypatch.setattr(fetch, "resolve", lambda host, port: [PUBLIC_IP, "192.168.1.20"])
    with pytest.raises(BlockedAddressError, match="192.168.1.20"):
        fetch.fetch("https://mixed.example/")


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://127.8.9.10:8080/x", "http://10.1.2.3/", "http://172.16.0.1/",
    "http://192.168.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[::1]/",
    "http://[::ffff:127.0.0.1]/", "http://[fe80::1]/", "http://0.0.0.0/", "http://224.0.0.1/",
    "http://[fc00::1]/", "http://localhost/",
])
def test_fetch_private_addresses_refused(url):
    with pytest.raises(BlockedAddressError, match="--allow-private"):
        fetch.fetch(url)


@pytest.mark.parametrize("url", ["ftp://news.example/a", "file:///etc/passwd",
                                 "gopher://x.example/"])
def test_fetch_only_http_schemes(url):
    with pytest.raises(FetchError, match="only http and https"):
        fetch.fetch(url)


@pytest.mark.parametrize("url", ["http://", "https:///path-only", "http://exa mple.com/"])
def test_fetch_malformed_urls(url):
    with pytest.raises(FetchError):
        fetch.fetch(url)


# ----------------------------------------------------------------------------- real server


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the http.server API
        if self.path == "/article":
            self._send(200, "text/html; charset=utf-8", HTML)
        elif self.path == "/moved":
            self.send_response(301)
            self.send_header("Location", "/article")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/image":
            self._send(200, "image/png", b"\x89PNG\r\n\x1a\n")
        else:
            self._send(404, "text/plain", b"not found")

    def _send(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def local_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_fetch_local_server_with_allow_private(local_server):
    page = fetch.fetch(local_server + "/moved", DEFAULT.replace(allow_private=True))
    assert page.body == HTML
    assert page.final_url == local_server + "/article"


def test_fetch_local_server_refused_without_allow_private(local_server):
    with pytest.raises(BlockedAddressError, match="loopback"):
        fetch.fetch(local_server + "/article")


def test_fetch_local_server_errors(local_server):
    config = DEFAULT.replace(allow_private=True)
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch.fetch(local_server + "/missing", config)
    with pytest.raises(FetchError, match="image/png"):
        fetch.fetch(local_server + "/image", config)


def test_fetch_ingest_load_url_end_to_end(local_server):
    doc = ingest.load(local_server + "/moved", config=DEFAULT.replace(allow_private=True))
    assert doc.text.startswith("Bridge closed\n\n")
    assert doc.meta["url"] == local_server + "/moved"
    assert doc.meta["final_url"] == local_server + "/article"
    assert doc.meta["input_kind"] == "html"


def test_fetch_closed_port_is_connection_refused():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with pytest.raises(FetchError, match="cannot connect"):
        fetch.fetch(f"http://127.0.0.1:{port}/", DEFAULT.replace(allow_private=True,
                                                                 fetch_timeout=3))


def test_fetch_accepts_feed_content_types():
    import httpx

    from sourcetrace.config import Config
    from sourcetrace.inputs.fetch import fetch

    feed = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
    for media in ("application/rss+xml", "application/atom+xml"):
        transport = httpx.MockTransport(
            lambda request, media=media: httpx.Response(200, content=feed,
                                                         headers={"content-type": media}))
        page = fetch("http://93.184.216.34/feed", Config(), transport=transport)
        assert page.content_type == media
