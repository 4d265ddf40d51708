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
from .names import _clean_name, _surname
from .registry import _build

_ANTECEDENT_WINDOW = 400   # tokens searched back for a pronoun's antecedent among sentence subjects


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
