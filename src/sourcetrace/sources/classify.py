"""Typing a source: identity (named, described, anonymous, unspecified), kind
(person, official, organization, media, document, social) and role, each decision
with its evidence, and the name shown for it."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..model import Attribution
from .context import _DocContext
from .wordlists import _has, _Lexicons, _words, lexicons
from .mentions import _PERSONAL, _Cluster, _enclosing, _head_of, _Mention, _np_tokens
from .names import _clean_name, _strip_det, _surname, appositive_role, title_before

def _role_text(ctx: _DocContext, m: _Mention) -> str | None:
    """The apposition or relative description attached to the mention's head, if any."""
    head = m.head
    if head is None:
        return None
    if head.dep_ == "appos" and head.head.i < head.i and head.head.pos_ == "NOUN" \
            and m.start <= head.head.idx:
        # the description the name is in apposition to, inside the same mention
        # ("the director of operations for the agency, John Smith")
        desc = head.head
        span = ctx.doc[desc.left_edge.i:head.left_edge.i]
        text = _strip_det(span.text.strip().rstrip(","))
        if text:
            return text
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


@dataclass
class _Focus:
    """The mention a source is typed from (its longest name, else its longest description)."""

    best: _Mention
    name: str
    mention_text: str
    words: list[str]
    head: object
    head_lemma: str
    head_word: str
    ent: object


_PEOPLE_WORDS = {"you", "anyone", "anybody", "everyone", "everybody", "someone", "somebody", "one", "some",
                 "many", "others", "few", "most", "people", "nobody"}


def _type_cluster(ctx: _DocContext, cl: _Cluster, attributions: tuple[Attribution, ...]) -> _Typed:
    """Identity, kind and role of one source, each with its evidence, in named steps:
    the special forms (no source, the author, an unresolved pronoun), the mention typed
    from, its identity, its role, its kind."""
    ms = [m for m in cl.mentions if m.form != "none"]
    special = _type_special(ctx, cl, ms, attributions)
    if special is not None:
        return special
    lex = lexicons()
    ev: list[tuple[str, str]] = []
    f = _focus(ctx, cl, ms)
    if f.best.issuer_note:
        ev.append(("source", f.best.issuer_note))
    identity = _identity(ctx, f, lex, ev, cl.form)
    role = _role(ctx, ms)
    named = [m for m in ms if m.form == "name"]
    if f.best.form == "name" and (f.ent is not None or _clean_name(f.mention_text).lower() in lex.kinds["capital"]
                                  or lex.outlets.fullmatch(_clean_name(f.mention_text))):
        kind, why = _kind_of_name(ctx, f, lex, role, named)
    else:
        kind, why = _kind_of_description(ctx, f, lex, role, identity)
    ev.append(("kind", why))
    if identity == "unspecified" and kind == "person" and f.head is not None and f.head_word in {"it", "there"}:
        kind = None
    return _Typed(identity, kind, ev, role, _display_name(ctx, f.best, f.name))


def _type_special(ctx: _DocContext, cl: _Cluster, ms: list[_Mention],
                  attributions: tuple[Attribution, ...]) -> _Typed | None:
    """No source (or one that refers to no one), the author's or outlet's own voice, or a
    pronoun with no antecedent; None for any other source."""
    lex = lexicons()
    if cl.form == "none" or not ms and not cl.extra:
        m0 = cl.mentions[0]
        if m0.non_referring:
            low = m0.head.lower_ if m0.head is not None else ""
            kind = "person" if low in _PEOPLE_WORDS else None
            return _Typed("unspecified", kind, [("identity", m0.non_referring),
                                                ("kind", f"{m0.head.text!r}: people in general" if kind else "nothing in the text says")],
                          None, "unspecified")
        a = attributions[m0.index]
        cue = " ".join(s.text for s in a.cue)
        hit = lex.unspecified_cue.search(cue)
        why = f"no source in the text; cue {cue!r}" + (f" ({hit.group(0).lower()!r} in unspecified-cue lexicon)" if hit else "")
        return _Typed("unspecified", None, [("identity", why)], None, "unspecified")
    if cl.form == "author":
        if cl.plural:
            return _Typed("named", "media", [("identity", "first person plural outside any quotation: the outlet"),
                                             ("kind", "the outlet speaking as 'we'")], None, "the outlet")
        return _Typed("named", "person", [("identity", "first person outside any quotation: the writer's own voice"),
                                          ("kind", "the article's author")], "the article's author", "the author")
    if cl.form == "unresolved":
        m = ms[0]
        return _Typed("unspecified", None, [("identity", f"pronoun {m.head.text!r} with no antecedent in the text")],
                      None, m.head.text)
    return None


