"""Sources: speakers resolved within the article, and the article's source registry.

    resolve_sources(doc, attributions) -> (attributions, sources)

For every attribution the speaking mention is its ``speaker_span`` when the
extractor set one (an implicit source: "..., adding that"), else its ``source``
span, else none at all. Mentions are then merged into sources, in text order:

* a relative pronoun ("who", "which") stands for the noun it modifies;
* a personal pronoun goes to the most recent compatible antecedent among the
  earlier sources and the people that are sentence subjects (gender from the
  pronoun, honorifics and earlier pronouns; number from the tag); mentions inside
  the quotation being attributed are skipped, and "I"/"we" inside another
  attribution's content is that attribution's speaker;
* a name merges with an earlier source of the same name, or the same surname for
  people ("Ms Thomas" = "Rosemary Thomas"); nothing else is merged, so "Kyiv" and
  "Ukraine's government" stay apart unless the text equates them by apposition;
* a document issued "by X" speaks for X ("a report issued ... by the command").

Each source is typed on two axes, every decision with its evidence:

    identity  named | described | anonymous | unspecified
    kind      person | official | organization | media | document | social

and gets its role (apposition or title), channel (Telegram, a tweet, "told
Al-Jazeera" = relayed through another outlet) and hearsay depth (1 + the number
of attributions its words are nested in; the smallest over its attributions).
The word lists are data: ``lexicons/sources_*.txt``. Nothing here is tied to a
particular article.

The spaCy layer: ``resolve_sources`` is a plain function; the
``sourcetrace_sources`` component (registered when this module is imported)
runs it, then the assertion finder and the profile, and sets ``doc._.sources``,
``doc._.assertions``, ``doc._.profile`` (and the resolved ``doc._.attributions``).
"""
from __future__ import annotations

import dataclasses
import functools
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .model import Attribution, Source, Span, extent

LEXICON_DIR = Path(__file__).resolve().parent / "lexicons"

# --- lexicons -----------------------------------------------------------------


def read_sections(name: str) -> dict[str, list[str]]:
    """Read a "[section]" word list from ``lexicons/NAME`` (comments and blanks dropped)."""
    sections: dict[str, list[str]] = {}
    current = ""
    for raw in (LEXICON_DIR / name).read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            sections.setdefault(current, [])
            continue
        sections.setdefault(current, []).append(line.lower())
    return sections


def read_table(name: str) -> list[list[str]]:
    """Read a tab-separated table from ``lexicons/NAME`` (lines starting with # dropped)."""
    rows = []
    for raw in (LEXICON_DIR / name).read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        rows.append([part.strip() for part in raw.split("\t")])
    return rows


def phrase_regex(phrases: Iterable[str]) -> re.Pattern[str]:
    """One case-insensitive regex matching any of the phrases on word boundaries."""
    items = sorted({p for p in phrases if p}, key=len, reverse=True)
    body = "|".join(re.escape(p) for p in items) or r"(?!x)x"
    return re.compile(rf"(?<![\w-])(?:{body})(?![\w-])", re.IGNORECASE)


@dataclass(frozen=True)
class _Lexicons:
    identity: dict[str, frozenset[str]]
    kinds: dict[str, frozenset[str]]
    anonymity: re.Pattern[str]
    unspecified_cue: re.Pattern[str]
    phrases: dict[str, re.Pattern[str]]
    outlets: re.Pattern[str]
    channels: tuple[tuple[re.Pattern[str], str, str], ...]
    honorifics: dict[str, str]
    first_names: dict[str, str]


@functools.lru_cache(maxsize=1)
def lexicons() -> _Lexicons:
    """The source lexicons, read once from the data files."""
    ident = read_sections("sources_identity.txt")
    kinds = read_sections("sources_kinds.txt")
    outlet_names = kinds.get("media_outlet", [])
    outlet_alt = "|".join(re.escape(o) for o in sorted(outlet_names, key=len, reverse=True))
    outlet_group = rf"(?P<outlet>(?=[A-Z0-9])(?:{outlet_alt}))(?![\w-])"
    channels = []
    for row in read_table("sources_channels.txt"):
        if len(row) < 2:
            continue
        pattern = row[0].replace("{outlet}", outlet_group)
        channels.append((re.compile(pattern, re.IGNORECASE), row[1], row[2] if len(row) > 2 else ""))
    honorifics = {row[0].lower(): row[1] for row in read_table("sources_honorifics.txt") if len(row) >= 2}
    first_names = {row[0].lower(): row[1] for row in read_table("sources_first_names.txt") if len(row) >= 2}
    multi = {key: phrase_regex(v for v in words if " " in v or "-" in v or "." in v)
             for key, words in kinds.items()}
    return _Lexicons(
        identity={k: frozenset(v) for k, v in ident.items()},
        kinds={k: frozenset(v) for k, v in kinds.items()},
        anonymity=phrase_regex(ident.get("anonymity", [])),
        unspecified_cue=phrase_regex(ident.get("unspecified_cue", [])),
        phrases=multi,
        outlets=re.compile(rf"(?<![\w-])(?=[A-Z0-9])(?:{outlet_alt})(?![\w-])", re.IGNORECASE),
        channels=tuple(channels),
        honorifics=honorifics,
        first_names=first_names,
    )


# --- the per-document context ---------------------------------------------------

_PERSONAL = {
    "he": ("m", False), "him": ("m", False), "his": ("m", False), "himself": ("m", False),
    "she": ("f", False), "her": ("f", False), "hers": ("f", False), "herself": ("f", False),
    "they": (None, True), "them": (None, True), "their": (None, True), "themselves": (None, True),
    "it": ("n", False), "its": ("n", False), "itself": ("n", False),
}
_FIRST = {"i", "me", "my", "we", "us", "our", "myself", "ourselves"}
_RELATIVE = {"who", "whom", "whose", "which", "that"}
_ANTECEDENT_WINDOW = 400   # tokens searched back for a pronoun's antecedent among sentence subjects
_DETERMINERS = {"a", "an", "the", "this", "that", "these", "those", "some", "any"}
_NAME_LABELS = {"PERSON", "ORG", "GPE", "NORP", "FAC", "LOC", "WORK_OF_ART", "LAW", "EVENT", "PRODUCT"}


def sentence_bounds(doc) -> list[tuple[int, int]]:
    """(start, end) characters of the Doc's sentences, computed once per Doc."""
    key = "sourcetrace_sentence_bounds"
    cached = doc.user_data.get(key)
    if cached is None or len(cached) and cached[-1][1] != len(doc.text):
        cached = [(s.start_char, s.end_char) for s in doc.sents] if len(doc) else []
        doc.user_data[key] = cached
    return cached


_OPEN = {"“": "”", "«": "»", "„": "“"}


def quote_regions(text: str) -> list[tuple[int, int]]:
    """Character ranges inside quotation marks (curly or straight), paragraph by paragraph.

    An opening mark with no closing one in its paragraph runs to the paragraph's end
    (news style leaves the closing mark off every paragraph of a long quote but the last).
    """
    out: list[tuple[int, int]] = []
    for para in re.finditer(r"[^\n]+", text):
        p0, chunk = para.start(), para.group()
        i, n = 0, len(chunk)
        while i < n:
            ch = chunk[i]
            if ch in _OPEN:
                j = chunk.find(_OPEN[ch], i + 1)
                end = n if j < 0 else j + 1
                out.append((p0 + i, p0 + end))
                i = end
                continue
            if ch == '"' and (i == 0 or not chunk[i - 1].isalnum()):
                j = chunk.find('"', i + 1)
                end = n if j < 0 else j + 1
                out.append((p0 + i, p0 + end))
                i = end
                continue
            i += 1
    return out


