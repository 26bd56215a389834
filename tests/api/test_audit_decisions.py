"""Cross-referral decision search for auditors: GET /audit/decisions (a projection)."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from tests.api import bodies
from tests.api.bodies import created

ANNE = {"id": "mo-0112", "name": "Anne Vestergaard"}
JAKOB = {"id": "mo-0107", "name": "Jakob Lindholm"}


def decided(client: TestClient) -> tuple[str, str, str, int]:
    """Two referrals: one matched by Anne in January and priced above the list rate, one matched by
    Jakob in March at the list rate. Returns their ids, the supplier and the last position."""
    supplier_id = bodies.supplier_with_prices(client)
    first = bodies.referred(client)
    created(client.post(f"/referrals/{first}/match", json=bodies.match(supplier_id, actor=ANNE)), 200)
    created(
        client.post(
            f"/referrals/{first}/price-agreement",
            json=bodies.hourly_agreement("900.00", rationale="Særlige kompetencer nødvendige", actor=ANNE),
        ),
        200,
    )
    second = bodies.referred(
        client, referred_on="2026-03-01", requested_start="2026-03-15", expected_end="2026-06-30"
    )
    result = created(
        client.post(
            f"/referrals/{second}/match", json=bodies.match(supplier_id, actor=JAKOB, matched_on="2026-03-05")
        ),
        200,
    )
    return first, second, supplier_id, int(result["position"])


def test_every_match_by_one_consultant_in_a_period(client: TestClient) -> None:
    first, _, supplier_id, position = decided(client)

    found = client.get(
        "/audit/decisions",
        params={
            "actor": ANNE["id"],
            "type": "referral.matched",
            "from": "2026-01-01",
            "to": "2026-01-31",
            "min_position": position,
        },
    ).json()

    assert found["total"] == 1
    (decision,) = found["items"]
    assert decision["referral_id"] == first
    assert decision["actor"] == ANNE
    assert decision["effective_date"] == "2026-01-08"
    assert decision["supplier_id"] == supplier_id
    assert decision["rationale"] == "Best professional fit for a family with young children"


def test_every_price_above_the_list_rate(client: TestClient) -> None:
    first, _, _, position = decided(client)

    found = client.get(
        "/audit/decisions", params={"above_list_rate": "true", "min_position": position}
    ).json()

    assert [(d["referral_id"], d["type"]) for d in found["items"]] == [(first, "referral.price_agreed")]
    assert found["items"][0]["agreed_rate"] == "900.00"
    assert found["items"][0]["list_rate"] == "850.00"
    assert found["items"][0]["rationale"] == "Særlige kompetencer nødvendige"


def test_decisions_are_newest_first_paged_and_filtered_by_municipality(client: TestClient) -> None:
    _, second, _, position = decided(client)

    page = client.get("/audit/decisions", params={"page_size": 2, "min_position": position}).json()
    elsewhere = client.get("/audit/decisions", params={"municipality": "101"}).json()

    assert page["total"] == 5  # two referred, two matched, one price agreed
    assert [d["referral_id"] for d in page["items"]] == [second, second]
    assert [d["type"] for d in page["items"]] == ["referral.matched", "referral.referred"]
    assert elsewhere.pop("basis")["position"] == position
    assert elsewhere == {"items": [], "page": 1, "page_size": 50, "total": 0}


def test_decisions_as_csv(client: TestClient) -> None:
    _, _, _, position = decided(client)

    response = client.get(
        "/audit/decisions",
        params={"type": "referral.matched", "min_position": position},
        headers={"Accept": "text/csv"},
    )

    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["effective_date"] for row in rows] == ["2026-03-05", "2026-01-08"]
    assert {row["type"] for row in rows} == {"referral.matched"}
