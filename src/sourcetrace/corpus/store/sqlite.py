"""The embedded default store: one SQLite file (``./sourcetrace.db``), no server.

WAL mode lets readers (search, export) run while an ingest writes; every write is one
transaction begun IMMEDIATE (the write lock at once), waiting up to 30 s for another
writer. A command that only reads a corpus (``create=False``) never makes one: an empty
file or one that is not a sourcetrace corpus is refused and left as it was, and a corpus
on read-only storage is opened read-only (``mode=ro``; ``immutable=1`` where not even its
``-shm`` can be made).
"""
from __future__ import annotations

import os
import sqlite3
from urllib.parse import quote

from ...errors import StoreError
from .dialects import SqliteDialect
from .sql import SqlAlchemyStore, one_connection_engine

__all__ = ["SqliteStore"]


class SqliteStore(SqlAlchemyStore):
    backend = "sqlite"
    driver_errors = (sqlite3.Error,)

    def __init__(self, path: str, *, create: bool = True) -> None:
        """``create=False`` (the commands that read a corpus): the file must already be a
        sourcetrace corpus; nothing is created in it, and a corpus on read-only storage
        (the file or its folder not writable) is opened read-only."""
        self.path = path
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise StoreError(f"cannot create the database {path!r}: folder {folder!r} does not exist",
                             hint="create the folder or give another --db path")
        readonly = False
        if not create:
            _check_existing(path)
            readonly = not (os.access(path, os.W_OK) and os.access(folder, os.W_OK))
        try:
            try:
                conn = _connect(path, readonly, os.access(folder, os.W_OK))
            except sqlite3.OperationalError as exc:
                if create or readonly or not any(
                        w in str(exc) for w in ("unable to open", "readonly", "read-only")):
                    raise
                readonly = True   # read-only storage that os.access did not show
                conn = _connect(path, True, False)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open {path!r} as a sourcetrace database: "
                             f"{SqliteDialect().why(exc)}",
                             hint="give a new file name or an existing sourcetrace .db") from exc
        super().__init__(one_connection_engine("sqlite+pysqlite://", conn), where=repr(path),
                         readonly=readonly)


def _connect(path: str, readonly: bool, folder_writable: bool) -> sqlite3.Connection:
    """The file's connection; transactions are the store's (isolation_level None)."""
    if not readonly:
        conn = sqlite3.connect(path, isolation_level=None, timeout=30.0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn
    # mode=ro reads a WAL corpus where its -shm can be made; on storage where nothing
    # can be made (a read-only folder or mount), immutable=1 reads the file alone
    uri = f"file:{quote(os.path.abspath(path))}?mode=ro" + ("" if folder_writable
                                                             else "&immutable=1")
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30.0)
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return conn


def _check_existing(path: str) -> None:
    """A command that reads a corpus never makes one: an empty file or one that is not
    SQLite is refused, and left as it was."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as exc:
        raise StoreError(f"cannot read the corpus {path!r}: {exc.strerror or exc}",
                         hint="check the path and its permissions") from None
    if not head:
        raise StoreError(f"cannot open {path!r}: it is an empty file, not a sourcetrace "
                         "corpus (it was left as it is)",
                         hint="give --db the corpus `sourcetrace ingest` made, or ingest "
                              "into a new file")
    if head != b"SQLite format 3\x00":
        raise StoreError(f"cannot open {path!r} as a sourcetrace database: it is not an "
                         "SQLite database", hint="check --db (or $SOURCETRACE_DB)")
