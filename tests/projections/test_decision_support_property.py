"""Property: the decision-support answers equal a fold of generated histories written here.

Random histories of one municipality's referrals — referred, matched and re-matched among three
suppliers, priced below, at or above the supplier's list rate, the rate adjusted below or above it,
extended, closed with any reason at any time — are stored through the domain and folded by the
runner in small batches. Then the practice report (one group and by supplier, with its weekly
intake), the price exceptions and the candidates' track records must equal what a plain reading of
the generated histories gives; and after a rebuild of the read models, the same answers again.

Every example gets a municipality of its own (the database is shared by the examples), so each
answer is about that example's histories alone.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as tally
from hypothesis import strategies as st

from application.service.caseledger import CaseLedger
from domain.reference import load_reference
from domain.referral import CLOSE_REASONS, Referral
from domain.supplier import Supplier
from projections.candidates import CandidateQuery
from projections.database import ProjectionDatabase
from projections.practice import PracticeQuery
from projections.price_practice import ExceptionQuery
from projections.reports import Reports
from projections.runner import ProjectionRunner
from tests.domain.builders import MATCHER, WORKER, agree_price, close, extend, match, refer
from tests.projections.helpers import supplier_endings
from tests.projections.test_practice_fold import expected_figures, expected_weeks, stories
from tests.storage import rebuild_read_models, storage_env

BASE = date(2026, 2, 2)
NEGOTIATED = date(2025, 12, 1)
LIST_RATES = (Decimal("800.00"), Decimal("850.00"), Decimal("900.00"))
"""Each supplier's list rate for consultancy per hour in the example's municipality."""
AGREED_DELTAS = (Decimal("-50.00"), Decimal("0.00"), Decimal("25.00"), Decimal("112.50"), Decimal("0.01"))
ADJUSTED_DELTAS = (Decimal("-30.00"), Decimal("0.00"), Decimal("10.00"), Decimal("60.25"))
ABOVE = "Nobody else free this month"
MUNICIPALITIES = itertools.cycle(sorted(set(load_reference().municipalities) - {"461", "101"}))


@dataclass(frozen=True)
class Life:
    """One referral's history: days between its decisions, and which choice each made."""

    referred: int
    matches: list[tuple[int, int]]
    agreement: tuple[int, int, int, int] | None
    adjustment: tuple[int, int] | None
    extension: int | None
    closure: tuple[str, int] | None


lives = st.builds(
    Life,
    referred=st.integers(0, 70),
    matches=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 20)), min_size=1, max_size=3) | st.just([]),
    agreement=st.none()
    | st.tuples(
        st.integers(0, len(AGREED_DELTAS) - 1), st.integers(0, 15), st.integers(-5, 20), st.integers(0, 80)
    ),
    adjustment=st.none() | st.tuples(st.integers(0, len(ADJUSTED_DELTAS) - 1), st.integers(0, 80)),
    extension=st.none() | st.integers(1, 40),
    closure=st.none() | st.tuples(st.sampled_from(CLOSE_REASONS), st.integers(-20, 120)),
)


@dataclass
class Decided:
    """What the test knows of one referral from the history it generated."""

    referral_id: str
    supplier: int | None = None
    start: date | None = None
    end: date | None = None
    exceptions: list[dict[str, Any]] | None = None


@pytest.fixture
def projection_db(db_url: str) -> Iterator[ProjectionDatabase]:
    db = ProjectionDatabase.from_env(storage_env(db_url))
    yield db
    db.close()


def suppliers_for(municipality: str) -> list[Supplier]:
    """Three suppliers with a list for consultancy per hour in ``municipality`` (events pending)."""
    found = []
    for index, rate in enumerate(LIST_RATES):
        supplier = Supplier.register(
            supplier_id=uuid4(),
            name=f"Leverandør {municipality}-{index}",
            cvr="12345674",
            contact={"name": "Hanne Hansen", "phone": "66131372"},
            target_groups=[],
            competencies=[],
            education_levels=[],
            decided_by=MATCHER,
        )
        supplier.negotiate_price_list(
            municipality_code=municipality,
            negotiated_on=NEGOTIATED,
            valid_from=date(2026, 1, 1),
            valid_to=None,
            rates=[{"intervention": "consultancy", "unit": "hour", "rate": rate}],
            packages=[],
            note=None,
            decided_by=MATCHER,
        )
        found.append(supplier)
    return found


