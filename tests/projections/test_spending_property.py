"""Property: the spending projection equals an independent day-by-day oracle, to the øre.

Random lifecycles (hourly, daily and package pricing; extensions, adjustments including
retroactive ones, closures before and after the start, month, year and leap-year boundaries) are
stored through the application, folded by the projection runner, and each referral's monthly rows
are compared with the oracle of ``tests/domain/test_spending_properties.py``.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings

from application.service.caseledger import CaseLedger
from projections.database import ProjectionDatabase
from projections.read_models import live_generation
from projections.runner import ProjectionRunner
from projections.tables import table
from tests.domain.test_spending_properties import Scenario, oracle, play, scenarios


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenario=scenarios)
def test_spending_projection_matches_a_day_by_day_oracle(
    ledger: CaseLedger, projection_db: ProjectionDatabase, scenario: Scenario
) -> None:
    referral = play(scenario)
    events = referral.collect_events()
    ledger.save(*events)
    ProjectionRunner(projection_db, ledger.read_events, batch_size=7).catch_up()

    with projection_db.reading() as cur:
        generation, _ = live_generation(cur)
        cur.run(
            f"SELECT month, amount_ore FROM {table('cl_spending', generation)} WHERE referral_id = ? ORDER BY month",
            [str(referral.id)],
        )
        projected = {row["month"]: Decimal(row["amount_ore"]).scaleb(-2) for row in cur.rows()}

    assert projected == oracle(events)
