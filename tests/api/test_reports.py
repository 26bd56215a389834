"""Reports, the referral list and the feed through HTTP: writes → events → projections → queries."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.api import bodies
from tests.api.bodies import assert_problem, created
from tests.tokens import authorize

DOMAIN_EXAMPLE = {"2026-01": "6192.86", "2026-02": "10200.00", "2026-03": "11292.86"}


def lifecycle(client: TestClient) -> tuple[str, str, int]:
    """A supplier with prices and one active hourly referral (the domain's worked example); the last position."""
    return bodies.agreed(client)


def test_spending_after_a_write_read_with_its_position_shows_the_write(client: TestClient) -> None:
    _, _, position = lifecycle(client)

    response = client.get(
        "/reports/spending", params={"from": "2026-01", "to": "2026-12", "min_position": position}
    )

    assert response.status_code == 200, response.text
    report = response.json()
    assert report.pop("basis")["position"] == position
    assert report == {
        "rows": [{"month": month, "amount": amount} for month, amount in DOMAIN_EXAMPLE.items()],
        "total": "27685.72",
    }


def test_spending_follows_an_adjustment_and_a_closure(client: TestClient) -> None:
    supplier_id, referral_id, _ = lifecycle(client)
    created(
        client.post(
            f"/referrals/{referral_id}/adjustment",
            json=bodies.adjustment(effective_from="2026-03-01", hours_per_week="7", decided_on="2026-02-20"),
        ),
        200,
    )
    result = created(client.post(f"/referrals/{referral_id}/closure", json=bodies.closure("2026-03-15")), 200)

    report = client.get(
        "/reports/spending", params={"by": "supplier", "min_position": result["position"]}
    ).json()

    # March: 850 × 7 / 7 × 15 days = 12750.00
    name = client.get(f"/suppliers/{supplier_id}").json()["name"]
    assert report["rows"] == [
        {"month": "2026-01", "key": supplier_id, "name": name, "amount": "6192.86"},
        {"month": "2026-02", "key": supplier_id, "name": name, "amount": "10200.00"},
        {"month": "2026-03", "key": supplier_id, "name": name, "amount": "12750.00"},
    ]
    assert report["total"] == "29142.86"


def test_spending_can_be_filtered_and_grouped(client: TestClient) -> None:
    _, _, position = lifecycle(client)

    by_basis = client.get(
        "/reports/spending",
        params={"by": "legal_basis", "from": "2026-02", "to": "2026-02", "min_position": position},
    ).json()
    other_municipality = client.get("/reports/spending", params={"municipality": "101"}).json()

    assert by_basis["rows"] == [
        {
            "month": "2026-02",
            "key": "BL-32-1-5",
            "name": "Familiebehandling eller behandling af barnet eller den unge",
            "amount": "10200.00",
        }
    ]
    assert other_municipality["rows"] == [] and other_municipality["total"] == "0.00"


def test_spending_as_csv_has_the_json_columns(client: TestClient) -> None:
    _, _, position = lifecycle(client)

    response = client.get(
        "/reports/spending", params={"min_position": position}, headers={"Accept": "text/csv"}
    )

    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows == [{"month": m, "amount": a} for m, a in DOMAIN_EXAMPLE.items()]


def test_supplier_overview_shows_prices_caseload_and_spend(client: TestClient) -> None:
    supplier_id, _, position = lifecycle(client)

    rows = client.get("/reports/suppliers", params={"municipality": "461", "min_position": position}).json()

    (row,) = [r for r in rows if r["supplier_id"] == supplier_id]
    assert row["cvr"] and row["name"] == "Familiehuset Fyn ApS"
    assert row["active_referrals"] == 1
    assert row["total_referrals"] == 1
    assert row["committed_total"] == "27685.72"
    rates = {r["intervention"]: r for r in row["price_lists"][0]["rates"]}
    assert rates["family-treatment"]["rate"] == "850.00"
    assert rates["family-treatment"]["negotiated_on"] == "2025-12-01"


def test_supplier_report_counts_its_referrals_by_status(client: TestClient) -> None:
    supplier_id, _, _ = lifecycle(client)
    referral_id = bodies.referred(client)
    result = created(client.post(f"/referrals/{referral_id}/match", json=bodies.match(supplier_id)), 200)

    row = client.get(f"/reports/suppliers/{supplier_id}", params={"min_position": result["position"]}).json()

    assert row["referrals_by_status"] == {"referred": 0, "matched": 1, "active": 1, "closed": 0}
    assert_problem(client.get("/reports/suppliers/00000000-0000-4000-8000-000000000000"), 404)


def test_price_benchmarks_summarise_agreed_and_list_rates(client: TestClient) -> None:
    _, _, position = lifecycle(client)

    rows = client.get(
        "/reports/price-benchmarks", params={"intervention": "family-treatment", "min_position": position}
    ).json()

    assert rows == [
        {
            "intervention": "family-treatment",
            "unit": "hour",
            "agreements": 1,
            "min": "850.00",
            "p25": "850.00",
            "median": "850.00",
            "p75": "850.00",
            "max": "850.00",
            "list_rates": 1,
            "list_min": "850.00",
            "list_p25": "850.00",
            "list_median": "850.00",
            "list_p75": "850.00",
            "list_max": "850.00",
            "own_cost": None,
        }
    ]


def test_the_referral_list_filters_and_pages(client: TestClient) -> None:
    _, active_id, _ = lifecycle(client)
    ids = [bodies.referred(client, referred_on=f"2026-01-0{day}") for day in (1, 2, 3)]
    last = created(client.post(f"/referrals/{ids[0]}/closure", json=bodies.closure()), 200)

    first_page = client.get("/referrals", params={"page_size": 2, "min_position": last["position"]}).json()
    second_page = client.get("/referrals", params={"page_size": 2, "page": 2}).json()
    active = client.get("/referrals", params={"status": "active"}).json()

    assert first_page["total"] == 4
    assert [item["id"] for item in first_page["items"] + second_page["items"]] == [
        active_id,
        ids[2],
        ids[1],
        ids[0],
    ]
    assert [item["id"] for item in active["items"]] == [active_id]
    assert active["items"][0]["committed_total"] == "27685.72"


def test_the_feed_lists_every_event_in_global_order(client: TestClient) -> None:
    _, referral_id, position = lifecycle(client)

    feed = client.get("/feed", params={"after": 0, "limit": 1000}).json()
    tail = client.get("/feed", params={"after": position - 1}).json()

    assert [item["position"] for item in feed] == list(range(1, position + 1))
    assert [item["type"] for item in feed if item["stream_id"] == referral_id] == [
        "referral.referred",
        "referral.matched",
        "referral.price_agreed",
    ]
    assert tail[0]["stream_type"] == "referral" and tail[0]["data"]["hourly_rate"] == "850.00"


def test_readiness_reports_the_projections_position_and_lag(client: TestClient) -> None:
    _, _, position = lifecycle(client)
    client.get("/reports/spending", params={"min_position": position})

    state = client.get("/readyz").json()

    assert state["projections"] == {"ok": True, "position": position, "lag": 0}
    assert "caseledger_projection_lag_events 0.0" in client.get("/metrics").text


@pytest.fixture
def client_without_projections(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'c.sqlite'}", run_projections=False, min_position_wait=0.2
    )
    with TestClient(create_app(settings)) as test_client:
        yield authorize(test_client)


def test_a_position_the_projections_have_not_reached_answers_503_with_retry_after(
    client_without_projections: TestClient,
) -> None:
    position = bodies.created(client_without_projections.post("/referrals", json=bodies.referral()))[
        "position"
    ]

    response = client_without_projections.get("/reports/spending", params={"min_position": position})

    assert_problem(response, 503, "projections-behind")
    assert response.headers["Retry-After"] == "1"
