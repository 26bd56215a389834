"""The projections' own connections to the database the events live in (SQLite or PostgreSQL).

SQL is written once with ``?`` placeholders and portable SQL (``ON CONFLICT … DO UPDATE``,
integers for øre, ISO text for dates), so every read model behaves the same on both storages.
"""

from __future__ import annotations

import select
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from projections.cursors import Cursor, PostgresCursor, Row, SQLiteCursor, chunked, rows_where_in

__all__ = ["Cursor", "PostgresProjectionDatabase", "ProjectionDatabase", "Row", "chunked", "rows_where_in"]


class ProjectionDatabase:
    """Connections for read models: one write transaction at a time, concurrent reads."""

    dialect: str

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:  # pragma: no cover - interface
        raise NotImplementedError
        yield

    @contextmanager
    def reading(self) -> Iterator[Cursor]:  # pragma: no cover - interface
        raise NotImplementedError
        yield

    def close(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    @staticmethod
    def from_env(env: Mapping[str, str], *, pool_size: int = 4) -> ProjectionDatabase:
        """The database the events live in, from the same storage settings the application uses
        (eventsourcing's ``SQLITE_DBNAME`` or ``POSTGRES_*``), so the URL is parsed in one place."""
        if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
            return SQLiteProjectionDatabase(Path(env["SQLITE_DBNAME"]))
        conninfo = psycopg.conninfo.make_conninfo(
            dbname=env["POSTGRES_DBNAME"],
            host=env["POSTGRES_HOST"],
            port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"],
            connect_timeout=env["POSTGRES_CONNECT_TIMEOUT"],
        )
        return PostgresProjectionDatabase(
            conninfo,
            env["POSTGRES_SCHEMA"],
            pool_size=pool_size,
            lock_timeout=float(env.get("POSTGRES_LOCK_TIMEOUT") or 0),
        )


class SQLiteProjectionDatabase(ProjectionDatabase):
    """SQLite in WAL mode: a connection per thread; writes take the database's write lock."""

    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            connection.row_factory = sqlite3.Row
            # The event store has usually set WAL already; setting it again would need a lock that
            # another process starting at the same moment may hold (SQLite does not wait for it).
            if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            self._local.connection = connection
            with self._lock:
                self._all.append(connection)
        return connection

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self._bracket("BEGIN IMMEDIATE", commit=True) as cursor:
            yield cursor

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        with self._bracket("BEGIN", commit=False) as cursor:
            yield cursor

    @contextmanager
    def _bracket(self, begin: str, *, commit: bool) -> Iterator[Cursor]:
        """A transaction begun with ``begin``, committed at the end if ``commit``; rolled back otherwise
        and on any error."""
        connection = self._connection()
        connection.execute(begin)
        try:
            yield SQLiteCursor(connection)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT" if commit else "ROLLBACK")

    def close(self) -> None:
        with self._lock:
            for connection in self._all:
                connection.close()
            self._all.clear()
        self._local = threading.local()


class RevivingPool(ConnectionPool[Any]):
    """After a server restart the pooled connections are dead: each is tested at checkout and a
    dead one replaced at once (psycopg_pool's own ``check`` pauses 1 s, 2 s, … after each dead
    connection it meets, which made the first request after an idle restart wait seconds). The
    event store's pool does the same (``application.storage.RevivingPool``)."""

    def getconn(self, timeout: float | None = None) -> Any:
        wait = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                msg = f"couldn't get a connection after {wait:.2f} sec"
                raise PoolTimeout(msg)
            connection = super().getconn(left)
            try:
                _quick_check(connection)
            except psycopg.Error:
                connection.close()
                self.putconn(connection)  # a closed connection is dropped and replaced by the pool
                continue
            return connection


def _quick_check(connection: psycopg.Connection[Any]) -> None:
    """Ping a connection only when its socket has something to read: a healthy idle one has not,
    one the server closed has (its goodbye or EOF); no round trip for the healthy ones."""
    if connection.closed or connection.broken:
        msg = "the connection is closed"
        raise psycopg.OperationalError(msg)
    try:
        readable, _, _ = select.select([connection.fileno()], [], [], 0)
    except (OSError, ValueError):
        readable = [True]
    if readable:
        ConnectionPool.check_connection(connection)


class PostgresProjectionDatabase(ProjectionDatabase):
    """PostgreSQL through a psycopg pool, with the schema on the search path."""

    dialect = "postgres"

    def __init__(self, conninfo: str, schema: str, *, pool_size: int, lock_timeout: float = 0) -> None:
        self.conninfo = conninfo
        self.schema = schema
        # The pool's statements (report reads, the runner's folds) wait for a lock at most
        # ``lock_timeout`` seconds (the URL's), then fail: a report answers 503, the runner retries.
        # The maintenance connection (``listen_connection``) waits as long as it takes.
        options = f"-c search_path={schema} -c lock_timeout={int(lock_timeout * 1000)}ms"
        self.pool: ConnectionPool[psycopg.Connection[Row]] = RevivingPool(
            conninfo,
            min_size=1,
            max_size=pool_size,
            kwargs={"row_factory": dict_row, "options": options},
            open=False,
            timeout=5,
        )
        self.pool.open(wait=False)
        self._column_types: dict[str, dict[str, str]] = {}
        """Per table, its columns' types (``PostgresCursor._relation`` casts its arrays to them)."""

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self.pool.connection() as connection, connection.transaction(), connection.cursor() as cursor:
            yield PostgresCursor(cursor, self._column_types)

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        with self.pool.connection() as connection, connection.transaction(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION READ ONLY")
            yield PostgresCursor(cursor, self._column_types)

    def listen_connection(self) -> psycopg.Connection[Any]:
        """A dedicated autocommit connection: for LISTEN/NOTIFY, VACUUM (which needs one), and the
        indexes and ANALYZEs a bulk build runs beside its own transactions."""
        return psycopg.connect(self.conninfo, autocommit=True, options=f"-c search_path={self.schema}")

    def close(self) -> None:
        self.pool.close()