def play(life: Life, municipality: str, suppliers: list[Supplier]) -> tuple[Referral, Decided]:
    """The referral living ``life``, and the price exceptions the test expects of it."""
    day = BASE + timedelta(days=life.referred)
    referral = refer(
        municipality_code=municipality,
        intervention="consultancy",
        requested_start=day + timedelta(days=10),
        expected_end=day + timedelta(days=100),
        referred_on=day,
    )
    decided = Decided(str(referral.id), exceptions=[])
    assert decided.exceptions is not None
    for index, gap in life.matches:
        day += timedelta(days=gap)
        match(referral, suppliers[index], matched_on=day)
        decided.supplier = index
    if decided.supplier is not None and life.agreement is not None:
        chosen, listed = suppliers[decided.supplier], LIST_RATES[decided.supplier]
        delta, gap, start_gap, length = life.agreement
        day += timedelta(days=gap)
        start = day + timedelta(days=start_gap)
        end = start + timedelta(days=length)
        rate = listed + AGREED_DELTAS[delta]
        agree_price(
            referral, chosen, hourly_rate=rate, start=start, end=end, agreed_on=day,
            rationale=ABOVE if rate > listed else None,
        )  # fmt: skip
        decided.start, decided.end = start, end
        if rate > listed:
            decided.exceptions.append(_exception(decided, "referral.price_agreed", rate, listed, day, ABOVE))
        if life.adjustment is not None:
            delta, offset = life.adjustment
            effective = start + timedelta(days=min(offset, length))
            day += timedelta(days=1)
            rate = listed + ADJUSTED_DELTAS[delta]
            why = f"Rate from {effective.isoformat()}"
            referral.adjust(
                supplier=chosen, effective_from=effective, hours_per_week=None, hourly_rate=rate,
                daily_rate=None, rationale=why, decided_on=day, decided_by=WORKER,
            )  # fmt: skip
            if rate > listed:
                found = _exception(decided, "referral.adjusted", rate, listed, day, why, rate_from=effective)
                decided.exceptions.append(found)
        if life.extension is not None:
            day += timedelta(days=1)
            decided.end = end + timedelta(days=life.extension)
            extend(referral, new_end=decided.end, decided_on=day)
    if life.closure is not None:
        reason, gap = life.closure
        close(referral, reason=reason, closed_on=max(day + timedelta(days=gap), referral.referred_on))
    return referral, decided


