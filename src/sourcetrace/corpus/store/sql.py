"""The store, once, over SQLAlchemy Core: SQLite (a file, or memory) and PostgreSQL.

``SqlAlchemyStore`` keeps one connection for its life and runs every call in a
transaction of its own: a read sees one state of the corpus and holds nothing after; a
write (``add_many``, ``add_claim_batch``, ...) is atomic, so a killed ingest leaves whole
articles only. What SQLite and PostgreSQL do differently (how a writer takes its locks,
upserts, full text, dates, error wording) is the ``dialects.Dialect``'s. The backends in
``sqlite.py``, ``postgres.py`` and ``memory.py`` only make the engine.

One store may be shared by threads (the server's memory and PostgreSQL stores): each call
holds the connection alone.
"""
from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from typing import Any, Iterable, Iterator

from sqlalchemy import bindparam, create_engine, event, func, inspect, select, update
from sqlalchemy.pool import StaticPool
from sqlalchemy.exc import SQLAlchemyError

from ...errors import ClaimsChangedError, StoreError
from ...model import Analysis
from ..counted import notes_left_out
from . import (
    ARTICLE_COLUMNS,
    ArticleRecord,
    ClaimBatch,
    FailureRecord,
    Hits,
    SearchHit,
    SourceCount,
    StoredArticle,
    aggregate_entities,
    article_fields,
    article_from_row,
    attribution_rows,
    check_filters,
    claim_batches_from_rows,
    entity_row_sql,
    figure_row,
    hit_columns,
    index_rows,
    link_entities,
    now_iso,
    parse_query,
    selection_where,
    source_rows,
    without_notes,
)
from . import migrate
from .dialects import Dialect, dialect_of
from .schema import (
    article_figures,
    articles,
    attributions,
    claim_batches,
    claim_matches,
    claims as claim_table,
    entities,
    factchecks,
    failures,
    search_index,
    sources,
)

__all__ = ["SqlAlchemyStore", "link_all", "one_connection_engine"]

_CHUNK = 500  # values per IN (...) list
_ACT = "t.act"
_DERIVED = (attributions, sources, article_figures, search_index)


def one_connection_engine(url: str, connection: Any) -> Any:
    """An engine over one DBAPI connection made (and checked) by the backend: the
    store's for its life."""
    return create_engine(url, creator=lambda: connection, poolclass=StaticPool)


def _run(conn: Any, dialect: Dialect):
    """``run(sql, args)``: one statement with ``?`` parameters in ``conn``'s transaction;
    its rows (none for a write). Straight on the driver's cursor: entity linking runs
    dozens of these per article."""
    cur = conn.connection.dbapi_connection.cursor()

    def run(sql: str, args: Any = ()) -> list[tuple]:
        cur.execute(dialect.marks(sql), tuple(args))
        return [tuple(r) for r in cur.fetchall()] if cur.description is not None else []
    return run


def link_article(conn: Any, cache: dict[str, Any], article_id: int, analysis: Analysis,
                 gazetteer: Any = None) -> None:
    """Link one stored article's sources to the corpus's entities (one writer links at
    a time)."""
    dialect = dialect_of(conn)
    dialect.lock(conn, "entities")
    row = conn.execute(select(articles.c.outlet, articles.c.author)
                       .where(articles.c.id == article_id)).first()
    link_entities(_run(conn, dialect), cache, article_id, analysis, row[0] if row else None,
                  gazetteer, byline=row[1] if row else None)


def link_all(conn: Any, cache: dict[str, Any], gazetteer: Any = None) -> int:
    """Link every stored source to the entities anew; the number of articles."""
    dialect_of(conn).lock(conn, "entities", exclusive=True)
    conn.execute(update(sources).values(entity_id=None))
    conn.execute(entities.delete())
    cache.clear()
    ids = [r[0] for r in conn.execute(select(articles.c.id).order_by(articles.c.id))]
    for article_id in ids:
        data = conn.execute(select(articles.c.analysis).where(articles.c.id == article_id)).scalar()
        link_article(conn, cache, article_id, Analysis.from_json(data), gazetteer)
    return len(ids)


