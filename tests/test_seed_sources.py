"""The seed article: sources, channels, hearsay, unspecified reports and unattributed assertions.

Two ways in. First, typing given the gold attributions (offsets from the gold file
parsed with the real spaCy model), so the test measures sources and assertions,
not extraction. Second, the whole pipeline (``sourcetrace.analyze``) for what must
hold whatever the extractor finds. Nothing here is used by the code under test.
"""
from __future__ import annotations

import re

import pytest

from sourcetrace.sources import assertions, profile
from sourcetrace import sources
from sourcetrace.model import Analysis, Attribution, Span


@pytest.fixture(scope="module")
def seed_doc(seed_gold):
    from sourcetrace.pipeline import load_base

    return load_base()(seed_gold["text"])


def _word_span(text: str, start: int, end: int, before: int) -> tuple[int, int]:
    """The gold file has pronoun source spans that do not sit on word boundaries (a
    "he" pointing inside "Lukashenko"); take the same word as a whole word, the
    nearest before the cue."""
    if (start == 0 or not text[start - 1].isalnum()) and (end == len(text) or not text[end].isalnum()):
        return start, end
    word = text[start:end]
    best = None
    for m in re.finditer(rf"(?<!\w){re.escape(word)}(?!\w)", text):
        if m.end() <= before and (best is None or m.start() > best[0]):
            best = (m.start(), m.end())
    return best or (start, end)


@pytest.fixture(scope="module")
def gold_resolved(seed_gold, seed_doc):
    text = seed_gold["text"]
    gold = seed_gold["attributions"]
    atts = []
    for i, g in enumerate(gold):
        src = [_word_span(text, s, e, g["cue"][0][0]) for s, e in g["source"]]
        speaker_span = None
        if not src and g["speaker"]:
            # the extractor's contract: an implicit source ("..., adding that") gets the
            # speaking mention; here, the previous gold source with the same speaker
            prev = [b for b in gold[:i] if b["speaker"] == g["speaker"] and b["source"]][-1]
            s, e = _word_span(text, *prev["source"][0], prev["cue"][0][0])
            speaker_span = Span.of(text, s, e)
        atts.append(Attribution(
            source=tuple(Span.of(text, s, e) for s, e in src),
            cue=tuple(Span.of(text, s, e) for s, e in g["cue"]),
            content=tuple(Span.of(text, s, e) for s, e in g["content"]),
            parent=g["nested_in"], speaker_span=speaker_span))
    resolved, registry = sources.resolve_sources(seed_doc, tuple(atts))
    return resolved, registry


def _source(registry, name):
    found = [s for s in registry if s.name == name]
    assert found, f"no source named {name!r} in {[s.name for s in registry]}"
    return found[0]


def test_seed_sources_six_gold_sources_with_kind_and_identity(seed_gold, gold_resolved):
    _, registry = gold_resolved
    for name, want in seed_gold["sources"].items():
        src = _source(registry, name)
        assert (src.identity, src.kind) == (want["identity"], want["kind"]), (name, dict(src.evidence))
        assert dict(src.evidence)["identity"] and dict(src.evidence)["kind"]
    named = [s for s in registry if s.identity != "unspecified"]
    assert sorted(s.name for s in named) == sorted(seed_gold["sources"])


def test_seed_sources_every_speaker_resolved_as_gold(seed_gold, gold_resolved):
    resolved, _ = gold_resolved
    for got, want in zip(resolved, seed_gold["attributions"]):
        assert got.speaker == want["speaker"], (got.cue, got.speaker, want["speaker"])


def test_seed_sources_mentions_merged(seed_gold, gold_resolved):
    _, registry = gold_resolved
    thomas = _source(registry, "Rosemary Thomas")
    assert [m.text for m in thomas.mentions] == [
        "Rosemary Thomas, a former British ambassador to the country", "Ms Thomas", "She"]
    gerard = _source(registry, "Gerard")
    assert [m.text for m in gerard.mentions] == ["One of them, who gave his name as Gerard", "he", "he"]
    assert "Kyiv" != _source(registry, "Victor Andrusiv").name
    assert len(_source(registry, "Kyiv").attributions) == 2   # "claiming" and the implicit "adding"


def test_seed_sources_roles_from_appositions(gold_resolved):
    _, registry = gold_resolved
    assert _source(registry, "Rosemary Thomas").role == "former British ambassador to the country"
    assert _source(registry, "Victor Andrusiv").role == "adviser to Ukraine’s minister of internal affairs"


def test_seed_sources_fullest_mention_is_the_speaker_span(gold_resolved):
    resolved, registry = gold_resolved
    by_name = {a.speaker: a.speaker_span.text for a in resolved if a.speaker}
    assert by_name["Rosemary Thomas"] == "Rosemary Thomas, a former British ambassador to the country"
    assert by_name["Gerard"] == "One of them, who gave his name as Gerard"
    for a in resolved:
        if a.source_id is not None:
            assert registry[a.source_id].id == a.source_id


