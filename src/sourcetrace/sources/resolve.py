"""Resolution: each attribution's speaking mention merged, in text order, into the
article's sources (relative pronouns, personal pronouns to their antecedents, names by
name or surname, definite descriptions, implicit speakers)."""
from __future__ import annotations

import dataclasses
import re
from bisect import bisect_left, bisect_right

from ..model import Attribution, Source, Span, extent
from .context import _DocContext
from .wordlists import lexicons
from .mentions import _Cluster, _enclosing, _gender_of, _make_mention, _Mention, _np_tokens
from .names import _clean_name, _first_name, _surname, title_before
from .registry import _build

_ANTECEDENT_WINDOW = 400   # tokens searched back for a pronoun's antecedent among sentence subjects
_SPOKES = {"spokesman", "spokeswoman", "spokesperson", "representative", "spokespeople"}
_CHAIN_FIRST = False       # pronouns: the trained chain before the rules (see ``pronoun``)
_CHAIN_MIN_PROB = 0.3      # a coreference chain below this probability is left to the rules


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

    The steps: the speaking mention of each attribution (``_speaking_mentions``);
    mentions that refer to no one set aside with the reason (``_set_aside_non_referring``);
    the rest merged into clusters in text order (``_Merger``); an unspecified
    source for each attribution left without a mention; the registry built from
    the clusters (``registry._build``).
    """
    attributions = tuple(attributions)
    if not attributions:
        return attributions, ()
    ctx = _DocContext(doc, attributions)
    mentions = _speaking_mentions(ctx, attributions)
    _set_aside_non_referring(ctx, mentions)
    merger = _Merger(ctx, attributions)
    merger.merge(mentions)
    merger.unspecified(mentions)
    merger.first_persons()
    return _build(ctx, attributions, mentions, merger.clusters, merger.owner)


def _speaking_mentions(ctx: _DocContext, attributions) -> list[_Mention]:
    """One mention per attribution: its speaker span, else its source, else the implicit
    subject of its cue; a subject-less participle continues the previous attribution."""
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
    return mentions


_GENERIC = {"you", "anyone", "anybody", "everyone", "everybody", "one", "nobody", "some", "many", "people", "it",
            "there"}
_DEMONSTRATIVES = {"this", "that", "these", "those", "all", "such", "what", "whatever", "both", "each",
                   "either", "neither", "another", "something", "anything", "everything", "nothing"}


def _non_referring(ctx: _DocContext, m: _Mention) -> str:
    """Why a speaking mention refers to no one ("" when it may refer): generic "you",
    "it", "anyone" and other bare heads of the unspecified lexicon, demonstratives
    ("That makes me smart"), caption and page words ("WATCH", "post"), and fragments
    (no noun or name at their head, nothing left once determiners are dropped)."""
    head = m.head
    if m.form in {"none", "relative", "first"} or head is None:
        return ""
    lex = lexicons()
    low, lemma = head.lower_, head.lemma_.lower()
    bare = not any(c.dep_ in {"prep", "amod", "compound", "relcl", "acl", "appos", "poss", "nmod", "nummod"}
                   for c in head.children)
    ent = ctx.ent_of.get(head.i)
    first = ctx.tokens(m.start, m.end)[:1]
    if len(first) and first[0].pos_ == "ADP" and first[0].i != head.i and head.pos_ == "PRON":
        return (f"fragment {ctx.text[m.start:m.end]!r}: a preposition and a pronoun, "
                "not a name or description")
    if m.form == "pronoun":
        if low in {"it", "its", "itself"} and head.dep_ == "expl":
            return f"expletive {head.text!r}: refers to no one"
        return ""
    if bare and low in _GENERIC and ent is None:
        return f"generic {head.text!r}: no source named or described, refers to no one in particular"
    if bare and low in _DEMONSTRATIVES:
        return f"demonstrative {head.text!r}: refers to something said or done, no source named"
    alone = not any(True for _ in head.children) and m.end - m.start <= len(head.text) + 1
    if alone and ent is None and (low in lex.identity.get("non_referring", ()) or lemma in lex.identity.get("non_referring", ())):
        return f"{head.text!r} is a headline, caption or page word: no source named"
    if ent is None and head.text.isupper() and len(head.text) >= 4 and head.is_alpha and bare:
        return f"{head.text!r} in capitals outside any name: a headline or caption word, no source named"
    toks = ctx.tokens(m.start, m.end)
    said = ctx.text[m.start:m.end]
    words = [t for t in toks if t.is_alpha]
    after = ctx.text[m.end:m.end + 3].lstrip(" ")
    if len(words) >= 2 and all(t.text.isupper() for t in words) and (
            after.startswith(":") or said.rstrip().endswith(":")):
        return f"{said.strip()!r} in capitals before a colon: a headline, no source named"
    if "/" in said and (re.search(r"\w/[A-Z][\w .&-]*(?:'s|’s)\s", said)
                        or re.search(r"\b(?:photo|getty images)\b", said, re.I)):
        return f"{said.strip()!r} reads as a photo credit or caption: no source named"
    if head.pos_ in {"VERB", "AUX", "ADV", "ADP", "CCONJ", "SCONJ", "PART", "INTJ", "PUNCT", "SYM"} and ent is None and not any(
            t.pos_ in {"NOUN", "PROPN", "PRON", "NUM"} or t.ent_type_ for t in toks):
        return f"fragment: its head {head.text!r} is a {head.pos_.lower()}, not a name or description"
    if m.form in {"name", "nominal"} and not any(ch.isalpha() for ch in _clean_name(m.name)) and bare:
        return f"fragment {ctx.text[m.start:m.end]!r}: no word that names anyone"
    return ""


def _set_aside_non_referring(ctx: _DocContext, mentions: list[_Mention]) -> None:
    """Mentions that refer to no one become "none" (an unspecified source) with the reason."""
    for m in mentions:
        why = _non_referring(ctx, m)
        if why:
            m.form, m.non_referring = "none", why


class _Merger:
    """Mentions merged, in text order, into clusters (one per voice of the article)."""

    def __init__(self, ctx: _DocContext, attributions) -> None:
        self.ctx = ctx
        self.attributions = attributions
        self.clusters: list[_Cluster] = []
        self.owner: dict[int, int] = {}          # attribution index -> cluster index
        self.by_name: dict[str, int] = {}
        self.by_surname: dict[str, int] = {}
        self.person_clusters: dict[int, int] = {}  # token index of a non-speaker antecedent -> cluster
        self.deferred: list[_Mention] = []
        self._coref = None

    @property
    def coref(self):
        """The trained coreference ranker on this Doc (sources/coref.py), made when first
        asked; None when its weights are not installed."""
        if self._coref is None:
            from . import coref

            self._coref = coref.DocCoref(self.ctx.doc) if coref.has_model() else False
        return self._coref or None

    def new_cluster(self, m: _Mention | None, *, form: str, name: str, pos: int) -> int:
        self.clusters.append(_Cluster(name=name, form=form, last_pos=pos))
        return len(self.clusters) - 1

    def add(self, ci: int, m: _Mention) -> None:
        cl = self.clusters[ci]
        cl.mentions.append(m)
        cl.last_pos = max(cl.last_pos, m.start)
        if m.form in {"name", "nominal"} and m.gender and not cl.gender:
            cl.gender = m.gender
        if m.form == "pronoun" and m.gender in {"m", "f"} and not cl.gender and not cl.plural:
            cl.gender = m.gender
        self.owner[m.index] = ci

    def merge(self, mentions: list[_Mention]) -> None:
        order = sorted(range(len(mentions)),
                       key=lambda k: (mentions[k].start if mentions[k].start >= 0 else 10**12, k))
        for k in order:
            m = mentions[k]
            if m.form == "none":
                continue
            if m.form == "relative":
                m = mentions[k] = self._relative_noun(m)
            if m.form == "none":
                continue
            if m.form == "first":
                if not self.first_person(m, final=False):
                    self.deferred.append(m)
            elif m.form == "pronoun":
                self.pronoun(m)
            else:
                self.name_or_description(m)

    def _spokesperson_body(self, index: int) -> int | None:
        """The organisation a spokesperson speaks for, when the attribution's source span
        names both ("Acme spokeswoman Jane Doe", "a spokesperson for Acme Power"): a "we"
        in the spokesperson's quotation is that organisation."""
        ctx = self.ctx
        a = self.attributions[index]
        if not a.source:
            return None
        toks = ctx.tokens(a.source[0].start, a.source[-1].end)
        if not any(t.lemma_.lower() in _SPOKES for t in toks):
            return None
        orgs = [e for e in ctx.ents if e.label_ in {"ORG", "GPE", "NORP"}
                and toks.start <= e.start and e.end <= toks.end]
        if len(orgs) != 1:
            return None
        ent = orgs[0]
        name = _clean_name(ent.text)
        key = "N:" + " ".join(re.sub(r"[^\w\s-]", "", name.lower()).split())
        ci = self.by_name.get(key)
        if ci is None:
            ci = self.new_cluster(None, form="org", name=name, pos=ent.start_char)
            self.by_name[key] = ci
        cl = self.clusters[ci]
        cl.extra.append((ent.start_char, ent.end_char))
        cl.notes.append(f"'we' in the quotation of {ctx.text[a.source[0].start:a.source[-1].end]!r}: "
                        f"the body its spokesperson speaks for, {name!r}")
        return ci

    def first_persons(self) -> None:
        """"I"/"we" whose quotation's speaker came later: once every speaker is known
        (after ``unspecified``, so that an unspecified speaker keeps its quotation's "I")."""
        for m in self.deferred:
            self.first_person(m, final=True)

    def _relative_noun(self, m: _Mention) -> _Mention:
        """"who" stands for the noun the relative clause modifies."""
        verb = m.head.head
        noun = verb.head if verb.dep_ in {"relcl", "acl"} else None
        # "Trump ... is a serial liar, rampant xenophobe and birther who has pledged": the
        # nouns predicated of a subject stand for that subject
        top = noun
        while top is not None and top.dep_ == "conj" and top.head.i != top.i:
            top = top.head
        if top is not None and top.dep_ == "attr" and top.head.lemma_ == "be":
            subj = next((c for c in top.head.children if c.dep_ in {"nsubj", "nsubjpass"}), None)
            if subj is not None and subj.pos_ in {"PROPN", "NOUN"}:
                noun = subj
        if noun is not None and noun.pos_ in {"NOUN", "PROPN", "PRON", "NUM"}:
            np = _np_tokens(noun)
            sub = _make_mention(self.ctx, m.index, Span.of(self.ctx.text, np.start_char, np.end_char))
            sub.start, sub.end = m.start, m.end
            sub.full = (np.start_char, np.end_char)
            why = _non_referring(self.ctx, sub)
            if why:
                sub.form, sub.non_referring = "none", why
            return sub
        m.form = "none"
        m.non_referring = f"relative {m.head.text!r} with no noun it stands for: no source named"
        return m

    def first_person(self, m: _Mention, final: bool) -> bool:
        """'I'/'we' in a quotation is its speaker; outside any, the author or outlet."""
        if m.form == "none":
            return True
        enclosing = _enclosing(self.ctx, m)
        if enclosing is not None and enclosing in self.owner:
            org = self._spokesperson_body(enclosing) if m.plural else None
            self.add(org if org is not None else self.owner[enclosing], m)
            return True
        if enclosing is not None and not final:
            return False          # the quotation's speaker comes later in the text
        if enclosing is not None or self.ctx.in_quote(m.start, m.end):
            # someone's words whose speaker is not found: not the author's "I"
            m.form = "none"
            m.non_referring = (f"{m.head.text!r} inside a quotation whose speaker is not named: "
                               "not the author")
            ci = self.new_cluster(m, form="none", name="unspecified", pos=m.start)
            self.clusters[ci].mentions.append(m)
            self.owner[m.index] = ci
            return True
        key = "\x00author" if not m.plural else "\x00outlet"
        ci = self.by_name.get(key)
        if ci is None:
            ci = self.new_cluster(m, form="author", name="the outlet" if m.plural else "the author", pos=m.start)
            self.clusters[ci].plural = m.plural
            self.by_name[key] = ci
        self.add(ci, m)
        return True

    def pronoun(self, m: _Mention) -> None:
        a = self.attributions[m.index]
        # the rules first (sources and sentence subjects, quote-speaker continuity), the
        # trained chain where they find nothing: chosen on the tuning half of
        # bench/labels/speaker_gold.jsonl (pronouns 0.909 rules first, 0.864 chain first)
        ci = self._chained(m) if _CHAIN_FIRST else None
        if ci is None:
            ci = _antecedent(self.ctx, m, a, self.clusters, self.person_clusters, self.new_cluster)
        if ci is None and not _CHAIN_FIRST:
            ci = self._chained(m)
        if ci is None:
            ci = self.new_cluster(m, form="unresolved", name=m.head.text, pos=m.start)
            self.clusters[ci].plural = m.plural
            self.clusters[ci].gender = m.gender
        self.add(ci, m)

    def _chained(self, m: _Mention) -> int | None:
        """The cluster of the name that the mention's coreference chain reaches (the
        trained ranker, sources/coref.py), when the rules agree it can be: number and
        gender agree with the cluster, and a pronoun inside a quotation is not its
        speaker. The chain goes to the cluster's notes and ``chain`` (evidence)."""
        view = self.coref
        if view is None or m.head is None:
            return None
        ctx = self.ctx
        doc = ctx.doc
        own = [(x.start, x.end) for x in self.attributions[m.index].content]
        inside = ctx.in_quote(m.start, m.end)

        def exclude(x) -> bool:
            # the attribution's own words, and (for a speaker outside quotation marks)
            # anything inside a quotation: someone else's words
            s0, e0 = doc[x.start].idx, doc[x.end - 1].idx + len(doc[x.end - 1])
            return any(cs <= s0 and e0 <= ce for cs, ce in own) or (
                not inside and ctx.in_quote(s0, e0))
        found, path, prob = view.named(m.head.i, exclude)
        if found is None or prob < _CHAIN_MIN_PROB:
            return None
        target = view.mentions[found]
        if target.ner not in {"PERSON", "ORG", "NORP", "GPE", "FAC"}:
            return None        # a speaker is a person or a body, not a title or a work
        span = Span.of(ctx.text, doc[target.start].idx, doc[target.end - 1].idx + len(doc[target.end - 1]))
        name = _make_mention(ctx, m.index, span)
        if name.form != "name":
            return None
        ci = self.by_name.get(_name_key(name))
        person = _is_person_name(ctx, name)
        if ci is None and person:
            sur = _surname(name.name)
            ci = self.by_surname.get(sur) if sur else None
            if ci is not None and not _first_names_agree(self.clusters[ci].name, name.name):
                ci = None
        if ci is not None:
            if m.form == "pronoun" and not _compatible(m, self.clusters[ci]):
                return None
            enclosing = _enclosing(ctx, m)
            if m.form == "pronoun" and enclosing is not None and self.owner.get(enclosing) == ci \
                    and ctx.in_quote(m.start, m.end):
                return None    # "he" inside X's own quotation is someone else
        else:
            if m.form == "pronoun":
                if m.plural != name.plural or (m.gender == "n") == person:
                    return None
                g = _gender_of(ctx, name)
                if m.gender in {"m", "f"} and g in {"m", "f"} and g != m.gender:
                    return None
            ci = self._new_source_cluster(name, _name_key(name), person)
            self.by_name.setdefault(_name_key(name), ci)
        cl = self.clusters[ci]
        links = []
        for j in path:
            x = view.mentions[j]
            s0, e0 = doc[x.start].idx, doc[x.end - 1].idx + len(doc[x.end - 1])
            cl.chain.append((s0, e0))
            links.append(f"{ctx.text[s0:e0]!r} at {s0}")
        cl.extra.append((span.start, span.end))
        cl.notes.append(" -> ".join(links) + f" (coreference chain, p={prob:.2f})")
        return ci

    def name_or_description(self, m: _Mention) -> None:
        ctx = self.ctx
        key = _name_key(m)
        ci = self.by_name.get(key)
        person = m.form == "name" and _is_person_name(ctx, m)
        if ci is None and person:
            sur = _surname(m.name)
            ci = self.by_surname.get(sur) if sur else None
            if ci is not None and not _first_names_agree(self.clusters[ci].name, m.name):
                ci = None
        if ci is None and m.form == "nominal" and not m.plural and m.head is not None \
                and m.head.pos_ in {"NOUN", "PRON"} and not _is_document(m):
            ci = self._chained(m)
        if ci is None and m.form == "nominal" and _is_definite(m) and not m.plural:
            # "the council" after "the St. Paul City Council": same head noun, earlier, named or described
            ci = _definite_antecedent(self.clusters, m)
            if ci is None:
                ci = self._described_antecedent(m)
        if ci is None and m.form == "nominal" and not m.plural and m.head is not None \
                and m.head.lemma_.lower() in _PERSON_TITLES:
            ci = self._named_later(m)
        if ci is None:
            ci = self._new_source_cluster(m, key, person)
            if person:
                self._full_name(ci, m)
        self.by_name.setdefault(key, ci)
        if m.head is not None:
            self.person_clusters[m.head.i] = ci
        self.add(ci, m)

    def _described_antecedent(self, m: _Mention) -> int | None:
        """"the president" -> the person written earlier with that title ("President Obama");
        "the agency", "the campaign" -> the organisation named earlier with that word
        ("the Environmental Protection Agency", "the Clinton campaign"). The chain goes to
        the cluster's notes (evidence)."""
        ctx, head = self.ctx, m.head
        if head is None or any(c.dep_ in {"poss", "compound"} or ctx.ent_of.get(c.i) is not None
                               for c in head.children):
            return None
        lemma = head.lemma_.lower()
        found = _titled_person_before(ctx, lemma, m.start) if lemma in _PERSON_TITLES else (
            _named_body_before(ctx, lemma, m.start) if lemma in _BODY_WORDS else None)
        if found is None and lemma not in _PERSON_TITLES and _is_definite(m) and not _is_document(m) \
                and (lemma in lexicons().kinds["organization"] or lemma in _BODY_WORDS):
            found = _recent_organisation(ctx, lemma, m.start)
        if found is None:
            return None
        start, end, name, why = found
        said = ctx.text[m.start:m.end]
        if lemma in _PERSON_TITLES:
            ci = self._person_named(name, start)
        else:
            key = "N:" + " ".join(re.sub(r"[^\w\s-]", "", name.lower()).split())
            ci = self.by_name.get(key)
            if ci is None:
                ci = self.new_cluster(None, form="org", name=name, pos=start)
                self.by_name[key] = ci
        self.clusters[ci].extra.append((start, end))
        self.clusters[ci].notes.append(f"{said!r} at {m.start} -> {ctx.text[start:end]!r} at {start} ({why})")
        return ci

    def _person_named(self, name: str, start: int) -> int:
        """The cluster of the person a title or description resolved to: the one holding
        that surname when the first names agree, else a new person cluster at ``start``."""
        sur = _surname(name)
        ci = self.by_surname.get(sur)
        if ci is not None and not _first_names_agree(self.clusters[ci].name, name):
            ci = None
        if ci is None:
            ci = self.new_cluster(None, form="person", name=name, pos=start)
            self.clusters[ci].surname = sur
            self.clusters[ci].gender = self.ctx.gender_of.get(sur)
            self.by_surname.setdefault(sur, ci)
            self.by_name.setdefault("N:" + " ".join(name.lower().split()), ci)
        return ci

    def _full_name(self, ci: int, m: _Mention) -> None:
        """A bare surname ("Trump said") takes the full name the article writes for that
        person elsewhere ("Donald Trump"), the nearest before, else the first after, when
        every full name with that surname in the article has the same first name."""
        ctx = self.ctx
        words = m.name.split()
        if len(words) != 1:
            return
        sur = _surname(m.name)
        full = [e for e in ctx.ents if e.label_ == "PERSON" and _surname(e.text) == sur
                and len(_clean_name(e.text).split()) >= 2 and _first_name(e.text)]
        if not full or len({_first_name(e.text) for e in full}) != 1:
            return
        before = [e for e in full if e.end_char <= m.start]
        ent = before[-1] if before else full[0]
        cl = self.clusters[ci]
        cl.name = _clean_name(ent.text)
        cl.extra.append((ent.start_char, ent.end_char))
        cl.chain.append((ent.start_char, ent.end_char))
        cl.notes.append(f"{ctx.text[m.start:m.end]!r} at {m.start} -> {ent.text!r} at "
                        f"{ent.start_char} (the full name the article gives this surname)")
        self.by_name.setdefault("N:" + " ".join(cl.name.lower().split()), ci)

    def _named_later(self, m: _Mention) -> int | None:
        """A description the next sentences name ("its mayor said ..." in a lede, then
        "Mayor Anna Kovalenko"): the person written with that title within
        ``_CATAPHORA_SENTENCES`` sentences after it."""
        ctx = self.ctx
        lemma = m.head.lemma_.lower()
        found = _titled_person_after(ctx, lemma, m.end)
        if found is None:
            return None
        start, end, name, why = found
        ci = self._person_named(name, start)
        self.clusters[ci].extra.append((start, end))
        self.clusters[ci].chain.append((m.start, m.end))
        self.clusters[ci].notes.append(
            f"{ctx.text[m.start:m.end]!r} at {m.start} -> {ctx.text[start:end]!r} at {start} "
            f"({why}, named after the description)")
        return ci

    def _new_source_cluster(self, m: _Mention, key: str, person: bool) -> int:
        lex = lexicons()
        form = "person" if person else ("org" if _is_org_like(self.ctx, m) else m.form)
        if form == "name" and (lex.outlets.fullmatch(_clean_name(m.name))
                               or _clean_name(m.name).lower() in lex.kinds["capital"]):
            form = "org"
        if form == "nominal" and m.head is not None and (m.head.lemma_.lower() in lex.kinds["document"]
                                                          or m.head.lemma_.lower() in lex.kinds["social"]):
            form = "document"
        ci = self.new_cluster(m, form=form, name=m.name, pos=m.start)
        cl = self.clusters[ci]
        cl.plural = m.plural
        cl.gender = _gender_of(self.ctx, m)
        if person:
            cl.surname = _surname(m.name)
            self.by_surname.setdefault(cl.surname, ci)
        cl.key = key
        return ci

    def unspecified(self, mentions: list[_Mention]) -> None:
        """Attributions without any mention (or with one that refers to no one): each an
        unspecified source of its own."""
        for m in mentions:
            if m.form == "none":
                a = self.attributions[m.index]
                ci = self.new_cluster(m, form="none", name="unspecified", pos=a.cue[0].start if a.cue else -1)
                self.clusters[ci].mentions.append(m)
                self.owner[m.index] = ci


