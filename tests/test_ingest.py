"""The input stage: decoding, sniffing, size caps, HTML, records, languages, targets."""
from __future__ import annotations

import codecs
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sourcetrace.inputs import read as ingest
from sourcetrace.config import DEFAULT, Config
from sourcetrace.errors import (
    BinaryInputError,
    EmptyInputError,
    EncodingError,
    InputError,
    InputTooLargeError,
    RecordError,
    SourcetraceError,
    UnsupportedLanguageError,
)

from conftest import ROOT

EXAMPLE_HTML = ROOT / "examples" / "harbour-strike.html"

ENGLISH = ("The council voted on Tuesday to close the old bridge to traffic, after engineers "
           "warned that its supports had weakened. “We cannot take that risk,” the mayor said. "
           "Residents said the detour would add twenty minutes to their journeys to work, and "
           "shop owners on the high street told reporters they feared for their trade.")
GERMAN = ("Der Stadtrat hat am Dienstag beschlossen, die alte Brücke für den Verkehr zu sperren, "
          "nachdem Ingenieure vor geschwächten Stützen gewarnt hatten. „Wir können dieses Risiko "
          "nicht eingehen“, sagte der Bürgermeister. Anwohner erklärten, der Umweg koste sie "
          "zwanzig Minuten auf dem Weg zur Arbeit, und Ladenbesitzer fürchten um ihr Geschäft.")
TWEET_TEXT = ("Senator Smith tweeted her reaction.\n\n<tweet id=\"1\" author=\"@smith\" "
              "datetime=\"2016-01-01\">We will win this.</tweet>.\n\nHer rival said nothing.")


# ----------------------------------------------------------------------------- text


def test_ingest_plain_text_is_kept_verbatim():
    text = "  Title line\r\n\r\n“Curly,” he said.\u00a0Then — more.  \n"
    doc = ingest.from_string(text)
    assert doc.text == text
    assert doc.meta["input_kind"] == "text"


def test_ingest_utf8_bytes_decoded():
    doc = ingest.from_string(ENGLISH.encode("utf-8"))
    assert doc.text == ENGLISH
    assert doc.meta["encoding"] == "utf-8"
    assert doc.meta["language"] == "en"
    assert doc.warnings == ()


@pytest.mark.parametrize("bom,codec", [(codecs.BOM_UTF8, "utf-8"),
                                       (codecs.BOM_UTF16_LE, "utf-16-le"),
                                       (codecs.BOM_UTF16_BE, "utf-16-be")])
def test_ingest_byte_order_mark_respected(bom, codec):
    doc = ingest.from_string(bom + ENGLISH.encode(codec))
    assert doc.text == ENGLISH


def test_ingest_legacy_encoding_detected_with_warning():
    data = ("Le café était fermé, a déclaré le maire au conseil municipal. " * 3).encode("cp1252")
    doc = ingest.from_string(data, config=DEFAULT.replace(require_english=False))
    assert "café" in doc.text and "déclaré" in doc.text
    assert doc.warnings and "not UTF-8" in doc.warnings[0]


def test_ingest_declared_charset_used_when_not_utf8():
    data = "Zoë said the naïve plan would fail.".encode("latin-1")
    doc = ingest.from_string(data, encoding="latin-1")
    assert doc.text == "Zoë said the naïve plan would fail."


def test_ingest_bad_bom_is_encoding_error():
    with pytest.raises(EncodingError, match="byte-order mark"):
        ingest.from_string(codecs.BOM_UTF8 + b"ok \xff\xfe\xfd broken")


@pytest.mark.parametrize("data,what", [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG"),
    (b"GIF89a\x01\x00\x01\x00", "GIF"),
    (b"PK\x03\x04\x14\x00\x06\x00", "zip"),
    (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "gzip"),
])
def test_ingest_binary_formats_refused(data, what):
    with pytest.raises(BinaryInputError, match=what):
        ingest.from_string(data + b"some trailing words " * 10)


def test_ingest_nul_bytes_refused():
    with pytest.raises(BinaryInputError, match="NUL"):
        ingest.from_string(b"looks like text\x00\x00but is not")


def test_ingest_mostly_control_bytes_refused():
    with pytest.raises(BinaryInputError, match="non-printable"):
        ingest.from_string(bytes(range(1, 32)) * 20)


def test_ingest_nul_characters_in_str_refused():
    with pytest.raises(BinaryInputError):
        ingest.from_string("text\x00\x00\x00 and more")


def test_ingest_lone_surrogate_refused():
    with pytest.raises(EncodingError, match="surrogate"):
        ingest.from_string(ENGLISH + "\ud800")


@pytest.mark.parametrize("data", ["", "   ", "\n\n\t \r\n", b"", b"  \n ", "\u00a0\u2003\n"])
def test_ingest_empty_or_whitespace_refused(data):
    with pytest.raises(EmptyInputError, match="empty"):
        ingest.from_string(data)


