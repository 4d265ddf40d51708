"""Matching: the same claim across articles.

Two stages, each explainable:

1. **Candidates** by cosine of sentence embeddings (embed.py): an exact
   search over the unit vectors, and past 100,000 claims an approximate
   nearest-neighbour index (hnswlib HNSW) that grows as claims arrive. (hnswlib rather than usearch: importing usearch 2.26 before
   onnxruntime 1.31 crashes the interpreter.)
2. **Confirmation checks** that keep distinct claims apart even when their
   wording is close. A candidate above ``min_cosine`` becomes a match only if
   every check agrees:

   numbers    quantities must not conflict: "300 troops" is not "3,000 troops"
              (one claim may omit a number the other gives; both giving
              different ones is a conflict)
   dates      years, months, weekdays and day numbers, likewise
   negation   no word negated in one claim and asserted in the other
              ("will not pass" / "will pass"; the word after the cue is its scope)
   polarity   no antonym pair across the two ("refused" / "agreed"), unless a
              negation flips it back ("not allowing" / "banning")
   claim      neither text is a topic fragment: a noun phrase that states
              nothing ("his tax records") is not a claim and matches nothing
   entities   capitalised names, aliases merged ("U.S." = "United States",
              "Mexican" = "Mexico"): when both claims have names the other lacks,
              their overlap must reach ``entity_min_overlap``, and the other
              words must not be the same ("Obama's plan" / "Bush's plan": the
              names that differ are what differs)
   (word lists and aliases: lexicons/claim_match.txt)
   score      a small logistic regression over three features of the pair:
              the cosine, how many words the wordier claim has that the other
              lacks, and the length of the longer claim; the probability must
              reach its threshold.
              This is what keeps apart topic fragments that the embedding scores
              like paraphrases ("Clinton for having ties to Wall Street" /
              "Clinton as a tool of Wall Street"). Coefficients and threshold are
              data (lexicons/claim_match_scorer.json), fitted on the "tune" half
              of bench/labels/claim_pairs.jsonl by bench/eval_match.py.

Every ``Match`` carries its ``MatchEvidence``: the cosine, the score and, per
check, what was compared and whether it agreed::

    matcher = Matcher()
    matcher.add(claims)                       # embeds and indexes them
    for m in matcher.matches_for(claims[0]):
        print(m.other_id, m.evidence.cosine, m.evidence.explain())
    confirm("Some 300 troops refused", "Some 3,000 troops refused", 0.97).same  # False
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Iterable, Sequence

import numpy as np

from ..config import read_sections
from ..errors import ConfigError, SourcetraceError

__all__ = ["MatchOptions", "MatchEvidence", "Match", "Matcher", "ClaimIndex", "confirm",
           "pair_features", "pair_score", "scorer_model",
           "extract_numbers", "extract_dates", "extract_entities", "negation_count",
           "predicate_kind", "is_topic_fragment",
           "negation_conflict", "negation_scopes", "polarity_conflict", "entity_conflict",
           "role_swap"]


@dataclass(frozen=True)
class MatchOptions:
    """Every option of claim matching, with its default.

    min_cosine=0.80           candidates below this cosine are never the same claim
                              (tuned on the "tune" half of bench/labels/claim_pairs.jsonl
                              with the score; the "min_cosine" of claim_match_scorer.json)
    use_scorer=True           run the score check (logistic regression over cosine,
                              unmatched content words and length)
    min_score=None            the score's probability threshold; None: the fitted one
                              of lexicons/claim_match_scorer.json
    accept_cosine=0.0         when > 0, candidates at or above it pass the entity check
                              (near-identical wording with names spelled differently)
    neighbours=20             how many nearest neighbours each claim is compared with
    entity_min_overlap=0.5    Jaccard of the two name sets when each has names the other lacks
    check_numbers=True        run the numbers check
    check_dates=True          run the dates check
    check_negation=True       run the negation-parity check
    check_polarity=True       run the antonym check
    check_entities=True       run the named-entity check
    check_claims=True         run the claim check (a topic fragment is not a claim)
    same_article=False        also match claims of the same article
    connectivity=16           HNSW graph degree ("M")
    expansion_add=128         HNSW construction depth (efConstruction)
    expansion_search=128      HNSW search depth (ef)
    """

    min_cosine: float = 0.80
    use_scorer: bool = True
    min_score: float | None = None
    accept_cosine: float = 0.0
    neighbours: int = 20
    entity_min_overlap: float = 0.5
    check_numbers: bool = True
    check_dates: bool = True
    check_negation: bool = True
    check_polarity: bool = True
    check_entities: bool = True
    check_claims: bool = True
    same_article: bool = False
    connectivity: int = 16
    expansion_add: int = 128
    expansion_search: int = 128

    def __post_init__(self) -> None:
        if not -1.0 <= self.min_cosine <= 1.0:
            raise ConfigError(f"min_cosine must be in [-1, 1], got {self.min_cosine!r}")
        if self.neighbours < 1:
            raise ConfigError(f"neighbours must be >= 1, got {self.neighbours!r}")
        if not 0.0 <= self.entity_min_overlap <= 1.0:
            raise ConfigError("entity_min_overlap must be in [0, 1]")
        if self.min_score is not None and not 0.0 <= self.min_score <= 1.0:
            raise ConfigError(f"min_score must be in [0, 1], got {self.min_score!r}")


# ---------------------------------------------------------------------------
# Lexicon

@dataclass(frozen=True)
class _Lexicon:
    negation: frozenset[str]
    antonyms: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]
    entity_stopwords: frozenset[str]
    scope_skip: frozenset[str]
    scope_end: frozenset[str]
    phrase_aliases: tuple[tuple[re.Pattern, str], ...]
    word_aliases: dict[str, str]
    auxiliaries: frozenset[str] = frozenset()
    verbs: frozenset[str] = frozenset()
    ing_nouns: frozenset[str] = frozenset()


@lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    sections = read_sections("claim_match.txt")
    antonyms = []
    for line in sections.get("antonyms", []):
        left, right = line.split("|", 1)
        antonyms.append((tuple(left.split()), tuple(right.split())))
    phrases, words = [], {}
    for line in sections.get("entity_aliases", []):
        canonical, _, rest = line.partition("=")
        canonical = canonical.strip()
        for alias in (a.strip() for a in rest.split(",")):
            if not alias:
                continue
            if " " in alias or "." in alias:
                pattern = re.compile(r"(?<!\w)" + re.escape(alias).replace(r"\ ", r"\s+")
                                     + r"(?!\w)", re.IGNORECASE)
                phrases.append((pattern, canonical))
            else:
                words[alias.lower()] = canonical.lower()
    phrases.sort(key=lambda item: -len(item[0].pattern))
    return _Lexicon(
        negation=frozenset(sections.get("negation", [])),
        antonyms=tuple(antonyms),
        entity_stopwords=frozenset(sections.get("entity_stopwords", [])),
        scope_skip=frozenset(sections.get("negation_scope_skip", [])),
        scope_end=frozenset(sections.get("negation_scope_end", [])),
        phrase_aliases=tuple(phrases),
        word_aliases=words,
        auxiliaries=frozenset(sections.get("predicate_auxiliaries", [])),
        verbs=frozenset(sections.get("predicate_verbs", [])),
        ing_nouns=frozenset(sections.get("ing_nouns", [])),
    )


# ---------------------------------------------------------------------------
# Feature extraction (plain regular expressions: no model needed)

_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "dozen": 12, "dozens": 12,
    "hundreds": 100, "thousands": 1000, "millions": 1_000_000, "billions": 1_000_000_000,
    "half": 0.5, "twice": 2, "double": 2, "triple": 3,
}
_SCALES = {"hundred": 100, "thousand": 1000, "k": 1000, "million": 1_000_000, "m": 1_000_000,
           "mn": 1_000_000, "billion": 1_000_000_000, "bn": 1_000_000_000, "b": 1_000_000_000,
           "trillion": 1_000_000_000_000}
_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}
_WEEKDAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

_NUM = r"\d+(?:[.,]\d+)*"
_MONTH_RE = r"(?:January|February|March|April|May|June|July|August|September|October|" \
            r"November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
_DATE_MD = re.compile(rf"\b({_MONTH_RE})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+((?:19|20)\d\d))?")
_DATE_DM = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_RE})(?:,?\s+((?:19|20)\d\d))?")
_MONTH_ALONE = re.compile(rf"\b({_MONTH_RE})(?:\s+((?:19|20)\d\d))?\b")
_YEAR = re.compile(r"\b((?:19|20)\d\d)s?\b")
_WEEKDAY = re.compile(r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")
_QUANTITY = re.compile(
    rf"(?<![\w.])(?P<num>{_NUM}|(?:{'|'.join(sorted(_NUMBER_WORDS, key=len, reverse=True))}))"
    r"(?:\s*(?P<scale>hundred|thousand|million|billion|trillion|bn|mn|k|m|b)\b)?"
    r"(?P<pct>\s*(?:%|percent|per cent))?", re.IGNORECASE)
_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’.-]*[A-Za-z]|[A-Za-z]|n't")
_CAP_RUN = re.compile(r"(?:(?<=\s)|^|(?<=[\"“‘(']))([A-Z][\w'’.-]*(?:\s+(?:of\s+|de\s+|al-)?[A-Z][\w'’.-]*)*)")


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace("’", "'").replace("‘", "'")


def extract_dates(text: str) -> tuple[frozenset[str], list[tuple[int, int]]]:
    """Normalised date mentions ("m9-d11", "y2016", "monday") and the spans they cover."""
    text = _norm(text)
    found: set[str] = set()
    spans: list[tuple[int, int]] = []
    for m in _DATE_MD.finditer(text):
        month = _MONTHS[m.group(1).rstrip(".").lower()]
        found.add(f"m{month}-d{int(m.group(2))}")
        if m.group(3):
            found.add(f"y{m.group(3)}")
        spans.append(m.span())
    for m in _DATE_DM.finditer(text):
        month = _MONTHS[m.group(2).rstrip(".").lower()]
        found.add(f"m{month}-d{int(m.group(1))}")
        if m.group(3):
            found.add(f"y{m.group(3)}")
        spans.append(m.span())
    for m in _MONTH_ALONE.finditer(text):
        word = m.group(1).rstrip(".")
        if word == "May" and not m.group(2):      # "may" the verb, capitalised at a start
            continue
        if word in ("Mar", "Jun", "Jul", "Dec", "Jan", "Feb", "Apr", "Aug", "Oct", "Nov", "Sep") \
                and not m.group(0).endswith(".") and not m.group(2):
            continue
        month = _MONTHS[word.lower()]
        if not any(k.startswith(f"m{month}-") for k in found):
            found.add(f"m{month}")
        if m.group(2):
            found.add(f"y{m.group(2)}")
        spans.append(m.span())
    for m in _YEAR.finditer(text):
        found.add(f"y{m.group(1)}")
        spans.append(m.span())
    for m in _WEEKDAY.finditer(text):
        found.add(m.group(1).lower())
        spans.append(m.span())
    return frozenset(found), spans


def extract_numbers(text: str, *, skip: Sequence[tuple[int, int]] = ()) -> frozenset[float]:
    """Quantities as numbers: "3,000" -> 3000, "1.5 million" -> 1500000, "300" -> 300.

    Spans in ``skip`` (dates) are ignored; "one" used as a pronoun is kept out
    by ignoring the word numbers "one" and "half" unless a noun-like word follows.
    """
    text = _norm(text)
    out: set[float] = set()
    for m in _QUANTITY.finditer(text):
        if any(s <= m.start() < e for s, e in skip):
            continue
        raw = m.group("num")
        low = raw.lower()
        if low in _NUMBER_WORDS:
            if low in ("one", "half", "double", "twice", "triple") and not m.group("scale"):
                continue
            value = float(_NUMBER_WORDS[low])
        else:
            cleaned = raw
            if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", raw):
                cleaned = raw.replace(",", "")
            elif "," in raw:
                cleaned = raw.replace(",", ".") if raw.count(",") == 1 and len(raw.split(",")[1]) != 3 \
                    else raw.replace(",", "")
            try:
                value = float(cleaned.rstrip("."))
            except ValueError:
                continue
        scale = (m.group("scale") or "").lower()
        if scale in ("m", "b", "k") and not re.match(r"\d", raw):
            scale = ""
        value *= _SCALES.get(scale, 1)
        out.add(round(value, 6))
    return frozenset(out)


def _tokens(text: str) -> list[str]:
    text = _norm(text).lower()
    tokens: list[str] = []
    for tok in re.findall(r"[a-z]+(?:'[a-z]+)*|n't", text):
        if tok.endswith("n't"):
            tokens.extend([tok[:-3], "n't"])
        else:
            tokens.append(tok)
    return tokens


def negation_count(text: str) -> int:
    """How many negation cues ("not", "n't", "never", "no", ...) the text has."""
    neg = _lexicon().negation
    return sum(1 for t in _tokens(text) if t in neg)


def _stem(word: str) -> str:
    if word.endswith("ss"):
        return word
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def negation_scopes(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """(negated, plain): stems of the first content word after each negation cue (and of
    the word joined to it by "or"/"nor"), and of every other content word.
    "will not pass the bill" -> ({"pass"}, {"senate", "bill"}). A cue followed by a comma
    ("No, I meant ...") is an interjection, not a negation.
    """
    lex = _lexicon()
    text = _norm(text).lower()
    tokens = re.findall(r"[a-z]+(?:'[a-z]+)*|n't|[,;:.!?]", text)
    expanded: list[str] = []
    for tok in tokens:
        if tok.endswith("n't") and tok != "n't":
            expanded.extend([tok[:-3], "n't"])
        else:
            expanded.append(tok)
    negated: set[str] = set()
    plain: set[str] = set()
    pending = extend = False
    for i, tok in enumerate(expanded):
        if tok in lex.negation:
            nxt = expanded[i + 1] if i + 1 < len(expanded) else ""
            pending = nxt not in (",", ";", ":", ".", "!", "?", "")
            continue
        if not tok[0].isalpha() or tok in lex.scope_end:
            pending = extend = False
            continue
        if tok in ("or", "nor") and negated and expanded[i - 1] not in lex.scope_skip:
            extend = True
            continue
        if tok in lex.scope_skip or len(tok) < 2:
            continue
        if pending or extend:
            negated.add(_stem(tok))
            pending = extend = False
        else:
            plain.add(_stem(tok))
    return frozenset(negated), frozenset(plain)


def negation_conflict(a: str, b: str) -> str | None:
    """A word negated in one text and asserted in the other ("not pass" / "pass"), or None."""
    neg_a, plain_a = negation_scopes(a)
    neg_b, plain_b = negation_scopes(b)
    clash = sorted(((neg_a - neg_b) & plain_b) | ((neg_b - neg_a) & plain_a))
    return clash[0] if clash else None


def _group_hits(words: set[str], group: tuple[str, ...]) -> set[str]:
    hits = set()
    for pattern in group:
        if pattern.endswith("*"):
            stem = pattern[:-1]
            hits.update(w for w in words if w.startswith(stem))
        elif pattern in words:
            hits.add(pattern)
    return hits


def polarity_conflict(a: str, b: str) -> tuple[str, str] | None:
    """The first antonym pair across two texts ("refused", "agreed"), or None.

    Only words that one text has and the other lacks count, so "refused to obey"
    vs "agreed to obey" conflicts (refused/agreed) although both say "obey".
    """
    ta, tb = set(_tokens(a)), set(_tokens(b))
    wa, wb = ta - tb, tb - ta
    for left, right in _lexicon().antonyms:
        al, ar = _group_hits(wa, left), _group_hits(wa, right)
        bl, br = _group_hits(wb, left), _group_hits(wb, right)
        if al and br:
            return sorted(al)[0], sorted(br)[0]
        if ar and bl:
            return sorted(ar)[0], sorted(bl)[0]
    return None


_SUBJECTS = frozenset("he she it they we i you who which there".split())
_DETERMINERS = frozenset("the a an his her their its our my your this these those".split())
_CONTRACTED = re.compile(r"^(he|she|it|there|that|what|who|they|we|i|you|here)'(s|re|ll|d|ve|m)$")


def predicate_kind(text: str) -> str:
    """Whether a claim text states something: "finite" (a clause: "Clinton used a
    private email server"), "nonfinite" (an infinitive, gerund or participle
    phrase: "to ban Muslims from entering the U.S."), or "none" (a noun phrase,
    a topic: "his tax records", "Hillary Clinton's use of a private email server").

    Word shapes and the word lists of lexicons/claim_match.txt, no tagger: on the
    555 texts of bench/labels/claim_pairs.jsonl it agrees with spaCy's tagger on
    "none" or not for 97% of them.
    """
    lex = _lexicon()
    words = re.findall(r"[A-Za-z]+(?:'[a-z]+)?", _norm(text))
    kind = "none"
    for i, word in enumerate(words):
        w = word.lower()
        prev = words[i - 1].lower() if i else ""
        if w.endswith("n't") or _CONTRACTED.match(w) or w in lex.auxiliaries:
            return "finite"
        if prev in _SUBJECTS and prev != "there" and w not in _DETERMINERS:
            return "finite"
        if prev in _DETERMINERS or prev.endswith("'s"):
            continue
        if w in lex.verbs:
            return "finite"
        if w.endswith("ed") and len(w) >= 4:
            if prev in ("that", "who", "which") or (i and words[i - 1][0].isupper()):
                return "finite"
            kind = "nonfinite"
        elif w.endswith("ing") and len(w) > 4 and w not in lex.ing_nouns:
            kind = "nonfinite"
        elif prev == "to" and not word[0].isupper() and w not in lex.entity_stopwords:
            kind = "nonfinite"
        elif w in ("be", "been", "being", "having"):
            kind = "nonfinite"
    return kind


def is_topic_fragment(text: str) -> bool:
    """A noun phrase that names a topic and states nothing ("his tax records")."""
    return predicate_kind(text) == "none"


def extract_entities(text: str) -> frozenset[str]:
    """Capitalised names, as lower-case words ("Hillary Clinton's" -> {"hillary", "clinton"}).

    Months, weekdays and the stop words of lexicons/claim_match.txt are not names.
    """
    return frozenset(name for name, _, _ in _entity_mentions(text)[1])


def _entity_mentions(text: str) -> tuple[str, list[tuple[str, int, int]]]:
    """The text with its aliases made canonical, and each name word in it (extract_entities)
    with the span of its capitalised run, in text order."""
    lex = _lexicon()
    text = _norm(text)
    for pattern, canonical in lex.phrase_aliases:
        text = pattern.sub(canonical, text)
    names: list[tuple[str, int, int]] = []
    for m in _CAP_RUN.finditer(text):
        for word in re.split(r"[\s-]+", m.group(1)):
            w = word.strip(".'").lower()
            if w.endswith("'s"):
                w = w[:-2]
            if (len(w) < 2 or w in lex.entity_stopwords or w in _MONTHS or w in _WEEKDAYS
                    or w in ("of", "de") or not w[0].isalpha()):
                continue
            w = lex.word_aliases.get(w, w)
            if len(w) > 4 and w.endswith("s") and not w.endswith("ss"):
                w = lex.word_aliases.get(w[:-1], w[:-1])      # Muslims -> muslim
            names.append((w, m.start(1), m.end(1)))
    return text, names


ROLE_SWAP_OVERLAP = 0.5     # the words between the two names, shared for a swap (Jaccard)


def entity_conflict(a: str, b: str, min_overlap: float = 0.5) -> str | None:
    """Why two claims speak of other named actors, or None: each names people, places or
    organisations the other does not, and they share under ``min_overlap`` of their names
    (Jaccard), or they say the same words about other names ("Obama's plan" / "Bush's plan").
    One naming more than the other ("Trump" / "Donald Trump", "he" / "Trump") is no conflict."""
    ea, eb = extract_entities(a), extract_entities(b)
    if not _set_conflict(ea, eb):
        return None
    overlap = len(ea & eb) / len(ea | eb)
    detail = f"{_fmt(ea)} vs {_fmt(eb)}, overlap {overlap:.2f}"
    if overlap < min_overlap:
        return detail
    if _same_words_but_names(a, b, ea | eb):
        return detail + ", the same words about other names"
    return None


def _between_words(text: str) -> set[str]:
    return {_stem(t) for t in _tokens(text) if len(t) > 2} - {"the", "and", "that", "which"}


def role_swap(a: str, b: str, min_overlap: float = ROLE_SWAP_OVERLAP) -> tuple[str, str] | None:
    """Two names both claims give in the other order around the same words, so that who
    acts and who is acted upon are swapped ("Russia accused Ukraine of shelling the plant" /
    "Ukraine accused Russia of shelling the plant"): the names, else None. The words between
    the two names must be shared (Jaccard >= ``min_overlap``), which a reordered paraphrase
    ("Trump said Clinton lied" / "Clinton lied, Trump said") does not do, and a passive
    ("Ukraine was accused by Russia") is no swap."""
    text_a, in_a = _entity_mentions(a)
    text_b, in_b = _entity_mentions(b)
    first_a: dict[str, tuple[int, int]] = {}
    first_b: dict[str, tuple[int, int]] = {}
    for name, start, end in in_a:
        first_a.setdefault(name, (start, end))
    for name, start, end in in_b:
        first_b.setdefault(name, (start, end))
    shared = sorted(first_a.keys() & first_b.keys(), key=lambda n: first_a[n])
    for i, x in enumerate(shared):
        for y in shared[i + 1:]:
            if first_a[x][0] == first_a[y][0] or first_b[x][0] == first_b[y][0]:
                continue                                  # one name ("Donald Trump")
            if first_b[x][0] < first_b[y][0]:
                continue                                  # the same order in both
            mid_a = text_a[first_a[x][1]:first_a[y][0]]
            mid_b = text_b[first_b[y][1]:first_b[x][0]]
            if any(re.search(r"\bby\b", m, re.IGNORECASE) for m in (mid_a, mid_b)):
                continue                                  # a passive names the actor last
            wa, wb = _between_words(mid_a), _between_words(mid_b)
            if wa and wb and len(wa & wb) / len(wa | wb) >= min_overlap:
                return x, y
    return None


# ---------------------------------------------------------------------------
# The score: a logistic regression over a few features of the pair

_MIN_CONTENT_LETTERS = 4     # shorter words ("the", "of", "her", "was") are not counted


def _content_words(text: str) -> dict[str, str]:
    """Stems of the words of four letters or more, each with a word that shows it."""
    out: dict[str, str] = {}
    for tok in _tokens(text):
        if len(tok) >= _MIN_CONTENT_LETTERS:
            out.setdefault(_stem(tok), tok)
    return out


def pair_features(a: str, b: str, cosine: float) -> dict:
    """The score's features of two claim texts.

    cosine     of the two embeddings
    unmatched  how many words (stems of four letters or more) one claim has and
               the other lacks, for the claim with more of them: a shorter excerpt
               of the same statement has few; two topic fragments saying different
               things about the same names have many
    log_words  log of the word count of the longer claim (long claims leave more
               words unmatched even when they state the same thing)

    Also ``unmatched_words``: those words, in text order (for the evidence).
    """
    words_a, words_b = _content_words(a), _content_words(b)
    only_a = [w for k, w in words_a.items() if k not in words_b]
    only_b = [w for k, w in words_b.items() if k not in words_a]
    n = max(len([t for t in _tokens(a) if t != "n't"]), len([t for t in _tokens(b) if t != "n't"]))
    return {"cosine": float(cosine), "unmatched": float(max(len(only_a), len(only_b))),
            "log_words": math.log(max(n, 1)),
            "unmatched_words": only_a if len(only_a) >= len(only_b) else only_b}


@lru_cache(maxsize=1)
def scorer_model() -> dict:
    """lexicons/claim_match_scorer.json: feature names, coefficients, intercept,
    threshold and how they were fitted."""
    import json

    raw = resources.files("sourcetrace").joinpath("lexicons/claim_match_scorer.json").read_text("utf-8")
    model = json.loads(raw)
    for key in ("features", "coefficients", "intercept", "threshold"):
        if key not in model:
            raise SourcetraceError(f"lexicons/claim_match_scorer.json lacks {key!r}",
                                   hint="refit it with bench/eval_match.py --write-scorer")
    return model


def pair_score(features: dict, model: dict | None = None) -> float:
    """The probability that two claims are the same, from ``pair_features``."""
    model = model or scorer_model()
    z = model["intercept"] + sum(c * features[f] for f, c in zip(model["features"],
                                                                  model["coefficients"]))
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


# ---------------------------------------------------------------------------
# Confirmation

@dataclass(frozen=True)
class Check:
    """One confirmation check: whether it agreed and what it compared."""

    name: str
    ok: bool
    detail: str

    def to_dict(self) -> dict:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


@dataclass(frozen=True)
class MatchEvidence:
    """Why two claims are (or are not) the same: cosine and every check."""

    cosine: float
    checks: tuple[Check, ...] = ()
    same: bool = False
    score: float | None = None      # probability of the score check, when it ran

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.checks if not c.ok)

    def explain(self) -> str:
        head = f"cosine {self.cosine:.3f}"
        if self.score is not None:
            head += f", score {self.score:.3f}"
        return "; ".join([head] + [f"{c.name} {'ok' if c.ok else 'CONFLICT'}: {c.detail}"
                                   for c in self.checks])

    def to_dict(self) -> dict:
        out = {"cosine": round(float(self.cosine), 4), "same": self.same,
               "checks": [c.to_dict() for c in self.checks]}
        if self.score is not None:
            out["score"] = round(float(self.score), 4)
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "MatchEvidence":
        return cls(float(d["cosine"]), tuple(Check(c["name"], bool(c["ok"]), c["detail"])
                                             for c in d.get("checks") or ()), bool(d["same"]),
                   None if d.get("score") is None else float(d["score"]))


def _same_words_but_names(a: str, b: str, names: frozenset[str]) -> bool:
    """Whether two texts say the same words once their names are left out: then
    the names that differ are what differs ("Obama's plan" / "Bush's plan")."""
    stems = {_stem(n) for n in names}
    wa = {k.split("'")[0] for k in _content_words(a)} - stems - names
    wb = {k.split("'")[0] for k in _content_words(b)} - stems - names
    return bool(wa | wb) and len(wa & wb) / len(wa | wb) >= 0.8


def _clip(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 3].rstrip() + "..."


def _set_conflict(a: frozenset, b: frozenset) -> bool:
    return bool(a - b) and bool(b - a)


def _fmt(values: Iterable) -> str:
    items = sorted(values, key=str)
    shown = [f"{v:g}" if isinstance(v, float) else str(v) for v in items]
    return "{" + ", ".join(shown) + "}"


def confirm(a: str, b: str, cosine: float, options: MatchOptions | None = None) -> MatchEvidence:
    """Run the confirmation checks on two claim texts whose embeddings have ``cosine``."""
    o = options or MatchOptions()
    checks: list[Check] = []
    if cosine < o.min_cosine:
        checks.append(Check("cosine", False, f"{cosine:.3f} < {o.min_cosine:.3f}"))
        return MatchEvidence(cosine, tuple(checks), False)
    checks.append(Check("cosine", True, f"{cosine:.3f} >= {o.min_cosine:.3f}"))
    if o.check_claims:
        topics = [t for t in (a, b) if is_topic_fragment(t)]
        checks.append(Check("claim", not topics,
                            f"'{_clip(topics[0])}' names a topic and states nothing" if topics
                            else "both state something"))
    dates_a, spans_a = extract_dates(a)
    dates_b, spans_b = extract_dates(b)
    if o.check_numbers:
        na, nb = extract_numbers(a, skip=spans_a), extract_numbers(b, skip=spans_b)
        conflict = _set_conflict(na, nb)
        checks.append(Check("numbers", not conflict,
                            f"{_fmt(na)} vs {_fmt(nb)}" if (na or nb) else "none"))
    if o.check_dates:
        conflict = _set_conflict(dates_a, dates_b)
        checks.append(Check("dates", not conflict,
                            f"{_fmt(dates_a)} vs {_fmt(dates_b)}" if (dates_a or dates_b)
                            else "none"))
    if o.check_negation:
        word = negation_conflict(a, b)
        checks.append(Check("negation", word is None,
                            f"'{word}' negated in one claim only" if word
                            else "no negated word asserted in the other"))
    if o.check_polarity:
        pair = polarity_conflict(a, b)
        flipped = negation_count(a) % 2 != negation_count(b) % 2
        if pair and flipped:        # "not allowing" vs "banning": the negation cancels it
            checks.append(Check("polarity", True, f"'{pair[0]}' vs '{pair[1]}' under negation"))
        else:
            checks.append(Check("polarity", pair is None,
                                f"'{pair[0]}' vs '{pair[1]}'" if pair else "no antonyms"))
    if o.check_entities:
        ea, eb = extract_entities(a), extract_entities(b)
        ok, detail = True, f"{_fmt(ea)} vs {_fmt(eb)}" if (ea or eb) else "none"
        if _set_conflict(ea, eb):
            overlap = len(ea & eb) / len(ea | eb)
            ok = overlap >= o.entity_min_overlap or (0 < o.accept_cosine <= cosine)
            detail += f", overlap {overlap:.2f}"
            if ok and _same_words_but_names(a, b, ea | eb):
                ok = False
                detail += ", the same words about other names"
        checks.append(Check("entities", ok, detail))
    score = None
    if o.use_scorer:
        model = scorer_model()
        threshold = model["threshold"] if o.min_score is None else o.min_score
        features = pair_features(a, b, cosine)
        score = pair_score(features, model)
        words = features["unmatched_words"]
        shown = ", ".join(words[:6]) + (", ..." if len(words) > 6 else "")
        checks.append(Check("score", score >= threshold,
                            f"{score:.3f} {'>=' if score >= threshold else '<'} {threshold:.3f} "
                            f"({features['unmatched']:g} unmatched words"
                            f"{': ' + shown if words else ''}; longer claim "
                            f"{round(math.exp(features['log_words']))} words)"))
    return MatchEvidence(cosine, tuple(checks), all(c.ok for c in checks), score)


# ---------------------------------------------------------------------------
# The index

class ClaimIndex:
    """Nearest-neighbour index of claim vectors, keyed by claim id.

    Up to ``EXACT_UP_TO`` claims it is searched exactly with one matrix product
    over the unit vectors (a few milliseconds for 100,000 claims); past that an
    HNSW graph (hnswlib, cosine) is built once and grows as claims are added.
    """

    EXACT_UP_TO = 100_000

    def __init__(self, ndim: int = 384, options: MatchOptions | None = None,
                 _empty: bool = True) -> None:
        self.options = options or MatchOptions()
        self.ndim = ndim
        self._index = None                     # hnswlib.Index, once past EXACT_UP_TO
        self._capacity = 0
        self._ids: list[str] = []
        self._keys: dict[str, int] = {}
        self._unit = np.zeros((1024, ndim), dtype=np.float32)     # rows [0, len) in use

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, claim_id: str) -> bool:
        return claim_id in self._keys

    def add(self, claim_ids: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.ndim or len(claim_ids) != len(vectors):
            raise ConfigError(f"expected {len(claim_ids)} vectors of {self.ndim} dimensions, "
                              f"got shape {vectors.shape}")
        new, seen = [], set()
        for i, cid in enumerate(claim_ids):
            if cid not in self._keys and cid not in seen:
                seen.add(cid)
                new.append(i)
        if not new:
            return
        rows = vectors[new]
        rows = rows / np.clip(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12, None)
        n, need = len(self._ids), len(self._ids) + len(new)
        if need > len(self._unit):
            grown = np.zeros((max(need, 2 * len(self._unit)), self.ndim), dtype=np.float32)
            grown[:n] = self._unit[:n]
            self._unit = grown
        self._unit[n:need] = rows
        for i in new:
            self._keys[claim_ids[i]] = len(self._ids)
            self._ids.append(claim_ids[i])
        if self._index is not None:
            self._hnsw_add(np.arange(n, need, dtype=np.int64))

    def _hnsw_add(self, keys: np.ndarray) -> None:
        need = int(keys[-1]) + 1
        if need > self._capacity:
            while self._capacity < need:
                self._capacity *= 2
            self._index.resize_index(self._capacity)
        self._index.add_items(self._unit[keys], keys, num_threads=1)

    def _hnsw(self):
        """The HNSW graph over every claim (built on first use)."""
        if self._index is None:
            import hnswlib

            self._index = hnswlib.Index(space="cosine", dim=self.ndim)
            self._capacity = max(1024, len(self._ids))
            self._index.init_index(max_elements=self._capacity,
                                   ef_construction=self.options.expansion_add,
                                   M=self.options.connectivity)
            self._index.set_ef(self.options.expansion_search)
            if self._ids:
                self._hnsw_add(np.arange(len(self._ids), dtype=np.int64))
        return self._index

    def vector(self, claim_id: str) -> np.ndarray:
        return self._unit[self._keys[claim_id]].copy()

    def ids(self) -> list[str]:
        """The claim ids in the order they were added."""
        return list(self._ids)

    @property
    def has_graph(self) -> bool:
        """Whether the HNSW graph has been built (it then grows with every claim added)."""
        return self._index is not None

    def search(self, vectors: np.ndarray, k: int, *, exact: bool | None = None
               ) -> list[list[tuple[str, float]]]:
        """For each query vector, up to ``k`` (claim id, cosine) pairs, closest first.

        ``exact``: one matrix product over every claim (True), the HNSW graph (False), or
        by size (None: exact up to ``EXACT_UP_TO`` claims). A few one-shot queries are
        cheaper exact than building the graph (a fraction of a second against a minute
        for 300,000 claims)."""
        vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        if not self._ids:
            return [[] for _ in range(len(vectors))]
        k = min(k, len(self._ids))
        if exact is None:
            exact = len(self._ids) <= self.EXACT_UP_TO
        if exact:
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            sims = (vectors / np.clip(norms, 1e-12, None)) @ self._unit[:len(self._ids)].T
            if k < sims.shape[1]:
                part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            else:
                part = np.tile(np.arange(sims.shape[1]), (len(sims), 1))
            out = []
            for r in range(len(vectors)):
                order = part[r][np.argsort(-sims[r, part[r]], kind="stable")]
                out.append([(self._ids[int(j)], float(sims[r, j])) for j in order])
            return out
        index = self._hnsw()
        index.set_ef(max(self.options.expansion_search, k))
        labels, distances = index.knn_query(vectors, k=k, num_threads=1)
        return [[(self._ids[int(labels[r, j])], float(1.0 - distances[r, j]))
                 for j in range(labels.shape[1])] for r in range(len(vectors))]

    def save(self, path: str) -> None:
        import json

        self._hnsw().save_index(path)
        with open(path + ".ids.json", "w", encoding="utf-8") as f:
            json.dump(self._ids, f)

    @classmethod
    def load(cls, path: str, options: MatchOptions | None = None) -> "ClaimIndex":
        import json

        import hnswlib

        index = cls(options=options)
        graph = hnswlib.Index(space="cosine", dim=index.ndim)
        try:
            with open(path + ".ids.json", encoding="utf-8") as f:
                ids = json.load(f)
            graph.load_index(path, max_elements=max(1024, len(ids)))
        except (OSError, RuntimeError, ValueError) as exc:
            raise SourcetraceError(f"cannot load the claim index from {path}: {exc}",
                                   hint="rebuild it (the claims state keeps the vectors)") from exc
        if ids:
            index.add(ids, np.asarray(graph.get_items(list(range(len(ids)))), dtype=np.float32))
        return index


@dataclass(frozen=True)
class Match:
    """Two claims found to be the same (or rejected, with the evidence why)."""

    claim_id: str
    other_id: str
    evidence: MatchEvidence

    @property
    def cosine(self) -> float:
        return self.evidence.cosine

    def to_dict(self) -> dict:
        return {"claim_id": self.claim_id, "other_id": self.other_id,
                "evidence": self.evidence.to_dict()}

    @classmethod
    def from_dict(cls, d: dict) -> "Match":
        return cls(d["claim_id"], d["other_id"], MatchEvidence.from_dict(d["evidence"]))


@dataclass
class Matcher:
    """Claims, their vectors and the index; incremental as claims arrive."""

    options: MatchOptions = field(default_factory=MatchOptions)
    embedder: object | None = None
    index: ClaimIndex | None = None
    claims: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.index is None:
            self.index = ClaimIndex(options=self.options)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        if self.embedder is None:
            from .embed import get_embedder

            self.embedder = get_embedder()
        return self.embedder.encode(list(texts))

    def add(self, claims: Sequence, vectors: np.ndarray | None = None) -> np.ndarray:
        """Index claims (embedding them unless ``vectors`` is given); returns the vectors."""
        claims = [c for c in claims if c.id not in self.claims]
        if vectors is None:
            vectors = self._embed([c.text for c in claims])
        for c in claims:
            self.claims[c.id] = c
        self.index.add([c.id for c in claims], vectors)
        return vectors

    def candidates(self, texts: Sequence[str], vectors: np.ndarray | None = None,
                   k: int | None = None) -> list[list[tuple[str, float]]]:
        if vectors is None:
            vectors = self._embed(texts)
        return self.index.search(vectors, k or self.options.neighbours)

    def match_text(self, text: str, *, vector: np.ndarray | None = None,
                   exclude_article: str | None = None,
                   keep_rejected: bool = False) -> list[Match]:
        """Claims of the index that state ``text``, best first (rejected ones if asked)."""
        if not text or not text.strip():
            raise ConfigError("the claim text is empty", hint="give the words of the claim")
        vec = vector if vector is not None else self._embed([text])[0]
        out: list[Match] = []
        for other_id, cosine in self.index.search(vec[None, :], self.options.neighbours)[0]:
            other = self.claims.get(other_id)
            if other is None or (exclude_article and other.article_id == exclude_article):
                continue
            evidence = confirm(text, other.text, cosine, self.options)
            if evidence.same or keep_rejected:
                out.append(Match("", other_id, evidence))
        out.sort(key=lambda m: -m.cosine)
        return out

    def matches_for(self, claim, *, keep_rejected: bool = False) -> list[Match]:
        """Claims of other articles (unless ``same_article``) that state the same as ``claim``."""
        vector = self.index.vector(claim.id) if claim.id in self.index else None
        exclude = None if self.options.same_article else claim.article_id
        found = self.match_text(claim.text, vector=vector, exclude_article=exclude,
                                keep_rejected=keep_rejected)
        return [Match(claim.id, m.other_id, m.evidence) for m in found if m.other_id != claim.id]

    def all_matches(self) -> list[Match]:
        """Every confirmed pair among the indexed claims, each pair once."""
        seen: set[tuple[str, str]] = set()
        out: list[Match] = []
        for claim in self.claims.values():
            for m in self.matches_for(claim):
                key = tuple(sorted((m.claim_id, m.other_id)))
                if key not in seen:
                    seen.add(key)
                    out.append(m)
        return out
