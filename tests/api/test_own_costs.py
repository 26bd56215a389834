"""A municipality's own costs over HTTP: recorded, read in force and in full, refused by the rules
and by the token's rights and municipality, carried by the price benchmarks, in a batch, and read
the same by a new app on the same database.

Each test of the shared app uses a municipality of its own, so their own costs never meet."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from domain.own_cost import OwnCosts
from tests.api import bodies
from tests.api.bodies import MATCHER, assert_problem, created
from tests.storage import alter_state
from tests.tokens import authorize, bearer, new_token

RATIONALE = "Two of our own family therapists: salary, overhead and travel per face-to-face hour"
ROLES = ("case_system", "caseworker", "matcher", "auditor", "reporter", "admin")
RECORDERS = {"matcher", "admin"}
READERS = {"caseworker", "matcher", "reporter", "auditor", "admin"}


def own_cost(**overrides: Any) -> dict[str, Any]:
    body = {
        "intervention": "family-treatment",
        "unit": "hour",
        "rate": "640.00",
        "valid_from": "2026-01-01",
        "rationale": RATIONALE,
        "actor": MATCHER,
    }
    body.update(overrides)
    return body


def record(client: TestClient, code: str, headers: dict[str, str] | None = None, **overrides: Any) -> Any:
    return client.post(f"/municipalities/{code}/own-costs", json=own_cost(**overrides), headers=headers or {})


def own_costs(client: TestClient, code: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/municipalities/{code}/own-costs", params=params)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def expected(body: dict[str, Any], version: int) -> dict[str, Any]:
    """A record as the answer shows it: the body sent, with the version that recorded it."""
    return {**body, "version": version}


def test_a_recorded_own_cost_answers_201_and_is_read_back_in_force_and_in_the_history(
    shared_client: TestClient,
) -> None:
    body = own_cost()

    response = record(shared_client, "147")

    result = created(response, 201)
    assert response.headers["Location"] == "/municipalities/147/own-costs"
    assert response.headers["ETag"] == f'"{result["version"]}"'
    answer = own_costs(shared_client, "147")
    assert answer["municipality"] == "147"
    assert answer["version"] == result["version"]
    assert answer["in_force"] == [expected(body, result["version"])]
    assert answer["history"] == [{**expected(body, result["version"]), "replaced": False}]


def test_in_force_is_the_latest_valid_from_on_as_of_while_the_history_keeps_every_record(
    shared_client: TestClient,
) -> None:
    january = created(record(shared_client, "151"))
    july = created(record(shared_client, "151", rate="700.00", valid_from="2026-07-01"))
    respite = created(record(shared_client, "151", intervention="respite-stay", unit="day", rate="2900.00"))

    def in_force(as_of: str) -> list[tuple[str, str]]:
        return [
            (r["intervention"], r["rate"]) for r in own_costs(shared_client, "151", as_of=as_of)["in_force"]
        ]

    assert in_force("2025-12-31") == []
    assert in_force("2026-01-01") == [("family-treatment", "640.00"), ("respite-stay", "2900.00")]
    assert in_force("2026-06-30") == [("family-treatment", "640.00"), ("respite-stay", "2900.00")]
    assert in_force("2026-07-01") == [("family-treatment", "700.00"), ("respite-stay", "2900.00")]
    history = own_costs(shared_client, "151", as_of="2025-01-01")["history"]
    assert [r["version"] for r in history] == [january["version"], july["version"], respite["version"]]


def test_a_second_record_for_the_same_date_corrects_the_first(shared_client: TestClient) -> None:
    first = created(record(shared_client, "153"))
    correction = created(record(shared_client, "153", rate="655.50", rationale="Overhead recounted"))

    answer = own_costs(shared_client, "153", as_of="2026-03-01")

    assert [(r["rate"], r["version"]) for r in answer["in_force"]] == [("655.50", correction["version"])]
    assert [(r["version"], r["replaced"]) for r in answer["history"]] == [
        (first["version"], True),
        (correction["version"], False),
    ]


def test_the_same_rate_again_for_the_same_date_is_409_and_writes_nothing(shared_client: TestClient) -> None:
    created(record(shared_client, "155"))
    position = bodies.last_position(shared_client)

    assert_problem(record(shared_client, "155"), 409, "own-cost-unchanged")

    assert bodies.last_position(shared_client) == position


def test_a_retried_record_with_the_same_idempotency_key_answers_the_first_and_writes_nothing(
    shared_client: TestClient,
) -> None:
    key = {"Idempotency-Key": "own-cost-190-1"}
    first = created(record(shared_client, "190", key))
    position = bodies.last_position(shared_client)

    again = record(shared_client, "190", key)

    assert created(again) == first
    assert again.headers["Idempotent-Replayed"] == "true"
    assert bodies.last_position(shared_client) == position


def test_a_municipality_without_own_costs_has_none(shared_client: TestClient) -> None:
    answer = own_costs(shared_client, "157", as_of="2026-05-01")

    assert answer == {
        "municipality": "157",
        "as_of": "2026-05-01",
        "version": 0,
        "in_force": [],
        "history": [],
    }


@pytest.mark.parametrize(
    ("code", "overrides", "problem"),
    [
        ("159", {"intervention": "astrology"}, "unknown-intervention"),
        ("159", {"unit": "day"}, "unit-does-not-fit"),
        ("159", {"intervention": "respite-stay"}, "unit-does-not-fit"),
        ("159", {"unit": "week"}, "invalid-input"),
        ("159", {"rate": "640.005"}, "invalid-input"),
        ("159", {"rate": "0"}, "not-positive"),
        ("159", {"rate": "-1.00"}, "not-positive"),
        ("159", {"valid_from": "2026-13-01"}, "invalid-input"),
        ("159", {"valid_from": "1989-12-31"}, "date-out-of-range"),
        ("159", {"rationale": ""}, "invalid-input"),
        ("159", {"rationale": "as agreed with 010190-1234"}, "cpr-number-in-text"),
        ("159", {"actor": None}, "invalid-input"),
        ("159", {"municipality": "159"}, "invalid-input"),
        ("46", {}, "invalid-input"),
    ],
    ids=str,
)
def test_a_record_that_breaks_a_rule_is_422_and_writes_nothing(
    shared_client: TestClient, code: str, overrides: dict[str, Any], problem: str
) -> None:
    position = bodies.last_position(shared_client)

    assert_problem(record(shared_client, code, **overrides), 422, problem)

    assert bodies.last_position(shared_client) == position
    if code == "159":
        assert own_costs(shared_client, "159")["history"] == []


def test_a_code_that_is_no_municipalitys_is_404_on_both_and_writes_nothing(shared_client: TestClient) -> None:
    position = bodies.last_position(shared_client)

    assert_problem(record(shared_client, "999"), 404, "municipality-not-found")
    assert_problem(shared_client.get("/municipalities/999/own-costs"), 404, "municipality-not-found")

    assert bodies.last_position(shared_client) == position


@pytest.mark.parametrize("role", ROLES)
def test_matcher_and_admin_record_and_all_but_the_case_system_read_their_own_municipalitys_own_costs(
    shared_client: TestClient, role: str
) -> None:
    headers = bearer(new_token(shared_client, role, "161", name=f"{role}-161"))
    position = bodies.last_position(shared_client)

    written = record(shared_client, "161", headers, rate=f"{600 + ROLES.index(role)}.00")
    read = shared_client.get("/municipalities/161/own-costs", headers=headers)

    if role in RECORDERS:
        created(written, 201)
    else:
        assert_problem(written, 403, "role-not-allowed")
        assert bodies.last_position(shared_client) == position
    if role in READERS:
        assert read.status_code == 200, read.text
    else:
        assert_problem(read, 403, "role-not-allowed")


@pytest.mark.parametrize(("role", "code"), [("matcher", "163"), ("admin", "187")])
def test_a_token_of_one_municipality_neither_records_nor_reads_anothers_own_costs(
    shared_client: TestClient, role: str, code: str
) -> None:
    created(record(shared_client, code))
    headers = bearer(new_token(shared_client, role, "165", name=f"{role}-165"))
    position = bodies.last_position(shared_client)

    written = record(shared_client, code, headers, rate="999.00")
    read = shared_client.get(f"/municipalities/{code}/own-costs", headers=headers)

    assert_problem(written, 403, "municipality-not-allowed")
    assert bodies.last_position(shared_client) == position
    assert_problem(read, 403, "municipality-not-allowed")
    assert [r["rate"] for r in own_costs(shared_client, code)["history"]] == ["640.00"]


def test_the_feed_shows_a_scoped_token_only_its_own_municipalitys_own_costs(
    shared_client: TestClient,
) -> None:
    after = bodies.last_position(shared_client)
    own = created(record(shared_client, "167"))
    created(record(shared_client, "169"))
    headers = bearer(new_token(shared_client, "auditor", "167", name="auditor-167"))

    feed = shared_client.get("/feed", params={"after": after}, headers=headers).json()

    assert [(e["type"], e["data"].get("municipality")) for e in feed] == [
        ("own_cost.started", "167"),
        ("own_cost.recorded", "167"),
    ]
    assert {e["stream_id"] for e in feed} == {own["id"]}
    assert {e["stream_type"] for e in feed} == {"own_cost"}


def test_an_own_cost_is_a_batch_item_that_names_its_municipality_and_is_idempotent(
    shared_client: TestClient,
) -> None:
    item = {
        "event_id": "own-cost-173-1",
        "type": "own_cost.recorded",
        "data": {**own_cost(), "municipality": "173"},
    }
    scoped = bearer(new_token(shared_client, "admin", "175", name="admin-175"))

    first = shared_client.post("/events", json={"events": [item]}).json()["results"]
    again = shared_client.post("/events", json={"events": [item]}).json()["results"]
    other = shared_client.post(
        "/events", json={"events": [{**item, "event_id": "own-cost-173-2"}]}, headers=scoped
    ).json()["results"]

    assert [r["status"] for r in first + again] == ["accepted", "duplicate"]
    assert first[0]["id"] == again[0]["id"]
    assert other[0]["status"] == "rejected"
    assert other[0]["problem"]["status"] == 403
    assert [r["rate"] for r in own_costs(shared_client, "173")["history"]] == ["640.00"]


def test_price_benchmarks_of_one_municipality_carry_its_own_cost_in_force(shared_client: TestClient) -> None:
    supplier_id = bodies.register_supplier(shared_client)
    created(
        shared_client.post(
            f"/suppliers/{supplier_id}/price-lists", json=bodies.price_list(municipality="183")
        ),
        200,
    )
    created(record(shared_client, "183", rate="610.00", valid_from="2026-01-01"))
    created(record(shared_client, "183", rate="630.00", valid_from="2026-02-01"))
    created(record(shared_client, "183", rate="9999.00", valid_from="2199-01-01"))  # not yet in force
    created(record(shared_client, "185", intervention="respite-stay", unit="day", rate="2100.00"))
    position = bodies.last_position(shared_client)
    reporter = bearer(new_token(shared_client, "reporter", "183", name="reporter-183"))

    def rows(headers: dict[str, str] | None = None, **params: Any) -> dict[tuple[str, str], Any]:
        response = shared_client.get(
            "/reports/price-benchmarks", params={"min_position": position, **params}, headers=headers or {}
        )
        assert response.status_code == 200, response.text
        return {(row["intervention"], row["unit"]): row["own_cost"] for row in response.json()}

    of_183 = rows(municipality="183")
    assert of_183 == {
        ("family-treatment", "hour"): "630.00",
        ("home-support", "hour"): None,
        ("respite-stay", "day"): None,
    }
    assert rows(reporter) == of_183
    assert set(rows().values()) == {None}, "across municipalities there is no one own cost"


def test_a_new_app_on_the_same_database_reads_the_same_own_costs(db_url: str) -> None:
    with TestClient(create_app(Settings(database_url=db_url))) as first:
        authorize(first)
        supplier_id = bodies.register_supplier(first)
        created(first.post(f"/suppliers/{supplier_id}/price-lists", json=bodies.price_list()), 200)
        created(record(first, bodies.ODENSE))
        created(record(first, bodies.ODENSE, rate="650.00"))
        position = bodies.last_position(first)
        before = own_costs(first, bodies.ODENSE, as_of="2026-06-01")
        benchmarks = first.get(
            "/reports/price-benchmarks", params={"municipality": bodies.ODENSE, "min_position": position}
        ).json()

    with TestClient(create_app(Settings(database_url=db_url))) as second:
        authorize(second, name="second-admin")
        after = own_costs(second, bodies.ODENSE, as_of="2026-06-01")
        again = second.get(
            "/reports/price-benchmarks", params={"municipality": bodies.ODENSE, "min_position": position}
        ).json()

    assert after == before
    assert [r["rate"] for r in after["in_force"]] == ["650.00"]
    assert again == benchmarks
    assert {r["intervention"]: r["own_cost"] for r in again}["family-treatment"] == "650.00"


def test_verification_for_a_scoped_token_names_only_its_own_costs_damage_and_counts_the_rest(
    client: TestClient, db_url: str
) -> None:
    own, theirs = (OwnCosts.id_for(code) for code in (bodies.ODENSE, "101"))
    created(record(client, bodies.ODENSE))
    created(record(client, "101"))
    for stream in (own, theirs):
        alter_state(db_url, stream, 2, lambda state: state + b" ")
    auditor = bearer(new_token(client, "auditor", bodies.ODENSE, name="auditor-461"))

    response = client.get("/audit/verify", headers=auditor)

    assert response.status_code == 200, response.text
    seen = response.json()
    assert [(p["stream_id"], p["version"], p["problem"]) for p in seen["problems"]] == [
        (str(own), 2, "altered")
    ]
    assert (seen["problem_count"], seen["problems_elsewhere"], seen["checked"]) == (1, 1, 2)
    assert str(theirs) not in response.text
