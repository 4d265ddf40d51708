"""The model behind each stored analysis: model (rules, fast, accurate, path:<folder>) and
model_version (sourcetrace's version and the weights' hash); `sourcetrace reanalyze`
re-runs the articles stored before, which have neither.
"""
from alembic import op

from sourcetrace.corpus.store import schema

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    schema.upgrade(op, revision)
