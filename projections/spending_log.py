"""The spending report as known at an earlier position of the log, read from position-keyed rows.

Every change of a referral's committed spend in a month is logged with the position of the event
that made it (``cl_spend_log``): the fold works out the referral's monthly amounts after each of
its events (``step``) and logs the months that differ from before, with the referral's dimensions
then (a change of supplier moves the whole amount from one to the other). The same changes are
summed per span of ``SPAN`` positions (``cl_spend_spans``). The roll-ups the spending report reads
are sums of the referrals' monthly rows, and those rows are the sums of their logged changes, so
the report as known at position P is the spans before P's span plus the changes logged in P's
span up to P, summed as the roll-up would be and keys that sum to zero left out (the roll-ups
drop them): ``report_at``. Suppliers are named as they were named at P (``cl_supplier_names``).

Both the live fold and a bulk rebuild write these rows the same way, batch by batch, in the
batch's transaction, so a rebuilt log equals the one folded live.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from domain.spending import monthly_commitments_ore
from domain.supplier import Supplier
from projections import counters
from projections.database import Cursor, chunked
from projections.referral_list import ReferralRow
from projections.tables import table

SPAN = 20_000
"""Positions summed into one row per key of ``cl_spend_spans``: a read as known at P adds up the
spans before P's (one row per key and span in which it changed) and at most ``SPAN`` positions'
changes. Measured on the 1M-event benchmark store: docs/knowledge-time.md."""

LOG_COLUMNS = (
    "municipality",
    "position",
    "month",
    "supplier_id",
    "intervention",
    "legal_basis",
    "amount_ore",
)
SPAN_KEYS = ("municipality", "month", "span", "supplier_id", "intervention", "legal_basis")

Dimensions = tuple[str, str, str, str]
"""A referral's (municipality, supplier_id, intervention, legal_basis)."""
Spent = dict[str, tuple[int, Dimensions]]
"""A referral's committed øre per month, with its dimensions."""


def step(row: ReferralRow, position: int) -> None:
    """After each event of a referral that has terms: its monthly amounts and dimensions then, to
    be compared with the ones before it when the batch is saved. The last step's amounts are the
    ones the monthly rows are written from (``ReferralRow.monthly_ore``)."""
    if row.terms is None:
        return
    months = monthly_commitments_ore(row.terms)
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


def save(cur: Cursor, generation: int, logged: list[tuple[Any, ...]], pending: counters.Deltas) -> None:
    """Write a batch's log rows, and add them to their spans' sums (written when ``pending`` is)."""
    cur.insert_many(table("cl_spend_log", generation), LOG_COLUMNS, logged)
    spans = pending.of(table("cl_spend_spans", generation), SPAN_KEYS, "amount_ore")
    for municipality, position, month, supplier, intervention, basis, amount in logged:
        key = (municipality, month, position // SPAN, supplier, intervention, basis)
        spans[key] = spans.get(key, 0) + amount


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
    names: dict[str, str] = {}
    for part in chunked(keys):
        marks = ", ".join("?" * len(part))
        cur.run(
            f"SELECT supplier_id, name FROM {table('cl_supplier_names', generation)} "
            f"WHERE position <= ? AND supplier_id IN ({marks}) ORDER BY position",
            [position, *part],
        )
        names.update({str(supplier): str(name) for supplier, name in cur.tuples()})
    return names


def sums_at(
    cur: Cursor, generation: int, position: int, key: str | None, where: list[str], params: list[Any]
) -> list[tuple[Any, ...]]:
    """``(month, key?, øre)`` of the spending report as known at ``position``, for the conditions
    ``where`` on the log's columns, by month (and ``key``), without the sums that are zero."""
    span = position // SPAN
    conditions = " AND ".join(where) if where else "1 = 1"
    group = f"month, {key}" if key else "month"
    cur.run(
        f"SELECT {group}, SUM(amount_ore) FROM ("
        f"SELECT {group}, amount_ore FROM {table('cl_spend_spans', generation)} "
        f"WHERE {conditions} AND span < ? "
        f"UNION ALL SELECT {group}, amount_ore FROM {table('cl_spend_log', generation)} "
        f"WHERE {conditions} AND position >= ? AND position <= ?"
        f") AS known GROUP BY {group} HAVING SUM(amount_ore) <> 0 ORDER BY {group}",
        [*params, span, *params, span * SPAN, position],
    )
    return cur.tuples()
