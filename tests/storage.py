"""Throwaway storages for tests: an SQLite file per test, a PostgreSQL schema per test.

With ``CI=true`` a PostgreSQL test that cannot connect fails; elsewhere it is skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

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
