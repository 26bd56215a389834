"""The own costs the price benchmarks read: folded from the events in batches of any size, the same
after a rebuild, and equal to the latest record per municipality, intervention, unit and date."""

from __future__ import annotations

from typing import Any

import pytest

from api.commands import COMMANDS
from api.own_cost_schemas import OwnCostItemIn
from application.service.caseledger import CaseLedger
from application.service.context import WriteContext
from projections.database import ProjectionDatabase
from projections.read_models import live_generation
from projections.runner import ProjectionRunner
from projections.tables import table

RECORDS = [  # (municipality, intervention, unit, rate, valid_from)
    ("461", "family-treatment", "hour", "640.00", "2026-01-01"),
    ("461", "family-treatment", "hour", "655.50", "2026-01-01"),  # a correction of the first
    ("461", "family-treatment", "hour", "700.00", "2026-07-01"),
    ("461", "respite-stay", "day", "2900.00", "2026-01-01"),
    ("101", "family-treatment", "hour", "610.00", "2026-01-01"),
    ("101", "family-treatment", "hour", "615.00", "2026-01-01"),
    ("101", "family-treatment", "hour", "610.00", "2026-01-01"),  # back to the first rate
]


def record_all(ledger: CaseLedger) -> None:
    for municipality, intervention, unit, rate, valid_from in RECORDS:
        body = {"municipality": municipality, "intervention": intervention, "unit": unit, "rate": rate}
        body |= {"valid_from": valid_from, "rationale": "Own staff", "actor": {"id": "mo-3"}}
        COMMANDS["own_cost.recorded"].run(ledger, None, OwnCostItemIn.model_validate(body), WriteContext())


def rows(db: ProjectionDatabase) -> list[tuple[Any, ...]]:
    with db.reading() as cur:
        generation, _ = live_generation(cur)
        cur.run(
            f"SELECT municipality, intervention, unit, valid_from, rate_ore FROM {table('cl_own_costs', generation)} "
            "ORDER BY municipality, intervention, unit, valid_from"
        )
        return [tuple(row) for row in cur.tuples()]


def latest_records() -> list[tuple[Any, ...]]:
    """The fold written here: the last record of each municipality, intervention, unit and date."""
    latest: dict[tuple[str, str, str, str], int] = {}
    for municipality, intervention, unit, rate, valid_from in RECORDS:
        latest[(municipality, intervention, unit, valid_from)] = int(rate.replace(".", ""))
    return [(*key, ore) for key, ore in sorted(latest.items())]


@pytest.mark.parametrize("batch_size", [1, 3, 500])
def test_own_costs_fold_to_the_latest_record_per_date_and_a_rebuild_gives_the_same(
    ledger: CaseLedger, projection_db: ProjectionDatabase, batch_size: int
) -> None:
    record_all(ledger)
    runner = ProjectionRunner(projection_db, ledger.read_events, batch_size=batch_size)

    runner.catch_up()
    incremental = rows(projection_db)
    runner.rebuild()

    assert incremental == latest_records()
    assert rows(projection_db) == incremental
