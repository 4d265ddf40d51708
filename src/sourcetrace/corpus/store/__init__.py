"""The corpus store: articles with their analysis, searchable, behind one small interface.

One store (``sql.SqlAlchemyStore``, SQLAlchemy Core) over three kinds of database, which
keep the same contract (tests/test_store_contract.py runs it on each):

    SqliteStore     the embedded default (``./sourcetrace.db``), full text with FTS5
    PostgresStore   ``postgresql://...`` (the ``postgres`` extra: psycopg), tsvector + GIN
    MemoryStore     SQLite in memory, for unit tests and one-off runs

``open_store(db)`` picks one from a path or a URL. The schema is written once
(``schema.py``); what the databases do differently is ``dialects.py``'s. Schema changes
are Alembic revisions (``store/alembic/versions/``), applied at open time; a corpus made
before them is upgraded in place (``migrate.py``).

The Analysis JSON is the record of truth: ``store.get(id).analysis`` gives back
exactly the Analysis that was stored. The attribution, source and search rows
are derived from it when it is added, for search and aggregation.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator, Protocol, runtime_checkable

from ...errors import ConfigError, InputError
from ...model import Analysis

__all__ = [
    "ArticleRecord",
    "ClaimBatch",
    "FailureRecord",
    "Hits",
    "SearchHit",
    "SourceCount",
    "SqlStore",
    "Store",
    "StoredArticle",
    "content_hash",
    "open_store",
    "entity_row_sql",
    "without_notes",
    "DEFAULT_DB",
]

DEFAULT_DB = "sourcetrace.db"
SEARCH_WHAT = ("article", "quote", "source")
GROUPINGS = (None, "outlet", "kind", "identity")


def content_hash(text: str) -> str:
    """The article's identity: sha256 of its text with whitespace runs collapsed."""
    norm = " ".join(text.split())
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ArticleRecord:
    """One analysed article, ready to be stored (built by corpus.make_record)."""

    analysis: Analysis
    input: str
    content_hash: str = ""
    outlet: str | None = None
    url: str | None = None
    canonical_url: str | None = None
    title: str | None = None
    author: str | None = None
    date: str | None = None
    input_kind: str | None = None
    raw: str | None = None
    record_id: str | None = None               # the input record's own id, where it has one
    model: str | None = None                   # the model behind the analysis (revision 0005;
    model_version: str | None = None           # pipeline.model_info)

    def __post_init__(self) -> None:
        if not self.content_hash:
            object.__setattr__(self, "content_hash", content_hash(self.analysis.text))


@dataclass(frozen=True)
class StoredArticle:
    """An article as the store gives it back."""

    id: int
    content_hash: str
    input: str
    analysis: Analysis
    outlet: str | None = None
    url: str | None = None
    canonical_url: str | None = None
    title: str | None = None
    author: str | None = None
    date: str | None = None
    input_kind: str | None = None
    raw: str | None = None
    added_at: str = ""
    record_id: str | None = None
    model: str | None = None
    model_version: str | None = None

    @property
    def text(self) -> str:
        return self.analysis.text

    @property
    def raw_input(self) -> str:
        """The raw input (HTML, record) or, where it was the text itself, the text."""
        return self.raw if self.raw is not None else self.analysis.text

    def summary(self) -> dict[str, Any]:
        """The article's columns without the analysis (for listings and CSV)."""
        return {
            "id": self.id, "content_hash": self.content_hash, "outlet": self.outlet,
            "url": self.url, "canonical_url": self.canonical_url, "title": self.title,
            "author": self.author, "date": self.date, "input": self.input,
            "input_kind": self.input_kind, "added_at": self.added_at,
            "record_id": self.record_id,
            "n_attributions": len(self.analysis.attributions),
            "n_sources": len(self.analysis.sources),
        }


#: the marks a backend's snippet puts around each match (never in stored text: control
#: characters are shown, not kept, by every renderer); ``unmark`` turns them into offsets
MARK_OPEN, MARK_CLOSE = "\x02", "\x03"


