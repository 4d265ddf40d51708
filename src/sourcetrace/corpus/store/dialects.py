"""What differs between SQLite and PostgreSQL in the store, in one small interface.

The store (``store.sql.SqlAlchemyStore``) and the migrations are written once; they ask
their ``Dialect`` for:

- transactions: how a writer starts one (SQLite ``BEGIN IMMEDIATE`` takes the write lock
  at once; PostgreSQL locks the tables a writer must have alone), and the lock that lets
  one process at a time migrate;
- upserts: ``insert`` (the dialect's INSERT with ON CONFLICT) and ``replace`` (a row with
  the same key is replaced: a new rowid in SQLite, so the lazy claim index sees it anew);
- full text: the ``search_index`` over articles, quotes and sources (FTS5 with the Porter
  stemmer, or a tsvector column with a GIN index, english stemming) and the text search
  over claims and fact-checks (FTS5 tables filled lazily, or GIN expression indexes);
- JSON and dates: a text field of a JSON column, and the views' day, month and week;
- errors: a driver error in words a user can act on (SQLite's full disk, read-only file).
"""
from __future__ import annotations

import errno
from dataclasses import dataclass
from typing import Any, Sequence

from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite as lite

from ...errors import StoreError
from . import MARK_CLOSE, MARK_OPEN

__all__ = ["Dialect", "SqliteDialect", "PostgresDialect", "SearchSql", "dialect_of"]

#: the claims and fact-checks text search: (FTS5 table, JSON field of the claim text)
CLAIM_TEXT = {"claims": ("claims_fts", "text"), "factchecks": ("factchecks_fts", "claim")}


@dataclass(frozen=True)
class SearchSql:
    """The dialect's parts of a full-text query over ``search_index s``: ``with_`` goes
    before SELECT, ``join`` after the FROM's tables, ``where`` into the conditions;
    ``args`` are the parameters of these parts (they come first)."""

    with_: str
    join: str
    where: str
    snippet: str
    order: str
    args: tuple[Any, ...]


class Dialect:
    """The interface; ``SqliteDialect`` and ``PostgresDialect`` implement it."""

    name = ""
    insert = staticmethod(lite.insert)

    def marks(self, sql: str) -> str:
        """A statement with ``?`` parameters in the driver's own marks."""
        return sql

    def begin(self, conn: Any, write: bool) -> None:
        """Run at the start of every transaction (SQLAlchemy's begin event)."""

    def lock(self, conn: Any, table: str, exclusive: bool = False) -> None:
        """Keep other writers of ``table`` out until this transaction ends."""

    def migration_lock(self, conn: Any) -> None:
        """Keep other processes from migrating until this transaction ends."""

    def replace(self, tbl: Any, keys: Sequence[str]) -> Any:
        raise NotImplementedError

    def create_search_index(self, op: Any) -> None:
        raise NotImplementedError

    def create_claim_search(self, op: Any) -> None:
        raise NotImplementedError

    def search_sql(self, terms: list[tuple[str, ...]]) -> SearchSql:
        raise NotImplementedError

    def claim_search(self, store: Any, table: str, words: list[str],
                     limit: int) -> list[tuple[str, float]] | None:
        raise NotImplementedError

    def dates(self, col: str) -> dict[str, str]:
        """The views' ``day``, ``month`` and ``week`` of the ISO date column ``col``."""
        raise NotImplementedError

    def why(self, exc: BaseException) -> str:
        """The cause of a driver error in one line."""
        return " ".join(str(getattr(exc, "orig", None) or exc).split())


class SqliteDialect(Dialect):
    name = "sqlite"
    insert = staticmethod(lite.insert)

    def begin(self, conn: Any, write: bool) -> None:
        # the connection leaves transactions to us (isolation_level None): a writer takes
        # the write lock at once, so two writers never deadlock upgrading a read lock
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    def replace(self, tbl: Any, keys: Sequence[str]) -> Any:
        return lite.insert(tbl).prefix_with("OR REPLACE")

    def create_search_index(self, op: Any) -> None:
        op.execute("CREATE VIRTUAL TABLE search_index USING fts5 (body, article_id UNINDEXED, "
                   "what UNINDEXED, ref UNINDEXED, source_ref UNINDEXED, "
                   "tokenize = 'porter unicode61')")

    def create_claim_search(self, op: Any) -> None:
        # keyed by the rowid of claims and factchecks, filled lazily before each search
        for fts, _ in CLAIM_TEXT.values():
            op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5(text, "
                       "tokenize = 'porter unicode61')")

    def search_sql(self, terms: list[tuple[str, ...]]) -> SearchSql:
        match = " AND ".join('"' + " ".join(t) + '"' for t in terms)
        return SearchSql("", "", "search_index MATCH ?",
                         f"snippet(search_index, 0, '{MARK_OPEN}', '{MARK_CLOSE}', '…', 16)",
                         "bm25(search_index)", (match,))

    def claim_search(self, store: Any, table: str, words: list[str],
                     limit: int) -> list[tuple[str, float]] | None:
        fts, field = CLAIM_TEXT[table]
        self._index_new_rows(store, table, fts, field)
        if not words:
            return []
        rows = store.read_sql(
            f"SELECT t.id, bm25({fts}) AS s FROM {fts} JOIN {table} t ON t.rowid = {fts}.rowid "
            f"WHERE {fts} MATCH ? ORDER BY s LIMIT ?",
            (" OR ".join(f'"{w}"' for w in words), int(limit)))
        return [(str(i), -float(s)) for i, s in rows]

    @staticmethod
    def _index_new_rows(store: Any, table: str, fts: str, field: str) -> None:
        """Index the rows of ``table`` added since the last search (rowids only grow; a
        replaced row gets a new one). A read-only or busy store searches what is indexed."""
        if getattr(store, "readonly", False):
            return
        try:
            with store.transaction(write=True) as conn:
                conn.exec_driver_sql(
                    f"INSERT INTO {fts} (rowid, text) SELECT rowid, json_extract(data, ?) "
                    f"FROM {table} WHERE rowid > (SELECT coalesce(max(rowid), 0) FROM {fts})",
                    (f"$.{field}",))
        except StoreError as exc:
            said = str(exc).replace("-", "").replace(" ", "").lower()
            if not any(w in said for w in ("readonly", "locked", "busy", "cannotbewritten")):
                raise StoreError(f"could not index the text of {table}: {exc}") from exc

    def dates(self, col: str) -> dict[str, str]:
        full = f"{col} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'"
        return {"day": f"CASE WHEN {full} THEN date({col}) END",
                "month": f"CASE WHEN {col} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]*' "
                         f"THEN substr({col}, 1, 7) END",
                "week": f"CASE WHEN {full} THEN date({col}, '-6 days', 'weekday 1') END"}

    def why(self, exc: BaseException) -> str:
        import sqlite3

        exc = getattr(exc, "orig", None) or exc
        code = getattr(exc, "sqlite_errorcode", None)
        text = str(exc)
        if code == getattr(sqlite3, "SQLITE_FULL", 13) or "disk is full" in text or \
                isinstance(exc, OSError) and exc.errno in (errno.ENOSPC,
                                                           getattr(errno, "EDQUOT", -1)):
            return ("disk full: the disk (or the database's size limit) has no room left; "
                    "free some space and run the command again")
        if code is not None and code & 0xff == getattr(sqlite3, "SQLITE_READONLY", 8) or \
                "readonly database" in text:
            return (f"the corpus cannot be written ({text}): it is on read-only storage or "
                    "not yours")
        return text


