"""Throwaway storages for tests: an SQLite file per test, a PostgreSQL schema per test.

With ``CI=true`` a PostgreSQL test that cannot connect fails; elsewhere it is skipped.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import psycopg
import pytest

from application.service.caseledger import CaseLedger
from application.storage import environment
from projections.database import ProjectionDatabase
from projections.runner import ProjectionRunner

POSTGRES_ADMIN_URL = os.environ.get(
    "CASELEDGER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def postgres_required() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _connect() -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        if postgres_required():
            pytest.fail(f"PostgreSQL is required in CI but cannot be reached: {error}")
        pytest.skip(f"PostgreSQL not reachable: {error}")


@contextmanager
def postgres_schema() -> Iterator[str]:
    """Create a schema, yield a database URL that uses it, drop it afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with _connect() as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_ADMIN_URL}?schema={schema}&pool_size=4&max_overflow=8"
    finally:
        with _connect() as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def database_url(kind: str, tmp_path: Path) -> Iterator[str]:
    """A fresh database URL of the given kind ('sqlite' or 'postgres')."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'caseledger.sqlite'}"
    else:
        with postgres_schema() as url:
            yield url


# -- direct SQL, as a tamperer (or a careless administrator) would run it ------------------------------


def run_sql(url: str, statement: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
    """Run one statement straight on the database behind ``url``, bypassing the application.

    Write it for SQLite (``?`` placeholders, ``rowid`` for the position, stream ids as UUID objects);
    on PostgreSQL it runs in the URL's schema with ``%s``, ``notification_id`` and the events table
    eventsourcing names after the application there (``caseledger_events``).
    """
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        converted = [p.hex if isinstance(p, uuid.UUID) else p for p in params]
        with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as conn, conn:
            return list(conn.execute(statement, converted).fetchall())
    schema = parse_qs(parts.query)["schema"][0]
    base = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    with psycopg.connect(base, autocommit=True, options=f"-c search_path={schema}") as conn:
        cursor = conn.execute(
            (
                statement.replace("?", "%s")
                .replace("rowid", "notification_id")
                .replace("stored_events", "caseledger_events")
            ),
            params,
        )
        return list(cursor.fetchall()) if cursor.description else []


def alter_state(url: str, stream: uuid.UUID, version: int, change: Callable[[bytes], bytes]) -> None:
    """Rewrite the stored state bytes of one event."""
    [(state,)] = run_sql(
        url,
        "SELECT state FROM stored_events WHERE originator_id=? AND originator_version=?",
        [stream, version],
    )
    assert isinstance(state, bytes | memoryview)
    run_sql(
        url,
        "UPDATE stored_events SET state=? WHERE originator_id=? AND originator_version=?",
        [change(bytes(state)), stream, version],
    )


def delete_event(url: str, stream: uuid.UUID, version: int) -> None:
    run_sql(
        url, "DELETE FROM stored_events WHERE originator_id=? AND originator_version=?", [stream, version]
    )


def swap_states(url: str, first: tuple[uuid.UUID, int], second: tuple[uuid.UUID, int]) -> None:
    """Exchange the state bytes of two stored events."""
    select = "SELECT state FROM stored_events WHERE originator_id=? AND originator_version=?"
    [(one,)] = run_sql(url, select, list(first))
    [(other,)] = run_sql(url, select, list(second))
    update = "UPDATE stored_events SET state=? WHERE originator_id=? AND originator_version=?"
    run_sql(url, update, [other, *first])
    run_sql(url, update, [one, *second])


def swap_positions(url: str, first: int, second: int) -> None:
    """Exchange the global positions of two stored events (reordering the log)."""
    update = "UPDATE stored_events SET rowid=? WHERE rowid=?"
    run_sql(url, update, [-1, first])
    run_sql(url, update, [first, second])
    run_sql(url, update, [second, -1])


def storage_env(database_url: str, *, master_key: str | None = None, **options: Any) -> dict[str, str]:
    """The application's environment for a test store, with the master key the tests' process
    environment names (as ``Settings`` would read it; the application reads no environment)."""
    key = os.environ.get("CASELEDGER_MASTER_KEY", "") if master_key is None else master_key
    return environment.storage_env(database_url, master_key=key, **options)


def rebuild_read_models(url: str) -> int:
    """Rebuild the read models of the store behind ``url`` from its events, as
    ``caseledger projections rebuild`` does; the number of events folded."""
    ledger = CaseLedger(storage_env(url))
    db = ProjectionDatabase.from_env(storage_env(url))
    try:
        return ProjectionRunner(db, ledger.read_events).rebuild()
    finally:
        db.close()
        ledger.close()
