"""Read model: committed spend per referral and month (DOMAIN.md), and the spending report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from projections.codec import money, to_ore
from projections.database import Cursor
from projections.referral_list import ReferralRow
from projections.tables import table

GROUPINGS = {
    "supplier": "supplier_id",
    "intervention": "intervention",
    "legal_basis": "legal_basis",
    "municipality": "municipality",
}


def save(cur: Cursor, generation: int, rows: list[ReferralRow]) -> None:
    """Replace the monthly rows of referrals whose terms or dimensions changed in the batch."""
    changed = [row for row in rows if row.terms_changed or row.dimensions_changed]
    if not changed:
        return
    name = table("cl_spending", generation)
    cur.run_many(
        f"DELETE FROM {name} WHERE referral_id = ?", [(row.values["referral_id"],) for row in changed]
    )
    inserts = []
    for row in changed:
        if row.terms is None:
            continue
        v = row.values
        for month, amount in row.months().items():
            inserts.append(
                (
                    v["referral_id"],
                    month,
                    to_ore(amount),
                    v["municipality"],
                    v["supplier_id"],
                    v["intervention"],
                    v["legal_basis"],
                )
            )
    cur.run_many(
        f"INSERT INTO {name} (referral_id, month, amount_ore, municipality, supplier_id, intervention, legal_basis) "
        "VALUES (?,?,?,?,?,?,?)",
        inserts,
    )


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


def report(cur: Cursor, generation: int, query: SpendingQuery) -> dict[str, Any]:
    """``{rows: [{month, key?, amount}], total}``: sums of the per-referral, per-month rounded amounts."""
    where, params = [], []
    for column, value in (
        ("municipality", query.municipality),
        ("supplier_id", query.supplier_id),
        ("intervention", query.intervention),
        ("legal_basis", query.legal_basis),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if query.from_month:
        where.append("month >= ?")
        params.append(query.from_month)
    if query.to_month:
        where.append("month <= ?")
        params.append(query.to_month)
    key = GROUPINGS[query.by] if query.by else None
    select_key = f", {key} AS key" if key else ""
    group_key = f", {key}" if key else ""
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    cur.run(
        f"SELECT month{select_key}, SUM(amount_ore) AS amount FROM {table('cl_spending', generation)} "
        f"{clause} GROUP BY month{group_key} ORDER BY month{group_key}",
        params,
    )
    rows = []
    total = 0
    for found in cur.rows():
        total += int(found["amount"])
        entry: dict[str, Any] = {"month": found["month"]}
        if key:
            entry["key"] = found["key"]
        entry["amount"] = money(int(found["amount"]))
        rows.append(entry)
    return {"rows": rows, "total": money(total)}
