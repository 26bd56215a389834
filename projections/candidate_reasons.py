"""The candidates' reasons in words, with the points each part of the score gives: fit, price,
capacity and track record (docs/decision-support.md, *The score*), the score's sum and why one
candidate ranks below the one just above it. Points and words are worked out together so that a
reason always says what gave the points; the ranking itself is ``projections/candidates.py``'s."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from domain.supplier import LIST_FIELDS
from projections.codec import money

WEIGHTS = {"fit": 40, "price": 25, "capacity": 15, "record": 20}
PRICE_SPAN_PCT = 25
"""The difference from the median, in per cent, at which the price part reaches 0 (above) or all of
its points (below)."""
PART_NAMES = {"fit": "fit", "price": "price", "capacity": "capacity", "record": "track record"}
LABEL_KINDS = {
    "target_groups": "target group",
    "competencies": "competency",
    "education_levels": "education level",
}


def half_up(value: Fraction, places: int) -> str:
    """``value`` rounded half up (away from zero) to ``places`` decimals, as text (in integers)."""
    numerator, denominator = abs(value.numerator) * 10**places, value.denominator
    whole = (2 * numerator + denominator) // (2 * denominator)
    sign = "-" if value < 0 and whole else ""
    text = str(whole).rjust(places + 1, "0")
    return f"{sign}{text[:-places]}.{text[-places:]}" if places else f"{sign}{text}"


def ore(amount: str) -> int:
    whole, _, cents = amount.partition(".")
    return int(whole) * 100 + int(cents.ljust(2, "0")[:2])


def clamped(value: Fraction, high: int) -> Fraction:
    return min(Fraction(high), max(Fraction(0), value))


def hours_text(centi: int) -> str:
    return money(centi) or "0.00"


def _pct(share: Fraction) -> str:
    return f"{half_up(share * 100, 0)} %"


def _labels_text(fit: dict[str, Any], which: str) -> str:
    return ", ".join(f"{LABEL_KINDS[kind]} {label}" for kind in LIST_FIELDS for label in fit[kind][which])


def score_fit(fit: dict[str, Any]) -> tuple[Fraction, str]:
    asked = sum(len(fit[kind]["matched"]) + len(fit[kind]["missing"]) for kind in LIST_FIELDS)
    matched = sum(len(fit[kind]["matched"]) for kind in LIST_FIELDS)
    if not asked:
        return Fraction(WEIGHTS["fit"]), "Fit: nothing was asked for, so fit does not set candidates apart."
    points = WEIGHTS["fit"] * Fraction(matched, asked)
    text = f"Fit: offers {matched} of the {asked} asked for"
    if matched:
        text += f" ({_labels_text(fit, 'matched')})"
    if matched < asked:
        text += f"; lacks {_labels_text(fit, 'missing')}"
    return points, text + "."


def score_price(offer: dict[str, Any], medians: dict[str, int]) -> tuple[Fraction, str, str | None]:
    """Points, reason and ``vs_median_pct``."""
    rate = offer["rate"]
    half = Fraction(WEIGHTS["price"], 2)
    if rate is None:
        package = offer["packages"][0]
        return (
            half,
            f"Price: only a package ({package['name']}, {package['price']} for {package['hours']} hours), "
            "no rate to compare with the median, so counted as at the median.",
            None,
        )
    rate_ore, median = ore(rate["rate"]), medians[rate["unit"]]
    difference = Fraction(100 * (rate_ore - median), median)
    points = clamped(
        WEIGHTS["price"] * (Fraction(1, 2) - difference / (2 * PRICE_SPAN_PCT)), WEIGHTS["price"]
    )
    pct = half_up(difference, 1)
    if difference == 0:
        standing = "at the median"
    else:
        standing = f"{half_up(abs(difference), 1)} % {'below' if difference < 0 else 'above'} the median"
    text = (
        f"Price: {rate['rate']} per {rate['unit']}, {standing} of the list rates in force here "
        f"({money(median)}; list negotiated {rate['negotiated_on']})."
    )
    return points, text, pct


def score_capacity(
    active: int, hours: int, capacity: int | None, requested: int
) -> tuple[Fraction, str, bool]:
    """Points, reason and whether the capacity would be exceeded."""
    load = f"{hours_text(hours)} hours a week in {active} active referral{'s' if active != 1 else ''}"
    asked = f" plus the {hours_text(requested)} requested" if requested else ""
    if capacity is None:
        return Fraction(WEIGHTS["capacity"], 2), f"Capacity: none stated; {load}.", False
    if hours + requested > capacity:
        return (
            Fraction(0),
            f"Capacity exceeded: {load}{asked} is more than the {hours_text(capacity)} hours a week it states "
            "(a match is still allowed).",
            True,
        )
    return (
        Fraction(WEIGHTS["capacity"]),
        f"Capacity: {load}{asked} is within the {hours_text(capacity)} hours a week it states.",
        False,
    )


def score_record(record: dict[str, Any]) -> tuple[Fraction, str]:
    half = Fraction(WEIGHTS["record"], 2)
    if not record["closed"]:
        return half, "Track record: no ended referrals in this municipality yet, so counted as neutral."
    balance = record["goal_achieved"] - record["supplier_terminated"] - record["rematched"]
    points = clamped(half + half * balance, WEIGHTS["record"])
    closed = record["closed"]
    text = (
        f"Track record: {closed} ended referral{'s' if closed != 1 else ''} in this municipality, "
        f"{_pct(record['goal_achieved'])} with the goal achieved, "
        f"{_pct(record['supplier_terminated'])} terminated by the supplier, {_pct(record['rematched'])} rematched"
    )
    if record["median_days"] is not None:
        text += f"; measures ran {record['median_days']} days (median)"
    return points, text + "."


def score_text(exact: Fraction, parts: dict[str, Fraction]) -> str:
    """The first reason: the score and what each part gave."""
    summary = " + ".join(f"{PART_NAMES[name]} {half_up(points, 1)}" for name, points in parts.items())
    return f"Score {half_up(exact, 1)} of 100: {summary}."


def against(above: dict[str, Any], candidate: dict[str, Any]) -> str:
    """Why ``candidate`` ranks below ``above``, the one just above it."""
    name = above["name"]
    if above["exact"] == candidate["exact"]:
        if above["rate_ore"] != candidate["rate_ore"]:
            return (
                f"Same score as {name}; ranked after it on the rate (the lower rate, then any rate, first)."
            )
        return f"Same score and rate as {name}; ranked after it by name."
    gaps = {part: above["parts"][part] - points for part, points in candidate["parts"].items()}
    widest = max(gaps, key=lambda part: (gaps[part], -list(WEIGHTS).index(part)))
    behind = above["exact"] - candidate["exact"]
    return (
        f"Ranks below {name} ({half_up(above['exact'], 1)}) by {half_up(behind, 1)} points; "
        f"the widest gap is on {PART_NAMES[widest]} ({half_up(gaps[widest], 1)} points)."
    )
