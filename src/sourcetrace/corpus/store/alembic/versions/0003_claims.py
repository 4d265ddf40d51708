"""Claims across outlets, written at ingest time one batch per article (with its
syndication signature and the articles it copies), their confirmed matches, and the
imported fact-checks.
"""
from alembic import op

from sourcetrace.corpus.store import schema

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    schema.upgrade(op, revision)
