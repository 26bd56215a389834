"""Batch ``event_id``s are claimed per municipality: a token of one municipality can neither see that
another's case system used an id nor take an id first and block it (docs/idempotency.md)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from application.service.caseledger import CaseLedger
from application.storage.recording import KEYS_TABLE
from tests.api import bodies
from tests.api.bodies import ODENSE, last_position
from tests.storage import run_sql
from tests.tokens import bearer, new_token

OTHER = "101"


def _system(client: TestClient, municipality: str, name: str) -> dict[str, str]:
    return bearer(new_token(client, "case_system", municipality, name=name))


@pytest.fixture
def theirs(client: TestClient) -> dict[str, str]:
    """A case system of the other municipality."""
    return _system(client, OTHER, "sys-101")


@pytest.fixture
def ours(client: TestClient, theirs: dict[str, str]) -> dict[str, str]:
    """A case system of Odense (made after theirs, as the tests always did)."""
    return _system(client, ODENSE, "sys-461")


def _referral(event_id: str, municipality: str, **overrides: Any) -> dict[str, Any]:
    data = bodies.referral(municipality=municipality, **overrides)
    return {"event_id": event_id, "type": "referral.referred", "referral_id": str(uuid.uuid4()), "data": data}


def _post(client: TestClient, token: dict[str, str] | None, *items: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post("/events", json={"events": list(items)}, headers=token or {})
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def _shape(result: dict[str, Any]) -> dict[str, Any]:
    """An item's answer without what differs between any two writes (its ids and position)."""
    return {k: v for k, v in result.items() if k not in {"event_id", "id", "position"}} | {
        "problem": result.get("problem")
    }


def _unscope(db_url: str, scoped: str, event_id: str) -> None:
    """Store a claim as the code before scoped ids did: under ``event:<id>``."""
    run_sql(db_url, f"UPDATE {KEYS_TABLE} SET key = ? WHERE key = ?", [f"event:{event_id}", scoped])
    assert run_sql(db_url, f"SELECT count(*) FROM {KEYS_TABLE} WHERE key = ?", [f"event:{event_id}"]) == [
        (1,)
    ]


def test_an_event_id_another_municipality_used_is_answered_as_a_fresh_one(
    client: TestClient, theirs: dict[str, str], ours: dict[str, str]
) -> None:
    their_item = _referral("shared-1", OTHER)
    assert _post(client, theirs, their_item)[0]["status"] == "accepted"

    reused, fresh = _post(client, ours, _referral("shared-1", ODENSE), _referral("fresh-1", ODENSE))
    on_theirs = {**_referral("shared-1", ODENSE), "type": "referral.closed", "data": bodies.closure()}
    on_theirs["referral_id"] = their_item["referral_id"]
    fresh_on_theirs = {**on_theirs, "event_id": "fresh-2"}
    blocked, unknown = _post(client, ours, on_theirs), _post(client, ours, fresh_on_theirs)

    assert reused["status"] == fresh["status"] == "accepted"
    assert _shape(reused) == _shape(fresh)
    assert blocked[0]["problem"] == unknown[0]["problem"]
    assert blocked[0]["problem"]["type"] == "/problems/referral-not-found"
    assert last_position(client) == 3
    mine = client.get(f"/referrals/{reused['id']}").json()
    assert mine["municipality"] == ODENSE


def test_an_event_id_taken_first_by_another_municipality_does_not_block_its_owner(
    client: TestClient, theirs: dict[str, str], ours: dict[str, str]
) -> None:
    our_item = _referral("their-next-id", ODENSE)
    squatted = _post(client, ours, our_item)[0]
    their_item = _referral("their-next-id", OTHER)

    first = _post(client, theirs, their_item)[0]
    again = _post(client, theirs, their_item)[0]
    ours_again = _post(client, ours, our_item)[0]

    assert squatted["status"] == first["status"] == "accepted"
    assert first["id"] == their_item["referral_id"]
    assert again == {**first, "status": "duplicate"}
    assert ours_again == {**squatted, "status": "duplicate"}
    assert last_position(client) == 2
    assert client.get(f"/referrals/{first['id']}").json()["municipality"] == OTHER


