"""${message}"""
from alembic import op

from sourcetrace.corpus.store import schema

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}


def upgrade() -> None:
    schema.upgrade(op, revision)   # what schema.py marks as added by this revision
