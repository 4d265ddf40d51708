"""PostgreSQL behind the same contract (``--db postgresql://user@host/dbname``, or any
libpq connection string).

Needs the ``postgres`` extra (psycopg 3). Full text: a generated tsvector column with a
GIN index, queried with phraseto_tsquery per term ('english' stemming). Migrations run
under an advisory lock, so two processes opening a new database at once apply each
revision once.
"""
from __future__ import annotations

from ...errors import StoreError
from .sql import SqlAlchemyStore, one_connection_engine

__all__ = ["PostgresStore"]


def _psycopg():
    try:
        import psycopg
    except ImportError as exc:
        raise StoreError("PostgreSQL support is not installed",
                         hint="pip install 'sourcetrace[postgres]'") from exc
    return psycopg


class PostgresStore(SqlAlchemyStore):
    backend = "postgres"

    def __init__(self, dsn: str) -> None:
        psycopg = _psycopg()
        self.dsn = dsn
        self.driver_errors = (psycopg.Error,)
        try:
            conn = psycopg.connect(dsn, connect_timeout=10)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to PostgreSQL: {' '.join(str(exc).split())}",
                             hint="check the --db URL, that the server runs and accepts you") from exc
        super().__init__(one_connection_engine("postgresql+psycopg://", conn),
                         where="PostgreSQL")
