"""Bad input through the real entry point: a clear one-line error and a non-zero
exit (or a correct result), never a traceback.

Each case runs ``python -m sourcetrace analyze ...`` in a subprocess, as a user would.
"""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest

from conftest import ROOT

GERMAN = ("Der Stadtrat hat am Dienstag beschlossen, die alte Brücke für den Verkehr zu sperren, "
          "nachdem Ingenieure vor geschwächten Stützen gewarnt hatten. „Wir können dieses Risiko "
          "nicht eingehen“, sagte der Bürgermeister. Anwohner erklärten, der Umweg koste sie "
          "zwanzig Minuten auf dem Weg zur Arbeit, und Ladenbesitzer fürchten um ihr Geschäft.\n")


def run(*args: str, stdin: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sourcetrace", "analyze", *args],
                          input=stdin if stdin is not None else b"", capture_output=True,
                          timeout=timeout, cwd=ROOT)


def assert_one_line_error(result: subprocess.CompletedProcess, code: int, *words: str) -> str:
    stderr = result.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("sourcetrace: error: "), stderr
    assert result.returncode == code, (result.returncode, stderr)
    assert result.stdout == b""
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_bad_input_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    assert_one_line_error(run(str(path)), 2, "empty")


def test_bad_input_whitespace_only(tmp_path):
    path = tmp_path / "blank.txt"
    path.write_bytes(b"  \n\t\r\n   \n")
    assert_one_line_error(run(str(path)), 2, "empty")


def test_bad_input_empty_stdin():
    assert_one_line_error(run("-", stdin=b""), 2, "empty")


def test_bad_input_binary_png(tmp_path):
    path = tmp_path / "photo.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)) * 4)
    assert_one_line_error(run(str(path)), 2, "PNG")


def test_bad_input_50mb_text_fails_fast(tmp_path):
    path = tmp_path / "huge.txt"
    line = ("The mayor said the bridge would close on Monday, officials confirmed. " * 10 + "\n")
    with path.open("w", encoding="utf-8") as f:
        for _ in range(50_000_000 // len(line) + 1):
            f.write(line)
    started = time.monotonic()
    result = run(str(path))
    elapsed = time.monotonic() - started
    assert_one_line_error(result, 2, "over the limit")
    assert elapsed < 30, f"took {elapsed:.1f}s: the size check must come before any heavy work"


def test_bad_input_broken_html(tmp_path):
    path = tmp_path / "broken.html"
    path.write_text("<!DOCTYPE html><html><head><title></title><body><div><script>var x=1;"
                    "</script><div><<<>>", encoding="utf-8")
    assert_one_line_error(run(str(path)), 2, "no article text found in the HTML")


def test_bad_input_invalid_utf8_garbage(tmp_path):
    path = tmp_path / "garbage.txt"
    path.write_bytes(bytes(range(0x80, 0x100)) * 10)
    assert_one_line_error(run(str(path)), 2, "not valid UTF-8")


def test_bad_input_invalid_utf8_latin1_article_decoded(tmp_path):
    """Latin-1 bytes are not UTF-8 but are a real article: a correct result, with a warning."""
    path = tmp_path / "latin1.txt"
    text = ("The café owner said the council’s plan would ruin the old quarter. "
            "“We will fight it,” she told reporters on Monday.\n").replace("’", "'")
    text = text.replace("“", '"').replace("”", '"')
    path.write_bytes(text.encode("latin-1"))
    result = run(str(path), "--format", "json")
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 0 and "Traceback" not in stderr, stderr
    analysis = json.loads(result.stdout)
    assert analysis["text"] == text
    assert analysis["meta"]["encoding"] == "cp1252"
    assert any("not UTF-8" in w for w in analysis["warnings"])


def test_bad_input_german_article(tmp_path):
    path = tmp_path / "artikel.txt"
    path.write_text(GERMAN, encoding="utf-8")
    assert_one_line_error(run(str(path)), 2, "German", "--any-language")


def test_bad_input_dead_url_closed_port():
    url = f"http://127.0.0.1:{_closed_port()}/article"
    assert_one_line_error(run(url, "--allow-private"), 3, "cannot connect")


def test_bad_input_private_url_refused():
    url = f"http://127.0.0.1:{_closed_port()}/article"
    assert_one_line_error(run(url), 3, "loopback", "--allow-private")


def test_bad_input_link_local_url_refused():
    assert_one_line_error(run("http://169.254.169.254/latest/meta-data/"), 3, "link-local")


def test_bad_input_unsupported_scheme():
    assert_one_line_error(run("ftp://files.example/article.txt"), 3, "only http and https")


def test_bad_input_missing_path(tmp_path):
    assert_one_line_error(run(str(tmp_path / "nope.txt")), 2, "no such file")


def test_bad_input_directory(tmp_path):
    assert_one_line_error(run(str(tmp_path)), 2, "is a directory")


def test_bad_input_jsonl_record_without_text(tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_text(json.dumps({"id": "a", "title": "no text here"}) + "\n", encoding="utf-8")
    assert_one_line_error(run(str(path)), 2, '"text"')


def test_bad_input_invalid_json(tmp_path):
    path = tmp_path / "record.json"
    path.write_text("{'id': 1,", encoding="utf-8")
    assert_one_line_error(run(str(path)), 2, "invalid JSON")