def unmark(snippet: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """A marked snippet -> (its text, the (start, end) of each match in that text)."""
    text, spans, start = [], [], None
    n = 0
    for ch in snippet or "":
        if ch == MARK_OPEN:
            start = n
        elif ch == MARK_CLOSE:
            if start is not None and n > start:
                spans.append((start, n))
            start = None
        else:
            text.append(ch)
            n += 1
    return "".join(text), tuple(spans)


@dataclass(frozen=True)
class SearchHit:
    """One match: ``what`` is article, quote (an attribution's content) or source.
    ``snippet`` is plain text, ``highlights`` the (start, end) of each match in it;
    ``speaker`` who said a quote (or the source matched), ``act`` what the quote's
    attribution does (speech, belief, ...)."""

    article_id: int
    what: str
    ref: int | None
    snippet: str
    title: str | None = None
    outlet: str | None = None
    date: str | None = None
    url: str | None = None
    speaker: str | None = None
    act: str | None = None
    highlights: tuple[tuple[int, int], ...] = ()

    @classmethod
    def marked(cls, article_id: int, what: str, ref: int | None, snippet: str, *rest: Any,
               **kw: Any) -> "SearchHit":
        text, spans = unmark(snippet)
        return cls(article_id, what, ref, text, *rest, highlights=spans, **kw)

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["highlights"] = [list(h) for h in self.highlights]
        return d


class Hits(list):
    """A page of search hits; ``total``: how many match in all (every page)."""

    total: int = 0


def hit_columns(mark: str = "?", act: str = "t.act") -> str:
    """SQL columns of a search hit's speaker and act (search_index ``s``); ``act``: the
    act column, or NULL for a store read before migration 0006 (``act_column``)."""
    return ("CASE WHEN s.what = 'source' THEN (SELECT so.name FROM sources so WHERE "
            "so.article_id = s.article_id AND so.idx = s.ref) WHEN s.what = 'quote' THEN "
            "(SELECT coalesce(so.name, t.speaker) FROM attributions t LEFT JOIN sources so ON "
            "so.article_id = t.article_id AND so.idx = t.source_id WHERE t.article_id = "
            "s.article_id AND t.idx = s.ref) END, CASE WHEN s.what = 'quote' THEN (SELECT "
            f"{act} FROM attributions t WHERE t.article_id = s.article_id AND t.idx = s.ref) END")


def act_column(read: Any, backend: str = "sqlite") -> str:
    """``t.act``, or ``NULL`` (every attribution untyped: counted as speech) for a store
    opened read-only before migration 0006 added the column; ``read(sql)`` runs a query."""
    sql = ("SELECT 1 FROM pragma_table_info('attributions') WHERE name = 'act'"
           if backend == "sqlite" else
           "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
           "AND table_name = 'attributions' AND column_name = 'act'")
    return "t.act" if read(sql) else "NULL"


def selection_where(selection: Any, mark: str = "?", act: str = "t.act") -> tuple[str | None, list[Any]]:
    """The search condition keeping only the quotes whose attribution ``selection`` counts."""
    if selection is None or selection.everything:
        return None, []
    cond, args = selection.sql(act, "t.confidence", mark)
    return (f"(s.what <> 'quote' OR EXISTS (SELECT 1 FROM attributions t WHERE "
            f"t.article_id = s.article_id AND t.idx = s.ref AND {cond}))"), args


@dataclass(frozen=True)
class SourceCount:
    """A source entity aggregated over the corpus (sources.entities: "Donald Trump" =
    "Trump" = "President Trump"), within a group. ``identity`` and ``kind`` are those of
    the majority of its mentions (a gazetteer's kind wins), with the counts beside them;
    ``referred_as`` counts she / he / they / not said over its articles."""

    name: str
    articles: int
    attributions: int
    group: str | None = None
    identity: str | None = None
    kind: str | None = None
    entity_id: int | None = None
    aliases: tuple[str, ...] = ()
    identity_counts: dict[str, int] = field(default_factory=dict)
    kind_counts: dict[str, int] = field(default_factory=dict)
    referred_as: dict[str, int] = field(default_factory=dict)
    outlets: dict[str, int] = field(default_factory=dict)
    role: str | None = None
    external_id: str | None = None
    identity_tied: tuple[str, ...] = ()      # the values tied with identity / kind, where
    kind_tied: tuple[str, ...] = ()          # several hold the most mentions

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["aliases"] = list(self.aliases)
        d["identity_tied"] = list(self.identity_tied)
        d["kind_tied"] = list(self.kind_tied)
        return d


@dataclass(frozen=True)
class FailureRecord:
    """An input that could not be collected or analysed, and why."""

    input: str
    reason: str
    code: str
    attempts: int = 1
    first_seen: str = ""
    last_seen: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ClaimBatch:
    """The claims of one article as the store keeps them (migration 0003): written at
    ingest time by crossoutlet.corroboration, read back by every command and server.

    ``claims``: (claim id, the Claim as JSON, its embedding as float16 bytes);
    ``matches``: (claim id, other claim id, the MatchEvidence as JSON) found when the
    article arrived; ``copies``: the ids of earlier articles it copies (syndication);
    ``seq``: the store's order of batches (0 before it is stored).
    """

    article_id: int
    signature: bytes
    size: int
    outlet: str | None = None
    site_name: str | None = None
    claims: tuple[tuple[str, str, bytes], ...] = ()
    matches: tuple[tuple[str, str, str], ...] = ()
    seq: int = 0
    copies: tuple[int, ...] = ()


@runtime_checkable
class Store(Protocol):
    """What every backend does. Writes are atomic per call; ids are positive ints.
    A store is a context manager: ``with open_store(db) as store:`` closes it."""

    backend: str  # "sqlite" | "postgres" | "memory"

    def add(self, record: ArticleRecord) -> int | None:
        """Store one article; its id, or None when its content hash is already stored."""

    def add_many(self, records: Iterable[ArticleRecord]) -> list[int | None]:
        """Store several articles in one transaction (all or none)."""

    def replace_analysis(self, article_id: int, analysis: Analysis, *, model: str | None,
                         model_version: str | None) -> bool:
        """Replace a stored article's analysis, the rows derived from it and its model
        in one transaction (``sourcetrace reanalyze``); False when there is no such
        article. The text, columns and claims stay as they are."""

    def known_hashes(self, hashes: Iterable[str]) -> set[str]:
        """The subset of ``hashes`` already stored."""

    def known_inputs(self, inputs: Iterable[str]) -> set[str]:
        """The subset of ``inputs`` that gave a stored article."""

    def get(self, article_id: int) -> StoredArticle | None: ...

    def iter_articles(self) -> Iterator[StoredArticle]:
        """Every article in id order (streamed)."""

    def count(self) -> int: ...

    def page_articles(self, *, outlet: str | None = None, offset: int = 0,
                      limit: int = 50) -> tuple[int, list[StoredArticle]]:
        """One page of articles in id order (only ``outlet``'s when given) and how many
        there are in all; read with LIMIT/OFFSET, never the whole corpus."""

    def search(self, query: str, *, outlet: str | None = None, since: str | None = None,
               until: str | None = None, identity: str | None = None, kind: str | None = None,
               what: str | None = None, limit: int = 50, offset: int = 0,
               selection: Any = None) -> list[SearchHit]:
        """Full text over articles, quotes and sources (all words and "phrases" must match):
        the hits ``offset`` to ``offset + limit`` (a ``Hits`` list: ``.total`` counts them
        all); quotes only of the attributions ``selection`` counts (None: all)."""

    def top_sources(self, *, by: str | None = None, outlet: str | None = None,
                    kind: str | None = None, identity: str | None = None,
                    limit: int = 20, offset: int = 0,
                    selection: Any = None) -> list[SourceCount]:
        """Source entities by number of articles (then attributions), overall or ``limit``
        per group (from ``offset``), counting the attributions of ``selection``
        (corpus.counted.Selection; None: every attribution); a source none of whose
        attributions is counted is left out. Identity as corpus tables count it
        (sources.entities.corpus_identity)."""

    def record_failure(self, input: str, reason: str, code: str = "error") -> None:
        """Record (or update) why ``input`` failed."""

    def clear_failure(self, input: str) -> None:
        """Forget a failure (the input has since succeeded)."""

    def failures(self) -> list[FailureRecord]: ...

    def migrations(self) -> list[int]:
        """The schema versions applied, in order."""

    def add_claim_batch(self, article_id: int, signature: bytes, size: int, *,
                        outlet: str | None = None, site_name: str | None = None,
                        claims: Iterable[tuple[str, str, bytes]] = (),
                        matches: Iterable[tuple[str, str, str]] = (),
                        copies: Iterable[int] = (), after: int | None = None) -> int | None:
        """Store one article's claims, vectors and matches (see ClaimBatch) in one
        transaction; the batch's seq, or None when that article's claims are stored.
        ``after``: the last batch the writer read; when a later one exists (another
        writer's, which these matches do not cover) nothing is stored and
        ClaimsChangedError is raised. Claim writers take turns: batches are numbered in
        the order they are committed."""

    def articles_without_claims(self) -> list[int]:
        """The ids of stored articles that have no claim batch yet (in id order): their
        claims are pending, completed by the next writer (or reader) of the claims."""

    def claim_batches(self, after: int = 0) -> list[ClaimBatch]:
        """The claim batches with seq > ``after``, in seq order."""

    def add_factchecks(self, rows: Iterable[tuple[str, str, bytes]]) -> int:
        """Store fact-checks (id, the FactCheck as JSON, the float16 embedding of its
        claim) in one transaction, replacing those with the same id; how many."""

    def factchecks(self) -> list[tuple[str, str, bytes]]:
        """Every stored fact-check as (id, JSON, vector), in id order."""

    def close(self) -> None: ...

    def __enter__(self) -> "Store": ...

    def __exit__(self, *exc: Any) -> None:
        """Close the store."""


@runtime_checkable
class SqlStore(Store, Protocol):
    """A store with SQL over the documented views (SQLite and PostgreSQL): the report."""

    def read_sql(self, sql: str, args: Any = ()) -> list[tuple]:
        """Rows of one read-only query with ``?`` parameters."""

    def has_table(self, name: str) -> bool:
        """Whether a table or view of this name exists."""


# -- helpers shared by the backends ------------------------------------------------

def parse_query(query: str) -> list[tuple[str, ...]]:
    """Split a query into terms: a "quoted phrase" is one term, other words one each.

    Every term must match. Only word characters count; an empty query is an error.
    """
    terms: list[tuple[str, ...]] = []
    for phrase, word in re.findall(r'"([^"]*)"|(\S+)', query or ""):
        tokens = tuple(t.lower() for t in re.findall(r"\w+", phrase or word))
        if tokens:
            terms.append(tokens)
    if not terms:
        raise InputError("the search query has no words",
                         hint='give words or a "quoted phrase", e.g. sourcetrace search "refused orders"')
    return terms


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FILTER_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2})(T.+)?)?)?")


