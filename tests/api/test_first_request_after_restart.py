"""After PostgreSQL restarts while the API is idle, every pooled connection the API holds is dead;
the first request must still succeed: dead connections are replaced before use (issue 22.10).

The restart is simulated by terminating every backend of the API's own role from a second
connection (what a restart does to them), so that no other user of the database is touched."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.api import bodies
from tests.storage import POSTGRES_ADMIN_URL, postgres_schema
from tests.tokens import authorize


@contextmanager
def own_role(url: str) -> Iterator[tuple[str, str]]:
    """A login role of its own that owns the URL's schema; the URL connecting as it, and its name."""
    role = f"r_{uuid.uuid4().hex[:12]}"
    schema = url.partition("schema=")[2].partition("&")[0]
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        admin.execute(f'ALTER SCHEMA "{schema}" OWNER TO "{role}"')
        admin.execute(f'GRANT CREATE ON DATABASE "{urlsplit(url).path.lstrip("/")}" TO "{role}"')
    parts = urlsplit(url)
    netloc = f"{role}@{parts.hostname}:{parts.port or 5432}"
    try:
        yield urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")), role
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [role])
            admin.execute(f'ALTER SCHEMA "{schema}" OWNER TO CURRENT_USER')
            admin.execute(f'DROP OWNED BY "{role}" CASCADE')
            admin.execute(f'DROP ROLE "{role}"')


def terminate_backends_of(role: str) -> int:
    """Terminate every session of ``role``, as a server restart ends them; how many there were."""
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [role]
        ).fetchall()
    return len(rows)


@pytest.mark.postgres
def test_the_first_request_after_the_databases_backends_died_succeeds() -> None:
    # No projection runner: it would meet the read models' dead connection first and hide what a
    # report request meets.
    with (
        postgres_schema() as admin_url,
        own_role(admin_url) as (url, role),
        TestClient(create_app(Settings(database_url=url, run_projections=False))) as raw,
    ):
        client = authorize(raw)
        referral_id = bodies.referred(client)
        assert client.get(f"/referrals/{referral_id}").status_code == 200
        assert client.get("/reports/suppliers").status_code == 200
        time.sleep(0.5)  # idle
        assert terminate_backends_of(role) > 0
        time.sleep(0.5)  # the server has closed them
        for path in (
            f"/referrals/{referral_id}",
            "/readyz",
            "/reports/suppliers",
            f"/referrals/{referral_id}",
        ):
            started = time.monotonic()
            response = client.get(path)
            waited = time.monotonic() - started
            assert response.status_code == 200, (path, response.status_code, response.text)
            # Before: psycopg_pool's check paused 1 s, 2 s, … after each dead connection (3.3 s).
            assert waited < 0.8, f"{path} took {waited:.2f} s"
        created = client.post("/referrals", json=bodies.referral())
        assert created.status_code == 201, created.text