class _DocContext:
    """Lookups built once per document."""

    def __init__(self, doc, attributions: tuple[Attribution, ...]) -> None:
        self.doc = doc
        self.text = doc.text
        if len(doc):
            from spacy.attrs import IDX, LENGTH

            arr = doc.to_array([IDX, LENGTH])
            self.starts = arr[:, 0].tolist()
            self.ends = (arr[:, 0] + arr[:, 1]).tolist()
        else:
            self.starts, self.ends = [], []
        self.attributions = attributions
        # quotations (by their marks): a speaker's antecedent is never inside one
        self.quoted = quote_regions(self.text)
        self.quote_starts = [q[0] for q in self.quoted]
        self.contents = sorted((x.start, x.end, j) for j, a in enumerate(attributions) for x in a.content)
        self.content_starts = [c[0] for c in self.contents]
        self.ent_of: dict[int, Any] = {}
        self.ents = list(doc.ents)
        for ent in self.ents:
            for i in range(ent.start, ent.end):
                self.ent_of[i] = ent
        self.sent_bounds = sentence_bounds(doc)
        self.sent_starts = [b[0] for b in self.sent_bounds]
        self.titles = self._person_titles()
        self.outlet_cache: dict[str, bool] = {}

    def tokens(self, start: int, end: int):
        """Tokens overlapping the characters [start, end)."""
        i, j = bisect_right(self.ends, start), bisect_left(self.starts, end)
        return self.doc[i:j]

    def sentence_of(self, char: int) -> tuple[int, int]:
        """(start, end) characters of the sentence holding ``char``."""
        if not self.sent_bounds:
            return 0, len(self.text)
        k = max(bisect_right(self.sent_starts, char) - 1, 0)
        return self.sent_bounds[k]

    def in_quote(self, start: int, end: int) -> bool:
        """Whether [start, end) lies inside a quotation (the regions do not overlap)."""
        k = bisect_right(self.quote_starts, start) - 1
        return k >= 0 and self.quoted[k][0] <= start and end <= self.quoted[k][1]

    def enclosing(self, index: int, start: int, end: int) -> int | None:
        """The attribution (not ``index``) whose content holds [start, end), innermost first."""
        k = bisect_right(self.content_starts, start)
        best, best_len = None, 10**12
        while k > 0:
            k -= 1
            s, e, j = self.contents[k]
            if s < start - 20000:
                break
            if j != index and s <= start and end <= e and e - s < best_len:
                best, best_len = j, e - s
        return best

    def _person_titles(self) -> dict[str, list[str]]:
        """Surname -> the titles and appositions written with that person anywhere in the text;
        also fills ``person_surnames`` and ``gender_of`` (from honorifics: "Mrs. Clinton")."""
        lex = lexicons()
        out: dict[str, list[str]] = {}
        self.person_surnames: set[str] = set()
        self.first_names: dict[str, set[str]] = {}
        self.gender_of: dict[str, str] = {}
        for ent in self.ents:
            if ent.label_ != "PERSON":
                continue
            key = _surname(ent.text)
            if not key:
                continue
            self.person_surnames.add(key)
            first = _first_name(ent.text)
            if first:
                self.first_names.setdefault(key, set()).add(first)
            if self.in_quote(ent.start_char, ent.end_char):
                continue
            w0 = ent[0].lower_.rstrip(".")
            before = self.doc[ent.start - 1].lower_.rstrip(".") if ent.start > 0 else ""
            g = lex.honorifics.get(w0) or lex.honorifics.get(before)
            if g:
                self.gender_of[key] = g      # an honorific is the surest sign
            elif first and first in lex.first_names:
                self.gender_of.setdefault(key, lex.first_names[first])
            roles = []
            pre = title_before(ent)
            if pre:
                roles.append(pre)
            for child in ent.root.children:
                if child.dep_ == "appos" and child.i >= ent.end:
                    role = appositive_role(child)
                    if role:
                        roles.append(role)
            if roles:
                out.setdefault(key, []).extend((first, r) for r in roles)
        return out

    def roles_of(self, name: str) -> list[str]:
        """Titles and appositions written (outside quotations) with this person's name.
        A surname shared by several first names ("Bill" and "Hillary Clinton") only
        takes the roles written with the same first name."""
        key = _surname(name)
        first = _first_name(name)
        firsts = self.first_names.get(key, set())
        out = []
        for f, r in self.titles.get(key, []):
            if f is not None and first is not None and f == first:
                out.append(r)
            elif f is None and len(firsts) <= 1:
                out.append(r)
            elif first is None and f is not None and len(firsts) <= 1:
                out.append(r)
        return out


def title_before(ent) -> str | None:
    """Words written before a name inside its noun phrase ("former Defense Secretary Ash Carter")."""
    doc = ent.doc
    root = ent.root
    toks = []
    for child in root.lefts:
        if child.i >= ent.start:
            continue
        if child.dep_ in {"compound", "amod", "nmod", "npadvmod", "poss", "nummod"}:
            toks.extend(t for t in child.subtree if t.i < ent.start)
    if not toks:
        return None
    toks = sorted(set(toks), key=lambda t: t.i)
    # only the contiguous run that ends at the name
    run = []
    for t in reversed(toks):
        if run and t.i != run[0].i - 1:
            break
        run.insert(0, t)
    words = [t.text for t in run if not t.is_space and t.pos_ not in {"DET", "PUNCT"} or t.text == "."]
    text = " ".join(w for w in words if w.strip())
    return text.replace(" .", ".").strip() or None


def appositive_role(child) -> str | None:
    """An apposition that describes a person ("a former British ambassador to the country")."""
    span = child.doc[child.left_edge.i:child.right_edge.i + 1]
    if len(span) > 25 or child.pos_ not in {"NOUN", "PROPN"}:
        return None
    if child.pos_ == "PROPN" and not any(t.dep_ == "det" for t in child.lefts):
        lex = lexicons()
        words = _words(span.text)
        if not any(w in lex.kinds["official_title"] or w in lex.kinds["org_role"] or w in lex.kinds["media"] for w in words):
            return None
    return _strip_det(span.text)


# --- mentions ----------------------------------------------------------------------


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


def _strip_det(text: str) -> str:
    words = text.strip().split()
    while words and words[0].lower() in _DETERMINERS:
        words = words[1:]
    return " ".join(words).strip(" ,;:")


def _clean_name(text: str) -> str:
    text = re.sub(r"(?:'s|’s|'|’)$", "", text.strip())
    return _strip_det(text)


def _first_name(name: str) -> str | None:
    words = [w for w in _clean_name(name).split() if w[:1].isupper()]
    honor = lexicons().honorifics
    while words and (words[0].lower().rstrip(".") in honor or words[0].endswith(".") and len(words[0]) <= 5):
        words = words[1:]
    return words[0].lower() if len(words) >= 2 else None