_PERSON_TITLES = {"president", "senator", "governor", "candidate", "nominee", "minister", "secretary", "mayor",
                  "spokesman", "spokeswoman", "spokesperson", "chairman", "chairwoman", "director", "judge",
                  "lawyer", "attorney", "businessman", "businesswoman", "billionaire", "mogul", "congressman",
                  "congresswoman", "chancellor", "ambassador", "commander", "general", "prosecutor", "sheriff",
                  "chief", "leader", "adviser", "advisor", "founder", "ceo", "economist", "professor", "author",
                  "speaker", "manager", "strategist", "pollster", "official", "analyst", "senator-elect"}
_BODY_WORDS = {"agency", "campaign", "company", "committee", "department", "ministry", "group", "organization",
               "organisation", "firm", "office", "network", "newspaper", "paper", "court", "council", "commission",
               "bureau", "union", "party", "administration", "government", "foundation", "institute", "center",
               "centre", "board", "service", "corporation", "bank", "university", "association", "coalition",
               "panel", "report", "survey", "poll", "study"}
_LOOKBACK = 6000   # characters searched back for the name a description stands for


def _titled_person_before(ctx: _DocContext, title: str, before: int):
    """The most recent person written before ``before`` with ``title`` in a title or
    apposition ("President Barack Obama", "Josh Earnest, the White House spokesman")."""
    for ent in reversed([e for e in ctx.ents if e.end_char <= before and e.start_char >= before - _LOOKBACK]):
        if ent.label_ != "PERSON":
            continue
        roles = ctx.roles_of(ent.text)
        pre = title_before(ent) or ""
        words = {w.strip(".,").lower() for r in [*roles, pre, ent.text] for w in r.replace("-", " ").split()}
        if title in words:
            why = f"title {title!r} written with {_clean_name(ent.text)!r}"
            # the fullest name this person has in the article
            sur = _surname(ent.text)
            full = max((e for e in ctx.ents if e.label_ == "PERSON" and _surname(e.text) == sur
                        and _first_names_agree(e.text, ent.text)), key=lambda e: len(e.text), default=ent)
            return full.start_char, full.end_char, _clean_name(full.text), why
    return None


