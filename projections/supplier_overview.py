"""Read model: suppliers with their price lists, and the supplier overview report."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.spending import ONE_DAY
from domain.supplier import Supplier
from projections import counters
from projections.codec import money, plain_json, to_ore
from projections.database import Cursor, Row, chunked, rows_where_in
from projections.filters import conditions
from projections.referral_list import ReferralRow
from projections.tables import table


@dataclass
class SupplierRow:
    """The projection's state of one supplier while a batch is folded."""

    values: dict[str, Any]
    price_lists: list[dict[str, Any]]
    new_rates: list[tuple[Any, ...]] = field(default_factory=list)

    def to_db(self) -> tuple[Any, ...]:
        v = self.values
        return (
            v["supplier_id"],
            v["version"],
            v["name"],
            v["cvr"],
            plain_json(v["contact"]),
            plain_json(self.price_lists),
        )


def load(cur: Cursor, generation: int, supplier_ids: set[str]) -> dict[str, SupplierRow]:
    rows = {}
    for row in rows_where_in(cur, table("cl_suppliers", generation), "supplier_id", sorted(supplier_ids)):
        values = dict(row)
        values["contact"] = json.loads(row["contact"])
        rows[row["supplier_id"]] = SupplierRow(values=values, price_lists=json.loads(row["price_lists"]))
    return rows


def save(cur: Cursor, generation: int, rows: list[SupplierRow]) -> None:
    cur.run_many(
        f"INSERT INTO {table('cl_suppliers', generation)} (supplier_id, version, name, cvr, contact, price_lists) "
        "VALUES (?,?,?,?,?,?) ON CONFLICT (supplier_id) DO UPDATE SET version=excluded.version, "
        "name=excluded.name, contact=excluded.contact, price_lists=excluded.price_lists",
        [row.to_db() for row in rows],
    )
    cur.insert_many(
        table("cl_list_rates", generation),
        (
            "supplier_id",
            "list_no",
            "municipality",
            "intervention",
            "unit",
            "rate_ore",
            "negotiated_on",
            "valid_from",
            "valid_to",
        ),
        [rate for row in rows for rate in row.new_rates],
    )


def save_caseload(generation: int, referrals: list[ReferralRow], pending: counters.Deltas) -> None:
    """Move each touched referral from the (supplier, municipality, status) it counted under to its new one."""
    deltas = pending.of(table("cl_caseload", generation), ("supplier_id", "municipality", "status"), "n")
    for referral in referrals:
        before, after = referral.extra.get("caseload"), referral.caseload_key()
        if before == after:
            continue
        if before is not None:
            deltas[before] = deltas.get(before, 0) - 1
        if after is not None:
            deltas[after] = deltas.get(after, 0) + 1


def save_hours(cur: Cursor, generation: int, referrals: list[ReferralRow]) -> None:
    """Replace the hours steps of hourly referrals whose terms changed, cut to their spending period."""
    changed = [r for r in referrals if r.terms_changed and r.terms is not None and r.terms.kind == "hourly"]
    if not changed:
        return
    name = table("cl_hours", generation)
    for ids in chunked([r.values["referral_id"] for r in changed if r.stored]):
        cur.run(f"DELETE FROM {name} WHERE referral_id IN ({','.join('?' * len(ids))})", ids)
    inserts = []
    for referral in changed:
        terms = referral.terms
        assert terms is not None
        last = terms.last_day
        bounds = [since for since, _ in terms.hours[1:]]
        for (since, hours), following in zip(terms.hours, [*bounds, None], strict=True):
            first = max(since, terms.start)
            until = min(last, following - ONE_DAY) if following else last
            if first <= until:
                v = referral.values
                inserts.append(
                    (
                        v["referral_id"],
                        first.isoformat(),
                        until.isoformat(),
                        v["municipality"],
                        v["supplier_id"],
                        int(hours * 100),
                    )
                )
    cur.insert_many(
        name, ("referral_id", "from_date", "to_date", "municipality", "supplier_id", "hours_centi"), inserts
    )


def fold(row: SupplierRow | None, event: Any) -> SupplierRow:
    """Apply one supplier event."""
    if isinstance(event, Supplier.Registered):
        row = SupplierRow(
            values={
                "supplier_id": str(event.originator_id),
                "name": event.name,
                "cvr": event.cvr,
                "contact": dict(event.contact),
            },
            price_lists=[],
        )
    assert row is not None, f"event {type(event).__name__} for an unknown supplier {event.originator_id}"
    row.values["version"] = event.originator_version
    if isinstance(event, Supplier.DetailsUpdated):
        for key in ("name", "contact"):
            if key in event.changes:
                row.values[key] = event.changes[key]
    elif isinstance(event, Supplier.PriceListNegotiated):
        list_no = len(row.price_lists)
        row.price_lists.append(
            json.loads(
                plain_json(
                    {
                        "municipality": event.municipality,
                        "negotiated_on": event.negotiated_on,
                        "valid_from": event.valid_from,
                        "valid_to": event.valid_to,
                        "rates": event.rates,
                        "packages": event.packages,
                    }
                )
            )
        )
        for rate in event.rates:
            row.new_rates.append(
                (
                    row.values["supplier_id"],
                    list_no,
                    event.municipality,
                    rate["intervention"],
                    rate["unit"],
                    to_ore(rate["rate"]),
                    event.negotiated_on.isoformat(),
                    event.valid_from.isoformat(),
                    event.valid_to.isoformat() if event.valid_to else None,
                )
            )
    return row