def test_ingest_input_bytes_cap_checked_first():
    config = DEFAULT.replace(max_input_bytes=100)
    with pytest.raises(InputTooLargeError, match="over the limit of 100"):
        ingest.from_string(b"\x89PNG" + b"x" * 200, config=config)  # size before sniffing
    with pytest.raises(InputTooLargeError):
        ingest.from_string("x" * 101, config=config)


def test_ingest_text_chars_cap():
    config = DEFAULT.replace(max_text_chars=50)
    with pytest.raises(InputTooLargeError, match="characters"):
        ingest.from_string(ENGLISH, config=config)


def test_ingest_check_text_returns_language():
    assert ingest.check_text(ENGLISH, DEFAULT) == "en"
    assert ingest.check_text("Too short to judge.", DEFAULT) is None
    assert ingest.check_text(GERMAN, DEFAULT.replace(require_english=False)) is None


def test_ingest_non_english_refused_with_override_hint():
    with pytest.raises(UnsupportedLanguageError) as info:
        ingest.from_string(GERMAN)
    message = str(info.value)
    assert "German" in message and "(de" in message
    assert "--any-language" in message and "require_english=False" in message


def test_ingest_non_english_allowed_when_asked():
    doc = ingest.from_string(GERMAN, config=DEFAULT.replace(require_english=False))
    assert doc.text == GERMAN


def test_ingest_short_foreign_text_not_judged():
    doc = ingest.from_string("Der Bürgermeister sagte nein.")
    assert doc.meta["language"] is None


# ----------------------------------------------------------------------------- HTML


@pytest.mark.parametrize("text", [
    "<!DOCTYPE html><html><body><p>x</p></body></html>",
    "  <!-- saved page -->\n<html lang='en'><head><title>t</title></head></html>",
    "<?xml version='1.0'?>\n<html xmlns='http://www.w3.org/1999/xhtml'></html>",
    "<div class='story'>\n<p>One paragraph.</p>\n<p>Two.</p>\n<p>Three.</p>\n</div>",
])
def test_ingest_looks_like_html_true(text):
    assert ingest.looks_like_html(text)


@pytest.mark.parametrize("text", [
    ENGLISH,
    TWEET_TEXT,
    "Use the <p> tag for paragraphs and <br> for breaks, the style guide says. " * 3,
    "<b>Bold</b> lead line, then plain prose.\nMore prose here with no markup at all.\n"
    "And a third line.\nAnd a fourth line of prose.",
])
def test_ingest_looks_like_html_false(text):
    assert not ingest.looks_like_html(text)


def test_ingest_tweet_markup_text_stays_plain_text():
    doc = ingest.from_string(TWEET_TEXT)
    assert doc.text == TWEET_TEXT
    assert doc.meta["input_kind"] == "text"


def test_ingest_html_example_article_extracted():
    doc = ingest.from_string(EXAMPLE_HTML.read_bytes())
    meta = doc.meta
    assert meta["input_kind"] == "html"
    assert meta["title"] == "Dock workers vote to extend harbour strike as talks stall"
    assert meta["author"] == "Maria Okafor"
    assert meta["date"] == "2024-03-14"
    assert meta["outlet"] == "Coastal Ledger"
    assert meta["url"] == "https://coastal-ledger.example/news/harbour-strike-extended"
    lines = doc.text.split("\n")
    assert lines[0] == meta["title"] and lines[1] == ""
    paragraphs = doc.text.split("\n\n")
    assert all(p.strip() == p and p for p in paragraphs)
    assert "“We have been patient for eighteen months" in doc.text  # curly quotes kept
    assert "My cousin works there" not in doc.text                   # reader comments off
    assert "Source: Read Full Article" in doc.text                   # left for clean.py


def test_ingest_html_title_not_duplicated():
    html = ("<html><head><title>Bridge closed</title></head><body><article><h1>Bridge closed</h1>"
            f"<p>{ENGLISH}</p></article></body></html>")
    doc = ingest.from_string(html)
    assert doc.text.startswith("Bridge closed\n\n")
    assert doc.text.count("Bridge closed") == 1


def test_ingest_html_title_prepended_when_missing():
    html = ("<html><head><title>Bridge closed</title></head><body><article>"
            f"<p>{ENGLISH}</p><p>Second paragraph of the story, said the editor.</p>"
            "</article></body></html>")
    doc = ingest.from_string(html)
    assert doc.text.split("\n\n")[0] == "Bridge closed"
    assert doc.text.split("\n\n")[1] == ENGLISH


