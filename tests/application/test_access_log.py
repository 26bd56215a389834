"""The access log's storage on SQLite and PostgreSQL: append-only in the database, retention purge."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from application.service.caseledger import CaseLedger
from application.storage.access_log import AccessEntry, AccessLog, AccessQuery
from tests.storage import database_url, run_sql, storage_env

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def _entry(action: str = "referral.read", token: str = "worker-461") -> AccessEntry:
    return AccessEntry(
        token=token,
        role="caseworker",
        token_municipality="461",
        municipality="461",
        action=action,
        status=200,
        referral_id=uuid4(),
    )


def _at(ledger: CaseLedger, instant: datetime) -> AccessLog:
    return ledger.open_access_log(clock=lambda: instant)


def _tokens(log: AccessLog) -> list[str]:
    return [item["token"] for item in log.entries(AccessQuery(page_size=500))["items"]]


def test_the_retention_purge_deletes_entries_older_than_the_retention_and_keeps_newer_ones(
    ledger: CaseLedger,
) -> None:
    for days, name in [(400, "a"), (184, "b"), (183, "c"), (182, "d"), (1, "e"), (0, "f")]:
        _at(ledger, NOW - timedelta(days=days, seconds=1 if name == "c" else 0)).append(_entry(token=name))
    log = _at(ledger, NOW)

    assert log.purge_expired(183) == 3

    assert _tokens(log) == ["d", "e", "f"]
    assert log.purge_expired(183) == 0
    assert log.purge_expired(0) == 0  # 0 keeps everything
    assert _tokens(log) == ["d", "e", "f"]


def test_the_api_purges_expired_entries_when_it_starts(db_url: str, ledger: CaseLedger) -> None:
    _at(ledger, datetime.now(UTC) - timedelta(days=31)).append(_entry(token="old"))
    _at(ledger, datetime.now(UTC) - timedelta(days=29)).append(_entry(token="recent"))

    with TestClient(create_app(Settings(database_url=db_url, access_log_retention_days=30))):
        pass

    assert _tokens(ledger.open_access_log()) == ["recent"]


def test_the_api_keeps_purging_periodically_while_it_runs(db_url: str, ledger: CaseLedger) -> None:
    settings = Settings(database_url=db_url, access_log_retention_days=30, access_log_purge_interval=0.05)
    with TestClient(create_app(settings)):
        _at(ledger, datetime.now(UTC) - timedelta(days=31)).append(_entry(token="expired-meanwhile"))
        _at(ledger, datetime.now(UTC)).append(_entry(token="fresh"))
        deadline = time.monotonic() + 5
        while "expired-meanwhile" in _tokens(ledger.open_access_log()) and time.monotonic() < deadline:
            time.sleep(0.05)

        assert _tokens(ledger.open_access_log()) == ["fresh"]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE caseledger_access_log SET token = 'someone-else'",
        "UPDATE caseledger_access_log SET status = 200 WHERE status = 404",
        "DELETE FROM caseledger_access_log",
        "DELETE FROM caseledger_access_log WHERE token = 'old'",
    ],
)
def test_the_database_refuses_to_change_or_delete_entries(
    db_url: str, ledger: CaseLedger, statement: str
) -> None:
    _at(ledger, NOW - timedelta(days=1000)).append(_entry(token="old"))
    _at(ledger, NOW).append(replace(_entry(token="denied"), status=404))  # one might like to hide

    with pytest.raises(Exception, match="append-only"):
        run_sql(db_url, statement)

    entries = ledger.open_access_log().entries(AccessQuery())["items"]
    assert [(e["token"], e["status"]) for e in entries] == [("old", 200), ("denied", 404)]


@pytest.mark.postgres
def test_postgresql_refuses_to_truncate_the_access_log(tmp_path: Path) -> None:
    # SQLite has no TRUNCATE (its DELETE without WHERE is refused by the DELETE trigger, above).
    with database_url("postgres", tmp_path) as db_url:
        ledger = CaseLedger(storage_env(db_url))
        try:
            _truncate_is_refused(db_url, ledger)
        finally:
            ledger.close()


def _truncate_is_refused(db_url: str, ledger: CaseLedger) -> None:
    _at(ledger, NOW).append(_entry())

    with pytest.raises(Exception, match="append-only"):
        run_sql(db_url, "TRUNCATE caseledger_access_log")

    assert len(_tokens(ledger.open_access_log())) == 1


def test_entries_are_kept_apart_from_the_events(db_url: str, ledger: CaseLedger) -> None:
    _at(ledger, NOW).append(_entry())

    assert ledger.last_position() == 0
    assert ledger.audit.verify_integrity()["ok"]
    assert run_sql(db_url, "SELECT COUNT(*) FROM caseledger_access_log") == [(1,)]