class SqlAlchemyStore:
    """The Store (and SqlStore) contract over one SQLAlchemy engine; ``where`` names the
    corpus in messages. ``readonly``: nothing is written (the schema must be current)."""

    backend = "sql"
    #: driver errors raised as they are (not wrapped by SQLAlchemy), e.g. sqlite3.Error
    driver_errors: tuple[type[BaseException], ...] = ()

    def __init__(self, engine: Any, *, where: str, readonly: bool = False) -> None:
        self.engine = engine
        self.dialect = dialect_of(engine)
        self.where = where
        self.readonly = readonly
        self._lock = threading.RLock()
        self._open = False     # a transaction of ours is open on the connection
        self._statements: dict[tuple[str, str], Any] = {}
        self._entity_cache: dict[str, Any] = {}
        event.listen(engine, "begin", self._on_begin)
        try:
            self.conn = engine.connect()
            if readonly:
                self._check_current()
            else:
                self._migrate()
        except BaseException:
            self.close()
            raise

    def _on_begin(self, conn: Any) -> None:
        self.dialect.begin(conn, bool(conn.info.get("write")))

    # -- transactions -------------------------------------------------------------------
    @contextmanager
    def transaction(self, *, write: bool = False, doing: str = "read") -> Iterator[Any]:
        """The connection in a transaction of its own, committed at the end (rolled back
        on an error, which is a StoreError naming ``doing``)."""
        with self._lock:
            conn = self.conn
            if self._open:               # called from within one of ours: part of it
                yield conn
                return
            if conn.in_transaction():    # a statement run outside one: end it first
                conn.rollback()
            conn.info["write"] = write
            self._open = True
            try:
                with conn.begin():
                    yield conn
            except (SQLAlchemyError, *self.driver_errors) as exc:
                raise StoreError(f"could not {doing} {self.where}: {self.dialect.why(exc)}",
                                 hint=self._hint(write)) from exc
            finally:
                self._open = False

    def _hint(self, write: bool) -> str | None:
        return "a read-only corpus is read as it is: work on a copy" if write and \
            self.readonly else None

    def _rows(self, stmt: Any, *, doing: str = "read") -> list[tuple]:
        with self.transaction(doing=doing) as conn:
            return [tuple(r) for r in conn.execute(stmt)]

    def read_sql(self, sql: str, args: Any = ()) -> list[tuple]:
        """Rows of one read-only query with ``?`` parameters (the report's aggregations)."""
        with self.transaction(doing="query") as conn:
            return _run(conn, self.dialect)(sql, args)

    def has_table(self, name: str) -> bool:
        """Whether a table or view of this name exists."""
        with self.transaction() as conn:
            return inspect(conn).has_table(name)

    # -- schema ---------------------------------------------------------------------------
    def _migrate(self) -> None:
        with self.transaction() as conn:
            if migrate.up_to_date(conn):
                return
        with self.transaction(write=True, doing="prepare the schema of") as conn:
            self.dialect.migration_lock(conn)
            if migrate.up_to_date(conn):   # another process migrated it while we waited
                return
            if not migrate.is_corpus(conn) and migrate.foreign_tables(conn):
                raise StoreError(f"cannot open {self.where}: it holds tables but no "
                                 "sourcetrace corpus",
                                 hint="give a new file name or an existing sourcetrace corpus")
            migrate.upgrade(conn)

    def _check_current(self) -> None:
        """A read-only corpus is read as it is: it must be a sourcetrace corpus whose
        schema is up to date (no revision can be applied to it)."""
        with self.transaction(doing="read the schema of") as conn:
            if not migrate.is_corpus(conn):
                raise StoreError(f"cannot open {self.where}: a database but not a sourcetrace "
                                 "corpus", hint="check --db (or $SOURCETRACE_DB)")
            rev = migrate.current(conn)
        if rev != migrate.head():
            raise StoreError(f"{self.where} is read-only and its schema is older than this "
                             f"version's (revision {rev} of {migrate.head()})",
                             hint="copy it to writable storage and run any command once")

    def migrations(self) -> list[int]:
        """The schema revisions applied, in order (0001 ... as numbers)."""
        with self.transaction() as conn:
            return migrate.applied(conn)

    # -- writes -----------------------------------------------------------------------------
    def add(self, record: ArticleRecord) -> int | None:
        return self.add_many([record])[0]

    def add_many(self, records: Iterable[ArticleRecord]) -> list[int | None]:
        records = list(records)
        if not records:
            return []
        with self.transaction(write=True, doing="store articles in"):
            return [self._insert(r) for r in records]

    def _insert(self, record: ArticleRecord) -> int | None:
        article_id = self.conn.execute(self._once("add", articles, "content_hash"),
                                       article_fields(record)).scalar()
        if article_id is None:
            return None
        self._derived(article_id, record)
        self.conn.execute(failures.delete().where(failures.c.input == record.input))
        return article_id

    _later = select(claim_batches.c.seq).where(claim_batches.c.seq > bindparam("after")).limit(1)

    def _once(self, what: str, tbl: Any, key: str) -> Any:
        """INSERT of a row into ``tbl`` unless ``key`` is taken, RETURNING the new row's
        primary key (built once per store: the hot path of an ingest)."""
        stmt = self._statements.get((what, tbl.name))
        if stmt is None:
            stmt = self._statements[(what, tbl.name)] = (
                self.dialect.insert(tbl).on_conflict_do_nothing(index_elements=[key])
                .returning(*tbl.primary_key.columns))
        return stmt

    def _derived(self, article_id: int, record: ArticleRecord) -> None:
        """The rows derived from an article's analysis: attributions, sources, figures
        and the search index."""
        conn, a = self.conn, record.analysis
        atts = attribution_rows(a)
        if atts:
            conn.execute(attributions.insert(), [{"article_id": article_id, **r} for r in atts])
        srcs = source_rows(a)
        if srcs:
            conn.execute(self.dialect.insert(sources).on_conflict_do_nothing(),
                         [{"article_id": article_id, **r} for r in srcs])
        self._link_entities(article_id, a)
        conn.execute(article_figures.insert(), {"article_id": article_id, **figure_row(record)})
        conn.execute(search_index.insert(), [{"article_id": article_id, "body": r["body"],
                                              "what": r["what"], "ref": r["ref"],
                                              "source_ref": r["source_ref"]}
                                             for r in index_rows(record)])

    def _link_entities(self, article_id: int, analysis: Analysis) -> None:
        link_article(self.conn, self._entity_cache, article_id, analysis,
                     getattr(self, "gazetteer", None))

    def replace_analysis(self, article_id: int, analysis: Analysis, *, model: str | None,
                         model_version: str | None) -> bool:
        with self.transaction(write=True, doing=f"replace the analysis of article "
                                                f"{article_id} in") as conn:
            title = conn.execute(select(articles.c.title).where(articles.c.id == article_id)
                                 .with_for_update()).first()
            if title is None:
                return False
            conn.execute(update(articles).where(articles.c.id == article_id).values(
                analysis=analysis.to_json(), n_attributions=len(analysis.attributions),
                profile=json.dumps(analysis.profile) if analysis.profile is not None else None,
                n_sources=len(analysis.sources), model=model, model_version=model_version))
            for tbl in _DERIVED:
                conn.execute(tbl.delete().where(tbl.c.article_id == article_id))
            self._derived(article_id, ArticleRecord(analysis=analysis, input="", title=title[0]))
        return True

    def relink_entities(self) -> int:
        """Link every stored source to the entities again (after a gazetteer or rule
        change); the number of articles relinked."""
        try:
            with self.transaction(write=True, doing="relink the sources of") as conn:
                return link_all(conn, self._entity_cache, getattr(self, "gazetteer", None))
        except StoreError:
            self._entity_cache.clear()
            raise

    def add_claim_batch(self, article_id: int, signature: bytes, size: int, *,
                        outlet: str | None = None, site_name: str | None = None,
                        claims: Iterable[tuple[str, str, bytes]] = (),
                        matches: Iterable[tuple[str, str, str]] = (),
                        copies: Iterable[int] = (), after: int | None = None) -> int | None:
        batch = ClaimBatch(article_id, bytes(signature), size, outlet, site_name,
                           tuple(claims), tuple(matches), copies=tuple(int(c) for c in copies))
        with self.transaction(write=True, doing=f"store the claims of article "
                                                f"{batch.article_id} in") as conn:
            # one claims writer at a time: batches are numbered and committed in the same
            # order, and none is written past one unseen
            self.dialect.lock(conn, "claim_batches")
            if after is not None and conn.execute(self._later, {"after": after}).first():
                raise ClaimsChangedError(f"claims were stored after batch {after}",
                                         hint="read them and match against them too")
            seq = conn.execute(self._once("add", claim_batches, "article_id"), {
                "article_id": batch.article_id, "signature": batch.signature, "size": batch.size,
                "outlet": batch.outlet, "site_name": batch.site_name,
                "copies": json.dumps(batch.copies)}).scalar()
            if seq is None:
                return None
            if batch.claims:
                conn.execute(self.dialect.replace(claim_table, ["id"]), [
                    {"id": cid, "pos": i, "batch": seq, "data": data, "vector": vec}
                    for i, (cid, data, vec) in enumerate(batch.claims)])
            if batch.matches:
                conn.execute(self.dialect.replace(claim_matches, ["claim_id", "other_id"]), [
                    {"claim_id": a, "other_id": b, "batch": seq, "evidence": ev}
                    for a, b, ev in batch.matches])
        return int(seq)

    def add_factchecks(self, rows: Iterable[tuple[str, str, bytes]]) -> int:
        rows = [{"id": i, "data": d, "vector": bytes(v)} for i, d, v in rows]
        with self.transaction(write=True, doing="store fact-checks in") as conn:
            if rows:
                conn.execute(self.dialect.replace(factchecks, ["id"]), rows)
        return len(rows)

    def record_failure(self, input: str, reason: str, code: str = "error") -> None:
        now = now_iso()
        stmt = self.dialect.insert(failures).values(input=input, reason=reason, code=code,
                                                    attempts=1, first_seen=now, last_seen=now)
        stmt = stmt.on_conflict_do_update(index_elements=["input"], set_={
            "reason": stmt.excluded.reason, "code": stmt.excluded.code,
            "attempts": failures.c.attempts + 1, "last_seen": stmt.excluded.last_seen})
        with self.transaction(write=True, doing="record a failure in") as conn:
            conn.execute(stmt)

    def clear_failure(self, input: str) -> None:
        with self.transaction(write=True, doing="clear a failure in") as conn:
            conn.execute(failures.delete().where(failures.c.input == input))

    # -- reads --------------------------------------------------------------------------------
    def _subset(self, column: str, values: Iterable[str]) -> set[str]:
        values = list(dict.fromkeys(values))
        found: set[str] = set()
        with self.transaction() as conn:
            for i in range(0, len(values), _CHUNK):
                c = articles.c[column]
                found.update(r[0] for r in conn.execute(
                    select(c).where(c.in_(values[i:i + _CHUNK]))))
        return found

    def known_hashes(self, hashes: Iterable[str]) -> set[str]:
        return self._subset("content_hash", hashes)

    def known_inputs(self, inputs: Iterable[str]) -> set[str]:
        return self._subset("input", inputs)

    @staticmethod
    def _articles() -> Any:
        return select(*(articles.c[c] for c in ARTICLE_COLUMNS))

    def get(self, article_id: int) -> StoredArticle | None:
        rows = self._rows(self._articles().where(articles.c.id == int(article_id)))
        return article_from_row(rows[0]) if rows else None

    def iter_articles(self) -> Iterator[StoredArticle]:
        last = 0
        while True:  # keyset pages: no transaction held across yields
            rows = self._rows(self._articles().where(articles.c.id > last)
                              .order_by(articles.c.id).limit(200))
            if not rows:
                return
            for row in rows:
                yield article_from_row(row)
            last = rows[-1][0]

    def count(self) -> int:
        return self._rows(select(func.count()).select_from(articles))[0][0]

    def page_articles(self, *, outlet: str | None = None, offset: int = 0,
                      limit: int = 50) -> tuple[int, list[StoredArticle]]:
        cond = [articles.c.outlet == outlet] if outlet else []
        with self.transaction() as conn:
            total = conn.execute(select(func.count()).select_from(articles).where(*cond)).scalar()
            rows = conn.execute(self._articles().where(*cond).order_by(articles.c.id)
                                .limit(max(0, limit)).offset(max(0, offset))).all()
        return int(total), [article_from_row(r) for r in rows]

    def search(self, query: str, *, outlet: str | None = None, since: str | None = None,
               until: str | None = None, identity: str | None = None, kind: str | None = None,
               what: str | None = None, limit: int = 50, offset: int = 0,
               selection: Any = None) -> list[SearchHit]:
        check_filters(what, texts={"query": query, "outlet": outlet, "identity": identity,
                                   "kind": kind}, dates={"since": since, "until": until})
        q = self.dialect.search_sql(parse_query(query))
        where, args = [q.where], list(q.args)
        if what:
            where.append("s.what = ?")
            args.append(what)
        for col, op, val in (("outlet", "=", outlet), ("date", ">=", since), ("date", "<=", until)):
            if val:
                where.append(f"a.{col} {op} ?")
                args.append(val)
        for col, val in (("identity", identity), ("kind", kind)):
            if val:
                where.append(
                    f"((s.source_ref IS NOT NULL AND EXISTS (SELECT 1 FROM sources so WHERE "
                    f"so.article_id = s.article_id AND so.idx = s.source_ref AND so.{col} = ?)) OR "
                    f"(s.what = 'article' AND EXISTS (SELECT 1 FROM sources so WHERE "
                    f"so.article_id = s.article_id AND so.{col} = ?)))")
                args += [val, val]
        cond, cargs = selection_where(selection, "?", _ACT)
        if cond:
            where.append(cond)
            args += cargs
        body = (f"FROM search_index s JOIN articles a ON a.id = s.article_id {q.join} "
                f"WHERE {' AND '.join(where)}")
        with self.transaction(doing="search") as conn:
            run = _run(conn, self.dialect)
            rows = run(f"{q.with_}SELECT s.article_id, s.what, s.ref, {q.snippet}, a.title, "
                       f"a.outlet, a.date, a.url, {hit_columns('?', _ACT)} {body} "
                       f"ORDER BY {q.order}, s.article_id LIMIT ? OFFSET ?",
                       [*args, int(limit), max(0, int(offset))])
            total = run(f"{q.with_}SELECT count(*) {body}", args)[0][0]
        hits = Hits(SearchHit.marked(int(r[0]), r[1], None if r[2] is None else int(r[2]), r[3],
                                     *r[4:8], speaker=r[8], act=r[9]) for r in rows)
        hits.total = int(total)
        return hits

    def top_sources(self, *, by: str | None = None, outlet: str | None = None,
                    kind: str | None = None, identity: str | None = None,
                    limit: int = 20, offset: int = 0, selection: Any = None) -> list[SourceCount]:
        check_filters(None, by, texts={"outlet": outlet, "kind": kind, "identity": identity})
        sql, args = entity_row_sql(selection, "?", _ACT)
        if outlet:
            sql += " AND a.outlet = ?"
            args.append(outlet)
        rows = without_notes(self.read_sql(sql, args),
                             notes_left_out(self.read_sql, selection, _ACT))
        known = {r[0]: tuple(r[1:]) for r in self._rows(
            select(entities.c.id, entities.c.name, entities.c.kind, entities.c.role,
                   entities.c.external_id))}
        return aggregate_entities(rows, known, by=by, kind=kind, identity=identity, limit=limit,
                                  offset=offset, counted=selection is not None)

    def entity_links(self, article_id: int) -> dict[int, tuple[int, str, str | None]]:
        """Source index -> (entity id, entity name, external id) for one article."""
        return {r[0]: (r[1], r[2], r[3]) for r in self._rows(
            select(sources.c.idx, entities.c.id, entities.c.name, entities.c.external_id)
            .join(entities, entities.c.id == sources.c.entity_id)
            .where(sources.c.article_id == article_id))}

    def articles_without_claims(self) -> list[int]:
        return [int(r[0]) for r in self._rows(
            select(articles.c.id).where(articles.c.id.not_in(select(claim_batches.c.article_id)))
            .order_by(articles.c.id), doing="read the claims of")]

    def claim_batches(self, after: int = 0) -> list[ClaimBatch]:
        c, m, b = claim_table.c, claim_matches.c, claim_batches.c
        with self.transaction(doing="read the claims of") as conn:
            heads = conn.execute(select(b.seq, b.article_id, b.signature, b.size, b.outlet,
                                        b.site_name, b.copies)
                                 .where(b.seq > after).order_by(b.seq)).all()
            found = conn.execute(select(c.batch, c.id, c.data, c.vector).where(c.batch > after)
                                 .order_by(c.batch, c.pos)).all()
            matched = conn.execute(select(m.batch, m.claim_id, m.other_id, m.evidence)
                                   .where(m.batch > after)
                                   .order_by(m.batch, m.claim_id, m.other_id)).all()
        return claim_batches_from_rows(heads, found, matched)

    def factchecks(self) -> list[tuple[str, str, bytes]]:
        f = factchecks.c
        return [(i, d, bytes(v)) for i, d, v in self._rows(
            select(f.id, f.data, f.vector).order_by(f.id))]

    def failures(self) -> list[FailureRecord]:
        f = failures.c
        return [FailureRecord(*r) for r in self._rows(
            select(f.input, f.reason, f.code, f.attempts, f.first_seen, f.last_seen)
            .order_by(f.id))]

    def close(self) -> None:
        conn = self.__dict__.pop("conn", None)
        if conn is not None:
            conn.close()
        if event.contains(self.engine, "begin", self._on_begin):
            event.remove(self.engine, "begin", self._on_begin)
        self.engine.dispose()

    def __enter__(self) -> "SqlAlchemyStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