def test_an_event_id_reused_in_the_same_municipality_for_other_content_is_refused(
    client: TestClient,
) -> None:
    one, another = _system(client, OTHER, "sys-101"), _system(client, OTHER, "other-101")
    item = _referral("same-1", OTHER)
    first = _post(client, one, item)[0]

    same = _post(client, another, item)[0]
    changed = _post(client, another, _referral("same-1", OTHER, purpose="Something else"))[0]

    assert same == {**first, "status": "duplicate"}
    assert changed["status"] == "rejected"
    assert changed["problem"]["type"] == "/problems/idempotency-key-reused"
    assert last_position(client) == 1


def test_a_token_of_every_municipality_claims_in_the_referrals_municipality(
    client: TestClient, theirs: dict[str, str], ours: dict[str, str]
) -> None:
    """The admin's item on a referral of 101 is one of 101's events: 101's system resending it gets
    a duplicate; 461 reusing the id is not affected."""
    item = _referral("admin-1", OTHER)
    first = _post(client, None, item)[0]  # the client's own token: admin, '*'
    closing = {"event_id": "admin-2", "type": "referral.closed", "referral_id": first["id"]}
    closing["data"] = bodies.closure()
    closed = _post(client, None, closing)[0]

    resent = _post(client, theirs, item, closing)
    elsewhere = _post(client, ours, _referral("admin-1", ODENSE), _referral("admin-2", ODENSE))

    assert first["status"] == closed["status"] == "accepted"
    assert resent == [{**first, "status": "duplicate"}, {**closed, "status": "duplicate"}]
    assert [r["status"] for r in elsewhere] == ["accepted", "accepted"]
    assert last_position(client) == 4


def test_an_event_claimed_before_ids_were_scoped_is_recognised_only_in_its_municipality(
    client: TestClient, theirs: dict[str, str], ours: dict[str, str], db_url: str
) -> None:
    item = _referral("before-1", OTHER)
    first = _post(client, theirs, item)[0]
    _unscope(db_url, f"event/{OTHER}:before-1", "before-1")

    resent = _post(client, theirs, item)[0]  # read with the batch's other claims
    resent_alone = _post(client, theirs, _referral("x-1", OTHER), item)[1]
    by_operator = _post(client, None, item)[0]  # the client's own token: admin, '*'
    changed = _post(client, theirs, _referral("before-1", OTHER, purpose="Something else"))[0]
    reused = _post(client, ours, _referral("before-1", ODENSE))[0]

    assert resent == resent_alone == by_operator == {**first, "status": "duplicate"}
    assert changed["status"] == "rejected"
    assert changed["problem"]["type"] == "/problems/idempotency-key-reused"
    assert reused["status"] == "accepted"
    assert last_position(client) == 3


def test_a_supplier_event_claimed_before_ids_were_scoped_is_recognised_on_resend(
    client: TestClient, db_url: str
) -> None:
    item = {"event_id": "sup-1", "type": "supplier.registered", "supplier_id": str(uuid.uuid4())}
    item["data"] = bodies.supplier()
    first = _post(client, None, item)[0]
    _unscope(db_url, "event/*:sup-1", "sup-1")

    resent = _post(client, None, item)[0]

    assert first["status"] == "accepted"
    assert resent == {**first, "status": "duplicate"}
    assert last_position(client) == 1


def test_a_batch_of_an_all_municipality_token_reads_its_referrals_municipalities_at_once(
    client: TestClient, theirs: dict[str, str]
) -> None:
    """So that its claims are read in one query; items on a referral filed in the same batch, and
    on one filed before it, are claimed in the referral's municipality either way."""
    ledger: CaseLedger = client.app.state.ledger  # type: ignore[attr-defined]
    before = _referral("early-1", OTHER)
    filed = _post(client, None, before)[0]
    assert ledger.municipalities.remembered(uuid.UUID(filed["id"])) is None  # filed by a batch
    ledger.municipalities.learn([uuid.UUID(filed["id"]), uuid.uuid4()])
    assert ledger.municipalities.remembered(uuid.UUID(filed["id"])) == OTHER

    now = _referral("early-2", OTHER)
    on_now = {"event_id": "early-3", "type": "referral.closed", "referral_id": now["referral_id"]}
    on_before = {**on_now, "event_id": "early-4", "referral_id": before["referral_id"]}
    items = [now, on_now | {"data": bodies.closure()}, on_before | {"data": bodies.closure()}]
    first = _post(client, None, *items)
    resent = _post(client, theirs, before, *items)

    assert [r["status"] for r in first] == ["accepted"] * 3
    assert resent == [{**r, "status": "duplicate"} for r in [filed, *first]]
