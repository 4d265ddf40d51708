"""Source entities across the corpus: every source that refers to someone is linked to one
entity ("Donald Trump" = "Trump" = "President Trump"), at insert time; the articles
stored before are linked here.
"""
from alembic import op

from sourcetrace.corpus.store import schema
from sourcetrace.corpus.store.sql import link_all

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    schema.upgrade(op, revision)
    link_all(op.get_bind(), {})
