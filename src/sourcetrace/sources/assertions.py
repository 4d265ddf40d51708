"""Unattributed assertions: what the outlet states in its own voice.

    find_assertions(doc, attributions, boilerplate) -> tuple[Assertion, ...]
    classify_sentence(span) -> (label, evidence)        one sentence (a spaCy Span)
    find_hedges(text, offset) -> tuple[Span, ...]

A sentence is an assertion when it lies outside the boilerplate and less than
half of its characters are covered by attributions (their source, cue and
content, nested ones included). The headline (the first line, when it has no
end punctuation or is followed by a blank line) is kept: it is the outlet's
own claim, often the strongest one, and its evidence says "headline".

Each assertion is labelled, with the markers that decided (lexicons in
``lexicons/assertions_markers.txt``):

    checkworthy   a verifiable factual claim: numbers and quantities, events with a
                  named actor, causal claims
    opinion       judgement, interpretation, prediction (a future claim with no
                  date), speculation, advice, rhetorical questions
    background    context and routine facts: schedules, bylines, biographies, and
                  sentences with no claim in them

Hedges ("reportedly", "allegedly", "is believed to"; ``assertions_hedges.txt``)
are marked as spans; a hedge counts towards opinion (the outlet does not commit).
"""
from __future__ import annotations

import functools
import re
from bisect import bisect_left
from dataclasses import dataclass

from ..model import Assertion, Span
from .context import sentence_bounds
from ..config import read_sections
from .wordlists import phrase_regex

CHECKWORTHY = "checkworthy"
OPINION = "opinion"
BACKGROUND = "background"
LABELS = (CHECKWORTHY, OPINION, BACKGROUND)

_NUMERIC = {"CARDINAL", "PERCENT", "MONEY", "QUANTITY"}
_ACTORS = {"PERSON", "ORG", "GPE", "NORP", "FAC", "LOC"}
_SMALL_WORDS = {"one", "two", "both", "once", "single", "half"}
_LEMMA_SECTIONS = {"event", "causal", "change", "prediction"}


@dataclass(frozen=True)
class _Markers:
    words: dict[str, frozenset[str]]
    phrases: dict[str, re.Pattern[str]]
    hedges: re.Pattern[str]


@functools.lru_cache(maxsize=1)
def markers() -> _Markers:
    sections = read_sections("assertions_markers.txt", lower=True)
    hedges = [w for ws in read_sections("assertions_hedges.txt", lower=True).values() for w in ws]
    return _Markers(
        words={k: frozenset(w for w in v if " " not in w) for k, v in sections.items()},
        phrases={k: phrase_regex(w for w in v if " " in w) for k, v in sections.items()},
        hedges=phrase_regex(hedges),
    )


def find_hedges(text: str, offset: int = 0) -> tuple[Span, ...]:
    """Hedge phrases in ``text``, as spans shifted by ``offset``."""
    return tuple(Span(offset + m.start(), offset + m.end(), m.group(0)) for m in markers().hedges.finditer(text))


def _hits(section: str, sent, low: str) -> list[str]:
    mk = markers()
    vocab = mk.words.get(section, frozenset())
    found = []
    for tok in sent:
        w = tok.lower_
        if w in vocab or (section in _LEMMA_SECTIONS and tok.lemma_.lower() in vocab and tok.pos_ in {"VERB", "AUX"}):
            if w not in found:
                found.append(w)
    rx = mk.phrases.get(section)
    if rx is not None:
        for m in rx.finditer(low):
            if m.group(0) not in found:
                found.append(m.group(0))
    return found


_POINT_IN_TIME = re.compile(
    r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day|\b(?:jan|feb|march|april|may|june|july|aug|sept?|oct|nov|dec)[a-z]*\b"
    r"|\b1[89]\d\d\b|\b20\d\d\b|\btoday\b|\byesterday\b|\btonight\b|\btomorrow\b|\blast\b|\bnext\b|\bthis (?:week|month|year)\b",
    re.IGNORECASE)


def _events(sent, low: str, *, headline: bool) -> list[str]:
    """Event verbs that happened (past or perfect; any tense in a headline)."""
    tags = {"VBD", "VBN"} | ({"VBZ", "VBP", "VB"} if headline else set())
    vocab = markers().words.get("event", frozenset())
    out = []
    for tok in sent:
        progressive = tok.tag_ == "VBG" and any(c.dep_ == "aux" and c.lemma_ == "be" for c in tok.children)
        if tok.pos_ == "VERB" and (tok.tag_ in tags or progressive) and (tok.lemma_.lower() in vocab or tok.lower_ in vocab):
            out.append(tok.lower_)
    return out