def check_filters(what: str | None, by: str | None = None, *,
                  texts: dict[str, str | None] | None = None,
                  dates: dict[str, str | None] | None = None) -> None:
    """ConfigError for a search target or grouping we do not have, a text filter
    (``texts``: name -> value) holding a control character (NUL and the other C0
    controls but tab and line breaks, DEL: no outlet or search has one, and
    PostgreSQL refuses NUL), or a date filter (``dates``) that is not a real date:
    YYYY, YYYY-MM, YYYY-MM-DD, or YYYY-MM-DDTHH:MM[:SS][zone]. The same on every
    backend, before any query runs."""
    for name, value in (texts or {}).items():
        bad = _CONTROL.search(value) if isinstance(value, str) else None
        if bad:
            raise ConfigError(f"the {name} filter holds a control character "
                              f"(U+{ord(bad.group()):04X})", hint="remove it from the value")
    for name, value in (dates or {}).items():
        if value is None or value == "":
            continue
        m = _FILTER_DATE.fullmatch(str(value))
        try:
            if m is None:
                raise ValueError
            y, mo, d, t = m.groups()
            if t:
                datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            else:
                datetime(int(y), int(mo or 1), int(d or 1))
        except ValueError:
            raise ConfigError(f"{name} {str(value)[:40]!r} is not a date",
                              hint="give YYYY-MM-DD (or YYYY-MM, YYYY)") from None
    if what is not None and what not in SEARCH_WHAT:
        raise ConfigError(f"unknown search target {what!r}", hint=f"use one of {', '.join(SEARCH_WHAT)}")
    if by not in GROUPINGS:
        raise ConfigError(f"cannot group sources by {by!r}",
                          hint="use outlet, kind or identity (or nothing for overall)")


