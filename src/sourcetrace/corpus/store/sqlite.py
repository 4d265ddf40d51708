"""The embedded default store: one SQLite file, full text with FTS5.

WAL mode lets readers (search, export) run while an ingest writes; each
``add``/``add_many`` is one transaction, so a killed ingest leaves whole
articles only.
"""
from __future__ import annotations

import errno
import json
import os
import sqlite3
from typing import Any, Iterable, Iterator

from ...errors import ClaimsChangedError, StoreError
from ...model import Analysis
from ..counted import notes_left_out
from . import (
    ARTICLE_COLUMNS,
    ArticleRecord,
    ClaimBatch,
    FailureRecord,
    SearchHit,
    SourceCount,
    StoredArticle,
    article_fields,
    article_from_row,
    MARK_CLOSE,
    MARK_OPEN,
    act_column,
    Hits,
    attribution_rows,
    hit_columns,
    selection_where,
    entity_row_sql,
    without_notes,
    check_filters,
    claim_batches_from_rows,
    figure_row,
    index_rows,
    migration_files,
    now_iso,
    parse_query,
    source_rows,
    ENTITY_ROW_SQL,
    aggregate_entities,
    link_entities,
)

_CHUNK = 500  # host parameters per IN (...) list


class SqliteStore:
    backend = "sqlite"

    def __init__(self, path: str, *, create: bool = True) -> None:
        """``create=False`` (the commands that read a corpus): the file must already be a
        sourcetrace corpus; nothing is created in it, and a corpus on read-only storage
        (the file or its folder not writable) is opened read-only."""
        self.path = path
        self.readonly = False
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise StoreError(f"cannot create the database {path!r}: folder {folder!r} does not exist",
                             hint="create the folder or give another --db path")
        if not create:
            self._check_existing(path)
            self.readonly = not (os.access(path, os.W_OK) and os.access(folder, os.W_OK))
        try:
            try:
                self.conn = self._connect(path, self.readonly, os.access(folder, os.W_OK))
            except sqlite3.OperationalError as exc:
                if create or self.readonly or not any(
                        w in str(exc) for w in ("unable to open", "readonly", "read-only")):
                    raise
                self.readonly = True   # read-only storage that os.access did not show
                self.conn = self._connect(path, True, False)
            if self.readonly:
                self._check_schema()
            else:
                self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open {path!r} as a sourcetrace database: {_why(exc)}",
                             hint="give a new file name or an existing sourcetrace .db") from exc

    @staticmethod
    def _connect(path: str, readonly: bool, folder_writable: bool) -> sqlite3.Connection:
        if not readonly:
            conn = sqlite3.connect(path, isolation_level=None, timeout=30.0)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            return conn
        # mode=ro reads a WAL corpus where its -shm can be made; on storage where
        # nothing can be made (a read-only folder or mount), immutable=1 reads the file
        # alone, without a -wal or -shm
        from urllib.parse import quote

        uri = f"file:{quote(os.path.abspath(path))}?mode=ro" + ("" if folder_writable
                                                                 else "&immutable=1")
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30.0)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn

    @staticmethod
    def _check_existing(path: str) -> None:
        """A command that reads a corpus never makes one: an empty file or one that is
        not SQLite is refused, and left as it was."""
        try:
            with open(path, "rb") as f:
                head = f.read(16)
        except OSError as exc:
            raise StoreError(f"cannot read the corpus {path!r}: {exc.strerror or exc}",
                             hint="check the path and its permissions") from None
        if not head:
            raise StoreError(f"cannot open {path!r}: it is an empty file, not a sourcetrace "
                             "corpus (it was left as it is)",
                             hint="give --db the corpus `sourcetrace ingest` made, or ingest "
                                  "into a new file")
        if head != b"SQLite format 3\x00":
            raise StoreError(f"cannot open {path!r} as a sourcetrace database: it is not an "
                             "SQLite database", hint="check --db (or $SOURCETRACE_DB)")

    def _check_schema(self) -> None:
        """A read-only corpus is read as it is: it must be a sourcetrace corpus whose
        schema is up to date (no migration can be applied to it)."""
        c = self.conn
        if not c.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'"
                         ).fetchone():
            raise StoreError(f"cannot open {self.path!r}: an SQLite database but not a "
                             "sourcetrace corpus", hint="check --db (or $SOURCETRACE_DB)")
        have = {r[0] for r in c.execute("SELECT version FROM schema_migrations")}
        missing = [v for v, _, _ in migration_files("sqlite") if v not in have]
        if missing:
            raise StoreError(f"{self.path} is read-only and its schema is older than this "
                             f"version's (migration {missing[0]} is not applied)",
                             hint="copy it to writable storage and run any command once")

    # -- schema -----------------------------------------------------------------------
    def _migrate(self) -> None:
        c = self.conn
        c.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                  "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
        for version, name, sql in migration_files("sqlite"):
            if c.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (version,)).fetchone():
                continue
            c.execute("BEGIN IMMEDIATE")
            try:  # another process may have applied it while we waited for the lock
                if c.execute("SELECT 1 FROM schema_migrations WHERE version = ?",
                             (version,)).fetchone():
                    c.execute("COMMIT")
                    continue
                for statement in _statements(sql):
                    c.execute(statement)
                if version == 2:
                    self._link_all()   # a store made before entities: link what it holds
                c.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, name, now_iso()))
                c.execute("COMMIT")
            except BaseException:
                _rollback(c)
                raise

    def migrations(self) -> list[int]:
        return [r[0] for r in self.conn.execute("SELECT version FROM schema_migrations ORDER BY version")]

    # -- writes -----------------------------------------------------------------------
    def _insert(self, record: ArticleRecord) -> int | None:
        c = self.conn
        f = article_fields(record)
        cols = ", ".join(f)
        marks = ", ".join("?" for _ in f)
        row = c.execute(f"INSERT INTO articles ({cols}) VALUES ({marks}) "
                        "ON CONFLICT (content_hash) DO NOTHING RETURNING id", tuple(f.values())).fetchone()
        if row is None:
            return None
        article_id = row[0]
        self._derived(article_id, record)
        c.execute("DELETE FROM failures WHERE input = ?", (record.input,))
        return article_id

    def _derived(self, article_id: int, record: ArticleRecord) -> None:
        """The rows derived from an article's analysis: attributions, sources, figures
        and the search index."""
        c = self.conn
        atts = attribution_rows(record.analysis)
        if atts:
            keys = list(atts[0])
            c.executemany(f"INSERT INTO attributions (article_id, {', '.join(keys)}) "
                          f"VALUES (?, {', '.join('?' for _ in keys)})",
                          [(article_id, *r.values()) for r in atts])
        srcs = source_rows(record.analysis)
        if srcs:
            keys = list(srcs[0])
            c.executemany(f"INSERT OR REPLACE INTO sources (article_id, {', '.join(keys)}) "
                          f"VALUES (?, {', '.join('?' for _ in keys)})",
                          [(article_id, *r.values()) for r in srcs])
        self._link_entities(article_id, record.analysis)
        fig = figure_row(record)
        c.execute(f"INSERT INTO article_figures (article_id, {', '.join(fig)}) "
                  f"VALUES (?, {', '.join('?' for _ in fig)})", (article_id, *fig.values()))
        c.executemany("INSERT INTO search_index (body, article_id, what, ref, source_ref) "
                      "VALUES (?, ?, ?, ?, ?)",
                      [(r["body"], article_id, r["what"], r["ref"], r["source_ref"])
                       for r in index_rows(record)])

    def replace_analysis(self, article_id: int, analysis: Analysis, *, model: str | None,
                         model_version: str | None) -> bool:
        c = self.conn
        try:
            c.execute("BEGIN IMMEDIATE")
            try:
                found = c.execute("SELECT title FROM articles WHERE id = ?",
                                  (article_id,)).fetchone()
                if found is not None:
                    record = ArticleRecord(analysis=analysis, input="", title=found[0])
                    c.execute("UPDATE articles SET analysis = ?, profile = ?, n_attributions = ?, "
                              "n_sources = ?, model = ?, model_version = ? WHERE id = ?",
                              (analysis.to_json(), json.dumps(analysis.profile)
                               if analysis.profile is not None else None,
                               len(analysis.attributions), len(analysis.sources), model,
                               model_version, article_id))
                    for table in ("attributions", "sources", "article_figures", "search_index"):
                        if c.execute("SELECT 1 FROM sqlite_master WHERE name = ?",
                                     (table,)).fetchone():   # figures: from migration 0004
                            c.execute(f"DELETE FROM {table} WHERE article_id = ?", (article_id,))
                    self._derived(article_id, record)
                c.execute("COMMIT")
            except BaseException:
                _rollback(c)
                raise
        except sqlite3.Error as exc:
            raise StoreError(f"could not replace the analysis of article {article_id} in "
                             f"{self.path!r}: {_why(exc)}") from exc
        return found is not None

    # -- source entities (migration 0002) ------------------------------------------------
    def _run(self, sql: str, args: Any = ()) -> list[tuple]:
        return self.conn.execute(sql, args).fetchall()

    def _link_entities(self, article_id: int, analysis: Analysis) -> None:
        row = self.conn.execute("SELECT outlet, author FROM articles WHERE id = ?", (article_id,)).fetchone()
        link_entities(self._run, self.__dict__.setdefault("_entity_cache", {}), article_id, analysis,
                      row[0] if row else None, getattr(self, "gazetteer", None),
                      byline=row[1] if row else None)

    def relink_entities(self) -> int:
        """Link every stored source to the entities again (after a gazetteer or rule change);
        the number of articles relinked."""
        c = self.conn
        try:
            c.execute("BEGIN IMMEDIATE")
            try:
                n = self._link_all()
                c.execute("COMMIT")
            except BaseException:
                _rollback(c)
                raise
        except sqlite3.Error as exc:
            raise StoreError(f"could not relink the sources of {self.path!r}: {_why(exc)}",
                             hint="a read-only corpus is read as it is: relink a copy"
                             if self.readonly else None) from exc
        return n

    def _link_all(self) -> int:
        c = self.conn
        c.execute("UPDATE sources SET entity_id = NULL")
        c.execute("DELETE FROM entities")
        self.__dict__["_entity_cache"] = {}
        ids = [r[0] for r in c.execute("SELECT id FROM articles ORDER BY id").fetchall()]
        for article_id in ids:
            row = c.execute("SELECT analysis FROM articles WHERE id = ?", (article_id,)).fetchone()
            self._link_entities(article_id, Analysis.from_json(row[0]))
        return len(ids)

    def entity_links(self, article_id: int) -> dict[int, tuple[int, str, str | None]]:
        """Source index -> (entity id, entity name, external id) for one article."""
        return {r[0]: (r[1], r[2], r[3]) for r in self.conn.execute(
            "SELECT s.idx, e.id, e.name, e.external_id FROM sources s JOIN entities e ON e.id = s.entity_id "
            "WHERE s.article_id = ?", (article_id,))}

    def add(self, record: ArticleRecord) -> int | None:
        return self.add_many([record])[0]

    def add_many(self, records: Iterable[ArticleRecord]) -> list[int | None]:
        records = list(records)
        if not records:
            return []
        c = self.conn
        try:
            c.execute("BEGIN IMMEDIATE")
            try:
                ids = [self._insert(r) for r in records]
                c.execute("COMMIT")
            except BaseException:
                _rollback(c)
                raise
        except sqlite3.Error as exc:
            raise StoreError(f"could not store articles in {self.path!r}: {_why(exc)}") from exc
        return ids

    def add_claim_batch(self, article_id: int, signature: bytes, size: int, *,
                        outlet: str | None = None, site_name: str | None = None,
                        claims: Iterable[tuple[str, str, bytes]] = (),
                        matches: Iterable[tuple[str, str, str]] = (),
                        copies: Iterable[int] = (), after: int | None = None) -> int | None:
        batch = ClaimBatch(article_id, bytes(signature), size, outlet, site_name,
                           tuple(claims), tuple(matches), copies=tuple(int(c) for c in copies))
        c = self.conn
        try:
            c.execute("BEGIN IMMEDIATE")
            try:
                if after is not None and c.execute(
                        "SELECT 1 FROM claim_batches WHERE seq > ? LIMIT 1", (after,)).fetchone():
                    raise ClaimsChangedError(f"claims were stored after batch {after}",
                                             hint="read them and match against them too")
                row = c.execute(
                    "INSERT INTO claim_batches (article_id, signature, size, outlet, site_name, "
                    "copies) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (article_id) DO NOTHING "
                    "RETURNING seq", (batch.article_id, batch.signature, batch.size, batch.outlet,
                                      batch.site_name, json.dumps(batch.copies))).fetchone()
                if row is not None:
                    c.executemany("INSERT OR REPLACE INTO claims (id, pos, batch, data, vector) "
                                  "VALUES (?, ?, ?, ?, ?)",
                                  [(cid, i, row[0], data, vec)
                                   for i, (cid, data, vec) in enumerate(batch.claims)])
                    c.executemany("INSERT OR REPLACE INTO claim_matches (claim_id, other_id, "
                                  "batch, evidence) VALUES (?, ?, ?, ?)",
                                  [(a, b, row[0], ev) for a, b, ev in batch.matches])
                c.execute("COMMIT")
            except BaseException:
                _rollback(c)
                raise
        except sqlite3.Error as exc:
            raise StoreError(f"could not store the claims of article {batch.article_id} in "
                             f"{self.path!r}: {_why(exc)}") from exc
        return None if row is None else int(row[0])

    def articles_without_claims(self) -> list[int]:
        try:
            return [r[0] for r in self.conn.execute(
                "SELECT id FROM articles WHERE id NOT IN (SELECT article_id FROM claim_batches) "
                "ORDER BY id")]
        except sqlite3.Error as exc:
            raise StoreError(f"could not read the claims of {self.path!r}: {exc}") from exc

    def claim_batches(self, after: int = 0) -> list[ClaimBatch]:
        c = self.conn
        try:
            heads = c.execute("SELECT seq, article_id, signature, size, outlet, site_name, "
                              "copies FROM claim_batches WHERE seq > ? ORDER BY seq",
                              (after,)).fetchall()
            claims = c.execute("SELECT batch, id, data, vector FROM claims WHERE batch > ? "
                               "ORDER BY batch, pos", (after,)).fetchall()
            matches = c.execute("SELECT batch, claim_id, other_id, evidence FROM claim_matches "
                                "WHERE batch > ? ORDER BY batch, claim_id, other_id",
                                (after,)).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"could not read the claims of {self.path!r}: {_why(exc)}") from exc
        return claim_batches_from_rows(heads, claims, matches)

    def add_factchecks(self, rows: Iterable[tuple[str, str, bytes]]) -> int:
        rows = [(i, d, bytes(v)) for i, d, v in rows]
        c = self.conn
        try:
            c.execute("BEGIN IMMEDIATE")
            try:
                c.executemany("INSERT OR REPLACE INTO factchecks (id, data, vector) "
                              "VALUES (?, ?, ?)", rows)
                c.execute("COMMIT")
            except BaseException:
                _rollback(c)
                raise
        except sqlite3.Error as exc:
            raise StoreError(f"could not store fact-checks in {self.path!r}: {_why(exc)}") from exc
        return len(rows)

    def factchecks(self) -> list[tuple[str, str, bytes]]:
        return [(i, d, bytes(v)) for i, d, v in self.read_sql(
            "SELECT id, data, vector FROM factchecks ORDER BY id")]

    def record_failure(self, input: str, reason: str, code: str = "error") -> None:
        now = now_iso()
        try:
            self.conn.execute(
                "INSERT INTO failures (input, reason, code, attempts, first_seen, last_seen) "
                "VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (input) DO UPDATE SET reason = "
                "excluded.reason, code = excluded.code, attempts = failures.attempts + 1, "
                "last_seen = excluded.last_seen", (input, reason, code, now, now))
        except sqlite3.Error as exc:
            raise StoreError(f"could not record a failure in {self.path!r}: {_why(exc)}") from exc

    def clear_failure(self, input: str) -> None:
        self.conn.execute("DELETE FROM failures WHERE input = ?", (input,))

    # -- reads ------------------------------------------------------------------------
    def _subset(self, column: str, values: Iterable[str]) -> set[str]:
        values = list(dict.fromkeys(values))
        found: set[str] = set()
        for i in range(0, len(values), _CHUNK):
            part = values[i:i + _CHUNK]
            marks = ", ".join("?" for _ in part)
            found.update(r[0] for r in self.conn.execute(
                f"SELECT {column} FROM articles WHERE {column} IN ({marks})", part))
        return found

    def known_hashes(self, hashes: Iterable[str]) -> set[str]:
        return self._subset("content_hash", hashes)

    def known_inputs(self, inputs: Iterable[str]) -> set[str]:
        return self._subset("input", inputs)

    def get(self, article_id: int) -> StoredArticle | None:
        row = self.conn.execute(f"SELECT {', '.join(ARTICLE_COLUMNS)} FROM articles WHERE id = ?",
                                (article_id,)).fetchone()
        return article_from_row(row) if row else None

    def iter_articles(self) -> Iterator[StoredArticle]:
        last = 0
        while True:  # keyset pages: no long-lived cursor held across yields
            rows = self.conn.execute(f"SELECT {', '.join(ARTICLE_COLUMNS)} FROM articles "
                                     "WHERE id > ? ORDER BY id LIMIT 200", (last,)).fetchall()
            if not rows:
                return
            for row in rows:
                yield article_from_row(row)
            last = rows[-1][0]

    def count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM articles").fetchone()[0]

    def page_articles(self, *, outlet: str | None = None, offset: int = 0,
                      limit: int = 50) -> tuple[int, list[StoredArticle]]:
        where, args = ("WHERE outlet = ?", [outlet]) if outlet else ("", [])
        total = self.conn.execute(f"SELECT count(*) FROM articles {where}", args).fetchone()[0]
        rows = self.conn.execute(f"SELECT {', '.join(ARTICLE_COLUMNS)} FROM articles {where} "
                                 "ORDER BY id LIMIT ? OFFSET ?",
                                 [*args, max(0, limit), max(0, offset)]).fetchall()
        return total, [article_from_row(row) for row in rows]

    def search(self, query: str, *, outlet: str | None = None, since: str | None = None,
               until: str | None = None, identity: str | None = None, kind: str | None = None,
               what: str | None = None, limit: int = 50, offset: int = 0,
               selection: Any = None) -> list[SearchHit]:
        check_filters(what, texts={"query": query, "outlet": outlet, "identity": identity,
                                   "kind": kind}, dates={"since": since, "until": until})
        terms = parse_query(query)
        match = " AND ".join('"' + " ".join(t) + '"' for t in terms)
        where = ["search_index MATCH ?"]
        args: list[Any] = [match]
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
        act = act_column(self.read_sql)
        cond, cargs = selection_where(selection, "?", act)
        if cond:
            where.append(cond)
            args += cargs
        sql = (f"SELECT s.article_id, s.what, s.ref, snippet(search_index, 0, '{MARK_OPEN}', "
               f"'{MARK_CLOSE}', '…', 16), a.title, a.outlet, a.date, a.url, {hit_columns('?', act)} "
               "FROM search_index s JOIN articles a ON a.id = s.article_id "
               f"WHERE {' AND '.join(where)} ORDER BY bm25(search_index), s.article_id "
               "LIMIT ? OFFSET ?")
        try:
            rows = self.conn.execute(sql, [*args, int(limit), max(0, int(offset))]).fetchall()
            total = self.conn.execute(
                "SELECT count(*) FROM search_index s JOIN articles a ON a.id = s.article_id "
                f"WHERE {' AND '.join(where)}", args).fetchone()[0]
        except sqlite3.OperationalError as exc:
            raise StoreError(f"search failed: {exc}") from exc
        hits = Hits(SearchHit.marked(int(r[0]), r[1], None if r[2] is None else int(r[2]), r[3],
                                     *r[4:8], speaker=r[8], act=r[9]) for r in rows)
        hits.total = int(total)
        return hits

    def top_sources(self, *, by: str | None = None, outlet: str | None = None,
                    kind: str | None = None, identity: str | None = None,
                    limit: int = 20, offset: int = 0, selection: Any = None) -> list[SourceCount]:
        check_filters(None, by, texts={"outlet": outlet, "kind": kind, "identity": identity})
        sql, args = entity_row_sql(selection, "?", act_column(self.read_sql))
        if outlet:
            sql += " AND a.outlet = ?"
            args.append(outlet)
        rows = self.conn.execute(sql, args).fetchall()
        rows = without_notes(rows, notes_left_out(self.read_sql, selection, act_column(self.read_sql)))
        entities = {r[0]: tuple(r[1:]) for r in self.conn.execute(
            "SELECT id, name, kind, role, external_id FROM entities")}
        return aggregate_entities(rows, entities, by=by, kind=kind, identity=identity, limit=limit,
                                  offset=offset, counted=selection is not None)

    def read_sql(self, sql: str, args: Any = ()) -> list[tuple]:
        """Rows of one read-only query with ``?`` parameters (the report's aggregations)."""
        try:
            return self.conn.execute(sql, tuple(args)).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"query failed on {self.path!r}: {_why(exc)}") from exc

    def has_table(self, name: str) -> bool:
        return self.conn.execute("SELECT 1 FROM sqlite_master WHERE name = ? AND type IN "
                                 "('table', 'view')", (name,)).fetchone() is not None

    def failures(self) -> list[FailureRecord]:
        return [FailureRecord(*r) for r in self.conn.execute(
            "SELECT input, reason, code, attempts, first_seen, last_seen FROM failures ORDER BY id")]

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "SqliteStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _rollback(c: sqlite3.Connection) -> None:
    """Roll back the open transaction, if any: SQLite ends it by itself on some errors
    (a full disk, an I/O error), and a ROLLBACK then would hide the real cause behind
    "cannot rollback - no transaction is active"."""
    if c.in_transaction:
        try:
            c.execute("ROLLBACK")
        except sqlite3.Error:
            pass


_FULL = getattr(sqlite3, "SQLITE_FULL", 13)
_READONLY = getattr(sqlite3, "SQLITE_READONLY", 8)


def _why(exc: BaseException) -> str:
    """The cause of a sqlite3 error in words a user can act on."""
    code = getattr(exc, "sqlite_errorcode", None)
    text = str(exc)
    if code == _FULL or "disk is full" in text or isinstance(exc, OSError) \
            and exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return ("disk full: the disk (or the database's size limit) has no room left; "
                "free some space and run the command again")
    if code is not None and code & 0xff == _READONLY or "readonly database" in text:
        return f"the corpus cannot be written ({text}): it is on read-only storage or not yours"
    return text


def _statements(sql: str) -> list[str]:
    """Split a migration file into statements (no semicolons inside our SQL strings)."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    body = "\n".join(line.split("--")[0] if "--" in line else line for line in lines)
    return [s.strip() for s in body.split(";") if s.strip()]


__all__ = ["SqliteStore"]
