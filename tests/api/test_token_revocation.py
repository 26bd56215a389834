"""Revocation holds on the next request in every API process: two apps on one store (the second
app's token cache holds the token when it is revoked), and a revocation by ``caseledger tokens
revoke`` in a process of its own, on both storages."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.api.bodies import ODENSE, assert_problem
from tests.tokens import authorize, bearer, new_token, token_store


@pytest.fixture
def two_apps(db_url: str) -> Iterator[tuple[TestClient, TestClient]]:
    """Two API apps on one database, each with its own token cache (as two processes would be)."""
    with ExitStack() as stack:
        first, second = (
            stack.enter_context(TestClient(create_app(Settings(database_url=db_url, token_cache_seconds=60))))
            for _ in range(2)
        )
        yield authorize(first), second


def _reads(client: TestClient, secret: str) -> int:
    return client.get("/audit/erasures", headers=bearer(secret)).status_code


def test_a_token_revoked_through_one_app_is_refused_by_the_next_request_to_another(
    two_apps: tuple[TestClient, TestClient],
) -> None:
    first, second = two_apps
    secret = new_token(first, "auditor", ODENSE, name="auditor-461")
    kept = new_token(first, "auditor", ODENSE, name="auditor-461-b")
    assert [_reads(second, secret), _reads(second, secret), _reads(second, kept)] == [200, 200, 200]

    token_store(first).revoke("auditor-461")

    assert_problem(second.get("/audit/erasures", headers=bearer(secret)), 401, "invalid-token")
    assert _reads(first, secret) == 401
    assert _reads(second, kept) == 200


def test_a_token_revoked_by_the_cli_in_another_process_is_refused_by_the_next_request(
    two_apps: tuple[TestClient, TestClient], db_url: str
) -> None:
    first, second = two_apps
    secret = new_token(first, "case_system", ODENSE, name="system-461")
    assert [_reads(first, secret), _reads(second, secret)] == [403, 403]  # known: refused a right only

    revoked = subprocess.run(
        [sys.executable, "-c", "from api.cli import main; main()", "tokens", "revoke", "system-461"],
        env={**os.environ, "CASELEDGER_DATABASE_URL": db_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert revoked.returncode == 0, revoked.stderr

    assert [_reads(first, secret), _reads(second, secret)] == [401, 401]