def _surname(name: str) -> str:
    words = [w for w in re.split(r"\s+", _clean_name(name)) if w and w[0].isalpha()]
    if not words:
        return ""
    last = words[-1]
    if last.lower().rstrip(".") in {"jr", "sr", "ii", "iii", "iv"} and len(words) > 1:
        last = words[-2]
    return last.lower().strip(".,")


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
    if name_ent is None and head.text[:1].isupper() and head.lower_ in ctx.person_surnames and head.pos_ != "PRON":
        m.form = "name"
        m.name = head.text
        m.plural = False
        return m
    if head.pos_ == "PROPN" or name_ent is not None:
        m.form = "name"
        if name_ent is not None:
            m.name = _clean_name(name_ent.text)
            m.head = name_ent.root if name_ent.root.i < toks.end else head
        else:
            m.name = _clean_name(np.text)
    else:
        m.name = _clean_name(np.text)
    m.plural = head.tag_ in {"NNS", "NNPS"}
    # gender: honorific before the name, or a gendered possessive inside the mention
    for tok in toks:
        g = lex.honorifics.get(tok.lower_.rstrip("."))
        if g:
            m.gender = g
            break
        if tok.lower_ in {"his", "himself"} and tok.i != head.i:
            m.gender = m.gender or "m"
        elif tok.lower_ in {"her", "herself"} and tok.i != head.i:
            m.gender = m.gender or "f"
    return m


# --- resolution ------------------------------------------------------------------------


def _compatible(pron: _Mention, cl: _Cluster) -> bool:
    if pron.plural:
        return cl.plural or cl.form == "org"
    if pron.gender == "n":
        return cl.form in {"org", "document"} and not cl.plural
    if cl.plural:
        return False
    if cl.form in {"org", "document"}:
        return False
    return cl.gender in (None, pron.gender)


def _gender_of(ctx: _DocContext, m: _Mention) -> str | None:
    if m.gender:
        return m.gender
    if m.form == "name":
        return ctx.gender_of.get(_surname(m.name))
    return None


def _implicit_speaker(ctx: _DocContext, a: Attribution):
    """For a source-less attribution whose cue is a participle or conjoined verb
    ("with Kyiv claiming ..., adding that ..."), the subject of the governing verb."""
    if a.source or not a.cue:
        return None
    cue_toks = ctx.tokens(a.cue[0].start, a.cue[0].end)
    verb = next((t for t in cue_toks if t.pos_ in {"VERB", "AUX"}), None)
    if verb is None or verb.dep_ not in {"advcl", "conj", "xcomp", "pcomp", "acl"}:
        return None
    gov = verb.head
    for _ in range(4):
        subj = [c for c in gov.children if c.dep_ in {"nsubj"}]
        if subj:
            s = subj[0]
            if any(x.start <= s.idx < x.end for b in ctx.attributions for x in b.content):
                return None   # the subject of reported content is not its reporter
            return s
        if gov.dep_ in {"advcl", "conj", "xcomp", "pcomp", "acl", "prep", "pobj"} and gov.head.i != gov.i:
            gov = gov.head
        else:
            break
    return None


def resolve_sources(doc, attributions) -> tuple[tuple[Attribution, ...], tuple[Source, ...]]:
    """Resolve every attribution's speaker and build the article's source registry.

    Returns the attributions with ``speaker``, ``speaker_span`` and ``source_id``
    filled (records are frozen: new ones are made with ``dataclasses.replace``)
    and the sources, each distinct voice once, in order of first mention.
    """
    attributions = tuple(attributions)
    if not attributions:
        return attributions, ()
    ctx = _DocContext(doc, attributions)
    text = ctx.text

    mentions: list[_Mention] = []
    for i, a in enumerate(attributions):
        span = a.speaker_span if a.speaker_span is not None else extent(a.source)
        note = ""
        if span is None:
            tok = _implicit_speaker(ctx, a)
            if tok is not None:
                np = _np_tokens(tok) if tok.pos_ != "PRON" else tok.doc[tok.i:tok.i + 1]
                span = Span.of(text, np.start_char, np.end_char)
                note = f"implicit source: subject {tok.text!r} of {tok.head.text!r}"
        m = _make_mention(ctx, i, span)
        if note:
            m.issuer_note = note
        mentions.append(m)
    # "X claimed ..., adding that ...": a participle cue with no subject of its own
    # continues the closest earlier attribution of the same sentence
    for i, a in enumerate(attributions):
        if mentions[i].form != "none" or a.source or not a.cue:
            continue
        prev = _previous_in_sentence(ctx, attributions, mentions, i)
        if prev is not None:
            pm = mentions[prev]
            mentions[i] = dataclasses.replace(
                pm, index=i, issuer_note=f"implicit source: {a.cue[0].text!r} continues the attribution "
                                         f"of {text[pm.start:pm.end]!r} in the same sentence")

    clusters: list[_Cluster] = []
    owner: dict[int, int] = {}        # attribution index -> cluster index
    by_name: dict[str, int] = {}
    by_surname: dict[str, int] = {}
    person_clusters: dict[int, int] = {}  # token index of a non-speaker PERSON/subject antecedent -> cluster

    def new_cluster(m: _Mention | None, *, form: str, name: str, pos: int) -> int:
        cl = _Cluster(name=name, form=form, last_pos=pos)
        clusters.append(cl)
        return len(clusters) - 1

    def add(ci: int, m: _Mention) -> None:
        cl = clusters[ci]
        cl.mentions.append(m)
        cl.last_pos = max(cl.last_pos, m.start)
        if m.form in {"name", "nominal"}:
            if m.gender and not cl.gender:
                cl.gender = m.gender
        if m.form == "pronoun" and m.gender in {"m", "f"} and not cl.gender and not cl.plural:
            cl.gender = m.gender
        owner[m.index] = ci

    def first_person(m: _Mention, final: bool) -> bool:
        """'I'/'we' in a quotation is its speaker; outside any, the author or outlet."""
        enclosing = _enclosing(ctx, m)
        if enclosing is not None and enclosing in owner:
            add(owner[enclosing], m)
            return True
        if enclosing is not None and not final:
            return False          # the quotation's speaker comes later in the text
        key = "\x00author" if not m.plural else "\x00outlet"
        ci = by_name.get(key)
        if ci is None:
            ci = new_cluster(m, form="author", name="the outlet" if m.plural else "the author", pos=m.start)
            clusters[ci].plural = m.plural
            by_name[key] = ci
        add(ci, m)
        return True

    deferred: list[_Mention] = []
    order = sorted(range(len(mentions)), key=lambda k: (mentions[k].start if mentions[k].start >= 0 else 10**12, k))
    for k in order:
        m = mentions[k]
        a = attributions[m.index]
        if m.form == "none":
            continue
        if m.form == "relative":
            # "who" stands for the noun the relative clause modifies
            verb = m.head.head
            noun = verb.head if verb.dep_ in {"relcl", "acl"} else None
            if noun is not None and noun.pos_ in {"NOUN", "PROPN", "PRON", "NUM"}:
                np = _np_tokens(noun)
                sub = _make_mention(ctx, m.index, Span.of(text, np.start_char, np.end_char))
                sub.start, sub.end = m.start, m.end
                sub.full = (np.start_char, np.end_char)
                m = sub
                mentions[k] = m
            else:
                m.form = "nominal"
                m.name = m.head.text
        if m.form == "first":
            if not first_person(m, final=False):
                deferred.append(m)
            continue
        if m.form == "pronoun":
            ci = _antecedent(ctx, m, a, clusters, person_clusters, new_cluster)
            if ci is None:
                ci = new_cluster(m, form="unresolved", name=m.head.text, pos=m.start)
                clusters[ci].plural = m.plural
                clusters[ci].gender = m.gender
            add(ci, m)
            continue
        # names and descriptions
        key = _name_key(m)
        ci = by_name.get(key)
        if ci is None and m.form == "name" and _is_person_name(ctx, m):
            sur = _surname(m.name)
            ci = by_surname.get(sur) if sur else None
            if ci is not None and not _first_names_agree(clusters[ci].name, m.name):
                ci = None
        if ci is None and m.form == "nominal" and _is_definite(m) and not m.plural:
            # "the council" after "the St. Paul City Council": same head noun, earlier, named or described
            ci = _definite_antecedent(clusters, m)
        if ci is None:
            form = "person" if m.form == "name" and _is_person_name(ctx, m) else ("org" if _is_org_like(ctx, m) else m.form)
            if form == "name" and (lexicons().outlets.fullmatch(_clean_name(m.name))
                                   or _clean_name(m.name).lower() in lexicons().kinds["capital"]):
                form = "org"
            if form == "nominal" and m.head is not None and (m.head.lemma_.lower() in lexicons().kinds["document"]
                                                              or m.head.lemma_.lower() in lexicons().kinds["social"]):
                form = "document"
            ci = new_cluster(m, form=form, name=m.name, pos=m.start)
            clusters[ci].plural = m.plural
            clusters[ci].gender = _gender_of(ctx, m)
            if m.form == "name" and _is_person_name(ctx, m):
                clusters[ci].surname = _surname(m.name)
                by_surname.setdefault(clusters[ci].surname, ci)
            clusters[ci].key = key
        by_name.setdefault(key, ci)
        if m.head is not None:
            person_clusters[m.head.i] = ci
        add(ci, m)

    for m in deferred:
        first_person(m, final=True)

    # attributions without any mention: each an unspecified source of its own
    for m in mentions:
        if m.form == "none":
            ci = new_cluster(m, form="none", name="unspecified", pos=attributions[m.index].cue[0].start if attributions[m.index].cue else -1)
            clusters[ci].mentions.append(m)
            owner[m.index] = ci

    return _build(ctx, attributions, mentions, clusters, owner)


