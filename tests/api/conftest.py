"""Fixtures for the HTTP tests.

``client`` (from tests/conftest.py) gives a fresh database per test. Tests that only need their own
fresh referrals and suppliers share one app per module and storage (``shared_client``), which keeps
the many rule and hostile-input cases fast; they compare the global position before and after.
Every client starts with an admin token for all municipalities (``tests.tokens.authorize``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.storage import database_url
from tests.tokens import authorize

STORAGES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="module", params=STORAGES)
def shared_client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """One app per module and storage kind; each test makes its own aggregates."""
    with (
        database_url(request.param, tmp_path_factory.mktemp("api")) as url,
        TestClient(create_app(Settings(database_url=url))) as test_client,
    ):
        yield authorize(test_client)


@pytest.fixture(scope="module")
def sqlite_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app on an SQLite file for the whole module (property tests run only here, to stay fast)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('api-sqlite') / 'caseledger.sqlite'}"
    with TestClient(create_app(Settings(database_url=url))) as test_client:
        yield authorize(test_client)
