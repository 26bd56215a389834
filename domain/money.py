"""Exact amounts: DKK with øre, hours with hundredths. Never floating point."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from domain.errors import InvalidInput

CENT = Decimal("0.01")
MAX_RATE = Decimal("1000000.00")
MAX_PRICE = Decimal("100000000.00")
HOURS_IN_A_WEEK = Decimal("168")


def exact(value: Decimal | int | str, field: str) -> Decimal:
    """Return ``value`` with exactly two decimals, or refuse it.

    More than two decimals is an error, not a rounding (docs/domain.md rule 3).
    """
    if isinstance(value, float | bool):
        msg = f"{field} must be an exact decimal (Decimal, int or str), never floating point"
        raise InvalidInput("inexact-amount", msg, field=field)
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        msg = f"{field} must be a number with at most two decimals, got {value!r}"
        raise InvalidInput("invalid-amount", msg, field=field) from None
    if not amount.is_finite():
        msg = f"{field} must be a finite number, got {value!r}"
        raise InvalidInput("invalid-amount", msg, field=field)
    rounded = amount.quantize(CENT) if amount.adjusted() < 20 else amount
    if rounded != amount:
        msg = f"{field} has more than two decimals ({value}); amounts are exact to the øre"
        raise InvalidInput("too-many-decimals", msg, field=field)
    return rounded


def positive(value: Decimal | int | str, field: str, *, upper: Decimal) -> Decimal:
    """An exact amount that is above zero and not above ``upper``."""
    amount = exact(value, field)
    if amount <= 0:
        msg = f"{field} must be positive, got {amount}"
        raise InvalidInput("not-positive", msg, field=field)
    if amount > upper:
        msg = f"{field} must not exceed {upper}, got {amount}"
        raise InvalidInput("out-of-range", msg, field=field)
    return amount


def rate(value: Decimal | int | str, field: str) -> Decimal:
    """An hourly or daily rate in DKK."""
    return positive(value, field, upper=MAX_RATE)


def price(value: Decimal | int | str, field: str) -> Decimal:
    """A package price in DKK."""
    return positive(value, field, upper=MAX_PRICE)


def hours(value: Decimal | int | str, field: str) -> Decimal:
    """Hours per week (face-to-face), at most the hours a week has."""
    return positive(value, field, upper=HOURS_IN_A_WEEK)


MAX_PACKAGE_HOURS = Decimal("100000")


def hours_total(value: Decimal | int | str, field: str) -> Decimal:
    """The hours a package covers in all."""
    return positive(value, field, upper=MAX_PACKAGE_HOURS)
