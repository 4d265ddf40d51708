"""The outlet report: per-article figures (article_figures, with the record id of each
article) and the views article_view, attribution_view and source_view; the articles
stored before get theirs from their stored analysis.
"""
from alembic import op

from sourcetrace.corpus.store import schema
from sourcetrace.corpus.store.dialects import dialect_of
from sourcetrace.corpus.store.migrate import backfill_figures

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    schema.upgrade(op, revision)
    bind = op.get_bind()
    backfill_figures(bind)
    dates = dialect_of(bind).dates("a.date")
    for name, sql in schema.VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS " + sql.format(**dates))
