"""Shared fixtures: every storage test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from application.service.caseledger import CaseLedger
from tests.storage import database_url, storage_env
from tests.tokens import authorize

STORAGES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]
TODAY = date(2026, 6, 15)
TEST_MASTER_KEY = "Y2FzZWxlZGdlci10ZXN0LW1hc3Rlci1rZXktMzJieXQ="
"""A fixed master key (base64 of 32 bytes) for every test; PostgreSQL refuses to run without one."""
os.environ["CASELEDGER_MASTER_KEY"] = TEST_MASTER_KEY
# pytest-xdist's workers set COLUMNS=80 and LINES=24, and a rich console built while they are set
# keeps that width for good; the CLI tests give the width they need per command, as a terminal would.
for _size in ("COLUMNS", "LINES"):
    os.environ.pop(_size, None)


@pytest.fixture(params=STORAGES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each kind."""
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def ledger(db_url: str) -> Iterator[CaseLedger]:
    """The application on a fresh database, with 'today' fixed at 2026-06-15."""
    app = CaseLedger(storage_env(db_url), clock=lambda: TODAY)
    yield app
    app.close()


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    """The HTTP API on a fresh database of each kind, served in-process, with an admin ``*`` token."""
    with TestClient(create_app(Settings(database_url=db_url))) as test_client:
        yield authorize(test_client)
