"""Report: the suppliers that can deliver a referral's intervention in its municipality, ranked on
professional fit, price, capacity and track record, each with the reasons for its score in words.

The score is the sum of four parts, 100 points in all (docs/decision-support.md):

- fit, 40: 40 × the share of the requested target group, competencies and education level the
  supplier offers (all 40 when nothing is requested);
- price, 25: 25 × (½ − d / 50), kept within 0..25, where d is the rate's difference in per cent
  from the median of the list rates in force in the municipality for the intervention and unit
  (12.5 at the median, 25 at 25 % below it or lower, 0 at 25 % above it or higher; 12.5 without
  a rate to compare);
- capacity, 15: 15 when the hours a week in the supplier's active referrals plus the hours
  requested fit within the capacity it states, 0 when they exceed it, 7.5 when it states none;
- track record, 20: 10 + 10 × (goal achieved − terminated by the supplier − rematched), each a
  share of its ended referrals in the municipality, kept within 0..20 (10 without any).

Ties are broken by the lower rate, then the name, then the supplier id.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

from domain.reference import load_reference
from domain.referral import Referral
from domain.supplier import LIST_FIELDS
from projections import supplier_profile, supplier_record
from projections.candidate_reasons import (
    against,
    half_up,
    hours_text,
    ore,
    score_capacity,
    score_fit,
    score_price,
    score_record,
    score_text,
)
from projections.codec import to_ore
from projections.database import Cursor
from projections.supplier_overview import prices_in_force
from projections.tables import table


@dataclass(frozen=True)
class CandidateQuery:
    """What the ranking needs of the referral and the request."""

    municipality: str
    intervention: str
    unit: str
    """The intervention's usual unit: the rate compared is the one in that unit, if the supplier has one."""
    prices_on: date
    today: date
    requested_hours_centi: int = 0
    wanted: dict[str, list[str]] = field(default_factory=dict)
    """Requested labels per kind (``target_groups``, ``competencies``, ``education_levels``)."""
    limit: int = 10

    @classmethod
    def for_referral(
        cls, referral: Referral, today: date, wanted: dict[str, list[str]] | None = None, limit: int = 10
    ) -> CandidateQuery:
        """The ranking of ``referral``'s candidates: its municipality, intervention (in its usual
        unit) and hours, with the prices in force on its requested start, or today if that has passed."""
        return cls(
            municipality=referral.municipality,
            intervention=referral.intervention,
            unit=load_reference().intervention(referral.intervention, "intervention").unit,
            prices_on=max(today, referral.requested_start),
            today=today,
            requested_hours_centi=to_ore(referral.requested_hours_per_week) or 0,
            wanted=wanted or {},
            limit=limit,
        )


def _norm(label: str) -> str:
    return " ".join(label.split()).casefold()


