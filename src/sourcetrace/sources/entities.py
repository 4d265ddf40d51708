"""Source entities across the corpus: each source of each article linked to one entity.

Within an article the sources are already merged ("Ms Thomas" = "Rosemary Thomas",
"she" = her); here each source gets an entity key from its fullest name:

    person:donald trump   a person's first name and surname ("Donald J. Trump",
                          "President Donald Trump" and "Mr. Donald Trump" give the same key)
    person:~trump         a bare surname ("Trump", "Mr Trump", "President Obama")
    org:white house       any other name, determiners and possessives dropped
    described:officials   an unnamed source, by its description
    author:<byline>       the writer's own voice: one entity per byline (the article's
                          author from its metadata), never merged across bylines; an
                          article without a byline has an author of its own (author#<id>)
    outlet                the outlet's "we" (one entity per outlet)

A source typed named whose name is a description ("One Republican", "agency", "the
outlet", "report", "Judge") is not named: ``looks_named`` is the one check, and
``corpus_identity`` the identity every corpus table and the report count (``author`` for
the writer's and the outlet's own voice, see CORPUS_IDENTITIES).

and unspecified sources (no source, or words that refer to no one) get none.

Across articles ``EntityIndex`` links the keys: a bare surname joins the person
with that surname when the corpus knows one (or one that holds at least
``SURNAME_SHARE`` of the surname's articles: "Clinton" in 2016 is Hillary);
when the first full name arrives after bare surnames, they merge into it. A
gazetteer (``Gazetteer``: a built-in list of aliases, plus a user's CSV or JSON
lines file) pins names to entities with a kind, a role and an external id (a
Wikidata QID, a newsroom's own id). Identity and kind of an entity are decided
by the majority of its mentions, with the counts (``majority``); a pinned kind wins.
"""
from __future__ import annotations

import csv
import functools
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..errors import InputError
from ..model import SOURCE_KINDS
from .names import _clean_name
from ..config import read_sections, read_table
from .wordlists import lexicons

SURNAME_SHARE = 0.75   # a bare surname joins the full name holding this share of the surname's articles

_SUFFIXES = {"jr", "sr", "ii", "iii", "iv"}
_TITLE_WORDS = {"president", "vice", "senator", "sen", "rep", "representative", "gov", "governor", "secretary",
                "former", "candidate", "nominee", "mayor", "judge", "justice", "gen", "general", "adm", "col",
                "lt", "sgt", "prime", "minister", "chancellor", "speaker", "leader", "rev", "sir", "dame", "lord",
                "lady", "prof", "professor", "attorney", "ambassador", "chairman", "chairwoman", "king", "queen",
                "prince", "princess", "pope", "democratic", "republican", "gop", "u.s.", "us", "state", "house",
                "presidential", "then", "then-", "ex", "dr", "mr", "mrs", "ms", "miss", "mx", "president-elect",
                "president-elect", "elect", "businessman", "billionaire", "congressman", "congresswoman", "sens",
                "reps", "first", "the"}


def _norm(text: str) -> str:
    text = _clean_name(text).lower()
    text = re.sub(r"(?:'s|’s)\b", "", text)
    text = re.sub(r"[^\w\s&.-]", " ", text)
    text = text.replace(".", "")
    return " ".join(text.split())


def person_parts(name: str) -> tuple[str | None, str]:
    """(first name or None, surname) of a person's name as written, titles, honorifics,
    middle names and initials dropped: "President Donald J. Trump" -> ("donald", "trump")."""
    honor = lexicons().honorifics
    words = [w.strip(",") for w in _clean_name(name).replace("’", "'").split()]
    words = [w for w in words if w]
    while words and (words[0].lower().rstrip(".") in honor or words[0].lower().rstrip(".") in _TITLE_WORDS
                     or not words[0][:1].isupper()):
        words = words[1:]
    while len(words) > 1 and words[-1].lower().rstrip(".,") in _SUFFIXES:
        words = words[:-1]
    if not words:
        return None, ""
    surname = words[-1].lower().strip(".,")
    first = words[0].lower().rstrip(".") if len(words) >= 2 else None
    if first is not None and len(first) <= 1:
        first = None        # "J. Smith": an initial is not a first name
    return first, surname


