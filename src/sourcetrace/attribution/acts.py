"""The act of each attribution: speech, belief, finding, intention or perception.

PolNeAR, and so our extraction, counts more than speech as attribution: "she thinks",
"a poll shows", "he plans to", "they saw". A fact-checker asking "who said what" wants
the speech only, so every attribution is typed by what its source does with the content,
with the evidence for the decision (``Attribution.act``, ``Attribution.act_evidence``):

    speech      said, told, wrote, tweeted, announced, attacked, a statement, ":"
    belief      thinks, knows, wants, hopes, fears, seems, is expected, is seen as
    finding     a report found, a poll shows, data show, footage showed, according to a study
    intention   plans, decided, promised to, voted for, signed, refused
    perception  saw, heard, noticed, watched

Decision, first match wins (``classify``):

1. ``rule:document-source:NOUN``  the source is a poll, report, study, data, video ...
   (``@document_source`` in the lexicon) and the cue reads as a finding under it (say,
   show, according to, in, ...: ``@finding_cue``): finding.
2. ``rule:quote``  the content is a direct quotation and the cue is not a perception or
   a finding word: speech ("'I will win,' he promised").
3. ``rule:see-object:NOUN``  "see" with an object that is a judgement ("sees a need",
   "saw an opening"): belief.
4. ``lexicon:LEMMA[+FRAME]``  the last word of the cue listed in attribution_acts.txt,
   with its frame override (``promise`` + to-infinitive: intention; + that-clause: speech;
   ``see`` + "as": belief).
5. ``cue-lexicon:LEMMA``  a cue word of the attribution lexicons not listed there: speech.
6. ``default``: speech.

Selecting what a reader sees (``select``) keeps the attributions of the chosen acts at or
above a confidence, and renumbers ``parent`` and the sources' attribution indices.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from ..config import read_table
from ..errors import ConfigError, InputError
from ..model import ACTS, Analysis, Attribution
from .lexicon import Lexicons

SPEECH = "speech"
QUOTE_MARKS = "\"“”‘’'«»`"
FRAMES = ("quote", "that", "to", "as")


@dataclass(frozen=True)
class ActLexicon:
    """The data of ``lexicons/attribution_acts.txt``.

    ``words``: lemma -> (act, {frame: act}); ``nouns``: the same for cue words that are
    nouns (``LEMMA.n`` lines), looked up first for nouns.
    """

    words: dict[str, tuple[str, dict[str, str]]]
    nouns: dict[str, tuple[str, dict[str, str]]]
    document_sources: frozenset[str]
    finding_cues: frozenset[str]
    belief_objects: frozenset[str]


def load_lexicon(name: str = "attribution_acts.txt") -> ActLexicon:
    """Read the act lexicon (see the file's header for its format)."""
    words: dict[str, tuple[str, dict[str, str]]] = {}
    nouns: dict[str, tuple[str, dict[str, str]]] = {}
    lists: dict[str, set[str]] = {"@document_source": set(), "@finding_cue": set(),
                                  "@belief_object": set()}
    for row in read_table(name):
        parts = [p for p in row if p]
        if parts[0] in lists:
            lists[parts[0]].add(parts[1].lower())
            continue
        lemma, act = parts[0].lower(), parts[1] if len(parts) > 1 else ""
        if act not in ACTS:
            raise ConfigError(f"{name}: {parts[0]!r} has an unknown act {act!r}",
                              hint=f"use one of: {', '.join(ACTS)}")
        frames = {}
        for item in (parts[2] if len(parts) > 2 else "").split(","):
            frame, _, frame_act = item.strip().partition("=")
            if frame:
                if frame not in FRAMES or frame_act not in ACTS:
                    raise ConfigError(f"{name}: {parts[0]!r} has a bad frame override {item!r}",
                                      hint=f"frames: {', '.join(FRAMES)}; acts: {', '.join(ACTS)}")
                frames[frame] = frame_act
        if lemma.endswith(".n"):
            nouns[lemma[:-2]] = (act, frames)
        else:
            words[lemma] = (act, frames)
    return ActLexicon(words, nouns, frozenset(lists["@document_source"]),
                      frozenset(lists["@finding_cue"]), frozenset(lists["@belief_object"]))


def parse_acts(value: str | Iterable[str] | None) -> frozenset[str] | None:
    """"speech,belief" (or a list of names) -> the set of acts; None or "all" -> None (all).

    Raises InputError naming the valid acts for an unknown one."""
    if value is None:
        return None
    names = value.split(",") if isinstance(value, str) else list(value)
    names = [n.strip().lower() for n in names if n and n.strip()]
    if not names or names == ["all"]:
        return None
    unknown = [n for n in names if n not in ACTS]
    if unknown:
        raise InputError(f"unknown act {', '.join(map(repr, unknown))}",
                         hint=f"use a comma-separated list of: {', '.join(ACTS)} (or all)")
    return frozenset(names)


# --------------------------------------------------------------------------- classify


def _tokens(doc, spans) -> list:
    out = []
    for s, e in spans:
        span = doc.char_span(s, e, alignment_mode="expand")
        if span is not None:
            out.extend(span)
    return out


def _frames(doc, text: str, cue_tokens, content) -> set[str]:
    """The complement frames of a cue: quote, that, to, as."""
    frames: set[str] = set()
    stripped = [text[s:e].strip() for s, e in content]
    if any(f[:1] in QUOTE_MARKS or f[-1:] in QUOTE_MARKS for f in stripped if f):
        frames.add("quote")
    first = stripped[0].lower() if stripped else ""
    if first.startswith("that "):
        frames.add("that")
    if first.startswith("to "):
        frames.add("to")
    if any(" as " in f" {c[:160].lower()} " for c in stripped):
        frames.add("as")
    cue_ids = {t.i for t in cue_tokens}
    for tok in cue_tokens:
        if tok.lower_ == "as":
            frames.add("as")
        for child in tok.children:
            if child.i in cue_ids:
                continue
            if child.dep_ == "xcomp" and any(c.lower_ == "to" for c in child.children):
                frames.add("to")
            elif child.dep_ == "ccomp" and any(c.lower_ == "that" for c in child.children):
                frames.add("that")
            elif (child.dep_ in ("prep", "advcl") and child.lower_ == "as") or (
                    child.dep_ in ("oprd", "xcomp") and any(c.lower_ == "as" for c in child.children)):
                frames.add("as")
    return frames


def _root(toks):
    """The token of ``toks`` whose head lies outside them (the first such one)."""
    ids = {t.i for t in toks}
    for tok in toks:
        if tok.head.i not in ids or tok.head is tok:
            return tok
    return toks[0]


def _document_source(doc, source, lex: ActLexicon) -> str | None:
    """The document noun that makes the source a poll, report, data ... (or None).

    The head noun of the source decides, through "of" ("the average of polls": poll;
    "a number of attendees": not a document)."""
    toks = _tokens(doc, source)
    if not toks:
        return None
    head = _root(toks)
    ids = {t.i for t in toks}
    for _ in range(3):
        of = next((c for c in head.children if c.lower_ == "of" and c.i in ids), None)
        obj = next((c for c in of.children if c.dep_ == "pobj"), None) if of is not None else None
        if obj is None:
            break
        if head.lemma_.lower() in lex.document_sources and head.lemma_.lower() != "number":
            break
        head = obj
    if head.pos_ in ("PRON", "VERB", "AUX"):
        return None
    for form in (head.lemma_.lower(), head.lower_):  # "average" is often tagged ADJ
        if form in lex.document_sources:
            return form
    return None


def _entry(tok, lex: ActLexicon):
    lemma = tok.lemma_.lower()
    if tok.pos_ == "NOUN" and lemma in lex.nouns:
        return lemma, lex.nouns[lemma]
    if lemma in lex.words:
        return lemma, lex.words[lemma]
    if tok.lower_ in lex.words:  # a form the lemmatizer gets wrong ("felt")
        return tok.lower_, lex.words[tok.lower_]
    if tok.text in lex.words:  # ":" and other punctuation cues
        return tok.text, lex.words[tok.text]
    return None


def classify(doc, cue, source=(), content=(), *, lexicon: ActLexicon,
             cue_words: Lexicons | None = None, text: str | None = None) -> tuple[str, str]:
    """The act of one attribution and the evidence: ``(act, evidence)``.

    ``cue``, ``source``, ``content``: character spans ((start, end) pairs) into
    ``doc.text``; ``cue_words``: the attribution lexicons, whose cue words not in the act
    lexicon count as speech; ``text``: ``doc.text`` when the caller has it (spaCy builds
    it anew on every access, so a caller typing many attributions passes it once)."""
    text = doc.text if text is None else text
    cue_tokens = [t for t in _tokens(doc, cue) if not t.is_space]
    lemmas = [t.lemma_.lower() for t in cue_tokens]
    frames = _frames(doc, text, cue_tokens, content)
    # 1. a document, poll or data set as the source
    if any(lm in lexicon.finding_cues for lm in lemmas):
        noun = _document_source(doc, source, lexicon)
        if noun is not None:
            return "finding", f"rule:document-source:{noun}"
    entries = [(tok, _entry(tok, lexicon)) for tok in cue_tokens]
    listed = [(tok, e) for tok, e in entries if e is not None]
    root = _root(cue_tokens) if cue_tokens else None
    # the cue's head word when listed ("pledged his support": pledge), else the last one
    last = next(((t, e) for t, e in listed if t is root), listed[-1] if listed else None)
    if last is not None and last[0] is root and listed[-1][1][1][0] == SPEECH:
        last = listed[-1]  # "did not want to say", "bothered to tell": the speech word
    # 2. a direct quotation is speech unless the cue is a sight or a finding
    if "quote" in frames and (last is None or (
            last[1][1][0] not in ("perception", "finding") and "quote" not in last[1][1][1])):
        return SPEECH, "rule:quote"
    # 3. "see" with a judgement as its object
    if "as" not in frames and any(lm in ("see", "view") for lm in lemmas):
        content_tokens = [t for t in _tokens(doc, content) if not t.is_space]
        if content_tokens:
            obj = _root(content_tokens).lemma_.lower()
            if obj in lexicon.belief_objects:
                return "belief", f"rule:see-object:{obj}"
    # 4. the act lexicon: the last listed word of the cue, with its frame override
    if last is not None:
        _, (lemma, (act, overrides)) = last
        for frame in FRAMES:
            if frame in frames and frame in overrides:
                return overrides[frame], f"lexicon:{lemma}+{frame}"
        return act, f"lexicon:{lemma}"
    # 5. a cue word of the attribution lexicons
    if cue_words is not None:
        for lemma in reversed(lemmas):
            if lemma in cue_words.verbs or lemma in cue_words.nouns:
                return SPEECH, f"cue-lexicon:{lemma}"
            if lemma in cue_words.adjectives:
                return "belief", f"cue-lexicon:{lemma}"
    return SPEECH, "default"


def label(doc, attributions: Iterable[Attribution], *, lexicon: ActLexicon,
          cue_words: Lexicons | None = None) -> tuple[Attribution, ...]:
    """The attributions with ``act`` and ``act_evidence`` set (those already typed kept)."""
    out = []
    text = None
    for a in attributions:
        if a.act is None:
            text = doc.text if text is None else text
            act, evidence = classify(
                doc, [(s.start, s.end) for s in a.cue], [(s.start, s.end) for s in a.source],
                [(s.start, s.end) for s in a.content], lexicon=lexicon, cue_words=cue_words,
                text=text)
            a = dataclasses.replace(a, act=act, act_evidence=evidence)
        out.append(a)
    return tuple(out)


# --------------------------------------------------------------------------- select


def keep(attribution: Attribution, acts: frozenset[str] | None, min_confidence: float) -> bool:
    """Whether a reader asking for ``acts`` at ``min_confidence`` sees this attribution
    (an untyped attribution counts as speech)."""
    if attribution.confidence < min_confidence:
        return False
    return acts is None or (attribution.act or SPEECH) in acts


def select(analysis: Analysis, acts: frozenset[str] | None = None,
           min_confidence: float = 0.0) -> Analysis:
    """The analysis with only the attributions of ``acts`` (None: all) at or above
    ``min_confidence``.

    Indices stay valid: a kept attribution whose parent was dropped hangs from the
    nearest kept ancestor (or none), the sources list only their kept attributions.
    Sources, assertions and the profile otherwise still describe the whole article."""
    if acts is None and min_confidence <= 0.0:
        return analysis
    atts = analysis.attributions
    new_index: dict[int, int] = {}
    for i, a in enumerate(atts):
        if keep(a, acts, min_confidence):
            new_index[i] = len(new_index)

    def kept_parent(i: int) -> int | None:
        p = atts[i].parent
        seen = set()
        while p is not None and p not in new_index and p not in seen and 0 <= p < len(atts):
            seen.add(p)
            p = atts[p].parent
        return new_index.get(p) if p is not None else None

    kept = tuple(dataclasses.replace(atts[i], parent=kept_parent(i)) for i in new_index)
    sources = tuple(dataclasses.replace(s, attributions=tuple(
        new_index[i] for i in s.attributions if i in new_index)) for s in analysis.sources)
    return analysis.replace(attributions=kept, sources=sources)
