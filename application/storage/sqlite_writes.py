"""Write transactions on the event store's SQLite file that take the write lock first.

eventsourcing begins SQLite transactions with a plain (deferred) ``BEGIN``: the first read takes a
snapshot, and a later write in the same transaction fails at once with "database is locked" if any
other connection has committed since, without waiting for the busy timeout. Two API processes
starting together on one file met exactly that (CI, stop 38). ``BEGIN IMMEDIATE`` takes the write
lock before the first read, waiting up to the busy timeout for it, as the projection database does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from eventsourcing.persistence import OperationalError
from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore, SQLiteTransaction


@contextmanager
def write_transaction(datastore: SQLiteDatastore) -> Iterator[SQLiteCursor]:
    """A transaction that holds the write lock from its first statement; committed at the end,
    rolled back on any error. Errors are eventsourcing's, as from ``datastore.transaction``."""
    with (
        datastore.get_connection(commit=True) as connection,
        _Immediate(connection, commit=True) as cursor,
        cursor,
    ):
        yield cursor


class _Immediate(SQLiteTransaction):
    """eventsourcing's transaction (its commit, rollback and error translation), begun IMMEDIATE."""

    def __enter__(self) -> SQLiteCursor:
        cursor = self.connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")  # waits up to the busy timeout, then "database is locked"
        except sqlite3.OperationalError as error:
            raise OperationalError(error) from error
        return cursor
