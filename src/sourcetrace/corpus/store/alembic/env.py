"""The Alembic environment of the corpus store (run by store.migrate, never from an
alembic.ini): migrates the connection it is handed, inside the caller's transaction."""
from __future__ import annotations

from alembic import context

from sourcetrace.corpus.store.migrate import VERSION_TABLE
from sourcetrace.corpus.store.schema import DIALECT_TABLES, metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("the store's migrations run on a connection: open the store "
                       "(sourcetrace.corpus.store.open_store) to migrate it")


def include_name(name, type_, parent_names):
    """Compare only the metadata's tables (the dialect's full-text tables are its own)."""
    return type_ != "table" or (name in metadata.tables and name not in DIALECT_TABLES)


context.configure(connection=connection, target_metadata=metadata,
                  version_table=VERSION_TABLE, include_name=include_name)
with context.begin_transaction():   # the caller's transaction: nothing committed here
    context.run_migrations()