def _recent_organisation(ctx: _DocContext, word: str, before: int):
    """"the utility", "the firm" with no name holding the word: the organisation named
    last within the two sentences before (and its own), when exactly one is ("Acme Power
    raised its rates ... The utility said")."""
    k = bisect_right(ctx.sent_starts, before) - 1
    lo = ctx.sent_bounds[max(0, k - 2)][0] if ctx.sent_bounds else 0
    lex = lexicons()
    orgs = [e for e in ctx.ents if e.label_ == "ORG" and lo <= e.start_char and e.end_char <= before
            and not lex.outlets.fullmatch(_clean_name(e.text))
            and _surname(e.text) not in ctx.person_surnames]
    names = {_clean_name(e.text).lower() for e in orgs}
    if len(names) != 1:
        return None
    ent = orgs[-1]
    return (ent.start_char, ent.end_char, _clean_name(ent.text),
            f"the only organisation named in the sentences before {word!r}")


_CATAPHORA_SENTENCES = 3   # sentences searched after a description for the name it stands for


def _titled_person_after(ctx: _DocContext, title: str, after: int):
    """The first person written after ``after``, within the next ``_CATAPHORA_SENTENCES``
    sentences, with ``title`` in a title or apposition ("Mayor Anna Kovalenko")."""
    k = bisect_right(ctx.sent_starts, after) - 1
    last = min(len(ctx.sent_bounds) - 1, max(k, 0) + _CATAPHORA_SENTENCES)
    limit = ctx.sent_bounds[last][1] if ctx.sent_bounds else len(ctx.text)
    for ent in ctx.ents:
        if ent.label_ != "PERSON" or ent.start_char < after or ent.start_char > limit:
            continue
        pre = title_before(ent) or ""
        roles = ctx.roles_of(ent.text)
        words = {w.strip(".,").lower() for r in [*roles, pre, ent.text] for w in r.replace("-", " ").split()}
        if title in words:
            return (ent.start_char, ent.end_char, _clean_name(ent.text),
                    f"title {title!r} written with {_clean_name(ent.text)!r}")
    return None