def _covers(price_list: dict[str, Any], municipality: str, today: str) -> bool:
    return (
        price_list["municipality"] == municipality
        and price_list["valid_from"] <= today
        and (price_list["valid_to"] is None or today <= price_list["valid_to"])
    )


def prices_in_force(price_lists: list[dict[str, Any]], municipality: str, today: date) -> dict[str, Any]:
    """Rates and packages in force on ``today`` for one municipality (later valid_from supersedes)."""
    day = today.isoformat()
    covering = sorted(
        ((pl["valid_from"], n, pl) for n, pl in enumerate(price_lists) if _covers(pl, municipality, day)),
        key=lambda c: (c[0], c[1]),
    )
    rates: dict[tuple[str, str], dict[str, Any]] = {}
    packages: dict[str, dict[str, Any]] = {}
    for _, _, price_list in covering:
        dates = {k: price_list[k] for k in ("negotiated_on", "valid_from", "valid_to")}
        for item in price_list["rates"]:
            rates[(item["intervention"], item["unit"])] = {**item, **dates}
        for item in price_list["packages"]:
            packages[item["name"]] = {**item, **dates}
    return {"municipality": municipality, "rates": list(rates.values()), "packages": list(packages.values())}


@dataclass(frozen=True)
class OverviewQuery:
    municipality: str | None = None
    supplier_id: str | None = None


def _referral_figures(
    cur: Cursor, generation: int, query: OverviewQuery, today: date
) -> dict[str, dict[str, Any]]:
    """Caseload, hours in force today and committed spend per supplier, from the summary tables."""
    # An empty filter is no filter here (``or None``), as it always was.
    where, params = conditions(
        (("municipality", query.municipality or None), ("supplier_id", query.supplier_id or None))
    )
    clause = " AND ".join(where) or "1 = 1"
    figures: dict[str, dict[str, Any]] = {}

    def entry(supplier_id: str) -> dict[str, Any]:
        return figures.setdefault(
            supplier_id, {"total_referrals": 0, "active_referrals": 0, "hours": 0, "committed": 0, "year": 0}
        )

    cur.run(
        f"SELECT supplier_id, status, SUM(n) AS n FROM {table('cl_caseload', generation)} WHERE {clause} "
        "GROUP BY supplier_id, status",
        params,
    )
    for row in cur.rows():
        numbers = entry(row["supplier_id"])
        numbers["total_referrals"] += int(row["n"])
        if row["status"] == "active":
            numbers["active_referrals"] += int(row["n"])
    day = today.isoformat()
    cur.run(
        f"SELECT supplier_id, SUM(hours_centi) AS hours FROM {table('cl_hours', generation)} "
        f"WHERE {clause} AND to_date >= ? AND from_date <= ? GROUP BY supplier_id",
        [*params, day, day],
    )
    for row in cur.rows():
        entry(row["supplier_id"])["hours"] = int(row["hours"])
    cur.run(
        f"SELECT supplier_id, SUM(amount_ore) AS committed, "
        f"SUM(CASE WHEN month >= ? AND month <= ? THEN amount_ore ELSE 0 END) AS this_year "
        f"FROM {table('cl_spend_supplier', generation)} WHERE {clause} GROUP BY supplier_id",
        [f"{today.year:04d}-01", f"{today.year:04d}-12", *params],
    )
    for row in cur.rows():
        numbers = entry(row["supplier_id"])
        numbers["committed"] = int(row["committed"])
        numbers["year"] = int(row["this_year"])
    return figures


def _supplier_rows(cur: Cursor, generation: int, query: OverviewQuery) -> list[Row]:
    suppliers = table("cl_suppliers", generation)
    if query.supplier_id:
        cur.run(f"SELECT * FROM {suppliers} WHERE supplier_id = ?", [query.supplier_id])
    else:
        cur.run(f"SELECT * FROM {suppliers} ORDER BY name, supplier_id")
    return cur.rows()


def overview(cur: Cursor, generation: int, query: OverviewQuery, today: date) -> list[dict[str, Any]]:
    """Per supplier: identity, prices in force, caseload and committed spend (optionally for one municipality)."""
    figures = _referral_figures(cur, generation, query, today)
    rows = []
    for supplier in _supplier_rows(cur, generation, query):
        price_lists = json.loads(supplier["price_lists"])
        municipalities = (
            [query.municipality] if query.municipality else sorted({pl["municipality"] for pl in price_lists})
        )
        in_force = [prices_in_force(price_lists, code, today) for code in municipalities]
        in_force = [entry for entry in in_force if entry["rates"] or entry["packages"]]
        numbers = figures.get(supplier["supplier_id"])
        if query.municipality and not in_force and numbers is None and not query.supplier_id:
            continue
        numbers = numbers or {
            "total_referrals": 0,
            "active_referrals": 0,
            "hours": 0,
            "committed": 0,
            "year": 0,
        }
        rows.append(
            {
                "supplier_id": supplier["supplier_id"],
                "name": supplier["name"],
                "cvr": supplier["cvr"],
                "contact": json.loads(supplier["contact"]),
                "price_lists": in_force,
                "active_referrals": numbers["active_referrals"],
                "total_referrals": numbers["total_referrals"],
                "active_hours_per_week": money(numbers["hours"]),
                "committed_total": money(numbers["committed"]),
                "committed_current_year": money(numbers["year"]),
            }
        )
    return rows
