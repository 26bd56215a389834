"""Audit over HTTP: a referral's decision trail (who, when recorded and effective, why, what changed),
JSON and CSV, and the verification that shows when stored history was altered afterwards.
"""

from __future__ import annotations

import csv
import io
from typing import Any
from uuid import UUID, uuid4

from fastapi.testclient import TestClient

from tests.api import bodies
from tests.api.bodies import MATCHER, WORKER, assert_problem, created
from tests.storage import alter_state, delete_event, run_sql

TYPES = [
    "referral.referred",
    "referral.matched",
    "referral.matched",
    "referral.price_agreed",
    "referral.extended",
    "referral.adjusted",
    "referral.closed",
]


def a_full_history(client: TestClient) -> tuple[str, str, str]:
    """Referred, matched, re-matched, priced, extended, adjusted and closed; returns the referral
    and the first and second supplier."""
    first = bodies.supplier_with_prices(client)
    second = bodies.supplier_with_prices(client)
    referral_id = bodies.referred(client)
    steps: list[tuple[str, dict[str, Any]]] = [
        ("match", bodies.match(first)),
        (
            "match",
            bodies.match(second, rationale="The first supplier has no capacity", matched_on="2026-01-09"),
        ),
        ("price-agreement", bodies.hourly_agreement(rationale="List price, three hours a week")),
        ("extension", bodies.extension(new_end="2026-04-30", hours_per_week="4")),
        (
            "adjustment",
            bodies.adjustment(effective_from="2026-04-10", hours_per_week="2", hourly_rate="800.00"),
        ),
        ("closure", bodies.closure(closed_on="2026-04-20")),
    ]
    for path, body in steps:
        created(client.post(f"/referrals/{referral_id}/{path}", json=body), 200)
    return referral_id, first, second


def trail_of(client: TestClient, referral_id: str) -> dict[str, Any]:
    response = client.get(f"/audit/referrals/{referral_id}")
    assert response.status_code == 200, response.text
    trail: dict[str, Any] = response.json()
    return trail


def test_the_trail_shows_who_when_why_and_what_changed_for_every_decision(client: TestClient) -> None:
    referral_id, first, second = a_full_history(client)
    trail = trail_of(client, referral_id)
    entries = trail["entries"]
    assert [e["type"] for e in entries] == TYPES
    assert [e["version"] for e in entries] == list(range(1, 8))
    assert [e["actor"] for e in entries] == [WORKER, MATCHER, MATCHER, MATCHER, WORKER, WORKER, WORKER]
    assert [e["effective_date"] for e in entries] == [
        "2026-01-05",
        "2026-01-08",
        "2026-01-09",
        "2026-01-10",
        "2026-03-20",
        "2026-04-10",
        "2026-04-20",
    ]
    recorded = [e["recorded_at"] for e in entries]
    assert recorded == sorted(recorded) and all(r.endswith("+00:00") for r in recorded)
    assert [e["rationale"] for e in entries] == [
        "Styrke forældrekompetencer og barnets trivsel i hjemmet",
        "Best professional fit for a family with young children",
        "The first supplier has no capacity",
        "List price, three hours a week",
        "Progress is good but not yet stable",
        "Fewer hours as the family copes better",
        "The goals of the plan are met",
    ]
    changes = [e["changes"] for e in entries]
    assert changes[0]["status"] == {"from": None, "to": "referred"}
    assert changes[1] == {
        "status": {"from": "referred", "to": "matched"},
        "supplier_id": {"from": None, "to": first},
    }
    assert changes[2] == {"supplier_id": {"from": first, "to": second}}
    assert changes[3] == {
        "status": {"from": "matched", "to": "active"},
        "start": {"from": None, "to": "2026-01-15"},
        "end": {"from": None, "to": "2026-03-31"},
        "pricing": {"from": None, "to": "hourly"},
        "hourly_rate": {"from": None, "to": "850.00"},
        "hours_per_week": {"from": None, "to": "3.00"},
    }
    assert changes[4] == {
        "end": {"from": "2026-03-31", "to": "2026-04-30"},
        "hours_per_week": {"from": "3.00", "to": "4.00"},
    }
    assert changes[5] == {
        "hours_per_week": {"from": "4.00", "to": "2.00"},
        "hourly_rate": {"from": "850.00", "to": "800.00"},
    }
    assert changes[6] == {
        "status": {"from": "active", "to": "closed"},
        "closed_on": {"from": None, "to": "2026-04-20"},
        "close_reason": {"from": None, "to": "goal_achieved"},
    }
    assert entries[2]["data"]["previous_supplier_id"] == first
    assert all(e["integrity"] == "ok" for e in entries)
    assert trail["integrity"]["ok"] is True
    assert trail["integrity"]["checked"] == 7
    assert trail["integrity"]["problems"] == []