def attribution_rows(analysis: Analysis) -> list[dict[str, Any]]:
    rows = []
    for i, a in enumerate(analysis.attributions):
        rows.append({
            "idx": i, "kind": a.kind, "rule": a.rule, "confidence": a.confidence,
            "parent": a.parent, "speaker": a.speaker, "source_id": a.source_id,
            "source_text": analysis.span_text(a.source), "cue_text": analysis.span_text(a.cue),
            "content_text": analysis.span_text(a.content), "spans": json.dumps(a.offsets()),
            "act": a.act,
        })
    return rows


def source_rows(analysis: Analysis) -> list[dict[str, Any]]:
    return [{
        "idx": s.id, "name": s.name, "identity": s.identity, "kind": s.kind, "role": s.role,
        "channel": s.channel, "hearsay_depth": s.hearsay_depth,
        "n_attributions": len(s.attributions), "n_mentions": len(s.mentions),
        "referred_as": s.referred_as,
    } for s in analysis.sources]


# -- source entities (migration 0002) -------------------------------------------------

ENTITY_COLUMNS = ("id", "key", "name", "surname", "person", "kind", "role", "external_id", "articles")


def entity_row_sql(selection: Any = None, mark: str = "?", act: str = "t.act") -> tuple[str, list[Any]]:
    """The source rows of ``aggregate_entities`` (with the entity key) and their
    parameters: each source's attributions counted under ``selection`` (None: all)."""
    if selection is None:
        count, args = "s.n_attributions", []
    else:
        cond, args = selection.sql(act, "t.confidence", mark)
        count = ("(SELECT count(*) FROM attributions t WHERE t.article_id = s.article_id "
                 f"AND t.source_id = s.idx AND {cond})")
    return ("SELECT a.outlet, s.article_id, s.entity_id, s.name, s.identity, s.kind, "
            f"{count}, s.referred_as, e.key, s.idx FROM sources s JOIN articles a ON "
            "a.id = s.article_id LEFT JOIN entities e ON e.id = s.entity_id "
            "WHERE s.entity_id IS NOT NULL"), args


