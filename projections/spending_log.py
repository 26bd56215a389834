"""The spending report as known at an earlier position of the log, read from position-keyed rows.

Every change of a referral's committed spend in a month is logged with the position of the event
that made it (``cl_spend_log``): the fold works out the referral's monthly amounts after each of
its events (``step``) and logs the months that differ from before, with the referral's dimensions
then (a change of supplier moves the whole amount from one to the other). Every ``MARK_EVERY``
positions the spending roll-ups are kept as they stood there (``cl_spend_marks``). The roll-ups are
sums of the referrals' monthly rows, and those rows are the sums of their logged changes, so the
report as known at position P is the mark at or before P plus the changes logged after it up to P,
summed as the roll-up would be, keys that sum to zero left out (as the roll-ups drop them):
``sums_at``. Suppliers are named as they were named at P (``cl_supplier_names``).

The live fold and a bulk rebuild write the log the same way, batch by batch, in the batch's
transaction. A batch that passes a mark's position is folded in two parts, and the mark written
between them: from the roll-ups as the first part left them, or in a bulk build (which sums its
roll-ups only at its end) from the roll-ups it keeps in memory for the purpose (``Rollups``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from domain.referral import Referral
from domain.spending import ONE_DAY, monthly_commitments_ore
from domain.supplier import Supplier
from projections import counters
from projections.database import Cursor, rows_where_in
from projections.referral_list import ReferralRow
from projections.tables import SPENDING_ROLLUPS, table

MARK_EVERY = 50_000
"""Positions between two marks: a read as known at P adds up one mark and at most this many
positions' changes. Chosen on the 1M-event benchmark store: docs/knowledge-time.md."""

LOG_COLUMNS = (
    "municipality",
    "position",
    "month",
    "supplier_id",
    "intervention",
    "legal_basis",
    "amount_ore",
)
MARK_COLUMNS = ("position", "dimension", "municipality", "month", "key", "amount_ore")
WINDOW = "spending_log.window"
ROLLUPS = "spending_log.rollups"
"""Where a bulk build keeps its ``Window`` and its ``Rollups`` (``counters.Deltas.kept``)."""

Dimensions = tuple[str, str, str, str]
"""A referral's (municipality, supplier_id, intervention, legal_basis)."""
Spent = dict[str, tuple[int, Dimensions]]
"""A referral's committed øre per month, with its dimensions."""
Window = dict[tuple[str, str, str, str, str], int]
"""The log's changes since the last mark, summed per (municipality, month, supplier_id,
intervention, legal_basis): what a bulk build adds to its ``Rollups`` at the next mark."""
Rollups = dict[tuple[str, str, str, str], int]
"""The roll-ups as of the last mark, per (dimension, municipality, month, key), in a bulk build."""


def step(row: ReferralRow, event: Any, position: int, last_day: date | None) -> None:
    """After each event of a referral that has terms: its monthly amounts and dimensions then, to
    be compared with the ones before it when the batch is saved. The last step's amounts are the
    ones the monthly rows are written from (``ReferralRow.monthly_ore``). After an earlier step in
    the batch only the months the event can change are worked out again: none for a match, those
    from the effective date of an adjustment, from the day after the last day before an
    extension, from the earlier of the last days before and after a closure (``last_day``: the
    one before the event)."""
    terms = row.terms
    if terms is None:
        return
    earlier: dict[str, int] | None = row.extra.get("months") if row.extra.get("steps") else None
    since: date | None = None
    if earlier is not None and last_day is not None:
        if isinstance(event, Referral.Adjusted):
            since = event.effective_from
        elif isinstance(event, Referral.Extended):
            since = last_day + ONE_DAY
        elif isinstance(event, Referral.Closed):
            since = min(last_day, terms.last_day)
    if earlier is not None and isinstance(event, Referral.Matched):
        months = earlier
    else:
        months = monthly_commitments_ore(terms, since, earlier)
    row.extra["months"] = months
    v = row.values
    dimensions = (v["municipality"], v["supplier_id"], v["intervention"], v["legal_basis"])
    row.extra.setdefault("steps", []).append((position, dimensions, months))


def changes(row: ReferralRow, before: Spent) -> list[tuple[Any, ...]]:
    """The log rows (``LOG_COLUMNS``) of a referral's steps in the batch, from ``before`` (its
    stored monthly rows) on."""
    logged: list[tuple[Any, ...]] = []
    for position, dimensions, months in row.extra.get("steps", ()):
        municipality, supplier, intervention, basis = dimensions
        for month in sorted(before.keys() | months.keys()):
            old = before.get(month)
            new = months.get(month, 0)
            if old is not None and old[1] == dimensions:
                if new != old[0]:
                    logged.append(
                        (municipality, position, month, supplier, intervention, basis, new - old[0])
                    )
                continue
            if old is not None and old[0]:
                (m, s, i, b), amount = old[1], old[0]
                logged.append((m, position, month, s, i, b, -amount))
            if new:
                logged.append((municipality, position, month, supplier, intervention, basis, new))
        before = {month: (amount, dimensions) for month, amount in months.items()}
    return logged


