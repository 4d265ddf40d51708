"""Full-text search over claims and fact-checks (corpus/store/search.py): FTS5 tables
filled lazily before each search in SQLite, GIN indexes in PostgreSQL.
"""
from alembic import op

from sourcetrace.corpus.store.dialects import dialect_of

revision = "0008"
down_revision = "0006"


def upgrade() -> None:
    dialect_of(op.get_bind()).create_claim_search(op)
