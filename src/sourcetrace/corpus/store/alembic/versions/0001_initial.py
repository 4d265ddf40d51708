"""The corpus: articles with their analysis, attributions and sources (one row each, for
search and aggregation), the full-text index, and the inputs that failed.
"""
from alembic import op

from sourcetrace.corpus.store import schema
from sourcetrace.corpus.store.dialects import dialect_of

revision = "0001"
down_revision = None


def upgrade() -> None:
    schema.upgrade(op, revision)
    dialect_of(op.get_bind()).create_search_index(op)
