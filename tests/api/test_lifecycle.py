"""End to end through HTTP: a supplier with a price list, and referrals from referred to closed.

Each step checks the write result, the ETag, the referral's state and committed spend to the øre,
and afterwards every earlier state is read back by version and by instant.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from tests.api import bodies
from tests.api.bodies import LIFECYCLE, MATCHER, ODENSE, WORKER, created, events_of

PAUSE = 0.012  # seconds between writes, so that their recorded instants differ
# 850.00 DKK/h × 3 h/week from 2026-01-15 to 2026-03-31, month by month (docs/domain.md's example)
FIRST_QUARTER = {"2026-01": "6192.86", "2026-02": "10200.00", "2026-03": "11292.86"}


def write(client: TestClient, path: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    """POST a write, check its answer and ETag, and pause so the next write is recorded later."""
    response = client.post(path, json=body)
    result = created(response, status)
    assert response.headers["etag"] == f'"{result["version"]}"'
    time.sleep(PAUSE)
    return result


def state(client: TestClient, referral_id: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/referrals/{referral_id}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["etag"] == f'"{body["version"]}"'
    return body


def midpoint(earlier: str, later: str) -> str:
    first, second = datetime.fromisoformat(earlier), datetime.fromisoformat(later)
    assert first < second, "writes must be recorded at distinct instants"
    return (first + (second - first) / 2).isoformat()


def test_an_hourly_referral_runs_from_referred_to_closed_with_exact_committed_spend(
    client: TestClient,
) -> None:
    # Given a supplier with a negotiated price list, and a second supplier considered as a candidate
    chosen = write(client, "/suppliers", bodies.supplier(name="Familiehuset Fyn ApS"), 201)
    assert chosen["version"] == 1
    supplier_id = chosen["id"]
    listed = write(client, f"/suppliers/{supplier_id}/price-lists", bodies.price_list())
    assert (listed["id"], listed["version"]) == (supplier_id, 2)
    other = write(client, "/suppliers", bodies.supplier(name="Børn og Familie Centret A/S"), 201)
    other_id = other["id"]
    positions = [chosen["position"], listed["position"], other["position"]]
    snapshots: dict[int, dict[str, Any]] = {}

    def decide(command: str, body: dict[str, Any], version: int) -> dict[str, Any]:
        """Write a decision on the referral; check its version; keep its position and the state after it."""
        result = write(client, f"/referrals/{referral_id}/{command}", body)
        assert (result["id"], result["version"]) == (referral_id, version)
        positions.append(result["position"])
        snapshots[version] = state(client, referral_id)
        return snapshots[version]

    # When the case system refers
    referred = write(client, "/referrals", bodies.referral(), 201)
    referral_id = referred["id"]
    assert referred["version"] == 1
    positions.append(referred["position"])
    now = snapshots[1] = state(client, referral_id)
    assert now["id"] == referral_id
    assert now["status"] == "referred"
    assert (now["municipality"], now["citizen_ref"], now["case_ref"]) == (ODENSE, "B-7f3a9c", "SAG-2026-0042")
    assert (now["legal_basis"], now["intervention"]) == ("BL-32-1-5", "family-treatment")
    assert now["requested_hours_per_week"] == "3.00"
    assert (now["requested_start"], now["expected_end"], now["referred_on"]) == (
        "2026-01-15",
        "2026-03-31",
        "2026-01-05",
    )
    assert now["supplier_id"] is None
    assert now["pricing"] is None
    assert (now["start"], now["end"], now["closed_on"], now["close_reason"]) == (None, None, None, None)
    assert now["committed_total"] == "0.00"
    assert now["committed_by_month"] == {}

    # ... the matching unit matches, with its criteria and the candidate it did not choose
    body = bodies.match(
        supplier_id, [bodies.candidate(other_id, hourly_rate=910, reason="No capacity before March")]
    )
    now = decide("match", body, 2)
    assert now["status"] == "matched"
    assert now["supplier_id"] == supplier_id
    assert now["previous_supplier_ids"] == []
    assert now["pricing"] is None
    assert now["committed_total"] == "0.00"

    # ... agrees 850.00 DKK/h × 3 h/week from 2026-01-15 to 2026-03-31 (the docs/domain.md example)
    now = decide("price-agreement", bodies.hourly_agreement(850, 3), 3)
    assert now["status"] == "active"
    assert now["pricing"] == {
        "kind": "hourly",
        "hourly_rate": "850.00",
        "hours_per_week": "3.00",
        "daily_rate": None,
        "package": None,
    }
    assert now["list_rate"] == "850.00"
    assert (now["start"], now["end"]) == ("2026-01-15", "2026-03-31")
    assert now["committed_by_month"] == FIRST_QUARTER
    assert now["committed_total"] == "27685.72"

    # ... extends to the end of April at 4 h/week (from the day after the old end)
    now = decide("extension", bodies.extension("2026-04-30", hours_per_week="4"), 4)
    assert now["status"] == "active"
    assert (now["start"], now["end"]) == ("2026-01-15", "2026-04-30")
    # April: 850 × 4 / 7 × 30 = 14571.428… → 14571.43
    assert now["committed_by_month"] == {**FIRST_QUARTER, "2026-04": "14571.43"}
    assert now["committed_total"] == "42257.15"

    # ... adjusts to 2 h/week from 16 April
    now = decide("adjustment", bodies.adjustment("2026-04-16", hours_per_week=2), 5)
    # April: 850 × (4 × 15 + 2 × 15) / 7 = 10928.571… → 10928.57
    assert now["committed_by_month"]["2026-04"] == "10928.57"
    assert now["committed_total"] == "38614.29"

    # ... and closes on 20 April because the goals are met
    now = decide("closure", bodies.closure("2026-04-20", "goal_achieved"), 6)
    assert now["status"] == "closed"
    assert (now["closed_on"], now["close_reason"]) == ("2026-04-20", "goal_achieved")
    assert (now["start"], now["end"]) == ("2026-01-15", "2026-04-30")
    # April: 850 × (4 × 15 + 2 × 5) / 7 = 8500.00 exactly
    assert now["committed_by_month"] == {**FIRST_QUARTER, "2026-04": "8500.00"}
    assert now["committed_total"] == "36185.72"

    # Then every write got a later global position than the one before
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)

    # ... every earlier state can be read back by version, exactly as it was answered then
    for version, snapshot in snapshots.items():
        assert state(client, referral_id, version=version) == snapshot

    # ... the events list every decision in order, with its actor and data
    events = events_of(client, "referrals", referral_id)
    assert [e["type"] for e in events] == LIFECYCLE
    assert [e["version"] for e in events] == [1, 2, 3, 4, 5, 6]
    assert [e["actor"] for e in events] == [WORKER, MATCHER, MATCHER, WORKER, WORKER, WORKER]
    assert events[0]["data"]["purpose"] == "Styrke forældrekompetencer og barnets trivsel i hjemmet"
    assert events[0]["data"]["requested_start"] == "2026-01-15"
    assert events[1]["data"]["supplier_id"] == supplier_id
    assert events[1]["data"]["criteria"] == bodies.match(supplier_id)["criteria"]
    assert events[1]["data"]["candidates"] == [
        {"supplier_id": other_id, "hourly_rate": "910.00", "reason": "No capacity before March"}
    ]
    assert events[1]["data"]["matched_on"] == "2026-01-08"
    assert events[2]["data"]["kind"] == "hourly"
    assert (events[2]["data"]["hourly_rate"], events[2]["data"]["hours_per_week"]) == ("850.00", "3.00")
    assert (events[2]["data"]["list_rate"], events[2]["data"]["list_negotiated_on"]) == (
        "850.00",
        "2025-12-01",
    )
    assert events[2]["data"]["above_list_rate"] is False
    assert (events[2]["data"]["start"], events[2]["data"]["end"]) == ("2026-01-15", "2026-03-31")
    assert events[3]["data"]["previous_end"] == "2026-03-31"
    assert events[3]["data"]["new_end"] == "2026-04-30"
    assert events[3]["data"]["hours_per_week"] == "4.00"
    assert events[3]["data"]["rationale"] == "Progress is good but not yet stable"
    assert events[3]["data"]["decided_on"] == "2026-03-20"
    assert events[4]["data"]["effective_from"] == "2026-04-16"
    assert events[4]["data"]["hours_per_week"] == "2.00"
    assert events[5]["data"]["closed_on"] == "2026-04-20"
    assert events[5]["data"]["reason"] == "goal_achieved"
    assert events[5]["data"]["rationale"] == "The goals of the plan are met"
    recorded = [e["recorded_at"] for e in events]
    assert all(datetime.fromisoformat(r).utcoffset() is not None for r in recorded)
    assert recorded == sorted(recorded)

    # ... and the state at any instant between two writes is the state after the earlier one
    for version in range(1, 6):
        between = midpoint(recorded[version - 1], recorded[version])
        assert state(client, referral_id, as_of=between) == snapshots[version]
    assert state(client, referral_id, as_of=recorded[2]) == snapshots[3]
    assert state(client, referral_id, as_of="2999-01-01T00:00:00+01:00") == snapshots[6]
    before_referral = client.get(f"/referrals/{referral_id}", params={"as_of": "2020-01-01T00:00:00Z"})
    assert before_referral.status_code == 404
    assert before_referral.json()["type"] == "/problems/not-yet-recorded"


def test_supplier_shows_prices_in_force_with_negotiation_dates_and_its_events(client: TestClient) -> None:
    supplier_id = created(client.post("/suppliers", json=bodies.supplier(name="Familiehuset Fyn ApS")))["id"]
    earlier = bodies.price_list(
        negotiated_on="2023-11-20",
        valid_from="2024-01-01",
        rates=[
            bodies.rate("family-treatment", "hour", "800.00"),
            bodies.rate("respite-stay", "day", "2300.00"),
        ],
        packages=[bodies.package("Forløb 10 timer", price="7800.00", hours="10")],
        note=None,
    )
    later = bodies.price_list(
        negotiated_on="2024-11-15",
        valid_from="2025-01-01",
        rates=[bodies.rate("family-treatment", "hour", "850.00")],
        packages=[bodies.package("Forløb 20 timer", price="15000.00", hours="20")],
    )
    copenhagen = bodies.price_list(
        municipality="101", negotiated_on="2024-10-01", valid_from="2024-10-01", packages=[], note=None
    )
    for version, body in enumerate((earlier, later, copenhagen), start=2):
        result = created(client.post(f"/suppliers/{supplier_id}/price-lists", json=body), 200)
        assert (result["id"], result["version"]) == (supplier_id, version)

    response = client.get(f"/suppliers/{supplier_id}")
    assert response.status_code == 200
    assert response.headers["etag"] == '"4"'
    supplier = response.json()
    assert supplier["version"] == 4
    assert supplier["name"] == "Familiehuset Fyn ApS"
    assert supplier["contact"]["email"] == "hanne@familiehuset.dk"
    assert supplier["target_groups"] == ["0-17 years", "families"]
    in_force = {prices["municipality"]: prices for prices in supplier["prices_in_force"]}
    assert set(in_force) == {"101", ODENSE}
    odense = in_force[ODENSE]
    rates = {(r["intervention"], r["unit"]): r for r in odense["rates"]}
    # the later list supersedes the earlier one for family treatment; respite stays as listed earlier
    assert rates[("family-treatment", "hour")] == {
        "intervention": "family-treatment",
        "unit": "hour",
        "rate": "850.00",
        "negotiated_on": "2024-11-15",
        "valid_from": "2025-01-01",
        "valid_to": None,
    }
    assert rates[("respite-stay", "day")]["rate"] == "2300.00"
    assert rates[("respite-stay", "day")]["negotiated_on"] == "2023-11-20"
    packages = {p["name"]: p for p in odense["packages"]}
    assert packages["Forløb 20 timer"]["price"] == "15000.00"
    assert packages["Forløb 20 timer"]["hours"] == "20.00"
    assert packages["Forløb 20 timer"]["negotiated_on"] == "2024-11-15"
    assert packages["Forløb 10 timer"]["negotiated_on"] == "2023-11-20"
    assert {r["rate"] for r in in_force["101"]["rates"]} == {"850.00", "2400.00", "640.50"}
    assert len(supplier["price_lists"]) == 3
    assert supplier["price_lists"][1]["note"] == "Forhandlet mod sammenlignelige indsatser og egen drift"

    # details can change, but not the CVR number
    result = created(
        client.post(f"/suppliers/{supplier_id}/details", json={"name": "Familiehuset Odense ApS"}), 200
    )
    assert result["version"] == 5
    assert client.get(f"/suppliers/{supplier_id}").json()["name"] == "Familiehuset Odense ApS"
    assert (
        client.get(f"/suppliers/{supplier_id}", params={"version": 4}).json()["name"]
        == "Familiehuset Fyn ApS"
    )

    events = events_of(client, "suppliers", supplier_id)
    assert [e["type"] for e in events] == [
        "supplier.registered",
        "supplier.price_list_negotiated",
        "supplier.price_list_negotiated",
        "supplier.price_list_negotiated",
        "supplier.details_updated",
    ]
    assert events[0]["data"]["cvr"] == supplier["cvr"]
    assert events[0]["actor"] == MATCHER
    assert events[1]["data"]["negotiated_on"] == "2023-11-20"
    assert events[2]["data"]["rates"] == [
        {"intervention": "family-treatment", "unit": "hour", "rate": "850.00"}
    ]
    assert events[3]["data"]["municipality"] == "101"
    assert events[4]["data"]["changes"] == {"name": "Familiehuset Odense ApS"}
    assert events[4]["actor"] == {"id": "test-admin"}


def test_the_agreement_records_the_list_rate_valid_on_its_start(client: TestClient) -> None:
    supplier_id = bodies.supplier_with_prices(client)
    spring = bodies.price_list(
        negotiated_on="2026-02-10", valid_from="2026-03-01", rates=[bodies.rate(amount="900")]
    )
    created(client.post(f"/suppliers/{supplier_id}/price-lists", json=spring), 200)

    january, _ = bodies.matched(client, supplier_id)
    created(client.post(f"/referrals/{january}/price-agreement", json=bodies.hourly_agreement(850, 3)), 200)
    march, _ = bodies.matched(client, supplier_id, requested_start="2026-03-15", expected_end="2026-05-31")
    body = bodies.hourly_agreement(880, 3, start="2026-03-15", end="2026-05-31")
    created(client.post(f"/referrals/{march}/price-agreement", json=body), 200)

    assert client.get(f"/referrals/{january}").json()["list_rate"] == "850.00"
    assert client.get(f"/referrals/{march}").json()["list_rate"] == "900.00"
    agreed = events_of(client, "referrals", march)[-1]["data"]
    assert (agreed["list_rate"], agreed["list_negotiated_on"], agreed["above_list_rate"]) == (
        "900.00",
        "2026-02-10",
        False,
    )


def test_a_rate_above_the_list_rate_with_a_rationale_is_agreed_and_flagged(client: TestClient) -> None:
    referral_id, _ = bodies.matched(client)
    body = bodies.hourly_agreement(
        "925.50", "2.5", rationale="Only supplier with a Polish-speaking therapist"
    )
    created(client.post(f"/referrals/{referral_id}/price-agreement", json=body), 200)

    agreed = events_of(client, "referrals", referral_id)[-1]["data"]
    assert (agreed["hourly_rate"], agreed["hours_per_week"]) == ("925.50", "2.50")
    assert (agreed["list_rate"], agreed["above_list_rate"]) == ("850.00", True)
    assert agreed["rationale"] == "Only supplier with a Polish-speaking therapist"


def test_a_daily_agreement_commits_its_rate_for_every_day_and_follows_adjustments_and_closure(
    client: TestClient,
) -> None:
    respite = {"legal_basis": "BL-32-1-7", "intervention": "respite-stay", "requested_hours_per_week": None}
    referral_id, _ = bodies.matched(client, **respite)
    agreement = bodies.daily_agreement("2400.00", start="2026-01-25", end="2026-02-14")
    created(client.post(f"/referrals/{referral_id}/price-agreement", json=agreement), 200)
    now = client.get(f"/referrals/{referral_id}").json()
    assert now["status"] == "active"
    assert now["pricing"] == {
        "kind": "daily",
        "hourly_rate": None,
        "hours_per_week": None,
        "daily_rate": "2400.00",
        "package": None,
    }
    assert now["list_rate"] == "2400.00"
    assert now["committed_by_month"] == {"2026-01": "16800.00", "2026-02": "33600.00"}
    assert now["committed_total"] == "50400.00"

    adjustment = bodies.adjustment(
        "2026-02-08", hours_per_week=None, daily_rate="2500", decided_on="2026-02-01"
    )
    created(client.post(f"/referrals/{referral_id}/adjustment", json=adjustment), 200)
    now = client.get(f"/referrals/{referral_id}").json()
    assert now["committed_by_month"] == {"2026-01": "16800.00", "2026-02": "34300.00"}
    assert events_of(client, "referrals", referral_id)[-1]["data"]["above_list_rate"] is True

    closure = bodies.closure("2026-02-10", "need_changed")
    created(client.post(f"/referrals/{referral_id}/closure", json=closure), 200)
    now = client.get(f"/referrals/{referral_id}").json()
    assert now["status"] == "closed"
    assert now["committed_by_month"] == {"2026-01": "16800.00", "2026-02": "24300.00"}
    assert now["committed_total"] == "41100.00"


def test_a_package_is_committed_in_its_start_month_and_each_extension_in_its_first_month(
    client: TestClient,
) -> None:
    referral_id, _ = bodies.matched(client, expected_end="2026-05-31")
    created(client.post(f"/referrals/{referral_id}/price-agreement", json=bodies.package_agreement()), 200)
    now = client.get(f"/referrals/{referral_id}").json()
    assert now["pricing"] == {
        "kind": "package",
        "hourly_rate": None,
        "hours_per_week": None,
        "daily_rate": None,
        "package": {"name": "Forløb 20 timer", "price": "15000.00"},
    }
    assert now["list_rate"] is None
    assert now["committed_by_month"] == {"2026-02": "15000.00"}

    extension = bodies.extension("2026-07-31", package_price="7500", decided_on="2026-05-20")
    created(client.post(f"/referrals/{referral_id}/extension", json=extension), 200)
    now = client.get(f"/referrals/{referral_id}").json()
    assert now["end"] == "2026-07-31"
    assert now["committed_by_month"] == {"2026-02": "15000.00", "2026-06": "7500.00"}
    assert now["committed_total"] == "22500.00"

    created(
        client.post(
            f"/referrals/{referral_id}/closure", json=bodies.closure("2026-03-01", "family_declined")
        ),
        200,
    )
    now = client.get(f"/referrals/{referral_id}").json()
    assert now["status"] == "closed"
    assert now["committed_by_month"] == {"2026-02": "15000.00", "2026-06": "7500.00"}, (
        "packages are not released"
    )
    assert [e["data"].get("package_price") for e in events_of(client, "referrals", referral_id)[3:4]] == [
        "7500.00"
    ]


def test_rematching_before_a_price_is_agreed_records_the_previous_supplier(client: TestClient) -> None:
    first = bodies.supplier_with_prices(client)
    second = bodies.register_supplier(client, name="Børn og Familie Centret A/S")
    referral_id = bodies.referred(client)
    created(
        client.post(f"/referrals/{referral_id}/match", json=bodies.match(first, [bodies.candidate(second)])),
        200,
    )

    body = bodies.match(
        second,
        [
            bodies.candidate(
                first, hourly_rate="850.00", reason="Lost the staff member with the right profile"
            )
        ],
        rationale="Second supplier now has capacity and the right profile",
        matched_on="2026-01-12",
    )
    result = created(client.post(f"/referrals/{referral_id}/match", json=body), 200)
    assert result["version"] == 3

    now = client.get(f"/referrals/{referral_id}").json()
    assert now["status"] == "matched"
    assert now["supplier_id"] == second
    assert now["previous_supplier_ids"] == [first]
    events = events_of(client, "referrals", referral_id)
    assert [e["type"] for e in events] == ["referral.referred", "referral.matched", "referral.matched"]
    assert events[1]["data"]["previous_supplier_id"] is None
    assert events[2]["data"]["previous_supplier_id"] == first
    assert events[2]["data"]["supplier_id"] == second

    # the price is then agreed with the new supplier, who has no list price: no rationale needed
    created(
        client.post(f"/referrals/{referral_id}/price-agreement", json=bodies.hourly_agreement(990, 3)), 200
    )
    now = client.get(f"/referrals/{referral_id}").json()
    assert (now["status"], now["supplier_id"], now["list_rate"]) == ("active", second, None)
    assert client.get(f"/referrals/{referral_id}", params={"version": 2}).json()["supplier_id"] == first


def test_a_referral_can_be_closed_before_it_is_matched_and_commits_nothing(client: TestClient) -> None:
    referral_id = bodies.referred(client)
    result = created(
        client.post(f"/referrals/{referral_id}/closure", json=bodies.closure("2026-01-06", "withdrawn")), 200
    )
    assert result["version"] == 2
    now = client.get(f"/referrals/{referral_id}").json()
    assert (now["status"], now["close_reason"], now["committed_total"], now["pricing"]) == (
        "closed",
        "withdrawn",
        "0.00",
        None,
    )


def test_money_sent_as_json_numbers_is_answered_as_strings_with_two_decimals(client: TestClient) -> None:
    referral_id, _ = bodies.matched(client, requested_hours_per_week=3.5)
    created(
        client.post(f"/referrals/{referral_id}/price-agreement", json=bodies.hourly_agreement(850, 3.5)), 200
    )
    now = client.get(f"/referrals/{referral_id}").json()
    assert now["requested_hours_per_week"] == "3.50"
    assert now["pricing"]["hourly_rate"] == "850.00"
    assert now["pricing"]["hours_per_week"] == "3.50"
    # January: 850 × 3.5 / 7 × 17 = 7225.00
    assert now["committed_by_month"]["2026-01"] == "7225.00"
