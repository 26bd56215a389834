"""Property: a spending cell's lineage adds up to the cell, and each referral's listed changes add up
to its amount, for random histories.

Random lifecycles (those of ``tests/domain/test_spending_properties.py``: hourly, daily and package
pricing, extensions, adjustments including retroactive ones, closures) are stored through the
application and folded by the projection runner; for every month a referral spends in, the lineage
(as ``GET /reports/spending/lineage`` computes it) is compared with the spending report's cell and
with the day-by-day oracle.
"""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.service.caseledger import CaseLedger
from projections.database import ProjectionDatabase
from projections.lineage import TERMS_EVENTS, LineageQuery, lineage
from projections.reports import Reports
from projections.runner import ProjectionRunner
from projections.spending import SpendingQuery
from tests.domain.test_spending_properties import Scenario, oracle, play, scenarios


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(played=st.lists(scenarios, min_size=1, max_size=3))
def test_lineage_adds_up_to_the_cell_and_to_each_referrals_amount(
    ledger: CaseLedger, projection_db: ProjectionDatabase, played: list[Scenario]
) -> None:
    referrals = [play(scenario) for scenario in played]
    expected = {}
    for referral in referrals:
        events = referral.collect_events()
        ledger.save(*events)
        expected[str(referral.id)] = oracle(events)
    ProjectionRunner(projection_db, ledger.read_events, batch_size=7).catch_up()
    reports = Reports(projection_db)

    for month in sorted({month for months in expected.values() for month in months}):
        parts = reports.spending_lineage(LineageQuery(month=month))
        events_of = {
            p.referral_id: list(ledger.sealed_events.get(UUID(p.referral_id), lte=p.version)) for p in parts
        }
        cell = lineage(parts, events_of, month)
        report = reports.spending(SpendingQuery(from_month=month, to_month=month))

        assert sum(Decimal(row["amount"]) for row in report["rows"]) == Decimal(cell["amount"])
        assert len(report["rows"]) <= 1
        assert sum(Decimal(part["amount"]) for part in cell["referrals"]) == Decimal(cell["amount"])
        for part in cell["referrals"]:
            changes = [Decimal(event["change"]) for event in part["events"]]
            assert sum(changes) == Decimal(part["amount"])
            assert all(changes)
            if part["referral_id"] in expected:
                assert Decimal(part["amount"]) == expected[part["referral_id"]].get(month, Decimal(0))
        listed = {part["referral_id"] for part in cell["referrals"]}
        assert {r for r, months in expected.items() if months.get(month)} <= listed
        terms = {kind.TOPIC for kind in TERMS_EVENTS}
        assert {event["type"] for part in cell["referrals"] for event in part["events"]} <= terms
