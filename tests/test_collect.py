"""Readers: files, folders, records, CSV, WARC, feeds, URL lists; failures with reasons.
No network: URLs go through an httpx.MockTransport with DNS stubbed, or a local server."""
from __future__ import annotations

import gzip
import http.server
import io
import json
import threading
import time

import httpx
import pytest

from sourcetrace.inputs import fetch
from sourcetrace.inputs.collect import Collected, Failure, Fetcher, collect, estimate
from sourcetrace.config import Config
from sourcetrace.errors import InputError

ARTICLE = ('"The bridge will reopen on Friday," the mayor said on Monday. Engineers found '
           'no damage to the main span after the flood, according to a city report.')
HTML = f"""<!doctype html><html><head><title>Bridge to reopen</title>
<meta name="author" content="Kim Roe"><meta property="article:published_time" content="2024-03-05">
</head><body><article><h1>Bridge to reopen</h1><p>{ARTICLE}</p>
<p>Traffic will return to normal next week, officials said in a statement.</p></article></body></html>"""
RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>City news</title>
<link>https://news.example.com/</link>
<item><title>Bridge to reopen</title><link>https://news.example.com/bridge</link>
<pubDate>Tue, 05 Mar 2024 10:00:00 GMT</pubDate></item>
<item><title>Gone</title><link>https://news.example.com/gone</link></item>
<item><title>Inline</title><description>{}</description></item>
</channel></rss>""".format(ARTICLE.replace('"', "&quot;"))


def items(inputs, **kw):
    return list(collect([str(i) for i in inputs], **kw))


def ok(got):
    return [i for i in got if isinstance(i, Collected)]


def bad(got):
    return [i for i in got if isinstance(i, Failure)]


@pytest.fixture
def web(monkeypatch):
    """A fake web: path -> (status, content type, body); every host is public."""
    monkeypatch.setattr(fetch, "resolve", lambda host, port: ["93.184.216.34"])
    pages: dict[str, tuple[int, str, bytes]] = {}
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        status, ctype, body = pages.get(request.url.path, (404, "text/plain", b"not found"))
        return httpx.Response(status, headers={"content-type": ctype}, content=body)

    web = type("Web", (), {})()
    web.pages, web.seen = pages, seen
    web.fetcher = Fetcher(Config(), min_interval=0.0, transport=httpx.MockTransport(handler))
    return web


def test_collect_text_and_html_files(tmp_path):
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "b.html").write_text(HTML, encoding="utf-8")
    got = items([tmp_path / "a.txt", tmp_path / "b.html"])
    assert [c.kind for c in ok(got)] == ["text", "html"] and not bad(got)
    text, html = ok(got)
    assert text.document.text == ARTICLE and text.raw is None
    assert text.input == str(tmp_path / "a.txt")
    assert "the mayor said" in html.document.text and html.raw.startswith("<!doctype html>")
    assert html.document.meta.get("title") == "Bridge to reopen"


def test_collect_folder_reads_supported_files_in_order(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.txt").write_text(ARTICLE + " Third.", encoding="utf-8")
    (tmp_path / "b.txt").write_text(ARTICLE + " Second.", encoding="utf-8")
    (tmp_path / "a.jsonl").write_text(json.dumps({"text": ARTICLE, "title": "T"}) + "\n",
                                      encoding="utf-8")
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / ".hidden.txt").write_text("secret", encoding="utf-8")
    got = items([tmp_path])
    assert [c.input for c in ok(got)] == [f"{tmp_path}/a.jsonl:1", f"{tmp_path}/b.txt",
                                          f"{tmp_path}/sub/c.txt"]
    assert not bad(got)
    assert estimate([str(tmp_path)]) == 3


def test_collect_jsonl_records_and_bad_lines(tmp_path):
    p = tmp_path / "r.jsonl"
    p.write_text("\n".join([json.dumps({"id": "x1", "text": ARTICLE, "url": "https://a.com/1"}),
                            "{not json", json.dumps({"title": "no text"}), ""]), encoding="utf-8")
    got = items([p])
    assert [c.input for c in ok(got)] == [f"{p}:1"]
    assert ok(got)[0].document.meta["id"] == "x1"
    assert [f.input for f in bad(got)] == [f"{p}:2", f"{p}:3"]
    assert "invalid JSON" in bad(got)[0].reason and '"text"' in bad(got)[1].reason


def test_collect_csv_text_column_and_metadata(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text('title,Body,url,date\nBridge,"' + ARTICLE.replace('"', '""')
                 + '",https://news.example.com/b,2024-03-05\nEmpty,,,\n', encoding="utf-8")
    got = items([p])
    [c] = ok(got)
    assert c.input == f"{p}:2" and c.kind == "csv" and c.document.text == ARTICLE
    assert c.document.meta["title"] == "Bridge" and c.document.meta["url"].endswith("/b")
    [f] = bad(got)
    assert f.input == f"{p}:3" and '"text"' in f.reason


def test_collect_csv_without_text_column_is_one_failure(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("title,url\nBridge,https://a.com\n", encoding="utf-8")
    [f] = items([p])
    assert isinstance(f, Failure) and f.input == str(p)
    assert "no text column" in f.reason and "title, url" in f.reason
    got = items([p], text_column="title")
    assert ok(got) and ok(got)[0].document.text == "Bridge"


def write_warc(path, pages, *, gz=True):
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as f:
        writer = WARCWriter(f, gzip=gz)
        for url, ctype, body in pages:
            http_headers = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
            rec = writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                            http_headers=http_headers)
            writer.write_record(rec)


def test_collect_warc_html_responses(tmp_path):
    p = tmp_path / "news.warc.gz"
    write_warc(p, [("https://news.example.com/bridge", "text/html; charset=utf-8", HTML.encode()),
                   ("https://news.example.com/logo.png", "image/png", b"\x89PNG"),
                   ("https://news.example.com/empty", "text/html", b"<html><body></body></html>")])
    got = items([p])
    [c] = ok(got)
    assert c.kind == "warc" and c.input.startswith(f"{p}#urn:uuid:")
    assert c.document.meta["url"] == "https://news.example.com/bridge"
    assert "the mayor said" in c.document.text and c.raw.startswith("<!doctype")
    [f] = bad(got)
    assert "no article text" in f.reason and "news.example.com/empty" in f.reason


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("keep", [0.8, 0.95])
def test_collect_truncated_warc_keeps_records_before_the_cut(tmp_path, gz, keep):
    p = tmp_path / ("cut.warc.gz" if gz else "cut.warc")
    write_warc(p, [(f"https://news.example.com/{i}", "text/html",
                    HTML.replace("Friday", f"day {i}").encode()) for i in range(3)], gz=gz)
    data = p.read_bytes()
    p.write_bytes(data[: int(len(data) * keep)])
    got = items([p])
    assert len(ok(got)) == 2
    [f] = bad(got)
    assert f.input.startswith(f"{p}@") and "truncated or corrupt WARC" in f.reason


def test_collect_feed_fetches_each_item_page(web):
    web.pages["/feed"] = (200, "application/xml", RSS.encode())
    web.pages["/bridge"] = (200, "text/html", HTML.encode())
    got = items(["https://news.example.com/feed"], fetcher=web.fetcher)
    kinds = [(type(i).__name__, i.input) for i in got]
    assert ("Collected", "https://news.example.com/bridge") in kinds
    assert ("Failure", "https://news.example.com/gone") in kinds
    page = next(c for c in ok(got) if c.input.endswith("/bridge"))
    assert page.document.meta["feed"] == "https://news.example.com/feed"
    assert page.document.meta["date"] in ("2024-03-05", "2024-03-05T00:00:00")
    inline = next(c for c in ok(got) if c.kind == "feed")
    assert inline.document.text.startswith('"The bridge will reopen')
    assert "HTTP 404" in bad(got)[0].reason


def test_collect_feed_that_is_html_is_a_failure(web, tmp_path):
    web.pages["/page"] = (200, "text/html", HTML.encode())
    [f] = items(["https://news.example.com/page"], kind="feed", fetcher=web.fetcher)
    assert isinstance(f, Failure) and "is an HTML page, not an RSS or Atom feed" in f.reason
    p = tmp_path / "feed.xml"
    p.write_text(HTML, encoding="utf-8")
    [g] = items([p])
    assert isinstance(g, Failure) and "not an RSS or Atom feed" in g.reason


def test_collect_url_list_and_resume_skip(web, tmp_path):
    web.pages["/a"] = (200, "text/html", HTML.encode())
    web.pages["/b"] = (200, "text/plain", (ARTICLE + " More.").encode())
    p = tmp_path / "list.txt"
    p.write_text("# today\nhttps://news.example.com/a\n\nhttps://news.example.com/b\n", encoding="utf-8")
    got = items([p], fetcher=web.fetcher)
    assert [c.input for c in ok(got)] == ["https://news.example.com/a", "https://news.example.com/b"]
    assert all(c.kind == "url" for c in ok(got))
    web.seen.clear()
    got = items([p], fetcher=web.fetcher, skip=lambda url: url.endswith("/a"))
    assert [c.input for c in ok(got)] == ["https://news.example.com/b"]
    assert not any(u.endswith("/a") for u in web.seen)


def test_collect_robots_txt_is_honoured(web):
    web.pages["/robots.txt"] = (200, "text/plain", b"User-agent: *\nDisallow: /private/\n")
    web.pages["/private/x"] = (200, "text/html", HTML.encode())
    web.pages["/public"] = (200, "text/html", HTML.encode())
    got = items(["https://news.example.com/private/x", "https://news.example.com/public"],
                fetcher=web.fetcher)
    assert [type(i).__name__ for i in got] == ["Failure", "Collected"]
    assert "robots.txt" in got[0].reason
    assert web.seen.count("https://news.example.com/robots.txt") == 1  # cached per host
    assert "https://news.example.com/private/x" not in web.seen


def test_collect_fetcher_waits_between_requests_to_one_host():
    now = [0.0]
    slept: list[float] = []
    f = Fetcher(Config(), min_interval=2.0, clock=lambda: now[0],
                sleep=lambda s: (slept.append(s), now.__setitem__(0, now[0] + s)))
    f._wait("a.com")
    now[0] += 0.5
    f._wait("a.com")
    f._wait("b.com")
    assert slept == [1.5]


def test_collect_private_address_refused(tmp_path):
    [f] = items(["http://127.0.0.1:9/x"])
    assert isinstance(f, Failure) and f.code == "blocked_address"


class _Slow(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        time.sleep(1.5)
        try:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"late")
        except OSError:
            pass

    def log_message(self, *args):
        pass


def test_collect_url_that_times_out_is_a_failure():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        config = Config(allow_private=True, fetch_timeout=0.3)
        url = f"http://127.0.0.1:{server.server_address[1]}/slow"
        started = time.monotonic()
        [f] = items([url], config=config, fetcher=Fetcher(config, respect_robots=False))
        assert time.monotonic() - started < 1.4
        assert isinstance(f, Failure) and f.code == "fetch_failed" and "timed out" in f.reason
    finally:
        server.shutdown()
        server.server_close()


def test_collect_oversized_missing_and_binary_files(tmp_path):
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:
        f.truncate(2_000_001)
    png = tmp_path / "x.html"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 50)
    got = items([big, tmp_path / "nope.txt", png], config=Config(max_input_bytes=2_000_000))
    assert [type(i).__name__ for i in got] == ["Failure"] * 3
    assert "2,000,001 bytes, over the limit of 2,000,000" in got[0].reason
    assert got[0].code == "input_too_large"
    assert "no such file or folder" in got[1].reason
    assert got[2].code == "binary_input"


def test_collect_gzip_jsonl_is_not_confused_with_warc(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_bytes(gzip.compress(b'{"text": "x"}\n'))
    got = items([p])
    assert got and all(isinstance(i, Failure) for i in got)


def test_collect_robots_txt_server_error_refuses_the_host(web):
    web.pages["/robots.txt"] = (503, "text/plain", b"busy")
    web.pages["/a"] = (200, "text/html", HTML.encode())
    [f] = items(["https://news.example.com/a"], fetcher=web.fetcher)
    assert isinstance(f, Failure) and "robots.txt" in f.reason
    assert "https://news.example.com/a" not in web.seen


def test_collect_forced_kind_mismatch_is_a_failure(tmp_path):
    [f] = items(["https://news.example.com/a"], kind="warc")
    assert isinstance(f, Failure) and "is a URL, not a warc file" in f.reason
    with pytest.raises(InputError, match="unknown input kind"):
        items([tmp_path], kind="pdf")


# ------------------------------------------------------------ issue 24: hygiene and recovery

LONG = ("The mayor told reporters on Tuesday that the budget for district {n} would be balanced "
        "by the end of the year, officials said on Monday.")
SURROGATE_FIELDS = ("title", "outlet", "id", "author", "date", "url", "extra\udc80")


def surrogate_records(path, n=12, bad=(2, 5, 9)):
    """``n`` JSON lines; records ``bad`` carry a lone surrogate (a JSON \\udc80 escape) in
    a metadata field, a key, or several."""
    with open(path, "w", encoding="ascii") as f:
        for i in range(n):
            r = {"id": f"r{i}", "title": f"Title {i}", "text": LONG.format(n=i)}
            if i in bad:   # the 1st bad record: title, author, an unknown key; the 2nd:
                for k in SURROGATE_FIELDS[bad.index(i) % 3::3]:   # outlet, date; the 3rd: id, url
                    r[k] = (str(r.get(k) or "v")) + "\udc80"
            f.write(json.dumps(r) + "\n")   # ensure_ascii: the surrogate is an escape
    return path


def test_collect_lone_surrogates_in_metadata_become_replacement_characters(tmp_path):
    got = items([surrogate_records(tmp_path / "s.jsonl")])
    assert len(ok(got)) == 12 and not bad(got)
    for c in ok(got):
        json.dumps(c.document.meta, ensure_ascii=False).encode("utf-8")   # no surrogate left
        c.input.encode("utf-8")
    metas = [c.document.meta for c in ok(got)]
    assert metas[2]["title"] == "Title 2\ufffd" and metas[2]["author"] == "v\ufffd"
    assert metas[2]["extra\ufffd"] == "v\ufffd"
    assert metas[5]["outlet"] == "v\ufffd" and metas[5]["date_original"] == "v\ufffd"
    assert metas[9]["id"] == "r9\ufffd" and metas[9]["url"] == "v\ufffd"


def test_collect_lone_surrogate_in_the_text_fails_that_record_with_its_offset(tmp_path):
    p = tmp_path / "t.jsonl"
    p.write_text("\n".join(json.dumps({"text": LONG.format(n=i) + ("\udc80" if i == 1 else "")})
                           for i in range(3)) + "\n", encoding="ascii")
    got = items([p])
    assert len(ok(got)) == 2
    [f] = bad(got)
    assert f.input.endswith(":2") and "surrogate" in f.reason and "offset" in f.reason


@pytest.mark.parametrize("item", [
    '<content:encoded><![CDATA[<p>{0}</p><p>\u201cWe will not raise taxes,\u201d she '
    'said.</p>]]></content:encoded>',
    '<description>&lt;p&gt;{0}&lt;/p&gt;&lt;p&gt;\u201cWe will not raise taxes,\u201d she '
    'said.&lt;/p&gt;</description>',
    '<description>{0} &lt;b&gt;\u201cWe will not raise taxes,\u201d&lt;/b&gt; she '
    'said.</description>',
], ids=["content-encoded", "description", "inline-markup"])
def test_collect_feed_item_html_on_one_line_is_read_as_html(tmp_path, item):
    feed = tmp_path / "f.rss"
    feed.write_text('<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:content='
                    '"http://purl.org/rss/1.0/modules/content/"><channel><title>T</title>'
                    f'<item><title>One</title><guid>a1</guid>{item.format(LONG.format(n=1))}'
                    '</item></channel></rss>', encoding="utf-8")
    [c] = ok(items([feed]))
    assert "<" not in c.document.text and ">" not in c.document.text
    assert c.document.text.startswith("The mayor told reporters")
    assert "\u201cWe will not raise taxes,\u201d" in c.document.text
    assert c.raw is not None and "<" in c.raw   # the HTML is kept as the raw input


def _plain_warc(n=3) -> list[bytes]:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    out = []
    for i in range(n):
        b = io.BytesIO()
        w = WARCWriter(b, gzip=False)
        h = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        w.write_record(w.create_warc_record(
            f"https://news.example.com/{i}", "response",
            payload=io.BytesIO(HTML.replace("Friday", f"day {i}").encode()), http_headers=h))
        out.append(b.getvalue())
    return out


@pytest.mark.parametrize("where", [0.02, 0.1, 0.3, 0.45, 0.6, 0.9, 0.99])
def test_collect_plain_warc_reads_the_record_after_a_truncated_one(tmp_path, where):
    """A record cut short in the middle of a plain .warc (in its headers or its body) is
    listed as a failure and the next good record is still read."""
    recs = _plain_warc()
    p = tmp_path / "cut.warc"
    p.write_bytes(recs[0] + recs[1][:int(len(recs[1]) * where)] + recs[2])
    got = items([p])
    assert [c.document.meta["url"] for c in ok(got)] == ["https://news.example.com/0",
                                                         "https://news.example.com/2"]
    [f] = bad(got)
    assert f.input == f"{p}@{len(recs[0])}" and "truncated or corrupt WARC" in f.reason


@pytest.mark.parametrize("broken", [
    'r2,"Broken title,"{t}',        # a quote closed in the middle of a field
    'r2,"Broken title,{t}',         # a quote never closed: it would swallow the rows after
    'r2,Title 2,"{t}',              # the text's quote never closed
    'r2,Title 2,{t},extra',         # one field too many
])
def test_collect_csv_bad_quote_fails_its_row_and_loses_no_good_row(tmp_path, broken):
    rows = ["id,title,text"]
    for i in range(6):
        t = LONG.format(n=i)
        rows.append(broken.format(t=t) if i == 2 else f'r{i},Title {i},"{t}"')
    p = tmp_path / "q.csv"
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    got = items([p])
    assert sorted(c.document.text for c in ok(got)) == sorted(LONG.format(n=i) for i in
                                                              (0, 1, 3, 4, 5))
    [f] = bad(got)
    assert f.input == f"{p}:4" and "line 4" in f.reason


def test_collect_csv_multiline_quoted_text_is_one_row(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text('id,text\nr1,"First paragraph, the mayor said.\n\nSecond ""quoted"" one."\n'
                 'r2,"Another article, officials said."\n', encoding="utf-8")
    got = items([p])
    assert not bad(got)
    assert [c.document.text for c in ok(got)] == [
        'First paragraph, the mayor said.\n\nSecond "quoted" one.',
        "Another article, officials said."]
    assert [c.input for c in ok(got)] == [f"{p}:2", f"{p}:3"]


def test_collect_folder_does_not_follow_links_out_of_it(tmp_path):
    folder, outside = tmp_path / "in", tmp_path / "outside"
    folder.mkdir()
    outside.mkdir()
    (folder / "a.txt").write_text(LONG.format(n=1), encoding="utf-8")
    (outside / "secret.txt").write_text(LONG.format(n=2), encoding="utf-8")
    (folder / "link.txt").symlink_to(outside / "secret.txt")
    (folder / "dir").symlink_to(outside)
    (folder / "same.txt").symlink_to(folder / "a.txt")
    got = items([folder])
    assert [c.document.text for c in ok(got)] == [LONG.format(n=1)] * 2   # a.txt, same.txt
    assert sorted((f.input, f.code) for f in bad(got)) == [
        (str(folder / "dir"), "skipped_link"), (str(folder / "link.txt"), "skipped_link")]
    assert all("outside the folder" in f.reason for f in bad(got))


def test_collect_latin1_file_is_read_as_latin1_not_guessed(tmp_path):
    """Short Latin-1 texts that charset-normalizer alone reads as Big5 or Baltic code
    pages are read as Windows-1252 (Latin-1's superset for text)."""
    texts = ["\u00e9l\u00e8ve mayor a\u00f1o said the council on Monday, officials confirmed.",
             "The caf\u00e9 owner said the na\u00efve plan would cost \u00a35,000, "
             "according to Jos\u00e9 Mart\u00ednez.",
             "fa\u00e7ade mayor \u00fcber br\u00fbl\u00e9e c\u00f4te fa\u00e7ade na\u00efve "
             "br\u00fbl\u00e9e said the mayor on Monday to reporters in the city."]
    for i, text in enumerate(texts):
        (tmp_path / f"{i}.txt").write_bytes(text.encode("latin-1"))
    got = items([tmp_path], config=Config(require_english=False))
    assert [c.document.text for c in ok(got)] == texts
    assert all(c.document.meta["encoding"] == "cp1252" for c in ok(got))
    assert all("decoded as cp1252" in c.document.warnings[0] for c in ok(got))


def test_collect_undecidable_legacy_encoding_is_refused_loudly(tmp_path):
    from sourcetrace.errors import EncodingError
    from sourcetrace.inputs.read import decode

    data = "The mayor met \u041f\u0443\u0442\u0438\u043d on Monday, officials said.".encode(
        "cp1251")
    with pytest.raises(EncodingError, match="cannot be told reliably"):
        decode(data)
    text = "\u041f\u0440\u0435\u0437\u0438\u0434\u0435\u043d\u0442 \u0437\u0430\u044f\u0432\u0438\u043b \u0432 \u043f\u043e\u043d\u0435\u0434\u0435\u043b\u044c\u043d\u0438\u043a, \u0447\u0442\u043e \u043f\u0435\u0440\u0435\u0433\u043e\u0432\u043e\u0440\u044b \u043f\u0440\u043e\u0434\u043e\u043b\u0436\u0430\u0442\u0441\u044f."
    assert decode(text.encode("cp1251")) == (text, "cp1251")


def test_collect_csv_row_with_trailing_cells_left_out_is_read(tmp_path):
    p = tmp_path / "short.csv"
    p.write_text('text,title,url\n"An article, the mayor said.",Title\n', encoding="utf-8")
    [c] = ok(items([p]))
    assert c.document.text == "An article, the mayor said." and c.document.meta["title"] == "Title"


def test_collect_feed_with_a_surrogate_character_reference_is_read(tmp_path):
    """``&#xdc80;`` made feedparser's fallback parser fail the whole feed."""
    feed = tmp_path / "s.rss"
    feed.write_text('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                    '<title>T&#xdc80;</title><item><title>One &#xdc80;</title><guid>g&#xdc80;'
                    f'</guid><description>{LONG.format(n=1)} &#55296;</description></item>'
                    '</channel></rss>', encoding="utf-8")
    [c] = items([feed])
    assert isinstance(c, Collected), c
    assert c.document.meta["title"] == "One \ufffd" and c.input == f"{feed}#g\ufffd"
    assert c.document.text == LONG.format(n=1) + " \ufffd"