def classify_sentence(sent, *, headline: bool = False, ents=None) -> tuple[str, str]:
    """Label one sentence (a spaCy Span) checkworthy / opinion / background, with evidence.

    ``ents``: the sentence's entities when the caller has them (faster than ``sent.ents``)."""
    if ents is None:
        ents = list(sent.ents)
    toks = list(sent)
    text = sent.text
    low = text.lower()
    ev_o: list[str] = []
    ev_c: list[str] = []

    background = _hits("background", toks, low)
    has_verb = any(t.pos_ in {"VERB", "AUX"} and t.dep_ in {"ROOT", "ccomp", "conj", "advcl", "relcl"} for t in toks)
    if background:
        return BACKGROUND, f"routine context: {', '.join(repr(b) for b in background[:3])}"
    if not has_verb:
        return BACKGROUND, "no finite verb: a heading, caption or fragment"
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) > 8 and all(ch.isupper() for ch in letters):
        return BACKGROUND, "written in capitals: a heading"

    # --- opinion markers
    opinion = [w for w in _hits("opinion", toks, low)]
    score_o = 0.0
    strong = [w for w in opinion if w not in {"only", "even", "just", "big", "real", "key", "point", "matter", "test",
                                              "question", "sign", "message", "signal", "strong", "weak", "hard", "tough",
                                              "important", "significant", "true", "right", "good", "great", "bad",
                                              "better", "best", "worse", "worst", "huge", "massive", "enormous", "problem",
                                              "critical", "fair", "poor", "failed", "challenge", "easy", "difficult",
                                              "wrong", "false", "i", "we", "our", "my", "us", "me", "in fact", "indeed",
                                              "may", "could", "would", "might", "bet", "lesson", "perfect", "simply"}]
    weak = [w for w in opinion if w not in strong]
    score_o += 1.0 * len(strong) + 0.5 * len(weak)
    if opinion:
        ev_o.append("opinion words " + ", ".join(repr(w) for w in opinion[:4]))
    if text.rstrip().rstrip("”’\"'").endswith("?"):
        score_o += 2
        ev_o.append("a question")
    if text.rstrip().rstrip("”’\"'").endswith("!"):
        score_o += 1
        ev_o.append("an exclamation")
    dates = [e for e in ents if e.label_ in {"DATE", "TIME"} and _POINT_IN_TIME.search(e.text)]
    future = _hits("prediction", toks, low)
    schedule = [t for t in toks if t.pos_ == "VERB" and t.lemma_.lower() in markers().words.get("schedule", frozenset())]
    if future and schedule and not _hits("opinion", toks, low):
        return BACKGROUND, f"scheduled: {future[0]!r} + {schedule[0].text!r}"
    if future:
        if dates:
            ev_c.append(f"future with a date ({dates[0].text!r}): scheduled, not predicted")
        else:
            score_o += 1.5
            ev_o.append(f"prediction ({future[0]!r}, no date)")
    root = sent.root
    modal = [t for t in root.children if t.tag_ == "MD" and t.lower_ in {"could", "may", "might", "would", "should", "must", "ought"}]
    if modal and not future:
        score_o += 1.5
        ev_o.append(f"modal {modal[0].text!r} on the main verb: speculation or advice")
    pred_adj = [t for t in root.children if t.dep_ == "acomp" and t.pos_ == "ADJ"] if root.lemma_ in {
        "be", "seem", "look", "appear", "remain", "become", "feel", "sound", "prove", "grow", "get"} else []
    state = markers().words.get("state", frozenset())
    pred_adj = [t for t in pred_adj if t.lower_ not in state]
    if pred_adj:
        score_o += 1
        ev_o.append(f"judged by an adjective ({pred_adj[0].text!r})")
    degree = [t for t in toks if t.pos_ == "ADV" and t.lower_ in {"especially", "very", "so", "too", "quite", "rather",
                                                                  "increasingly", "deeply", "highly", "extremely",
                                                                  "largely", "hardly", "barely", "already", "still"}]
    if degree:
        score_o += 0.5
        ev_o.append(f"degree adverb {degree[0].text!r}")
    hedges = markers().hedges.findall(low)
    if hedges:
        score_o += 1
        ev_o.append(f"hedged ({hedges[0]!r})")

    # --- check-worthy markers
    score_c = 0.0
    numbers = [e for e in ents if e.label_ in _NUMERIC and e.text.lower() not in _SMALL_WORDS]
    if numbers:
        score_c += 2 + 0.5 * min(len(numbers) - 1, 2)
        ev_c.append("numbers " + ", ".join(repr(e.text) for e in numbers[:3]))
    causal = _hits("causal", toks, low)
    change = _hits("change", toks, low)
    if change:
        score_c += 1.5
        ev_c.append("change/comparison words " + ", ".join(repr(w) for w in change[:3]))
    if causal:
        score_c += 0.5 if change else 1
        ev_c.append("causal words " + ", ".join(repr(w) for w in causal[:3]))
    actors = [e for e in ents if e.label_ in _ACTORS]
    events = _events(toks, low, headline=headline)
    # "had" on its own is possession or a light verb ("had a rough day"), not an action
    past = [t for t in toks if t.tag_ in {"VBD", "VBN"} and t.pos_ == "VERB" and t.lemma_.lower() != "have"]
    subj_actor = _named_subject(toks)
    if events and (subj_actor or actors and not _pronoun_subject(sent)):
        score_c += 1.5 if subj_actor else 1
        ev_c.append(f"event {events[0]!r} with actor {(subj_actor or actors[0].text)!r}")
    elif past and subj_actor:
        score_c += 1
        ev_c.append(f"past action {past[0].text!r} by {subj_actor!r}")
    if dates and past:
        score_c += 0.5
        ev_c.append(f"dated ({dates[0].text!r})")
    if len({e.text for e in actors}) >= 2:
        score_c += 0.5
    if len({e.text for e in actors}) >= 4:
        score_c += 0.5

    evidence_o = "; ".join(ev_o)
    evidence_c = "; ".join(ev_c)
    if score_o >= 1.5 and score_o >= score_c:
        return OPINION, f"opinion {score_o:g} >= check-worthy {score_c:g}: {evidence_o}"
    if score_c >= 1.5:
        return CHECKWORTHY, f"check-worthy {score_c:g} > opinion {score_o:g}: {evidence_c}"
    if score_o >= 1 or (score_o >= 0.5 and score_c < 1):
        return OPINION, f"opinion {score_o:g}, check-worthy {score_c:g}: {evidence_o}"
    return BACKGROUND, f"no claim markers strong enough (check-worthy {score_c:g}, opinion {score_o:g})" + (
        f": {evidence_c or evidence_o}" if evidence_c or evidence_o else "")