def _median_ore(values: Sequence[int]) -> int:
    """The median of the rates, interpolated as PostgreSQL's percentile_cont, half up to the øre."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle] + 1) // 2


def _offers(cur: Cursor, generation: int, query: CandidateQuery) -> list[dict[str, Any]]:
    """Every supplier with a rate or package for the intervention in force in the municipality on
    ``prices_on``, with the rate in the usual unit (else its other unit) and its packages."""
    # Text a supplier's lists must hold to be a candidate (plain JSON, no spaces): a cheap filter
    # before the lists are read; whether a list is in force is decided below.
    cur.run(
        f"SELECT supplier_id, name, cvr, price_lists FROM {table('cl_suppliers', generation)} "
        "WHERE price_lists LIKE ? AND price_lists LIKE ?",
        [f'%"municipality":"{query.municipality}"%', f'%"intervention":"{query.intervention}"%'],
    )
    offers = []
    for supplier_id, name, cvr, price_lists in cur.tuples():
        in_force = prices_in_force(json.loads(price_lists), query.municipality, query.prices_on)
        rates = [r for r in in_force["rates"] if r["intervention"] == query.intervention]
        packages = [p for p in in_force["packages"] if p["intervention"] == query.intervention]
        if not rates and not packages:
            continue
        rates.sort(key=lambda r: (r["unit"] != query.unit, r["unit"]))
        offers.append(
            {
                "supplier_id": supplier_id,
                "name": name,
                "cvr": cvr,
                "rate": rates[0] if rates else None,
                "packages": sorted(packages, key=lambda p: (p["name"], p["price"])),
            }
        )
    return offers


def _load(
    cur: Cursor, generation: int, supplier_ids: Sequence[str], today: date
) -> dict[str, tuple[int, int]]:
    """Per supplier: its active referrals and the hours a week in force today in them, in every
    municipality (a capacity is the supplier's, not one municipality's)."""
    found = {supplier_id: (0, 0) for supplier_id in supplier_ids}
    marks = ",".join("?" * len(supplier_ids))
    cur.run(
        f"SELECT supplier_id, SUM(n) FROM {table('cl_caseload', generation)} "
        f"WHERE status = 'active' AND supplier_id IN ({marks}) GROUP BY supplier_id",
        list(supplier_ids),
    )
    for supplier_id, n in cur.tuples():
        found[supplier_id] = (int(n), 0)
    day = today.isoformat()
    cur.run(
        f"SELECT supplier_id, SUM(hours_centi) FROM {table('cl_hours', generation)} "
        f"WHERE supplier_id IN ({marks}) AND to_date >= ? AND from_date <= ? GROUP BY supplier_id",
        [*supplier_ids, day, day],
    )
    for supplier_id, hours in cur.tuples():
        found[supplier_id] = (found[supplier_id][0], int(hours))
    return found


def _fit(profile: supplier_profile.Profile | None, wanted: dict[str, list[str]]) -> dict[str, Any]:
    fit: dict[str, Any] = {}
    for kind in LIST_FIELDS:
        offered = {_norm(label) for label in (profile.labels[kind] if profile else [])}
        asked = wanted.get(kind, [])
        fit[kind] = {
            "matched": [label for label in asked if _norm(label) in offered],
            "missing": [label for label in asked if _norm(label) not in offered],
        }
    return fit


def _share(part: int, whole: int) -> Fraction:
    return Fraction(part, whole) if whole else Fraction(0)


def _record(found: dict[str, Any]) -> dict[str, Any]:
    outcomes, days = found["outcomes"], found["days"]
    ended = outcomes.get(supplier_record.ENDED, 0)
    median_days = None
    total = sum(n for _, n in days)
    if total:
        # The lower median (the value at rank ⌈total / 2⌉): a whole number of days.
        rank, seen = (total + 1) // 2, 0
        for value, n in days:
            seen += n
            if seen >= rank:
                median_days = value
                break
    return {
        "closed": ended,
        "goal_achieved": _share(outcomes.get(supplier_record.GOAL_ACHIEVED, 0), ended),
        "rematched": _share(outcomes.get(supplier_record.REMATCHED, 0), ended),
        "supplier_terminated": _share(outcomes.get(supplier_record.SUPPLIER_TERMINATED, 0), ended),
        "median_days": median_days,
    }


def candidates(cur: Cursor, generation: int, query: CandidateQuery) -> list[dict[str, Any]]:
    """The ranked candidates, at most ``query.limit``."""
    offers = _offers(cur, generation, query)
    if not offers:
        return []
    ids = [offer["supplier_id"] for offer in offers]
    rates_by_unit: dict[str, list[int]] = {}
    for offer in offers:
        if offer["rate"] is not None:
            rates_by_unit.setdefault(offer["rate"]["unit"], []).append(ore(offer["rate"]["rate"]))
    medians = {unit: _median_ore(values) for unit, values in rates_by_unit.items()}
    profiles = supplier_profile.load(cur, generation, set(ids))
    loads = _load(cur, generation, ids, query.today)
    records = supplier_record.records(cur, generation, query.municipality, ids)

    ranked = []
    for offer in offers:
        supplier_id = offer["supplier_id"]
        profile = profiles.get(supplier_id)
        fit = _fit(profile, query.wanted)
        record = _record(records[supplier_id])
        active, hours = loads[supplier_id]
        capacity = profile.capacity_centi if profile else None
        parts: dict[str, Fraction] = {}
        parts["fit"], fit_text = score_fit(fit)
        parts["price"], price_text, vs_median = score_price(offer, medians)
        parts["capacity"], capacity_text, _ = score_capacity(
            active, hours, capacity, query.requested_hours_centi
        )
        parts["record"], record_text = score_record(record)
        rate = offer["rate"]
        package = offer["packages"][0] if offer["packages"] else None
        ranked.append(
            {
                "supplier_id": supplier_id,
                "name": offer["name"],
                "cvr": offer["cvr"],
                "exact": sum(parts.values(), Fraction(0)),
                "parts": parts,
                "fit": fit,
                "price": {
                    "unit": rate["unit"] if rate else None,
                    "rate": rate["rate"] if rate else None,
                    "package": (
                        {"name": package["name"], "price": package["price"], "hours": package["hours"]}
                        if package
                        else None
                    ),
                    "list_negotiated_on": (rate or package or {}).get("negotiated_on"),
                    "vs_median_pct": vs_median,
                },
                "load": {
                    "active_referrals": active,
                    "active_hours_per_week": hours_text(hours),
                    "capacity_hours_per_week": None if capacity is None else hours_text(capacity),
                },
                "record": {
                    "closed": record["closed"],
                    "goal_achieved_share": half_up(record["goal_achieved"], 2),
                    "rematched_share": half_up(record["rematched"], 2),
                    "supplier_terminated_share": half_up(record["supplier_terminated"], 2),
                    "median_days": record["median_days"],
                },
                "texts": [fit_text, price_text, capacity_text, record_text],
                "rate_ore": ore(rate["rate"]) if rate else None,
            }
        )
    ranked.sort(key=_rank_key)
    return [
        _public(candidate, ranked[place - 1] if place else None)
        for place, candidate in enumerate(ranked[: query.limit])
    ]


PRIVATE = ("exact", "parts", "texts", "rate_ore")


def _public(candidate: dict[str, Any], above: dict[str, Any] | None) -> dict[str, Any]:
    """The answer for one ranked candidate: its figures, score and reasons (the last one against the
    candidate ranked just above it)."""
    reasons = [score_text(candidate["exact"], candidate["parts"]), *candidate["texts"]]
    if above is not None:
        reasons.append(against(above, candidate))
    public = {key: value for key, value in candidate.items() if key not in PRIVATE}
    return {**public, "score": half_up(candidate["exact"], 1), "reasons": reasons}


def _rank_key(candidate: dict[str, Any]) -> tuple[Any, ...]:
    rate = candidate["rate_ore"]
    return (-candidate["exact"], rate is None, rate or 0, _norm(candidate["name"]), candidate["supplier_id"])
