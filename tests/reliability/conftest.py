"""Fixtures for the fault tests: a private PostgreSQL cluster, the API as a process, long runs.

These tests run in CI in a short form. ``CASELEDGER_LONG_TESTS=1`` runs the long form (more
restarts, crashes, writers and time); ``benchmarks/soak.py`` is the minutes-long load run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.cluster import PrivateCluster
from tests.reliability.server import ApiServer, admin_token

LONG = os.environ.get("CASELEDGER_LONG_TESTS", "").lower() in ("1", "true", "yes")


def scaled(short: int, long: int) -> int:
    """The short figure in CI, the long one with ``CASELEDGER_LONG_TESTS=1``."""
    return long if LONG else short


@pytest.fixture
def private_cluster() -> Iterator[PrivateCluster]:
    """A PostgreSQL cluster of this test's own, which it may stop and crash. Never skipped: a
    machine that cannot run one fails the test (CI runs as root with the server binaries)."""
    cluster = PrivateCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def private_url(private_cluster: PrivateCluster) -> str:
    return f"{private_cluster.url}?schema=t_{uuid.uuid4().hex[:8]}&pool_size=4&max_overflow=8"


def started_server(database_url: str, tmp_path: Path, **env: str) -> tuple[ApiServer, str]:
    token = admin_token(database_url)
    server = ApiServer(database_url, tmp_path / f"api-{uuid.uuid4().hex[:6]}.log", env)
    server.start()
    return server, token
