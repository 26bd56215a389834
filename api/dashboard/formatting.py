"""Danish presentation of money, numbers, dates and months for the dashboard.

Money arrives as the API's two-decimal strings (``"1234.50"``) and is shown as ``1.234,50 kr.``,
with a non-breaking space so that a narrow column never puts "kr." on a line of its own; counts
are grouped the same way (``1.760``);
the exact string stays in the page as a ``data-`` attribute so a reader (or a test) can compare it
with the report endpoints without parsing Danish number formatting.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

NBSP = "\u00a0"
TWO_DECIMALS = re.compile(r"^-?(0|[1-9]\d*)\.\d\d$")
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
MONTHS = ("jan.", "feb.", "mar.", "apr.", "maj", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.", "dec.")
MONTH_NAMES = (
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
)


def grouped(digits: str) -> str:
    """Thousands separated by dots: ``1234567`` → ``1.234.567``."""
    head = len(digits) % 3 or 3
    parts = [digits[:head], *(digits[i : i + 3] for i in range(head, len(digits), 3))]
    return ".".join(parts)


def count(value: int) -> str:
    """A count the Danish way: ``1760`` → ``1.760``."""
    whole = int(value)
    return ("-" if whole < 0 else "") + grouped(str(abs(whole)))


def number(value: Decimal | int | str, decimals: int = 2) -> str:
    """A number the Danish way: ``-1234.5`` → ``-1.234,50`` (``decimals`` places, rounded half up)."""
    amount = Decimal(value)
    quantum = Decimal(1).scaleb(-decimals)
    rounded = amount.quantize(quantum, rounding=ROUND_HALF_UP)
    whole, _, fraction = f"{abs(rounded):f}".partition(".")
    sign = "-" if rounded < 0 else ""
    return f"{sign}{grouped(whole)}" + (f",{fraction}" if decimals else "")


def kroner(value: Decimal | int | str | None) -> str:
    """Money: ``"1234.50"`` → ``1.234,50 kr.`` (non-breaking space); nothing → a dash."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str) and TWO_DECIMALS.match(value):
        # The read models' own strings (most of Forbrug's cells): no Decimal needed.
        negative = value.startswith("-") and value.strip("-0.") != ""
        whole, _, fraction = value.lstrip("-").partition(".")
        return f"{'-' if negative else ''}{grouped(whole)},{fraction}{NBSP}kr."
    return f"{number(value)}{NBSP}kr."


def whole_kroner(value: Decimal | int | str | None) -> str:
    """Money in whole kroner: ``"1234.50"`` → ``1.235 kr.`` (rounded half up); nothing → a dash."""
    if value is None or value == "":
        return "–"
    return f"{number(value, 0)}{NBSP}kr."


def thousand_kroner(value: Decimal | int | str | None) -> str:
    """Money in thousands of kroner: ``"1234567.89"`` → ``1.235 t.kr.``; nothing → a dash."""
    if value is None or value == "":
        return "–"
    return f"{number(Decimal(value) / 1000, 0)}{NBSP}t.kr."


def short_kroner(value: Decimal | int) -> str:
    """An axis label: ``1.250.000`` → ``1,25 mio. kr.``, ``85.000`` → ``85.000 kr.``"""
    amount = Decimal(value)
    if abs(amount) >= 1_000_000:
        text = number(amount / 1_000_000, 2).rstrip("0").rstrip(",")
        return f"{text}{NBSP}mio.{NBSP}kr."
    return f"{number(amount, 0)}{NBSP}kr."


def day(value: date | str | None) -> str:
    """A date as ``12.03.2025``; nothing → a dash."""
    if value is None or value == "":
        return "–"
    found = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return f"{found.day:02d}.{found.month:02d}.{found.year}"


def instant(value: datetime | str | None) -> str:
    """An instant in Danish time (Europe/Copenhagen, summer time included): ``2026-03-12T09:05:07+00:00``
    → ``12.03.2026 kl. 10:05:07``; nothing → a dash. An instant without a zone is taken as UTC."""
    if value is None or value == "":
        return "–"
    found = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if found.tzinfo is None:
        found = found.replace(tzinfo=ZoneInfo("UTC"))
    local = found.astimezone(COPENHAGEN)
    return f"{day(local.date())} kl.{NBSP}{local:%H:%M:%S}"


def percent(value: Decimal, decimals: int = 1) -> str:
    """A signed share in per cent: ``Decimal("12.345")`` → ``+12,3 %`` (non-breaking space)."""
    sign = "+" if value > 0 else ""
    return f"{sign}{number(value, decimals)}{NBSP}%"


def month(value: str) -> str:
    """``2026-03`` → ``mar. 2026``."""
    year, number_of_month = value.split("-")
    return f"{MONTHS[int(number_of_month) - 1]} {year}"


def month_long(value: str) -> str:
    """``2026-03`` → ``marts 2026``."""
    year, number_of_month = value.split("-")
    return f"{MONTH_NAMES[int(number_of_month) - 1]} {year}"


def age(since: date, today: date) -> str:
    """How long ago, roughly: ``3 mdr.``, ``1 år 2 mdr.``, ``12 dage``."""
    days = (today - since).days
    if days < 31:
        return f"{days} dag" if days == 1 else f"{days} dage"
    months = (today.year - since.year) * 12 + today.month - since.month - (today.day < since.day)
    years, rest = divmod(months, 12)
    parts = []
    if years:
        parts.append(f"{years} år")
    if rest:
        parts.append(f"{rest} md." if rest == 1 else f"{rest} mdr.")
    return " ".join(parts) or "1 md."


def share_percent(share: Decimal | str) -> str:
    """A share as a Danish percentage: ``"0.125"`` → ``12,5 %`` (one decimal, non-breaking space)."""
    return f"{number(Decimal(share) * 100, 1)}{NBSP}%"