def test_seed_sources_channels_telegram_twitter_al_jazeera(gold_resolved):
    _, registry = gold_resolved
    assert _source(registry, "Ukrainian military command").channel == "Telegram"
    assert _source(registry, "Rosemary Thomas").channel == "Twitter"
    gerard = _source(registry, "Gerard")
    assert gerard.channel == "Al-Jazeera"
    assert "relayed" in dict(gerard.evidence)["channel"]


def test_seed_sources_commander_is_hearsay(gold_resolved):
    _, registry = gold_resolved
    commander = _source(registry, "Misha's commander")
    assert commander.hearsay_depth >= 2
    assert all(s.hearsay_depth == 1 for s in registry if s.name in {"Gerard", "Rosemary Thomas", "Kyiv"})


def test_seed_sources_reports_typed_unspecified(gold_resolved):
    resolved, registry = gold_resolved
    for a in resolved:
        cue = " ".join(s.text for s in a.cue)
        if "reports" in cue:
            src = registry[a.source_id]
            assert src.identity == "unspecified", cue
            assert "no source" in dict(src.evidence)["identity"]
    assert sum(1 for a in resolved if "reports" in " ".join(s.text for s in a.cue)) == 2


def test_seed_sources_unattributed_examples_flagged(seed_gold, seed_doc, gold_resolved):
    resolved, _ = gold_resolved
    text = seed_gold["text"]
    boiler = tuple(Span.of(text, s, e) for s, e in seed_gold["boilerplate"])
    found = assertions.find_assertions(seed_doc, resolved, boiler)
    spans = {(a.span.start, a.span.end): a for a in found}
    want = {(s, e): ("checkworthy", "checkworthy", "opinion")[k]
            for k, (s, e) in enumerate(seed_gold["unattributed_claims_examples"])}
    for (s, e), label in want.items():
        assert (s, e) in spans, f"not flagged: {text[s:e]!r}"
        assert spans[(s, e)].label == label, (text[s:e], spans[(s, e)].evidence)
    # nothing inside boilerplate or inside an attribution's content
    for a in found:
        assert not any(a.span.overlaps(b) for b in boiler)
    assert "will only grow" in spans[list(want)[2]].span.text and "prediction" in spans[list(want)[2]].evidence


def test_seed_sources_profile_shows_every_component(seed_gold, gold_resolved, seed_doc):
    resolved, registry = gold_resolved
    text = seed_gold["text"]
    boiler = tuple(Span.of(text, s, e) for s, e in seed_gold["boilerplate"])
    found = assertions.find_assertions(seed_doc, resolved, boiler)
    analysis = Analysis(text=text, attributions=resolved, sources=registry, assertions=found, boilerplate=boiler)
    prof = profile.build_profile(analysis)
    assert prof["sources"]["distinct"] == 6
    assert prof["sources"]["by_identity"]["unspecified"] == 2
    assert prof["hearsay"]["longest_chain"] == 2
    assert prof["hearsay"]["chain"] == ["Victor Andrusiv", "Misha's commander"]
    comps = prof["transparency"]["components"]
    assert round(sum(c["contribution"] for c in comps), 1) == pytest.approx(prof["transparency"]["score"], abs=0.2)
    assert {c["name"] for c in comps} == set(profile.WEIGHTS)


def test_seed_sources_through_the_pipeline(seed_analysis):
    """Whatever the extractor finds, the pipeline types what the gold article needs."""
    a = seed_analysis
    names = {s.name: s for s in a.sources}
    for name, kind, identity in (("Rosemary Thomas", "person", "named"), ("Gerard", "person", "named"),
                                 ("Victor Andrusiv", "official", "named"), ("Kyiv", "official", "named"),
                                 ("Ukrainian military command", "official", "named"),
                                 ("Misha's commander", "official", "described")):
        assert name in names, (name, sorted(names))
        assert (names[name].kind, names[name].identity) == (kind, identity), name
    assert names["Rosemary Thomas"].channel == "Twitter"
    assert names["Gerard"].channel == "Al-Jazeera"
    assert names["Ukrainian military command"].channel == "Telegram"
    assert names["Misha's commander"].hearsay_depth >= 2
    reports = [x for x in a.attributions if "reports" in " ".join(s.text for s in x.cue)]
    assert len(reports) == 2 and all(a.sources[x.source_id].identity == "unspecified" for x in reports)
    assert a.profile is not None and a.profile["transparency"]["components"]
    assert a.assertions and all(x.label in assertions.LABELS for x in a.assertions)
