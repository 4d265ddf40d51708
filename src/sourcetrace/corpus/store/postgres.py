"""PostgreSQL behind the same contract (``--db postgresql://user@host/dbname``).

Needs the ``postgres`` extra (psycopg 3). Full text: a generated tsvector column
with a GIN index, queried with phraseto_tsquery per term ('english' stemming).
Migrations run under an advisory lock so that two processes opening a new
database at once apply each one exactly once. One store may be shared by threads:
each call holds the connection alone.
"""
from __future__ import annotations

import json
import threading
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

_LOCK_ID = 7_203_114  # advisory lock key for migrations


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _psycopg():
    try:
        import psycopg
    except ImportError as exc:
        raise StoreError("PostgreSQL support is not installed",
                         hint="pip install 'sourcetrace[postgres]'") from exc
    return psycopg


class PostgresStore:
    backend = "postgres"

    def __init__(self, dsn: str) -> None:
        psycopg = _psycopg()
        self.dsn = dsn
        self._psycopg = psycopg
        self._lock = threading.RLock()
        try:
            self.conn = psycopg.connect(dsn, autocommit=False, connect_timeout=10)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to PostgreSQL: {_one_line(exc)}",
                             hint="check the --db URL, that the server runs and accepts you") from exc
        try:
            self._migrate()
        except psycopg.Error as exc:
            self.conn.rollback()
            raise StoreError(f"cannot prepare the PostgreSQL schema: {_one_line(exc)}") from exc

    def _migrate(self) -> None:
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
            cur.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                        "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
            cur.execute("SELECT version FROM schema_migrations")
            done = {r[0] for r in cur.fetchall()}
            for version, name, sql in migration_files("postgres"):
                if version in done:
                    continue
                cur.execute(sql)
                if version == 2:
                    self._link_all(cur)   # a store made before entities: link what it holds
                cur.execute("INSERT INTO schema_migrations VALUES (%s, %s, %s)",
                            (version, name, now_iso()))

    def migrations(self) -> list[int]:
        return [r[0] for r in self._query("SELECT version FROM schema_migrations ORDER BY version")]

    def _query(self, sql: str, args: Any = ()) -> list[tuple]:
        with self._lock:
            return self._query_locked(sql, args)

    def _query_locked(self, sql: str, args: Any) -> list[tuple]:
        try:
            with self.conn.cursor() as cur:
                cur.execute(sql, args)
                rows = cur.fetchall()
            self.conn.commit()
            return rows
        except self._psycopg.Error as exc:
            self.conn.rollback()
            raise StoreError(f"PostgreSQL query failed: {_one_line(exc)}") from exc

    def _execute(self, sql: str, args: Any = ()) -> None:
        try:
            with self._lock, self.conn.transaction(), self.conn.cursor() as cur:
                cur.execute(sql, args)
        except self._psycopg.Error as exc:
            raise StoreError(f"PostgreSQL write failed: {_one_line(exc)}") from exc

    # -- writes -----------------------------------------------------------------------
    def _insert(self, cur, record: ArticleRecord) -> int | None:
        f = article_fields(record)
        cur.execute(f"INSERT INTO articles ({', '.join(f)}) VALUES ({', '.join(['%s'] * len(f))}) "
                    "ON CONFLICT (content_hash) DO NOTHING RETURNING id", tuple(f.values()))
        row = cur.fetchone()
        if row is None:
            return None
        article_id = row[0]
        self._derived(cur, article_id, record)
        cur.execute("DELETE FROM failures WHERE input = %s", (record.input,))
        return article_id

    def _derived(self, cur, article_id: int, record: ArticleRecord) -> None:
        """The rows derived from an article's analysis: attributions, sources, figures
        and the search index."""
        atts = attribution_rows(record.analysis)
        if atts:
            keys = list(atts[0])
            cur.executemany(f"INSERT INTO attributions (article_id, {', '.join(keys)}) "
                            f"VALUES (%s, {', '.join(['%s'] * len(keys))})",
                            [(article_id, *r.values()) for r in atts])
        srcs = source_rows(record.analysis)
        if srcs:
            keys = list(srcs[0])
            cur.executemany(f"INSERT INTO sources (article_id, {', '.join(keys)}) "
                            f"VALUES (%s, {', '.join(['%s'] * len(keys))}) "
                            "ON CONFLICT (article_id, idx) DO NOTHING",
                            [(article_id, *r.values()) for r in srcs])
        self._link_entities(cur, article_id, record.analysis)
        fig = figure_row(record)
        cur.execute(f"INSERT INTO article_figures (article_id, {', '.join(fig)}) "
                    f"VALUES (%s, {', '.join(['%s'] * len(fig))})", (article_id, *fig.values()))
        cur.executemany("INSERT INTO search_index (article_id, what, ref, source_ref, body) "
                        "VALUES (%s, %s, %s, %s, %s)",
                        [(article_id, r["what"], r["ref"], r["source_ref"], r["body"])
                         for r in index_rows(record)])

    def replace_analysis(self, article_id: int, analysis: Analysis, *, model: str | None,
                         model_version: str | None) -> bool:
        import json

        try:
            with self._lock, self.conn.transaction(), self.conn.cursor() as cur:
                cur.execute("SELECT title FROM articles WHERE id = %s FOR UPDATE", (article_id,))
                found = cur.fetchone()
                if found is None:
                    return False
                cur.execute("UPDATE articles SET analysis = %s, profile = %s, "
                            "n_attributions = %s, n_sources = %s, model = %s, "
                            "model_version = %s WHERE id = %s",
                            (analysis.to_json(), json.dumps(analysis.profile)
                             if analysis.profile is not None else None,
                             len(analysis.attributions), len(analysis.sources), model,
                             model_version, article_id))
                for table in ("attributions", "sources", "article_figures", "search_index"):
                    cur.execute("SELECT to_regclass(%s)", (table,))
                    if cur.fetchone()[0] is not None:      # figures: from migration 0004
                        cur.execute(f"DELETE FROM {table} WHERE article_id = %s", (article_id,))
                self._derived(cur, article_id,
                              ArticleRecord(analysis=analysis, input="", title=found[0]))
        except self._psycopg.Error as exc:
            raise StoreError(f"could not replace the analysis of article {article_id} in "
                             f"PostgreSQL: {_one_line(exc)}") from exc
        return True

    def add(self, record: ArticleRecord) -> int | None:
        return self.add_many([record])[0]

    def add_many(self, records: Iterable[ArticleRecord]) -> list[int | None]:
        records = list(records)
        if not records:
            return []
        try:
            with self._lock, self.conn.transaction(), self.conn.cursor() as cur:
                return [self._insert(cur, r) for r in records]
        except self._psycopg.Error as exc:
            raise StoreError(f"could not store articles in PostgreSQL: {_one_line(exc)}") from exc

    def add_claim_batch(self, article_id: int, signature: bytes, size: int, *,
                        outlet: str | None = None, site_name: str | None = None,
                        claims: Iterable[tuple[str, str, bytes]] = (),
                        matches: Iterable[tuple[str, str, str]] = (),
                        copies: Iterable[int] = (), after: int | None = None) -> int | None:
        batch = ClaimBatch(article_id, bytes(signature), size, outlet, site_name,
                           tuple(claims), tuple(matches), copies=tuple(int(c) for c in copies))
        try:
            with self._lock, self.conn.transaction(), self.conn.cursor() as cur:
                # one claims writer at a time (readers go on): batches are numbered and
                # committed in the same order, and none is written past one unseen
                cur.execute("LOCK TABLE claim_batches IN SHARE ROW EXCLUSIVE MODE")
                if after is not None:
                    cur.execute("SELECT 1 FROM claim_batches WHERE seq > %s LIMIT 1", (after,))
                    if cur.fetchone() is not None:
                        raise ClaimsChangedError(f"claims were stored after batch {after}",
                                                 hint="read them and match against them too")
                cur.execute("INSERT INTO claim_batches (article_id, signature, size, outlet, "
                            "site_name, copies) VALUES (%s, %s, %s, %s, %s, %s) "
                            "ON CONFLICT (article_id) DO NOTHING RETURNING seq",
                            (batch.article_id, batch.signature, batch.size, batch.outlet,
                             batch.site_name, json.dumps(batch.copies)))
                row = cur.fetchone()
                if row is None:
                    return None
                if batch.claims:
                    cur.executemany("INSERT INTO claims (id, pos, batch, data, vector) VALUES "
                                    "(%s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET "
                                    "pos = EXCLUDED.pos, batch = EXCLUDED.batch, "
                                    "data = EXCLUDED.data, vector = EXCLUDED.vector",
                                    [(cid, i, row[0], data, vec)
                                     for i, (cid, data, vec) in enumerate(batch.claims)])
                if batch.matches:
                    cur.executemany("INSERT INTO claim_matches (claim_id, other_id, batch, "
                                    "evidence) VALUES (%s, %s, %s, %s) ON CONFLICT (claim_id, "
                                    "other_id) DO UPDATE SET batch = EXCLUDED.batch, "
                                    "evidence = EXCLUDED.evidence",
                                    [(a, b, row[0], ev) for a, b, ev in batch.matches])
                return int(row[0])
        except self._psycopg.Error as exc:
            raise StoreError(f"could not store the claims of article {batch.article_id} in "
                             f"PostgreSQL: {_one_line(exc)}") from exc

    def articles_without_claims(self) -> list[int]:
        with self._lock:
            return [int(r[0]) for r in self._query_locked(
                "SELECT id FROM articles WHERE id NOT IN (SELECT article_id FROM claim_batches) "
                "ORDER BY id", ())]

    def claim_batches(self, after: int = 0) -> list[ClaimBatch]:
        with self._lock:
            heads = self._query_locked("SELECT seq, article_id, signature, size, outlet, site_name, "
                                       "copies FROM claim_batches WHERE seq > %s ORDER BY seq",
                                       (after,))
            claims = self._query_locked("SELECT batch, id, data, vector FROM claims "
                                        "WHERE batch > %s ORDER BY batch, pos", (after,))
            matches = self._query_locked("SELECT batch, claim_id, other_id, evidence FROM "
                                         "claim_matches WHERE batch > %s ORDER BY batch, "
                                         "claim_id, other_id", (after,))
        return claim_batches_from_rows(heads, claims, matches)

    def add_factchecks(self, rows: Iterable[tuple[str, str, bytes]]) -> int:
        rows = [(i, d, bytes(v)) for i, d, v in rows]
        try:
            with self._lock, self.conn.transaction(), self.conn.cursor() as cur:
                if rows:
                    cur.executemany("INSERT INTO factchecks (id, data, vector) VALUES (%s, %s, %s) "
                                    "ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, "
                                    "vector = EXCLUDED.vector", rows)
        except self._psycopg.Error as exc:
            raise StoreError(f"could not store fact-checks in PostgreSQL: {_one_line(exc)}") from exc
        return len(rows)

    def factchecks(self) -> list[tuple[str, str, bytes]]:
        return [(i, d, bytes(v)) for i, d, v in
                self._query("SELECT id, data, vector FROM factchecks ORDER BY id")]

    def record_failure(self, input: str, reason: str, code: str = "error") -> None:
        now = now_iso()
        self._execute(
            "INSERT INTO failures (input, reason, code, attempts, first_seen, last_seen) "
            "VALUES (%s, %s, %s, 1, %s, %s) ON CONFLICT (input) DO UPDATE SET "
            "reason = EXCLUDED.reason, code = EXCLUDED.code, attempts = failures.attempts + 1, "
            "last_seen = EXCLUDED.last_seen", (input, reason, code, now, now))

    def clear_failure(self, input: str) -> None:
        self._execute("DELETE FROM failures WHERE input = %s", (input,))

    # -- reads ------------------------------------------------------------------------
    def _subset(self, column: str, values: Iterable[str]) -> set[str]:
        values = list(dict.fromkeys(values))
        if not values:
            return set()
        return {r[0] for r in self._query(
            f"SELECT {column} FROM articles WHERE {column} = ANY(%s)", (values,))}

    def known_hashes(self, hashes: Iterable[str]) -> set[str]:
        return self._subset("content_hash", hashes)

    def known_inputs(self, inputs: Iterable[str]) -> set[str]:
        return self._subset("input", inputs)

    def get(self, article_id: int) -> StoredArticle | None:
        rows = self._query(f"SELECT {', '.join(ARTICLE_COLUMNS)} FROM articles WHERE id = %s",
                           (int(article_id),))
        return article_from_row(rows[0]) if rows else None

    def iter_articles(self) -> Iterator[StoredArticle]:
        last = 0
        while True:
            rows = self._query(f"SELECT {', '.join(ARTICLE_COLUMNS)} FROM articles "
                               "WHERE id > %s ORDER BY id LIMIT 200", (last,))
            if not rows:
                return
            for row in rows:
                yield article_from_row(row)
            last = rows[-1][0]

    def count(self) -> int:
        return self._query("SELECT count(*) FROM articles")[0][0]

    def page_articles(self, *, outlet: str | None = None, offset: int = 0,
                      limit: int = 50) -> tuple[int, list[StoredArticle]]:
        where, args = ("WHERE outlet = %s", [outlet]) if outlet else ("", [])
        total = self._query(f"SELECT count(*) FROM articles {where}", args)[0][0]
        rows = self._query(f"SELECT {', '.join(ARTICLE_COLUMNS)} FROM articles {where} "
                           "ORDER BY id LIMIT %s OFFSET %s",
                           [*args, max(0, limit), max(0, offset)])
        return total, [article_from_row(row) for row in rows]

    def search(self, query: str, *, outlet: str | None = None, since: str | None = None,
               until: str | None = None, identity: str | None = None, kind: str | None = None,
               what: str | None = None, limit: int = 50, offset: int = 0,
               selection: Any = None) -> list[SearchHit]:
        check_filters(what, texts={"query": query, "outlet": outlet, "identity": identity,
                                   "kind": kind}, dates={"since": since, "until": until})
        terms = parse_query(query)
        tsquery = " && ".join(["phraseto_tsquery('english', %s)"] * len(terms))
        qargs = [" ".join(t) for t in terms]
        where = ["s.tsv @@ q.query"]
        args: list[Any] = []
        if what:
            where.append("s.what = %s")
            args.append(what)
        for col, op, val in (("outlet", "=", outlet), ("date", ">=", since), ("date", "<=", until)):
            if val:
                where.append(f"a.{col} {op} %s")
                args.append(val)
        for col, val in (("identity", identity), ("kind", kind)):
            if val:
                where.append(
                    f"((s.source_ref IS NOT NULL AND EXISTS (SELECT 1 FROM sources so WHERE "
                    f"so.article_id = s.article_id AND so.idx = s.source_ref AND so.{col} = %s)) OR "
                    f"(s.what = 'article' AND EXISTS (SELECT 1 FROM sources so WHERE "
                    f"so.article_id = s.article_id AND so.{col} = %s)))")
                args += [val, val]
        act = act_column(self.read_sql, 'postgres')
        cond, cargs = selection_where(selection, "%s", act)
        if cond:
            where.append(cond)
            args += cargs
        sql = (f"WITH q AS (SELECT ({tsquery}) AS query) "
               "SELECT s.article_id, s.what, s.ref, "
               "ts_headline('english', s.body, q.query, "
               f"'StartSel={MARK_OPEN}, StopSel={MARK_CLOSE}, MaxWords=24, MinWords=8, ShortWord=2'), "
               f"a.title, a.outlet, a.date, a.url, {hit_columns('%s', act)} FROM search_index s "
               "JOIN articles a ON a.id = s.article_id CROSS JOIN q "
               f"WHERE {' AND '.join(where)} "
               "ORDER BY ts_rank(s.tsv, q.query) DESC, s.article_id LIMIT %s OFFSET %s")
        rows = self._query(sql, (*qargs, *args, int(limit), max(0, int(offset))))
        total = self._query(f"WITH q AS (SELECT ({tsquery}) AS query) SELECT count(*) FROM "
                            "search_index s JOIN articles a ON a.id = s.article_id CROSS JOIN q "
                            f"WHERE {' AND '.join(where)}", (*qargs, *args))[0][0]
        hits = Hits(SearchHit.marked(int(r[0]), r[1], None if r[2] is None else int(r[2]), r[3],
                                     *r[4:8], speaker=r[8], act=r[9]) for r in rows)
        hits.total = int(total)
        return hits

    def top_sources(self, *, by: str | None = None, outlet: str | None = None,
                    kind: str | None = None, identity: str | None = None,
                    limit: int = 20, offset: int = 0, selection: Any = None) -> list[SourceCount]:
        check_filters(None, by, texts={"outlet": outlet, "kind": kind, "identity": identity})
        sql, args = entity_row_sql(selection, "%s", act_column(self.read_sql, 'postgres'))
        if outlet:
            sql += " AND a.outlet = %s"
            args.append(outlet)
        rows = self._query(sql, args)
        rows = without_notes(rows, notes_left_out(self.read_sql, selection,
                                                  act_column(self.read_sql, 'postgres')))
        entities = {r[0]: tuple(r[1:]) for r in self._query(
            "SELECT id, name, kind, role, external_id FROM entities")}
        return aggregate_entities(rows, entities, by=by, kind=kind, identity=identity, limit=limit,
                                  offset=offset, counted=selection is not None)

    # -- source entities (migration 0002) ------------------------------------------------
    def _link_entities(self, cur, article_id: int, analysis: Analysis) -> None:
        def run(sql: str, args: Any = ()) -> list[tuple]:
            cur.execute(sql.replace("?", "%s"), args)
            return cur.fetchall() if cur.description is not None else []

        cur.execute("LOCK TABLE entities IN SHARE ROW EXCLUSIVE MODE")  # one writer links at a time
        cur.execute("SELECT outlet, author FROM articles WHERE id = %s", (article_id,))
        row = cur.fetchone()
        link_entities(run, self.__dict__.setdefault("_entity_cache", {}), article_id, analysis,
                      row[0] if row else None, getattr(self, "gazetteer", None),
                      byline=row[1] if row else None)

    def _link_all(self, cur) -> int:
        cur.execute("UPDATE sources SET entity_id = NULL")
        cur.execute("DELETE FROM entities")
        self.__dict__["_entity_cache"] = {}
        cur.execute("SELECT id FROM articles ORDER BY id")
        ids = [r[0] for r in cur.fetchall()]
        for article_id in ids:
            cur.execute("SELECT analysis FROM articles WHERE id = %s", (article_id,))
            self._link_entities(cur, article_id, Analysis.from_json(cur.fetchone()[0]))
        return len(ids)

    def relink_entities(self) -> int:
        """Link every stored source to the entities again; the number of articles."""
        try:
            with self._lock, self.conn.transaction(), self.conn.cursor() as cur:
                cur.execute("LOCK TABLE entities IN EXCLUSIVE MODE")
                return self._link_all(cur)
        except self._psycopg.Error as exc:
            self.__dict__["_entity_cache"] = {}
            raise StoreError(f"could not relink the source entities: {_one_line(exc)}") from exc

    def entity_links(self, article_id: int) -> dict[int, tuple[int, str, str | None]]:
        return {r[0]: (r[1], r[2], r[3]) for r in self._query(
            "SELECT s.idx, e.id, e.name, e.external_id FROM sources s JOIN entities e ON e.id = s.entity_id "
            "WHERE s.article_id = %s", (article_id,))}

    def read_sql(self, sql: str, args: Any = ()) -> list[tuple]:
        """Rows of one read-only query with ``?`` parameters (the report's aggregations;
        our report SQL has no other question mark and no percent sign)."""
        return self._query(sql.replace("?", "%s"), tuple(args))

    def has_table(self, name: str) -> bool:
        return bool(self._query("SELECT 1 FROM information_schema.tables WHERE table_schema = "
                                "current_schema() AND table_name = %s", (name,)))

    def failures(self) -> list[FailureRecord]:
        return [FailureRecord(*r) for r in self._query(
            "SELECT input, reason, code, attempts, first_seen, last_seen FROM failures ORDER BY id")]

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "PostgresStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


__all__ = ["PostgresStore"]
