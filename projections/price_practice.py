"""Reports on pricing practice for the matching unit and controllers: every agreed or adjusted rate
above the list rate in force (from the decision log), and price lists that are old or missing (from
the supplier overview and the referral list)."""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from projections.codec import money
from projections.database import Cursor
from projections.filters import conditions, counted_page
from projections.supplier_overview import prices_in_force
from projections.tables import table

PRICED = ("referral.price_agreed", "referral.adjusted")


@dataclass(frozen=True)
class ExceptionQuery:
    """``GET /reports/price-exceptions``: filters combine with AND; the period is on ``decided_on``."""

    from_date: str | None = None
    to_date: str | None = None
    municipality: str | None = None
    supplier_id: str | None = None
    intervention: str | None = None
    page: int = 1
    page_size: int = 50


def difference_pct(agreed_ore: int, list_ore: int) -> str:
    """``(agreed − list) / list`` in per cent to one decimal, rounded half up (away from zero), exactly."""
    numerator, denominator = 1000 * (agreed_ore - list_ore), list_ore
    sign = -1 if numerator < 0 else 1
    tenths = (2 * abs(numerator) + denominator) // (2 * denominator)
    return f"{'-' if sign < 0 and tenths else ''}{tenths // 10}.{tenths % 10}"


def _negotiated_on(cur: Cursor, generation: int, row: Any) -> str | None:
    """The negotiation date of the list an adjustment was compared with (its event does not record
    it): the list in force on ``effective_from`` with that rate, negotiated by the decision date,
    the one that supersedes last (later valid_from, then later recorded), as the domain chose it."""
    cur.run(
        f"SELECT negotiated_on FROM {table('cl_list_rates', generation)} "
        "WHERE supplier_id = ? AND municipality = ? AND intervention = ? AND unit = ? AND rate_ore = ? "
        "AND valid_from <= ? AND (valid_to IS NULL OR valid_to >= ?) AND negotiated_on <= ? "
        "ORDER BY valid_from DESC, list_no DESC LIMIT 1",
        [
            row["supplier_id"],
            row["municipality"],
            row["intervention"],
            row["unit"],
            row["list_rate_ore"],
            row["effective_date"],
            row["effective_date"],
            row["decided_on"],
        ],
    )
    found = cur.one()
    return str(found["negotiated_on"]) if found else None


def exceptions(cur: Cursor, generation: int, query: ExceptionQuery) -> dict[str, Any]:
    """A page of the price agreements and rate adjustments above the list rate in force, newest
    decision first, with the total that match."""
    where, params = conditions(
        (
            ("d.municipality", query.municipality),
            ("d.supplier_id", query.supplier_id),
            ("r.intervention", query.intervention),
        ),
        (("d.decided_on >= ?", query.from_date), ("d.decided_on <= ?", query.to_date)),
    )
    where = [
        f"d.type IN ({', '.join('?' * len(PRICED))})",
        "d.above_list_rate = 1",
        "d.agreed_rate_ore > d.list_rate_ore",
        *where,
    ]
    source = (
        f"{table('cl_decisions', generation)} d "
        f"JOIN {table('cl_referrals', generation)} r ON r.referral_id = d.referral_id "
        f"LEFT JOIN {table('cl_suppliers', generation)} s ON s.supplier_id = d.supplier_id"
    )
    rows, total = counted_page(
        cur,
        source,
        where,
        [*PRICED, *params],
        columns="d.position, d.referral_id, d.type, d.supplier_id, s.name AS supplier_name, r.intervention, "
        "r.unit, d.municipality, d.agreed_rate_ore, d.list_rate_ore, d.list_negotiated_on, d.effective_date, "
        "d.decided_on, d.rationale, d.actor_id, d.actor_name",
        order="d.decided_on DESC, d.position DESC",
        page=query.page,
        page_size=query.page_size,
    )
    items = []
    for row in rows:
        negotiated_on = row["list_negotiated_on"] or _negotiated_on(cur, generation, row)
        decided_on = row["decided_on"]
        age = (
            (date.fromisoformat(decided_on) - date.fromisoformat(negotiated_on)).days
            if negotiated_on and decided_on
            else None
        )
        items.append(
            {
                "referral_id": row["referral_id"],
                "type": row["type"],
                "municipality": row["municipality"],
                "supplier_id": row["supplier_id"],
                "supplier_name": row["supplier_name"],
                "intervention": row["intervention"],
                "unit": row["unit"],
                "agreed": money(row["agreed_rate_ore"]),
                "list_rate": money(row["list_rate_ore"]),
                "difference_pct": difference_pct(int(row["agreed_rate_ore"]), int(row["list_rate_ore"])),
                "list_negotiated_on": negotiated_on,
                "list_age_days": age,
                "rationale": row["rationale"],
                "decided_on": decided_on,
                "rate_from": row["effective_date"] if row["type"] == "referral.adjusted" else None,
                "actor": {"id": row["actor_id"], "name": row["actor_name"]},
            }
        )
    return {"items": items, "page": query.page, "page_size": query.page_size, "total": total}


