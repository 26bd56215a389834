"""Read model: committed spend per referral and month (docs/domain.md), and the spending report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from domain.reference import load_reference
from projections import counters, spending_log
from projections.codec import money
from projections.database import Cursor, rows_where_in
from projections.filters import conditions
from projections.referral_list import ReferralRow
from projections.tables import SPENDING_ROLLUPS, table

GROUPINGS = {
    "supplier": "supplier_id",
    "intervention": "intervention",
    "legal_basis": "legal_basis",
    "municipality": "municipality",
}


def save(
    cur: Cursor, generation: int, rows: list[ReferralRow], deltas: counters.Deltas | None
) -> list[tuple[Any, ...]]:
    """Bring the monthly rows of the referrals whose terms or dimensions changed in the batch up to
    date, writing only the months that differ (an extension adds months, a closure removes some, an
    adjustment changes those after it; the others stay as stored), and move the roll-ups (in
    ``deltas``) by the difference. Without ``deltas`` (a bulk build) the roll-ups are left alone:
    ``rollup_statements`` sum them at its end. Returns the batch's changes, event by event, for
    the spending log (``spending_log.changes``)."""
    changed = [row for row in rows if row.terms_changed or row.dimensions_changed]
    if not changed:
        return []
    name = table("cl_spending", generation)
    rollups = (
        [
            (
                deltas.of(table(rollup, generation), ("month", "municipality", *dims), "amount_ore"),
                itemgetter(*(COLUMNS.index(column) for column in ("month", "municipality", *dims))),
            )
            for rollup, dims in SPENDING_ROLLUPS.items()
        ]
        if deltas is not None
        else []
    )
    stored: dict[tuple[str, str], tuple[Any, ...]] = {}
    # Only referrals stored before this batch can have rows.
    ids = [row.values["referral_id"] for row in changed if row.stored]
    before: dict[str, spending_log.Spent] = {}
    for found in rows_where_in(cur, name, "referral_id", ids, select=", ".join(COLUMNS)):
        spent = tuple(found[column] for column in COLUMNS)
        stored[(found["referral_id"], found["month"])] = spent
        before.setdefault(spent[0], {})[spent[1]] = (int(spent[2]), spent[3:])
    inserts: list[tuple[Any, ...]] = []
    logged: list[tuple[Any, ...]] = []
    for row in changed:
        v = row.values
        logged += spending_log.changes(row, before.get(v["referral_id"], {}))
        dimensions = (v["municipality"], v["supplier_id"], v["intervention"], v["legal_basis"])
        for month, amount in row.monthly_ore().items():
            wanted = (v["referral_id"], month, amount, *dimensions)
            if stored.get(wanted[:2]) == wanted:
                del stored[wanted[:2]]  # unchanged: not written, the roll-ups stay
                continue
            if rollups:
                _count(rollups, wanted, 1)
            inserts.append(wanted)
    # What is left of the stored rows is out of the period now, or replaced by an insert above.
    if rollups:
        for gone in stored.values():
            _count(rollups, gone, -1)
    cur.delete_many(name, ("referral_id", "month"), list(stored))
    cur.insert_many(name, COLUMNS, inserts)
    return logged


def rollup_statements(generation: int) -> list[str]:
    """What fills the (empty) roll-ups of a bulk-built generation from its monthly rows: what the
    deltas of every batch would have added up to, without the keys that sum to zero (as
    ``counters``). One statement per roll-up."""
    source = table("cl_spending", generation)
    statements = []
    for rollup, dims in SPENDING_ROLLUPS.items():
        key = ", ".join(("month", "municipality", *dims))
        statements.append(
            f"INSERT INTO {table(rollup, generation)} ({key}, amount_ore) "
            f"SELECT {key}, SUM(amount_ore) FROM {source} GROUP BY {key} HAVING SUM(amount_ore) <> 0"
        )
    return statements


COLUMNS = ("referral_id", "month", "amount_ore", "municipality", "supplier_id", "intervention", "legal_basis")
_AMOUNT = COLUMNS.index("amount_ore")


def _count(
    rollups: Sequence[tuple[dict[tuple[Any, ...], int], Callable[[tuple[Any, ...]], Any]]],
    spent: tuple[Any, ...],
    sign: int,
) -> None:
    """Add (``sign`` 1) or take away (-1) one row of ``COLUMNS`` in each roll-up (``key_of`` picks
    the roll-up's key columns from it)."""
    amount = sign * int(spent[_AMOUNT])
    for deltas, key_of in rollups:
        key = key_of(spent)
        deltas[key] = deltas.get(key, 0) + amount


def _source(query: SpendingQuery) -> tuple[str, str | None]:
    """The smallest table that can answer the query, and its grouping column."""
    filters = {
        "supplier_id": query.supplier_id,
        "intervention": query.intervention,
        "legal_basis": query.legal_basis,
    }
    used = {column for column, value in filters.items() if value is not None}
    grouping = GROUPINGS[query.by] if query.by else None
    needed = used | ({grouping} if grouping and grouping != "municipality" else set())
    if not needed:
        return "cl_spend_total", grouping
    if len(needed) == 1:
        (dimension,) = needed
        return {
            "supplier_id": "cl_spend_supplier",
            "intervention": "cl_spend_intervention",
            "legal_basis": "cl_spend_legal_basis",
        }[dimension], grouping
    return "cl_spending", grouping


@dataclass(frozen=True)
class SpendingQuery:
    """``GET /reports/spending``: months ``from_month``..``to_month`` (``YYYY-MM``), optional grouping."""

    from_month: str | None = None
    to_month: str | None = None
    by: str | None = None
    municipality: str | None = None
    supplier_id: str | None = None
    intervention: str | None = None
    legal_basis: str | None = None


def _conditions(query: SpendingQuery) -> tuple[list[str], list[Any]]:
    """The report's filters, the same for its cells and for what makes each up (``referral_amounts``)."""
    return conditions(
        (
            ("municipality", query.municipality),
            ("supplier_id", query.supplier_id),
            ("intervention", query.intervention),
            ("legal_basis", query.legal_basis),
        ),
        (("month >= ?", query.from_month), ("month <= ?", query.to_month)),
    )


def report(cur: Cursor, generation: int, query: SpendingQuery) -> dict[str, Any]:
    """``{rows: [{month, key?, amount}], total}``: sums of the per-referral, per-month rounded amounts."""
    where, params = _conditions(query)
    source, key = _source(query)
    select_key = f", {key} AS key" if key else ""
    group_key = f", {key}" if key else ""
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    cur.run(
        f"SELECT month{select_key}, SUM(amount_ore) AS amount FROM {table(source, generation)} "
        f"{clause} GROUP BY month{group_key} ORDER BY month{group_key}",
        params,
    )
    return _answer(query, key, cur.tuples(), lambda keys: group_names(cur, generation, str(query.by), keys))


def report_at(cur: Cursor, generation: int, query: SpendingQuery, position: int) -> dict[str, Any] | None:
    """``report`` as known at ``position`` (at or before the generation's own), read from the
    spending log (``spending_log``); None for a query the roll-ups do not answer (two dimensions
    at once: the monthly rows answer it, and the log cannot tell which of them held zero)."""
    source, key = _source(query)
    if source == "cl_spending":
        return None
    where, params = _conditions(query)
    found = spending_log.sums_at(cur, generation, position, source, key, where, params)

    def names(keys: Sequence[str]) -> dict[str, str]:
        if query.by == "supplier":
            return spending_log.names_at(cur, generation, position, keys)
        return group_names(cur, generation, str(query.by), keys)

    return _answer(query, key, found, names)


def _answer(
    query: SpendingQuery,
    key: str | None,
    found: Sequence[tuple[Any, ...]],
    named: Callable[[Sequence[str]], dict[str, str]],
) -> dict[str, Any]:
    """The report's answer from its sums ``(month, key?, øre)``, in order, its keys named by ``named``."""
    rows = []
    total = 0
    for month, *keyed, amount in found:
        total += int(amount)
        entry: dict[str, Any] = {"month": month}
        if key:
            entry["key"] = keyed[0]
        entry["amount"] = money(int(amount))
        rows.append(entry)
    if query.by:
        names = named(sorted({row["key"] for row in rows if row["key"]}))
        rows = [
            {"month": row["month"], "key": row["key"], "name": names.get(row["key"]), "amount": row["amount"]}
            for row in rows
        ]
    return {"rows": rows, "total": money(total)}


def referral_amounts(cur: Cursor, generation: int, query: SpendingQuery) -> list[tuple[str, str, int, int]]:
    """What the report's cells of ``query`` are made of: ``(referral_id, month, amount_ore, version)``
    of each referral and month, the version being the referral's last event folded into the row. The
    rows the roll-ups that answer ``report`` are sums of, so the amounts of a cell add up to it."""
    where, params = _conditions(query)
    clause = f"WHERE {' AND '.join(f's.{condition}' for condition in where)}" if where else ""
    cur.run(
        f"SELECT s.referral_id, s.month, s.amount_ore, r.version FROM {table('cl_spending', generation)} s "
        f"JOIN {table('cl_referrals', generation)} r ON r.referral_id = s.referral_id "
        f"{clause} ORDER BY s.month, s.referral_id",
        params,
    )
    return [
        (str(row["referral_id"]), str(row["month"]), int(row["amount_ore"]), int(row["version"]))
        for row in cur.rows()
    ]


def group_names(cur: Cursor, generation: int, by: str, keys: Sequence[str]) -> dict[str, str]:
    """What a person reads for each grouping key: the supplier's name, the intervention's or legal
    basis's Danish name, the municipality's name."""
    if by == "supplier":
        suppliers = rows_where_in(
            cur, table("cl_suppliers", generation), "supplier_id", keys, select="supplier_id, name"
        )
        return {str(row["supplier_id"]): row["name"] for row in suppliers}
    reference = load_reference()
    if by == "intervention":
        return {code: kind.name_da for code, kind in reference.interventions.items()}
    if by == "legal_basis":
        return {code: basis.title_da for code, basis in reference.legal_bases.items()}
    return {code: place.name for code, place in reference.municipalities.items()}
