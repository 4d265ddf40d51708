"""Act typing of attributions (attribution/acts.py) and selecting what a reader sees,
on hand-written sentences parsed with the real English model."""
from __future__ import annotations

import json

import pytest

from sourcetrace import attribution
from sourcetrace.attribution import acts
from sourcetrace.errors import InputError
from sourcetrace.model import ACTS, Analysis, Attribution, Source, Span


@pytest.fixture(scope="session")
def nlp():
    from sourcetrace.pipeline import load_base, register_extensions

    register_extensions()
    return load_base()


@pytest.fixture(scope="session")
def typed(nlp):
    def _typed(text):
        doc = nlp(text)
        doc._.boilerplate = ()
        return [(a.cue[0].text if a.cue else "", a.act, a.act_evidence)
                for a in attribution.extract(doc)]
    return _typed


@pytest.mark.parametrize("text, cue, act", [
    ("The mayor said the bridge would reopen in May.", "said", "speech"),
    ("The senator tweeted that the vote was rigged.", "tweeted", "speech"),
    ("She hopes the vote will pass next week.", "hopes", "belief"),
    ("Most economists think the tariff will raise prices.", "think", "belief"),
    ("A new poll shows Smith leading by five points.", "shows", "finding"),
    ("According to a 2019 study, rents rose 10 percent.", "According to", "finding"),
    ("The council plans to close two libraries.", "plans", "intention"),
    ("Witnesses saw the car speed away from the bank.", "saw", "perception"),
    ("Critics see him as a threat to the party.", "see", "belief"),
    ("Poll: Voters Abandon The Party\n\nThe poll was taken in May.", ":", "finding"),
    ("The judges would rule that the mines posed a threat.", "would rule", "intention"),
    ("Data show that women hold 41 percent of the jobs.", "show", "finding"),
    ("The Battleground States average shows Clinton ahead in Ohio.", "shows", "finding"),
])
def test_acts_typed_by_cue(typed, text, cue, act):
    found = {c: a for c, a, _ in typed(text)}
    assert found.get(cue) == act, typed(text)


def test_acts_quoted_promise_is_speech_and_promise_to_is_intention(typed):
    quoted = typed('"We will cut taxes," the governor promised.')
    assert [a for c, a, _ in quoted if c == "promised"] == ["speech"]
    plan = typed("The governor promised to cut taxes for families.")
    assert [(a, e) for c, a, e in plan if c == "promised"] == [("intention", "lexicon:promise")]


def test_acts_evidence_names_the_rule_or_word(typed):
    (_, _, evidence), = typed("A new poll shows Smith leading by five points.")
    assert evidence == "rule:document-source:poll"
    (_, _, evidence), = typed("She hopes the vote will pass next week.")
    assert evidence.startswith("lexicon:")


def test_acts_person_source_with_number_of_is_not_a_document(nlp):
    text = "A number of residents said the water smelled of bleach."
    doc = nlp(text)
    cue = text.index("said")
    act, evidence = acts.classify(doc, [(cue, cue + 4)], [(0, cue - 1)], [(cue + 5, len(text) - 1)],
                                  lexicon=acts.load_lexicon())
    assert act == "speech", evidence


def test_acts_every_lexicon_act_is_known():
    lex = acts.load_lexicon()
    assert {act for act, _ in lex.words.values()} <= set(ACTS)
    assert lex.document_sources and lex.finding_cues


def test_acts_parse_acts_accepts_names_and_refuses_unknown():
    assert acts.parse_acts("speech, belief") == frozenset({"speech", "belief"})
    assert acts.parse_acts("all") is None
    assert acts.parse_acts(None) is None
    with pytest.raises(InputError, match="unknown act 'gossip'"):
        acts.parse_acts("speech,gossip")


def _att(start, act, confidence=0.9, parent=None):
    return Attribution(source=(Span(start, start + 1),), cue=(Span(start + 2, start + 3),),
                       content=(Span(start + 4, start + 5),), act=act,
                       confidence=confidence, parent=parent)


def test_acts_select_keeps_acts_and_renumbers_indices():
    atts = (_att(0, "speech"), _att(10, "belief"), _att(20, "speech", parent=1),
            _att(30, "speech", confidence=0.3))
    analysis = Analysis(text="x" * 40, attributions=atts,
                        sources=(Source(id=0, name="A", attributions=(0, 2, 3)),))
    out = acts.select(analysis, frozenset({"speech"}), min_confidence=0.5)
    assert [a.cue[0].start for a in out.attributions] == [2, 22]
    assert out.attributions[1].parent is None  # its belief parent was dropped
    assert out.sources[0].attributions == (0, 1)
    assert acts.select(analysis) is analysis


