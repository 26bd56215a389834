"""Two ``caseledger projections run`` processes against one PostgreSQL (two hosts, as an operator
scaling out would run them): one folds, the other waits for the leader lock and takes over within a
few seconds once the first is killed; the read models then equal a rebuild.

On SQLite the lock does not apply: a single file has one writer at a time anyway."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from application.service.caseledger import CaseLedger
from projections.database import ProjectionDatabase
from projections.runner import ProjectionRunner
from tests.projections.helpers import dump, small_demo
from tests.storage import database_url, run_sql, storage_env

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    with database_url("postgres", tmp_path) as url:
        yield url


def start_runner(db_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CASELEDGER_DATABASE_URL": db_url, "CASELEDGER_PROJECTIONS__BATCH_SIZE": "1"}
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", "from api.cli import main; main()", "projections", "run"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_for(text: str, log: Path, timeout: float, *, or_text: str | None = None) -> float:
    """Seconds until ``text`` (or ``or_text``) appears in ``log``."""
    started = time.monotonic()
    while text not in (seen := log.read_text()) and (or_text is None or or_text not in seen):
        assert time.monotonic() - started < timeout, log.read_text()
        time.sleep(0.05)
    return time.monotonic() - started


def test_one_of_two_runners_folds_and_the_other_takes_over_when_it_is_killed(
    pg_url: str, tmp_path: Path
) -> None:
    ledger = CaseLedger(storage_env(pg_url))
    db = ProjectionDatabase.from_env(storage_env(pg_url))
    try:
        # Big enough, folded one event per transaction, that the catch-up outlasts the waits below
        # on an idle machine too (30 weeks at two per batch was caught up within them there).
        small_demo(ledger, weeks=45, per_week=20, suppliers=25)
        head = ledger.last_position()
        runner = ProjectionRunner(db, ledger.read_events)
        first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
        first = start_runner(pg_url, first_log)
        wait_for("following the log", first_log, 60)
        second = start_runner(pg_url, second_log)
        try:
            # Either line: on code without the lock the second process folds at once, and the
            # assertion below says so instead of a timeout here.
            wait_for("waiting to be the one projection process", second_log, 60, or_text="following the log")
            while runner.position() == 0:
                time.sleep(0.01)
            time.sleep(2)  # several of the second's attempts at the lock
            assert "following the log" not in second_log.read_text()  # only the first folds

            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
            killed_at = runner.position()
            took_over = wait_for("following the log", second_log, 10)

            deadline = time.monotonic() + 120
            while runner.position() < head:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        finally:
            for process in (first, second):
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    process.wait(timeout=30)
        followed = dump(db)

        runner.rebuild()

        assert killed_at < head, "the kill should land mid catch-up"
        assert took_over < 3, took_over  # the lock is retried every second
        assert dump(db) == followed
    finally:
        db.close()
        ledger.close()


def test_a_leader_whose_lock_connection_ends_stops_instead_of_folding_beside_another(
    pg_url: str, tmp_path: Path
) -> None:
    """Its session gone (PostgreSQL restarted, the backend terminated), the lock is free for another
    process: the leader must not keep folding. It exits 1 within a few seconds, to be restarted."""
    ledger = CaseLedger(storage_env(pg_url))
    try:
        small_demo(ledger, weeks=2, per_week=5, suppliers=5)
    finally:
        ledger.close()
    log = tmp_path / "leader.log"
    leader = start_runner(pg_url, log)
    try:
        wait_for("following the log", log, 60)
        terminated = run_sql(
            pg_url,
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND objid::bigint = (hashtext('caseledger-projections:' || current_schema())::bigint & 4294967295)",
        )
        assert terminated == [(True,)], terminated
        started = time.monotonic()
        code = leader.wait(timeout=10)
        seconds = time.monotonic() - started
    finally:
        if leader.poll() is None:
            leader.kill()
            leader.wait(timeout=10)

    assert code == 1, log.read_text()
    assert "lost the leader lock" in log.read_text()
    assert seconds < 3, seconds  # checked every second
