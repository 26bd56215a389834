"""Fixtures shared by the projection tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from projections.database import ProjectionDatabase
from tests.storage import storage_env


@pytest.fixture
def projection_db(db_url: str) -> Iterator[ProjectionDatabase]:
    """The read models' database beside the event store of ``db_url``."""
    db = ProjectionDatabase.from_env(storage_env(db_url))
    yield db
    db.close()
