"""Schema evolution: ``referral.closed`` gained ``initiated_by`` in class version 2.

Events stored by version 1 (before the field existed) stay as they are — the hash chain covers
their bytes — and are upcast when read (``Referral.Closed.upcast_v1_v2``): the field is derived
from their reason, as version 2 derives it. The test stores version 1 events the way version 1
stored them (their JSON, through the recorder, so they are chained like any other event) and reads,
projects, audits and rebuilds them beside version 2 events.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from fastapi.testclient import TestClient

from application.service.caseledger import CaseLedger
from domain.referral import CLOSE_REASONS, Referral
from projections.database import ProjectionDatabase
from projections.runner import ProjectionRunner
from tests.api import bodies
from tests.api.bodies import created, last_position
from tests.projections.helpers import dump
from tests.storage import storage_env

V1_CLOSED_JSON = (
    '{"timestamp":{"_type_":"datetime_iso","_data_":"%s"},'
    '"closed_on":{"_type_":"date_iso","_data_":"2026-04-15"},"reason":"%s",'
    '"rationale":"The goals of the plan are met","actor":{"id":"sw-17","name":"Sofie Rådgiver"},"source":null}'
)
"""A ``referral.closed`` event exactly as caseledger 0.1 (class version 1) stored it."""


def stored_v1_closed(ledger: CaseLedger, referral_id: str, version: int, reason: str) -> StoredEvent:
    """The stored form of a version 1 close, passed through the application's own compressor and
    cipher if it has them (so the test holds however the store is configured)."""
    state = (V1_CLOSED_JSON % (datetime.now(UTC).isoformat(), reason)).encode()
    assert ledger.mapper.transcoder.decode(state)["reason"] == reason
    if ledger.mapper.compressor:
        state = ledger.mapper.compressor.compress(state)
    if ledger.mapper.cipher:
        state = ledger.mapper.cipher.encrypt(state)
    return StoredEvent(uuid.UUID(referral_id), version, "referral.closed", state)


def raw_state(ledger: CaseLedger, referral_id: str, version: int) -> dict[str, Any]:
    [stored] = [
        e for e in ledger.recorder.select_events(uuid.UUID(referral_id)) if e.originator_version == version
    ]
    state = stored.state
    if ledger.mapper.cipher:
        state = ledger.mapper.cipher.decrypt(state)
    if ledger.mapper.compressor:
        state = ledger.mapper.compressor.decompress(state)
    decoded: dict[str, Any] = json.loads(state)
    return decoded


@pytest.mark.parametrize("reason", CLOSE_REASONS)
def test_a_version_1_close_is_upcast_with_who_initiated_it(reason: str) -> None:
    state: dict[str, Any] = {"reason": reason, "closed_on": "2026-04-15"}
    Referral.Closed.upcast_v1_v2(state)
    expected = {"family_declined": "citizen", "moved": "citizen", "supplier_terminated": "supplier"}
    assert state["initiated_by"] == expected.get(reason, "municipality")


def test_version_1_closes_are_read_projected_audited_and_rebuilt_beside_version_2(
    client: TestClient, db_url: str
) -> None:
    ledger: CaseLedger = client.app.state.ledger  # type: ignore[attr-defined]
    old_ones = {bodies.active(client): "moved", bodies.matched(client)[0]: "withdrawn"}
    for referral_id, reason in old_ones.items():
        version = len(bodies.events_of(client, "referrals", referral_id)) + 1
        ledger.recorder.insert_events([stored_v1_closed(ledger, referral_id, version, reason)])
        assert "initiated_by" not in raw_state(ledger, referral_id, version)
        assert "class_version" not in raw_state(ledger, referral_id, version)
    new_one = bodies.active(client)
    closed = created(
        client.post(f"/referrals/{new_one}/closure", json=bodies.closure(reason="supplier_terminated")), 200
    )
    stored_v2 = raw_state(ledger, new_one, closed["version"])
    assert (stored_v2["class_version"], stored_v2["initiated_by"]) == (2, "supplier")

    expected = {
        **{rid: ("citizen" if r == "moved" else "municipality") for rid, r in old_ones.items()},
        new_one: "supplier",
    }
    for referral_id, initiated_by in expected.items():
        referral = client.get(f"/referrals/{referral_id}").json()
        assert (referral["status"], referral["closed_on"]) == ("closed", "2026-04-15")
        assert referral["close_initiated_by"] == initiated_by
        last = bodies.events_of(client, "referrals", referral_id)[-1]
        assert (last["type"], last["data"]["initiated_by"]) == ("referral.closed", initiated_by)
        trail = client.get(f"/audit/referrals/{referral_id}").json()
        assert trail["integrity"]["ok"] is True
        assert trail["entries"][-1]["data"]["initiated_by"] == initiated_by
    assert client.get("/audit/verify").json()["ok"] is True, "the old events are chained like any other"

    position = last_position(client)
    listed = client.get("/referrals", params={"status": "closed", "min_position": position}).json()
    assert {item["id"] for item in listed["items"]} == set(expected)
    for item in listed["items"]:
        assert item["committed_total"] == client.get(f"/referrals/{item['id']}").json()["committed_total"]

    db = ProjectionDatabase.from_env(storage_env(db_url))
    try:
        live = dump(db)
        ProjectionRunner(db, ledger.read_events).rebuild()
        assert dump(db) == live
        assert {row["referral_id"] for row in live["cl_referrals"] if row["status"] == "closed"} == set(
            expected
        )
    finally:
        db.close()