def _previous_in_sentence(ctx: _DocContext, attributions, mentions, i: int) -> int | None:
    a = attributions[i]
    cue_toks = ctx.tokens(a.cue[0].start, a.cue[0].end)
    if not len(cue_toks) or cue_toks[0].tag_ not in {"VBG", "VBN"} or cue_toks[0].dep_ not in {"advcl", "conj", "xcomp", "pcomp", "acl"}:
        return None
    sent_start, _ = ctx.sentence_of(a.cue[0].start)
    best = None
    for j, b in enumerate(attributions):
        if j == i or not b.cue or mentions[j].form == "none" or b.parent != a.parent:
            continue
        if sent_start <= b.cue[0].start < a.cue[0].start and (best is None or b.cue[0].start > attributions[best].cue[0].start):
            best = j
    return best


def _enclosing(ctx: _DocContext, m: _Mention) -> int | None:
    """The attribution whose content holds the mention (innermost), if any."""
    return ctx.enclosing(m.index, m.start, m.end)


def _name_key(m: _Mention) -> str:
    name = m.name.lower()
    name = re.sub(r"(?:'s|’s)\b", "", name)
    name = re.sub(r"[^\w\s-]", "", name)
    return ("N:" if m.form == "name" else "D:") + " ".join(name.split())


def _is_person_name(ctx: _DocContext, m: _Mention) -> bool:
    if m.form != "name" or m.head is None:
        return False
    ent = ctx.ent_of.get(m.head.i)
    lex = lexicons()
    text = _clean_name(ent.text if ent is not None else m.name)
    if text.lower() in lex.kinds["capital"] or lex.outlets.fullmatch(text) is not None:
        return False
    if ent is not None and ent.label_ == "PERSON":
        return True
    # a person's name that NER tagged otherwise ("Trump" as ORG) or not at all
    words = text.split()
    return (0 < len(words) <= 3 and all(w[:1].isupper() for w in words)
            and _surname(text) in ctx.person_surnames)


def _is_org_like(ctx: _DocContext, m: _Mention) -> bool:
    if m.head is None:
        return False
    lex = lexicons()
    ent = ctx.ent_of.get(m.head.i)
    if ent is not None and ent.label_ in {"ORG", "GPE", "NORP", "FAC"} and not m.plural:
        return True
    lemma = m.head.lemma_.lower()
    return not m.plural and (lemma in lex.kinds["organization"] or lemma in lex.kinds["media"]
                             or lemma in {"government", "administration", "ministry", "department", "command",
                                          "military", "army", "police", "court", "council", "agency", "senate",
                                          "house", "congress", "parliament", "legislature", "commission"})


def _first_names_agree(a: str, b: str) -> bool:
    wa = [w for w in _clean_name(a).split() if w[:1].isupper()]
    wb = [w for w in _clean_name(b).split() if w[:1].isupper()]
    if len(wa) >= 2 and len(wb) >= 2:
        fa, fb = wa[0].rstrip("."), wb[0].rstrip(".")
        honor = lexicons().honorifics
        if fa.lower() in honor or fb.lower() in honor or len(fa) <= 2 or len(fb) <= 2:
            return True
        return fa.lower() == fb.lower() or fa.lower().startswith(fb.lower()) or fb.lower().startswith(fa.lower())
    return True


def _is_definite(m: _Mention) -> bool:
    if m.head is None:
        return False
    return any(c.dep_ in {"det", "poss"} and c.lower_ in {"the", "this", "that"} for c in m.head.children)


def _definite_antecedent(clusters: list[_Cluster], m: _Mention) -> int | None:
    lemma = m.head.lemma_.lower()
    for ci in range(len(clusters) - 1, -1, -1):
        cl = clusters[ci]
        if cl.form in {"none", "unresolved", "author"} or cl.plural:
            continue
        for other in cl.mentions:
            if other.head is not None and other.head.lemma_.lower() == lemma and other.start < m.start:
                return ci
    return None