def without_notes(rows: list[tuple], notes: dict[tuple[int, int], int]) -> list[tuple]:
    """Entity rows (``entity_row_sql``) less their attributions in editor's notes,
    captions and credits (``corpus.counted.notes_left_out``); a source that speaks only
    there is no source."""
    if not notes:
        return rows
    out = []
    for r in rows:
        gone = notes.get((int(r[1]), int(r[9]))) if len(r) > 9 else None
        if gone:
            n = (r[6] or 0) - gone
            if n <= 0:
                continue
            r = (*r[:6], n, *r[7:])
        out.append(r)
    return out


def link_entities(run, cache: dict[str, Any], article_id: int, analysis: Analysis,
                  outlet: str | None, gazetteer=None, byline: str | None = None) -> None:
    """Link an article's sources to the corpus's entities and write the changes.

    ``run(sql, args)`` executes one statement with ``?`` parameters in the caller's
    transaction and returns its rows; ``cache`` keeps the store's ``EntityIndex`` between
    calls (reloaded when another writer changed the entities table)."""
    from ...sources.entities import Entity, EntityIndex

    sig = tuple(run("SELECT count(*), coalesce(max(id), 0) FROM entities", ())[0])
    index = cache.get("index")
    if index is None or cache.get("sig") != sig or cache.get("gazetteer") is not gazetteer:
        index = EntityIndex((Entity(id=r[0], key=r[1], name=r[2], surname=r[3] or "", person=bool(r[4]),
                                    kind=r[5], role=r[6], external_id=r[7], articles=r[8] or 0)
                             for r in run(f"SELECT {', '.join(ENTITY_COLUMNS)} FROM entities", ())),
                            gazetteer=gazetteer)
    links = index.link(analysis.sources, outlet=outlet, byline=byline, article=article_id)
    new, merged, updated = index.drain()
    for e in new:
        run(f"INSERT INTO entities ({', '.join(ENTITY_COLUMNS)}) VALUES ({', '.join('?' for _ in ENTITY_COLUMNS)})",
            (e.id, e.key, e.name, e.surname, int(e.person), e.kind, e.role, e.external_id, 0))
    for link in links:
        run("UPDATE sources SET entity_id = ? WHERE article_id = ? AND idx = ?",
            (link.entity_id, article_id, link.source_idx))
    for old, new_id in merged:
        run("UPDATE sources SET entity_id = ? WHERE entity_id = ?", (new_id, old))
        run("DELETE FROM entities WHERE id = ?", (old,))
    for e in updated:
        run("UPDATE entities SET name = ?, kind = ?, role = ?, external_id = ? WHERE id = ?",
            (e.name, e.kind, e.role, e.external_id, e.id))
    moved = dict(merged)
    for eid in {moved.get(link.entity_id, link.entity_id) for link in links} | set(moved.values()):
        n = run("SELECT count(DISTINCT article_id) FROM sources WHERE entity_id = ?", (eid,))[0][0]
        if eid in index.by_id:
            index.by_id[eid].articles = n
        run("UPDATE entities SET articles = ? WHERE id = ?", (n, eid))
    cache.update(index=index, gazetteer=gazetteer,
                 sig=tuple(run("SELECT count(*), coalesce(max(id), 0) FROM entities", ())[0]))


