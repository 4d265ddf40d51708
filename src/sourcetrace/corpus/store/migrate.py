"""The store's one migration history (Alembic), run when a store is opened.

The revisions live in ``store/alembic/versions/`` and are numbered like the SQL files
that came before them (0001 ... 0008), so a corpus made before Alembic, which records its
applied versions in ``schema_migrations``, is stamped with its last one and upgraded in
place from there. The version is kept in the ``sourcetrace_version`` table (not
``alembic_version``: a PostgreSQL schema may hold another application's).

Everything runs inside the caller's transaction, under the dialect's migration lock: two
processes opening a new corpus at once apply each revision once, and a failed revision
leaves the corpus as it was.
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Iterator

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, update

__all__ = ["VERSION_TABLE", "head", "current", "applied", "upgrade", "backfill_figures",
           "backfill_acts", "foreign_tables", "is_corpus", "up_to_date"]

VERSION_TABLE = "sourcetrace_version"
LEGACY_TABLE = "schema_migrations"


def config(connection: Any = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "sourcetrace.corpus.store:alembic")
    cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(config())


def head() -> str:
    return scripts().get_current_head()


def _context(conn: Any) -> MigrationContext:
    return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})


def current(conn: Any) -> str | None:
    """The revision of the corpus on ``conn`` (a corpus made before Alembic: the one
    its last applied migration matches), or None (a database with no corpus yet)."""
    names = set(inspect(conn).get_table_names())
    if VERSION_TABLE in names:
        return _context(conn).get_current_revision()
    if LEGACY_TABLE in names:
        done = conn.exec_driver_sql(f"SELECT max(version) FROM {LEGACY_TABLE}").scalar()
        known = [r.revision for r in scripts().walk_revisions() if int(r.revision) <= (done or 0)]
        return max(known) if known else None
    return None


def up_to_date(conn: Any) -> bool:
    """Whether the corpus on ``conn`` is at the head revision, recorded by Alembic."""
    return VERSION_TABLE in inspect(conn).get_table_names() and \
        _context(conn).get_current_revision() == head()


def applied(conn: Any) -> list[int]:
    """The revisions applied to the corpus on ``conn``, as numbers, in order."""
    rev = current(conn)
    if rev is None:
        return []
    return sorted(int(r.revision) for r in scripts().iterate_revisions(rev, "base"))


def is_corpus(conn: Any) -> bool:
    """Whether ``conn`` holds a sourcetrace corpus (a version recorded)."""
    names = set(inspect(conn).get_table_names())
    return VERSION_TABLE in names or LEGACY_TABLE in names


def upgrade(conn: Any, target: str = "head") -> None:
    """Bring the corpus on ``conn`` to ``target`` (in the caller's transaction, which
    holds the dialect's migration lock); a corpus made before Alembic is stamped first."""
    names = set(inspect(conn).get_table_names())
    if VERSION_TABLE not in names and LEGACY_TABLE in names:
        rev = current(conn)
        if rev is not None:
            _context(conn).stamp(scripts(), rev)
    command.upgrade(config(conn), target)


def foreign_tables(conn: Any) -> set[str]:
    """Tables where no corpus is recorded: ours (a corpus half made by hand) or, in an
    SQLite file (another program's database), any."""
    from .schema import DIALECT_TABLES, metadata

    names = set(inspect(conn).get_table_names())
    if conn.dialect.name == "sqlite":
        return names
    return names & (set(metadata.tables) | set(DIALECT_TABLES))


# -- data the revisions derive from the stored analyses -----------------------------

def _articles(conn: Any, *cols: str) -> Iterator[tuple]:
    """The rows of ``articles`` (id first) in id order, a page at a time."""
    from .schema import articles

    last = 0
    while True:
        rows = conn.execute(select(articles.c.id, *(articles.c[c] for c in cols))
                            .where(articles.c.id > last).order_by(articles.c.id)
                            .limit(200)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1][0]


def backfill_figures(conn: Any) -> None:
    """Revision 0004: the record id and the article_figures row of every stored article,
    from its analysis (``figure_row``, as an article added now gets them)."""
    from . import ArticleRecord, figure_row
    from ...model import Analysis
    from .schema import article_figures, articles

    for article_id, analysis, title in list(_articles(conn, "analysis", "title")):
        a = Analysis.from_json(analysis)
        rid = a.meta.get("id")
        if isinstance(rid, (str, int)) and not isinstance(rid, bool):
            conn.execute(update(articles).where(articles.c.id == article_id)
                         .values(record_id=str(rid)))
        row = figure_row(ArticleRecord(analysis=a, input="", title=title))
        conn.execute(article_figures.insert().values(article_id=article_id, **row))


def backfill_acts(conn: Any) -> None:
    """Revision 0006: the act of each stored attribution and how each source is referred
    to (where migration 0002 had not written it), from the stored analysis."""
    from .schema import attributions, sources

    for article_id, analysis in list(_articles(conn, "analysis")):
        data = json.loads(analysis)
        for i, att in enumerate(data.get("attributions") or ()):
            if att.get("act") is not None:
                conn.execute(update(attributions).where(
                    attributions.c.article_id == article_id, attributions.c.idx == i)
                    .values(act=att["act"]))
        for i, src in enumerate(data.get("sources") or ()):
            if src.get("referred_as") is not None:
                conn.execute(update(sources).where(
                    sources.c.article_id == article_id, sources.c.idx == i,
                    sources.c.referred_as.is_(None)).values(referred_as=src["referred_as"]))
