"""The command line through the real app (CliRunner) and the real entry point (subprocess)."""
from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sourcetrace.output import formats
from sourcetrace.cli import _register_commands, app
from sourcetrace.model import Analysis

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "belarus-commanders.txt"
SCHEMA = ROOT / "docs" / "analysis.schema.json"


@pytest.fixture(scope="module")
def cli():
    _register_commands()
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)
    return invoke


@pytest.fixture(scope="module")
def example_json(cli) -> dict:
    result = cli("analyze", EXAMPLE, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def run_module(*args, input=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "sourcetrace", *map(str, args)], input=input,
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def test_cli_analyze_json_matches_schema_and_text(example_json):
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(example_json, json.loads(SCHEMA.read_text(encoding="utf-8")))
    assert example_json["text"] == EXAMPLE.read_text(encoding="utf-8")
    text = example_json["text"]
    analysis = Analysis.from_dict(example_json)
    for att in analysis.attributions:
        for span in att.source + att.cue + att.content:
            assert text[span.start:span.end] == span.text


def test_cli_analyze_text_view_lists_the_attributions(cli, example_json):
    result = cli("analyze", EXAMPLE)
    assert result.exit_code == 0
    n = len(example_json["attributions"])
    unmarked = " ".join(re.sub(r"\[\d+(?:,\d+)*\]", "", result.stdout).split())  # [n] markers
    assert example_json["text"].splitlines()[0] in unmarked
    assert (f"Attributions ({n})" if n else "No attributions found.") in result.stdout


def test_cli_analyze_jsonl_is_one_line_of_the_same_analysis(cli, example_json):
    result = cli("analyze", EXAMPLE, "--format", "jsonl")
    assert result.exit_code == 0
    assert result.stdout.count("\n") == 1
    assert json.loads(result.stdout) == example_json


def test_cli_analyze_brat_reads_back_to_the_same_spans(cli, example_json):
    result = cli("analyze", EXAMPLE, "-f", "brat")
    assert result.exit_code == 0
    back = formats.read_brat(result.stdout, example_json["text"])
    want = Analysis.from_dict(example_json)
    assert [(a.source, a.cue, a.content, a.parent) for a in back.attributions] == \
        [(a.source, a.cue, a.content, a.parent) for a in want.attributions]


def test_cli_analyze_output_file(cli, tmp_path, example_json):
    out = tmp_path / "seed.ann"
    result = cli("analyze", EXAMPLE, "--format", "brat", "-o", out)
    assert result.exit_code == 0 and result.stdout == ""
    assert (tmp_path / "seed.txt").read_text(encoding="utf-8") == example_json["text"]
    out = tmp_path / "seed.json"
    assert cli("analyze", EXAMPLE, "--format", "json", "--output", out).exit_code == 0
    assert json.loads(out.read_text(encoding="utf-8")) == example_json


def test_cli_analyze_no_nested_leaves_out_nested(cli, example_json):
    result = cli("analyze", EXAMPLE, "--format", "json", "--no-nested", "--rules-only")
    assert result.exit_code == 0
    got = json.loads(result.stdout)["attributions"]
    assert all(a["parent"] is None for a in got)
    assert len(got) == sum(a["parent"] is None for a in example_json["attributions"])


def test_cli_analyze_bad_input_is_one_line_and_exit_2(cli, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n", encoding="utf-8")
    for target in (empty, tmp_path / "missing.txt"):
        result = cli("analyze", target)
        assert result.exit_code == 2
        assert result.stderr.startswith("sourcetrace: error: ")
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_cli_analyze_rejects_an_unknown_format(cli):
    result = cli("analyze", EXAMPLE, "--format", "xml")
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_cli_analyze_reads_stdin_through_the_entry_point():
    text = ('"We will not back down," the senator said on Tuesday. '
            "Officials said the bridge would reopen in May.\n")
    result = run_module("analyze", "-", "--format", "json", input=text)
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    assert got["text"] == text and got["meta"].get("path") == "-"


def test_cli_extract_skips_a_bad_record_through_the_entry_point(tmp_path, polnear_dev):
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    good = polnear_dev[:3]
    lines = [json.dumps({"id": d["id"], "text": d["text"]}) for d in good]
    lines.insert(1, '{"id": "broken", "text": ')
    lines.insert(3, json.dumps({"id": "no-text"}))
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_module("extract", src, "-o", dst)
    assert result.returncode == 5, result.stderr     # finished, but records were skipped
    assert "line 2: invalid JSON" in result.stderr and "line 4:" in result.stderr
    out = [json.loads(line) for line in dst.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in out] == [good[0]["id"], good[1]["id"], "no-text", good[2]["id"]]
    assert "error" in out[2] and out[2]["attributions"] == []
    for record, doc in zip([out[0], out[1], out[3]], good):
        for att in record["attributions"]:
            assert set(att) == {"source", "cue", "content"}
            for role in ("source", "cue", "content"):
                assert all(0 <= s <= e <= len(doc["text"]) for s, e in att[role])

    scorer = _load_scorer()
    result = scorer.score(good, [r for r in out if r["id"] != "no-text"])
    assert result["articles"] == {"gold": 3, "predicted": 3}
    assert result["attribution"]["n_gold"] > 0


def test_cli_extract_nested_adds_parents(cli, tmp_path, seed_gold):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "seed", "text": seed_gold["text"]}) + "\n", encoding="utf-8")
    top, nested = tmp_path / "top.jsonl", tmp_path / "nested.jsonl"
    assert cli("extract", src, "-o", top).exit_code == 0
    assert cli("extract", src, "-o", nested, "--nested").exit_code == 0
    (t,) = [json.loads(x) for x in top.read_text().splitlines()]
    (n,) = [json.loads(x) for x in nested.read_text().splitlines()]
    assert all("parent" not in a for a in t["attributions"])
    assert [a for a in n["attributions"] if a["parent"] is None] == \
        [dict(a, parent=None) for a in t["attributions"]]
    for i, a in enumerate(n["attributions"]):
        if a["parent"] is not None:
            assert 0 <= a["parent"] < len(n["attributions"]) and a["parent"] != i


def test_cli_extract_reads_stdin_and_writes_stdout(cli):
    record = json.dumps({"id": 1, "text": "Ann Lee said the vote was close."}) + "\n"
    result = cli("extract", "-", input=record)
    assert result.exit_code == 0
    (out,) = [json.loads(x) for x in result.stdout.splitlines()]
    assert out["id"] == 1 and isinstance(out["attributions"], list)


def test_cli_extract_missing_input_is_one_line_and_exit_2(cli, tmp_path):
    result = cli("extract", tmp_path / "nope.jsonl", "-o", tmp_path / "out.jsonl")
    assert result.exit_code == 2
    assert result.stderr.startswith("sourcetrace: error: cannot read")


def _load_scorer():
    path = ROOT.parent / "shared" / "bench" / "attribution_score.py"
    if not path.exists():
        pytest.skip(f"{path} is absent: this test reads the shared scorer from ../shared")
    spec = importlib.util.spec_from_file_location("attribution_score", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