def _exception(
    decided: Decided,
    kind: str,
    rate: Decimal,
    listed: Decimal,
    decided_on: date,
    rationale: str,
    rate_from: date | None = None,
) -> dict[str, Any]:
    difference = ((rate - listed) / listed * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return {
        "referral_id": decided.referral_id,
        "type": kind,
        "supplier": decided.supplier,
        "agreed": f"{rate:.2f}",
        "list_rate": f"{listed:.2f}",
        "difference_pct": str(difference),
        "list_negotiated_on": NEGOTIATED.isoformat(),
        "list_age_days": (decided_on - NEGOTIATED).days,
        "rationale": rationale,
        "decided_on": decided_on.isoformat(),
        "rate_from": rate_from.isoformat() if rate_from else None,
    }


def _half_up(part: int, whole: int) -> str:
    """``part / whole`` to two decimals, half up; 0 of nothing is 0."""
    if not whole:
        return "0.00"
    return str((Decimal(part) / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def expected_records(events: list[Any], supplier_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each supplier's track record in the municipality, read from the referral events: which
    referrals ended with it (closed while it was theirs, or re-matched away from it) and how, and
    how long their measures ran (start to the end or the closure, both days counted)."""
    ended: dict[str, list[str]] = {supplier: [] for supplier in supplier_ids}
    ran: dict[str, list[int]] = {supplier: [] for supplier in supplier_ids}
    for supplier, _, how, days in supplier_endings(events):
        ended[supplier].append(how)
        if days is not None:
            ran[supplier].append(days)
    records = {}
    for supplier in supplier_ids:
        how, days = ended[supplier], sorted(ran[supplier])
        records[supplier] = {
            "closed": len(how),
            "goal_achieved_share": _half_up(how.count("goal_achieved"), len(how)),
            "rematched_share": _half_up(how.count("rematched"), len(how)),
            "supplier_terminated_share": _half_up(how.count("supplier_terminated"), len(how)),
            "median_days": days[(len(days) + 1) // 2 - 1] if days else None,
        }
    return records


def answers(reports: Reports, municipality: str) -> dict[str, Any]:
    """Everything the property compares, as the read models answer it now."""
    practice = {
        by: reports.practice(PracticeQuery("2026-01", "2026-12", by, municipality))
        for by in (None, "supplier")
    }
    exceptions = reports.price_exceptions(ExceptionQuery(municipality=municipality, page_size=500))
    candidates = reports.candidates(
        CandidateQuery(
            municipality=municipality,
            intervention="consultancy",
            unit="hour",
            prices_on=date(2026, 6, 1),
            today=date(2026, 6, 1),
            limit=100,
        )
    )
    return {"practice": practice, "exceptions": exceptions, "candidates": candidates}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(histories=st.lists(lives, min_size=2, max_size=8))
def test_practice_exceptions_and_track_records_equal_a_fold_of_the_histories(
    ledger: CaseLedger, projection_db: ProjectionDatabase, db_url: str, histories: list[Life]
) -> None:
    municipality = next(MUNICIPALITIES)
    suppliers = suppliers_for(municipality)
    supplier_ids = [str(supplier.id) for supplier in suppliers]
    ledger.save(*[event for supplier in suppliers for event in supplier.collect_events()])
    played = [play(life, municipality, suppliers) for life in histories]
    events = [event for referral, _ in played for event in referral.collect_events()]
    ledger.save(*events)
    ProjectionRunner(projection_db, ledger.read_events, batch_size=5).catch_up()
    reports = Reports(projection_db)

    found = answers(reports, municipality)

    # The practice figures: the same fold as the demo's (tests/projections/test_practice_fold.py).
    mine = [story for story in stories(ledger) if story.municipality == municipality]
    assert found["practice"][None]["groups"] == [expected_figures(mine)]
    assert found["practice"][None]["weekly_intake"] == expected_weeks(mine, "2026-01", "2026-12")
    groups: dict[str | None, list[Any]] = {}
    for story in mine:
        groups.setdefault(story.supplier, []).append(story)
    by_supplier = [
        {k: v for k, v in group.items() if k != "name"} for group in found["practice"]["supplier"]["groups"]
    ]
    assert by_supplier == [
        {"key": key, **expected_figures(groups[key])}
        for key in sorted(groups, key=lambda key: (key is None, key or ""))
    ]

    # The price exceptions: every agreement and adjustment above the supplier's list rate.
    wanted = [
        {**{k: v for k, v in item.items() if k != "supplier"}, "supplier_id": supplier_ids[item["supplier"]]}
        for _, decided in played
        for item in decided.exceptions or []
    ]
    listed = [
        {k: v for k, v in item.items() if k in wanted[0]} if wanted else item
        for item in found["exceptions"]["items"]
    ]
    assert found["exceptions"]["total"] == len(wanted)
    key = lambda item: (item["referral_id"], item["type"])  # noqa: E731
    assert sorted(listed, key=key) == sorted(wanted, key=key)
    decided_on = [item["decided_on"] for item in found["exceptions"]["items"]]
    assert decided_on == sorted(decided_on, reverse=True)
    assert all(item["municipality"] == municipality for item in found["exceptions"]["items"])

    # The candidates: all three suppliers (each has a list in force), each with its track record.
    records = expected_records(events, supplier_ids)
    assert sorted(candidate["supplier_id"] for candidate in found["candidates"]) == sorted(supplier_ids)
    for candidate in found["candidates"]:
        assert candidate["record"] == records[candidate["supplier_id"]], candidate["name"]

    tally(f"price exceptions: {'some' if wanted else 'none'}")
    tally(f"ended referrals: {'some' if any(r['closed'] for r in records.values()) else 'none'}")

    # A rebuild folds the whole log again, into new tables: the same answers.
    assert rebuild_read_models(db_url) >= len(events)
    assert answers(reports, municipality) == found
