"""Output formats: json/jsonl round trip and schema, BRAT standoff written and read back."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from sourcetrace.output import formats
from sourcetrace.errors import ConfigError, RecordError
from sourcetrace.model import Analysis, Assertion, Attribution, Source, Span

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "docs" / "analysis.schema.json"
POLNEAR_READER = ROOT.parent / "shared" / "bench" / "polnear_to_jsonl.py"

TEXT = ('"We won," Ann Lee said, "and it was close." She added that rain fell.\n'
        'Bob said the vote\nwent on late.\nRead the rest here.')


def at(sub: str, nth: int = 0) -> Span:
    start = -1
    for _ in range(nth + 1):
        start = TEXT.index(sub, start + 1)
    return Span.of(TEXT, start, start + len(sub))


def sample() -> Analysis:
    ann = at("Ann Lee")
    atts = (
        Attribution(source=(ann,), cue=(at("said"),),
                    content=(at('"We won,"'), at('"and it was close."')),
                    kind="direct", rule="quote.split", confidence=0.9, speaker="Ann Lee",
                    speaker_span=ann, source_id=0),
        Attribution(source=(at("She"),), cue=(at("added"),), content=(at("that rain fell"),),
                    rule="verb.ccomp", confidence=0.8, speaker="Ann Lee", source_id=0),
        Attribution(source=(), cue=(), content=(at("rain fell"),), rule="test", parent=1),
        Attribution(source=(at("Bob"),), cue=(at("said", 1),),
                    content=(at("the vote\nwent on late"),), rule="verb.ccomp"),
    )
    sources = (Source(id=0, name="Ann Lee", mentions=(ann, at("She")), identity="named",
                      kind="person", attributions=(0, 1), evidence=(("identity", "PERSON"),)),)
    return Analysis(text=TEXT, attributions=atts, sources=sources,
                    assertions=(Assertion(at("Read the rest here."), "background"),),
                    boilerplate=(at("Read the rest here."),), meta={"title": "t"},
                    profile={"attributions": 4})


def spans_of(analysis: Analysis) -> list[tuple]:
    return [(a.source, a.cue, a.content, a.parent) for a in analysis.attributions]


def test_formats_json_round_trip_is_lossless():
    analysis = sample()
    assert Analysis.from_json(formats.to_json(analysis)) == analysis
    assert Analysis.from_dict(json.loads(formats.to_jsonl(analysis))) == analysis


def test_formats_jsonl_is_one_line():
    out = formats.to_jsonl(sample())
    assert out.endswith("\n") and out.count("\n") == 1


def test_formats_json_matches_documented_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(json.loads(formats.to_json(sample())), schema)
    jsonschema.validate(Analysis(text="x").to_dict(), schema)
    broken = json.loads(formats.to_json(sample()))
    broken["attributions"][0]["source"][0]["start"] = -1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_formats_brat_round_trip_gives_same_spans():
    analysis = sample()
    back = formats.read_brat(formats.to_brat(analysis), TEXT)
    assert spans_of(back) == spans_of(analysis)
    assert back.boilerplate == analysis.boilerplate
    assert [(a.kind, a.rule, a.confidence) for a in back.attributions] == \
        [(a.kind, a.rule, a.confidence) for a in analysis.attributions]


def test_formats_brat_layout_is_polnear_standoff():
    ann = formats.to_brat(sample())
    lines = ann.rstrip("\n").split("\n")
    # a discontinuous content: one annotation, fragments "s e;s e", texts joined by a space
    content = next(line for line in lines if line.startswith("T") and "\tContent 0 9;" in line)
    assert content.split("\t")[2] == '"We won," "and it was close."'
    events = [line for line in lines if line.startswith("E")]
    assert len(events) == 4
    assert events[0].split("\t")[1].startswith("Attribution:T")
    assert events[2].split("\t")[1].startswith("Attribution-no-source:T")
    assert "Source:" not in events[2]
    assert all(" Cue:" in e for i, e in enumerate(events) if i != 2)
    assert any(line.startswith("T") and "\tDiscard " in line for line in lines)
    assert any(line.endswith("nested in E2") for line in lines if line.startswith("#"))


def test_formats_brat_shares_a_source_span_between_attributions():
    text = "Ann said A. Ann said B."
    ann = Span.of(text, 0, 3)
    atts = tuple(Attribution(source=(ann,), cue=(Span.of(text, 4, 8),),
                             content=(Span.of(text, 9, 10),)) for _ in range(2))
    lines = formats.to_brat(Analysis(text=text, attributions=atts)).split("\n")
    assert sum(1 for line in lines if "\tSource " in line) == 1
    assert sum(1 for line in lines if line.startswith("E")) == 2


def test_formats_brat_spans_with_newlines_continue_on_next_line():
    ann = formats.to_brat(sample())
    assert "\tthe vote\nwent on late\n" in ann
    assert spans_of(formats.read_brat(ann, TEXT))[3][2] == (at("the vote\nwent on late"),)


def test_formats_brat_is_read_by_the_polnear_converter():
    if not POLNEAR_READER.exists():
        pytest.skip(f"{POLNEAR_READER} is absent: this test reads ../shared")
    spec = importlib.util.spec_from_file_location("polnear_to_jsonl", POLNEAR_READER)
    reader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reader)
    report = {"mismatches": [], "unknown_roles": [], "empty_events_dropped": 0,
              "discard_spans": 0, "discuss_spans": 0}
    analysis = sample()
    got = reader.convert_article("x", TEXT, formats.to_brat(analysis), {}, "x.ann", report)
    assert not report["mismatches"] and not report["unknown_roles"]
    want = sorted(({r: sorted(s.to_list() for s in getattr(a, r))
                    for r in ("source", "cue", "content")} for a in analysis.attributions),
                  key=lambda a: min(s for r in a.values() for s, _ in r))
    assert got["attributions"] == want
    assert got["discard"] == [s.to_list() for s in analysis.boilerplate]


def test_formats_read_brat_merges_numbered_arguments():
    text = '"A," Ann said, "B."'
    ann = ("T1\tSource 5 8\tAnn\nT2\tCue 9 13\tsaid\nT3\tContent 0 4\t\"A,\"\n"
           "T4\tContent 15 19\t\"B.\"\nT5\tAttribution 9 13\tsaid\n"
           "E1\tAttribution:T5 Source:T1 Cue:T2 Content:T3 Content2:T4\n")
    (att,) = formats.read_brat(ann, text).attributions
    assert [s.to_list() for s in att.content] == [[0, 4], [15, 19]]
    assert att.source[0].text == "Ann" and att.cue[0].text == "said"


def test_formats_read_brat_rejects_another_text():
    ann = formats.to_brat(sample())
    with pytest.raises(RecordError, match="does not match"):
        formats.read_brat(ann, TEXT.upper())


def test_formats_read_brat_rejects_garbage():
    with pytest.raises(RecordError):
        formats.read_brat("T1\tSource x y\tAnn\n", "Ann")


def test_formats_unknown_format_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError):
        formats.render(sample(), "xml")
    with pytest.raises(ConfigError):
        formats.write_file(sample(), "xml", tmp_path / "out.xml")


def test_formats_write_file_brat_writes_the_text_beside(tmp_path):
    written = formats.write_file(sample(), "brat", tmp_path / "article.ann")
    assert [p.name for p in written] == ["article.ann", "article.txt"]
    text = (tmp_path / "article.txt").read_text(encoding="utf-8")
    assert text == TEXT
    back = formats.read_brat((tmp_path / "article.ann").read_text(encoding="utf-8"), text)
    assert spans_of(back) == spans_of(sample())


def test_formats_write_file_jsonl_appends(tmp_path):
    out = tmp_path / "all.jsonl"
    formats.write_file(sample(), "jsonl", out)
    formats.write_file(Analysis(text="x"), "jsonl", out)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [Analysis.from_json(line).text for line in lines] == [TEXT, "x"]


def test_formats_write_file_unwritable_path_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot write"):
        formats.write_file(sample(), "json", tmp_path / "missing" / "out.json")


# Digits and "*" are left out of the text: a line of span text that starts with
# "T1<TAB>" or "*<TAB>" would be read as a new annotation, a limit of the format itself.
_TEXTS = st.text(alphabet=st.characters(blacklist_categories=("Nd", "Cs"),
                                        blacklist_characters="*"), min_size=1, max_size=120)


@st.composite
def analyses(draw):
    text = draw(_TEXTS)
    n = len(text)

    def span():
        a = draw(st.integers(0, n))
        return Span.of(text, a, draw(st.integers(a, n)))

    def spans(min_size=0):
        return tuple(sorted({span() for _ in range(draw(st.integers(min_size, 2)))}))

    atts = []
    for i in range(draw(st.integers(0, 4))):
        parent = draw(st.none() | st.integers(0, i - 1)) if i else None
        atts.append(Attribution(source=spans(), cue=spans(), content=spans(1), parent=parent,
                                rule=draw(st.sampled_from(["a", "verb.ccomp"])),
                                confidence=draw(st.sampled_from([0.5, 1.0, 0.25]))))
    return Analysis(text=text, attributions=tuple(atts), boilerplate=spans())


@settings(max_examples=60, deadline=None)
@given(analyses())
def test_formats_brat_round_trip_property(analysis):
    back = formats.read_brat(formats.to_brat(analysis), analysis.text)
    assert spans_of(back) == spans_of(analysis)
    assert back.boilerplate == tuple(sorted(analysis.boilerplate))
