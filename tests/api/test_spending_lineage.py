"""``GET /reports/spending/lineage``: a cell of the spending report and the referrals and events that
make it up.

The expected amounts are worked out here from the bodies sent (rate × hours / 7 per day, rounded
once per referral and month); the cells are compared with what ``GET /reports/spending`` answers."""

from __future__ import annotations

import csv
import io
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api import bodies
from tests.api.bodies import assert_problem, created
from tests.tokens import bearer, new_token

MONTHS = ("2026-01", "2026-02", "2026-03", "2026-04")
COPENHAGEN = "101"


def hourly(rate: str, hours: str, days: int) -> Decimal:
    return Decimal(rate) * Decimal(hours) * days / 7


def dkk(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def get(client: TestClient, path: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
    params.setdefault("min_position", bodies.last_position(client))
    response = client.get(path, params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


def lineage(client: TestClient, headers: dict[str, str] | None = None, **params: Any) -> Any:
    return get(client, "/reports/spending/lineage", headers, **params)


def post(client: TestClient, referral_id: str, action: str, body: dict[str, Any]) -> None:
    created(client.post(f"/referrals/{referral_id}/{action}", json=body), 200)


def history(client: TestClient) -> dict[str, str]:
    """Two suppliers; an hourly referral whose rate rises from 10 February (decided afterwards), one
    closed on 20 February, and a daily one with the second supplier."""
    first = bodies.supplier_with_prices(client)
    raised, _ = bodies.matched(client, first)
    post(client, raised, "price-agreement", bodies.hourly_agreement())
    closed, _ = bodies.matched(client, first)
    post(client, closed, "price-agreement", bodies.hourly_agreement())
    second = bodies.supplier_with_prices(client)
    daily, _ = bodies.matched(client, second, intervention="respite-stay", legal_basis="BL-32-1-7")
    post(client, daily, "price-agreement", bodies.daily_agreement())
    rise = bodies.adjustment("2026-02-10", hours_per_week=None, hourly_rate="900.00", decided_on="2026-03-01")
    post(client, raised, "adjustment", rise)
    post(client, closed, "closure", bodies.closure("2026-02-20"))
    return {"first": first, "second": second, "raised": raised, "closed": closed, "daily": daily}


def amounts(cell: dict[str, Any]) -> dict[str, str]:
    return {part["referral_id"]: part["amount"] for part in cell["referrals"]}


def types(cell: dict[str, Any], referral_id: str) -> list[str]:
    part = next(part for part in cell["referrals"] if part["referral_id"] == referral_id)
    return [event["type"] for event in part["events"]]


def test_each_cell_of_the_report_is_the_sum_of_its_lineage(client: TestClient) -> None:
    history(client)
    for by in (None, "supplier", "intervention", "legal_basis"):
        params = {"by": by} if by else {}
        report = get(client, "/reports/spending", **{"from": MONTHS[0], "to": MONTHS[-1]}, **params)
        assert report["rows"]
        for row in report["rows"]:
            cell = lineage(client, month=row["month"], **({"by": by, "key": row["key"]} if by else {}))
            assert cell["amount"] == row["amount"], (by, row)
            assert sum(Decimal(part["amount"]) for part in cell["referrals"]) == Decimal(row["amount"])
            for part in cell["referrals"]:  # the replayed events agree with the read model's amount
                assert sum(Decimal(e["change"]) for e in part["events"]) == Decimal(part["amount"])


def test_the_amounts_are_the_referrals_months_with_the_rate_change_and_the_closure(
    client: TestClient,
) -> None:
    ids = history(client)
    january = hourly("850.00", "3", 17)
    february = {
        ids["raised"]: dkk(hourly("850.00", "3", 9) + hourly("900.00", "3", 19)),
        ids["closed"]: dkk(hourly("850.00", "3", 20)),
    }

    first = {"by": "supplier", "key": ids["first"]}
    assert amounts(lineage(client, month="2026-01", **first)) == {
        ids["raised"]: dkk(january),
        ids["closed"]: dkk(january),
    }
    cell = lineage(client, month="2026-02", **first)
    assert amounts(cell) == february
    assert Decimal(cell["amount"]) == sum(Decimal(amount) for amount in february.values())
    # March: the closed referral spends nothing and is not part of the cell.
    assert amounts(lineage(client, month="2026-03", **first)) == {
        ids["raised"]: dkk(hourly("900.00", "3", 31))
    }
    daily = lineage(client, month="2026-02", by="intervention", key="respite-stay")
    assert amounts(daily) == {ids["daily"]: "33600.00"}


def test_the_events_listed_are_those_that_changed_the_month(client: TestClient) -> None:
    ids = history(client)
    first = {"by": "supplier", "key": ids["first"]}

    january = lineage(client, month="2026-01", **first)
    february = lineage(client, month="2026-02", **first)
    march = lineage(client, month="2026-03", **first)

    # The rise from 10 February changes February and March, not January; the closure on 20
    # February cuts February (and empties March, where that referral no longer appears).
    assert types(january, ids["raised"]) == ["referral.price_agreed"]
    assert types(january, ids["closed"]) == ["referral.price_agreed"]
    assert types(february, ids["raised"]) == ["referral.price_agreed", "referral.adjusted"]
    assert types(february, ids["closed"]) == ["referral.price_agreed", "referral.closed"]
    assert types(march, ids["raised"]) == ["referral.price_agreed", "referral.adjusted"]
    adjusted = next(p for p in february["referrals"] if p["referral_id"] == ids["raised"])["events"][1]
    assert adjusted["version"] == 4
    assert adjusted["business_date"] == "2026-02-10"
    trail = get(client, f"/audit/referrals/{ids['raised']}")["entries"]
    assert adjusted["recorded_at"] == next(e["recorded_at"] for e in trail if e["version"] == 4)


def test_each_event_is_listed_with_what_it_changed_and_the_changes_add_up(client: TestClient) -> None:
    referral_id = bodies.active(client)
    later = bodies.adjustment("2026-03-01", hours_per_week="2")
    earlier = bodies.adjustment("2026-02-01", hours_per_week="4")
    post(client, referral_id, "adjustment", later)
    post(client, referral_id, "adjustment", earlier)  # from 1 February on: replaces the one from March

    march = lineage(client, month="2026-03")
    february = lineage(client, month="2026-02")

    agreed, two, four = (dkk(hourly("850.00", hours, 31)) for hours in ("3", "2", "4"))
    assert amounts(march) == {referral_id: four}
    events = march["referrals"][0]["events"]
    assert [(e["type"], e["business_date"]) for e in events] == [
        ("referral.price_agreed", "2026-01-10"),
        ("referral.adjusted", "2026-03-01"),
        ("referral.adjusted", "2026-02-01"),
    ]
    assert [Decimal(e["change"]) for e in events] == [
        Decimal(agreed),
        Decimal(two) - Decimal(agreed),
        Decimal(four) - Decimal(two),
    ]
    assert sum(Decimal(e["change"]) for e in events) == Decimal(four)
    # The adjustment from March on never changed February.
    events = february["referrals"][0]["events"]
    assert [(e["version"], e["business_date"]) for e in events] == [(3, "2026-01-10"), (5, "2026-02-01")]
    assert sum(Decimal(e["change"]) for e in events) == Decimal(dkk(hourly("850.00", "4", 28)))


def test_an_empty_cell_is_zero_with_no_referrals(client: TestClient) -> None:
    history(client)
    for params in ({"month": "2031-01"}, {"month": "2026-02", "by": "intervention", "key": "home-support"}):
        cell = lineage(client, **params)
        assert cell.pop("basis")["position"] == bodies.last_position(client)
        assert cell == {"amount": "0.00", "referrals": []}


def test_a_scoped_token_sees_only_its_municipalitys_referrals(client: TestClient) -> None:
    ids = history(client)
    created(
        client.post(
            f"/suppliers/{ids['first']}/price-lists", json=bodies.price_list(municipality=COPENHAGEN)
        ),
        200,
    )
    theirs, _ = bodies.matched(client, ids["first"], municipality=COPENHAGEN)
    post(client, theirs, "price-agreement", bodies.hourly_agreement())
    odense = bearer(new_token(client, "reporter", bodies.ODENSE))
    copenhagen = bearer(new_token(client, "reporter", COPENHAGEN))
    first = {"by": "supplier", "key": ids["first"]}

    assert set(amounts(lineage(client, odense, month="2026-01", **first))) == {ids["raised"], ids["closed"]}
    assert set(amounts(lineage(client, copenhagen, month="2026-01", **first))) == {theirs}
    assert set(amounts(lineage(client, month="2026-01", **first))) == {ids["raised"], ids["closed"], theirs}
    mine = lineage(client, copenhagen, month="2026-01")
    report = get(client, "/reports/spending", copenhagen, **{"from": "2026-01", "to": "2026-01"})
    assert mine["amount"] == report["rows"][0]["amount"]

    position = bodies.last_position(client)
    for params in ({"municipality": bodies.ODENSE}, {"by": "municipality", "key": bodies.ODENSE}):
        response = client.get(
            "/reports/spending/lineage",
            params={"month": "2026-01", "min_position": position, **params},
            headers=copenhagen,
        )
        assert_problem(response, 403, "municipality-not-allowed")


@pytest.mark.parametrize(
    "params",
    [
        {"month": "2026-13"},
        {"month": "2026-1"},
        {},
        {"month": "2026-01", "by": "colour", "key": "x"},
        {"month": "2026-01", "by": "supplier"},
        {"month": "2026-01", "key": "family-treatment"},
        {"month": "2026-01", "by": "intervention", "key": "knitting"},
        {"month": "2026-01", "by": "municipality", "key": "999"},
        {"month": "2026-01", "by": "supplier", "key": "not-a-uuid"},
        {"month": "2026-01", "by": "supplier", "key": "6f1c2a8e-0000-4000-8000-000000000000"},
    ],
)
def test_a_bad_month_grouping_or_key_is_422(client: TestClient, params: dict[str, str]) -> None:
    assert_problem(client.get("/reports/spending/lineage", params=params), 422)


def test_a_lineage_read_is_in_the_access_log_and_answers_csv(client: TestClient) -> None:
    ids = history(client)
    reporter = bearer(new_token(client, "reporter", bodies.ODENSE, name="controller"))
    params = {
        "month": "2026-02",
        "by": "supplier",
        "key": ids["first"],
        "min_position": bodies.last_position(client),
    }

    response = client.get(
        "/reports/spending/lineage", params=params, headers={**reporter, "Accept": "text/csv"}
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {row["referral_id"]: row["amount"] for row in rows} == amounts(lineage(client, **params))
    logged = get(client, "/audit/access-log", action="spending.lineage")["items"]
    assert [(e["token"], e["municipality"], e["format"], e["status"]) for e in logged] == [
        ("controller", bodies.ODENSE, "csv", 200),
        ("test-admin", "*", "json", 200),
    ]
    assert {k: logged[0]["query"][k] for k in ("month", "by", "key")} == {
        "month": "2026-02",
        "by": "supplier",
        "key": ids["first"],
    }


def test_a_supplier_key_that_is_another_aggregates_id_is_422(client: TestClient) -> None:
    referral_id = bodies.referred(client)
    response = client.get(
        "/reports/spending/lineage", params={"month": "2026-01", "by": "supplier", "key": referral_id}
    )
    assert_problem(response, 422, "unknown-key")
