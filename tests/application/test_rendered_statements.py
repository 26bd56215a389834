"""Statements rendered once at start-up (``application.storage.postgres.rendered``) name the same objects as
composed ones would, whatever the client encoding: a schema name outside ASCII stays composed."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.sql import SQL, Identifier

from api.app import create_app
from api.settings import Settings
from application.storage.postgres import rendered
from tests.api import bodies
from tests.storage import POSTGRES_ADMIN_URL, _connect
from tests.tokens import authorize


def test_an_ascii_statement_is_rendered_to_bytes_once() -> None:
    statement = SQL("LOCK TABLE {0}.{1}").format(Identifier("kommune"), Identifier("stored_events"))
    assert rendered(statement) == b'LOCK TABLE "kommune"."stored_events"'


def test_a_statement_naming_a_schema_outside_ascii_stays_composed() -> None:
    statement = SQL("LOCK TABLE {0}.{1}").format(Identifier("kommune_ø"), Identifier("stored_events"))
    assert rendered(statement) is statement


@pytest.fixture
def latin1_schema(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A schema named outside ASCII, and connections whose client encoding is LATIN1."""
    schema = "t_kommune_ø"
    with _connect() as conn:
        conn.execute(SQL("DROP SCHEMA IF EXISTS {0} CASCADE").format(Identifier(schema)))
    monkeypatch.setenv("PGCLIENTENCODING", "LATIN1")
    try:
        yield f"{POSTGRES_ADMIN_URL}?schema={quote(schema)}&pool_size=2&max_overflow=2"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, client_encoding="UTF8") as conn:
            conn.execute(SQL("DROP SCHEMA IF EXISTS {0} CASCADE").format(Identifier(schema)))


@pytest.mark.postgres
def test_writes_and_the_chain_work_in_a_schema_named_outside_ascii_over_latin1(latin1_schema: str) -> None:
    with TestClient(create_app(Settings(database_url=latin1_schema))) as client:
        authorize(client)
        bodies.supplier_with_prices(client)
        referral_id = bodies.active(client)
        closed = client.post(f"/referrals/{referral_id}/closure", json=bodies.closure())
        assert closed.status_code == 200, closed.text
        verified = client.get("/audit/verify").json()
        assert verified["ok"] is True
        assert verified["chained"] == closed.json()["position"]
