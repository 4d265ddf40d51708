"""Readers that turn corpus inputs into a stream of articles (ingest.Document).

    collect(inputs, config=...)  -> Iterator[Collected | Failure]

An input is a path, a folder, a URL or a URL list; what is inside decides the reader:

    folder            every supported file under it, in name order (hidden files skipped)
    .txt .html .htm   one article (ingest.from_string); a .txt holding only URLs is a URL list
    .json .jsonl      one article per record (ingest.iter_records; a text field required)
    .csv .tsv         one article per row: a text column (text, body, content, article,
                      maintext) and any other columns as metadata (title, url, date, ...)

Records and rows name their fields as they like: metadata.FIELD_NAMES lists the names
recognised for text, title, outlet, date, url and id, and ``MetaOptions.fields`` maps
any other; dates are parsed to ISO 8601 for every input (metadata.finish).
    .warc .warc.gz    one article per HTML response record (Common Crawl News style)
    .rss .atom .xml   an RSS/Atom feed: each item's page is fetched (the item's own
                      content is used when it has no link)
    .urls             a URL list: one URL per line, # comments
    http(s)://...     a page: an article, or a feed when the server sends RSS/Atom

Every input that cannot be read yields a ``Failure`` with its reason, and the
stream goes on with the next one. URLs go through ``fetch.fetch`` (timeouts, size
cap, private addresses refused unless allowed) behind a ``Fetcher`` that also
honours robots.txt and waits ``min_interval`` seconds between two requests to the
same host.
"""
from __future__ import annotations

import csv
import io
import os
import re
import time
import urllib.robotparser
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import urlsplit

from . import read as ingest
from .metadata import FIELD_NAMES, MetaOptions, finish, valid_meta, valid_text
from ..config import DEFAULT, Config
from ..errors import FetchError, InputError, InputTooLargeError, SourcetraceError

__all__ = ["Collected", "Failure", "Fetcher", "check_inputs", "collect", "estimate", "KINDS"]

KINDS = ("auto", "file", "feed", "warc", "urls", "url")
TEXT_COLUMNS = FIELD_NAMES["text"]
_ARTICLE_SUFFIXES = {".txt", ".html", ".htm", ".xhtml", ".text", ".md"}
_RECORD_SUFFIXES = {".json", ".jsonl", ".ndjson"}
_CSV_SUFFIXES = {".csv", ".tsv"}
_FEED_SUFFIXES = {".rss", ".atom", ".xml"}
_WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
_HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
_URL = re.compile(r"\Ahttps?://\S+\Z", re.I)
_URL_START = re.compile(r"\Ahttps?://", re.I)  # then it must be a URL by fetch.URL_PATTERN
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml",
               "application/xml", "text/xml", "application/feed+json")
_FEED_START = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--(?:[^-]|-(?!->))*-->\s*)*"
                         rb"<(?:rss|feed|rdf:RDF)[\s>]", re.S | re.I)


@dataclass(frozen=True)
class Collected:
    """An article read from an input. ``input`` names it for resume and failures:
    a path, ``path:N`` for the N-th record or row, ``path#record-id`` in a WARC, a URL."""

    input: str
    document: ingest.Document
    kind: str
    raw: str | None = None


@dataclass(frozen=True)
class Failure:
    """An input (or one record of it) that gave no article, and why."""

    input: str
    reason: str
    code: str = "bad_input"

    @classmethod
    def of(cls, input: str, exc: BaseException) -> "Failure":
        if isinstance(exc, SourcetraceError):
            return cls(input, str(exc), exc.code)
        return cls(input, f"{type(exc).__name__}: {exc}", "error")


Item = Collected | Failure


