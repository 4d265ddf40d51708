"""One grammar for every command, through the real entry point (`python -m sourcetrace`):
exit codes from one table, loud failures for typos and options that would do nothing,
no file written over that the user did not name, no control character sent raw to a
terminal."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sourcetrace.corpus.store import ArticleRecord, open_store
from sourcetrace.model import Analysis

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ('"The bridge will reopen on Friday," the mayor said on Monday. '
           "Officials said the river rose overnight.\n")


def run(*args, cwd=None, input=None, timeout=300):
    env = {k: v for k, v in os.environ.items() if k != "SOURCETRACE_DB"}
    return subprocess.run([sys.executable, "-m", "sourcetrace", *map(str, args)], cwd=cwd,
                          input=input, capture_output=True, text=True, timeout=timeout, env=env)


def one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("sourcetrace: error: ") and "Traceback" not in result.stderr
    return lines[0]


@pytest.fixture
def corpus(tmp_path) -> Path:
    """A SQLite corpus holding one article whose text carries a terminal escape sequence."""
    db = tmp_path / "corpus.db"
    text = "The mayor said the \x1b[2J\x1b]0;owned\x07bridge reopens on Friday."
    with open_store(str(db)) as store:
        store.add(ArticleRecord(analysis=Analysis(text=text), input="a.txt",
                                outlet="example.com", date="2024-03-01", title="Bridge"))
    return db


# ---------------------------------------------------------------- missing store, choices, dates


def test_cli_grammar_read_only_command_on_a_missing_store_exits_2_and_creates_nothing(tmp_path):
    for command in (["search", "x"], ["sources"], ["failures"], ["export"], ["claims"],
                    ["trace", "x"]):
        result = run(*command, "--db", "typo.db", cwd=tmp_path)
        assert result.returncode == 2, (command, result.stderr)
        assert "typo.db" in one_error_line(result)
    assert not (tmp_path / "typo.db").exists()


def test_cli_grammar_choices_are_case_insensitive_and_list_the_valid_ones(corpus):
    bogus = run("sources", "--db", corpus, "--kind", "bogus")
    assert bogus.returncode == 2
    line = one_error_line(bogus)
    assert "'bogus'" in line and "person" in line and "official" in line
    assert run("sources", "--db", corpus, "--kind", "PERSON").returncode == 0
    assert run("search", "bridge", "--db", corpus, "-f", "JSON").returncode == 0
    assert run("search", "bridge", "--db", corpus, "--identity", "Bogus").returncode == 2


def test_cli_grammar_dates_are_validated(corpus):
    for bad in ("2016-13-45", "2016-02-30", "yesterday"):
        result = run("search", "bridge", "--db", corpus, "--since", bad)
        assert result.returncode == 2 and bad in one_error_line(result)
    assert run("search", "bridge", "--db", corpus, "--since", "2024-02-29").returncode == 0
    assert run("claims", "--db", corpus, "--until", "2016-13-45").returncode == 2


# ---------------------------------------------------------------- options that would do nothing


def test_cli_grammar_address_without_the_ray_engine_is_an_error(tmp_path):
    result = run("ingest", tmp_path, "--db", tmp_path / "c.db", "--address", "127.0.0.1:6379")
    assert result.returncode == 2 and "--engine ray" in one_error_line(result)
    assert not (tmp_path / "c.db").exists()


def test_cli_grammar_claims_clusters_and_filters_combine(corpus):
    # the clusters holding a claim of that outlet (none here: exit 1, not a usage error)
    result = run("claims", "--db", corpus, "--clusters", "--outlet", "example.com")
    assert result.returncode in (0, 1), result.stderr


def test_cli_grammar_unreachable_ray_address_fails_within_seconds_in_one_line(tmp_path):
    pytest.importorskip("ray", reason="the ray extra is not installed")
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    started = time.perf_counter()
    result = run("ingest", tmp_path / "a.txt", "--db", ":memory:", "--engine", "ray",
                 "--address", "127.0.0.1:9", timeout=120)
    assert result.returncode == 2 and "127.0.0.1:9" in one_error_line(result)
    assert time.perf_counter() - started < 30


def test_cli_grammar_sqlite_store_is_refused_for_a_ray_cluster(tmp_path):
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    result = run("ingest", tmp_path / "a.txt", "--db", tmp_path / "c.db", "--engine", "ray",
                 "--address", "127.0.0.1:6379")
    assert result.returncode == 2
    line = one_error_line(result)
    assert "SQLite" in line and "postgresql://" in line


# ---------------------------------------------------------------- batches, records, no match


def test_cli_grammar_analyze_on_a_multi_record_file_points_to_ingest(tmp_path):
    path = tmp_path / "three.jsonl"
    path.write_text("".join(json.dumps({"id": i, "text": ARTICLE}) + "\n" for i in range(3)),
                    encoding="utf-8")
    result = run("analyze", path)
    assert result.returncode == 2 and "sourcetrace ingest" in one_error_line(result)


def test_cli_grammar_extract_that_skipped_records_exits_5_and_says_how_many(tmp_path):
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text('{"id": 1, "text": \n{"id": 2, "text": \n', encoding="utf-8")
    result = run("extract", src, "-o", dst)
    assert result.returncode == 5, result.stderr
    assert "2 of 2 records skipped" in result.stderr


def test_cli_grammar_no_match_exits_1_for_search_and_trace_alike(corpus):
    search = run("search", "zeppelin", "--db", corpus)
    search_json = run("search", "zeppelin", "--db", corpus, "-f", "json")
    trace = run("trace", "zeppelins landed in the harbour at dawn", "--db", corpus)
    assert (search.returncode, search_json.returncode, trace.returncode) == (1, 1, 1)
    assert search_json.stdout == ""


# ---------------------------------------------------------------- one -o, one table, --version, -q/-v


def test_cli_grammar_export_takes_output_option_and_refuses_to_overwrite(corpus, tmp_path):
    out = tmp_path / "corpus.jsonl"
    assert run("export", "--db", corpus, "-o", out).returncode == 0
    assert json.loads(out.read_text(encoding="utf-8"))["title"] == "Bridge"
    again = run("export", "--db", corpus, "-o", out)
    assert again.returncode == 2 and "--force" in one_error_line(again)
    assert run("export", "--db", corpus, "-o", out, "--force").returncode == 0


def test_cli_grammar_train_output_is_the_weights_folder_with_a_clear_error(tmp_path):
    work = tmp_path / "output" / "fast" / "model-best"
    work.mkdir(parents=True)
    result = run("train", "-o", tmp_path / "output", "--data", tmp_path / "none.jsonl")
    assert result.returncode == 2 and "--work-dir" in one_error_line(result)
    assert "--work-dir" in run("train", "--help").stdout


def test_cli_grammar_help_lists_one_exit_code_table_and_the_readme_repeats_it():
    from sourcetrace.cli import EXIT_CODES

    help_text = " ".join(run("--help").stdout.split())
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code, meaning in EXIT_CODES:
        assert f"{code} {meaning}" in help_text
        assert f"| {code} | {meaning} |" in readme


def test_cli_grammar_version_and_verbosity():
    from sourcetrace import __version__

    version = run("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"sourcetrace {__version__}"
    assert run("-q", "--version").returncode == 0
    both = run("-q", "-v", "--version")
    assert run("-q", "-v", "search", "x").returncode == 2 and both.returncode == 0


# ---------------------------------------------------------------- never overwrite


def test_cli_grammar_brat_output_never_rewrites_the_input(tmp_path):
    article = tmp_path / "article.txt"
    original = ARTICLE.encode("utf-16")
    article.write_bytes(original)
    result = run("analyze", article, "-f", "brat", "-o", tmp_path / "article.ann")
    assert result.returncode == 2 and "article.txt" in one_error_line(result)
    assert article.read_bytes() == original and not (tmp_path / "article.ann").exists()
    # a .txt beside that already holds exactly the text is kept, not rewritten
    same = tmp_path / "same.txt"
    same.write_text(ARTICLE, encoding="utf-8")
    assert run("analyze", same, "-f", "brat", "-o", tmp_path / "same.ann").returncode == 0
    assert same.read_text(encoding="utf-8") == ARTICLE and (tmp_path / "same.ann").exists()


def test_cli_grammar_output_refuses_an_existing_file_or_the_input(tmp_path):
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    notes = tmp_path / "notes.json"
    notes.write_text("keep me", encoding="utf-8")
    result = run("analyze", article, "-f", "json", "-o", notes)
    assert result.returncode == 2 and "--force" in one_error_line(result)
    assert notes.read_text(encoding="utf-8") == "keep me"
    into_input = run("analyze", article, "-f", "json", "-o", article, "--force")
    assert into_input.returncode == 2 and article.read_text(encoding="utf-8") == ARTICLE
    assert run("analyze", article, "-f", "json", "-o", notes, "--force").returncode == 0
    assert json.loads(notes.read_text(encoding="utf-8"))["text"] == ARTICLE


# ---------------------------------------------------------------- control characters


def test_cli_grammar_control_characters_are_escaped_in_terminal_output(tmp_path, corpus):
    article = tmp_path / "esc.txt"
    article.write_text('"The bridge \x1b[31mwill\x1b]0;owned\x07 reopen on Friday," the mayor '
                       "said on Monday. Officials said the river rose overnight and that the "
                       "road to the north would stay closed until the water fell.\n",
                       encoding="utf-8")
    analysed = run("analyze", article, "-f", "text")
    assert analysed.returncode == 0, analysed.stderr
    found = run("search", "bridge", "--db", corpus)
    assert found.returncode == 0, found.stderr
    for result in (analysed, found):
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout
        assert "\u241b" in result.stdout     # shown as the ESC control picture


def test_cli_grammar_train_coref_needs_a_gum_folder_and_writes_nothing_without_it(tmp_path):
    result = run("train", "--setting", "coref", "-o", tmp_path / "coref",
                 "--gum", tmp_path / "no-gum")
    assert result.returncode == 2 and "--gum" in one_error_line(result)
    assert not (tmp_path / "coref" / "coref.json").exists()
    assert "coref" in " ".join(run("train", "--help").stdout.split())
