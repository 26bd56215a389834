"""What a token of one municipality (Odense, 461) can learn about a referral of another (Assens, 101),
through HTTP on both storages: nothing the same token would not get for an id that does not exist
(docs/isolation.md lists what it can learn, and why)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from uuid import UUID, uuid4

from fastapi.testclient import TestClient

from tests.api import bodies
from tests.api.bodies import ODENSE, assert_problem
from tests.storage import alter_state, run_sql
from tests.tokens import bearer, new_token

ASSENS = "101"
CSV = {"Accept": "text/csv"}


def _without(text: str, referral_id: str) -> str:
    return text.replace(referral_id, "<id>")


def _access_log_answer(client: TestClient, headers: dict[str, str], referral_id: str) -> Any:
    """The access log's answer about ``referral_id``, JSON and CSV, with the id and instants blanked."""
    response = client.get("/audit/access-log", params={"referral_id": referral_id}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    items = [
        {**item, "at": "<at>", "referral_id": item["referral_id"] == referral_id} for item in body["items"]
    ]
    as_csv = client.get("/audit/access-log", params={"referral_id": referral_id}, headers={**headers, **CSV})
    assert as_csv.status_code == 200, as_csv.text
    rows = [line.split(",", 1)[1] for line in _without(as_csv.text, referral_id).splitlines()]
    return {**body, "items": items}, rows


def test_the_access_log_answers_about_another_municipalitys_referral_as_about_no_referral(
    client: TestClient,
) -> None:
    theirs = bodies.referred(client, municipality=ASSENS)
    missing = str(uuid4())
    system = bearer(new_token(client, "case_system", ODENSE, name="system-461"))
    auditor = bearer(new_token(client, "auditor", ODENSE, name="auditor-461"))
    assert client.get(f"/referrals/{theirs}").status_code == 200  # read by the '*' admin: Assens' data
    for referral_id in (theirs, missing):
        assert_problem(client.get(f"/referrals/{referral_id}", headers=system), 404)
        assert_problem(client.get(f"/audit/referrals/{referral_id}", headers=auditor), 404)

    about_theirs = _access_log_answer(client, auditor, theirs)
    about_missing = _access_log_answer(client, auditor, missing)

    assert about_theirs == about_missing
    body, _ = about_theirs
    assert body["total"] == 2
    assert {(e["municipality"], e["token_municipality"], e["status"]) for e in body["items"]} == {
        (ODENSE, ODENSE, 404)
    }
    # Assens' own auditors see the attempts on their referral as theirs.
    assens = bearer(new_token(client, "auditor", ASSENS, name="auditor-101"))
    seen = client.get("/audit/access-log", params={"referral_id": theirs}, headers=assens).json()["items"]
    assert [(e["token"], e["municipality"], e["status"]) for e in seen] == [
        ("test-admin", ASSENS, 200),
        ("system-461", ASSENS, 404),
        ("auditor-461", ASSENS, 404),
    ]


def test_a_citizen_search_shows_only_the_asking_tokens_municipalitys_referrals(client: TestClient) -> None:
    own = bodies.referred(client, citizen_ref="B-3333cc")
    theirs = bodies.referred(client, municipality=ASSENS, citizen_ref="B-3333cc")
    worker = bearer(new_token(client, "caseworker", ODENSE, name="worker-461"))
    auditor = bearer(new_token(client, "auditor", ODENSE, name="auditor-461"))
    assert client.get(f"/referrals/{own}", headers=worker).status_code == 200
    assert_problem(client.get(f"/referrals/{theirs}", headers=worker), 404)

    def referral_ids(headers: dict[str, str], **params: Any) -> list[str]:
        response = client.get(
            "/audit/access-log", params={"citizen_ref": "B-3333cc", **params}, headers=headers
        )
        assert response.status_code == 200, response.text
        return [e["referral_id"] for e in response.json()["items"]]

    assert referral_ids(auditor) == [own]
    assert referral_ids(auditor, referral_id=theirs) == []
    assert referral_ids(auditor, referral_id=str(uuid4())) == []
    assert referral_ids({}) == [own, theirs]  # '*' sees every municipality's


def test_verification_for_a_scoped_token_names_only_its_municipalitys_damage_and_counts_the_rest(
    client: TestClient, db_url: str
) -> None:
    own, supplier = bodies.matched(client)
    theirs, _ = bodies.matched(client, supplier_id=supplier, municipality=ASSENS)
    for referral_id in (own, theirs):
        alter_state(db_url, UUID(referral_id), 2, lambda state: state + b" ")
    stored = Counter(UUID(str(row[0])) for row in run_sql(db_url, "SELECT originator_id FROM stored_events"))
    odense = bearer(new_token(client, "auditor", ODENSE, name="auditor-461"))
    assens = bearer(new_token(client, "auditor", ASSENS, name="auditor-101"))

    def verified(headers: dict[str, str]) -> tuple[dict[str, Any], str]:
        response = client.get("/audit/verify", headers=headers)
        assert response.status_code == 200, response.text
        return response.json(), response.text

    seen_by_odense, text = verified(odense)
    assert [(p["stream_id"], p["version"], p["problem"]) for p in seen_by_odense["problems"]] == [
        (own, 2, "altered")
    ]
    assert (seen_by_odense["problem_count"], seen_by_odense["problems_elsewhere"]) == (1, 1), text
    assert seen_by_odense["checked"] == stored[UUID(own)] + stored[UUID(supplier)]
    assert seen_by_odense["chained"] == seen_by_odense["checked"]
    assert seen_by_odense["ok"] is False
    assert theirs not in text

    seen_by_assens, text = verified(assens)
    assert [(p["stream_id"], p["problem"]) for p in seen_by_assens["problems"]] == [(theirs, "altered")]
    assert (seen_by_assens["problem_count"], seen_by_assens["problems_elsewhere"]) == (1, 1)
    assert seen_by_assens["checked"] == stored[UUID(theirs)] + stored[UUID(supplier)]
    assert own not in text

    everything, _ = verified({})
    assert {p["stream_id"] for p in everything["problems"]} == {own, theirs}
    assert (everything["problem_count"], everything["problems_elsewhere"]) == (2, 0)
    assert everything["checked"] == sum(stored.values())


def test_filing_under_a_taken_id_answers_alike_for_every_municipality_and_is_recorded_for_its_holder(
    client: TestClient,
) -> None:
    system = bearer(new_token(client, "case_system", ODENSE, name="system-461"))
    own = bodies.referred(client)
    theirs = bodies.referred(client, municipality=ASSENS)

    def refused(referral_id: str) -> str:
        response = client.post("/referrals", json=bodies.referral(id=referral_id), headers=system)
        assert_problem(response, 409, "already-exists")
        return _without(response.text, referral_id)

    assert refused(theirs) == refused(own)
    assert client.post("/referrals", json=bodies.referral(id=str(uuid4())), headers=system).status_code == 201

    def refused_in_a_batch(referral_id: str) -> str:
        item = {"event_id": str(uuid4()), "type": "referral.referred", "data": bodies.referral()}
        batch = {"events": [{**item, "referral_id": referral_id}], "source_system": "DUBU"}
        response = client.post("/events", json=batch, headers=system)
        assert response.status_code == 200, response.text
        [result] = response.json()["results"]
        assert (result["status"], result["problem"]["type"]) == ("rejected", "/problems/already-exists")
        return _without(json.dumps(result["problem"]), referral_id)

    assert refused_in_a_batch(theirs) == refused_in_a_batch(own)

    assens = bearer(new_token(client, "auditor", ASSENS, name="auditor-101"))
    seen = client.get("/audit/access-log", params={"action": "referral.refer"}, headers=assens).json()[
        "items"
    ]
    assert [
        (e["token"], e["token_municipality"], e["municipality"], e["referral_id"], e["status"]) for e in seen
    ] == [("system-461", ODENSE, ASSENS, theirs, 409)]
    odense = bearer(new_token(client, "auditor", ODENSE, name="auditor-461"))
    mine = client.get("/audit/access-log", params={"action": "referral.refer"}, headers=odense).json()[
        "items"
    ]
    assert [(e["municipality"], e["referral_id"]) for e in mine] == [(ODENSE, theirs), (ODENSE, own)]
