"""Input: a path, a URL, stdin, a string or a record -> ingest.Document (text + metadata).

    from_string(data)         str or bytes: plain text or HTML
    from_record(record)       a dict from a .json/.jsonl file ("text" required)
    iter_records(path)        every record of a .jsonl/.json file, bad ones as errors
    load(target)              a file path, an http(s) URL or "-" (stdin)
    check_text(text, config)  the size / empty / language checks on an article text

Plain text is never rewritten: ``Document.text`` is exactly the text the user gave
(bytes decoded; a byte-order mark dropped), so every offset slices it. HTML is the
one exception: its article text is extracted (trafilatura, reader comments off) and
``Document.text`` holds that extracted text, title first, paragraphs separated by a
blank line, curly quotes kept.

Checks run cheapest first and before any heavy work: size caps (without reading a
huge file into memory), binary sniffing, decoding, then HTML extraction, then the
language check on a sample of the text. Every failure raises one of the
``errors.InputError`` subclasses with a message a user can act on.
"""
from __future__ import annotations

import codecs
import functools
import json
import math
import os
import re
import sys
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

from ..config import DEFAULT, Config
from ..errors import (
    BinaryInputError,
    EmptyInputError,
    EncodingError,
    InputError,
    InputTooLargeError,
    RecordError,
    SourcetraceError,
    UnsupportedLanguageError,
)
from .metadata import canonical_record, valid_meta

__all__ = [
    "Document",
    "check_text",
    "detect_language",
    "from_record",
    "from_string",
    "html_text",
    "iter_records",
    "load",
    "looks_like_html",
]


@dataclass(frozen=True)
class Document:
    """An article ready for analysis: ``text`` is what every offset points into."""

    text: str
    meta: dict[str, Any] = field(default_factory=dict, hash=False)
    warnings: tuple[str, ...] = ()


# --------------------------------------------------------------------------- sniffing

# Leading bytes of formats that are surely not an article.
_MAGIC = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"PK\x03\x04", "a zip archive (or a .docx/.xlsx/.epub file)"),
    (b"PK\x05\x06", "a zip archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", None),  # too short to trust alone: checked with the control-byte ratio
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7z archive"),
    (b"\x7fELF", "a program (ELF binary)"),
    (b"MZ", None),
    (b"RIFF", None),
    (b"\x00\x00\x01\x00", "an icon image"),
    (b"OggS", "an Ogg media file"),
    (b"ID3", None),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document"),
    (b"SQLite format 3\x00", "an SQLite database"),
)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SNIFF_BYTES = 8192
# Control bytes other than tab, newline, form feed and carriage return.
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13)) + b"\x7f"
_BINARY_HINT = "give the article as text, HTML or a .json/.jsonl record"


def _sniff_binary(head: bytes) -> None:
    """Raise BinaryInputError when the first bytes are not those of a text."""
    if any(head.startswith(bom) for bom, _ in _BOMS):
        return  # UTF-16/32 text has NUL bytes; its BOM says so
    for magic, what in _MAGIC:
        if what and head.startswith(magic):
            raise BinaryInputError(f"the input is {what}, not text", hint=_BINARY_HINT)
    if b"\x00" in head:
        raise BinaryInputError("the input is binary data (it holds NUL bytes), not text",
                               hint=_BINARY_HINT)
    if head:
        control = sum(head.count(b) for b in _CONTROL_BYTES)
        if control / len(head) > 0.05:
            raise BinaryInputError("the input is binary data (mostly non-printable bytes), "
                                   "not text", hint=_BINARY_HINT)


