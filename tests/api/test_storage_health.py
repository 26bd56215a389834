"""A store that cannot take writes is visible to the operator (issue 30.3): ``/readyz`` answers
503 problem+json saying why until a write succeeds again, the log says so once per episode (and
once when it recovers), and ``/metrics`` counts the failed writes by kind.

SQLite's ``PRAGMA max_page_count`` makes the database "full" without root: the same error
("database or disk is full") as a disk with no space left."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.api import bodies
from tests.api.bodies import assert_problem
from tests.tokens import authorize


def limit_pages(client: TestClient, pages: int | None) -> None:
    """Set ``max_page_count`` on every connection of the event store's pool (a per-connection
    setting): ``None`` sets it to the file's current size, so that the next page needed fails."""
    pool = client.app.state.ledger.keyed_recorder.datastore.pool  # type: ignore[attr-defined]
    taken = []
    try:
        while True:
            try:
                taken.append(pool.get_connection(timeout=0.05))
            except Exception:
                break
        for connection in taken:
            sqlite = connection._sqlite_conn
            limit = pages or sqlite.execute("PRAGMA page_count").fetchone()[0]
            sqlite.execute(f"PRAGMA max_page_count = {limit}")
    finally:
        for connection in taken:
            pool.put_connection(connection)


def test_a_full_disk_makes_readyz_503_logs_once_and_counts_until_a_write_succeeds(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'full.sqlite'}", run_projections=False)
    with TestClient(create_app(settings)) as raw:
        client = authorize(raw)
        referral_id = bodies.referred(client)
        assert client.get("/readyz").status_code == 200
        limit_pages(client, None)
        caplog.set_level(logging.INFO, logger="caseledger.storage")
        refused = 0
        for _ in range(200):
            response = client.post("/referrals", json=bodies.referral())
            if response.status_code == 503:
                refused += 1
                if refused == 3:
                    break
            else:
                assert response.status_code == 201, response.text
        assert refused == 3, "the database never filled up"
        # Reads of personal data whose access-log entry cannot be written are withheld (503),
        # counted with the failed writes and logged without a traceback.
        withheld = 0
        for _ in range(200):  # (until the entries fill the pages they still have room in)
            read = client.get(f"/referrals/{referral_id}")
            assert read.status_code in (200, 503), read.text
            withheld += read.status_code == 503
            if withheld == 3:
                break
        assert withheld > 0, "every access-log entry still fitted"

        ready = client.get("/readyz")
        body = assert_problem(ready, 503)
        assert body["readiness"]["reason"] == "disk_full"
        assert body["storage"]["ok"] is False
        assert ready.headers["retry-after"]
        metrics = client.get("/metrics").text
        assert f'caseledger_storage_failures_total{{kind="disk_full"}} {3 + withheld}.0' in metrics
        assert [r.getMessage() for r in caplog.records if r.exc_info] == [], "no tracebacks"
        said = [r for r in caplog.records if r.name == "caseledger.storage"]
        assert [r.levelno for r in said] == [logging.ERROR], "once per episode"
        assert "disk_full" in said[0].getMessage() and said[0].exc_info is None

        limit_pages(client, 1_000_000)
        assert client.post("/referrals", json=bodies.referral()).status_code == 201
        assert client.get("/readyz").status_code == 200
        said = [r for r in caplog.records if r.name == "caseledger.storage"]
        assert [r.levelno for r in said] == [logging.ERROR, logging.WARNING]
        assert "again" in said[1].getMessage()


def test_free_space_below_the_minimum_makes_readyz_503_and_logs_once_until_it_is_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # No file system has an exbibyte free: the minimum is out of reach, as on a nearly full disk.
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'low.sqlite'}", run_projections=False, min_free_disk_mb=2**40
    )
    caplog.set_level(logging.INFO, logger="caseledger.storage")
    with TestClient(create_app(settings)) as client:
        for _ in range(3):
            body = assert_problem(client.get("/readyz"), 503)
            assert body["readiness"]["reason"] == "low_disk_space"
            assert "CASELEDGER_MIN_FREE_DISK_MB" in body["readiness"]["detail"]
            assert body["storage"]["ok"] is False
            assert body["storage"]["free_bytes"] >= 0
        client.app.state.settings.min_free_disk_mb = 0  # the operator freed space (or lowered it)
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["storage"]["free_bytes"] > 0
    said = [r.getMessage() for r in caplog.records if r.name == "caseledger.storage"]
    assert len([m for m in said if "low on space" in m]) == 1, said
    assert len([m for m in said if "has space again" in m]) == 1, said


def test_readyz_reports_free_space_only_where_it_can_be_measured(db_url: str) -> None:
    settings = Settings(database_url=db_url, run_projections=False, min_free_disk_mb=0)
    with TestClient(create_app(settings)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        storage = ready.json()["storage"]
    if storage["kind"] == "sqlite":
        assert storage["free_bytes"] > 0
    else:  # a PostgreSQL server's disk is not measured from here; a full one shows as disk_full
        assert "free_bytes" not in storage