def _named_body_before(ctx: _DocContext, word: str, before: int):
    """The most recent name before ``before`` of an organisation, document or campaign
    whose name (or a built-in alias) holds ``word`` ("the Clinton campaign", "the
    Environmental Protection Agency" / "EPA")."""
    from .entities import builtin_gazetteer

    gaz = builtin_gazetteer()
    lo = max(0, before - _LOOKBACK)
    best = None
    for ent in ctx.ents:
        if ent.end_char > before or ent.start_char < lo or ent.label_ not in {"ORG", "FAC", "GPE", "NORP", "PERSON",
                                                                            "WORK_OF_ART", "LAW"}:
            continue
        root = ent.root
        if ent.label_ in {"ORG", "FAC", "WORK_OF_ART", "LAW"}:
            entry = gaz.lookup(ent.text)
            names = [ent.text, *(entry.aliases if entry else ()), *((entry.name,) if entry else ())]
            if any(word in n.lower().replace("-", " ").split() for n in names):
                best = (ent.start_char, ent.end_char, _clean_name(ent.text), f"{word!r} in the name {ent.text!r}")
                continue
        # "the Clinton campaign", "Trump's campaign": a name that modifies the word
        head = root.head
        if root.dep_ in {"compound", "poss"} and head.lemma_.lower() == word and head.idx < before:
            np = _np_tokens(head)
            best = (np.start_char, np.end_char, _clean_name(np.text), f"{np.text!r} names the {word}")
    return best


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


def _name_key(m: _Mention) -> str:
    name = m.name.lower()
    name = re.sub(r"(?:'s|’s)\b", "", name)
    name = re.sub(r"[^\w\s-]", "", name)
    return ("N:" if m.form == "name" else "D:") + " ".join(name.split())


def _is_document(m: _Mention) -> bool:
    """A document, post or poll ("the report", "the post"): typed by its own rules."""
    kinds = lexicons().kinds
    lemma = m.head.lemma_.lower() if m.head is not None else ""
    return lemma in kinds["document"] or lemma in kinds["social"]


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