@pytest.mark.parametrize("html", [
    "<html><body></body></html>",
    "<!DOCTYPE html><html><head><title></title></head><body><script>var a=1;</script></body></html>",
    "<html><body><div><div><div>",
])
def test_ingest_html_without_article_is_clear_error(html):
    with pytest.raises(EmptyInputError, match="no article text found in the HTML"):
        ingest.from_string(html)


def test_ingest_broken_html_does_not_crash():
    html = ("<!DOCTYPE html><html><body><p>" + ENGLISH + "<p><div><span>unclosed <b>tags "
            "<<<>>> &bogus; </td></tr>")
    doc = ingest.from_string(html)
    assert "The council voted on Tuesday" in doc.text


def test_ingest_html_forced_off_keeps_markup():
    html = "<!DOCTYPE html><html><body><p>" + ENGLISH + "</p></body></html>"
    assert ingest.from_string(html, html=False).text == html


# ----------------------------------------------------------------------------- records


def test_ingest_record_text_verbatim_and_meta():
    record = {"id": "a1", "text": "  " + ENGLISH + "\n", "title": "Bridge", "url": "http://x",
              "date": "2024-01-01", "publisher": "Ledger", "attributions": [{"cue": [[0, 1]]}]}
    doc = ingest.from_record(record)
    assert doc.text == record["text"]
    assert doc.meta["id"] == "a1" and doc.meta["title"] == "Bridge"
    assert doc.meta["outlet"] == "Ledger"
    assert doc.meta["input_kind"] == "json"
    assert "attributions" not in doc.meta  # structured fields are not metadata


@pytest.mark.parametrize("record,match", [
    ({"id": 1}, '"text"'),
    ({"text": 5}, "must be a string"),
    (["not", "a", "dict"], "JSON object"),
])
def test_ingest_bad_record_is_record_error(record, match):
    with pytest.raises(RecordError, match=match):
        ingest.from_record(record)


def test_ingest_empty_record_text_is_empty_error():
    with pytest.raises(EmptyInputError):
        ingest.from_record({"id": "x", "text": "   "})


def test_ingest_iter_records_reports_and_skips_bad(tmp_path):
    path = tmp_path / "batch.jsonl"
    lines = [json.dumps({"id": "ok1", "text": ENGLISH}), "{not json", "",
             json.dumps({"id": "no-text"}), json.dumps({"id": "ok2", "text": "Short one."})]
    path.write_bytes(("\n".join(lines) + "\n").encode() + b"\xff\xfe\n")
    results = list(ingest.iter_records(path))
    numbers = [n for n, _ in results]
    assert numbers == [1, 2, 4, 5, 6]
    kinds = [type(r).__name__ for _, r in results]
    assert kinds == ["Document", "RecordError", "RecordError", "Document", "EncodingError"]
    assert results[0][1].meta["record"] == 1 and results[3][1].meta["id"] == "ok2"


def test_ingest_iter_records_overlong_line_skipped(tmp_path):
    path = tmp_path / "big.jsonl"
    big = json.dumps({"text": "x " * 400})
    path.write_text(big + "\n" + json.dumps({"text": "Fine."}) + "\n")
    results = list(ingest.iter_records(path, config=DEFAULT.replace(max_input_bytes=200)))
    assert isinstance(results[0][1], InputTooLargeError)
    assert results[1][0] == 2 and results[1][1].text == "Fine."


def test_ingest_iter_records_json_list(tmp_path):
    path = tmp_path / "two.json"
    path.write_text(json.dumps([{"text": "One."}, {"nope": 1}]))
    results = list(ingest.iter_records(path))
    assert results[0][1].text == "One." and isinstance(results[1][1], RecordError)


# ----------------------------------------------------------------------------- load


def test_ingest_load_text_file(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(ENGLISH.encode())
    doc = ingest.load(str(path))
    assert doc.text == ENGLISH and doc.meta["path"] == str(path)


def test_ingest_load_missing_file():
    with pytest.raises(InputError, match="no such file"):
        ingest.load("/definitely/not/here.txt")


def test_ingest_load_directory(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        ingest.load(str(tmp_path))


def test_ingest_load_unreadable_file(tmp_path, monkeypatch):
    path = tmp_path / "secret.txt"
    path.write_text(ENGLISH)

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", denied)  # as root, chmod 0 would not stop a read
    with pytest.raises(InputError, match="cannot read .*Permission denied"):
        ingest.load(str(path))


def test_ingest_load_huge_file_refused_without_reading(tmp_path, monkeypatch):
    path = tmp_path / "huge.txt"
    with path.open("wb") as f:  # a sparse file: large on paper, nothing to read
        f.truncate(DEFAULT.max_input_bytes + 1)

    def no_read(*args, **kwargs):  # pragma: no cover - the test fails if called
        raise AssertionError("the file was read")

    monkeypatch.setattr(Path, "open", no_read)
    with pytest.raises(InputTooLargeError, match="over the limit"):
        ingest.load(str(path))


def test_ingest_load_json_record(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"id": "r", "text": ENGLISH, "outlet": "Ledger"}))
    doc = ingest.load(str(path))
    assert doc.text == ENGLISH and doc.meta["outlet"] == "Ledger"


