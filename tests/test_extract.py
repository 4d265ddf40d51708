"""Batch extraction: the scorer's prediction format, bad records, isolation, streaming."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from sourcetrace.corpus import extract
from sourcetrace import pipeline
from sourcetrace.config import Config
from sourcetrace.model import Analysis, Attribution, Span

TEXT = "Ann said that the vote was close and Bob said it was not."


def nested_analysis() -> Analysis:
    s = lambda a, b: Span.of(TEXT, a, b)  # noqa: E731
    return Analysis(text=TEXT, attributions=(
        Attribution(source=(s(0, 3),), cue=(s(4, 8),), content=(s(9, 57),)),
        Attribution(source=(s(37, 40),), cue=(s(41, 45),), content=(s(46, 57),), parent=0),
        Attribution(source=(), cue=(), content=(s(49, 57),), parent=1),
    ))


def fake_analyze_documents(fail_on: str | None = None, interrupt_on: str | None = None):
    """A stand-in for pipeline.analyze_documents: one attribution per document."""
    def run(documents, *, config=None, attributions_only=False):
        documents = list(documents)
        if fail_on and any(fail_on in d.text for d in documents):
            raise RuntimeError("boom")
        for d in documents:
            if interrupt_on and interrupt_on in d.text:
                raise KeyboardInterrupt
            whole = Span.of(d.text, 0, len(d.text))
            yield Analysis(text=d.text, attributions=(
                Attribution(source=(Span.of(d.text, 0, 1),), cue=(), content=(whole,)),))
    return run


def records(*texts, ids=None):
    ids = ids or [f"d{i}" for i in range(len(texts))]
    return [json.dumps({"id": i, "text": t}) + "\n" for i, t in zip(ids, texts)]


def test_extract_prediction_keeps_top_level_by_default():
    out = extract.prediction("x", nested_analysis(), nested=False)
    assert out == {"id": "x", "attributions": [
        {"source": [[0, 3]], "cue": [[4, 8]], "content": [[9, 57]]}]}


def test_extract_prediction_nested_gives_parent_index_into_written_list():
    out = extract.prediction("x", nested_analysis(), nested=True)["attributions"]
    assert [a["parent"] for a in out] == [None, 0, 1]
    assert out[2] == {"source": [], "cue": [], "content": [[49, 57]], "parent": 1}


def test_extract_bad_records_are_reported_and_skipped(monkeypatch):
    monkeypatch.setattr(pipeline, "analyze_documents", fake_analyze_documents())
    lines = [records("First text.")[0], "{not json\n", json.dumps({"id": "nt"}) + "\n",
             json.dumps({"id": "empty", "text": "   "}) + "\n", "\n", "[1, 2]\n",
             json.dumps({"id": "num", "text": 42}) + "\n", records("Last text.", ids=["z"])[0]]
    errors = []
    out = list(extract.extract_lines(lines, on_error=lambda n, m: errors.append((n, m))))
    assert [r["id"] for r in out] == ["d0", "nt", "empty", "num", "z"]
    assert [n for n, _ in errors] == [2, 3, 4, 6, 7]
    assert "invalid JSON" in errors[0][1] and "not a JSON object" in errors[3][1]
    assert [bool(r["attributions"]) for r in out] == [True, False, False, False, True]
    assert all("error" in r for r in out[1:4]) and "error" not in out[0]


def test_extract_invalid_utf8_line_is_skipped(monkeypatch):
    monkeypatch.setattr(pipeline, "analyze_documents", fake_analyze_documents())
    lines = [b'{"id": "a", "text": "caf\xe9"}\n', records("Fine.")[0].encode()]
    errors = []
    out = list(extract.extract_lines(lines, on_error=lambda n, m: errors.append((n, m))))
    assert [r["id"] for r in out] == ["d0"]
    assert errors == [(1, "not valid UTF-8")]


def test_extract_failing_document_does_not_stop_the_batch(monkeypatch):
    monkeypatch.setattr(pipeline, "analyze_documents", fake_analyze_documents(fail_on="BOOM"))
    errors = []
    out = list(extract.extract_lines(records("One.", "Two BOOM.", "Three."),
                                     on_error=lambda n, m: errors.append((n, m))))
    assert [r["id"] for r in out] == ["d0", "d1", "d2"]
    assert out[1]["attributions"] == [] and "RuntimeError: boom" in out[1]["error"]
    assert out[0]["attributions"] and out[2]["attributions"]
    assert [n for n, _ in errors] == [2]


def test_extract_file_keeps_what_it_wrote_when_killed(monkeypatch, tmp_path):
    monkeypatch.setattr(pipeline, "analyze_documents",
                        fake_analyze_documents(interrupt_on="STOP"))
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(records("One.", "Two.", "STOP.", "Four.")), encoding="utf-8")
    with pytest.raises(KeyboardInterrupt):
        extract.extract_file(src, dst, config=Config(batch_size=1), progress=False)
    assert [json.loads(line)["id"] for line in dst.read_text().splitlines()] == ["d0", "d1"]


def test_extract_file_missing_input_is_an_input_error(tmp_path):
    from sourcetrace.errors import InputError

    with pytest.raises(InputError, match="cannot read"):
        extract.extract_file(tmp_path / "nope.jsonl", tmp_path / "out.jsonl")


def test_extract_offsets_slice_the_given_text():
    text = ("\u201cWe will not back down,\u201d the senator said on Tuesday.\n\n"
            "Officials believe the bridge will reopen in May, according to a report.")
    (out,) = extract.extract_lines(records(text, ids=[7]), nested=True)
    assert out["id"] == 7
    for att in out["attributions"]:
        for role in ("source", "cue", "content"):
            for s, e in att[role]:
                assert 0 <= s <= e <= len(text)
    analysis = pipeline.analyze(text, config=Config(require_english=False))
    top = [a.offsets() for a in analysis.attributions if a.parent is None]
    (plain,) = extract.extract_lines(records(text))
    assert plain["attributions"] == top


def test_extract_file_refuses_to_overwrite_its_input(tmp_path):
    from sourcetrace.errors import ConfigError

    src = tmp_path / "in.jsonl"
    src.write_text("".join(records("One.")), encoding="utf-8")
    with pytest.raises(ConfigError, match="is the input"):
        extract.extract_file(src, tmp_path / "." / "in.jsonl")
    assert src.read_text(encoding="utf-8") == "".join(records("One."))


def test_extract_file_progress_bar_on_stderr(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(pipeline, "analyze_documents", fake_analyze_documents())
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(records(*[f"Text {i}." for i in range(5)])), encoding="utf-8")
    stats = extract.extract_file(src, dst, progress=True)
    assert "5/5" in capsys.readouterr().err
    assert (stats.records, stats.written, stats.skipped, stats.attributions) == (5, 5, 0, 5)
    extract.extract_file(src, dst, progress=False)
    assert capsys.readouterr().err == ""


_WORDS = st.sampled_from(['"', "\u201c", "\u201d", "said", "told", "according to", "Ann", "he",
                          "She", "the report", ".", ",", ":", "\n", "\n\n", "that", "believes",
                          "WALLACE:", "Officials", "reportedly", "'", "(", ")", "-", "claimed"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_WORDS, min_size=1, max_size=40).map(" ".join).filter(str.strip))
def test_extract_any_text_gives_in_bounds_offsets_and_no_failure(text):
    errors = []
    (out,) = extract.extract_lines([json.dumps({"id": 1, "text": text})], nested=True,
                                   on_error=lambda n, m: errors.append(m))
    assert errors == [] and "error" not in out
    for att in out["attributions"]:
        assert att["parent"] is None or 0 <= att["parent"] < len(out["attributions"])
        for role in ("source", "cue", "content"):
            assert all(0 <= s <= e <= len(text) for s, e in att[role])