def months_before(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier (the month's last day if it has fewer days)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class PriceListQuery:
    older_than_months: int = 12
    municipality: str | None = None


def price_lists(cur: Cursor, generation: int, query: PriceListQuery, today: date) -> dict[str, Any]:
    """Lists in force today negotiated before ``older_than_months`` months ago (``stale``), and
    the interventions suppliers have active referrals in with no rate or package in force today
    for that municipality (``missing``)."""
    cutoff = months_before(today, query.older_than_months).isoformat()
    cur.run(f"SELECT supplier_id, name, price_lists FROM {table('cl_suppliers', generation)}")
    suppliers = {row["supplier_id"]: (row["name"], json.loads(row["price_lists"])) for row in cur.rows()}

    stale: list[dict[str, Any]] = []
    for supplier_id, (name, lists) in suppliers.items():
        municipalities = {pl["municipality"] for pl in lists}
        for municipality in sorted(municipalities):
            if query.municipality and municipality != query.municipality:
                continue
            in_force = prices_in_force(lists, municipality, today)
            by_list: dict[tuple[str, str, str | None], list[dict[str, Any]]] = {}
            for item in in_force["rates"] + in_force["packages"]:
                key = (item["negotiated_on"], item["valid_from"], item["valid_to"])
                by_list.setdefault(key, []).append(item)
            for (negotiated_on, valid_from, valid_to), items in by_list.items():
                if negotiated_on >= cutoff:
                    continue
                stale.append(
                    {
                        "supplier_id": supplier_id,
                        "supplier_name": name,
                        "municipality": municipality,
                        "negotiated_on": negotiated_on,
                        "valid_from": valid_from,
                        "valid_to": valid_to,
                        "age_days": (today - date.fromisoformat(negotiated_on)).days,
                        "interventions": sorted({item["intervention"] for item in items}),
                    }
                )
    stale.sort(
        key=lambda r: (r["negotiated_on"], r["supplier_name"] or "", r["supplier_id"], r["municipality"])
    )

    where, params = conditions((("municipality", query.municipality),))
    cur.run(
        f"SELECT supplier_id, municipality, intervention, COUNT(*) AS n FROM {table('cl_referrals', generation)} "
        f"WHERE {' AND '.join(['status = ?', 'supplier_id IS NOT NULL', *where])} "
        "GROUP BY supplier_id, municipality, intervention",
        ["active", *params],
    )
    missing: list[dict[str, Any]] = []
    for row in cur.rows():
        name, lists = suppliers.get(row["supplier_id"], (None, []))
        in_force = prices_in_force(lists, row["municipality"], today)
        covered = {item["intervention"] for item in in_force["rates"] + in_force["packages"]}
        if row["intervention"] not in covered:
            missing.append(
                {
                    "supplier_id": row["supplier_id"],
                    "supplier_name": name,
                    "municipality": row["municipality"],
                    "intervention": row["intervention"],
                    "active_referrals": int(row["n"]),
                }
            )
    missing.sort(
        key=lambda r: (r["supplier_name"] or "", r["supplier_id"], r["municipality"], r["intervention"])
    )
    return {"today": today.isoformat(), "negotiated_before": cutoff, "stale": stale, "missing": missing}
