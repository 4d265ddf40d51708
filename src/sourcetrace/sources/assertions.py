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
from bisect import bisect_left, bisect_right
from itertools import accumulate
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
_LEMMA_SECTIONS = {"event", "causal", "change", "prediction"}

#: points each opinion marker adds (an [opinion] word counts "word", or "weak_word" when
#: it is also in [opinion_weak]; a prediction only without a date; a modal only without one)
OPINION_POINTS = {"word": 1.0, "weak_word": 0.5, "question": 2.0, "exclamation": 1.0,
                  "prediction": 1.5, "modal": 1.5, "judging_adjective": 1.0,
                  "degree_adverb": 0.5, "hedge": 1.0}

#: points each check-worthy marker adds ("more_numbers" for each number after the first,
#: up to THRESHOLDS["more_numbers"]; causal words count less beside change words; an event
#: counts more when its subject is the named actor)
CHECKWORTHY_POINTS = {"numbers": 2.0, "more_numbers": 0.5, "change": 1.5, "causal": 1.0,
                      "causal_with_change": 0.5, "event_named_subject": 1.5, "event_actor": 1.0,
                      "past_action": 1.0, "dated": 0.5, "two_actors": 0.5, "four_actors": 0.5}

#: the decision: a score of ``decide`` settles a label (opinion wins a tie); under it,
#: opinion still wins from ``lean_opinion``, or from ``weak_opinion`` while check-worthy
#: stays under ``weak_checkworthy``. A sentence of more than ``heading_letters`` letters,
#: all capitals, is a heading.
THRESHOLDS = {"decide": 1.5, "lean_opinion": 1.0, "weak_opinion": 0.5, "weak_checkworthy": 1.0,
              "more_numbers": 2, "heading_letters": 8}


@dataclass(frozen=True)
class _Markers:
    words: dict[str, frozenset[str]]        # one-word entries per section
    phrases: dict[str, re.Pattern[str]]     # multi-word entries per section
    entries: dict[str, frozenset[str]]      # every entry per section
    hedges: re.Pattern[str]


@functools.lru_cache(maxsize=1)
def markers() -> _Markers:
    sections = read_sections("assertions_markers.txt", lower=True)
    hedges = [w for ws in read_sections("assertions_hedges.txt", lower=True).values() for w in ws]
    return _Markers(
        words={k: frozenset(w for w in v if " " not in w) for k, v in sections.items()},
        phrases={k: phrase_regex(w for w in v if " " in w) for k, v in sections.items()},
        entries={k: frozenset(v) for k, v in sections.items()},
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

    Routine context and scheduled events are background at once; otherwise the opinion
    and the check-worthy markers each add their points (OPINION_POINTS,
    CHECKWORTHY_POINTS) and ``_decide`` weighs the two scores (THRESHOLDS).
    ``ents``: the sentence's entities when the caller has them (faster than ``sent.ents``)."""
    if ents is None:
        ents = list(sent.ents)
    toks = list(sent)
    text = sent.text
    low = text.lower()
    routine = _routine(toks, text, low)
    if routine is not None:
        return BACKGROUND, routine
    dates = [e for e in ents if e.label_ in {"DATE", "TIME"} and _POINT_IN_TIME.search(e.text)]
    future = _hits("prediction", toks, low)
    scheduled = _scheduled(toks, low, future)
    if scheduled is not None:
        return BACKGROUND, scheduled
    score_o, ev_o = _opinion_score(sent, toks, text, low, future=future, dates=dates)
    score_c, ev_c = _checkworthy_score(sent, toks, low, ents, future=future, dates=dates,
                                       headline=headline)
    return _decide(score_o, ev_o, score_c, ev_c)


def _routine(toks, text: str, low: str) -> str | None:
    """Why the sentence is background whatever else it holds, or None: routine-context
    words, no finite verb (a heading, caption or fragment), or all in capitals."""
    background = _hits("background", toks, low)
    if background:
        return f"routine context: {', '.join(repr(b) for b in background[:3])}"
    if not any(t.pos_ in {"VERB", "AUX"} and t.dep_ in {"ROOT", "ccomp", "conj", "advcl", "relcl"}
               for t in toks):
        return "no finite verb: a heading, caption or fragment"
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) > THRESHOLDS["heading_letters"] and all(ch.isupper() for ch in letters):
        return "written in capitals: a heading"
    return None


def _scheduled(toks, low: str, future: list[str]) -> str | None:
    """A future event with a scheduling verb and no opinion word: background, or None."""
    schedule_words = markers().words.get("schedule", frozenset())
    schedule = [t for t in toks if t.pos_ == "VERB" and t.lemma_.lower() in schedule_words]
    if future and schedule and not _hits("opinion", toks, low):
        return f"scheduled: {future[0]!r} + {schedule[0].text!r}"
    return None


