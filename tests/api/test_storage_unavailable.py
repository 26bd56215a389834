"""503 with Retry-After whenever storage cannot be reached in time, from whichever layer says so —
and a write answered 503 is either not stored, or stored once however often it is retried.

The PostgreSQL outage itself (server stopped and crashed) is in tests/reliability/test_database_restart.py;
here SQLite's write lock is held by another process, which is how SQLite is "unavailable".
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import psycopg
import psycopg_pool
import pytest
from eventsourcing.persistence import IntegrityError, OperationalError, PersistenceError, ProgrammingError
from fastapi.testclient import TestClient

from api.app import create_app
from api.problems import storage_unavailable
from api.settings import Settings
from application.errors import StorageUnavailable
from tests.api import bodies
from tests.api.bodies import assert_problem, created, events_of
from tests.tokens import authorize


def caused_by(error: Exception, cause: Exception) -> Exception:
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (psycopg.OperationalError("connection refused"), True),
        (psycopg.errors.AdminShutdown("terminating connection due to administrator command"), True),
        (psycopg.InterfaceError("the connection is closed"), True),
        (psycopg_pool.PoolTimeout("couldn't get a connection after 5.00 sec"), True),
        (OperationalError("server closed the connection unexpectedly"), True),
        (StorageUnavailable("down"), True),
        (caused_by(PersistenceError("wrapped"), psycopg.OperationalError("refused")), True),
        (sqlite3.OperationalError("database is locked"), True),
        (
            caused_by(OperationalError("database is locked"), sqlite3.OperationalError("database is locked")),
            True,
        ),
        (IntegrityError("duplicate key"), False),
        (ProgrammingError("syntax error"), False),
        (PersistenceError("something else"), False),
        (sqlite3.OperationalError("no such table: stored_events"), False),
        (ValueError("a bug"), False),
    ],
)
def test_errors_that_mean_storage_is_out_of_reach_are_told_apart_from_bugs(
    error: Exception, unavailable: bool
) -> None:
    assert storage_unavailable(error) is unavailable


@pytest.fixture
def sqlite_client(tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    path = tmp_path / "locked.sqlite"
    settings = Settings(database_url=f"sqlite:///{path}?lock_timeout=1", run_projections=False)
    with TestClient(create_app(settings)) as client:
        yield authorize(client), path


def test_a_write_that_cannot_get_sqlites_lock_is_503_and_its_retry_is_stored_once(
    sqlite_client: tuple[TestClient, Path],
) -> None:
    client, path = sqlite_client
    key = {"Idempotency-Key": "retried-after-503"}
    body = bodies.referral()
    with closing(sqlite3.connect(path, isolation_level=None)) as other:
        other.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
        started = time.monotonic()
        response = client.post("/referrals", json=body, headers=key)
        waited = time.monotonic() - started
        other.execute("ROLLBACK")
    problem = assert_problem(response, 503, "storage-unavailable")
    assert problem["title"] == "Storage unavailable"
    assert int(response.headers["retry-after"]) > 0
    assert waited < 5, f"bounded by the lock timeout (1 s), took {waited:.1f} s"
    assert client.get("/readyz").json()["storage"]["last_position"] == 0, "nothing was written"

    first = created(client.post("/referrals", json=body, headers=key))
    again = created(client.post("/referrals", json=body, headers=key))
    assert again == first
    assert len(events_of(client, "referrals", first["id"])) == 1
