"""PostgreSQL stopped and started while case systems write: 503 with Retry-After during the outage,
never a 500 or a hang; recovery without intervention; every acknowledged write stored once; the
projections equal a rebuild.

The database is a private cluster (``private_cluster``), stopped cleanly (``-m fast``) and crashed
(``-m immediate``, recovered from the WAL at the next start), alternately.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from application.service.caseledger import CaseLedger
from projections.database import ProjectionDatabase
from projections.runner import ProjectionRunner
from tests.api import bodies
from tests.projections.helpers import dump
from tests.reliability.cluster import PrivateCluster
from tests.reliability.conftest import scaled, started_server
from tests.reliability.traffic import (
    Api,
    Journal,
    assert_stored_exactly_once,
    lifecycle,
    supplier_with_prices,
    wait_projected,
)
from tests.storage import storage_env

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
BOUND_SECONDS = 10.0
"""No request may take longer than this, outage or not (pool timeout 5 s + one retry window)."""


def probe_outage(api: Api) -> dict[str, tuple[int, float, str | None]]:
    """What clients see while the database is down (status, seconds, Retry-After), asked at once."""
    probes = {
        "healthz": ("GET", "/healthz", None),
        "readyz": ("GET", "/readyz", None),
        "write": ("POST", "/referrals", bodies.referral()),
        "report": ("GET", "/reports/suppliers", None),
        "audit": ("GET", "/audit/decisions", None),
    }

    def ask(name: str) -> tuple[int, float, str | None]:
        method, path, body = probes[name]
        headers = {"Idempotency-Key": f"probe-{uuid.uuid4()}"} if body else None
        started = time.monotonic()
        response = api.client.request(method, path, json=body, headers=headers)
        if response.status_code == 503 and name != "readyz":
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["type"] == "/problems/storage-unavailable"
        return response.status_code, time.monotonic() - started, response.headers.get("retry-after")

    with ThreadPoolExecutor(len(probes)) as pool:
        return dict(zip(probes, pool.map(ask, probes), strict=True))


def test_writes_survive_database_restarts_and_crashes_exactly_once(
    private_cluster: PrivateCluster, private_url: str, tmp_path: Path
) -> None:
    server, token = started_server(private_url, tmp_path, CASELEDGER_PROJECTIONS__BATCH_SIZE="7")
    journal = Journal()
    admin = Api(server.base_url, token, journal)
    try:
        supplier_id = supplier_with_prices(admin)
        stop = threading.Event()
        failures: list[BaseException] = []
        lifecycles = [0]

        def writer() -> None:
            api = Api(server.base_url, token, journal)
            try:
                n = 0
                while not stop.is_set():
                    lifecycle(api, supplier_id, close=n % 3 != 0)
                    n += 1
                    with journal.lock:
                        lifecycles[0] += 1
            except BaseException as error:
                failures.append(error)
            finally:
                api.close()

        threads = [threading.Thread(target=writer) for _ in range(scaled(4, 8))]
        for thread in threads:
            thread.start()

        outages = []
        modes = ["fast", "immediate"] * scaled(1, 5)
        for mode in modes:
            time.sleep(scaled(1, 4))
            before = lifecycles[0]
            private_cluster.stop(mode)
            outages.append((mode, probe_outage(admin)))
            time.sleep(0.5)
            private_cluster.start()
            wait_projected(admin, timeout=30, writes_go_on=True)  # recovers by itself, projections too
            assert not failures, failures
            deadline = time.monotonic() + 30
            while lifecycles[0] <= before + len(threads) and time.monotonic() < deadline:
                time.sleep(0.1)  # the writers go on after the outage
            assert lifecycles[0] > before + len(threads), "writers did not resume after the restart"

        time.sleep(scaled(1, 4))
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        assert not failures, failures

        for mode, seen in outages:
            assert seen["healthz"][0] == 200, (mode, seen)
            for name in ("readyz", "write", "report", "audit"):
                status, seconds, retry_after = seen[name]
                assert status == 503, (mode, name, seen)
                assert retry_after is not None and int(retry_after) > 0, (mode, name, seen)
                assert seconds < BOUND_SECONDS, (mode, name, seen)
        statuses = journal.statuses()
        assert statuses <= {200, 201, 503}, f"only answers or 503 expected, saw {statuses}"
        assert 503 in statuses, "the writers should have met the outage"
        slowest = max(s.seconds for s in journal.seen)
        assert slowest < BOUND_SECONDS, f"a request took {slowest:.1f} s"

        assert_stored_exactly_once(admin, journal)
        ready = wait_projected(admin)
        referrals = {a.stream_id for a in journal.acks if a.kind == "referral.referred"}
        assert admin.get("/referrals", page_size=1)["total"] == len(referrals)
        assert ready["storage"]["last_position"] == max(a.position for a in journal.acks)
    finally:
        admin.close()
        server.stop()

    db = ProjectionDatabase.from_env(storage_env(private_url))
    try:
        live = dump(db)
        ledger = CaseLedger(storage_env(private_url))
        try:
            ProjectionRunner(db, ledger.read_events).rebuild()
        finally:
            ledger.close()
        assert dump(db) == live, "the projections that lived through the outages equal a rebuild"
        assert len(live["cl_referrals"]) == len(referrals)
    finally:
        db.close()
