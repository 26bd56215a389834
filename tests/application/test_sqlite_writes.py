"""A write transaction on the SQLite event store that reads first must not lose to a writer that
commits between its read and its write (two API processes starting together on one file did)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from eventsourcing.persistence import IntegrityError
from eventsourcing.sqlite import SQLiteDatastore

from application.storage.sqlite_writes import write_transaction


def _store(path: Path) -> SQLiteDatastore:
    datastore = SQLiteDatastore(str(path), lock_timeout=10)
    with write_transaction(datastore) as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS t (writer TEXT NOT NULL)")
    return datastore


def test_a_read_then_write_transaction_holds_off_a_concurrent_writer(tmp_path: Path) -> None:
    first = _store(tmp_path / "store.sqlite")
    second = SQLiteDatastore(str(tmp_path / "store.sqlite"), lock_timeout=10)
    has_read = threading.Event()
    failures: list[BaseException] = []

    def other_writer() -> None:
        has_read.wait()
        try:
            with write_transaction(second) as cursor:
                cursor.execute("INSERT INTO t VALUES ('second')")
        except BaseException as error:
            failures.append(error)

    thread = threading.Thread(target=other_writer)
    thread.start()
    with write_transaction(first) as cursor:
        cursor.execute("SELECT count(*) FROM t")
        seen = cursor.fetchone()[0]
        has_read.set()
        thread.join(0.3)  # the other writer waits for the lock rather than committing under us
        assert thread.is_alive()
        cursor.execute("INSERT INTO t VALUES ('first')")
    thread.join(10)
    assert failures == []
    with first.transaction(commit=False) as cursor:
        cursor.execute("SELECT writer FROM t ORDER BY rowid")
        assert [row[0] for row in cursor.fetchall()] == ["first", "second"]
    assert seen == 0


def test_an_error_inside_rolls_the_write_back(tmp_path: Path) -> None:
    datastore = _store(tmp_path / "store.sqlite")
    try:
        with write_transaction(datastore) as cursor:
            cursor.execute("INSERT INTO t VALUES ('lost')")
            raise RuntimeError("the command failed")
    except RuntimeError:
        pass
    with datastore.transaction(commit=False) as cursor:
        cursor.execute("SELECT count(*) FROM t")
        assert cursor.fetchone()[0] == 0


def test_a_constraint_failure_is_eventsourcings_integrity_error(tmp_path: Path) -> None:
    datastore = _store(tmp_path / "store.sqlite")
    with write_transaction(datastore) as cursor:
        cursor.execute("CREATE UNIQUE INDEX IF NOT EXISTS t_writer ON t (writer)")
        cursor.execute("INSERT INTO t VALUES ('once')")
    with pytest.raises(IntegrityError), write_transaction(datastore) as cursor:
        cursor.execute("INSERT INTO t VALUES ('once')")