class Fetcher:
    """Polite fetching: robots.txt honoured, one request per host per ``min_interval``
    seconds, everything else (address checks, timeouts, size cap) by ``fetch.fetch``.

    robots.txt: 4xx or unreachable -> allowed (the page fetch then reports any network
    failure itself); 5xx -> the whole host is refused, as RFC 9309 asks.
    """

    def __init__(self, config: Config = DEFAULT, *, min_interval: float = 1.0,
                 respect_robots: bool = True, transport: Any = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self.min_interval = min_interval
        self.respect_robots = respect_robots
        self.transport = transport
        self._clock = clock
        self._sleep = sleep
        self._last: dict[str, float] = {}
        self._robots: dict[str, urllib.robotparser.RobotFileParser | None] = {}

    def _wait(self, host: str) -> None:
        last = self._last.get(host)
        if last is not None:
            delay = last + self.min_interval - self._clock()
            if delay > 0:
                self._sleep(delay)
        self._last[host] = self._clock()

    def _get(self, url: str):
        from . import fetch

        self._wait(urlsplit(url).netloc.lower())
        return fetch.fetch(url, self.config, transport=self.transport)

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        root = f"{parts.scheme}://{parts.netloc}".lower()
        if root not in self._robots:
            parser: urllib.robotparser.RobotFileParser | None = None
            try:
                page = self._get(root + "/robots.txt")
                parser = urllib.robotparser.RobotFileParser()
                parser.parse(page.body.decode("utf-8", "replace").splitlines())
            except FetchError as exc:
                if re.match(r"HTTP 5\d\d", exc.message):
                    parser = urllib.robotparser.RobotFileParser()
                    parser.disallow_all = True
            self._robots[root] = parser
        parser = self._robots[root]
        return parser is None or parser.can_fetch(_agent(self.config.user_agent), url)

    def get(self, url: str):
        """The Page at ``url``; FetchError when refused or failed."""
        if self.respect_robots and not self.allowed(url):
            raise FetchError(f"robots.txt of {urlsplit(url).netloc} disallows {url}",
                             hint="respect the site's wishes, or ingest a copy you may use")
        return self._get(url)


def _agent(user_agent: str) -> str:
    return user_agent.split("/", 1)[0].strip() or "*"


# --------------------------------------------------------------------------- entry point

def collect(inputs: Iterable[str], *, config: Config = DEFAULT, kind: str = "auto",
            fetcher: Fetcher | None = None,
            skip: Callable[[str], bool] | None = None,
            text_column: str | None = None,
            meta: MetaOptions | None = None) -> Iterator[Item]:
    """Every article of ``inputs`` as Collected, every unreadable input as Failure.

    ``kind`` forces how each input is read (auto, file, feed, warc, urls, url).
    ``skip(input)`` -> True leaves a URL unfetched (resume: it is already stored).
    ``meta``: field mapping, default outlet and date (see ``inputs.metadata``); every
    article's metadata comes out under our names with its date parsed.
    """
    if kind not in KINDS:
        raise InputError(f"unknown input kind {kind!r}", hint=f"use one of {', '.join(KINDS)}")
    meta = meta or MetaOptions()
    if text_column and "text" not in meta.fields:
        meta = MetaOptions(fields={**meta.fields, "text": text_column}, outlet=meta.outlet,
                           date=meta.date, dayfirst=meta.dayfirst)
    reader = _Reader(config, fetcher or Fetcher(config), skip or (lambda _i: False), meta)
    for target in inputs:
        try:
            yield from (_finished(item, meta) for item in reader.target(str(target), kind))
        except SourcetraceError as exc:
            yield _finished(Failure.of(str(target), exc), meta)
        except OSError as exc:
            yield _finished(Failure(str(target), f"cannot read {target}: "
                                    f"{exc.strerror or exc}", "bad_input"), meta)
        except Exception as exc:  # a reader bug must not stop the other inputs
            yield _finished(Failure(str(target), f"could not read {target}: "
                                    f"{type(exc).__name__}: {exc}", "error"), meta)


def check_inputs(inputs: Iterable[str]) -> None:
    """Refuse (InputError, before anything is read or created) a list of inputs that
    names a file or folder that is not there: a typo must not start a run, nor create
    a corpus. URLs are checked when fetched."""
    missing = [str(t) for t in inputs if not _URL_START.match(str(t)) and not _exists(str(t))]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise InputError(f"no such file or folder: {missing[0]}{more}",
                         hint="check the path; nothing was read or stored")


def _exists(target: str) -> bool:
    try:
        return os.path.lexists(target)
    except (OSError, ValueError):   # a NUL or a name too long for the file system
        return False


class _Truncated(Exception):
    pass


class _Reader:
    def __init__(self, config: Config, fetcher: Fetcher, skip: Callable[[str], bool],
                 meta: MetaOptions) -> None:
        self.config = config
        self.fetcher = fetcher
        self.skip = skip
        self.fields = dict(meta.fields)
        self.text_column = meta.fields.get("text")

    # -- dispatch ---------------------------------------------------------------------
    def target(self, target: str, kind: str) -> Iterator[Item]:
        if _URL_START.match(target):
            from .fetch import is_url

            if not is_url(target):
                yield Failure(target[:300], f"not an http(s) URL: {target[:200]!r} (a URL has "
                              "no spaces or control characters)", "bad_input")
                return
            if kind == "feed":
                yield from self.feed_url(target)
            elif kind in ("auto", "url"):
                yield from self.url(target, detect_feed=kind == "auto")
            else:
                yield Failure(target, f"{target} is a URL, not a {kind} file", "bad_input")
            return
        p = Path(target)
        if p.is_dir():
            yield from self.folder(p, kind)
        elif p.exists():
            yield from self.file(p, kind)
        else:
            yield Failure(target, f"no such file or folder: {target}", "bad_input")

    def folder(self, folder: Path, kind: str) -> Iterator[Item]:
        root = Path(os.path.realpath(folder))
        for p in _walk(folder, links=True):
            if p.is_symlink():   # a link is read only when it stays inside the folder
                target = Path(os.path.realpath(p))
                if target != root and root not in target.parents:
                    yield Failure(str(p), f"{p} is a link to {target}, outside the folder "
                                  f"{folder}: not followed", "skipped_link")
                    continue
                if target.is_dir():
                    continue   # its files are read where they are, in the folder
            if kind != "auto" or _suffix_kind(p) is not None:
                try:
                    yield from self.file(p, kind)
                except SourcetraceError as exc:
                    yield Failure.of(str(p), exc)
                except OSError as exc:
                    yield Failure(str(p), f"cannot read {p}: {exc.strerror or exc}")
                except Exception as exc:  # a reader bug must not stop the other files
                    yield Failure(str(p), f"could not read {p}: {type(exc).__name__}: {exc}",
                                  "error")

    def file(self, p: Path, kind: str) -> Iterator[Item]:
        chosen = _suffix_kind(p) if kind == "auto" else kind
        if chosen == "records":
            yield from self.records(p)
        elif chosen == "csv":
            yield from self.csv(p)
        elif chosen == "warc":
            yield from self.warc(p)
        elif chosen == "feed":
            yield from self.feed_file(p)
        elif chosen == "urls":
            yield from self.url_list(p)
        elif chosen == "url":
            yield Failure(str(p), f"{p} is a file, not a URL", "bad_input")
        else:
            yield from self.article_file(p)

    # -- files ------------------------------------------------------------------------
    def article_file(self, p: Path) -> Iterator[Item]:
        size = p.stat().st_size
        if size > self.config.max_input_bytes:
            yield Failure(str(p), f"{p} is {size:,} bytes, over the limit of "
                          f"{self.config.max_input_bytes:,} for one article (give one article "
                          "per file, or raise max_input_bytes)", InputTooLargeError.code)
            return
        data = p.read_bytes()
        if p.suffix.lower() == ".txt" and _is_url_list(data):
            yield from self.url_list(p, data)
            return
        html = True if p.suffix.lower() in _HTML_SUFFIXES else None
        try:
            doc = ingest.from_string(data, config=self.config, meta={"path": str(p)}, html=html)
        except SourcetraceError as exc:
            yield Failure.of(str(p), exc)
            return
        kind = doc.meta.get("input_kind", "text")
        yield Collected(str(p), doc, kind, _raw(data, doc, kind))

    def records(self, p: Path) -> Iterator[Item]:
        for number, result in ingest.iter_records(p, config=self.config, fields=self.fields):
            key = f"{p}:{number}"
            if isinstance(result, SourcetraceError):
                yield Failure.of(key, result)
            else:
                yield Collected(key, result, "json")

    def csv(self, p: Path) -> Iterator[Item]:
        # a row is read whole up to twice the article cap; a longer field or line, a row
        # that is not UTF-8 or not CSV fails alone and the rows after it are read. Quotes
        # are read strictly: a row whose quote is never closed, or closed in the middle of
        # a field, fails alone (named with its line) and the lines it swallowed are read
        # again as rows, so that no good row is lost and no fragment becomes an article.
        limit = 2 * max(self.config.max_input_bytes, 1 << 20)
        csv.field_size_limit(limit)
        delimiter = "\t" if p.suffix.lower() == ".tsv" else ","
        with p.open("rb") as f:
            lines = _Replay(_csv_lines(f, limit))
            try:
                columns = next(csv.reader(lines, delimiter=delimiter, strict=True), [])
            except csv.Error as exc:
                yield Failure(str(p), f"{p} is not a readable CSV file: {exc}")
                return
            if any(_SURROGATES.search(c) or _OVERLONG in c for c in columns if c):
                yield Failure(str(p), f"{p}: the header line is not valid UTF-8 text",
                              "bad_encoding")
                return
            wanted = (self.text_column,) if self.text_column else TEXT_COLUMNS
            lower = {c.lower().strip(): c for c in columns if c}
            text_col = next((lower[w.lower()] for w in wanted if w.lower() in lower), None)
            if text_col is None:
                shown = ", ".join(columns) if columns else "none"
                yield Failure(str(p), f"{p} has no text column (looked for "
                              f"{', '.join(wanted)}; its columns: {shown})",
                              "bad_record")
                return
            number = 1  # line 1 is the header; rows are numbered from 2
            while True:
                number += 1
                key = f"{p}:{number}"
                first = lines.start_row()
                try:
                    values = next(csv.reader(lines, delimiter=delimiter, strict=True))
                except StopIteration:
                    break
                except csv.Error as exc:
                    lines.replay_row()   # the lines after its first are read again
                    yield Failure(key, f"row {number} (line {first}) of {p} is not readable "
                                  f"CSV: {exc}; it was skipped and the lines after it read "
                                  "again", "bad_record")
                    continue
                if not values:
                    number -= 1   # a blank line is no row
                    continue
                if any(_OVERLONG in v for v in values):
                    yield Failure(key, f"row {number} of {p} is over the limit of {limit:,} "
                                  "bytes", InputTooLargeError.code)
                    continue
                if any(_SURROGATES.search(v) for v in values):
                    yield Failure(key, f"row {number} of {p} is not valid UTF-8",
                                  "bad_encoding")
                    continue
                if len(values) < len(columns) and lines.rows_taken() == 1:
                    values += [""] * (len(columns) - len(values))   # trailing cells left out
                if len(values) != len(columns):
                    if lines.rows_taken() > 1:
                        lines.replay_row()
                    yield Failure(key, f"row {number} (line {first}) of {p} has "
                                  f"{len(values)} fields where the header has {len(columns)}"
                                  + ("; it was skipped and the lines after it read again"
                                     if lines.replayed else ""), "bad_record")
                    continue
                row = dict(zip(columns, values))
                record = {("text" if k == text_col else k.strip()): v
                          for k, v in row.items() if k and v not in (None, "")}
                try:
                    doc = ingest.from_record(record, config=self.config,
                                             meta={"path": str(p), "record": number},
                                             fields=self.fields)
                except SourcetraceError as exc:
                    yield Failure.of(key, exc)
                    continue
                yield Collected(key, _with_meta(doc, input_kind="csv"), "csv")

    def warc(self, p: Path) -> Iterator[Item]:
        """One article per HTML response record. The file is framed record by record
        here (each gzip member, each record's Content-Length and the blank lines that
        must follow it), so that a bad member, version line or Content-Length, or a
        record cut short, fails alone as ``path@byte`` and the records after it are
        read; warcio then parses each whole record."""
        if p.name.lower().endswith((".arc", ".arc.gz")):
            yield from self.arc(p)
            return
        from warcio.archiveiterator import ArchiveIterator

        cap = 2 * self.config.max_input_bytes
        n = 0  # response records seen
        with p.open("rb") as f:
            gz = f.read(2) == b"\x1f\x8b"
            f.seek(0)
            blocks = _gzip_members(f, cap) if gz else iter([(0, f)])
            for base, block in blocks:
                if isinstance(block, str):
                    yield Failure(f"{p}@{base}", f"{p}: truncated or corrupt WARC: gzip member "
                                  f"at byte {base:,}: {block}", "bad_input")
                    continue
                for offset, data, why in _warc_frames(block, cap):
                    where = base + offset if not gz else base
                    key = f"{p}@{where}" + (f"+{offset}" if gz and offset else "")
                    if data is None:
                        yield Failure(key, f"{p}: truncated or corrupt WARC record at byte "
                                      f"{where:,}: {why}", "bad_input")
                        continue
                    try:
                        record = next(iter(ArchiveIterator(io.BytesIO(data))))
                        if record.rec_type != "response":
                            continue
                        n += 1
                        item = self._warc_record(p, n, record)
                    except Exception as exc:  # warcio: a broken record or HTTP head
                        yield Failure(key, f"{p}: corrupt WARC record at byte {where:,}: "
                                      f"{type(exc).__name__}: {str(exc)[:200]}", "bad_input")
                        continue
                    if item is not None:
                        yield item

    def arc(self, p: Path) -> Iterator[Item]:
        try:
            from warcio.archiveiterator import ArchiveIterator
        except ImportError:  # pragma: no cover - a core dependency
            yield Failure(str(p), "reading WARC needs warcio: pip install warcio", "error")
            return
        n = done = 0  # response records seen, response records read whole
        with p.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            try:
                records = ArchiveIterator(f, arc2warc=True)
                for record in records:
                    if record.rec_headers.get_header("Content-Length") is None:
                        raise _Truncated("a record is cut in its headers")
                    item = None
                    if record.rec_type == "response":
                        n += 1
                        item = self._warc_record(p, n, record)
                    while record.raw_stream.read(1 << 16):
                        pass
                    if getattr(record.raw_stream, "limit", 0) > 0:
                        raise _Truncated(f"response record {n} ends {record.raw_stream.limit:,} "
                                        "bytes short")
                    if record.rec_type == "response":
                        done += 1
                    if item is not None:
                        yield item
                end = getattr(records, "offset", size)
                if end < size:
                    raise _Truncated(f"{size - end:,} bytes at the end are not a whole record")
            except Exception as exc:  # warcio raises ArchiveLoadFailed, EOFError, zlib.error...
                why = str(exc) if isinstance(exc, _Truncated) else f"{type(exc).__name__}: {exc}"
                yield Failure(str(p), f"{p}: truncated or corrupt WARC after {done} whole response "
                              f"record(s): {why[:200]}", "bad_input")

    def _warc_record(self, p: Path, n: int, record: Any) -> Item | None:
        headers = record.rec_headers
        rec_id = (headers.get_header("WARC-Record-ID") or str(n)).strip("<>")
        key = f"{p}#{rec_id}"
        url = headers.get_header("WARC-Target-URI")
        http = record.http_headers
        status = http.get_statuscode() if http else None
        ctype = (http.get_header("Content-Type") or "").lower() if http else ""
        if status and not status.startswith("2"):
            return None
        if ctype and not any(t in ctype for t in ("html", "text/plain")):
            return None  # images, scripts, robots.txt ...: not articles
        data = record.content_stream().read(self.config.max_input_bytes + 1)
        if len(data) > self.config.max_input_bytes:
            return Failure(key, f"WARC record {url} is over {self.config.max_input_bytes:,} bytes",
                           InputTooLargeError.code)
        charset = None
        m = re.search(r"charset=([\w-]+)", ctype)
        if m:
            charset = m.group(1)
        meta = {"url": url, "path": str(p), "crawl_date": headers.get_header("WARC-Date")}
        try:
            doc = ingest.from_string(data, config=self.config, meta=meta,
                                     html=True if "html" in ctype else None, encoding=charset)
        except SourcetraceError as exc:
            return Failure(key, f"{url}: {exc}", exc.code)
        return Collected(key, _with_meta(doc, input_kind="warc"), "warc",
                         _raw(data, doc, "html", charset))

    # -- URLs and feeds -----------------------------------------------------------------
    def url_list(self, p: Path, data: bytes | None = None) -> Iterator[Item]:
        if data is None:
            size = p.stat().st_size
            if size > 50 * self.config.max_input_bytes:
                yield Failure(str(p), f"URL list {p} is {size:,} bytes: too large", "input_too_large")
                return
            data = p.read_bytes()
        for line in data.decode("utf-8", "replace").splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not _URL.match(line):
                yield Failure(f"{p}: {line[:200]}", f"not an http(s) URL: {line[:200]!r}")
                continue
            yield from self.url(line, detect_feed=True)

    def url(self, url: str, *, detect_feed: bool) -> Iterator[Item]:
        if self.skip(url):
            return
        try:
            page = self.fetcher.get(url)
        except SourcetraceError as exc:
            yield Failure.of(url, exc)
            return
        if detect_feed and _looks_like_feed(page.content_type, page.body):
            yield from self.feed_body(url, page.body)
            return
        yield self._page(url, page, {})

    def _page(self, url: str, page: Any, extra: dict[str, Any]) -> Item:
        meta = {"url": url, "final_url": page.final_url}
        for key, value in extra.items():
            meta.setdefault(key, value)
        try:
            doc = ingest.from_string(page.body, config=self.config, meta=meta,
                                     html=True if page.is_html else None, encoding=page.charset)
        except SourcetraceError as exc:
            return Failure.of(url, exc)
        kind = doc.meta.get("input_kind", "text")
        return Collected(url, _with_meta(doc, input_kind="url"), "url",
                         _raw(page.body, doc, kind, page.charset))

    def feed_url(self, url: str) -> Iterator[Item]:
        try:
            page = self.fetcher.get(url)
        except SourcetraceError as exc:
            yield Failure.of(url, exc)
            return
        yield from self.feed_body(url, page.body)

    def feed_file(self, p: Path) -> Iterator[Item]:
        size = p.stat().st_size
        if size > self.config.max_input_bytes:
            yield Failure(str(p), f"feed {p} is {size:,} bytes, over the limit of "
                          f"{self.config.max_input_bytes:,}", "input_too_large")
            return
        yield from self.feed_body(str(p), p.read_bytes())

    def feed_body(self, name: str, body: bytes) -> Iterator[Item]:
        import feedparser

        parsed = feedparser.parse(io.BytesIO(_CHARREF.sub(_valid_charref, body)))
        if not parsed.get("version") and not parsed.entries:
            if ingest.looks_like_html(body[:4096].decode("utf-8", "replace")):
                reason = f"{name} is an HTML page, not an RSS or Atom feed"
            else:
                why = parsed.get("bozo_exception")
                reason = f"{name} is not an RSS or Atom feed" + (f" ({why})" if why else "")
            yield Failure(name, reason + " (give the feed's own URL, or the page as an article)",
                          "bad_input")
            return
        feed_link = parsed.feed.get("link") or (name if _URL.match(name) else None)
        for n, entry in enumerate(parsed.entries, 1):
            extra = {"feed": name}
            for key in ("title", "author"):
                if entry.get(key):
                    extra[key] = entry.get(key)
            when = entry.get("published_parsed") or entry.get("updated_parsed")
            if when:
                extra["date"] = time.strftime("%Y-%m-%d", when)
            link = entry.get("link")
            if link and _URL.match(link):
                if self.skip(link):
                    continue
                try:
                    page = self.fetcher.get(link)
                except SourcetraceError as exc:
                    yield Failure.of(link, exc)
                    continue
                yield self._page(link, page, extra)
                continue
            body, is_html = _entry_content(entry)
            key = f"{name}#{entry.get('id') or n}"
            if not body:
                yield Failure(key, f"feed item {n} of {name} has neither a link nor content")
                continue
            if feed_link:
                extra.setdefault("url", feed_link)
            try:
                doc = _feed_item_document(body, is_html, self.config, extra)
            except SourcetraceError as exc:
                yield Failure.of(key, exc)
                continue
            yield Collected(key, _with_meta(doc, input_kind="feed"), "feed", body)


# --------------------------------------------------------------------------- helpers

_WARC_VERSION = re.compile(rb"WARC/\d+\.\d+\r?\n\Z")   # match: a version line; search: one
                                                          # that a cut header line runs into
# where a record may start: a version line, at a line start or right after a record cut
# short (its last line then runs into the next record's version line)
_WARC_START = re.compile(rb"WARC/\d+\.\d+\r?\n")
_WARC_HEAD_BYTES = 1 << 16


def _resync(f: Any, pos: int, pattern: re.Pattern[bytes]) -> None:
    """Move ``f`` to the next match of ``pattern`` at or after ``pos`` (else the end)."""
    f.seek(pos)
    carry = b""
    start = pos
    while True:
        chunk = f.read(1 << 20)
        if not chunk:
            f.seek(0, os.SEEK_END)
            return
        buf = carry + chunk
        m = pattern.search(buf)
        if m:
            f.seek(start + m.start())
            return
        keep = min(len(buf), 32)
        carry = buf[-keep:]
        start += len(buf) - keep


def _warc_frames(f: Any, cap: int) -> Iterator[tuple[int, bytes | None, str | None]]:
    """(offset, whole record bytes, None) per WARC record of ``f`` (uncompressed), or
    (offset, None, why) for a part that is not a well-framed record."""
    f.seek(0, os.SEEK_END)
    size = f.tell()
    f.seek(0)
    while True:
        offset = f.tell()
        line = f.readline(_WARC_HEAD_BYTES)
        if not line:
            return
        if not line.strip():
            continue  # the blank lines between records
        if not _WARC_VERSION.match(line):
            yield offset, None, f"no WARC version line (found {line[:40]!r})"
            _resync(f, offset + 1, _WARC_START)
            continue
        head = [line]
        length = None
        kind = b""
        cut_at = None
        while True:
            at = f.tell()
            h = f.readline(_WARC_HEAD_BYTES)
            m = _WARC_VERSION.search(h)
            if m:   # the next record starts inside this one's headers: this one is cut
                cut_at = at + m.start()
                break
            head.append(h)
            if not h or not h.strip():
                break
            name, _, value = h.partition(b":")
            if name.strip().lower() == b"content-length":
                length = value.strip()
            elif name.strip().lower() == b"warc-type":
                kind = value.strip().lower()
        if cut_at is not None:
            yield offset, None, "the record is cut in its headers (the next record starts there)"
            f.seek(cut_at)
            continue
        if not head[-1]:
            yield offset, None, "the record is cut in its headers"
            return
        if length is None or not length.isdigit():
            why = "no Content-Length" if length is None else f"a bad Content-Length {length[:20]!r}"
            yield offset, None, why
            _resync(f, offset + 1, _WARC_START)
            continue
        body_at = f.tell()
        n = int(length)
        if body_at + n > size:
            yield offset, None, f"the record ends {body_at + n - size:,} bytes short"
            _resync(f, body_at, _WARC_START)
            continue
        keep = kind == b"response" and n <= cap
        body = f.read(n) if keep else None
        if not keep:
            f.seek(body_at + n)
        tail = f.read(4)
        if tail != b"\r\n\r\n" and not (tail == b"" and body_at + n == size):
            yield offset, None, "its Content-Length does not match the record (cut short or overlong)"
            _resync(f, body_at, _WARC_START)
            continue
        if kind == b"response" and not keep:
            yield offset, None, f"the record is over {cap:,} bytes"
            continue
        if keep:
            yield offset, b"".join(head) + (body or b"") + b"\r\n\r\n", None


def _gzip_members(f: Any, cap: int) -> Iterator[tuple[int, Any]]:
    """(offset, a BytesIO of the member's content) per gzip member of ``f``, or
    (offset, why) for a member that cannot be read; the next member is then sought."""
    import zlib

    while True:
        offset = f.tell()
        magic = f.read(3)
        if not magic:
            return
        f.seek(offset)
        if magic != b"\x1f\x8b\x08":
            yield offset, "not a gzip member"
            _resync(f, offset + 1, _GZIP_START)
            continue
        d = zlib.decompressobj(31)
        out = io.BytesIO()
        kept = 0
        try:
            while not d.eof:
                chunk = f.read(1 << 16)
                if not chunk:
                    raise EOFError("the member is cut short")
                data = d.decompress(chunk)
                kept += len(data)
                if kept <= cap:
                    out.write(data)
            f.seek(f.tell() - len(d.unused_data))
        except (zlib.error, EOFError) as exc:
            yield offset, f"{type(exc).__name__}: {exc}"
            _resync(f, offset + 1, _GZIP_START)
            continue
        if kept > cap:
            yield offset, f"the member holds over {cap:,} bytes"
            continue
        out.seek(0)
        yield offset, out


_GZIP_START = re.compile(rb"\x1f\x8b\x08")
_OVERLONG = "\x00sourcetrace:overlong-line\x00"
_SURROGATES = re.compile("[\udc80-\udcff]")


class _Replay:
    """The physical lines of a CSV file for csv.reader, one row at a time, with the lines
    of a row that failed given again (all but its first), so that a quote left open
    does not swallow the rows after it."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self._again: list[str] = []   # lines to give again, in reverse order
        self._taken: list[str] = []
        self.line = 0                 # physical lines given so far
        self.replayed = False

    def __iter__(self) -> "_Replay":
        return self

    def __next__(self) -> str:
        line = self._again.pop() if self._again else next(self._lines)
        self._taken.append(line)
        self.line += 1
        return line

    def start_row(self) -> int:
        """Begin a row; the physical line number it starts on."""
        self._taken = []
        self.replayed = False
        return self.line + 1

    def rows_taken(self) -> int:
        return len(self._taken)

    def replay_row(self) -> None:
        """Give again every line of the current row but its first."""
        again = self._taken[1:]
        self.line -= len(again)
        self._again.extend(reversed(again))
        self._taken = self._taken[:1]
        self.replayed = bool(again)


def _csv_lines(f: Any, limit: int) -> Iterator[str]:
    """The lines of a binary CSV file as text, for csv.reader: each line decoded on
    its own (bytes that are not UTF-8 become lone surrogates, which fail their row
    only); a line over ``limit`` bytes is skipped without being kept, a marker in
    its place."""
    first = True
    while True:
        line = f.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            while True:
                chunk = f.readline(1 << 20)
                if not chunk or chunk.endswith(b"\n"):
                    break
            yield _OVERLONG + "\n"
            continue
        text = line.decode("utf-8", "surrogateescape")
        if first:
            text = text.removeprefix("\ufeff")
            first = False
        yield text


def _walk(folder: Path, links: bool = False) -> Iterator[Path]:
    """The files under ``folder`` in name order (hidden ones skipped); links to folders
    are not walked into (``links``: they are given too, for the caller to report)."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if links:
            files = files + [d for d in dirs if os.path.islink(os.path.join(root, d))]
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(root) / name


def _suffix_kind(p: Path) -> str | None:
    name = p.name.lower()
    if name.endswith(_WARC_SUFFIXES):
        return "warc"
    suffix = p.suffix.lower()
    if suffix in _RECORD_SUFFIXES:
        return "records"
    if suffix in _CSV_SUFFIXES:
        return "csv"
    if suffix in _FEED_SUFFIXES:
        return "feed"
    if suffix == ".urls":
        return "urls"
    if suffix in _ARTICLE_SUFFIXES:
        return "article"
    return None


def _is_url_list(data: bytes) -> bool:
    lines = [ln.strip() for ln in data[:1_000_000].decode("utf-8", "replace").splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    return bool(lines) and all(_URL.match(ln) for ln in lines)


def _looks_like_feed(content_type: str, body: bytes) -> bool:
    if content_type in ("application/rss+xml", "application/atom+xml", "application/rdf+xml"):
        return True
    return bool(_FEED_START.match(body[:2048]))


_CHARREF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")


def _valid_charref(m: re.Match[bytes]) -> bytes:
    """A character reference to a surrogate or past U+10FFFF (``&#xdc80;``) as U+FFFD:
    feedparser's fallback parser fails on the whole feed for one."""
    code = int(m.group(1), 16) if m.group(1) else int(m.group(2))
    return b"&#xFFFD;" if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF else m.group(0)


_TAG = re.compile(r"<[A-Za-z!/]")
_BLOCK = re.compile(r"<(?:p|div|br|li|h[1-6]|blockquote|article|section|table|tr)[\s/>]", re.I)


def _entry_content(entry: Any) -> tuple[str, bool]:
    """A feed item's own content (content:encoded, else the description or summary) and
    whether it is HTML: its declared type says so (RSS descriptions are HTML), or a tag
    is in it."""
    for item in entry.get("content") or ():
        if item.get("value"):
            return item["value"], "html" in (item.get("type") or "") or bool(
                _TAG.search(item["value"]))
    summary = entry.get("summary") or ""
    kind = (entry.get("summary_detail") or {}).get("type") or ""
    return summary, ("html" in kind and bool(_TAG.search(summary))) or bool(_TAG.search(summary))


def _feed_item_document(body: str, is_html: bool, config: Config,
                        meta: dict[str, Any]) -> ingest.Document:
    """A feed item's content as an article: HTML (even on one line, ``<p>..</p><p>..</p>``)
    always through the HTML path, so that no tag is stored as text; a fragment with only
    inline markup, where trafilatura finds no article block, through read.html_text."""
    if not is_html:
        return ingest.from_string(body, config=config, meta=meta, html=False)
    try:
        if _BLOCK.search(body):
            return ingest.from_string(body, config=config, meta=meta, html=True)
    except ingest.EmptyInputError:
        pass
    text = ingest.html_text(body)
    doc = ingest.from_string(text, config=config, meta=meta, html=False)
    return _with_meta(doc, input_kind="html")


def _finished(item: Item, meta: MetaOptions) -> Item:
    """A collected article with its metadata under our names, defaults applied and the
    date parsed (records and CSV rows name their own outlet; pages take the URL's).
    Every string that is not the article text is made valid Unicode here, the edge of
    every input (a lone surrogate from a JSON escape, a feed, a WARC header or a file
    name becomes U+FFFD), so that no store or writer meets one."""
    if not isinstance(item, Collected):
        return Failure(valid_text(item.input), valid_text(item.reason), item.code)
    doc = finish(item.document, meta, record=item.kind in ("json", "csv"))
    doc = ingest.Document(text=doc.text, meta=valid_meta(doc.meta),
                          warnings=tuple(valid_text(w) for w in doc.warnings))
    return Collected(valid_text(item.input), doc, item.kind,
                     None if item.raw is None else valid_text(item.raw))


def _with_meta(doc: ingest.Document, **changes: Any) -> ingest.Document:
    meta = dict(doc.meta)
    meta.update(changes)
    return ingest.Document(text=doc.text, meta=meta, warnings=doc.warnings)


def _raw(data: bytes, doc: ingest.Document, kind: str, charset: str | None = None) -> str | None:
    """The raw input as text, kept when it differs from the article text (HTML)."""
    if kind != "html" and doc.meta.get("input_kind") != "html":
        return None
    for enc in (charset, "utf-8"):
        if enc:
            try:
                return data.decode(enc)
            except (LookupError, UnicodeDecodeError):
                continue
    return data.decode("utf-8", "replace")


def estimate(inputs: Iterable[str], kind: str = "auto") -> int | None:
    """A cheap count of the articles in ``inputs`` (for a progress bar's ETA), or None
    when some input cannot be counted without reading it in full (WARC, feeds, URLs)."""
    total = 0
    for target in inputs:
        if _URL.match(str(target)):
            if kind == "feed":
                return None
            total += 1
            continue
        p = Path(target)
        paths = list(_walk(p)) if p.is_dir() else [p]
        for q in paths:
            if not q.is_file():
                continue
            k = _suffix_kind(q) if kind == "auto" else kind
            if k in ("warc", "feed") or (k is None and p.is_dir()):
                if k is None:
                    continue
                return None
            if k in ("records", "csv", "urls") and q.suffix.lower() != ".json":
                with q.open("rb") as f:
                    lines = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
                total += max(lines - (1 if k == "csv" else 0), 0)
            else:
                total += 1
    return total
