"""The projections' own connections to the database the events live in (SQLite or PostgreSQL).

SQL is written once with ``?`` placeholders and portable SQL (``ON CONFLICT … DO UPDATE``,
integers for øre, ISO text for dates), so every read model behaves the same on both storages.
"""

from __future__ import annotations

import select
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import psycopg
from psycopg.rows import dict_row, tuple_row
from psycopg.sql import SQL, Identifier
from psycopg_pool import ConnectionPool, PoolTimeout

Row = dict[str, Any]


class Cursor(Protocol):
    """What the read models need of a cursor: run a statement, fetch rows as dicts (``rows``,
    ``one``) or tuples (``tuples``)."""

    dialect: str

    def run(self, sql: str, params: Sequence[Any] = ()) -> None: ...
    def run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...
    def insert_many(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert new rows (no conflict handling) the fastest way the database offers."""
        ...

    def update_many(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Update existing rows, keyed by the first column, to the values of the others."""
        ...

    def delete_many(self, table: str, keys: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Delete the rows whose ``keys`` columns equal one of ``rows``."""
        ...

    def add_many(self, table: str, keys: Sequence[str], value: str, rows: Sequence[Sequence[Any]]) -> None:
        """``value += delta`` for each row ``(*key, delta)`` (inserting new keys), then delete the
        rows that a negative delta brought to zero. Keys are unique within ``rows``."""
        ...

    def rows(self) -> list[Row]: ...
    def tuples(self) -> list[tuple[Any, ...]]:
        """The result as tuples in the statement's column order: for reports that read thousands of
        rows, where building a dict per row is much of their time."""
        ...

    def one(self) -> Row | None: ...


def chunked(values: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    """``values`` in slices of at most ``size``, to keep ``IN (…)`` lists within parameter limits."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _add_statements(table: str, keys: Sequence[str], value: str) -> tuple[str, str]:
    """Row-wise ``INSERT … ON CONFLICT`` adding a delta, and ``DELETE`` of a key left at zero."""
    columns = ", ".join((*keys, value))
    marks = ", ".join("?" * (len(keys) + 1))
    upsert = (
        f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT ({', '.join(keys)}) "
        f"DO UPDATE SET {value} = {table}.{value} + excluded.{value}"
    )
    match = " AND ".join(f"{key} = ?" for key in keys)
    return upsert, f"DELETE FROM {table} WHERE {match} AND {value} = 0"


def _update_by_key(
    table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> tuple[str, list[tuple[Any, ...]]]:
    """``UPDATE`` of the other columns of the row keyed by the first, and its parameters per row."""
    key, *values = columns
    statement = f"UPDATE {table} SET {','.join(f'{column}=?' for column in values)} WHERE {key}=?"
    return statement, [(*row[1:], row[0]) for row in rows]


class _SQLiteCursor:
    dialect = "sqlite"

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._cursor = connection.cursor()

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(sql, params)

    def run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(sql, rows)

    def insert_many(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        marks = ",".join("?" * len(columns))
        self._cursor.executemany(f"INSERT INTO {table} ({','.join(columns)}) VALUES ({marks})", rows)

    def update_many(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(*_update_by_key(table, columns, rows))

    def delete_many(self, table: str, keys: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        match = " AND ".join(f"{key} = ?" for key in keys)
        self._cursor.executemany(f"DELETE FROM {table} WHERE {match}", rows)

    def add_many(self, table: str, keys: Sequence[str], value: str, rows: Sequence[Sequence[Any]]) -> None:
        upsert, delete = _add_statements(table, keys, value)
        self._cursor.executemany(upsert, rows)
        # Summed values are never negative, so only a key that went down can have reached zero.
        self._cursor.executemany(delete, [row[:-1] for row in rows if row[-1] < 0])

    def rows(self) -> list[Row]:
        return [dict(row) for row in self._cursor.fetchall()]

    def tuples(self) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._cursor.fetchall()]

    def one(self) -> Row | None:
        row = self._cursor.fetchone()
        return dict(row) if row is not None else None


class _PostgresCursor:
    dialect = "postgres"

    def __init__(self, cursor: psycopg.Cursor[Row], column_types: dict[str, dict[str, str]]) -> None:
        self._cursor = cursor
        self._column_types = column_types

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(sql.replace("?", "%s"), params)

    def run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._cursor.executemany(sql.replace("?", "%s"), rows)

    def insert_many(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        # COPY streams the rows in one statement: several times faster than row-wise INSERTs.
        if not rows:
            return
        # In binary: less than half the CPU per row of the text format here (no values formatted
        # as text and escaped), given the columns' types.
        statement = SQL("COPY {0} ({1}) FROM STDIN (FORMAT BINARY)").format(
            Identifier(table), SQL(", ").join(map(Identifier, columns))
        )
        types = self._types(table)
        with self._cursor.copy(statement) as copy:
            copy.set_types([types[column] for column in columns])
            for row in rows:
                copy.write_row(row)

    def update_many(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        key, *values = columns
        relation, params = self._relation(table, columns, rows)
        assignments = ",".join(f"{column}=s.{column}" for column in values)
        self.run(f"UPDATE {table} t SET {assignments} FROM {relation} WHERE t.{key} = s.{key}", params)

    def delete_many(self, table: str, keys: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        relation, params = self._relation(table, keys, rows)
        match = " AND ".join(f"t.{key} = s.{key}" for key in keys)
        self.run(f"DELETE FROM {table} t USING {relation} WHERE {match}", params)

    def add_many(self, table: str, keys: Sequence[str], value: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        columns = ", ".join((*keys, value))
        relation, params = self._relation(table, (*keys, value), rows)
        self.run(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {relation} "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {value} = {table}.{value} + excluded.{value}",
            params,
        )
        lowered = [row[:-1] for row in rows if row[-1] < 0]
        if lowered:
            relation, params = self._relation(table, keys, lowered)
            match = " AND ".join(f"t.{key} = s.{key}" for key in keys)
            self.run(f"DELETE FROM {table} t USING {relation} WHERE {match} AND t.{value} = 0", params)

    def _relation(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> tuple[str, list[list[Any]]]:
        """``rows`` as a relation ``s(columns)`` of ``table``'s column types: one array per column,
        sent in binary, so that one statement applies any number of rows (row by row, the
        statements' own overhead was much of the server's work for the live projections)."""
        types = self._types(table)
        arrays = ", ".join(f"%b::{types[column]}[]" for column in columns)
        params = [list(column) for column in zip(*rows, strict=True)]
        return f"unnest({arrays}) AS s({', '.join(columns)})", params

    def _types(self, table: str) -> dict[str, str]:
        """The PostgreSQL type of each of ``table``'s columns (read from the catalogue once)."""
        types = self._column_types.get(table)
        if types is None:
            self._cursor.execute(
                "SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                [table],
            )
            types = self._column_types[table] = {
                row["attname"]: row["type"] for row in self._cursor.fetchall()
            }
        return types

    def rows(self) -> list[Row]:
        return self._cursor.fetchall()

    def tuples(self) -> list[tuple[Any, ...]]:
        # Setting a row factory applies to the result at hand too; the next statement's is dicts again.
        self._cursor.row_factory = tuple_row  # type: ignore[assignment]
        try:
            return self._cursor.fetchall()  # type: ignore[return-value]
        finally:
            self._cursor.row_factory = dict_row

    def one(self) -> Row | None:
        return self._cursor.fetchone()


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
            yield _SQLiteCursor(connection)
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
        """Per table, its columns' types (``_PostgresCursor._relation`` casts its arrays to them)."""

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self.pool.connection() as connection, connection.transaction(), connection.cursor() as cursor:
            yield _PostgresCursor(cursor, self._column_types)

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        with self.pool.connection() as connection, connection.transaction(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION READ ONLY")
            yield _PostgresCursor(cursor, self._column_types)

    def listen_connection(self) -> psycopg.Connection[Any]:
        """A dedicated autocommit connection: for LISTEN/NOTIFY, VACUUM (which needs one), and the
        indexes and ANALYZEs a bulk build runs beside its own transactions."""
        return psycopg.connect(self.conninfo, autocommit=True, options=f"-c search_path={self.schema}")

    def close(self) -> None:
        self.pool.close()
