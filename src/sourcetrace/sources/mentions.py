"""Speaking mentions: one per attribution, classed as pronoun, relative, first person,
name or description, with the name, gender and number read from the text."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..model import Span
from .context import _DocContext
from .wordlists import lexicons
from .names import _clean_name, _surname

_PERSONAL = {
    "he": ("m", False), "him": ("m", False), "his": ("m", False), "himself": ("m", False),
    "she": ("f", False), "her": ("f", False), "hers": ("f", False), "herself": ("f", False),
    "they": (None, True), "them": (None, True), "their": (None, True), "themselves": (None, True),
    "it": ("n", False), "its": ("n", False), "itself": ("n", False),
}
_FIRST = {"i", "me", "my", "we", "us", "our", "myself", "ourselves"}
_RELATIVE = {"who", "whom", "whose", "which", "that"}


_NAME_LABELS = {"PERSON", "ORG", "GPE", "NORP", "FAC", "LOC", "WORK_OF_ART", "LAW", "EVENT", "PRODUCT"}


@dataclass
class _Mention:
    """One speaking mention of one attribution."""

    index: int                 # attribution index
    start: int
    end: int
    form: str                  # "none" | "pronoun" | "relative" | "first" | "name" | "nominal"
    head: Any = None           # spaCy token
    name: str = ""
    gender: str | None = None  # "m" | "f" | "n" | None
    plural: bool = False
    full: tuple[int, int] | None = None   # the fullest text of this mention (with apposition)
    issuer_note: str = ""
    non_referring: str = ""    # why the mention refers to no one (then ``form`` is "none")
    coordinated: bool = False  # several names joined by "and" ("Kim and Lee Park")


@dataclass
class _Cluster:
    mentions: list[_Mention] = field(default_factory=list)
    extra: list[tuple[int, int]] = field(default_factory=list)  # antecedent mentions that are not speakers
    name: str = ""
    form: str = ""
    gender: str | None = None
    plural: bool = False
    surname: str = ""
    key: str = ""
    last_pos: int = -1
    notes: list[str] = field(default_factory=list)   # how mentions were resolved (the chain, for evidence)
    chain: list[tuple[int, int]] = field(default_factory=list)  # mentions a coreference chain went through


def _head_of(span):
    """The syntactic head of a token span: the token whose head lies outside it."""
    if len(span) == 0:
        return None
    outside = [t for t in span if t.head.i < span.start or t.head.i >= span.end or t.head.i == t.i]
    for tok in outside:
        if tok.pos_ not in {"DET", "PUNCT", "ADP", "CCONJ", "SPACE"}:
            return tok
    nouns = [t for t in span if t.pos_ in {"NOUN", "PROPN", "PRON"}]
    if nouns:
        return nouns[-1]
    return outside[0] if outside else span[0]


def _np_tokens(head):
    """The noun phrase of a head without relative clauses, appositions and trailing punctuation."""
    left = head.i
    for tok in reversed(list(head.lefts)):
        if tok.dep_ in {"det", "poss", "amod", "compound", "nmod", "nummod", "quantmod", "advmod", "npadvmod", "case"}:
            left = min(left, tok.left_edge.i)
        else:
            break
    right = head.i
    for tok in head.rights:
        if tok.dep_ in {"prep", "compound", "case"} and tok.lower_ in {"of", "'s", "’s", "for", "at", "with", "from"} or tok.dep_ == "case":
            right = max(right, tok.right_edge.i)
        else:
            break
    return head.doc[left:right + 1]


def _make_mention(ctx: _DocContext, index: int, span: Span | None) -> _Mention:
    if span is None or span.end <= span.start:
        return _Mention(index, -1, -1, "none")
    toks = ctx.tokens(span.start, span.end)
    head = _head_of(toks)
    if head is None:
        return _Mention(index, span.start, span.end, "none")
    m = _Mention(index, span.start, span.end, "nominal", head=head)
    lex = lexicons()
    low = head.lower_
    # a document issued by someone speaks for its issuer ("a report issued on Telegram, by X")
    if head.lemma_.lower() in lex.kinds["document"] or low in lex.kinds["document"]:
        for tok in toks:
            if tok.lower_ == "by" and tok.dep_ in {"agent", "prep"}:
                objs = [c for c in tok.children if c.dep_ == "pobj"]
                if objs and objs[0].i < toks.end:
                    issuer = objs[0]
                    m.issuer_note = f"{head.text!r} issued by {issuer.text!r}: the issuer is the source"
                    head = issuer
                    m.head = head
                    m.start = _np_tokens(head)[0].idx
                    low = head.lower_
                    break
    if low in _RELATIVE and head.tag_ in {"WP", "WDT", "WP$"} or (low == "that" and head.dep_ in {"nsubj", "nsubjpass"} and head.head.dep_ == "relcl"):
        m.form = "relative"
        return m
    if low in _FIRST:
        m.form = "first"
        m.plural = low in {"we", "us", "our", "ourselves"}
        return m
    if low in _PERSONAL and head.pos_ == "PRON":
        m.form = "pronoun"
        m.gender, m.plural = _PERSONAL[low]
        return m
    if head.pos_ == "PRON" and low not in _PERSONAL:
        m.form = "nominal"
    np = _np_tokens(head)
    ent = ctx.ent_of.get(head.i)
    name_ent = None
    if ent is not None and ent.label_ in _NAME_LABELS:
        name_ent = ent
    else:
        # a name inside the mention that the head stands for ("One of them, who gave his name as Gerard")
        for tok in toks:
            e = ctx.ent_of.get(tok.i)
            if e is not None and e.label_ == "PERSON" and tok.head.lower_ in {"as", "name", "named", "called"}:
                name_ent = e
                break
            if e is not None and e.label_ == "PERSON" and tok.dep_ in {"attr", "oprd", "appos"} and tok.head.lemma_ in {"name", "call", "be"}:
                name_ent = e
                break
            # the name the description is in apposition with, inside the same source span
            # ("the director of operations for the agency, John Smith")
            if e is not None and e.label_ == "PERSON" and tok.i == e.root.i and tok.dep_ == "appos" \
                    and tok.head.i == head.i and e.end <= toks.end:
                name_ent = e
                break
    if name_ent is None and head.text[:1].isupper() and head.lower_ in ctx.person_surnames and head.pos_ != "PRON":
        m.form = "name"
        m.name = head.text
        m.plural = False
        return m
    written_as_name = any(t.text[:1].isupper() for t in np if t.pos_ == "PROPN") or name_ent is not None
    if (head.pos_ == "PROPN" and written_as_name) or name_ent is not None:
        m.form = "name"
        if name_ent is not None:
            m.name = _without_outlet(ctx, _clean_name(name_ent.text))
            m.head = name_ent.root if name_ent.root.i < toks.end else head
        else:
            m.name = _clean_name(np.text)
        # names joined by "and" inside the span speak together ("Kim and Lee Park")
        conj = [c for c in m.head.children if c.dep_ == "conj" and c.pos_ == "PROPN"
                and c.i < toks.end]
        if conj and any(c.lower_ in {"and", "&"} for c in m.head.children if c.dep_ == "cc"):
            last = conj[-1]
            first = min(m.head.left_edge.i, ctx.ent_of[m.head.i].start
                        if m.head.i in ctx.ent_of else m.head.i)
            m.name = _clean_name(m.head.doc[max(first, toks.start):last.right_edge.i + 1].text)
            m.plural = True
            m.coordinated = True
            return m
    else:
        m.name = _clean_name(np.text)
    m.plural = head.tag_ in {"NNS", "NNPS"}
    # gender: honorific before the name, or a gendered possessive inside the mention
    for tok in toks:
        g = lex.honorifics.get(tok.lower_.rstrip("."))
        if g:
            m.gender = g
            break
        if tok.i == head.i or _in_apposition(tok, head):
            continue      # "Donald Trump, her Republican opponent": "her" is someone else
        if tok.lower_ in {"his", "himself"}:
            m.gender = m.gender or "m"
        elif tok.lower_ in {"her", "herself"}:
            m.gender = m.gender or "f"
    return m


def _without_outlet(ctx: _DocContext, name: str) -> str:
    """A name that the NER ran into an outlet's name before it ("the Washington Post Trump
    said", a comma missing): the person's name alone, when the rest is a surname the
    article gives a person."""
    words = name.split()
    outlets = lexicons().outlets
    for k in range(len(words) - 1, 0, -1):
        head, rest = " ".join(words[:k]), words[k:]
        if outlets.fullmatch(head) and _surname(" ".join(rest)) in ctx.person_surnames:
            return " ".join(rest)
    return name


def _in_apposition(tok, head) -> bool:
    """Whether ``tok`` lies inside an apposition of ``head`` (its own noun phrase, not the
    clause that says who the head is)."""
    t = tok
    for _ in range(12):
        if t.i == head.i or t.head.i == t.i:
            return False
        if t.dep_ == "appos":
            return True
        t = t.head
    return False


def _gender_of(ctx: _DocContext, m: _Mention) -> str | None:
    if m.gender:
        return m.gender
    if m.form == "name":
        return ctx.gender_of.get(_surname(m.name))
    return None


def _enclosing(ctx: _DocContext, m: _Mention) -> int | None:
    """The attribution whose content holds the mention (innermost), if any."""
    return ctx.enclosing(m.index, m.start, m.end)