def _antecedent(ctx, m: _Mention, a: Attribution, clusters, person_clusters, new_cluster) -> int | None:
    """The most recent compatible antecedent of a personal pronoun."""
    own_content = [(s.start, s.end) for s in a.content]
    # a third-person pronoun inside someone's quotation is not that someone ("I" would be)
    enclosing = _enclosing(ctx, m)
    speaker_cluster = None
    if enclosing is not None:
        for ci, cl in enumerate(clusters):
            if any(o.index == enclosing for o in cl.mentions):
                speaker_cluster = ci
    inside = ctx.in_quote(m.start, m.end)
    if not inside:
        speaker_cluster = None

    def excluded(start: int, end: int) -> bool:
        if any(cs <= start and end <= ce for cs, ce in own_content):
            return True
        return ctx.in_quote(start, end) and not inside

    best: tuple[int, int] | None = None  # (position, cluster or -1 - token index)
    for ci, cl in enumerate(clusters):
        if cl.form in {"none", "author"} or ci == speaker_cluster:
            continue
        if not _compatible(m, cl):
            continue
        for other in reversed(cl.mentions):   # text order: the latest usable one is enough
            if other.start < 0 or other.start >= m.start:
                continue
            if best is not None and other.start <= best[0]:
                break
            if excluded(other.start, other.end):
                continue
            best = (other.start, ci)
            break
    # people (and, for "they", plural groups) that are subjects, not yet sources
    lo = best[0] if best is not None else 0
    last_tok = bisect_left(ctx.starts, m.start)
    first_tok = max(bisect_right(ctx.ends, lo), last_tok - _ANTECEDENT_WINDOW)
    doc = ctx.doc
    for i in range(last_tok - 1, first_tok - 1, -1):
        tok = doc[i]
        if (tok.dep_ not in {"nsubj", "nsubjpass"} and not (tok.dep_ == "appos" and tok.head.dep_ in {"nsubj", "nsubjpass"})
                and not (inside and tok.ent_type_ == "PERSON" and tok.i == ctx.ent_of[i].root.i)):
            continue
        if i in person_clusters and person_clusters[i] == speaker_cluster:
            continue
        if tok.idx <= lo or excluded(tok.idx, tok.idx + len(tok)):
            continue
        ent = ctx.ent_of.get(i)
        if m.plural:
            ok = tok.tag_ in {"NNS", "NNPS"} and tok.pos_ in {"NOUN", "PROPN"}
        elif m.gender == "n":
            ok = False
        else:
            ok = ent is not None and ent.label_ == "PERSON" and tok.tag_ not in {"NNS", "NNPS"}
        if not ok:
            continue
        if i in person_clusters:
            ci = person_clusters[i]
            if _compatible(m, clusters[ci]):
                return ci
            continue
        np = _np_tokens(tok)
        if ent is not None and ent.label_ == "PERSON":
            name = _clean_name(ent.text)
            same = [ci for ci, cl in enumerate(clusters) if cl.surname and cl.surname == _surname(name)]
            if same:
                if _compatible(m, clusters[same[-1]]):
                    person_clusters[i] = same[-1]
                    clusters[same[-1]].extra.append((ent.start_char, ent.end_char))
                    return same[-1]
                continue
            gender = ctx.gender_of.get(_surname(name))
            if gender and not m.plural and m.gender in {"m", "f"} and gender != m.gender:
                continue
            ci = new_cluster(None, form="person", name=name, pos=tok.idx)
            clusters[ci].surname = _surname(name)
            clusters[ci].extra.append((ent.start_char, ent.end_char))
            clusters[ci].gender = gender
        else:
            ci = new_cluster(None, form="group", name=_clean_name(np.text), pos=tok.idx)
            clusters[ci].plural = True
            clusters[ci].extra.append((np.start_char, np.end_char))
        person_clusters[i] = ci
        return ci
    return best[1] if best is not None else None


# --- typing ------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return [w.strip(".,;:'’\"()").lower() for w in text.split() if w.strip(".,;:'’\"()")]


def _has(lex: _Lexicons, section: str, words: Iterable[str], text: str = "") -> str | None:
    """The first word (or multi-word phrase in ``text``) of ``section`` found, or None."""
    vocab = lex.kinds.get(section) or lex.identity.get(section) or frozenset()
    for w in words:
        if w in vocab:
            return w
    if text:
        rx = lex.phrases.get(section)
        if rx is not None:
            hit = rx.search(text)
            if hit:
                return hit.group(0).lower()
    return None


def _role_text(ctx: _DocContext, m: _Mention) -> str | None:
    """The apposition or relative description attached to the mention's head, if any."""
    head = m.head
    if head is None:
        return None
    for child in head.children:
        if child.dep_ == "appos" and child.i > head.i:
            span = ctx.doc[child.left_edge.i:child.right_edge.i + 1]
            role = appositive_role(child)
            if role and not any(_overlaps_role(ctx, span.start_char, span.end_char, m.index)):
                return role
    return None


def _overlaps_role(ctx, start: int, end: int, index: int):
    for j, a in enumerate(ctx.attributions):
        for s in (*a.cue, *a.content):
            yield s.start < end and start < s.end


def _pre_title(ctx: _DocContext, m: _Mention) -> str | None:
    """Words before a person's name in the same noun phrase ("Defense Secretary Ash Carter")."""
    if m.head is None or m.form != "name":
        return None
    ent = ctx.ent_of.get(m.head.i)
    if ent is None or ent.label_ != "PERSON":
        return None
    return title_before(ent)


@dataclass
class _Typed:
    identity: str
    kind: str | None
    evidence: list[tuple[str, str]]
    role: str | None
    name: str


_HEAD_OF = re.compile(r"\b(?:president|chairman|chairwoman|chair|director|head|ceo|founder|chief|"
                      r"publisher|editor|owner)\s+(?:of|at)\s+(?P<x>.+)", re.IGNORECASE)


def _kind_from_words(lex: _Lexicons, words: list[str], text: str, *, allow_former: bool = True) -> tuple[str | None, str]:
    """Kind cues in a role or description, with the word that decided."""
    former = _has(lex, "former", words)
    w = _has(lex, "social", words, text)
    p = _has(lex, "social_platform", words, text)
    if w and p:
        return "social", f"social-media words {p!r} + {w!r}"
    head_of = _HEAD_OF.search(text)
    if head_of:
        x = head_of.group("x")
        if lex.outlets.search(x) or _has(lex, "media", _words(x)):
            return "media", f"{head_of.group(0)!r}: heads a media outlet"
        if not _has(lex, "official", _words(x), x):
            return "organization", f"{head_of.group(0)!r}: heads an organization"
    o = _has(lex, "org_role", words, text)
    off = _has(lex, "official", words, text)
    med = _has(lex, "media", words, text)
    outlet = lex.outlets.search(text)
    org = _has(lex, "organization", words, text)
    if off and not (former and allow_former and _former_before(words, text, off)):
        return "official", f"{off!r} in officials lexicon"
    if (med or outlet) and not (former and allow_former and _former_before(words, text, med or outlet.group(0))):
        return "media", f"{(med or outlet.group(0))!r} in media lexicon"
    if o and (org or allow_former is False):
        return "organization", f"{o!r} for an organization" + (f" ({org!r})" if org else "")
    if org:
        return "organization", f"{org!r} in organizations lexicon"
    if off or med:
        return "person", f"{former!r} {(off or med or outlet.group(0))!r}: no longer holds the role"
    return None, ""


def _person_kind(lex: _Lexicons, roles: list[str]) -> tuple[str | None, str]:
    """The kind of a named person from every role written with the name in the article.

    A current office wins (official) unless the same office is also written as
    former ("Secretary Clinton" and "former secretary of state Hillary Clinton");
    then a media role; then one speaking for an organization (spokesman, aide,
    director of ...); else None (a person)."""
    current, former, media, org = [], set(), [], []
    for r in roles:
        words = _words(r)
        low = r.lower()
        is_former = _has(lex, "former", words) is not None or "ex-" in low
        head_of = _HEAD_OF.search(r)
        if head_of:
            x = head_of.group("x")
            if lex.outlets.search(x) or _has(lex, "media", _words(x)):
                media.append((r, f"heads a media outlet ({head_of.group(0)!r})"))
                continue
            if not _has(lex, "official", _words(x), x):
                if not is_former:
                    org.append((r, f"heads an organization ({head_of.group(0)!r})"))
                continue
        off = _has(lex, "official", words, r)
        if off and _has(lex, "candidate", words):
            continue   # "presumed White House nominee": the office is sought, not held
        if off:
            if is_former:
                former.add(off)
            else:
                current.append((off, r))
            continue
        med = _has(lex, "media", words, r) or (lex.outlets.search(r).group(0) if lex.outlets.search(r) else None)
        if med and not is_former:
            media.append((r, f"{med!r} in media lexicon"))
            continue
        o = _has(lex, "org_role", words, r)
        if o and not is_former:
            org.append((r, f"{o!r}: speaks for an organization"))
    for off, r in current:
        if off not in former:
            return "official", f"role {r!r}: {off!r} in officials lexicon"
    if media:
        return "media", f"role {media[0][0]!r}: {media[0][1]}"
    if org:
        return "organization", f"role {org[0][0]!r}: {org[0][1]}"
    return None, ""