def _named_subject(toks) -> str | None:
    """The named entity (person, organisation, place, group) that is the subject of a verb."""
    for tok in toks:
        if tok.dep_ in {"nsubj", "nsubjpass"} and tok.ent_type_ in _ACTORS:
            return tok.text
        if tok.dep_ in {"nsubj", "nsubjpass"} and tok.pos_ == "PROPN":
            return tok.text
    return None


def _pronoun_subject(sent) -> bool:
    root = sent.root
    return any(c.dep_ in {"nsubj", "nsubjpass"} and c.pos_ == "PRON" for c in root.children)


def _covered(spans: list[tuple[int, int]], start: int, end: int) -> int:
    """Characters of [start, end) covered by the (sorted, possibly overlapping) spans."""
    total, cur = 0, start
    for s, e in spans:
        if e <= cur:
            continue
        if s >= end:
            break
        s = max(s, cur)
        e = min(e, end)
        if e > s:
            total += e - s
            cur = e
    return total


def find_assertions(doc, attributions, boilerplate) -> tuple[Assertion, ...]:
    """The outlet's own sentences, labelled, with hedges marked."""
    text = doc.text
    covered = sorted((s.start, s.end) for a in attributions for s in (*a.source, *a.cue, *a.content))
    bad = sorted((b.start, b.end) for b in boilerplate)
    first_nl = text.find("\n")
    headline_end = first_nl if first_nl > 0 else -1
    out: list[Assertion] = []
    pieces = []
    for s_start, s_end in sentence_bounds(doc):
        # a sentence never runs over a paragraph break (headlines have no full stop)
        s0 = s_start
        for part in re.split(r"(\n\s*\n)", text[s_start:s_end]):
            if part and not part.isspace():
                pieces.append((s0, s0 + len(part), None))
            s0 += len(part)
    all_ents = list(doc.ents)
    ent_starts = [e.start_char for e in all_ents]
    for start, end, sent in pieces:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        body = text[start:end]
        if len(body.strip()) < 3 or not any(ch.isalpha() for ch in body):
            continue
        if _covered(bad, start, end) > 0:
            continue
        cov = _covered(covered, start, end)
        if cov * 2 >= (end - start):
            continue
        span = doc.char_span(start, end, alignment_mode="expand")
        if span is None:
            continue
        is_headline = headline_end > 0 and end <= headline_end and start < 200
        lo = bisect_left(ent_starts, start)
        hi = bisect_left(ent_starts, end)
        ents = [e for e in all_ents[lo:hi] if e.end_char <= end]
        label, evidence = classify_sentence(span, headline=is_headline, ents=ents)
        if is_headline:
            evidence = "headline; " + evidence
        out.append(Assertion(Span.of(text, start, end), label, find_hedges(body, start), evidence))
    return tuple(out)
