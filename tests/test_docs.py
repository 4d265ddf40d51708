"""Docs kept honest: every command has help and is in the README; the public API is
what __all__ says; the JSON schema document covers every key the Analysis writes."""
from __future__ import annotations

import inspect
import json
import re
import types
from pathlib import Path

import click
import pytest
import typer

import sourcetrace
from sourcetrace.cli import _register_commands, app
from sourcetrace.model import Analysis, Assertion, Attribution, Source, Span

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SCHEMA_DOC = ROOT / "docs" / "json-schema.md"
SCHEMA = ROOT / "docs" / "analysis.schema.json"


def _commands() -> dict[str, click.Command]:
    _register_commands()
    group = typer.main.get_command(app)
    return dict(group.commands)


@pytest.fixture(scope="module")
def commands() -> dict[str, click.Command]:
    return _commands()


def test_docs_every_command_has_help(commands):
    assert {"analyze", "extract"} <= set(commands)
    for name, command in commands.items():
        assert (command.help or "").strip(), f"`sourcetrace {name}` has no help text"


def test_docs_analyze_and_extract_options_have_help(commands):
    for name in ("analyze", "extract"):
        command = commands[name]
        for param in command.params:
            if param.name == "help":
                continue
            assert (getattr(param, "help", None) or "").strip(), \
                f"`sourcetrace {name}`: {param.name} has no help text"


def test_docs_every_command_is_in_the_readme(commands):
    readme = README.read_text(encoding="utf-8")
    for name in commands:
        assert re.search(rf"sourcetrace {re.escape(name)}\b", readme), \
            f"README.md does not mention `sourcetrace {name}`"


def test_docs_readme_starts_with_demo_then_test():
    readme = README.read_text(encoding="utf-8")
    block = readme[readme.index("```sh"):]
    commands = [line.split("#")[0].strip() for line in block.splitlines()[1:3]]
    assert commands == ["make demo", "make test"]


def test_docs_all_lists_exactly_the_public_names():
    exported = set(sourcetrace.__all__)
    assert len(exported) == len(sourcetrace.__all__), "__all__ has duplicates"
    assert sorted(sourcetrace.__all__) == list(sourcetrace.__all__), "keep __all__ sorted"
    for name in exported:
        assert hasattr(sourcetrace, name), f"__all__ names {name!r}, which is not there"
    public = {name for name, value in vars(sourcetrace).items()
              if not name.startswith("_") and not isinstance(value, types.ModuleType)}
    assert public - exported == set(), f"public but not in __all__: {sorted(public - exported)}"


def test_docs_public_callables_have_docstrings():
    for name in sourcetrace.__all__:
        value = getattr(sourcetrace, name)
        if inspect.isfunction(value) or inspect.isclass(value):
            assert inspect.getdoc(value), f"sourcetrace.{name} has no docstring"


def _full_analysis() -> Analysis:
    text = '"Yes," Ann said.'
    s = Span.of(text, 0, 6)
    att = Attribution(source=(Span.of(text, 7, 10),), cue=(Span.of(text, 11, 15),),
                      content=(s,), speaker="Ann", speaker_span=Span.of(text, 7, 10),
                      source_id=0)
    return Analysis(text=text, attributions=(att,),
                    sources=(Source(id=0, name="Ann", mentions=(s,), identity="named",
                                    kind="person", attributions=(0,),
                                    evidence=(("kind", "x"),)),),
                    assertions=(Assertion(s, "checkworthy", (s,), "x"),),
                    boilerplate=(s,), meta={"title": "t"}, profile={}, warnings=("w",))


def _keys(d: dict, prefix: str = "") -> set[str]:
    out = set()
    for key, value in d.items():
        out.add(key)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict) and key not in ("meta", "profile", "evidence"):
                out |= _keys(item)
    return out


def test_docs_json_schema_document_names_every_key():
    doc = SCHEMA_DOC.read_text(encoding="utf-8")
    keys = _keys(_full_analysis().to_dict())
    missing = sorted(k for k in keys if f"`{k}`" not in doc)
    assert not missing, f"docs/json-schema.md does not document {missing}"


def test_docs_json_schema_file_covers_every_key():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    described = set(schema["properties"])
    for definition in schema["$defs"].values():
        described |= set(definition.get("properties", {}))
    keys = _keys(_full_analysis().to_dict())
    assert keys - described == set(), f"analysis.schema.json lacks {sorted(keys - described)}"
