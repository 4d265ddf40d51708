"""What every rule shares: the per-document context and the proposal record.

A *proposal* is one candidate attribution as character spans per role. Rules
(and, later, a learned tagger) only propose; ``group.assemble`` decides which
proposals survive, attaches floating quotations, nests and orders them.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

from spacy.attrs import IDX, LEMMA, LENGTH, LOWER, SENT_START

from .lexicon import Lexicons
from .quotes import Quote, find_quotes

CharSpan = tuple[int, int]

# Rule priorities when two proposals claim the same cue (higher wins). The keys are every
# rule name there is: each rule module lists the names it emits in RULE_NAMES, checked
# against these keys when the package is imported (``check_rule_names``), and a Proposal
# with any other rule name fails at once (``check_rule``).
PRIORITY = {
    "quote+speech_verb": 90,
    "cue_colon_quote": 85,
    "according_to": 80,
    "in_source": 52,
    "there_are_reports": 75,
    "transcript_colon": 70,
    "headline_colon": 70,
    "headline_verb": 68,
    "verb_ccomp": 60,
    "parenthetical_verb": 58,
    "passive": 55,
    "noun_cue": 50,
    "adjective": 48,
    "made_clear": 62,
    "verb_xcomp": 45,
    "raising_verb": 44,
    "verb_dobj": 40,
    "verb_prep": 35,
}

# Rule names of the learned tagger ("model:roles"): they rank below every rule (priority 0).
MODEL_RULE_PREFIX = "model:"


def check_rule(name: str) -> None:
    """Raise ValueError unless ``name`` is a rule of PRIORITY or a model's rule."""
    if name not in PRIORITY and not name.startswith(MODEL_RULE_PREFIX):
        raise ValueError(f"unknown attribution rule {name!r}: every rule name needs a "
                         "priority in attribution.base.PRIORITY (or the prefix 'model:')")


def check_rule_names(modules) -> None:
    """Raise ValueError unless the rule modules' RULE_NAMES are exactly PRIORITY's keys, so
    that a misspelt name in either place fails when the package is imported."""
    declared: dict[str, str] = {}
    for module in modules:
        for name in module.RULE_NAMES:
            check_rule(name)
            declared[name] = module.__name__
    unused = sorted(set(PRIORITY) - set(declared))
    if unused:
        raise ValueError(f"attribution.base.PRIORITY names no rule module's rule: "
                         f"{', '.join(unused)} (misspelt, or a RULE_NAMES entry is missing)")


@dataclass
class Proposal:
    """One candidate attribution (character spans into ``doc.text``).

    ``speaker`` is the mention that speaks when it differs from ``source`` (an
    implicit source: "..., adding that ..." gets the subject of the main verb).
    ``cue_tokens`` are the doc token indices of the cue (bookkeeping for rules).
    ``shares_subject`` marks a cue that speaks with the subject of the attribution
    before it in the sentence ("with Kyiv claiming ..., adding that ...") when the
    parse gives it none; grouping then copies that source.
    """

    cue: list[CharSpan]
    content: list[CharSpan]
    source: list[CharSpan] = field(default_factory=list)
    kind: str = "indirect"
    rule: str = ""
    confidence: float = 0.5
    speaker: CharSpan | None = None
    cue_tokens: tuple[int, ...] = ()
    shares_subject: bool = False  # a participle or conjunct whose subject the parse lost

    def __post_init__(self) -> None:
        check_rule(self.rule)

    @property
    def cue_start(self) -> int:
        return min(s for s, _ in self.cue)

    def content_extent(self) -> CharSpan:
        return (min(s for s, _ in self.content), max(e for _, e in self.content))