def test_acts_round_trip_through_json():
    a = _att(0, "finding")
    a = Attribution(**{**a.__dict__, "act_evidence": "rule:document-source:poll"})
    assert Attribution.from_dict(a.to_dict()) == a
    assert Attribution.from_dict({k: v for k, v in a.to_dict().items()
                                  if k not in ("act", "act_evidence")}).act is None


# --------------------------------------------------------------------------- CLI

TEXT = ("The mayor said the bridge would reopen in May. She hopes the vote will pass. "
        "A new poll shows Smith leading by five points.\n")


@pytest.fixture(scope="module")
def cli():
    from typer.testing import CliRunner

    from sourcetrace.cli import _register_commands, app

    _register_commands()
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)
    return invoke


def test_acts_cli_analyze_keeps_the_chosen_acts(cli, tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(TEXT, encoding="utf-8")
    result = cli("analyze", path, "-f", "json", "--rules-only", "--acts", "speech,finding")
    assert result.exit_code == 0, result.stderr
    got = [(a["cue"][0]["text"], a["act"]) for a in json.loads(result.stdout)["attributions"]]
    assert got == [("said", "speech"), ("shows", "finding")]


def test_acts_cli_extract_default_keeps_every_act_and_filters_on_request(cli):
    line = json.dumps({"id": "a", "text": TEXT}) + "\n"
    every = cli("extract", "-", "--rules-only", input=line)
    speech = cli("extract", "-", "--rules-only", "--acts", "speech", input=line)
    assert every.exit_code == 0 and speech.exit_code == 0
    assert len(json.loads(every.stdout)["attributions"]) == 3
    assert len(json.loads(speech.stdout)["attributions"]) == 1


def test_acts_cli_unknown_act_and_bad_confidence_are_refused(cli, tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(TEXT, encoding="utf-8")
    bad = cli("analyze", path, "--acts", "gossip")
    assert bad.exit_code != 0 and "unknown act 'gossip'" in bad.stderr
    assert cli("analyze", path, "--min-confidence", "1.5").exit_code != 0


def test_acts_cli_min_confidence_one_leaves_nothing_below(cli, tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(TEXT, encoding="utf-8")
    result = cli("analyze", path, "-f", "json", "--rules-only", "--min-confidence", "0.999")
    assert result.exit_code == 0, result.stderr
    assert all(a["confidence"] >= 0.999 for a in json.loads(result.stdout)["attributions"])


# --------------------------------------------------------------------------- API


@pytest.fixture(scope="module")
def client():
    pytest.importorskip("fastapi", reason="the web extra is not installed")
    from fastapi import testclient

    from sourcetrace.config import DEFAULT
    from sourcetrace.corpus.store import open_store
    from sourcetrace.web.app import create_app

    with testclient.TestClient(create_app(DEFAULT.replace(rules_only=True),
                                          store=open_store(":memory:")),
                               base_url="http://127.0.0.1") as c:
        yield c


def test_acts_api_analyze_returns_acts_and_selects_on_request(client):
    every = client.post("/api/analyze", json={"text": TEXT})
    assert every.status_code == 200, every.text
    assert [a["act"] for a in every.json()["attributions"]] == ["speech", "belief", "finding"]
    speech = client.post("/api/analyze", json={"text": TEXT, "acts": ["speech"]})
    assert speech.status_code == 200, speech.text
    assert [a["act"] for a in speech.json()["attributions"]] == ["speech"]


def test_acts_api_refuses_unknown_act_and_selection_on_ingest(client):
    assert client.post("/api/analyze", json={"text": TEXT, "acts": ["gossip"]}).status_code == 422
    assert client.post("/api/analyze", json={"text": TEXT, "min_confidence": 2}).status_code == 422
    assert client.post("/api/ingest", json={"text": TEXT, "acts": ["speech"]}).status_code == 422


def test_acts_web_ui_default_is_speech_at_the_web_threshold(client):
    from sourcetrace.config import WEB_MIN_CONFIDENCE
    from sourcetrace.web import schemas, services

    s = client.app.state.services if hasattr(client.app.state, "services") else None
    if s is None:
        pytest.skip("the app keeps its services elsewhere")
    analysis = services.analyze_request(s, schemas.AnalyzeRequest(text=TEXT), ui=True)
    assert {a.act for a in analysis.attributions} <= {"speech"}
    assert all(a.confidence >= WEB_MIN_CONFIDENCE for a in analysis.attributions)
