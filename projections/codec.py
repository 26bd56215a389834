"""Conversions between domain values and the read models' columns: øre as integers, ISO dates."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from domain.spending import Terms

CENT = Decimal("0.01")


def to_ore(amount: Decimal | None) -> int | None:
    """DKK → øre (exact: amounts carry at most two decimals)."""
    return None if amount is None else int(amount * 100)


def from_ore(ore: int | None) -> Decimal | None:
    return None if ore is None else (Decimal(ore) / 100).quantize(CENT)


def money(ore: int | None) -> str | None:
    """øre → the API's money string, ``"850.00"``."""
    amount = from_ore(ore)
    return None if amount is None else f"{amount:.2f}"


def iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def terms_to_json(terms: Terms | None) -> str | None:
    if terms is None:
        return None

    def steps(values: list[tuple[date, Decimal]]) -> list[list[str]]:
        return [[since.isoformat(), str(value)] for since, value in values]

    return json.dumps(
        {
            "kind": terms.kind,
            "start": terms.start.isoformat(),
            "end": terms.end.isoformat(),
            "rate": steps(terms.rate),
            "hours": steps(terms.hours),
            "packages": steps(terms.packages),
            "closed_on": iso(terms.closed_on),
        },
        separators=(",", ":"),
    )


def terms_from_json(text: str | None) -> Terms | None:
    if not text:
        return None
    data: dict[str, Any] = json.loads(text)

    def steps(values: list[list[str]]) -> list[tuple[date, Decimal]]:
        return [(date.fromisoformat(since), Decimal(value)) for since, value in values]

    return Terms(
        kind=data["kind"],
        start=date.fromisoformat(data["start"]),
        end=date.fromisoformat(data["end"]),
        rate=steps(data["rate"]),
        hours=steps(data["hours"]),
        packages=steps(data["packages"]),
        closed_on=date.fromisoformat(data["closed_on"]) if data["closed_on"] else None,
    )


def plain_json(value: Any) -> str:
    """JSON for nested columns (contacts, price lists), with decimals and dates as text."""
    return json.dumps(value, default=_default, separators=(",", ":"), ensure_ascii=False)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