def _former_before(words: list[str], text: str, word: str) -> bool:
    low = text.lower()
    k = low.find(word)
    if k < 0:
        return False
    pre = low[:k].split()[-3:]
    lex = lexicons()
    return any(w.strip(",-") in lex.kinds["former"] or w.startswith("ex-") for w in pre)


def _type_cluster(ctx: _DocContext, cl: _Cluster, attributions: tuple[Attribution, ...]) -> _Typed:
    lex = lexicons()
    ev: list[tuple[str, str]] = []
    ms = [m for m in cl.mentions if m.form != "none"]
    text = ctx.text
    if cl.form == "none" or not ms and not cl.extra:
        a = attributions[cl.mentions[0].index]
        cue = " ".join(s.text for s in a.cue)
        hit = lex.unspecified_cue.search(cue)
        why = f"no source in the text; cue {cue!r}" + (f" ({hit.group(0).lower()!r} in unspecified-cue lexicon)" if hit else "")
        return _Typed("unspecified", None, [("identity", why)], None, "unspecified")
    if cl.form == "author":
        if cl.plural:
            return _Typed("named", "media", [("identity", "first person plural outside any quotation: the outlet"),
                                             ("kind", "the outlet speaking as 'we'")], None, "the outlet")
        return _Typed("named", "person", [("identity", "first person outside any quotation: the author"),
                                          ("kind", "the author")], None, "the author")
    if cl.form == "unresolved":
        m = ms[0]
        return _Typed("unspecified", None, [("identity", f"pronoun {m.head.text!r} with no antecedent in the text")],
                      None, m.head.text)

    named = [m for m in ms if m.form == "name"]
    nominal = [m for m in ms if m.form == "nominal"]
    best = max(named, key=lambda m: (len(m.name), -m.start)) if named else (
        max(nominal, key=lambda m: (m.end - m.start, -m.start)) if nominal else None)
    if best is None:
        # only pronouns resolved to an antecedent that is not a speaker
        s, e = cl.extra[0]
        tok = ctx.tokens(s, e)
        head = _head_of(tok)
        best = _Mention(-1, s, e, "name" if cl.form == "person" else "nominal", head=head, name=cl.name)
    name = best.name or cl.name
    mention_text = text[best.full[0]:best.full[1]] if best.full else text[best.start:best.end]
    words = _words(mention_text)
    head = best.head
    head_lemma = head.lemma_.lower() if head is not None else ""
    ent = ctx.ent_of.get(head.i) if head is not None else None
    if best.issuer_note:
        ev.append(("source", best.issuer_note))

    # ---- identity
    anon_window = mention_text
    if head is not None:
        tail_end = min(ctx.sentence_of(head.idx)[1], best.end + 140)
        anon_window = mention_text + " " + text[best.end:tail_end]
    anon = lex.anonymity.search(anon_window)
    head_word = head.lower_ if head is not None else ""
    has_complement = head is not None and any(c.dep_ in {"prep", "amod", "compound", "relcl", "acl", "appos"} for c in head.children)
    if best.form == "name" and ent is not None and ent.label_ == "NORP" and anon is not None:
        identity = "anonymous"
        ev.append(("identity", f"anonymity cue {anon.group(0).lower()!r}"))
    elif best.form == "name" and ent is not None and ent.label_ == "NORP" and (best.plural or ent.text.endswith("s")):
        identity = "described"
        ev.append(("identity", f"a group described by nationality or affiliation ({ent.text!r}, NORP plural)"))
    elif best.form == "name" or cl.form == "person":
        identity = "named"
        label = ent.label_ if ent is not None else head.pos_ if head is not None else ""
        ev.append(("identity", f"name {name!r} ({label})"))
    elif head_word in lex.identity["anonymous_head"] or head_lemma in lex.identity["anonymous_head"]:
        identity = "anonymous"
        ev.append(("identity", f"head noun {head.text!r} in anonymous-source lexicon"))
    elif anon is not None:
        identity = "anonymous"
        ev.append(("identity", f"anonymity cue {anon.group(0).lower()!r}"))
    elif head is not None and (head_word in lex.identity["unspecified_head"] or head_lemma in lex.identity["unspecified_head"]) and not has_complement:
        identity = "unspecified"
        ev.append(("identity", f"bare {head.text!r}: no source named or described"))
    elif _specific_body(ctx, best, lex):
        identity = "named"
        ev.append(("identity", _specific_body(ctx, best, lex)))
    else:
        identity = "described"
        ev.append(("identity", f"unnamed, described as {mention_text.strip()!r}"))

    # ---- role
    role = None
    full_role = None
    for m in sorted(ms, key=lambda x: x.start):
        r = _role_text(ctx, m)
        if r:
            full_role = r
            break
    if full_role is None:
        for m in ms:
            t = _pre_title(ctx, m)
            if t:
                full_role = t
                break
    role = full_role

    # ---- kind
    kind = None
    bare = _clean_name(mention_text)
    if best.form == "name" and ent is None and (bare.lower() in lex.kinds["capital"] or lex.outlets.fullmatch(bare)):
        if bare.lower() in lex.kinds["capital"]:
            kind, why = "official", f"place {bare!r} speaking (capital): its government"
        else:
            kind, why = "media", f"{bare!r} in media-outlet lexicon"
        ev.append(("kind", why))
    elif best.form == "name" and ent is not None:
        low = _clean_name(ent.text).lower()
        if lex.outlets.fullmatch(_clean_name(ent.text)):
            kind, why = "media", f"{ent.text!r} in media-outlet lexicon"
        elif (ent.label_ == "GPE" and _surname(ent.text) not in ctx.person_surnames) or low in lex.kinds["capital"]:
            kind, why = "official", f"place {ent.text!r} speaking ({'capital' if low in lex.kinds['capital'] else ent.label_}): its government"
        elif ent.label_ == "PERSON" or _surname(ent.text) in ctx.person_surnames:
            roles = []
            if role:
                roles.append(role)
            roles += ctx.roles_of(name)
            lead = [w for w in _words(ent.text)[:-1]
                    if w in lex.kinds["official_title"] or w in lex.kinds["org_role"] or w in lex.kinds["media"]]
            if lead:
                roles.append(" ".join(lead))
            roles += [t for t in (_pre_title(ctx, m) for m in named) if t]
            kind, why = _person_kind(lex, roles)
            if kind is None:
                kind, why = "person", f"person {ent.text!r}" + (f" ({ent.label_} in NER, a person's name elsewhere)" if ent.label_ != "PERSON" else "") + (f", roles {roles[:2]!r}" if roles else "")
        else:
            if ent.label_ in {"ORG", "FAC", "NORP"}:
                k2, w2 = _kind_from_words(lex, _words(ent.text), ent.text)
            else:
                k2, w2 = _kind_from_words(lex, words, mention_text)
            if k2 is None and role:
                k2, w2 = _kind_from_words(lex, _words(role), role)
            if k2 is not None:
                kind, why = k2, f"{ent.label_} + {w2}"
            elif ent.label_ in {"ORG", "FAC"}:
                kind, why = "organization", f"{ent.label_} {ent.text!r}"
            elif ent.label_ in {"LAW", "WORK_OF_ART"}:
                kind, why = "document", f"{ent.label_} {ent.text!r}"
            else:
                kind, why = "person", f"{ent.label_} {ent.text!r}"
        ev.append(("kind", why))
    else:
        # a description: head noun first, then its modifiers and apposition
        head_words = [head_lemma, head_word] if head is not None else []
        w = _has(lex, "social", head_words)
        doc_w = _has(lex, "document", head_words)
        platform = _has(lex, "social_platform", words, mention_text)
        mod_text = _without_clauses(head) if head is not None else mention_text
        mod_words = _words(mod_text)
        if w and (platform or any(x in {"@"} for x in mention_text)):
            kind, why = "social", f"{w!r} + platform {platform!r}"
        elif platform and head_lemma in {"user", "some", "many", "people", "follower"} | set(lex.kinds["social"]):
            kind, why = "social", f"platform {platform!r}"
        elif platform and "on" in words:
            kind, why = "social", f"'on {platform}'"
        elif head is not None and head_lemma in lex.kinds["org_role"] and _names_in(ctx, head, {"PERSON", "ORG"}):
            kind, why = "organization", f"{head.text!r} of {_names_in(ctx, head, {'PERSON', 'ORG'})!r}: speaks for them"
        elif head is not None and head_lemma in {"official", "officials", "executive", "executives"} and (
                _names_in(ctx, head, {"ORG"}) and not _has(lex, "official", _words(_names_in(ctx, head, {"ORG"}))) ):
            kind, why = "organization", f"{head.text!r} of {_names_in(ctx, head, {'ORG'})!r}, not a government body"
        elif doc_w and platform:
            kind, why = "social", f"{head.text!r} on {platform!r}"
        elif doc_w:
            kind, why = "document", f"head noun {head.text!r} in documents lexicon"
        else:
            np_text = _np_tokens(head).text if head is not None else mention_text
            k2, w2 = _kind_from_words(lex, _words(np_text), np_text)
            if k2 is None:
                k2, w2 = _kind_from_words(lex, head_words, head.text if head is not None else "")
            if k2 is None:
                k2, w2 = _kind_from_words(lex, mod_words, mod_text)
            if k2 is None and role:
                k2, w2 = _kind_from_words(lex, _words(role), role)
            if k2 is not None:
                kind, why = k2, w2
            elif ent is not None and ent.label_ == "GPE":
                kind, why = "official", f"place {ent.text!r} speaking: its government"
            elif identity in {"anonymous", "unspecified"} and head is not None and (
                    head_lemma in lex.identity["anonymous_head"] or head_lemma in {"it", "there", "report", "rumor", "word"}):
                kind, why = None, "nothing in the text says"
            else:
                kind, why = "person", f"people: {mention_text.strip()!r}"
        ev.append(("kind", why))
    if identity == "unspecified" and kind == "person" and head is not None and head_word in {"it", "there"}:
        kind = None
    return _Typed(identity, kind, ev, role, _display_name(ctx, best, name))


