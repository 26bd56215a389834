"""Read model: every decision on every referral, searchable across referrals for auditors
("every match by this consultant last quarter", "every price above the list rate")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.referral import EFFECTIVE_DATE_FIELDS, Referral
from projections.codec import money, to_ore
from projections.database import Cursor
from projections.filters import conditions, counted_page
from projections.referral_list import ReferralRow
from projections.tables import table

COLUMNS = (
    "position",
    "referral_id",
    "version",
    "type",
    "recorded_at",
    "effective_date",
    "actor_id",
    "actor_name",
    "municipality",
    "supplier_id",
    "rationale",
    "above_list_rate",
    "agreed_rate_ore",
    "list_rate_ore",
    "decided_on",
    "list_negotiated_on",
)


def row_for(event: Any, position: int, referral: ReferralRow) -> tuple[Any, ...]:
    """The decision row of one referral event, with the referral's state after it."""
    topic = type(event).TOPIC
    effective: date | None = getattr(event, EFFECTIVE_DATE_FIELDS[topic], None)
    actor = getattr(event, "actor", None) or {}
    rationale = getattr(event, "rationale", None)
    if isinstance(event, Referral.Referred):
        rationale = event.purpose  # sealed: the application opens it when the decision is read
    above = getattr(event, "above_list_rate", None)
    agreed = None
    if isinstance(event, Referral.PriceAgreed):
        agreed = event.hourly_rate or event.daily_rate or (event.package or {}).get("price")
    elif isinstance(event, Referral.Adjusted):
        agreed = event.hourly_rate or event.daily_rate
    return (
        position,
        str(event.originator_id),
        event.originator_version,
        topic,
        event.timestamp.isoformat(),
        effective.isoformat() if effective else None,
        actor.get("id"),
        actor.get("name"),
        referral.values["municipality"],
        referral.values["supplier_id"],
        rationale,
        None if above is None else int(bool(above)),
        to_ore(agreed),
        to_ore(getattr(event, "list_rate", None)),
        _iso(getattr(event, "agreed_on", None) or getattr(event, "decided_on", None)),
        _iso(getattr(event, "list_negotiated_on", None)),
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def save(cur: Cursor, generation: int, rows: list[tuple[Any, ...]]) -> None:
    cur.insert_many(table("cl_decisions", generation), COLUMNS, rows)


@dataclass(frozen=True)
class DecisionQuery:
    """``GET /audit/decisions``: filters combine with AND; the period is on the decision's business date."""

    actor: str | None = None
    type: str | None = None
    supplier_id: str | None = None
    municipality: str | None = None
    from_date: str | None = None
    to_date: str | None = None
    above_list_rate: bool | None = None
    page: int = 1
    page_size: int = 50


def search(cur: Cursor, generation: int, query: DecisionQuery) -> dict[str, Any]:
    """A page of decisions, newest business date first, with the total that match."""
    where, params = conditions(
        (
            ("actor_id", query.actor),
            ("type", query.type),
            ("supplier_id", query.supplier_id),
            ("municipality", query.municipality),
        ),
        (("effective_date >= ?", query.from_date), ("effective_date <= ?", query.to_date)),
    )
    if query.above_list_rate is not None:
        where.append("above_list_rate = ?")
        params.append(int(query.above_list_rate))
    rows, total = counted_page(
        cur,
        table("cl_decisions", generation),
        where,
        params,
        columns="*",
        order="effective_date DESC, position DESC",
        page=query.page,
        page_size=query.page_size,
    )
    items = [
        {
            "position": row["position"],
            "referral_id": row["referral_id"],
            "version": row["version"],
            "type": row["type"],
            "recorded_at": row["recorded_at"],
            "effective_date": row["effective_date"],
            "actor": {"id": row["actor_id"], "name": row["actor_name"]},
            "municipality": row["municipality"],
            "supplier_id": row["supplier_id"],
            "rationale": row["rationale"],
            "above_list_rate": None if row["above_list_rate"] is None else bool(row["above_list_rate"]),
            "agreed_rate": money(row["agreed_rate_ore"]),
            "list_rate": money(row["list_rate_ore"]),
        }
        for row in rows
    ]
    return {"items": items, "page": query.page, "page_size": query.page_size, "total": total}
