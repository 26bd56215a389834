"""The practice read model against a fold written here from the events: the demo's referrals,
folded in small batches, give the figures a plain reading of their events gives, in every grouping."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from application.service.caseledger import CaseLedger
from domain.referral import Referral
from projections.database import ProjectionDatabase
from projections.practice import PracticeQuery, nearest_rank, ratio
from projections.reports import Reports
from projections.runner import ProjectionRunner
from tests.projections.helpers import small_demo


@dataclass
class Story:
    """What one referral's events say, read here without the read model."""

    municipality: str
    intervention: str
    legal_basis: str
    referred_on: date
    supplier: str | None = None
    matches: list[date] = field(default_factory=list)
    agreed: tuple[date, date] | None = None
    extensions: list[int] = field(default_factory=list)
    adjustments: int = 0
    above: bool = False
    close_reason: str | None = None


def stories(ledger: CaseLedger) -> list[Story]:
    found: dict[Any, Story] = {}
    for _, event in ledger.read_events(0, 1_000_000):
        if isinstance(event, Referral.Referred):
            found[event.originator_id] = Story(
                event.municipality, event.intervention, event.legal_basis, event.referred_on
            )
            continue
        story = found.get(event.originator_id)
        if story is None:
            continue
        if isinstance(event, Referral.Matched):
            story.supplier = str(event.supplier_id)
            story.matches.append(event.matched_on)
        elif isinstance(event, Referral.PriceAgreed):
            story.supplier = str(event.supplier_id)
            story.agreed = (event.agreed_on, event.start)
            story.above |= event.above_list_rate
        elif isinstance(event, Referral.Extended):
            story.extensions.append((event.new_end - event.previous_end).days)
        elif isinstance(event, Referral.Adjusted):
            story.adjustments += 1
            story.above |= event.above_list_rate
        elif isinstance(event, Referral.Closed):
            story.close_reason = event.reason
    return list(found.values())


def percentile(values: list[int], percent: int) -> int | None:
    ordered = sorted(values)
    return ordered[math.ceil(len(ordered) * percent / 100) - 1] if ordered else None


def share(part: int, whole: int, places: int) -> str | None:
    if not whole:
        return None
    exact = Decimal(part) / Decimal(whole)
    return str(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def expected_figures(group: list[Story]) -> dict[str, Any]:
    matched = [s for s in group if s.matches]
    agreed = [s for s in matched if s.agreed]
    to_matched = [(s.matches[0] - s.referred_on).days for s in matched]
    to_agreed = [(s.agreed[0] - s.matches[0]).days for s in agreed if s.agreed]
    to_start = [(s.agreed[1] - s.agreed[0]).days for s in agreed if s.agreed]
    extensions = [days for s in agreed for days in s.extensions]
    reasons: dict[str, int] = {}
    for s in group:
        if s.close_reason:
            reasons[s.close_reason] = reasons.get(s.close_reason, 0) + 1
    return {
        "referred": len(group),
        "matched": len(matched),
        "agreed": len(agreed),
        "closed": sum(reasons.values()),
        "referred_to_matched": {"median": percentile(to_matched, 50), "p90": percentile(to_matched, 90)},
        "matched_to_agreed": {"median": percentile(to_agreed, 50), "p90": percentile(to_agreed, 90)},
        "agreed_to_start": {"median": percentile(to_start, 50), "p90": percentile(to_start, 90)},
        "rematched_share": share(sum(len(s.matches) > 1 for s in matched), len(matched), 3),
        "extended_share": share(sum(bool(s.extensions) for s in agreed), len(agreed), 3),
        "mean_extension_days": share(sum(extensions), len(extensions), 1),
        "adjustments_per_referral": share(sum(s.adjustments for s in agreed), len(agreed), 2),
        "above_list_share": share(sum(s.above for s in agreed), len(agreed), 3),
        "close_reasons": dict(sorted(reasons.items())),
    }


def expected_weeks(stories: list[Story], first: str, last: str) -> dict[str, int]:
    """Referrals per ISO week, every week that has a day of the months ``first``..``last``."""
    weeks: dict[str, int] = {}
    day = date.fromisoformat(f"{first}-01")
    while day.isoformat()[:7] <= last:
        year, week, _ = day.isocalendar()
        weeks.setdefault(f"{year}-W{week:02d}", 0)
        day += timedelta(days=1)
    for story in stories:
        year, week, _ = story.referred_on.isocalendar()
        weeks[f"{year}-W{week:02d}"] += 1
    return weeks


KEYS = {
    "month": lambda s: s.referred_on.isoformat()[:7],
    "intervention": lambda s: s.intervention,
    "legal_basis": lambda s: s.legal_basis,
    "supplier": lambda s: s.supplier,
}


@pytest.mark.parametrize("municipality", ["461", None])
@pytest.mark.parametrize("by", [None, "month", "intervention", "legal_basis", "supplier"])
def test_every_grouping_equals_a_fold_of_the_events(
    ledger: CaseLedger, projection_db: ProjectionDatabase, by: str | None, municipality: str | None
) -> None:
    small_demo(ledger)
    ProjectionRunner(projection_db, ledger.read_events, batch_size=17).catch_up()
    everyone = [s for s in stories(ledger) if municipality in (None, s.municipality)]
    months = sorted({s.referred_on.isoformat()[:7] for s in everyone})
    first, last = months[1], months[-1]  # leave the first month out: the bounds are checked too
    chosen = [s for s in everyone if first <= s.referred_on.isoformat()[:7] <= last]

    report = Reports(projection_db).practice(PracticeQuery(first, last, by, municipality))

    if by is None:
        expected = [expected_figures(chosen)]
    else:
        groups: dict[str | None, list[Story]] = {}
        for story in chosen:
            groups.setdefault(KEYS[by](story), []).append(story)
        expected = [
            {"key": key, **expected_figures(groups[key])}
            for key in sorted(groups, key=lambda key: (key is None, key or ""))
        ]
        if by != "month":
            report["groups"] = [{k: v for k, v in g.items() if k != "name"} for g in report["groups"]]
    assert report["groups"] == expected
    assert report["weekly_intake"] == expected_weeks(chosen, first, last)
    assert list(report["weekly_intake"]) == sorted(report["weekly_intake"])
    assert len(chosen) < len(everyone)
    assert any(g["agreed"] and g["extended_share"] and g["close_reasons"] for g in expected)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=-30, max_value=400), min_size=1, max_size=60), st.integers(1, 100))
def test_the_rank_from_counts_picks_the_nearest_rank_value(values: list[int], percent: int) -> None:
    ordered = sorted(values)
    assert ordered[nearest_rank(len(ordered), percent) - 1] == percentile(values, percent)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 10_000), st.integers(0, 4))
def test_ratios_round_half_up_exactly(part: int, whole: int, places: int) -> None:
    assert ratio(part, whole, places) == share(part, whole, places)