def aggregate_entities(rows: Iterable[tuple], entities: dict[int, tuple], *, by: str | None = None,
                       kind: str | None = None, identity: str | None = None,
                       limit: int = 20, offset: int = 0,
                       counted: bool = False) -> list[SourceCount]:
    """Entity counts from source rows (outlet, article_id, entity_id, name, identity, kind,
    n_attributions, referred_as[, entity key]) and the entities (id -> (name, kind, role,
    external_id)): identity (as the corpus counts it: corpus_identity) and kind by majority
    of mentions with ties kept, ``limit`` per group, most articles first. ``counted``: the
    rows' attribution counts are those of a selection, and a row with none is left out."""
    from ...sources.entities import corpus_identity, majority, majority_ties

    groups: dict[tuple[Any, int], dict[str, Any]] = {}
    for row in rows:
        outlet, article_id, eid, name, ident, knd, n_att, referred = row[:8]
        if counted and not n_att:
            continue
        ident = corpus_identity(name, ident, row[8] if len(row) > 8 else None)
        for grp in ([None] if by is None else [outlet] if by == "outlet" else [None]):
            g = groups.setdefault((grp, eid), {"articles": set(), "att": 0, "aliases": {}, "identity": {},
                                               "kind": {}, "outlets": {}, "referred": {}, "ref_articles": {}})
            g["articles"].add(article_id)
            g["att"] += n_att or 0
            g["aliases"][name] = g["aliases"].get(name, 0) + 1
            g["identity"][ident] = g["identity"].get(ident, 0) + 1
            g["kind"][knd] = g["kind"].get(knd, 0) + 1
            if outlet:
                g["outlets"].setdefault(outlet, set()).add(article_id)
            g["ref_articles"].setdefault(article_id, set()).add(referred)
    out = []
    for (grp, eid), g in groups.items():
        ename, ekind, erole, ext = entities.get(eid, (None, None, None, None))
        ident = majority(g["identity"])
        knd = ekind or majority(g["kind"])
        ident_tied = majority_ties(g["identity"])
        kind_tied = () if ekind else majority_ties(g["kind"])
        if (kind and knd != kind) or (identity and ident != identity):
            continue
        referred: dict[str, int] = {}
        for vals in g["ref_articles"].values():
            said = {v for v in vals if v}
            key = said.pop() if len(said) == 1 else ("not said" if not said else "mixed")
            referred[key] = referred.get(key, 0) + 1
        aliases = tuple(sorted(g["aliases"], key=lambda a: (-g["aliases"][a], a)))
        group = grp if by in (None, "outlet") else (knd if by == "kind" else ident)
        out.append(SourceCount(
            name=ename or aliases[0], articles=len(g["articles"]), attributions=g["att"], group=group,
            identity=ident, kind=knd, entity_id=eid, aliases=aliases,
            identity_counts={str(k): v for k, v in sorted(g["identity"].items(), key=lambda kv: -kv[1])},
            kind_counts={str(k): v for k, v in sorted(g["kind"].items(), key=lambda kv: -kv[1])},
            referred_as=referred,
            outlets={o: len(a) for o, a in sorted(g["outlets"].items(), key=lambda kv: -len(kv[1]))},
            role=erole, external_id=ext,
            identity_tied=tuple(str(x) for x in ident_tied) if len(ident_tied) > 1 else (),
            kind_tied=tuple(str(x) for x in kind_tied) if len(kind_tied) > 1 else ()))
    out.sort(key=lambda r: (r.group is not None, str(r.group or ""), -r.articles, -r.attributions, r.name))
    return group_limit(out, limit, offset)


