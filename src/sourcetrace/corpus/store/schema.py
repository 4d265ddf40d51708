"""The corpus schema, once, for SQLite and PostgreSQL (SQLAlchemy Core).

Every table, column and index carries the revision that added it (``info["since"]``:
"0001" ... , the Alembic revisions under ``store/alembic/versions/``). A revision calls
``upgrade(op, "0009")`` and gets exactly what this module says came with it: new tables
are created, new columns added, new indexes made. Adding a column is one line here and a
revision file of a few lines. What differs between the databases (the full-text index,
dates in the views, upserts) sits behind ``dialects.Dialect``.

Analysis JSON in ``articles.analysis`` is the record of truth; the other tables are
derived from it at insert time, for search and aggregation. The full-text index over
articles, quotes and sources (``search_index``) and over claims and fact-checks are the
dialect's own (FTS5 tables in SQLite, tsvector and GIN indexes in PostgreSQL), as are the
views' date columns.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    column,
    table,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.sqlite import REAL

from . import FIGURE_COMPONENTS, FIGURE_IDENTITIES, FIGURE_QUOTE_KINDS, FIGURE_REFERRED, \
    FIGURE_SOURCE_KINDS

__all__ = ["metadata", "upgrade", "VIEWS", "search_index", "DIALECT_TABLES"]

metadata = MetaData()

#: row ids: INTEGER in SQLite (the rowid itself), BIGINT (BIGSERIAL for keys) in PostgreSQL
Id = BigInteger().with_variant(Integer(), "sqlite")
#: REAL in SQLite, DOUBLE PRECISION in PostgreSQL
Real = Double().with_variant(REAL(), "sqlite")


def since(revision: str, item: Any) -> Any:
    item.info["since"] = revision
    return item


def define(name: str, revision: str, *columns: Column, **kw: Any) -> Table:
    """A table added by ``revision``; its columns without a revision of their own came
    with it."""
    for c in columns:
        c.info.setdefault("since", revision)
    return since(revision, Table(name, metadata, *columns, **kw))


def col(name: str, type_: Any, *args: Any, rev: str | None = None, **kw: Any) -> Column:
    c = Column(name, type_, *args, **kw)
    return since(rev, c) if rev else c


def counter(name: str, default: int = 0, rev: str | None = None) -> Column:
    return col(name, Integer, nullable=False, server_default=sql_text(str(default)), rev=rev)


def article_ref(name: str = "article_id", **kw: Any) -> Column:
    return col(name, Id, ForeignKey("articles.id", ondelete="CASCADE"), **kw)


def batch_ref() -> Column:
    return col("batch", Id, ForeignKey("claim_batches.seq", ondelete="CASCADE"), nullable=False)


def text(*names: str, rev: str | None = None, **kw: Any) -> list[Column]:
    return [col(n, Text, rev=rev, **kw) for n in names]


articles = define(
    "articles", "0001",
    col("id", Id, primary_key=True),
    col("content_hash", Text, nullable=False, unique=True),   # sha256 of the normalised text
    *text("outlet", "url", "canonical_url", "title", "author", "date"),   # date: ISO 8601
    col("input", Text, nullable=False),     # where it came from: path, path:line, URL, WARC
    *text("input_kind", "raw"),             # raw: the input when it differs from the text
    col("text", Text, nullable=False),
    col("analysis", Text, nullable=False),  # Analysis JSON, lossless
    col("profile", Text),                   # the sourcing profile (also inside analysis)
    counter("n_attributions"), counter("n_sources"),
    col("added_at", Text, nullable=False),
    col("record_id", Text, rev="0004"),     # the input record's own id
    *text("model", "model_version", rev="0005"),   # the model behind the analysis
)

attributions = define(
    "attributions", "0001",
    article_ref(primary_key=True, nullable=False),
    col("idx", Integer, primary_key=True, autoincrement=False),   # in Analysis.attributions
    *text("kind", "rule"),
    col("confidence", Real),
    col("parent", Integer),
    col("speaker", Text),
    col("source_id", Integer),              # sources.idx of the same article
    *text("source_text", "cue_text", "content_text"),
    col("spans", Text, nullable=False),     # {"source": [[s, e]], "cue": ..., "content": ...}
    col("act", Text, rev="0006"),           # speech, belief, finding, ... (NULL: speech)
)

sources = define(
    "sources", "0001",
    article_ref(primary_key=True, nullable=False),
    col("idx", Integer, primary_key=True, autoincrement=False),   # Source.id
    col("name", Text, nullable=False),
    *text("identity", "kind", "role", "channel"),
    col("hearsay_depth", Integer),
    counter("n_attributions"), counter("n_mentions"),
    col("entity_id", Id, rev="0002"),
    col("referred_as", Text, rev="0002"),   # she, he, they
)

failures = define(
    "failures", "0001",
    col("id", Id, primary_key=True),
    col("input", Text, nullable=False, unique=True),
    *text("reason", "code", nullable=False),
    counter("attempts", 1),
    *text("first_seen", "last_seen", nullable=False),
)

# source entities across the corpus ("Donald Trump" = "Trump" = "President Trump"); kind,
# role and external_id are pinned by a gazetteer (NULL otherwise)
entities = define(
    "entities", "0002",
    col("id", Id, primary_key=True, autoincrement=False),
    col("key", Text, nullable=False, unique=True),   # person:donald trump, ...
    col("name", Text, nullable=False),
    col("surname", Text),
    counter("person"),
    *text("kind", "role", "external_id"),
    counter("articles"),
)

# claims across outlets (crossoutlet/): one batch per article whose claims are in (even with
# none), with its syndication signature and the earlier articles it copies (JSON list);
# claims with their embedding (float16); confirmed matches with their evidence
claim_batches = define(
    "claim_batches", "0003",
    col("seq", Id, primary_key=True),
    article_ref(nullable=False, unique=True),
    col("signature", LargeBinary, nullable=False),
    col("size", Integer, nullable=False),
    *text("outlet", "site_name"),
    col("copies", Text, nullable=False, server_default="[]"),
    sqlite_autoincrement=True,              # seq never reused: readers resume after it
)

claims = define("claims", "0003", col("id", Text, primary_key=True),
                col("pos", Integer, nullable=False), batch_ref(),   # pos: order in the article
                col("data", Text, nullable=False), col("vector", LargeBinary, nullable=False))

claim_matches = define("claim_matches", "0003",
                       *(col(n, Text, primary_key=True) for n in ("claim_id", "other_id")),
                       batch_ref(), col("evidence", Text, nullable=False))

# ClaimReview verdicts (`sourcetrace factchecks import`) and the embedding of their claim
factchecks = define(
    "factchecks", "0003",
    col("id", Text, primary_key=True),
    col("data", Text, nullable=False),
    col("vector", LargeBinary, nullable=False),
)

#: the outlet report's per-article figures (store.figure_row), summed per outlet or period
FIGURE_COUNTS = tuple(f"att_{v}" for v in (*FIGURE_IDENTITIES, *FIGURE_SOURCE_KINDS,
                                           *FIGURE_QUOTE_KINDS)) + tuple(
    f"src_{v}" for v in FIGURE_REFERRED)
article_figures = define(
    "article_figures", "0004",
    article_ref(primary_key=True),
    col("n_attributions", Integer), col("n_sources", Integer),
    col("transparency", Real),
    *(col(f"{c}_component", Real) for c in FIGURE_COMPONENTS),
    *(col(n, Integer) for n in ("checkworthy_unattributed", "top_level_attributions",
                                "longest_chain")),
    col("hearsay_chain", Text),
    col("single_source_claims", Integer),
    *(counter(n) for n in FIGURE_COUNTS),
)

for name, tbl, cols, rev in (
        ("articles_outlet", articles, ("outlet",), "0001"),
        ("articles_date", articles, ("date",), "0001"),
        ("articles_input", articles, ("input",), "0001"),
        ("sources_name", sources, ("name",), "0001"),
        ("sources_kind", sources, ("kind", "identity"), "0001"),
        ("entities_surname", entities, ("surname",), "0002"),
        ("sources_entity", sources, ("entity_id",), "0002"),
        ("claims_batch", claims, ("batch",), "0003"),
        ("claim_matches_batch", claim_matches, ("batch",), "0003"),
        ("attributions_act", attributions, ("act", "confidence"), "0006")):
    since(rev, Index(name, *(tbl.c[c] for c in cols)))

#: what full-text search covers (the dialect makes the table: FTS5 or tsvector + GIN):
#: what = article | quote | source; ref = the attribution or source index; source_ref =
#: the source a quote or source row belongs to (for the identity and kind filters)
search_index = table("search_index", column("body"), column("article_id"), column("what"),
                     column("ref"), column("source_ref"))

#: tables the dialect makes and keeps (left out of the metadata's comparisons)
DIALECT_TABLES = ("search_index", "claims_fts", "factchecks_fts")

_FIGURES = ", ".join(f"f.{c.name}" for c in article_figures.c if c.name != "article_id")

#: the report's views (migration 0004), also for reading the corpus with any SQL tool:
#: `date` as stored, `day` the full date, `month` YYYY-MM, `week` the Monday of its ISO
#: week (``{day}``, ``{month}``, ``{week}``: the dialect's expressions over a.date)
VIEWS = {
    "article_view": (
        "SELECT a.id AS article_id, a.record_id, a.outlet, a.title, a.url, a.author, a.date, "
        "{day} AS day, {month} AS month, {week} AS week, a.input, a.input_kind, a.added_at, "
        f"{_FIGURES} FROM articles a LEFT JOIN article_figures f ON f.article_id = a.id"),
    "attribution_view": (
        "SELECT t.article_id, t.idx, a.outlet, a.date, {month} AS month, {week} AS week, "
        "t.kind, t.speaker, t.source_id, coalesce(s.identity, 'unspecified') AS "
        "source_identity, coalesce(s.kind, 'none') AS source_kind, t.parent, t.rule, "
        "t.confidence, t.source_text, t.cue_text, t.content_text FROM attributions t "
        "JOIN articles a ON a.id = t.article_id LEFT JOIN sources s ON "
        "s.article_id = t.article_id AND s.idx = t.source_id"),
    "source_view": (
        "SELECT s.article_id, s.idx AS source_id, a.outlet, a.date, {month} AS month, "
        "{week} AS week, s.name, s.identity, coalesce(s.kind, 'none') AS kind, s.role, "
        "s.channel, s.hearsay_depth, s.n_attributions, s.n_mentions FROM sources s "
        "JOIN articles a ON a.id = s.article_id"),
}


def _copy(c: Column) -> Column:
    return c._copy()


def upgrade(op: Any, revision: str) -> None:
    """Make what ``revision`` added to the schema: its tables (with the columns they had
    then), its columns of older tables, its indexes."""
    for tbl in metadata.sorted_tables:
        born = tbl.info["since"]
        if born == revision:
            cols = [_copy(c) for c in tbl.columns if c.info["since"] <= revision]
            op.create_table(tbl.name, *cols, **tbl.kwargs)
        elif born < revision:
            for c in tbl.columns:
                if c.info["since"] == revision:
                    op.add_column(tbl.name, _copy(c))
    for tbl in metadata.sorted_tables:
        for index in sorted(tbl.indexes, key=lambda i: i.name):
            if index.info["since"] == revision:
                op.create_index(index.name, tbl.name, [c.name for c in index.columns])
