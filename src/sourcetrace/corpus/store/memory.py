"""An in-process store for unit tests and one-off runs: SQLite in memory, the same store
and schema as a file (full text with FTS5), gone when closed. One connection, shared by
the threads that use the store."""
from __future__ import annotations

import sqlite3

from .sql import SqlAlchemyStore, one_connection_engine

__all__ = ["MemoryStore"]


class MemoryStore(SqlAlchemyStore):
    backend = "memory"
    driver_errors = (sqlite3.Error,)

    def __init__(self) -> None:
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA foreign_keys=ON")
        super().__init__(one_connection_engine("sqlite+pysqlite://", conn), where="memory")