class PostgresDialect(Dialect):
    name = "postgresql"
    insert = staticmethod(pg.insert)
    _MIGRATION_LOCK = 7_203_114   # advisory lock key

    def marks(self, sql: str) -> str:
        # psycopg's marks; our SQL has no other question mark and no percent sign
        return sql.replace("?", "%s")

    def lock(self, conn: Any, table: str, exclusive: bool = False) -> None:
        mode = "EXCLUSIVE" if exclusive else "SHARE ROW EXCLUSIVE"   # readers go on
        conn.exec_driver_sql(f"LOCK TABLE {table} IN {mode} MODE")

    def migration_lock(self, conn: Any) -> None:
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({self._MIGRATION_LOCK})")

    def replace(self, tbl: Any, keys: Sequence[str]) -> Any:
        stmt = pg.insert(tbl)
        return stmt.on_conflict_do_update(
            index_elements=list(keys),
            set_={c.name: stmt.excluded[c.name] for c in tbl.columns if c.name not in keys})

    def create_search_index(self, op: Any) -> None:
        op.execute("CREATE TABLE search_index (id BIGSERIAL PRIMARY KEY, article_id BIGINT NOT "
                   "NULL REFERENCES articles (id) ON DELETE CASCADE, what TEXT NOT NULL, "
                   "ref INTEGER, source_ref INTEGER, body TEXT NOT NULL, tsv tsvector "
                   "GENERATED ALWAYS AS (to_tsvector('english', body)) STORED)")
        op.execute("CREATE INDEX search_index_tsv ON search_index USING GIN (tsv)")
        op.execute("CREATE INDEX search_index_article ON search_index (article_id)")

    def create_claim_search(self, op: Any) -> None:
        # GIN indexes over the english text-search vector, kept up to date by PostgreSQL
        for table, (_, field) in CLAIM_TEXT.items():
            op.execute(f"CREATE INDEX {table}_text_search ON {table} USING GIN "
                       f"({self._vector(field)})")

    @staticmethod
    def _vector(field: str) -> str:
        return f"to_tsvector('english', (data::json)->>'{field}')"

    def search_sql(self, terms: list[tuple[str, ...]]) -> SearchSql:
        query = " && ".join(["phraseto_tsquery('english', ?)"] * len(terms))
        return SearchSql(
            f"WITH q AS (SELECT ({query}) AS query) ", "CROSS JOIN q", "s.tsv @@ q.query",
            f"ts_headline('english', s.body, q.query, 'StartSel={MARK_OPEN}, "
            f"StopSel={MARK_CLOSE}, MaxWords=24, MinWords=8, ShortWord=2')",
            "ts_rank(s.tsv, q.query) DESC", tuple(" ".join(t) for t in terms))

    def claim_search(self, store: Any, table: str, words: list[str],
                     limit: int) -> list[tuple[str, float]] | None:
        if not words:
            return []
        vector = self._vector(CLAIM_TEXT[table][1])
        rows = store.read_sql(
            f"SELECT id, ts_rank_cd({vector}, q) AS s FROM {table}, "
            f"to_tsquery('english', ?) q WHERE {vector} @@ q ORDER BY s DESC, id LIMIT ?",
            (" | ".join(words), int(limit)))
        return [(str(i), float(s)) for i, s in rows]

    def dates(self, col: str) -> dict[str, str]:
        full = f"{col} ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$'"
        return {"day": f"CASE WHEN {full} THEN {col}::date END",
                "month": f"CASE WHEN {col} ~ '^[0-9]{{4}}-[0-9]{{2}}' THEN substr({col}, 1, 7) END",
                "week": f"CASE WHEN {full} THEN date_trunc('week', {col}::date)::date END"}


_DIALECTS = {"sqlite": SqliteDialect(), "postgresql": PostgresDialect()}


def dialect_of(bind: Any) -> Dialect:
    """The Dialect of a SQLAlchemy connection or engine."""
    return _DIALECTS[bind.dialect.name]