#: the identities the corpus tables and the report count: the article's own (model.IDENTITIES)
#: with the writer's and the outlet's own voice apart as ``author``
CORPUS_IDENTITIES = ("named", "described", "anonymous", "author", "unspecified")


@functools.lru_cache(maxsize=1)
def _description_words() -> tuple[frozenset[str], frozenset[str]]:
    """([lead] words, every word that alone never makes a name) of sources_descriptions.txt
    with the titles, honorifics and the kind lexicon's common nouns."""
    sections = read_sections("sources_descriptions.txt", lower=True)
    lex = lexicons()
    generic = set(sections.get("group", ())) | _TITLE_WORDS | set(lex.honorifics)
    for section in ("official_title", "candidate", "social", "document", "media", "org_role"):
        generic |= {w for w in lex.kinds.get(section, ()) if " " not in w}
    return frozenset(sections.get("lead", ())), frozenset(generic)


@functools.lru_cache(maxsize=65536)
def looks_named(name: str) -> bool:
    """Whether ``name`` names someone: after a leading "the", it does not open with a
    counting word ("One Republican", "Some officials") and holds a capitalised word that
    is not a title, an honorific, a group word or a common noun of the kind lexicon
    ("Judge", "Democratic leaders", "agency", "the outlet", "report" do not)."""
    words = re.findall(r"[\w][\w’'.&-]*", _clean_name(name or ""))
    if words and words[0].lower() == "the":
        words = words[1:]
    if not words:
        return False
    lead, generic = _description_words()
    if words[0].lower().rstrip(".") in lead:
        return False
    for w in words:
        base = re.sub(r"(?:'s|’s|'|’)$", "", w).strip(".-")
        if base[:1].isupper() and base.lower() not in generic:
            return True
    return False


def corpus_identity(name: str | None, identity: str | None, key: str | None = None) -> str:
    """The identity the corpus counts for a source: ``author`` for the writer's or the
    outlet's own voice (entity key author... / outlet...), ``described`` for a source typed
    named whose name is a description (``looks_named``), else its own (unspecified when
    it has none)."""
    if key and key.startswith(("author", "outlet")):
        return "author"
    if identity == "named" and not looks_named(name or ""):
        return "described"
    return identity or "unspecified"


def entity_key(name: str, identity: str | None, *, person: bool, author: str | None = None) -> tuple[str, str] | None:
    """(key, name shown) of the entity a source belongs to, or None for one that refers to
    no one (identity ``unspecified``). ``author`` is "author" or "outlet" for the writer's
    own voice and the outlet's "we". A name typed named that is a description
    (``looks_named``) is keyed as described."""
    if author:
        return author, "the author" if author == "author" else "the outlet"
    if identity in (None, "unspecified") or not name.strip():
        return None
    if identity == "named" and not looks_named(name):
        identity = "described"
        person = False
    if person:
        first, surname = person_parts(name)
        if surname:
            if first:
                return f"person:{first} {surname}", _display_person(name)
            return f"person:~{surname}", surname[:1].upper() + surname[1:] if surname.islower() else surname
    norm = _norm(name)
    if not norm:
        return None
    if identity == "named":
        return f"org:{norm}", name.strip()
    return f"described:{norm}", name.strip()


def _display_person(name: str) -> str:
    honor = lexicons().honorifics
    words = _clean_name(name).split()
    while words and (words[0].lower().rstrip(".") in honor or words[0].lower().rstrip(".") in _TITLE_WORDS
                     or not words[0][:1].isupper()):
        words = words[1:]
    return " ".join(words) or _clean_name(name)


# -- gazetteer -------------------------------------------------------------------------

@dataclass(frozen=True)
class GazetteerEntry:
    name: str
    aliases: tuple[str, ...] = ()
    kind: str | None = None
    role: str | None = None
    external_id: str | None = None


