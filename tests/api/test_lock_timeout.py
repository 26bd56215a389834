"""A lock held on the events table bounds no request by its own length: every statement caseledger
runs on PostgreSQL (reads, ``/readyz``, the access log, commands) waits for a lock at most the URL's
``lock_timeout``, then the request answers 503 (issue 30.1). Before, reads waited as long as the
lock was held and then answered 200."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from projections.database import ProjectionDatabase
from tests.api import bodies
from tests.storage import postgres_schema, storage_env
from tests.tokens import authorize

LOCK_TIMEOUT = 2
HELD_FOR = 12
"""The lock is let go after this long at the latest (what the requests waited before the fix)."""
MARGIN = 1.5


@contextmanager
def events_table_locked(url: str) -> Iterator[None]:
    """ACCESS EXCLUSIVE on the events table from a second connection (what a migration or VACUUM
    FULL takes), released on exit or after ``HELD_FOR`` seconds, whichever comes first."""
    schema = url.partition("schema=")[2].partition("&")[0]
    conn = psycopg.connect(url.partition("?")[0])
    conn.execute(f'LOCK TABLE "{schema}".caseledger_events IN ACCESS EXCLUSIVE MODE')
    released = threading.Event()
    lock = threading.Lock()

    def release() -> None:
        with lock:
            if not released.is_set():
                released.set()
                conn.rollback()
                conn.close()

    timer = threading.Timer(HELD_FOR, release)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        release()


@pytest.mark.postgres
def test_every_request_waits_for_a_held_lock_at_most_lock_timeout_then_503() -> None:
    with postgres_schema() as url:
        settings = Settings(database_url=f"{url}&lock_timeout={LOCK_TIMEOUT}")
        with TestClient(create_app(settings)) as raw:
            client = authorize(raw)
            referral_id = bodies.referred(client)
            requests = {
                "referral": lambda: client.get(f"/referrals/{referral_id}"),
                "events": lambda: client.get(f"/referrals/{referral_id}/events"),
                "readyz": lambda: client.get("/readyz"),
                "command": lambda: client.post(
                    f"/referrals/{referral_id}/closure", json=bodies.closure(reason="withdrawn")
                ),
            }
            with events_table_locked(url):
                for name, request in requests.items():
                    started = time.monotonic()
                    response = request()
                    waited = time.monotonic() - started
                    assert response.status_code == 503, (name, response.status_code, response.text)
                    assert waited < LOCK_TIMEOUT + MARGIN, f"{name} waited {waited:.1f} s"
            # The lock gone, the same requests go through at once (the 503s wrote nothing).
            assert client.get("/readyz").status_code == 200
            assert len(client.get(f"/referrals/{referral_id}/events").json()) == 1


@pytest.mark.postgres
def test_the_read_models_connections_wait_for_a_lock_at_most_lock_timeout() -> None:
    with postgres_schema() as url:
        db = ProjectionDatabase.from_env(storage_env(f"{url}&lock_timeout={LOCK_TIMEOUT}"))
        try:
            with db.reading() as cur:
                cur.run("SELECT current_setting('lock_timeout') AS value")
                assert cur.one() == {"value": f"{LOCK_TIMEOUT}s"}
        finally:
            db.close()
