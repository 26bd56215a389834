"""Changes after the fact (``GET /reports/spending/changes``): the months and referrals whose committed
spend differs between two knowledge times, with the events recorded in between that caused it.

Amounts are computed here from the terms sent (docs/domain.md's arithmetic), not read back."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api import bodies
from tests.api.bodies import assert_problem, created
from tests.tokens import bearer, new_token

ASSENS = "101"
CHANGES = "/reports/spending/changes"


def month_amount(rate: str, hours: str, days: int) -> Decimal:
    exact = Decimal(rate) * Decimal(hours) / 7 * days
    return exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def changes(client: TestClient, headers: dict[str, str] | None = None, **params: Any) -> Any:
    params.setdefault("min_position", bodies.last_position(client))
    response = client.get(CHANGES, params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


def last_recorded_at(client: TestClient, referral_id: str) -> str:
    return str(bodies.events_of(client, "referrals", referral_id)[-1]["recorded_at"])


def retroactive_adjustment(client: TestClient, referral_id: str) -> dict[str, Any]:
    """From 2026-02-01 on (a month already reported): 900.00 DKK/h × 4 h/week instead of 850 × 3."""
    body = bodies.adjustment("2026-02-01", hourly_rate="900.00", hours_per_week="4")
    return created(client.post(f"/referrals/{referral_id}/adjustment", json=body), 200)


def test_a_retroactive_adjustment_lists_each_changed_month_with_its_cause(client: TestClient) -> None:
    referral_id = bodies.active(client)
    untouched = bodies.active(client)
    since = last_recorded_at(client, untouched)
    adjusted = retroactive_adjustment(client, referral_id)
    cause = bodies.events_of(client, "referrals", referral_id)[-1]

    found = changes(client, since=since)

    expected = []
    for month, days in (("2026-02", 28), ("2026-03", 31)):
        before, after = month_amount("850.00", "3", days), month_amount("900.00", "4", days)
        expected.append(
            {
                "month": month,
                "referral_id": referral_id,
                "before": f"{before:.2f}",
                "after": f"{after:.2f}",
                "difference": f"{after - before:.2f}",
                "events": [
                    {
                        "position": adjusted["position"],
                        "version": adjusted["version"],
                        "type": "referral.adjusted",
                        "recorded_at": cause["recorded_at"],
                    }
                ],
            }
        )
    assert found["items"] == expected
    assert found["before"]["position"] == adjusted["position"] - 1
    assert found["before"]["known_at"] == since
    assert found["basis"]["position"] == adjusted["position"]


def test_changes_are_the_difference_of_the_two_known_at_reports(client: TestClient) -> None:
    referral_id = bodies.active(client)
    since = last_recorded_at(client, referral_id)
    retroactive_adjustment(client, referral_id)
    bodies.active(client)  # new spending: a referral that was not there before
    created(client.post(f"/referrals/{referral_id}/closure", json=bodies.closure("2026-03-10")), 200)
    until = last_recorded_at(client, referral_id)

    found = changes(client, since=since, until=until)

    def by_month(**params: Any) -> dict[str, Decimal]:
        response = client.get("/reports/spending", params=params)
        assert response.status_code == 200, response.text
        return {row["month"]: Decimal(row["amount"]) for row in response.json()["rows"]}

    before, after = by_month(known_at=since), by_month(known_at=until)
    summed: dict[str, Decimal] = {}
    for item in found["items"]:
        assert Decimal(item["after"]) - Decimal(item["before"]) == Decimal(item["difference"])
        summed[item["month"]] = summed.get(item["month"], Decimal(0)) + Decimal(item["difference"])
    for month in before.keys() | after.keys():
        assert summed.get(month, Decimal(0)) == after.get(month, Decimal(0)) - before.get(month, Decimal(0))


def test_months_to_stops_the_comparison(client: TestClient) -> None:
    referral_id = bodies.active(client)
    since = last_recorded_at(client, referral_id)
    retroactive_adjustment(client, referral_id)

    found = changes(client, since=since, months_to="2026-02")

    assert [item["month"] for item in found["items"]] == ["2026-02"]


def test_nothing_recorded_in_between_lists_nothing(client: TestClient) -> None:
    referral_id = bodies.active(client)
    since = last_recorded_at(client, referral_id)
    bodies.register_supplier(client)  # a supplier changes no committed spend

    assert changes(client, since=since)["items"] == []


def test_a_municipality_token_sees_only_its_own_changes(client: TestClient) -> None:
    odense = bodies.active(client)
    assens = bodies.active(client, municipality=ASSENS)
    since = last_recorded_at(client, assens)
    retroactive_adjustment(client, odense)
    retroactive_adjustment(client, assens)
    reporter = bearer(new_token(client, "reporter", bodies.ODENSE, name="reporter-461"))

    own = changes(client, headers=reporter, since=since)
    asking_for_another = client.get(
        CHANGES, params={"since": since, "municipality": ASSENS}, headers=reporter
    )
    everyone = changes(client, since=since)

    assert {item["referral_id"] for item in own["items"]} == {odense}
    assert {item["referral_id"] for item in everyone["items"]} == {odense, assens}
    assert_problem(asking_for_another, 403, "municipality-not-allowed")


def test_changes_as_csv_carry_the_basis_headers(client: TestClient) -> None:
    referral_id = bodies.active(client)
    since = last_recorded_at(client, referral_id)
    retroactive_adjustment(client, referral_id)
    position = bodies.last_position(client)

    response = client.get(
        CHANGES, params={"since": since, "min_position": position}, headers={"Accept": "text/csv"}
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["Caseledger-Position"] == str(position)
    header, *rows = response.text.strip().splitlines()
    assert header.split(",")[:5] == ["month", "referral_id", "before", "after", "difference"]
    assert len(rows) == 2


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"since": "last week"},
        {"since": "2026-03-01T00:00:00Z", "until": "2026-02-01T00:00:00Z"},
        {"since": "2026-03-01T00:00:00Z", "months_to": "2026-13"},
        {"since": "2026-03-01T00:00:00"},
    ],
)
def test_bad_parameters_are_refused(client: TestClient, params: dict[str, str]) -> None:
    assert_problem(client.get(CHANGES, params=params), 422)
