"""The cursors the read models write and read through: one interface (``Cursor``) over SQLite's and
psycopg's, with the bulk statements each dialect does best."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import psycopg
from psycopg.rows import dict_row, tuple_row
from psycopg.sql import SQL, Identifier

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


def rows_where_in(
    cur: Cursor, name: str, column: str, values: Sequence[Any], select: str = "*"
) -> Iterator[Row]:
    """The rows of table ``name`` whose ``column`` is one of ``values``, one query per chunk."""
    for chunk in chunked(values):
        marks = ",".join("?" * len(chunk))
        cur.run(f"SELECT {select} FROM {name} WHERE {column} IN ({marks})", chunk)
        yield from cur.rows()


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


class SQLiteCursor:
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


class PostgresCursor:
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