def _names_in(ctx: _DocContext, head, labels: set[str]) -> str:
    """The first named entity of the given labels inside the head's noun phrase."""
    for tok in head.subtree:
        e = ctx.ent_of.get(tok.i)
        if e is not None and e.label_ in labels and tok.i != head.i:
            return e.text
    return ""


def _without_clauses(head) -> str:
    """The head's phrase without relative and participial clauses."""
    skip = set()
    for tok in head.subtree:
        if tok.dep_ in {"relcl", "acl", "advcl"} and tok.i != head.i:
            skip.update(t.i for t in tok.subtree)
    return " ".join(t.text for t in head.subtree if t.i not in skip)


def _specific_body(ctx: _DocContext, m: _Mention, lex: _Lexicons) -> str | None:
    """A definite institution, title or document ("the administration", "the Vermont senator",
    "the Ukrainian military command", "Clinton's campaign"): a specific, identified source."""
    head = m.head
    if head is None:
        return None
    starts_definite = ctx.text[m.start:m.start + 4].lower() in {"the ", "this"} or ctx.text[m.start:m.start + 6].lower() == "these "
    if m.plural and not (any(c.dep_ == "poss" for c in head.children) or starts_definite):
        return None
    lemma = head.lemma_.lower()
    inst = (lemma in lex.kinds["official"] or lemma in lex.kinds["organization"] or lemma in lex.kinds["media"]
            or lemma in lex.kinds["document"] or lemma in lex.kinds["social"])
    generic = {"man", "woman", "person", "people", "crowd", "audience", "source", "official", "officials",
               "expert", "analyst", "aide", "adviser", "advisor", "spokesman", "spokeswoman", "staffer",
               "voter", "resident", "member", "supporter", "critic", "user", "insider", "judge", "reporter",
               "journalist", "diplomat", "lawmaker", "commander", "soldier", "employee", "worker"}
    for c in head.children:
        if c.dep_ == "poss" or (c.dep_ in {"compound", "amod", "nmod"} and (c.pos_ == "PROPN" or ctx.ent_of.get(c.i) is not None and ctx.ent_of[c.i].label_ in {"NORP", "GPE", "ORG", "PERSON"})):
            if c.dep_ == "poss" and c.pos_ == "PRON":
                continue
            if inst and lemma not in generic:
                return f"{c.text!r} + {head.text!r}: a specific, identified body"
    definite = starts_definite or any(c.dep_ == "det" and c.lower_ in {"the", "this", "these"} for c in head.children)
    if definite and inst and lemma not in generic:
        return f"definite {head.text!r}: a specific body or document named earlier or known"
    if lemma in lex.kinds["document"]:
        for c in head.children:
            if c.dep_ == "prep" and c.lower_ in {"from", "by", "of"}:
                obj = next((g for g in c.children if g.dep_ == "pobj"), None)
                if obj is not None and (obj.pos_ == "PROPN" or obj.ent_type_ in {"ORG", "PERSON", "GPE"}):
                    return f"{head.text!r} {c.text} {obj.text!r}: a document whose issuer is named"
    titled = {"president", "senator", "governor", "mayor", "candidate", "nominee", "front-runner", "frontrunner",
              "chancellor", "minister", "secretary", "congressman", "congresswoman", "speaker", "justice",
              "democrat", "republican", "ambassador", "actress", "actor", "documentarian", "billionaire", "mogul",
              "businessman", "businesswoman", "senator", "chairman", "chairwoman", "leader"}
    if definite and lemma in titled and not m.plural:
        return f"definite title {m.name!r}: a specific person named in the article"
    return None


def _display_name(ctx: _DocContext, m: _Mention, name: str) -> str:
    """The name shown for a source; a possessive pronoun is replaced by its antecedent
    ("his commander" -> "Misha's commander")."""
    if m.form == "name" or m.head is None:
        return name
    head = m.head
    np = _np_tokens(head)
    poss = [c for c in head.children if c.dep_ == "poss" and c.lower_ in {"his", "her", "their", "its"}]
    if not poss:
        return _strip_det(np.text)
    p = poss[0]
    gender, plural = _PERSONAL.get(p.lower_, (None, False))
    # the most recent earlier PERSON (not the speaker of the enclosing quotation) of that gender
    enclosing = _enclosing(ctx, m) if m.index >= 0 else None
    excluded_names = set()
    if enclosing is not None:
        a = ctx.attributions[enclosing]
        for s in a.source:
            excluded_names.add(_surname(s.text))
        if a.speaker:
            excluded_names.add(_surname(a.speaker))
        # the speaker of the enclosing attribution through its own source mention
        for s in (a.speaker_span,) if a.speaker_span is not None else ():
            excluded_names.add(_surname(s.text))
    for ent in reversed([e for e in ctx.ents if e.end_char <= p.idx]):
        if ent.label_ != "PERSON":
            continue
        if _surname(ent.text) in excluded_names:
            continue
        known = ctx.gender_of.get(_surname(ent.text))
        if plural or gender == "n" or (gender in {"m", "f"} and known and known != gender):
            continue
        rest = " ".join(t.text for t in np if t.i != p.i and t.pos_ != "DET")
        return f"{_clean_name(ent.text)}'s {rest}".strip()
    return _strip_det(np.text)