def save(cur: Cursor, generation: int, logged: list[tuple[Any, ...]], bulk: counters.Deltas | None) -> None:
    """Write a batch's log rows; in a bulk build (``bulk``, its deltas) add them to its ``Window``."""
    cur.insert_many(table("cl_spend_log", generation), LOG_COLUMNS, logged)
    if bulk is None:
        return
    window: Window = bulk.kept.setdefault(WINDOW, {})
    for municipality, _, month, supplier, intervention, basis, amount in logged:
        key = (municipality, month, supplier, intervention, basis)
        window[key] = window.get(key, 0) + amount


def marks_in(after: int, last: int) -> range:
    """The positions of the marks a fold from ``after`` to ``last`` passes (writes)."""
    return range((after // MARK_EVERY + 1) * MARK_EVERY, last + 1, MARK_EVERY)


def mark(cur: Cursor, generation: int, position: int, bulk: counters.Deltas | None) -> None:
    """Keep the roll-ups as they stand at ``position`` (every event up to it folded, none after)."""
    marks = table("cl_spend_marks", generation)
    if bulk is None:
        for rollup, dims in SPENDING_ROLLUPS.items():
            column = dims[0] if dims else "''"
            cur.run(
                f"INSERT INTO {marks} ({', '.join(MARK_COLUMNS)}) SELECT ?, ?, municipality, month, {column}, "
                f"amount_ore FROM {table(rollup, generation)}",
                [position, dims[0] if dims else ""],
            )
        return
    # A bulk build: the last mark's roll-ups plus the changes since, each summed once per key
    # (a window's changes to a key are many fewer keys than log rows).
    rollups: Rollups = bulk.kept.setdefault(ROLLUPS, {})
    for (municipality, month, *values), amount in bulk.kept.pop(WINDOW, {}).items():
        if not amount:
            continue
        for dimension, value in (("", ""), *zip(DIMENSIONS, values, strict=True)):
            key = (dimension, municipality, month, value)
            rollups[key] = rollups.get(key, 0) + amount
    cur.insert_many(
        marks, MARK_COLUMNS, [(position, *key, amount) for key, amount in rollups.items() if amount]
    )


DIMENSIONS = ("supplier_id", "intervention", "legal_basis")


def save_names(cur: Cursor, generation: int, events: Iterable[tuple[int, Any]]) -> None:
    """A supplier's name from the position of its registration or renaming on."""
    named = [
        (str(event.originator_id), position, event.name)
        if isinstance(event, Supplier.Registered)
        else (str(event.originator_id), position, event.changes["name"])
        for position, event in events
        if isinstance(event, Supplier.Registered)
        or (isinstance(event, Supplier.DetailsUpdated) and "name" in event.changes)
    ]
    cur.insert_many(table("cl_supplier_names", generation), ("supplier_id", "position", "name"), named)


def names_at(cur: Cursor, generation: int, position: int, keys: Sequence[str]) -> dict[str, str]:
    """Each supplier's name as it was at ``position``."""
    named = rows_where_in(
        cur, table("cl_supplier_names", generation), "supplier_id", keys, select="supplier_id, position, name"
    )
    then = sorted((row for row in named if row["position"] <= position), key=lambda row: row["position"])
    return {str(row["supplier_id"]): str(row["name"]) for row in then}


def sums_at(
    cur: Cursor,
    generation: int,
    position: int,
    rollup: str,
    key: str | None,
    where: list[str],
    params: list[Any],
) -> list[tuple[Any, ...]]:
    """``(month, key?, øre)`` of roll-up ``rollup`` as known at ``position``, for the conditions
    ``where`` on its columns, by month (and ``key``), without the sums that are zero: the mark at or
    before ``position`` and the changes logged after it."""
    marked = position // MARK_EVERY * MARK_EVERY
    dims = SPENDING_ROLLUPS[rollup]
    columns = f"municipality, month, key AS {dims[0]}" if dims else "municipality, month"
    conditions = " AND ".join(where) if where else "1 = 1"
    group = f"month, {key}" if key else "month"
    cur.run(
        f"SELECT {group}, SUM(amount_ore) FROM ("
        f"SELECT {group}, amount_ore FROM (SELECT {columns}, amount_ore FROM "
        f"{table('cl_spend_marks', generation)} WHERE position = ? AND dimension = ?) AS marked "
        f"WHERE {conditions} "
        f"UNION ALL SELECT {group}, amount_ore FROM {table('cl_spend_log', generation)} "
        f"WHERE {conditions} AND position > ? AND position <= ?"
        f") AS known GROUP BY {group} HAVING SUM(amount_ore) <> 0 ORDER BY {group}",
        [marked, dims[0] if dims else "", *params, *params, marked, position],
    )
    return cur.tuples()
