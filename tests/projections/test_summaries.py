"""The summary tables (caseload, hours, roll-ups, agreed-rate counts) agree with the aggregates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from application.service.caseledger import CaseLedger
from domain.referral import Referral
from domain.spending import value_on
from projections.database import ProjectionDatabase
from projections.price_benchmarks import BenchmarkQuery, _summary
from projections.reports import Reports
from projections.runner import ProjectionRunner
from projections.supplier_overview import OverviewQuery
from tests.projections.helpers import DEMO_TODAY, small_demo


def referrals(ledger: CaseLedger) -> list[Referral]:
    return [
        ledger.get_referral(event.originator_id)
        for _, event in ledger.read_events(0, 1_000_000)
        if isinstance(event, Referral.Referred)
    ]


@pytest.mark.parametrize("today", [date(2026, 5, 20), DEMO_TODAY, date(2026, 7, 15)])
def test_supplier_overview_figures_equal_what_the_referrals_say(
    ledger: CaseLedger, projection_db: ProjectionDatabase, today: date
) -> None:
    small_demo(ledger)
    ProjectionRunner(projection_db, ledger.read_events, batch_size=17).catch_up()
    expected: dict[str, dict[str, Decimal | int]] = {}
    for referral in referrals(ledger):
        if referral.municipality != "461" or referral.supplier_id is None:
            continue
        numbers = expected.setdefault(
            str(referral.supplier_id),
            {
                "total": 0,
                "active": 0,
                "hours": Decimal("0.00"),
                "committed": Decimal("0.00"),
                "year": Decimal("0.00"),
            },
        )
        numbers["total"] += 1
        numbers["active"] += referral.status == "active"
        terms = referral.terms
        if terms is not None and terms.kind == "hourly" and terms.start <= today <= terms.last_day:
            numbers["hours"] += value_on(terms.hours, today) or 0
        for month, amount in referral.monthly_commitments().items():
            numbers["committed"] += amount
            if month.startswith(f"{today.year}-"):
                numbers["year"] += amount

    rows = Reports(projection_db).supplier_overview(OverviewQuery(municipality="461"), today)

    found = {
        row["supplier_id"]: {
            "total": row["total_referrals"],
            "active": row["active_referrals"],
            "hours": Decimal(row["active_hours_per_week"]),
            "committed": Decimal(row["committed_total"]),
            "year": Decimal(row["committed_current_year"]),
        }
        for row in rows
        if row["total_referrals"]
    }
    assert found == expected
    assert any(numbers["hours"] for numbers in expected.values())


def test_agreed_rate_quartiles_equal_those_of_every_agreement(
    ledger: CaseLedger, projection_db: ProjectionDatabase
) -> None:
    small_demo(ledger)
    ProjectionRunner(projection_db, ledger.read_events, batch_size=17).catch_up()
    agreed: dict[tuple[str, str], list[int]] = {}
    for _, event in ledger.read_events(0, 1_000_000):
        if isinstance(event, Referral.PriceAgreed):
            rate = event.hourly_rate or event.daily_rate or event.package["price"]
            unit = {"hourly": "hour", "daily": "day"}.get(event.kind, "package")
            intervention = ledger.get_referral(event.originator_id).intervention
            agreed.setdefault((intervention, unit), []).append(int(rate * 100))

    rows = Reports(projection_db).price_benchmarks(BenchmarkQuery(), DEMO_TODAY)

    for row in rows:
        expected = _summary(agreed.get((row["intervention"], row["unit"]), []))
        assert row["agreements"] == expected["count"]
        assert [row[k] for k in ("min", "p25", "median", "p75", "max")] == [
            expected[k] for k in ("min", "p25", "median", "p75", "max")
        ]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=500_000), min_size=1, max_size=40))
def test_quartiles_from_counts_equal_linear_interpolation_over_the_sorted_values(values: list[int]) -> None:
    ordered = sorted(values)

    def quantile(q: Fraction) -> str:
        position = q * (len(ordered) - 1)
        low = int(position)
        high = min(low + 1, len(ordered) - 1)
        exact = Fraction(ordered[low]) + (ordered[high] - ordered[low]) * (position - low)
        cents = (exact + Fraction(1, 2)).__floor__()
        return f"{Decimal(cents) / 100:.2f}"

    summary = _summary(values)

    assert summary["count"] == len(values)
    assert [summary[k] for k in ("min", "p25", "median", "p75", "max")] == [
        quantile(Fraction(n, 4)) for n in range(5)
    ]
