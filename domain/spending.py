"""Committed spend (disponering) per calendar month, exactly as docs/domain.md defines it.

A referral's terms are kept as step functions over calendar days: each change applies "from a
date on" and overrides everything after that date that earlier decisions had set, so the order of
decisions is the order they were recorded (a retroactive adjustment changes past months).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cache

DAYS_IN_A_WEEK = 7
ONE_DAY = timedelta(days=1)


def set_from(steps: list[tuple[date, Decimal]], start: date, value: Decimal) -> None:
    """Make ``value`` hold from ``start`` on, replacing any later step."""
    steps[:] = [step for step in steps if step[0] < start]
    steps.append((start, value))


def value_on(steps: list[tuple[date, Decimal]], on: date) -> Decimal | None:
    """The value in force on ``on`` (steps are kept in date order)."""
    found = None
    for since, value in steps:
        if since > on:
            break
        found = value
    return found


@dataclass
class Terms:
    """What a referral commits: its period, its rate and hours over time, and its packages."""

    kind: str  # "hourly", "daily" or "package"
    start: date
    end: date
    rate: list[tuple[date, Decimal]] = field(default_factory=list)
    hours: list[tuple[date, Decimal]] = field(default_factory=list)
    packages: list[tuple[date, Decimal]] = field(default_factory=list)
    closed_on: date | None = None

    @classmethod
    def agreed(
        cls,
        *,
        kind: str,
        start: date,
        end: date,
        rate: Decimal | None,
        hours_per_week: Decimal | None,
        package_price: Decimal | None,
    ) -> Terms:
        """The terms of a price agreement."""
        terms = cls(kind=kind, start=start, end=end)
        if rate is not None:
            set_from(terms.rate, start, rate)
        if hours_per_week is not None:
            set_from(terms.hours, start, hours_per_week)
        if package_price is not None:
            terms.packages.append((start, package_price))
        return terms

    def extend(self, *, new_end: date, hours_per_week: Decimal | None, package_price: Decimal | None) -> None:
        """A later end; new hours and a new package apply from the day after the old end."""
        first_extended_day = self.end + ONE_DAY
        if hours_per_week is not None:
            set_from(self.hours, first_extended_day, hours_per_week)
        if package_price is not None:
            self.packages.append((first_extended_day, package_price))
        self.end = new_end

    def adjust(self, *, effective_from: date, hours_per_week: Decimal | None, rate: Decimal | None) -> None:
        """Hours and/or rate change from ``effective_from`` on."""
        if hours_per_week is not None:
            set_from(self.hours, effective_from, hours_per_week)
        if rate is not None:
            set_from(self.rate, effective_from, rate)

    def close(self, closed_on: date) -> None:
        """Nothing is spent after ``closed_on``."""
        self.closed_on = closed_on

    @property
    def last_day(self) -> date:
        """The last day that spends: the end, cut by a closure."""
        return min(self.end, self.closed_on) if self.closed_on else self.end


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


# Exact arithmetic in integers: a rate in øre times hours in hundredths over 7 days is a whole
# number of 1/700 øre per day, so a month's exact sum is an integer count of 1/700 øre.
PARTS_PER_ORE = 100 * DAYS_IN_A_WEEK


@cache
def _calendar_month(year: int, month: int) -> tuple[str, int]:
    """'YYYY-MM' and the day number (``date.toordinal``) of the month's last day."""
    return _month(date(year, month, 1)), _next_month(date(year, month, 1)).toordinal() - 1


def _monthly_parts(terms: Terms, begin: date | None = None) -> dict[str, int]:
    """What each month spends, exactly, in 1/700 øre; months without a spending day left out; from
    the month of ``begin`` on, when given (after the start).

    The amount per day is a step function that changes only where the rate or the hours do, so it
    is worked out once per change (a handful per referral) and each month adds up its steps' days
    in integer day numbers."""
    parts: dict[str, int] = {}
    first, last = terms.start.toordinal(), terms.last_day.toordinal()
    changes = sorted({since for since, _ in terms.rate} | {since for since, _ in terms.hours})
    if last < first or not changes:  # a package has neither rate nor hours
        return parts
    steps = [(day.toordinal(), _per_day(terms, day)) for day in changes]  # (from, per day) until the next
    ends = [since - 1 for since, _ in steps[1:]] + [last]
    year, month, low = terms.start.year, terms.start.month, first
    if begin is not None:
        year, month, low = begin.year, begin.month, max(first, date(begin.year, begin.month, 1).toordinal())
    while low <= last:
        key, month_end = _calendar_month(year, month)
        high = min(month_end, last)
        total, spends = 0, False
        for (since, per_day), until in zip(steps, ends, strict=True):
            days = min(high, until) - max(low, since) + 1
            if days > 0 and per_day:
                total += per_day * days
                spends = True
        if spends:
            parts[key] = total
        year, month, low = (year + 1, 1, month_end + 1) if month == 12 else (year, month + 1, month_end + 1)
    return parts


def _per_day(terms: Terms, on: date) -> int:
    """The amount spent on ``on``, in 1/700 øre."""
    rate = value_on(terms.rate, on)
    if rate is None:
        return 0
    rate_ore = int(rate * 100)
    if terms.kind == "daily":
        return rate_ore * PARTS_PER_ORE
    hours = value_on(terms.hours, on)
    if terms.kind != "hourly" or hours is None:
        return 0
    return rate_ore * int(hours * 100)


def monthly_commitments_ore(
    terms: Terms, since: date | None = None, earlier: dict[str, int] | None = None
) -> dict[str, int]:
    """Committed spend per month ('YYYY-MM' → øre), each rounded once per referral and month, in
    month order: what the read models store, without a ``Decimal`` per month.

    After a change of the terms that leaves every day before ``since`` as it was, the months
    before ``since``'s are those of ``earlier`` (the amounts before the change) and only the others
    are worked out again."""
    begin = since if since is not None and earlier is not None and since > terms.start else None
    # Half-up to whole øre: floor(parts / 700 + 1/2).
    ore = {
        key: (2 * amount + PARTS_PER_ORE) // (2 * PARTS_PER_ORE)
        for key, amount in _monthly_parts(terms, begin).items()
    }
    kept = _month(begin) if begin is not None else ""
    for day, price in terms.packages:
        key = _month(day)
        if key >= kept:
            ore[key] = ore.get(key, 0) + int(price * 100)
    if begin is not None and earlier is not None:
        ore.update({key: amount for key, amount in earlier.items() if key < kept})
    return {key: ore[key] for key in sorted(ore)}


def monthly_commitments(terms: Terms) -> dict[str, Decimal]:
    """Committed spend per month ('YYYY-MM' → DKK), each rounded once per referral and month."""
    return {key: Decimal(amount).scaleb(-2) for key, amount in monthly_commitments_ore(terms).items()}


def committed_total(terms: Terms) -> Decimal:
    """The sum of the rounded monthly amounts."""
    return sum(monthly_commitments(terms).values(), Decimal("0.00"))