def index_rows(record: ArticleRecord) -> list[dict[str, Any]]:
    """What full-text search covers: the article (title + text), each quote, each source."""
    a = record.analysis
    title = record.title or a.meta.get("title") or ""
    rows = [{"what": "article", "ref": None, "source_ref": None,
             "body": f"{title}\n{a.text}" if title else a.text}]
    for i, att in enumerate(a.attributions):
        body = a.span_text(att.content)
        if body:
            rows.append({"what": "quote", "ref": i, "source_ref": att.source_id, "body": body})
    for s in a.sources:
        body = " ".join(x for x in (s.name, s.role or "", s.channel or "") if x)
        if body:
            rows.append({"what": "source", "ref": s.id, "source_ref": s.id, "body": body})
    return rows


def group_limit(rows: list[SourceCount], limit: int, offset: int = 0) -> list[SourceCount]:
    """Keep the rows ``offset`` to ``offset + limit`` of each group (rows already sorted
    within groups)."""
    seen: dict[Any, int] = {}
    out = []
    for r in rows:
        n = seen.get(r.group, 0)
        if offset <= n < offset + limit:
            out.append(r)
        seen[r.group] = n + 1
    return out


def claim_batches_from_rows(heads: Iterable[tuple], claims: Iterable[tuple],
                            matches: Iterable[tuple]) -> list[ClaimBatch]:
    """ClaimBatch records from (seq, article_id, signature, size, outlet, site_name,
    copies as JSON), (batch, id, data, vector) and (batch, claim_id, other_id,
    evidence) rows."""
    by_batch: dict[int, tuple[list, list]] = {}
    for batch, *rest in claims:
        by_batch.setdefault(int(batch), ([], []))[0].append((rest[0], rest[1], bytes(rest[2])))
    for batch, *rest in matches:
        by_batch.setdefault(int(batch), ([], []))[1].append(tuple(rest))
    out = []
    for seq, article_id, signature, size, outlet, site_name, copies in heads:
        cs, ms = by_batch.get(int(seq), ([], []))
        out.append(ClaimBatch(int(article_id), bytes(signature), int(size), outlet, site_name,
                              tuple(cs), tuple(ms), int(seq),
                              tuple(int(c) for c in json.loads(copies or "[]"))))
    return out


def open_store(db: str | None = None, *, create: bool = True) -> Store:
    """Open (creating and migrating) the store named by ``db``.

    ``postgresql://...`` or ``postgres://...`` -> PostgresStore; ``:memory:`` ->
    MemoryStore (SQLite in memory); anything else is a SQLite file path (default
    ``sourcetrace.db``).
    ``create=False``: a SQLite file must already be a corpus (an empty file is refused
    and left alone) and is opened read-only when its storage is.
    """
    db = db or DEFAULT_DB
    if db.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresStore

        return PostgresStore(db)
    if db == ":memory:":
        from .memory import MemoryStore

        return MemoryStore()
    from .sqlite import SqliteStore

    return SqliteStore(db, create=create)


