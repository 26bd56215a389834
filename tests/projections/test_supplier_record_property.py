"""Property: the suppliers' track records equal an independent fold of the referral events.

Random histories — matches and re-matches among three suppliers, in two municipalities, with or
without a price agreement and an extension, closed or not, with any close reason, closed before,
within or after the agreed period — are stored through the application and folded by the runner
(in small batches); the outcome and duration counts are then compared with a fold written here
from the events themselves.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.service.caseledger import CaseLedger
from domain.referral import CLOSE_REASONS
from projections.database import ProjectionDatabase
from projections.read_models import live_generation
from projections.runner import ProjectionRunner
from projections.tables import table
from tests.domain.builders import a_supplier, agree_price, close, extend, match, refer
from tests.projections.helpers import supplier_endings

BASE = date(2026, 2, 1)


@dataclass(frozen=True)
class History:
    municipality: str
    matches: list[int]
    priced: bool
    start: int
    length: int
    extension: int | None
    closure: tuple[str, int] | None


histories = st.builds(
    History,
    municipality=st.sampled_from(["461", "101"]),
    matches=st.lists(st.integers(0, 2), max_size=3),
    priced=st.booleans(),
    start=st.integers(0, 60),
    length=st.integers(0, 90),
    extension=st.none() | st.integers(1, 40),
    closure=st.none() | st.tuples(st.sampled_from(CLOSE_REASONS), st.integers(-10, 150)),
)


def play(history: History, suppliers: list[Any]) -> list[Any]:
    """The events of one referral living ``history``."""
    start = BASE + timedelta(days=history.start)
    referred_on = BASE - timedelta(days=20)
    referral = refer(
        municipality_code=history.municipality,
        requested_start=start,
        expected_end=start + timedelta(days=history.length),
        referred_on=referred_on,
    )
    for index in history.matches:
        match(referral, suppliers[index], matched_on=referred_on)
    if history.matches and history.priced:
        end = start + timedelta(days=history.length)
        agree_price(referral, suppliers[history.matches[-1]], start=start, end=end, agreed_on=referred_on)
        if history.extension is not None:
            extend(referral, new_end=end + timedelta(days=history.extension), decided_on=referred_on)
    if history.closure is not None:
        reason, offset = history.closure
        close(referral, reason=reason, closed_on=start + timedelta(days=offset))
    return list(referral.collect_events())


def oracle(events: list[Any]) -> tuple[Counter[tuple[str, str, str]], Counter[tuple[str, str, int]]]:
    """How the referrals ended, per supplier and municipality, and the days their measures ran."""
    outcomes: Counter[tuple[str, str, str]] = Counter()
    days: Counter[tuple[str, str, int]] = Counter()
    for supplier, municipality, how, ran in supplier_endings(events):
        key = (supplier, str(municipality))
        outcomes[(*key, "ended")] += 1
        if how in ("goal_achieved", "supplier_terminated", "rematched"):
            outcomes[(*key, how)] += 1
        if ran is not None:
            days[(*key, ran)] += 1
    return outcomes, days


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lives=st.lists(histories, min_size=1, max_size=5))
def test_track_records_match_an_independent_fold_of_the_events(
    ledger: CaseLedger, projection_db: ProjectionDatabase, lives: list[History]
) -> None:
    suppliers = [a_supplier() for _ in range(3)]
    events = [event for history in lives for event in play(history, suppliers)]
    ledger.save(*events)
    ProjectionRunner(projection_db, ledger.read_events, batch_size=3).catch_up()
    ids = [str(supplier.id) for supplier in suppliers]

    with projection_db.reading() as cur:
        generation, _ = live_generation(cur)
        marks = ",".join("?" * len(ids))
        cur.run(
            f"SELECT supplier_id, municipality, outcome, n FROM {table('cl_record_outcomes', generation)} "
            f"WHERE supplier_id IN ({marks})",
            ids,
        )
        outcomes = Counter({(s, m, o): int(n) for s, m, o, n in cur.tuples()})
        cur.run(
            f"SELECT supplier_id, municipality, days, n FROM {table('cl_record_days', generation)} "
            f"WHERE supplier_id IN ({marks})",
            ids,
        )
        days = Counter({(s, m, int(d)): int(n) for s, m, d, n in cur.tuples()})

    assert (outcomes, days) == oracle(events)