def _check_printable(text: str) -> None:
    """Raise BinaryInputError when a decoded text holds a NUL character anywhere (no
    store keeps one) or is mostly unprintable (judged on its first characters)."""
    nul = text.find("\x00")
    if nul >= 0:
        raise BinaryInputError(f"the input holds a NUL character (at offset {nul:,}): it is "
                               "binary data, not text", hint=_BINARY_HINT)
    sample = text[:_SNIFF_BYTES]
    if not sample:
        return
    bad = sum(1 for ch in sample
              if ch not in "\t\n\r\f" and unicodedata.category(ch) in ("Cc", "Co", "Cn", "Cs"))
    if bad / len(sample) > 0.05:
        raise BinaryInputError("the input is mostly non-printable characters, not text",
                               hint=_BINARY_HINT)


def decode(data: bytes, *, declared: str | None = None) -> tuple[str, str]:
    """Bytes -> (text, encoding name): UTF-8 (BOM aware), a BOM, the declared charset,
    else Windows-1252 when the bytes read as Western European text (Latin-1 files), else
    what charset-normalizer detects when it reads as plausible text (no word mixing
    ASCII letters with another script). Low confidence fails loudly: EncodingError
    naming the candidates, never a silent guess (a Latin-1 file read as Chinese)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name), name
            except UnicodeDecodeError as exc:
                raise EncodingError(f"the input starts with a {name} byte-order mark but is "
                                    f"not valid {name} ({exc.reason} at byte {exc.start})",
                                    hint="save the file as UTF-8") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        first_error = exc
    if declared:
        try:
            return data.decode(declared), codecs.lookup(declared).name
        except (LookupError, UnicodeDecodeError):
            pass
    western = _western(data)
    if western is not None:
        return western
    from charset_normalizer import from_bytes

    matches = [m for m in from_bytes(data) if m.encoding is not None]
    for match in matches[:3]:
        if match.chaos > 0.2:
            break
        try:
            text = data.decode(match.encoding)
        except (LookupError, UnicodeDecodeError):
            continue
        if not _mixed_scripts(text):
            return text, match.encoding
    guesses = ", ".join(dict.fromkeys(m.encoding for m in matches[:3])) or "none"
    raise EncodingError(
        f"the input is not valid UTF-8 (byte {first_error.start}) and its encoding cannot be "
        f"told reliably (candidates: {guesses}; none reads as plausible text)",
        hint="save the file as UTF-8 (or serve it with a charset)")


# Latin letters and the typographic marks and symbols of Western European text
_WESTERN_MARKS = set("\u2018\u2019\u201a\u201c\u201d\u201e\u2013\u2014\u2026\u2022\u2020"
                     "\u2021\u2030\u2039\u203a\u20ac\u2122\u00a0\u00a1\u00a2\u00a3\u00a5"
                     "\u00a7\u00a9\u00ab\u00ae\u00b0\u00b1\u00b2\u00b3\u00b4\u00b5\u00b6"
                     "\u00b7\u00b9\u00ba\u00bb\u00bc\u00bd\u00be\u00bf\u00d7\u00f7\u02c6"
                     "\u02dc")


def _western(data: bytes) -> tuple[str, str] | None:
    """(text, "cp1252") when the bytes read as Western European text in Windows-1252 (a
    superset of Latin-1 for text): mostly ASCII, every other character a Latin letter
    or a typographic mark, and no word made mostly of them (a run like "Ïóòèí" is
    another script in a one-byte code page, not French). English news in a legacy
    encoding is nearly always this; a detector guessing from a few bytes is not."""
    if not any(b >= 0x80 for b in data):
        return None
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    for ch in set(text):
        if ord(ch) >= 0x80 and ch not in _WESTERN_MARKS and not (
                ch.isalpha() and "LATIN" in unicodedata.name(ch, "")):
            return None
    for word in re.findall(r"[^\W\d_]{3,}", text):
        high = sum(1 for ch in word if ord(ch) >= 0x80)
        if high >= 3 and high * 2 > len(word):
            return None
    return text, "cp1252"


def _mixed_scripts(text: str) -> bool:
    """Whether a guessed decoding looks wrong: words mixing ASCII letters with letters
    of a non-Latin script ("caf丽", "mayor a隳"), or a text of ASCII words with a few
    letters of another script (English with a handful of bytes read as Japanese: too
    few to tell the code page)."""
    letters = [ch for ch in text if ch.isalpha()]
    if letters and sum(1 for ch in letters if ch.isascii()) * 5 > len(letters) * 4:
        return True
    mixed = total = 0
    for word in re.findall(r"[^\W\d_]+", text):
        if not any(ord(ch) >= 0x80 for ch in word):
            continue
        total += 1
        if any(ch.isascii() for ch in word) and any(
                ord(ch) >= 0x80 and "LATIN" not in unicodedata.name(ch, "") for ch in word):
            mixed += 1
    return total > 0 and mixed * 10 >= total


# --------------------------------------------------------------------------- HTML

# A comment is matched so that it cannot run past its own "-->": with ".*?" a run of
# comments could be split in exponentially many ways before a failing match.
_COMMENT = r"<!--(?:[^-]|-(?!->))*-->"
_HTML_START = re.compile(r"\A(?:\s|" + _COMMENT + r"|<\?xml[^>]*>)*"
                         r"<(?:!doctype\s+html|html[\s>]|head[\s>])", re.I | re.S)
_HTML_BODY = re.compile(r"<(?:html|body)[\s>]", re.I)
_BLOCK_TAG = re.compile(r"</?(?:p|div|br|article|section|h[1-6]|li|ul|ol|span|a)\b[^>]{0,500}>",
                        re.I)


def looks_like_html(text: str) -> bool:
    """True for an HTML document or fragment, False for a text with a few tags in it.

    Strict on purpose: a doctype or <html>/<head> at the start, an <html>/<body> tag
    early on, or a document that starts with a tag and is dense with block tags
    (<p>, <div>, <br>, ...). PolNeAR's ``<tweet ...>`` markup inside plain text is
    not HTML.
    """
    head = text[:4096]
    if _HTML_START.match(head):
        return True
    if _HTML_BODY.search(head[:2048]):
        return True
    stripped = head.lstrip()
    if not stripped.startswith("<"):
        return False
    tags = _BLOCK_TAG.findall(head)
    if len(tags) < 3:
        return False
    # markup must be a real part of the text, not an aside
    lines = [ln for ln in head.splitlines() if ln.strip()]
    tagged = sum(1 for ln in lines if "<" in ln and ">" in ln)
    return tagged >= max(2, len(lines) // 2)


def _html_to_document(html: str, meta: dict[str, Any], config: Config) -> tuple[str, dict]:
    """Extract the article text and metadata with trafilatura (reader comments off)."""
    import trafilatura

    try:
        with warnings.catch_warnings():  # lxml's FutureWarnings say nothing to a user
            warnings.simplefilter("ignore")
            result = trafilatura.bare_extraction(
                html, url=meta.get("url"), include_comments=False, with_metadata=True,
                include_tables=True, favor_recall=True)
    except SourcetraceError:
        raise
    except Exception as exc:  # broken markup can make the parser fail in many ways
        raise EmptyInputError(f"the HTML could not be parsed ({type(exc).__name__})",
                              hint="give the article's text instead") from None
    raw = getattr(result, "text", None) if result is not None else None
    if not raw or not any(ch.isalpha() for ch in raw):  # nothing, or markup debris
        raise EmptyInputError("no article text found in the HTML",
                              hint="check that the page holds an article, or give its text")
    paragraphs = [line.strip() for line in raw.splitlines() if line.strip()]
    found: dict[str, Any] = {}
    for key in ("title", "author", "date", "url", "sitename", "hostname", "description"):
        value = getattr(result, key, None)
        if isinstance(value, str) and value.strip():
            found[key] = value.strip()
    title = found.get("title")
    if title and (not paragraphs or paragraphs[0] != title):
        paragraphs.insert(0, title)
    if "sitename" in found:
        found["outlet"] = found["sitename"]
    return "\n\n".join(paragraphs), found


_BLOCKS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr",
           "section", "article", "ul", "ol", "table", "pre", "hr", "figcaption"}


def html_text(html: str) -> str:
    """The text of an HTML fragment without its tags: entities decoded, block elements
    (p, div, br, li, ...) as paragraph breaks, script and style left out. For fragments
    where trafilatura finds no article block (a feed item with inline markup only)."""
    from html.parser import HTMLParser

    parts: list[str] = []
    skip = [0]

    class _Text(HTMLParser):
        def handle_starttag(self, tag: str, attrs: Any) -> None:
            if tag in ("script", "style"):
                skip[0] += 1
            elif tag in _BLOCKS:
                parts.append("\n\n")

        def handle_endtag(self, tag: str) -> None:
            if tag in ("script", "style"):
                skip[0] = max(0, skip[0] - 1)
            elif tag in _BLOCKS:
                parts.append("\n\n")

        def handle_data(self, data: str) -> None:
            if not skip[0]:
                parts.append(data)

    parser = _Text(convert_charrefs=True)
    parser.feed(html)
    parser.close()
    paragraphs = (" ".join(p.split()) for p in "".join(parts).split("\n\n"))
    return "\n\n".join(p for p in paragraphs if p)


# --------------------------------------------------------------------------- language

# Names for the languages a user is most likely to meet; other codes are shown raw.
_LANGUAGE_NAMES = {
    "ar": "Arabic", "bg": "Bulgarian", "ca": "Catalan", "cs": "Czech", "da": "Danish",
    "de": "German", "el": "Greek", "es": "Spanish", "et": "Estonian", "fa": "Persian",
    "fi": "Finnish", "fr": "French", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian",
    "hu": "Hungarian", "id": "Indonesian", "it": "Italian", "ja": "Japanese",
    "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian", "nb": "Norwegian", "nl": "Dutch",
    "no": "Norwegian", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian",
    "ru": "Russian", "sk": "Slovak", "sl": "Slovenian", "sr": "Serbian", "sv": "Swedish",
    "tr": "Turkish", "uk": "Ukrainian", "vi": "Vietnamese", "zh": "Chinese",
}
_MIN_LETTERS = 200          # fewer letters than this: too short to judge the language
_SAMPLE_CHARS = 3000        # characters read from the start, middle and end
_REJECT_CONFIDENCE = 0.95   # reject only a confident non-English verdict


@functools.lru_cache(maxsize=1)
def _language_identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _language_sample(text: str) -> str:
    if len(text) <= 3 * _SAMPLE_CHARS:
        return text
    middle = len(text) // 2
    return " ".join((text[:_SAMPLE_CHARS], text[middle:middle + _SAMPLE_CHARS],
                     text[-_SAMPLE_CHARS:]))


def detect_language(text: str) -> tuple[str, float] | None:
    """(ISO 639-1 code, probability) of a sample of ``text``; None when too short."""
    sample = _language_sample(text)
    # markup and URLs say nothing about the language
    sample = re.sub(r"<[^>\n]{0,500}>|https?://\S+|[@#]\w+", " ", sample)
    if sum(ch.isalpha() for ch in sample) < _MIN_LETTERS:
        return None
    code, prob = _language_identifier().classify(sample)
    return str(code), float(prob)


_SURROGATE = re.compile("[\ud800-\udfff]")


def check_text(text: str, config: Config = DEFAULT) -> str | None:
    """The checks every article text passes: not empty, not too long, English.

    Returns the detected language code (None when the text is too short to judge
    or the check is off). Raises EmptyInputError, InputTooLargeError or
    UnsupportedLanguageError.
    """
    if len(text) > config.max_text_chars:
        raise InputTooLargeError(
            f"the article text has {len(text):,} characters, over the limit of "
            f"{config.max_text_chars:,}", hint="split it, or raise max_text_chars")
    if not text.strip():
        raise EmptyInputError("the input is empty (nothing but whitespace)",
                              hint="give an article's text, HTML, a record or a URL")
    _check_printable(text)
    surrogate = _SURROGATE.search(text)
    if surrogate:
        raise EncodingError(f"the text holds an unpaired surrogate character at offset "
                            f"{surrogate.start()}", hint="give valid Unicode text")
    if not config.require_english:
        return None
    found = detect_language(text)
    if found is None:
        return None
    code, prob = found
    if code != "en" and prob >= _REJECT_CONFIDENCE:
        name = _LANGUAGE_NAMES.get(code, code)
        raise UnsupportedLanguageError(
            f"the text looks {name} ({code}, confidence {prob:.2f}), not English; "
            "sourcetrace analyses English news",
            hint="pass --any-language (Config(require_english=False)) to analyse it anyway")
    return code


# --------------------------------------------------------------------------- strings

def _too_large(size: int, config: Config, what: str = "the input",
               unit: str = "bytes") -> InputTooLargeError:
    return InputTooLargeError(
        f"{what} is {size:,} {unit}, over the limit of {config.max_input_bytes:,}",
        hint="give a single article, or raise max_input_bytes")


def from_string(data: str | bytes, *, config: Config = DEFAULT,
                meta: dict[str, Any] | None = None, html: bool | None = None,
                encoding: str | None = None) -> Document:
    """Plain text or HTML given as ``str`` or ``bytes`` -> Document.

    ``html`` forces (True) or forbids (False) the HTML path; None sniffs it.
    ``encoding`` is a declared charset (an HTTP header) tried when the bytes are
    not UTF-8.
    """
    meta = dict(meta or {})
    notes: list[str] = []
    if isinstance(data, bytes):
        if len(data) > config.max_input_bytes:
            raise _too_large(len(data), config)
        _sniff_binary(data[:_SNIFF_BYTES])
        text, used = decode(data, declared=encoding)
        if used not in ("utf-8", "utf-8-sig"):
            notes.append(f"the input is not UTF-8; it was decoded as {used}")
        meta.setdefault("encoding", used)
    elif isinstance(data, str):
        if len(data) > config.max_input_bytes:
            raise _too_large(len(data), config, "the input", "characters")
        text = data
    else:
        raise InputError(f"cannot analyse a {type(data).__name__}: give a str or bytes")
    if not text.strip():
        raise EmptyInputError("the input is empty (nothing but whitespace)",
                              hint="give an article's text, HTML, a record or a URL")
    _check_printable(text)
    is_html = looks_like_html(text) if html is None else html
    if is_html:
        text, found = _html_to_document(text, meta, config)
        for key, value in found.items():
            meta.setdefault(key, value)
        meta["input_kind"] = "html"
    else:
        meta.setdefault("input_kind", "text")
    meta["language"] = check_text(text, config)
    return Document(text=text, meta=valid_meta(meta), warnings=tuple(notes))


# --------------------------------------------------------------------------- records

_OUTLET_KEYS = ("outlet", "publisher", "sitename", "source")


def from_record(record: Any, *, config: Config = DEFAULT,
                meta: dict[str, Any] | None = None,
                fields: Mapping[str, str] | None = None) -> Document:
    """A .json/.jsonl record -> Document. ``text`` is required and kept verbatim;
    the other scalar fields (id, title, url, date, outlet, ...) go into ``meta``.
    Field names are those of ``metadata.FIELD_NAMES`` ("body" is the text, "headline"
    the title, ...) or the explicit mapping ``fields`` ({"text": "story", ...})."""
    if not isinstance(record, dict):
        raise RecordError(f"a record must be a JSON object, got {type(record).__name__}",
                          hint='write one {"text": ...} object per line')
    record = canonical_record(record, fields)
    text = record.get("text")
    if text is None:
        raise RecordError('the record has no "text" field',
                          hint='give each record a "text" with the article')
    if not isinstance(text, str):
        raise RecordError(f'the record\'s "text" must be a string, got {type(text).__name__}')
    out = dict(meta or {})
    for key, value in record.items():
        if key != "text" and (value is None or isinstance(value, (str, int, float, bool))):
            out.setdefault(key, _storable(value))
    if "outlet" not in out:
        for key in _OUTLET_KEYS:
            if isinstance(record.get(key), str) and record[key].strip():
                out["outlet"] = record[key]
                break
    out["input_kind"] = "json"
    if len(text) > config.max_input_bytes:
        raise _too_large(len(text), config, "the record's text", "characters")
    out["language"] = check_text(text, config)
    return Document(text=text, meta=valid_meta(out))   # a lone surrogate in a field: U+FFFD


def _storable(value: Any) -> Any:
    """A metadata value every store and strict JSON keep: NUL characters (PostgreSQL
    refuses them) become U+FFFD, NaN and infinities their names as strings."""
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "\ufffd")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _record_error(exc: json.JSONDecodeError) -> RecordError:
    return RecordError(f"invalid JSON ({exc.msg} at column {exc.colno})",
                       hint="each line must be one JSON object")


def iter_records(path: str | os.PathLike, *, config: Config = DEFAULT,
                 fields: Mapping[str, str] | None = None
                 ) -> Iterator[tuple[int, Document | SourcetraceError]]:
    """Yield ``(line_number, Document or error)`` for each record of a .jsonl file
    (or each item of a .json file holding an object or a list), so that a batch can
    report a bad record and go on. A missing or unreadable file raises InputError."""
    p = _check_path(str(path))
    if p.suffix.lower() == ".json":
        try:
            data = _parse_json(_read_capped(p, config), str(p))
        except SourcetraceError as exc:
            yield 1, exc
            return
        items = data if isinstance(data, list) else [data]
        for number, item in enumerate(items, 1):
            yield number, _record_or_error(item, config, str(p), number, fields)
        return
    try:
        f = p.open("rb")
    except OSError as exc:
        raise _os_error(exc, str(p)) from None
    with f:
        number = 0
        while True:
            line = f.readline(config.max_input_bytes + 1)
            if not line:
                break
            number += 1
            if len(line) > config.max_input_bytes and not line.endswith(b"\n"):
                while True:  # skip the rest of the over-long line without keeping it
                    chunk = f.readline(1 << 20)
                    if not chunk or chunk.endswith(b"\n"):
                        break
                yield number, InputTooLargeError(
                    f"record {number} is over the limit of {config.max_input_bytes:,} bytes",
                    hint="give a single article a line, or raise max_input_bytes")
                continue
            if not line.strip():
                continue
            try:
                item = json.loads(line.decode("utf-8"))
            except UnicodeDecodeError as exc:
                yield number, EncodingError(f"record {number} is not valid UTF-8 "
                                            f"(byte {exc.start})", hint="save the file as UTF-8")
                continue
            except json.JSONDecodeError as exc:
                yield number, _record_error(exc)
                continue
            except (ValueError, RecursionError) as exc:  # a huge integer, deep nesting
                yield number, _unparsable(exc, f"record {number}")
                continue
            yield number, _record_or_error(item, config, str(p), number, fields)


def _record_or_error(item: Any, config: Config, path: str, number: int,
                     fields: Mapping[str, str] | None = None) -> Document | SourcetraceError:
    try:
        return from_record(item, config=config, meta={"path": path, "record": number},
                           fields=fields)
    except SourcetraceError as exc:
        return exc


def _parse_json(data: bytes, name: str) -> Any:
    try:
        text, _ = decode(data)
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordError(f"{name}: invalid JSON ({exc.msg} at line {exc.lineno})",
                          hint="give one JSON object with a \"text\" field") from None
    except (ValueError, RecursionError) as exc:  # a huge integer, deep nesting
        raise _unparsable(exc, name) from None


def _unparsable(exc: BaseException, what: str) -> RecordError:
    """The JSON parser's other refusals: an integer over Python's digit limit
    (ValueError) or nesting deeper than the recursion limit (RecursionError)."""
    if isinstance(exc, RecursionError):
        why = "nested too deeply"
    else:
        why = str(exc).split(";", 1)[0] or type(exc).__name__
    return RecordError(f"{what}: JSON that cannot be read ({why})",
                       hint="give one flat JSON object with a \"text\" field")


# --------------------------------------------------------------------------- targets

_URL = re.compile(r"\A[a-z][a-z0-9+.-]*://", re.I)
_HTML_SUFFIXES = {".html", ".htm", ".xhtml"}


def _os_error(exc: OSError, target: str) -> InputError:
    reason = exc.strerror or type(exc).__name__
    return InputError(f"cannot read {target}: {reason}", hint="check the path and its permissions")


def _check_path(target: str) -> Path:
    p = Path(target)
    try:
        if not p.exists():
            raise InputError(f"no such file: {target}", hint="check the path")
        if p.is_dir():
            raise InputError(f"{target} is a directory, not a file",
                             hint="give one article file (or use the batch command)")
    except OSError as exc:  # e.g. a name too long for the file system
        raise _os_error(exc, target) from None
    return p


def _read_capped(p: Path, config: Config) -> bytes:
    """Read a file, refusing one over max_input_bytes before reading it."""
    try:
        size = p.stat().st_size
        if size > config.max_input_bytes:
            raise _too_large(size, config, str(p))
        with p.open("rb") as f:
            data = f.read(config.max_input_bytes + 1)  # a file growing under us stays capped
    except OSError as exc:
        raise _os_error(exc, str(p)) from None
    if len(data) > config.max_input_bytes:
        raise _too_large(len(data), config, str(p))
    return data


def _first_jsonl_record(p: Path, config: Config) -> Document:
    for number, result in iter_records(p, config=config):
        if isinstance(result, SourcetraceError):
            raise type(result)(f"{p}, record {number}: {result.message}", hint=result.hint)
        return result
    raise EmptyInputError(f"{p} holds no records", hint='write one {"text": ...} per line')


def load(target: str, *, config: Config = DEFAULT) -> Document:
    """A file path, an http(s) URL or "-" (stdin) -> Document.

    .json (one record, or the first of a list) and .jsonl (the first record) go
    through from_record; .html/.htm and files that look like HTML through the
    HTML path; anything else is plain text.
    """
    if target == "-":
        data = sys.stdin.buffer.read(config.max_input_bytes + 1)
        if len(data) > config.max_input_bytes:
            raise InputTooLargeError(
                f"standard input is over the limit of {config.max_input_bytes:,} bytes",
                hint="give a single article, or raise max_input_bytes")
        return from_string(data, config=config, meta={"path": "-"})
    if _URL.match(target):
        from . import fetch

        page = fetch.fetch(target, config)
        meta = {"url": target, "final_url": page.final_url}
        if page.content_type == "application/json":
            _sniff_binary(page.body[:_SNIFF_BYTES])
            return from_record(_parse_json(page.body, target), config=config, meta=meta)
        return from_string(page.body, config=config, meta=meta,
                           html=True if page.is_html else None, encoding=page.charset)
    p = _check_path(target)
    suffix = p.suffix.lower()
    if suffix == ".jsonl":
        return _first_jsonl_record(p, config)
    data = _read_capped(p, config)
    meta = {"path": target}
    if suffix == ".json":
        _sniff_binary(data[:_SNIFF_BYTES])
        record = _parse_json(data, target)
        if isinstance(record, list):
            if not record:
                raise EmptyInputError(f"{target} holds an empty list of records")
            record = record[0]
        return from_record(record, config=config, meta=meta)
    return from_string(data, config=config, meta=meta,
                       html=True if suffix in _HTML_SUFFIXES else None)
