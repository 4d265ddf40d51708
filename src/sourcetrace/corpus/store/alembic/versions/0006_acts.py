"""The act of each attribution (speech, belief, finding, intention, perception) as a
column, so every corpus figure counts the acts a reader asks for in SQL; read from the
stored analysis for the attributions stored before (NULL counts as speech), with how
each older source is referred to.
"""
from alembic import op

from sourcetrace.corpus.store import schema
from sourcetrace.corpus.store.migrate import backfill_acts

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    schema.upgrade(op, revision)
    backfill_acts(op.get_bind())
