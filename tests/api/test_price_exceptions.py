"""The pricing-practice reports: prices above the list rate in force, and old or missing price lists.

Every figure expected here is computed in the test from the bodies it sent, not read back."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastapi.testclient import TestClient

from projections.price_practice import difference_pct, months_before
from tests.api import bodies
from tests.api.bodies import MATCHER, WORKER, assert_problem, created
from tests.storage import rebuild_read_models
from tests.tokens import bearer, new_token

LIST = bodies.price_list()
"""The default price list every ``supplier_with_prices`` gets (Odense, negotiated 2025-12-01)."""
ABOVE = "Only supplier with a psychologist free this quarter"


def list_rate(intervention: str, unit: str) -> str:
    return next(r["rate"] for r in LIST["rates"] if (r["intervention"], r["unit"]) == (intervention, unit))


def pct(agreed: str, listed: str) -> str:
    exact = (Decimal(agreed) - Decimal(listed)) / Decimal(listed) * 100
    return str(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def days(later: str, earlier: str) -> int:
    return (date.fromisoformat(later) - date.fromisoformat(earlier)).days


def exceptions(client: TestClient, headers: dict[str, str] | None = None, **params: Any) -> Any:
    params.setdefault("min_position", bodies.last_position(client))
    response = client.get("/reports/price-exceptions", params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


def adjust(client: TestClient, referral_id: str, **overrides: Any) -> None:
    body = bodies.adjustment(**overrides)
    created(client.post(f"/referrals/{referral_id}/adjustment", json=body), 200)


def test_an_agreement_above_the_list_is_listed_with_its_figures_and_one_at_the_list_rate_is_not(
    client: TestClient,
) -> None:
    agreement = bodies.hourly_agreement("900.00", rationale=ABOVE)
    supplier_id, referral_id, _ = bodies.agreed(client, agreement)
    bodies.agreed(client, bodies.hourly_agreement(list_rate("family-treatment", "hour")))

    report = exceptions(client)

    listed = list_rate("family-treatment", "hour")
    assert pct("900.00", listed) == "5.9"
    assert report["total"] == 1
    assert report["items"] == [
        {
            "referral_id": referral_id,
            "type": "referral.price_agreed",
            "municipality": bodies.ODENSE,
            "supplier_id": supplier_id,
            "supplier_name": bodies.supplier()["name"],
            "intervention": "family-treatment",
            "unit": "hour",
            "agreed": "900.00",
            "list_rate": listed,
            "difference_pct": pct("900.00", listed),
            "list_negotiated_on": LIST["negotiated_on"],
            "list_age_days": days(agreement["agreed_on"], LIST["negotiated_on"]),
            "rationale": ABOVE,
            "decided_on": agreement["agreed_on"],
            "rate_from": None,
            "actor": MATCHER,
        }
    ]


def test_an_adjustment_above_the_list_is_listed_and_a_daily_rate_rounds_half_up(client: TestClient) -> None:
    _, hourly, _ = bodies.agreed(client)
    adjust(client, hourly, effective_from="2026-03-01", hourly_rate="935.50", decided_on="2026-02-20")
    adjust(client, hourly, effective_from="2026-03-15", hours_per_week="2", decided_on="2026-03-10")
    daily = bodies.daily_agreement("2550.00", rationale=ABOVE)
    _, respite, _ = bodies.agreed(client, daily, intervention="respite-stay", legal_basis="BL-32-1-7")

    items = {item["referral_id"]: item for item in exceptions(client)["items"]}

    assert set(items) == {hourly, respite}
    adjusted, stay = items[hourly], items[respite]
    assert (adjusted["type"], adjusted["agreed"], adjusted["list_rate"]) == (
        "referral.adjusted",
        "935.50",
        "850.00",
    )
    assert adjusted["difference_pct"] == pct("935.50", "850.00") == "10.1"
    assert (adjusted["decided_on"], adjusted["rate_from"]) == ("2026-02-20", "2026-03-01")
    assert adjusted["list_negotiated_on"] == LIST["negotiated_on"]
    assert adjusted["list_age_days"] == days("2026-02-20", LIST["negotiated_on"])
    assert adjusted["actor"] == WORKER
    listed = list_rate("respite-stay", "day")
    assert (stay["unit"], stay["agreed"], stay["list_rate"]) == ("day", "2550.00", listed)
    assert stay["difference_pct"] == pct("2550.00", listed) == "6.3"  # 6.25: half up, not to even


def test_the_filters_and_the_period_on_the_decision_date(client: TestClient) -> None:
    first, early, _ = bodies.agreed(client, bodies.hourly_agreement("900.00", rationale=ABOVE))
    _, late, _ = bodies.agreed(
        client, bodies.hourly_agreement("870.00", rationale=ABOVE, agreed_on="2026-01-14")
    )

    def ids(**params: Any) -> list[str]:
        return [item["referral_id"] for item in exceptions(client, **params)["items"]]

    assert ids() == [late, early]  # newest decision first
    assert ids(**{"from": "2026-01-11"}) == [late]
    assert ids(to="2026-01-10") == [early]
    assert ids(supplier_id=first) == [early]
    assert ids(intervention="respite-stay") == []
    assert ids(page_size=1, page=2) == [early]


def test_a_token_sees_only_its_municipality_and_a_case_system_token_none(client: TestClient) -> None:
    bodies.agreed(client, bodies.hourly_agreement("900.00", rationale=ABOVE))
    position = bodies.last_position(client)
    own = bearer(new_token(client, "reporter", bodies.ODENSE))
    other = bearer(new_token(client, "auditor", "101"))

    assert exceptions(client, own)["total"] == 1
    empty = exceptions(client, other)
    assert empty.pop("basis")["position"] == position
    assert empty == {"items": [], "page": 1, "page_size": 50, "total": 0}
    assert exceptions(client, municipality="101")["total"] == 0
    for path in ("/reports/price-exceptions", "/reports/price-lists"):
        assert_problem(client.get(path, params={"municipality": "101"}, headers=own), 403)
        case_system = bearer(new_token(client, "case_system", bodies.ODENSE))
        assert_problem(client.get(path, params={"min_position": position}, headers=case_system), 403)


def test_the_report_as_csv(client: TestClient) -> None:
    _, referral_id, position = bodies.agreed(client, bodies.hourly_agreement("900.00", rationale=ABOVE))

    response = client.get(
        "/reports/price-exceptions", params={"min_position": position}, headers={"Accept": "text/csv"}
    )

    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["referral_id"], r["agreed"], r["difference_pct"]) for r in rows] == [
        (referral_id, "900.00", "5.9")
    ]


def test_a_rebuild_of_the_read_models_gives_the_same_report(client: TestClient, db_url: str) -> None:
    _, referral_id, _ = bodies.agreed(client, bodies.hourly_agreement("900.00", rationale=ABOVE))
    adjust(client, referral_id, effective_from="2026-02-01", hourly_rate="950.00", decided_on="2026-01-25")
    before = exceptions(client)

    assert rebuild_read_models(db_url) == bodies.last_position(client)

    assert before["total"] == 2
    assert exceptions(client) == before


# -- price lists -------------------------------------------------------------------------------------

TODAY = date(2026, 6, 15)


def price_lists(client: TestClient, **params: Any) -> Any:
    client.app.state.ledger.today = lambda: TODAY  # type: ignore[attr-defined]
    params.setdefault("min_position", bodies.last_position(client))
    response = client.get("/reports/price-lists", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_lists_negotiated_longer_ago_than_asked_are_reported(client: TestClient) -> None:
    supplier_id = bodies.supplier_with_prices(client)

    within_a_year = price_lists(client)
    half_a_year = price_lists(client, older_than_months=6)

    assert (within_a_year["today"], within_a_year["negotiated_before"]) == ("2026-06-15", "2025-06-15")
    assert within_a_year["stale"] == []
    assert half_a_year["negotiated_before"] == "2025-12-15"
    assert half_a_year["stale"] == [
        {
            "supplier_id": supplier_id,
            "supplier_name": bodies.supplier()["name"],
            "municipality": LIST["municipality"],
            "negotiated_on": LIST["negotiated_on"],
            "valid_from": LIST["valid_from"],
            "valid_to": None,
            "age_days": (TODAY - date.fromisoformat(LIST["negotiated_on"])).days,
            "interventions": sorted({r["intervention"] for r in LIST["rates"] + LIST["packages"]}),
        }
    ]
    assert price_lists(client, older_than_months=6, municipality="101")["stale"] == []


def test_suppliers_with_active_referrals_and_no_list_in_force_are_reported(client: TestClient) -> None:
    without = bodies.register_supplier(client)
    referral_id, _ = bodies.matched(client, without)
    created(client.post(f"/referrals/{referral_id}/price-agreement", json=bodies.hourly_agreement()), 200)
    bodies.agreed(client)  # a supplier with a list in force: not reported

    report = price_lists(client)

    assert report["missing"] == [
        {
            "supplier_id": without,
            "supplier_name": bodies.supplier()["name"],
            "municipality": bodies.ODENSE,
            "intervention": "family-treatment",
            "active_referrals": 1,
        }
    ]
    assert price_lists(client, municipality="101")["missing"] == []


def test_a_list_superseded_for_every_intervention_or_expired_is_not_reported(client: TestClient) -> None:
    renewed = bodies.supplier_with_prices(client)
    newer = bodies.price_list(negotiated_on="2026-05-01", valid_from="2026-06-01")
    created(client.post(f"/suppliers/{renewed}/price-lists", json=newer), 200)
    expired = bodies.register_supplier(client)
    old = bodies.price_list(negotiated_on="2024-11-01", valid_from="2025-01-01", valid_to="2025-12-31")
    created(client.post(f"/suppliers/{expired}/price-lists", json=old), 200)

    report = price_lists(client, older_than_months=1)

    assert [(row["supplier_id"], row["negotiated_on"]) for row in report["stale"]] == [
        (renewed, "2026-05-01")
    ]


def test_the_arithmetic_half_up_and_calendar_months() -> None:
    assert [difference_pct(a, b) for a, b in ((90000, 85000), (255000, 240000), (100050, 100000))] == [
        pct("900.00", "850.00"),
        pct("2550.00", "2400.00"),
        pct("1000.50", "1000.00"),
    ]
    assert difference_pct(100050, 100000) == "0.1"  # 0.05 %: half up
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2024, 2, 29), 12) == date(2023, 2, 28)
    assert months_before(date(2026, 1, 15), 13) == date(2024, 12, 15)
