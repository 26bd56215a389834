"""Idempotency keys are scoped to the token that sent them; batch ``event_id``s to the municipality
(shared by its tokens; across municipalities see ``test_event_id_scope``)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api import bodies
from tests.api.bodies import ODENSE, assert_problem, created, last_position
from tests.tokens import bearer, new_token


def _systems(client: TestClient) -> tuple[dict[str, str], dict[str, str]]:
    return (
        bearer(new_token(client, "case_system", ODENSE, name="dubu-461")),
        bearer(new_token(client, "case_system", ODENSE, name="nexus-461")),
    )


def _refer(client: TestClient, token: dict[str, str], key: str, body: dict[str, Any]) -> Any:
    return client.post("/referrals", json=body, headers={**token, "Idempotency-Key": key})


def test_two_case_systems_using_the_same_key_each_get_their_own_write_and_their_own_replay(
    client: TestClient,
) -> None:
    dubu, nexus = _systems(client)
    mine, theirs = bodies.referral(purpose="DUBU's referral"), bodies.referral(purpose="Nexus' referral")

    first = _refer(client, dubu, "msg-1", mine)
    second = _refer(client, nexus, "msg-1", theirs)

    assert first.status_code == second.status_code == 201, second.text
    assert "Idempotent-Replayed" not in second.headers
    assert first.json()["id"] != second.json()["id"]
    assert last_position(client) == 2
    again = _refer(client, dubu, "msg-1", mine)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _refer(client, nexus, "msg-1", theirs).json() == second.json()
    assert last_position(client) == 2
    assert client.get(f"/referrals/{second.json()['id']}").json()["purpose"] == "Nexus' referral"


def test_the_same_key_and_body_from_two_tokens_are_two_requests(client: TestClient) -> None:
    dubu, nexus = _systems(client)

    first = created(_refer(client, dubu, "msg-2", bodies.referral()))
    second = created(_refer(client, nexus, "msg-2", bodies.referral()))

    assert first["id"] != second["id"]
    assert last_position(client) == 2


def test_one_token_reusing_its_key_for_another_body_is_still_refused(client: TestClient) -> None:
    dubu, _ = _systems(client)
    created(_refer(client, dubu, "msg-3", bodies.referral()))

    response = _refer(client, dubu, "msg-3", bodies.referral(purpose="Something else"))

    assert_problem(response, 422, "idempotency-key-reused")
    assert last_position(client) == 1


def test_batch_event_ids_are_shared_by_the_tokens_of_one_municipality(client: TestClient) -> None:
    dubu, nexus = _systems(client)
    item = {"event_id": "dubu-4711", "type": "referral.referred", "data": bodies.referral()}

    first = client.post("/events", json={"events": [item]}, headers=dubu).json()["results"][0]
    again = client.post("/events", json={"events": [item]}, headers=nexus).json()["results"][0]
    changed = {**item, "data": bodies.referral(purpose="Changed")}
    refused = client.post("/events", json={"events": [changed]}, headers=nexus).json()["results"][0]

    assert first["status"] == "accepted"
    assert again["status"] == "duplicate" and again["id"] == first["id"]
    assert refused["status"] == "rejected" and refused["problem"]["status"] == 422
    assert last_position(client) == 1