def test_the_trail_as_csv_has_one_row_per_entry(client: TestClient) -> None:
    referral_id, _, _ = a_full_history(client)
    response = client.get(f"/audit/referrals/{referral_id}", headers={"Accept": "text/csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["type"] for row in rows] == TYPES
    assert {"version", "recorded_at", "effective_date", "actor", "rationale", "changes", "integrity"} <= set(
        rows[0]
    )
    assert '"to":"2026-04-30"' in rows[4]["changes"]
    assert rows[6]["integrity"] == "ok"


def test_an_altered_event_shows_in_the_trail_and_in_verification(client: TestClient, db_url: str) -> None:
    referral_id, _, _ = a_full_history(client)
    other = bodies.active(client)
    alter_state(
        db_url, UUID(referral_id), 5, lambda state: state.replace(b"Progress is good", b"Progress is poor")
    )
    trail = trail_of(client, referral_id)
    assert trail["integrity"]["ok"] is False
    assert [(p["version"], p["problem"]) for p in trail["integrity"]["problems"]] == [(5, "altered")]
    assert [e["integrity"] for e in trail["entries"]] == ["ok"] * 4 + ["altered"] + ["ok"] * 2
    assert trail["entries"][4]["rationale"] == "Progress is poor but not yet stable"  # shown, and flagged
    assert trail_of(client, other)["integrity"]["ok"] is True

    response = client.get("/audit/verify")
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["ok"] is False
    assert [(p["stream_id"], p["version"], p["problem"]) for p in result["problems"]] == [
        (referral_id, 5, "altered")
    ]
    assert set(result["head"]) == {"position", "global_hash", "computed_at"}


def test_undecodable_bytes_still_give_a_trail_that_says_so(client: TestClient, db_url: str) -> None:
    referral_id, _, _ = a_full_history(client)
    alter_state(db_url, UUID(referral_id), 3, lambda state: b"\x00garbage")
    trail = trail_of(client, referral_id)
    assert trail["integrity"]["ok"] is False
    assert trail["entries"][2]["integrity"] == "altered; undecodable"
    assert [e["type"] for e in trail["entries"]][3:] == TYPES[3:]


def test_a_deleted_event_shows_in_the_trail_integrity(client: TestClient, db_url: str) -> None:
    referral_id, _, _ = a_full_history(client)
    delete_event(db_url, UUID(referral_id), 4)
    trail = trail_of(client, referral_id)
    assert [e["version"] for e in trail["entries"]] == [1, 2, 3, 5, 6, 7]
    assert [(p["version"], p["problem"]) for p in trail["integrity"]["problems"]] == [(4, "deleted")]


def test_verification_of_an_untouched_store_is_ok_with_the_head_to_keep(client: TestClient) -> None:
    a_full_history(client)
    result = client.get("/audit/verify").json()
    assert result["ok"] is True
    assert result["problems"] == []
    assert result["checked"] == bodies.last_position(client)
    assert result["head"]["position"] == bodies.last_position(client)


def test_the_state_as_of_an_earlier_instant_is_still_answered(client: TestClient) -> None:
    referral_id, _, second = a_full_history(client)
    entries = trail_of(client, referral_id)["entries"]
    response = client.get(f"/referrals/{referral_id}", params={"as_of": entries[3]["recorded_at"]})
    assert response.status_code == 200, response.text
    earlier = response.json()
    assert (earlier["version"], earlier["status"], earlier["supplier_id"]) == (4, "active", second)
    assert earlier["end"] == "2026-03-31"


def test_the_trail_of_an_unknown_referral_is_404(client: TestClient) -> None:
    assert_problem(client.get(f"/audit/referrals/{uuid4()}"), 404, "referral-not-found")
    supplier_id = bodies.register_supplier(client)
    assert_problem(client.get(f"/audit/referrals/{supplier_id}"), 404, "referral-not-found")
    assert_problem(client.get("/audit/referrals/not-a-uuid"), 422)


def test_a_chain_cut_back_consistently_is_caught_only_against_an_exported_head(
    client: TestClient, db_url: str
) -> None:
    referral_id, _, _ = a_full_history(client)
    kept = client.get("/audit/verify").json()["head"]
    expect = f"{kept['position']}:{kept['global_hash']}"
    assert client.get("/audit/verify", params={"expect": expect}).json()["anchor"] == {
        "position": kept["position"],
        "expected_hash": kept["global_hash"],
        "found_hash": kept["global_hash"],
        "ok": True,
    }

    # The newest event and its chain row removed together: both chains stay internally consistent.
    delete_event(db_url, UUID(referral_id), 7)
    run_sql(db_url, "DELETE FROM caseledger_chain WHERE position = ?", [kept["position"]])

    assert client.get("/audit/verify").json()["ok"] is True
    checked = client.get("/audit/verify", params={"expect": expect}).json()
    assert checked["ok"] is False
    assert checked["anchor"]["found_hash"] is None
    assert checked["problems"] == []


def test_an_expected_head_that_is_not_position_and_hash_is_422(client: TestClient) -> None:
    response = client.get("/audit/verify", params={"expect": "12:not-a-hash"})
    assert_problem(response, 422)