def _opinion_score(sent, toks, text: str, low: str, *, future: list[str],
                   dates: list) -> tuple[float, list[str]]:
    """The opinion score and its evidence: judging words, questions and exclamations,
    undated predictions, modals, judging adjectives, degree adverbs, hedges."""
    mk = markers()
    points = OPINION_POINTS
    score = 0.0
    evidence: list[str] = []
    opinion = _hits("opinion", toks, low)
    weak_words = mk.entries.get("opinion_weak", frozenset())
    strong = [w for w in opinion if w not in weak_words]
    weak = [w for w in opinion if w not in strong]
    score += points["word"] * len(strong) + points["weak_word"] * len(weak)
    if opinion:
        evidence.append("opinion words " + ", ".join(repr(w) for w in opinion[:4]))
    end = text.rstrip().rstrip("”’\"'")
    if end.endswith("?"):
        score += points["question"]
        evidence.append("a question")
    if end.endswith("!"):
        score += points["exclamation"]
        evidence.append("an exclamation")
    if future and not dates:
        score += points["prediction"]
        evidence.append(f"prediction ({future[0]!r}, no date)")
    root = sent.root
    modals = mk.entries.get("modal", frozenset())
    modal = [t for t in root.children if t.tag_ == "MD" and t.lower_ in modals]
    if modal and not future:
        score += points["modal"]
        evidence.append(f"modal {modal[0].text!r} on the main verb: speculation or advice")
    pred_adj = ([t for t in root.children if t.dep_ == "acomp" and t.pos_ == "ADJ"]
                if root.lemma_ in mk.entries.get("linking_verb", frozenset()) else [])
    state = mk.words.get("state", frozenset())
    pred_adj = [t for t in pred_adj if t.lower_ not in state]
    if pred_adj:
        score += points["judging_adjective"]
        evidence.append(f"judged by an adjective ({pred_adj[0].text!r})")
    degrees = mk.entries.get("degree", frozenset())
    degree = [t for t in toks if t.pos_ == "ADV" and t.lower_ in degrees]
    if degree:
        score += points["degree_adverb"]
        evidence.append(f"degree adverb {degree[0].text!r}")
    hedges = mk.hedges.findall(low)
    if hedges:
        score += points["hedge"]
        evidence.append(f"hedged ({hedges[0]!r})")
    return score, evidence


def _checkworthy_score(sent, toks, low: str, ents, *, future: list[str], dates: list,
                       headline: bool) -> tuple[float, list[str]]:
    """The check-worthy score and its evidence: numbers, change and causal words,
    events and actions with a named actor, dates, several actors."""
    points = CHECKWORTHY_POINTS
    score = 0.0
    evidence: list[str] = []
    if future and dates:
        evidence.append(f"future with a date ({dates[0].text!r}): scheduled, not predicted")
    small = markers().entries.get("small_number", frozenset())
    numbers = [e for e in ents if e.label_ in _NUMERIC and e.text.lower() not in small]
    if numbers:
        score += points["numbers"] + points["more_numbers"] * min(len(numbers) - 1,
                                                                   THRESHOLDS["more_numbers"])
        evidence.append("numbers " + ", ".join(repr(e.text) for e in numbers[:3]))
    causal = _hits("causal", toks, low)
    change = _hits("change", toks, low)
    if change:
        score += points["change"]
        evidence.append("change/comparison words " + ", ".join(repr(w) for w in change[:3]))
    if causal:
        score += points["causal_with_change"] if change else points["causal"]
        evidence.append("causal words " + ", ".join(repr(w) for w in causal[:3]))
    actors = [e for e in ents if e.label_ in _ACTORS]
    events = _events(toks, low, headline=headline)
    # "had" on its own is possession or a light verb ("had a rough day"), not an action
    past = [t for t in toks if t.tag_ in {"VBD", "VBN"} and t.pos_ == "VERB" and t.lemma_.lower() != "have"]
    subj_actor = _named_subject(toks)
    if events and (subj_actor or actors and not _pronoun_subject(sent)):
        score += points["event_named_subject"] if subj_actor else points["event_actor"]
        evidence.append(f"event {events[0]!r} with actor {(subj_actor or actors[0].text)!r}")
    elif past and subj_actor:
        score += points["past_action"]
        evidence.append(f"past action {past[0].text!r} by {subj_actor!r}")
    if dates and past:
        score += points["dated"]
        evidence.append(f"dated ({dates[0].text!r})")
    n_actors = len({e.text for e in actors})
    if n_actors >= 2:
        score += points["two_actors"]
    if n_actors >= 4:
        score += points["four_actors"]
    return score, evidence


def _decide(score_o: float, ev_o: list[str], score_c: float, ev_c: list[str]) -> tuple[str, str]:
    """The label from the two scores (THRESHOLDS), with the evidence that decided it."""
    t = THRESHOLDS
    evidence_o = "; ".join(ev_o)
    evidence_c = "; ".join(ev_c)
    if score_o >= t["decide"] and score_o >= score_c:
        return OPINION, f"opinion {score_o:g} >= check-worthy {score_c:g}: {evidence_o}"
    if score_c >= t["decide"]:
        return CHECKWORTHY, f"check-worthy {score_c:g} > opinion {score_o:g}: {evidence_c}"
    if score_o >= t["lean_opinion"] or (score_o >= t["weak_opinion"] and score_c < t["weak_checkworthy"]):
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


class _Spans:
    """Sorted, possibly overlapping character spans, with the furthest end reached so far
    at each index, so that a lookup skips every span that ends before it (by bisection)
    instead of walking from the first one: linear over a document, not quadratic."""

    def __init__(self, spans) -> None:
        self.spans = sorted(spans)
        self.reach = list(accumulate((e for _, e in self.spans), max))

    def covered(self, start: int, end: int) -> int:
        return _covered(self.spans, start, end, bisect_right(self.reach, start))


def _covered(spans: list[tuple[int, int]], start: int, end: int, first: int = 0) -> int:
    """Characters of [start, end) covered by the (sorted, possibly overlapping) spans,
    looking from ``spans[first]`` on (every earlier span ends at or before ``start``)."""
    total, cur = 0, start
    for i in range(first, len(spans)):
        s, e = spans[i]
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
    covered = _Spans((s.start, s.end) for a in attributions for s in (*a.source, *a.cue, *a.content))
    bad = _Spans((b.start, b.end) for b in boilerplate)
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
        if bad.covered(start, end) > 0:
            continue
        cov = covered.covered(start, end)
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