# --- channels and hearsay -------------------------------------------------------------------


def attribution_channel(ctx: _DocContext, a: Attribution) -> tuple[str, str] | None:
    """The channel named around an attribution: its sentence(s) minus its content."""
    lex = lexicons()
    roles = [*a.source, *a.cue, *((a.speaker_span,) if a.speaker_span is not None else ())]
    if not roles:
        return None
    lo = min(s.start for s in roles)
    hi = max(s.end for s in roles)
    start = ctx.sentence_of(lo)[0]
    end = ctx.sentence_of(max(hi - 1, lo))[1]
    if a.parent is not None and 0 <= a.parent < len(ctx.attributions):
        parent = extent(ctx.attributions[a.parent].content)
        if parent is not None:
            start, end = max(start, parent.start), min(end, parent.end)
            if end <= start:
                return None
    chars = list(ctx.text[start:end])
    for s in a.content:
        for k in range(max(s.start, start), min(s.end, end)):
            chars[k - start] = " "
    window = "".join(chars)
    for rx, channel, note in lex.channels:
        hit = rx.search(window)
        if hit is None:
            continue
        if "{outlet}" in channel:
            outlet = hit.group("outlet")
            # keep the outlet as the text writes it
            channel = outlet
        return channel, f"{hit.group(0).strip()!r}: {note}"
    return None


def hearsay_depths(attributions: tuple[Attribution, ...]) -> list[int]:
    """1 + the number of attributions each one is nested in (parent chain)."""
    depths = []
    n = len(attributions)
    for a in attributions:
        d, p, seen = 1, a.parent, set()
        while p is not None and 0 <= p < n and p not in seen:
            seen.add(p)
            d += 1
            p = attributions[p].parent
        depths.append(d)
    return depths


# --- assembling the registry --------------------------------------------------------------


def _build(ctx: _DocContext, attributions, mentions, clusters, owner):
    text = ctx.text
    depths = hearsay_depths(attributions)
    # sources in order of first mention; clusters without attributions are dropped
    used = sorted({ci for ci in owner.values()},
                  key=lambda ci: min((m.start if m.start >= 0 else (attributions[m.index].cue[0].start if attributions[m.index].cue else 10**9))
                                     for m in clusters[ci].mentions))
    new_id = {ci: k for k, ci in enumerate(used)}
    sources: list[Source] = []
    for ci in used:
        cl = clusters[ci]
        typed = _type_cluster(ctx, cl, attributions)
        idx = sorted(m.index for m in cl.mentions)
        spans = sorted({(m.start, m.end) for m in cl.mentions if m.start >= 0} | set(cl.extra))
        ment = tuple(Span.of(text, s, e) for s, e in spans)
        channels: list[str] = []
        ch_ev: list[str] = []
        for i in idx:
            found = attribution_channel(ctx, attributions[i])
            if found and found[0] not in channels:
                channels.append(found[0])
                ch_ev.append(found[1])
        ev = list(typed.evidence)
        if ch_ev:
            ev.append(("channel", "; ".join(ch_ev)))
        depth = min(depths[i] for i in idx)
        if depth > 1:
            chain = []
            p = attributions[idx[0]].parent
            while p is not None and len(chain) < 10:
                chain.append(p)
                p = attributions[p].parent
            ev.append(("hearsay", f"nested in attribution(s) {chain}: words reported by another source"))
        sources.append(Source(
            id=new_id[ci], name=typed.name, mentions=ment, identity=typed.identity, kind=typed.kind,
            role=typed.role, channel="; ".join(channels) or None, hearsay_depth=depth,
            attributions=tuple(idx), evidence=tuple(ev)))
    out = []
    fullest: dict[int, Span | None] = {}
    for i, a in enumerate(attributions):
        ci = owner.get(i)
        if ci is None:
            out.append(a)
            continue
        src = sources[new_id[ci]]
        if ci not in fullest:
            fullest[ci] = _fullest_span(ctx, clusters[ci], src)
        speaker_span = fullest[ci]
        out.append(dataclasses.replace(
            a, speaker=None if src.identity == "unspecified" and src.name == "unspecified" else src.name,
            speaker_span=speaker_span if speaker_span is not None else a.speaker_span,
            source_id=src.id))
    return tuple(out), tuple(sources)


def _fullest_span(ctx: _DocContext, cl: _Cluster, src: Source) -> Span | None:
    """The fullest mention of a source: the longest named (else described) mention,
    extended over an apposition that follows it."""
    ms = [m for m in cl.mentions if m.form in {"name", "nominal"} and m.start >= 0]
    if not ms:
        if cl.extra:
            s, e = cl.extra[0]
            return Span.of(ctx.text, s, e)
        pron = [m for m in cl.mentions if m.start >= 0]
        return Span.of(ctx.text, pron[0].start, pron[0].end) if pron else None
    named = [m for m in ms if m.form == "name"] or ms
    best = max(named, key=lambda m: (m.end - m.start, -m.start))
    s, e = best.start, best.end
    if best.full:
        s, e = min(s, best.full[0]), max(e, best.full[1])
    return Span.of(ctx.text, s, e)


# --- spaCy layer ------------------------------------------------------------------------------


def annotate(doc):
    """Run sources, assertions and profile on a Doc that has ``doc._.attributions``;
    set ``doc._.attributions`` (resolved), ``doc._.sources``, ``doc._.assertions``, ``doc._.profile``."""
    from . import assertions as assertions_mod
    from . import profile as profile_mod
    from .extensions import register
    from .model import Analysis

    register()
    attributions, registry = resolve_sources(doc, tuple(doc._.attributions or ()))
    found = assertions_mod.find_assertions(doc, attributions, doc._.boilerplate or ())
    analysis = Analysis(text=doc.text, attributions=attributions, sources=registry, assertions=found,
                        boilerplate=tuple(doc._.boilerplate or ()))
    doc._.attributions = attributions
    doc._.sources = registry
    doc._.assertions = found
    doc._.profile = profile_mod.build_profile(analysis)
    return doc


class SourcesComponent:
    """spaCy component: add after ``sourcetrace_attributions``."""

    def __init__(self, nlp, name: str) -> None:
        from .extensions import register

        register()
        self.name = name

    def __call__(self, doc):
        return annotate(doc)


def make_sources_component(nlp, name: str) -> SourcesComponent:
    return SourcesComponent(nlp, name)


def _register_factory() -> None:
    from spacy.language import Language

    if not Language.has_factory("sourcetrace_sources"):
        Language.factory(
            "sourcetrace_sources",
            requires=["doc._.attributions"],
            assigns=["doc._.sources", "doc._.assertions", "doc._.profile"],
        )(make_sources_component)


_register_factory()
