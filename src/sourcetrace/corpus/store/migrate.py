"""The store's one migration history (Alembic), run when a store is opened.

The revisions live in ``store/alembic/versions/``, one file each, numbered in order
(``0001_initial.py`` ... ; the history is a line, which test_store_sqlite checks against
Alembic's own reading), like the SQL files that came before them, so a corpus made before
Alembic, which records its applied versions in ``schema_migrations``, is stamped with its
last one and upgraded in place from there. The version is kept in the
``sourcetrace_version`` table (not ``alembic_version``: a PostgreSQL schema may hold
another application's). Opening a corpus that is up to date reads that table and the file
names only: Alembic is imported when there is something to migrate.

Everything runs inside the caller's transaction, under the dialect's migration lock: two
processes opening a new corpus at once apply each revision once, and a failed revision
leaves the corpus as it was.
"""
from __future__ import annotations

import json
import os
import re
from typing import Any, Iterator

from sqlalchemy import inspect, select, update

__all__ = ["VERSION_TABLE", "VERSIONS", "revisions", "head", "current", "applied", "upgrade",
           "backfill_figures", "backfill_acts", "foreign_tables", "is_corpus", "up_to_date"]

VERSION_TABLE = "sourcetrace_version"
LEGACY_TABLE = "schema_migrations"
#: the folders of revision files (the packaged one; a test adds its own)
VERSIONS = [os.path.join(os.path.dirname(os.path.abspath(__file__)), "alembic", "versions")]
_REVISION_FILE = re.compile(r"(\d{4,})_\w+\.py")


def config(connection: Any = None) -> Any:
    """Alembic's configuration: the packaged environment, no alembic.ini."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "sourcetrace.corpus.store:alembic")
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(VERSIONS))
    cfg.attributes["connection"] = connection
    return cfg


def scripts() -> Any:
    """Alembic's reading of the revisions (its ScriptDirectory)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(config())


def revisions() -> list[str]:
    """The revision ids, in order, from the file names."""
    return sorted({m.group(1) for folder in VERSIONS for name in os.listdir(folder)
                   if (m := _REVISION_FILE.fullmatch(name))}, key=int)


def head() -> str:
    return revisions()[-1]


def _context(conn: Any) -> Any:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})


def current(conn: Any) -> str | None:
    """The revision of the corpus on ``conn`` (a corpus made before Alembic: the one
    its last applied migration matches), or None (a database with no corpus yet)."""
    names = set(inspect(conn).get_table_names())
    if VERSION_TABLE in names:
        rows = conn.execute(select(_version_column())).all()
        return rows[0][0] if rows else None
    if LEGACY_TABLE in names:
        done = conn.exec_driver_sql(f"SELECT max(version) FROM {LEGACY_TABLE}").scalar() or 0
        known = [r for r in revisions() if int(r) <= done]
        return known[-1] if known else None
    return None


def _version_column() -> Any:
    from sqlalchemy import column, table

    return table(VERSION_TABLE, column("version_num")).c.version_num


def up_to_date(conn: Any) -> bool:
    """Whether the corpus on ``conn`` is at the head revision, recorded in its version
    table (a corpus made before Alembic is not: it is stamped first)."""
    return VERSION_TABLE in inspect(conn).get_table_names() and current(conn) == head()


def applied(conn: Any) -> list[int]:
    """The revisions applied to the corpus on ``conn``, as numbers, in order."""
    rev = current(conn)
    return [int(r) for r in revisions() if rev is not None and int(r) <= int(rev)]


def is_corpus(conn: Any) -> bool:
    """Whether ``conn`` holds a sourcetrace corpus (a version recorded)."""
    names = set(inspect(conn).get_table_names())
    return VERSION_TABLE in names or LEGACY_TABLE in names


def upgrade(conn: Any, target: str = "head") -> None:
    """Bring the corpus on ``conn`` to ``target`` (in the caller's transaction, which
    holds the dialect's migration lock); a corpus made before Alembic is stamped first."""
    from alembic import command

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