class Context:
    """Per-document lookups built once: token starts, quotes, paragraphs, boilerplate."""

    def __init__(self, doc, lex: Lexicons, boilerplate: tuple = (), text: str | None = None) -> None:
        self.doc = doc
        self.text = doc.text if text is None else text  # Doc.text is rebuilt on each access
        self.lex = lex
        # one pass over the doc's arrays; rules then visit only candidate tokens
        arr = doc.to_array([IDX, LENGTH, LEMMA, LOWER, SENT_START]) if len(doc) else None
        if arr is not None and arr.ndim == 1:
            arr = arr.reshape(1, -1)
        self.starts = arr[:, 0].tolist() if arr is not None else []
        self.ends = (arr[:, 0] + arr[:, 1]).tolist() if arr is not None else []
        self._lemmas = arr[:, 2].tolist() if arr is not None else []
        self._lowers = arr[:, 3].tolist() if arr is not None else []
        self.sent_starts = [i for i, v in enumerate(arr[:, 4].tolist()) if v == 1] if arr is not None else []
        if not self.sent_starts or self.sent_starts[0] != 0:
            self.sent_starts.insert(0, 0)
        self.quotes: list[Quote] = find_quotes(self.text)
        self.boilerplate = sorted((b.start, b.end) for b in boilerplate)
        self.bad_tokens = set()
        for s, e in self.boilerplate:
            self.bad_tokens.update(range(*self.token_range(s, e)))
        self.quotes = [q for q in self.quotes if not self.in_boilerplate(q.start, q.end)]
        self._quote_starts = [q.start for q in self.quotes]
        self.claimed: set[int] = set()  # cue tokens already used by a rule
        self.reattach: dict[int, int] = {}  # a cue verb cut off a content -> the cue it follows
        nl = self.text.find("\n")
        self.first_line_end = nl if nl >= 0 else len(self.text)

    # --- candidates --------------------------------------------------------
    def with_lemma(self, hashes: frozenset[int]) -> list[int]:
        """Indices of the tokens whose lemma (hash) is in ``hashes``."""
        return [i for i, h in enumerate(self._lemmas) if h in hashes]

    def with_lower(self, hashes: frozenset[int]) -> list[int]:
        """Indices of the tokens whose lower-case form (hash) is in ``hashes``."""
        return [i for i, h in enumerate(self._lowers) if h in hashes]

    def sentence(self, i: int) -> tuple[int, int]:
        """Token range [start, end) of the sentence holding token ``i``."""
        k = bisect_right(self.sent_starts, i) - 1
        start = self.sent_starts[max(k, 0)]
        end = self.sent_starts[k + 1] if k + 1 < len(self.sent_starts) else len(self.doc)
        return start, end

    # --- offsets -----------------------------------------------------------
    def token_range(self, s: int, e: int) -> tuple[int, int]:
        """Token indices [i, j) of the tokens overlapping chars [s, e)."""
        return bisect_right(self.ends, s), bisect_left(self.starts, e)

    def in_boilerplate(self, s: int, e: int) -> bool:
        return any(bs < e and s < be for bs, be in self.boilerplate)

    def quote_at(self, pos: int) -> Quote | None:
        """The quotation covering character ``pos``, if any."""
        k = bisect_right(self._quote_starts, pos) - 1
        if k >= 0 and self.quotes[k].contains(pos):
            return self.quotes[k]
        return None

    def quotes_in(self, s: int, e: int) -> list[Quote]:
        """Quotations overlapping chars [s, e) (quotations never overlap each other)."""
        k = bisect_left(self._quote_starts, e)
        out = []
        while k > 0:
            k -= 1
            q = self.quotes[k]
            if q.end <= s:
                break
            out.append(q)
        out.reverse()
        return out

    def paragraph(self, pos: int) -> CharSpan:
        s = self.text.rfind("\n", 0, pos) + 1
        e = self.text.find("\n", pos)
        return s, (len(self.text) if e < 0 else e)

    # --- spans of tokens ---------------------------------------------------
    def span_of(self, tokens) -> CharSpan:
        toks = list(tokens)
        return toks[0].idx, toks[-1].idx + len(toks[-1])

    def subtree_span(self, tok, exclude=None) -> CharSpan:
        """The subtree of ``tok`` as a char span, trimmed of edge punctuation and
        cut before any token of ``exclude`` (a set of token indices) it would cross."""
        lo, hi = tok.left_edge.i, tok.right_edge.i
        if exclude:
            for i in range(tok.i - 1, lo - 1, -1):
                if i in exclude:
                    lo = i + 1
                    break
            for i in range(tok.i + 1, hi + 1):
                if i in exclude:
                    hi = i - 1
                    break
        return self.trim_tokens(lo, hi)

    def trim_tokens(self, lo: int, hi: int) -> CharSpan:
        doc = self.doc
        while lo < hi and (doc[lo].is_punct or doc[lo].is_space) and not self._is_quote_mark(doc[lo]):
            lo += 1
        while hi > lo and (doc[hi].is_punct or doc[hi].is_space) and not self._is_quote_mark(doc[hi]):
            hi -= 1
        if hi + 1 < len(doc) and doc[hi + 1].text == ")" and any(
                doc[k].text == "(" for k in range(lo, hi + 1)):
            hi += 1  # keep a parenthesis the span opens: "Durbin (D-Ill.)"
        return doc[lo].idx, doc[hi].idx + len(doc[hi])

    @staticmethod
    def _is_quote_mark(tok) -> bool:
        return tok.text in {'"', "“", "”", "''", "``", "‘", "’", "'"}

    def trim_content(self, s: int, e: int) -> CharSpan:
        """``trim`` and a sentence-final period outside quotation marks."""
        s, e = self.trim(s, e)
        if e > s and self.text[e - 1] == "." and self.quote_at(e - 1) is None:
            e -= 1
        return self.trim(s, e)

    def trim(self, s: int, e: int) -> CharSpan:
        text = self.text
        while s < e and (text[s].isspace() or text[s] in ",;:-–—("):
            s += 1
        while e > s and (text[e - 1].isspace() or text[e - 1] in ",;:-–—"):
            e -= 1
        return s, e