def article_fields(record: ArticleRecord) -> dict[str, Any]:
    """The articles-table columns of a record (shared by the SQL backends)."""
    a = record.analysis
    return {
        "content_hash": record.content_hash, "outlet": record.outlet, "url": record.url,
        "canonical_url": record.canonical_url, "title": record.title, "author": record.author,
        "date": record.date, "input": record.input, "input_kind": record.input_kind,
        "raw": record.raw if record.raw != a.text else None, "text": a.text,
        "analysis": a.to_json(), "profile": json.dumps(a.profile) if a.profile is not None else None,
        "n_attributions": len(a.attributions), "n_sources": len(a.sources), "added_at": now_iso(),
        "record_id": record.record_id,
        "model": record.model, "model_version": record.model_version,
    }


#: attribution counts per article in article_figures (migration 0004): by the identity and
#: the kind of their source, and by how they quote
FIGURE_IDENTITIES = ("named", "described", "anonymous", "unspecified")
FIGURE_SOURCE_KINDS = ("person", "official", "organization", "media", "document", "social", "none")
FIGURE_QUOTE_KINDS = ("direct", "indirect", "mixed")
FIGURE_COMPONENTS = ("identity", "sourcing", "directness", "corroboration", "diversity")
#: sources referred to as she, he, they, or people (kind person) the text gives no pronoun
FIGURE_REFERRED = ("she", "he", "they", "not_said")


def figure_row(record: ArticleRecord) -> dict[str, Any]:
    """The article_figures row of an article: its profile's figures as columns and its
    attributions counted by source identity, source kind and quote kind, so that the
    outlet report sums columns over articles instead of reading JSON or joining rows."""
    a = record.analysis
    profile = a.profile if isinstance(a.profile, dict) else {}
    t = profile.get("transparency") or {}
    comps = {c.get("name"): c.get("value") for c in t.get("components") or ()}
    hearsay = profile.get("hearsay") or {}
    row: dict[str, Any] = {
        "n_attributions": len(a.attributions), "n_sources": len(a.sources),
        "transparency": t.get("score"),
        **{f"{c}_component": comps.get(c) for c in FIGURE_COMPONENTS},
        "checkworthy_unattributed": ((profile.get("assertions") or {}).get("by_label") or {})
        .get("checkworthy"),
        "top_level_attributions": (profile.get("attributions") or {}).get("top_level"),
        "longest_chain": hearsay.get("longest_chain"),
        "hearsay_chain": (json.dumps(hearsay["chain"], separators=(",", ":"))
                          if isinstance(hearsay.get("chain"), list) else None),
        "single_source_claims": (profile.get("single_source_claims") or {}).get("count"),
    }
    sources = {s.id: s for s in a.sources}
    counts: dict[str, int] = {}
    for att in a.attributions:
        s = sources.get(att.source_id) if att.source_id is not None else None
        for key in (f"att_{(s.identity if s and s.identity else 'unspecified')}",
                    f"att_{(s.kind if s and s.kind else 'none')}", f"att_{att.kind}"):
            counts[key] = counts.get(key, 0) + 1
    for value in (*FIGURE_IDENTITIES, *FIGURE_SOURCE_KINDS, *FIGURE_QUOTE_KINDS):
        row[f"att_{value}"] = counts.get(f"att_{value}", 0)
    for value in FIGURE_REFERRED:   # people among the sources, by how the text refers to them
        row[f"src_{value}"] = 0
    for s in a.sources:
        referred = getattr(s, "referred_as", None)
        if referred in ("she", "he", "they"):
            row[f"src_{referred}"] += 1
        elif s.kind == "person":
            row["src_not_said"] += 1
    return row


ARTICLE_COLUMNS = ("id", "content_hash", "outlet", "url", "canonical_url", "title", "author",
                   "date", "input", "input_kind", "raw", "analysis", "added_at", "record_id",
                   "model", "model_version")


def article_from_row(row: Iterable[Any]) -> StoredArticle:
    d = dict(zip(ARTICLE_COLUMNS, row))
    d["analysis"] = Analysis.from_json(d["analysis"])
    return StoredArticle(**d)
