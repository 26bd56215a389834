"""What an auditor checks in a referral's trail beyond its changes: the price check of each price
agreement and rate adjustment (the agreed rate against the list rate in force and the list's date),
and the alternatives a match passed over, with the criteria it was made on.

Both are read from the trail's own event data (``GET /audit/referrals/{id}``); only the date of the
list behind an adjustment is not in its event, and is looked up in the supplier as it stood when the
adjustment was recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from api.dashboard import formatting
from api.dependencies import Ledger
from domain.errors import NotFound

UNITS = {"hourly": ("hour", "Timetakst"), "daily": ("day", "Dagtakst")}


class Suppliers:
    """Suppliers by id as the trail needs them: the name now, and the list rate as recorded then;
    each looked up once."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.names: dict[str, str] = {}

    def name(self, supplier_id: str) -> str:
        """The supplier's name (the id itself when it names none)."""
        if supplier_id not in self.names:
            try:
                self.names[supplier_id] = self.ledger.get_supplier(UUID(supplier_id)).name
            except (ValueError, NotFound, LookupError):
                self.names[supplier_id] = supplier_id
        return self.names[supplier_id]

    def negotiated_on(self, supplier_id: str, where: Mapping[str, str], on: str, as_of: str) -> str | None:
        """The negotiation date of the list that gave ``where["rate"]`` on ``on``, as the supplier
        stood at the instant ``as_of``; None when that list cannot be told."""
        try:
            supplier = self.ledger.get_supplier(UUID(supplier_id), as_of=datetime.fromisoformat(as_of))
            found = supplier.list_rate(
                where["municipality"], where["intervention"], where["unit"], date.fromisoformat(on)
            )
        except (ValueError, NotFound, LookupError):
            return None
        if found is None or found.rate != Decimal(where["rate"]):
            return None
        return found.negotiated_on.isoformat()


@dataclass(frozen=True)
class PriceCheck:
    """One price agreement or rate adjustment against the supplier's list rate in force."""

    label: str
    agreed: str | None
    list_rate: str | None
    negotiated_on: str | None
    above: bool
    difference: str | None

    @property
    def note(self) -> str:
        if self.agreed is None:
            return "Forløbspris: ingen listepris at sammenligne med."
        if self.list_rate is None:
            return "Ingen listepris i kraft for denne indsats og kommune."
        if self.above:
            return f"Over listepris ({self.difference})."
        if self.agreed == self.list_rate:
            return "Lig med listeprisen."
        return f"Under listepris ({self.difference})."


def difference(agreed: str, listed: str) -> str:
    """How far the agreed rate lies from the list rate, in per cent of the list rate."""
    return formatting.percent((Decimal(agreed) - Decimal(listed)) * 100 / Decimal(listed))


def price_check(data: Mapping[str, Any], negotiated_on: str | None, kind: str | None) -> PriceCheck | None:
    """The price check of a ``price_agreed`` or ``adjusted`` event's data (None: no rate decided)."""
    agreed = data.get("hourly_rate") or data.get("daily_rate")
    if agreed is None and data.get("package") is None:
        return None  # an adjustment of hours only
    label = UNITS[kind][1] if kind in UNITS else "Forløbspris"
    listed = data.get("list_rate")
    return PriceCheck(
        label=label,
        agreed=agreed,
        list_rate=listed,
        negotiated_on=negotiated_on,
        above=bool(data.get("above_list_rate")),
        difference=difference(agreed, listed) if agreed and listed else None,
    )


@dataclass(frozen=True)
class Candidate:
    """A supplier a match passed over: its name, its hourly rate and why."""

    supplier_id: str
    name: str
    hourly_rate: str | None
    reason: str


def candidates(data: Mapping[str, Any], name: Callable[[str], str]) -> list[Candidate]:
    """The alternatives of a ``matched`` event's data, with supplier names where known."""
    return [
        Candidate(
            supplier_id=str(c.get("supplier_id")),
            name=name(str(c.get("supplier_id"))),
            hourly_rate=c.get("hourly_rate"),
            reason=str(c.get("reason") or "–"),
        )
        for c in data.get("candidates") or []
    ]


def decision_details(
    entries: list[dict[str, Any]], referral: Mapping[str, Any], suppliers: Suppliers
) -> None:
    """Add ``price_check`` and ``match`` to the trail's entries (oldest first), following the
    supplier and the pricing from one decision to the next."""
    supplier_id: str | None = None
    kind: str | None = None
    for entry in entries:
        data = entry.get("data") or {}
        if entry["type"] == "referral.matched":
            supplier_id = str(data.get("supplier_id"))
            entry["match"] = {
                "chosen": suppliers.name(supplier_id),
                "criteria": list(data.get("criteria") or []),
                "candidates": candidates(data, suppliers.name),
            }
        elif entry["type"] == "referral.price_agreed":
            supplier_id, kind = str(data.get("supplier_id")), data.get("kind")
            entry["price_check"] = price_check(data, data.get("list_negotiated_on"), kind)
        elif entry["type"] == "referral.adjusted":
            negotiated = None
            rate = data.get("hourly_rate") or data.get("daily_rate")
            if supplier_id and rate and data.get("list_rate") and kind in UNITS and entry["recorded_at"]:
                where = {
                    "municipality": str(referral.get("municipality")),
                    "intervention": str(referral.get("intervention")),
                    "unit": UNITS[kind][0],
                    "rate": data["list_rate"],
                }
                negotiated = suppliers.negotiated_on(
                    supplier_id, where, data["effective_from"], entry["recorded_at"]
                )
            entry["price_check"] = price_check(data, negotiated, kind)