@dataclass
class Gazetteer:
    """Names pinned to entities: each name and alias (normalised) -> its entry.

    ``Gazetteer.load(path)`` reads CSV (columns name, aliases separated by "|", kind,
    role, id) or JSON lines ({"name", "aliases": [...], "kind", "role", "id"}); the
    built-in list (``lexicons/sources_entities.tsv``) holds common aliases of
    institutions ("the Kremlin", "Russian government")."""

    entries: list[GazetteerEntry] = field(default_factory=list)
    by_alias: dict[str, GazetteerEntry] = field(default_factory=dict)

    def add(self, entry: GazetteerEntry) -> None:
        if entry.kind is not None and entry.kind not in SOURCE_KINDS:
            raise InputError(f"gazetteer entry {entry.name!r} has an unknown kind {entry.kind!r}",
                             hint=f"use one of {', '.join(SOURCE_KINDS)}")
        self.entries.append(entry)
        for alias in (entry.name, *entry.aliases):
            key = _norm(alias)
            if key:
                self.by_alias[key] = entry

    def lookup(self, name: str) -> GazetteerEntry | None:
        return self.by_alias.get(_norm(name))

    def merged(self, other: "Gazetteer | None") -> "Gazetteer":
        out = Gazetteer()
        for e in self.entries:
            out.add(e)
        for e in (other.entries if other is not None else ()):
            out.add(e)            # the user's entries win over the built-in ones
        return out

    @classmethod
    def load(cls, path: str | Path) -> "Gazetteer":
        p = Path(path)
        if not p.is_file():
            raise InputError(f"no gazetteer file at {str(p)!r}", hint="give a .csv or .jsonl file to --entities")
        g = cls()
        text = p.read_text(encoding="utf-8")
        rows: list[dict[str, Any]] = []
        if p.suffix.lower() in {".jsonl", ".json", ".ndjson"}:
            for n, line in enumerate(text.splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise InputError(f"{p.name} line {n} is not JSON: {exc.msg}",
                                     hint="one object a line: {\"name\": ..., \"aliases\": [...], \"kind\": ...}") from exc
        else:
            rows = list(csv.DictReader(text.splitlines()))
        for n, row in enumerate(rows, 1):
            if not isinstance(row, dict) or not str(row.get("name") or "").strip():
                raise InputError(f"{p.name} entry {n} has no name", hint="every entry needs a name column or key")
            aliases = row.get("aliases") or ()
            if isinstance(aliases, str):
                aliases = [a for a in aliases.split("|") if a.strip()]
            ext = row.get("id") or row.get("external_id") or row.get("wikidata") or None
            g.add(GazetteerEntry(name=str(row["name"]).strip(), aliases=tuple(str(a).strip() for a in aliases),
                                 kind=(row.get("kind") or None), role=(row.get("role") or None),
                                 external_id=str(ext) if ext else None))
        return g


_BUILTIN: Gazetteer | None = None


def builtin_gazetteer() -> Gazetteer:
    """The built-in aliases (``lexicons/sources_entities.tsv``: name, aliases, kind)."""
    global _BUILTIN
    if _BUILTIN is None:
        g = Gazetteer()
        for parts in read_table("sources_entities.tsv"):
            g.add(GazetteerEntry(name=parts[0], aliases=tuple(a for a in (parts[1] if len(parts) > 1 else "").split("|") if a),
                                 kind=parts[2] if len(parts) > 2 and parts[2] else None))
        _BUILTIN = g
    return _BUILTIN


def gazetteer_key(entry: GazetteerEntry, person: bool) -> str:
    if person or (entry.kind == "person" and len(entry.name.split()) >= 2):
        first, surname = person_parts(entry.name)
        if surname and first:
            return f"person:{first} {surname}"
    return f"org:{_norm(entry.name)}"


# -- linking across the corpus ---------------------------------------------------------

@dataclass
class Entity:
    id: int
    key: str
    name: str
    surname: str = ""
    person: bool = False
    kind: str | None = None          # pinned (gazetteer)
    role: str | None = None
    external_id: str | None = None
    articles: int = 0


@dataclass
class Link:
    """One source of one article linked to an entity (``alias``: its name as written)."""

    source_idx: int
    entity_id: int
    alias: str


class EntityIndex:
    """The corpus's entities in memory: what ``link`` needs to place new sources.

    ``link(sources, outlet)`` returns the links of an article's sources and records the
    changes for the store to write: ``new`` (entities created), ``merged`` (old id ->
    new id, for bare-surname entities that a full name now claims)."""

    def __init__(self, entities: Iterable[Entity] = (), gazetteer: Gazetteer | None = None) -> None:
        self.by_id: dict[int, Entity] = {}
        self.by_key: dict[str, int] = {}
        self.full_by_surname: dict[str, list[int]] = {}
        self.gazetteer = builtin_gazetteer().merged(gazetteer)
        self.new: list[Entity] = []
        self.merged: list[tuple[int, int]] = []
        self.updated: list[Entity] = []
        for e in entities:
            self._remember(e)
        # ids only grow: an entity merged away never gives its id to a new one
        self._next_id = max(self.by_id, default=0) + 1

    def _remember(self, e: Entity) -> None:
        self.by_id[e.id] = e
        self.by_key[e.key] = e.id
        if e.person and e.key.startswith("person:") and not e.key.startswith("person:~"):
            self.full_by_surname.setdefault(e.surname, []).append(e.id)

    def _create(self, key: str, name: str, person: bool, entry: GazetteerEntry | None = None) -> Entity:
        e = Entity(id=self._next_id, key=key, name=entry.name if entry else name,
                   surname=person_parts(name)[1] if person else "", person=person,
                   kind=entry.kind if entry else None, role=entry.role if entry else None,
                   external_id=entry.external_id if entry else None)
        self._next_id += 1
        self._remember(e)
        self.new.append(e)
        return e

    def _surname_target(self, surname: str) -> int | None:
        ids = self.full_by_surname.get(surname) or []
        if not ids:
            return None
        if len(ids) == 1:
            return ids[0]
        counts = sorted(((self.by_id[i].articles, i) for i in ids), reverse=True)
        total = sum(c for c, _ in counts) or 1
        return counts[0][1] if counts[0][0] / total >= SURNAME_SHARE else None

    def resolve(self, key: str, name: str, *, person: bool, outlet: str | None = None,
                byline: str | None = None, article: int | None = None) -> int:
        """The entity id for one source key (creating or merging entities as needed). The
        writer ("author") is one entity per ``byline`` (named by it), or, without a byline,
        one per ``article``: never one entity for every writer of an outlet."""
        if key == "author":
            by = " ".join((byline or "").split())
            if by:
                key, name = f"author:{_norm(by)}", by
            else:
                key = f"author#{article if article is not None else 'unknown'}"
                name = f"the author of article {article}" if article is not None else "the author"
            return self.by_key.get(key) or self._create(key, name, False).id
        if key == "outlet":
            key = f"outlet@{outlet or 'unknown outlet'}"
            name = f"{outlet} (the outlet's own voice)" if outlet else "the outlet"
            return self.by_key.get(key) or self._create(key, name, False).id
        entry = self.gazetteer.lookup(name)
        if entry is not None:
            gkey = gazetteer_key(entry, person)
            if gkey in self.by_key:
                e = self.by_id[self.by_key[gkey]]
                if (e.kind, e.role, e.external_id) != (entry.kind, entry.role, entry.external_id) and (
                        entry.kind or entry.role or entry.external_id):
                    e.kind, e.role, e.external_id, e.name = entry.kind, entry.role, entry.external_id, entry.name
                    self.updated.append(e)
                return e.id
            key, person = gkey, gkey.startswith("person:")
            e = self._create(key, name, person, entry)
            self._claim_bare_surname(e)
            return e.id
        if key in self.by_key:
            eid = self.by_key[key]
            if person:
                self._settle_surname(self.by_id[eid].surname)
                if key not in self.by_key:    # this bare surname just joined its full name
                    return self.by_key.get(key) or self._surname_target(key[len("person:~"):])
            return eid
        if key.startswith("person:~"):
            target = self._surname_target(key[len("person:~"):])
            if target is not None:
                return target
            return self._create(key, name, True).id
        e = self._create(key, name, person)
        self._claim_bare_surname(e)
        if person:
            self._settle_surname(e.surname)
        return e.id

    def _settle_surname(self, surname: str) -> None:
        """A bare surname kept apart while no full name held ``SURNAME_SHARE`` of the
        surname's articles joins the full name that now does ("Trump" -> "Donald Trump"
        once the corpus has read enough of both)."""
        if not surname:
            return
        bare = self.by_key.get(f"person:~{surname}")
        target = self._surname_target(surname) if bare is not None else None
        if bare is None or target is None or target == bare:
            return
        self.merged.append((bare, target))
        del self.by_key[f"person:~{surname}"]
        old = self.by_id.pop(bare, None)
        if old is not None:
            self.by_id[target].articles += old.articles

    def _claim_bare_surname(self, e: Entity) -> None:
        """The first full name with a surname takes the entity of that bare surname."""
        if not (e.person and e.surname):
            return
        bare = self.by_key.get(f"person:~{e.surname}")
        if bare is not None and self.full_by_surname.get(e.surname) == [e.id]:
            self.merged.append((bare, e.id))
            del self.by_key[f"person:~{e.surname}"]
            self.by_id.pop(bare, None)

    def link(self, sources: Iterable[Any], outlet: str | None = None, *, byline: str | None = None,
             article: int | None = None) -> list[Link]:
        """Links of one article's sources (``model.Source`` records with ``entity`` set);
        ``byline`` and ``article`` place the writer's own voice (``resolve``)."""
        links = []
        seen: set[int] = set()
        for s in sources:
            ent = dict(s.entity) if s.entity else source_entity(s)
            if not ent or not ent.get("key"):
                continue
            if ent["key"] not in ("author", "outlet") and getattr(s, "identity", None) == "named" \
                    and not looks_named(s.name):   # a description typed named
                ent = entity_key(s.name, "described", person=False) or {}
                ent = {"key": ent[0], "name": ent[1]} if ent else None
                if not ent:
                    continue
            person = ent["key"].startswith("person:")
            eid = self.resolve(ent["key"], ent.get("name") or s.name, person=person, outlet=outlet,
                               byline=byline, article=article)
            if eid not in seen:
                self.by_id[eid].articles += 1
                seen.add(eid)
            links.append(Link(s.id, eid, s.name))
        return links

    def drain(self) -> tuple[list[Entity], list[tuple[int, int]], list[Entity]]:
        """The changes since the last drain: (new entities, merges old -> new, updated)."""
        out = (self.new, self.merged, self.updated)
        self.new, self.merged, self.updated = [], [], []
        return out


def apply_gazetteer(analysis: Any, gazetteer: Gazetteer) -> Any:
    """The analysis with each source a gazetteer names pinned to its entry: the entity's
    name, key and external id, and the entry's kind and role (with the evidence)."""
    import dataclasses

    out = []
    for s in analysis.sources:
        ent = dict(s.entity) if s.entity else None
        entry = None
        if ent is not None:
            entry = gazetteer.lookup(s.name) or gazetteer.lookup(ent.get("name", ""))
        if entry is None:
            out.append(s)
            continue
        person = ent["key"].startswith("person:")
        ent.update(key=gazetteer_key(entry, person), name=entry.name)
        if entry.external_id:
            ent["external_id"] = entry.external_id
        ev = [*s.evidence, ("entity", f"gazetteer entry {entry.name!r}"
                            + (f" ({entry.external_id})" if entry.external_id else ""))]
        changes: dict[str, Any] = {"entity": tuple(ent.items()), "evidence": tuple(ev)}
        if entry.kind:
            changes["kind"] = entry.kind
        if entry.role:
            changes["role"] = entry.role
        out.append(dataclasses.replace(s, **changes))
    return analysis.replace(sources=tuple(out))


def source_entity(source: Any) -> dict[str, Any] | None:
    """The entity key of a stored ``model.Source`` analysed before sources carried one,
    read from its name, identity and evidence."""
    ev = dict(source.evidence)
    ident_ev = ev.get("identity", "")
    author = None
    if ident_ev.startswith("first person"):
        author = "outlet" if source.name == "the outlet" else "author"
    person = "(PERSON)" in ident_ev or ev.get("kind", "").startswith(("person ", "role "))
    found = entity_key(source.name, source.identity, person=person, author=author)
    return {"key": found[0], "name": found[1]} if found else None


def majority_ties(counts: dict[Any, int]) -> tuple[Any, ...]:
    """Every value held by the most mentions, in ``majority``'s order: one value, or
    several when they tie (shown as such, never settled silently)."""
    if not counts:
        return ()
    top = max(counts.values())
    tied = [k for k, n in counts.items() if n == top]
    tied.sort(key=lambda k: (k is None, str(k)))
    return tuple(tied)


def majority(counts: dict[Any, int]) -> Any:
    """The value held by most mentions (ties: the one that sorts first, None last)."""
    items = [(k, n) for k, n in counts.items()]
    if not items:
        return None
    items.sort(key=lambda kv: (-kv[1], kv[0] is None, str(kv[0])))
    return items[0][0]


def count_of(values: Iterable[Any]) -> dict[Any, int]:
    return dict(Counter(values).most_common())