def _focus(ctx: _DocContext, cl: _Cluster, ms: list[_Mention]) -> _Focus:
    """The longest name of the source, else its longest description (else the antecedent
    a pronoun was resolved to)."""
    text = ctx.text
    named = [m for m in ms if m.form == "name"]
    nominal = [m for m in ms if m.form == "nominal"]
    best = max(named, key=lambda m: (len(m.name), -m.start)) if named else (
        max(nominal, key=lambda m: (m.end - m.start, -m.start)) if nominal else None)
    if not named and cl.notes and cl.extra and cl.form in {"person", "org"}:
        # descriptions resolved to a name written earlier ("the president" -> "Barack Obama")
        best = None
    if best is None:
        # only pronouns (or descriptions) resolved to an antecedent that is not a speaker
        s, e = cl.extra[0]
        head = _head_of(ctx.tokens(s, e))
        best = _Mention(-1, s, e, "name" if cl.form == "person" or cl.notes else "nominal", head=head, name=cl.name)
    mention_text = text[best.full[0]:best.full[1]] if best.full else text[best.start:best.end]
    head = best.head
    name = best.name or cl.name
    if best.form == "name" and cl.name and len(cl.name) > len(name) and len(name.split()) == 1 \
            and _surname(cl.name) == _surname(name):
        name = cl.name     # the full name resolution found for a bare surname
    return _Focus(best=best, name=name, mention_text=mention_text, words=_words(mention_text),
                  head=head, head_lemma=head.lemma_.lower() if head is not None else "",
                  head_word=head.lower_ if head is not None else "",
                  ent=ctx.ent_of.get(head.i) if head is not None else None)


def _identity(ctx: _DocContext, f: _Focus, lex: _Lexicons, ev: list[tuple[str, str]], cluster_form: str) -> str:
    """named | described | anonymous | unspecified, with its evidence appended to ``ev``."""
    best, name, mention_text, head, head_lemma, head_word, ent = (
        f.best, f.name, f.mention_text, f.head, f.head_lemma, f.head_word, f.ent)
    text = ctx.text
    anon_window = mention_text
    if head is not None:
        tail_end = min(ctx.sentence_of(head.idx)[1], best.end + 140)
        anon_window = mention_text + " " + text[best.end:tail_end]
    anon = lex.anonymity.search(anon_window)
    has_complement = head is not None and any(c.dep_ in {"prep", "amod", "compound", "relcl", "acl", "appos"} for c in head.children)
    if best.form == "name" and ent is not None and ent.label_ == "NORP" and anon is not None:
        identity = "anonymous"
        ev.append(("identity", f"anonymity cue {anon.group(0).lower()!r}"))
    elif best.form == "name" and ent is not None and ent.label_ == "NORP" and (best.plural or ent.text.endswith("s")):
        identity = "described"
        ev.append(("identity", f"a group described by nationality or affiliation ({ent.text!r}, NORP plural)"))
    elif best.form == "name" or cluster_form == "person":
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
    return identity


def _role(ctx: _DocContext, ms: list[_Mention]) -> str | None:
    """The first apposition written with a mention, else a title before a name."""
    for m in sorted(ms, key=lambda x: x.start):
        r = _role_text(ctx, m)
        if r:
            return r
    for m in ms:
        t = _pre_title(ctx, m)
        if t:
            return t
    return None


def _kind_of_name(ctx: _DocContext, f: _Focus, lex: _Lexicons, role: str | None,
                  named: list[_Mention]) -> tuple[str | None, str]:
    """The kind of a named source: a capital or outlet, a person (by the roles written
    with the name), a place speaking as its government, or an organisation."""
    best, name, mention_text, words, ent = f.best, f.name, f.mention_text, f.words, f.ent
    bare = _clean_name(mention_text)
    if best.form == "name" and ent is None and (bare.lower() in lex.kinds["capital"] or lex.outlets.fullmatch(bare)):
        if bare.lower() in lex.kinds["capital"]:
            kind, why = "official", f"place {bare!r} speaking (capital): its government"
        else:
            kind, why = "media", f"{bare!r} in media-outlet lexicon"
    else:
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
        elif role and _describes_a_person(role):
            kind, why = "person", (f"apposition {role!r} describes a person (outweighs the NER "
                                   f"label {ent.label_} of {ent.text!r})")
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
    return kind, why


_PERSON_NOUNS = {"farmer", "man", "woman", "boy", "girl", "resident", "father", "mother", "son",
                 "daughter", "wife", "husband", "widow", "grandmother", "grandfather", "student",
                 "teacher", "worker", "nurse", "doctor", "driver", "soldier", "veteran", "retiree",
                 "pensioner", "villager", "owner", "shopkeeper", "mechanic", "fisherman", "miner",
                 "volunteer", "survivor", "refugee", "mother-of-two", "father-of-two", "neighbour",
                 "neighbor", "witness", "victim", "voter", "activist", "musician", "artist"}


def _describes_a_person(role: str) -> bool:
    """An apposition that says its name is a person's: an age ("a 70-year-old farmer") or
    a noun that only people are ("a retired nurse")."""
    import re

    words = re.findall(r"[\w-]+", role.lower())
    head = next((w for w in words[::-1] if w not in {"in", "of", "from", "at", "who", "the"}), "")
    before_prep = []
    for w in words:
        if w in {"in", "of", "from", "at", "for", "with", "who", "whose"}:
            break
        before_prep.append(w)
    noun = before_prep[-1] if before_prep else head
    return bool(re.search(r"\b\d+-year-old\b|\byear-old\b", role.lower())) or noun in _PERSON_NOUNS


def _kind_of_description(ctx: _DocContext, f: _Focus, lex: _Lexicons, role: str | None,
                         identity: str) -> tuple[str | None, str]:
    """The kind of a described source: head noun first, then its modifiers and apposition."""
    mention_text, words, head, head_lemma, head_word, ent = (
        f.mention_text, f.words, f.head, f.head_lemma, f.head_word, f.ent)
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
    return kind, why


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
        shown = _strip_det(np.text)
        if not shown:   # "those close to him", "some who saw it": the head is a determiner
            shown = _strip_det(_without_clauses(head)) or _strip_det(ctx.text[m.start:m.end])
        return shown or head.text
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
