"""Read model: each supplier's track record per municipality — its ended referrals and how they
ended (goal achieved, terminated by the supplier, rematched), and how long the measures ran — kept
as counts, so the candidate ranking reads a few rows per supplier instead of its referrals.

A referral *ended* with a supplier when it was closed while matched to it, or when it was matched
to another supplier instead (rematched away). *Rematched* counts both that and a closure with the
reason ``rematched``. The days a measure ran are those of its active period, from the agreement's
start to its last day (the end, cut by the closure), both counted; a referral closed before a price
was agreed, or before its start, ran none and is left out of the duration."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from projections import counters
from projections.database import Cursor
from projections.referral_list import ReferralRow
from projections.tables import table
from projections.topics import CLOSED, MATCHED

ENDED, GOAL_ACHIEVED, SUPPLIER_TERMINATED, REMATCHED = (
    "ended",
    "goal_achieved",
    "supplier_terminated",
    "rematched",
)
OUTCOME_KEYS = ("supplier_id", "municipality", "outcome")
DAYS_KEYS = ("supplier_id", "municipality", "days")


def count(event: Any, referral: ReferralRow, pending: counters.Deltas, generation: int) -> None:
    """Add what one referral event (already folded into ``referral``) changes in the track record."""
    # By topic: called for every referral event of a bulk build, most of which change nothing here,
    # and two ``isinstance`` checks against the events' abstract classes cost more than this one.
    topic = type(event).TOPIC
    if topic == MATCHED:
        previous = event.previous_supplier_id
        if previous is None or previous == event.supplier_id:
            return
        _outcomes(pending, generation, str(previous), referral, (ENDED, REMATCHED))
    elif topic == CLOSED:
        supplier_id = referral.values["supplier_id"]
        if supplier_id is None:
            return
        reason = {"goal_achieved": GOAL_ACHIEVED, "supplier_terminated": SUPPLIER_TERMINATED}.get(
            event.reason, REMATCHED if event.reason == "rematched" else None
        )
        _outcomes(pending, generation, supplier_id, referral, (ENDED, reason) if reason else (ENDED,))
        terms = referral.terms
        if terms is not None and terms.last_day >= terms.start:
            days = (terms.last_day - terms.start).days + 1
            deltas = pending.of(table("cl_record_days", generation), DAYS_KEYS, "n")
            key = (supplier_id, referral.values["municipality"], days)
            deltas[key] = deltas.get(key, 0) + 1


def _outcomes(
    pending: counters.Deltas,
    generation: int,
    supplier_id: str,
    referral: ReferralRow,
    outcomes: Sequence[str],
) -> None:
    deltas = pending.of(table("cl_record_outcomes", generation), OUTCOME_KEYS, "n")
    for outcome in outcomes:
        key = (supplier_id, referral.values["municipality"], outcome)
        deltas[key] = deltas.get(key, 0) + 1


def records(
    cur: Cursor, generation: int, municipality: str, supplier_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Per supplier (of ``supplier_ids``) in one municipality: ``{outcome: n}`` and ``days``, the
    sorted ``(days, n)`` counts of how long its measures ran."""
    found: dict[str, dict[str, Any]] = {
        supplier_id: {"outcomes": {}, "days": []} for supplier_id in supplier_ids
    }
    if not supplier_ids:
        return found
    marks = ",".join("?" * len(supplier_ids))
    cur.run(
        f"SELECT supplier_id, outcome, n FROM {table('cl_record_outcomes', generation)} "
        f"WHERE municipality = ? AND supplier_id IN ({marks})",
        [municipality, *supplier_ids],
    )
    for supplier_id, outcome, n in cur.tuples():
        found[supplier_id]["outcomes"][outcome] = int(n)
    cur.run(
        f"SELECT supplier_id, days, n FROM {table('cl_record_days', generation)} "
        f"WHERE municipality = ? AND supplier_id IN ({marks}) ORDER BY supplier_id, days",
        [municipality, *supplier_ids],
    )
    for supplier_id, days, n in cur.tuples():
        found[supplier_id]["days"].append((int(days), int(n)))
    return found
