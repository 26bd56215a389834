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
from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore


@contextmanager
def write_transaction(datastore: SQLiteDatastore) -> Iterator[SQLiteCursor]:
    """A transaction that holds the write lock from its first statement; committed at the end,
    rolled back on any error."""
    with datastore.get_connection(commit=True) as connection:
        cursor = connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise OperationalError(error) from error
        try:
            yield cursor
        except BaseException:
            connection.rollback()
            raise
        try:
            connection.commit()
        except sqlite3.OperationalError as error:
            raise OperationalError(error) from error
