"""Lineage of a spending cell: the referrals whose monthly amounts add up to one cell of the spending
report, and the events that moved each amount.

The amounts are the spending read model's own rows (``spending.referral_amounts``), the rows the
report's roll-ups are sums of, so a cell and its lineage cannot disagree. Which events contribute is
found with the same fold and the same arithmetic: the referral's events are folded one by one
(``referral_list.fold``) and an event contributes to a month when the month's committed amount
(``domain.spending.monthly_commitments_ore``) after it differs from the amount before it; it is
listed with that change, so a referral's changes add up to its amount in the month. A price
agreement that starts spending in the month contributes, and so does an adjustment of the month
that a later one replaced (both moved the figure when they were recorded); an adjustment effective
after the month, or a closure after it, does not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.referral import EFFECTIVE_DATE_FIELDS, Referral
from domain.spending import monthly_commitments_ore
from projections import spending
from projections.codec import money
from projections.database import Cursor
from projections.referral_list import ReferralRow, fold


@dataclass(frozen=True)
class LineageQuery:
    """``GET /reports/spending/lineage``: one month (``YYYY-MM``) of the spending report, narrowed as
    the report is by its filters, and to one key of its grouping (``by``, ``key``)."""

    month: str
    by: str | None = None
    key: str | None = None
    municipality: str | None = None
    supplier_id: str | None = None

    def spending_query(self) -> spending.SpendingQuery:
        """The spending report's query whose row for ``month`` (and ``key``) is this cell."""
        narrowed: dict[str, str | None] = {
            "supplier_id": self.supplier_id,
            "intervention": None,
            "legal_basis": None,
            "municipality": self.municipality,
        }
        if self.by is not None:
            column = spending.GROUPINGS[self.by]
            if narrowed[column] not in (None, self.key):
                narrowed[column] = ""  # two different values asked for at once: an empty cell
            else:
                narrowed[column] = self.key
        return spending.SpendingQuery(
            from_month=self.month,
            to_month=self.month,
            municipality=narrowed["municipality"],
            supplier_id=narrowed["supplier_id"],
            intervention=narrowed["intervention"],
            legal_basis=narrowed["legal_basis"],
        )


@dataclass(frozen=True)
class CellPart:
    """One referral's amount in the cell, and the version of its last event the amount includes."""

    referral_id: str
    amount_ore: int
    version: int


def cell_parts(cur: Cursor, generation: int, query: LineageQuery) -> list[CellPart]:
    """The referrals of the cell with their amounts, by referral id."""
    return [
        CellPart(referral_id, amount, version)
        for referral_id, _month, amount, version in spending.referral_amounts(
            cur, generation, query.spending_query()
        )
    ]


TERMS_EVENTS = (Referral.PriceAgreed, Referral.Extended, Referral.Adjusted, Referral.Closed)
"""The events that change what a referral commits (the others change who or what it is about)."""


def contributing(events: Iterable[Any], month: str) -> list[tuple[Any, int]]:
    """The events (of one referral, oldest first) that changed its committed amount in ``month``,
    each with the change in øre; the changes add up to the amount after the last event."""
    row: ReferralRow | None = None
    before = 0
    moved = []
    for event in events:
        row = fold(row, event, 0)
        if not isinstance(event, TERMS_EVENTS) or row.terms is None:
            continue
        after = monthly_commitments_ore(row.terms).get(month, 0)
        if after != before:
            moved.append((event, after - before))
        before = after
    return moved


def event_entry(event: Any, change_ore: int) -> dict[str, Any]:
    """``{version, type, business_date, recorded_at, change}`` of one event."""
    topic = type(event).TOPIC
    business: date | None = getattr(event, EFFECTIVE_DATE_FIELDS.get(topic, ""), None)
    return {
        "version": event.originator_version,
        "type": topic,
        "business_date": business.isoformat() if business else None,
        "recorded_at": event.timestamp.isoformat(),
        "change": money(change_ore),
    }


def lineage(parts: list[CellPart], events_of: dict[str, list[Any]], month: str) -> dict[str, Any]:
    """``{amount, referrals: [{referral_id, amount, events}]}``: the cell and what makes it up;
    ``events_of`` holds each referral's events up to the part's version."""
    referrals = []
    for part in parts:
        moved = contributing(events_of[part.referral_id], month)
        referrals.append(
            {
                "referral_id": part.referral_id,
                "amount": money(part.amount_ore),
                "events": [event_entry(event, change) for event, change in moved],
            }
        )
    return {"amount": money(sum(part.amount_ore for part in parts)), "referrals": referrals}