def test_ingest_load_invalid_json(tmp_path):
    path = tmp_path / "a.json"
    path.write_text("{oops")
    with pytest.raises(RecordError, match="invalid JSON"):
        ingest.load(str(path))


def test_ingest_load_jsonl_first_record(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text("\n" + json.dumps({"id": "first", "text": ENGLISH}) + "\n"
                    + json.dumps({"id": "second", "text": "x"}) + "\n")
    doc = ingest.load(str(path))
    assert doc.meta["id"] == "first"


def test_ingest_load_jsonl_bad_first_record(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"id": "first"}) + "\n")
    with pytest.raises(RecordError, match="record 1"):
        ingest.load(str(path))


def test_ingest_load_html_file(tmp_path):
    doc = ingest.load(str(EXAMPLE_HTML))
    assert doc.meta["input_kind"] == "html" and doc.meta["path"] == str(EXAMPLE_HTML)


def test_ingest_load_html_sniffed_without_suffix(tmp_path):
    path = tmp_path / "page"
    path.write_bytes(EXAMPLE_HTML.read_bytes())
    assert ingest.load(str(path)).meta["input_kind"] == "html"


def test_ingest_load_stdin(monkeypatch):
    class Stdin:
        buffer = io.BytesIO(ENGLISH.encode())

    monkeypatch.setattr("sys.stdin", Stdin())
    assert ingest.load("-").text == ENGLISH


def test_ingest_load_stdin_capped(monkeypatch):
    class Stdin:
        buffer = io.BytesIO(b"x" * 500)

    monkeypatch.setattr("sys.stdin", Stdin())
    with pytest.raises(InputTooLargeError, match="standard input"):
        ingest.load("-", config=DEFAULT.replace(max_input_bytes=100))


def test_ingest_load_url_goes_through_fetch(monkeypatch):
    from sourcetrace.inputs import fetch

    html = EXAMPLE_HTML.read_bytes()

    def fake_fetch(url, config):
        return fetch.Page(url=url, final_url=url + "?moved", status=200,
                          content_type="text/html", charset="utf-8", body=html)

    monkeypatch.setattr(fetch, "fetch", fake_fetch)
    doc = ingest.load("https://news.example/story")
    assert doc.meta["url"] == "https://news.example/story"
    assert doc.meta["final_url"] == "https://news.example/story?moved"
    assert doc.meta["input_kind"] == "html"


def test_ingest_load_json_url_is_a_record(monkeypatch):
    from sourcetrace.inputs import fetch

    body = json.dumps({"id": "u1", "text": ENGLISH, "outlet": "Ledger"}).encode()

    def fake_fetch(url, config):
        return fetch.Page(url=url, final_url=url, status=200, content_type="application/json",
                          charset=None, body=body)

    monkeypatch.setattr(fetch, "fetch", fake_fetch)
    doc = ingest.load("https://news.example/api/story/u1")
    assert doc.text == ENGLISH and doc.meta["input_kind"] == "json"
    assert doc.meta["url"] == "https://news.example/api/story/u1" and doc.meta["id"] == "u1"


def test_ingest_load_other_scheme_refused():
    from sourcetrace.errors import FetchError

    with pytest.raises(FetchError, match="only http and https"):
        ingest.load("ftp://files.example/article.txt")


# ----------------------------------------------------------------------------- corpora


def test_ingest_polnear_dev_texts_all_pass(polnear_dev):
    for record in polnear_dev:
        doc = ingest.from_record(record)
        assert doc.text == record["text"]
        assert doc.meta["language"] in ("en", None), record["id"]
        assert not ingest.looks_like_html(record["text"]), record["id"]


# ----------------------------------------------------------------------------- properties

_SETTINGS = settings(max_examples=150, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(st.text(max_size=400))
def test_ingest_any_text_gives_document_or_our_error(text):
    try:
        doc = ingest.from_string(text)
    except SourcetraceError:
        return
    if doc.meta["input_kind"] == "text":
        assert doc.text == text


@_SETTINGS
@given(st.binary(max_size=400))
def test_ingest_any_bytes_gives_document_or_our_error(data):
    try:
        ingest.from_string(data)
    except SourcetraceError:
        pass


@_SETTINGS
@given(st.text(alphabet=st.sampled_from(list("<>/!-= \n\"'abcdhtmlpybo&;")), max_size=300))
def test_ingest_markup_soup_gives_document_or_our_error(text):
    try:
        ingest.from_string(text)
    except SourcetraceError:
        pass
