"""A municipality's own costs (docs/domain.md "Own cost"): per unit of an intervention, from a date;
a later record for the same date corrects the earlier one. Given events / when command / then
events or error. No I/O.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from domain.errors import InvalidInput, RuleViolation
from domain.own_cost import OwnCosts
from tests.domain.builders import MATCHER, ODENSE, refused, replay, then_events

JANUARY = date(2026, 1, 1)
RATIONALE = "Two of our own family therapists, salary and overhead per face-to-face hour"


def record(own_costs: OwnCosts, **overrides: Any) -> None:
    arguments: dict[str, Any] = {
        "municipality_code": ODENSE,
        "intervention": "family-treatment",
        "unit": "hour",
        "rate": Decimal("640.00"),
        "valid_from": JANUARY,
        "rationale": RATIONALE,
        "decided_by": MATCHER,
    }
    arguments.update(overrides)
    own_costs.record(**arguments)


def odense(*records: dict[str, Any]) -> OwnCosts:
    """Given: Odense's own costs with ``records`` recorded (and collected)."""
    own_costs = OwnCosts.start(OwnCosts.id_for(ODENSE), ODENSE)
    for overrides in records:
        record(own_costs, **overrides)
    own_costs.collect_events()
    return own_costs


def test_the_first_record_starts_the_municipalitys_own_costs_and_records_the_cost() -> None:
    own_costs = OwnCosts.start(OwnCosts.id_for(ODENSE), ODENSE)

    record(own_costs)

    started, recorded = then_events(own_costs)
    assert isinstance(started, OwnCosts.Started)
    assert started.municipality == ODENSE
    assert isinstance(recorded, OwnCosts.Recorded)
    assert (recorded.intervention, recorded.unit, recorded.rate, recorded.valid_from) == (
        "family-treatment",
        "hour",
        Decimal("640.00"),
        JANUARY,
    )
    assert (recorded.municipality, recorded.rationale, recorded.actor) == (ODENSE, RATIONALE, MATCHER)


def test_the_id_is_the_same_for_a_municipality_and_differs_between_municipalities() -> None:
    assert OwnCosts.id_for(ODENSE) == OwnCosts.id_for("461")
    assert OwnCosts.id_for(ODENSE) != OwnCosts.id_for("101")


def test_own_costs_start_only_under_their_municipalitys_id_and_for_one_of_the_98() -> None:
    with pytest.raises(InvalidInput) as wrong_id:
        OwnCosts.start(uuid4(), ODENSE)
    with pytest.raises(InvalidInput) as unknown:
        OwnCosts.start(OwnCosts.id_for("999"), "999")

    assert wrong_id.value.problem == "id-mismatch"
    assert unknown.value.problem == "unknown-municipality"


def test_in_force_is_the_latest_valid_from_not_after_the_day_per_intervention_and_unit() -> None:
    own_costs = odense(
        {},
        {"rate": Decimal("700.00"), "valid_from": date(2026, 7, 1)},
        {"intervention": "respite-stay", "unit": "day", "rate": Decimal("2900.00")},
    )

    def in_force(on: date) -> list[tuple[str, Decimal]]:
        return [(r.intervention, r.rate) for r in own_costs.in_force(on)]

    assert in_force(date(2025, 12, 31)) == []
    assert in_force(JANUARY) == [
        ("family-treatment", Decimal("640.00")),
        ("respite-stay", Decimal("2900.00")),
    ]
    assert in_force(date(2026, 6, 30))[0] == ("family-treatment", Decimal("640.00"))
    assert in_force(date(2026, 7, 1))[0] == ("family-treatment", Decimal("700.00"))


def test_a_second_record_for_the_same_date_corrects_the_first_and_both_stay_in_the_history() -> None:
    own_costs = odense({}, {"rate": Decimal("655.50")})

    [current] = own_costs.in_force(JANUARY)

    assert current.rate == Decimal("655.50")
    assert [r.rate for r in own_costs.records] == [Decimal("640.00"), Decimal("655.50")]
    assert own_costs.replaced() == {own_costs.records[0].version}


def test_the_same_rate_again_for_the_same_date_is_refused_as_nothing_to_correct() -> None:
    own_costs = odense({})

    refused(own_costs, lambda: record(own_costs), RuleViolation, "own-cost-unchanged", "rate")


@pytest.mark.parametrize(
    ("overrides", "problem", "field"),
    [
        ({"intervention": "astrology"}, "unknown-intervention", "intervention"),
        ({"unit": "day"}, "unit-does-not-fit", "unit"),
        ({"intervention": "respite-stay", "unit": "hour"}, "unit-does-not-fit", "unit"),
        ({"intervention": "network-group", "unit": "day"}, "unit-does-not-fit", "unit"),
        ({"unit": "week"}, "unit-does-not-fit", "unit"),
        ({"rate": Decimal("0")}, "not-positive", "rate"),
        ({"rate": Decimal("-640")}, "not-positive", "rate"),
        ({"rate": Decimal("640.005")}, "too-many-decimals", "rate"),
        ({"rate": 640.0}, "inexact-amount", "rate"),
        ({"valid_from": date(1989, 12, 31)}, "date-out-of-range", "valid_from"),
        ({"rationale": "  "}, "blank-text", "rationale"),
        ({"rationale": "as agreed with 010190-1234"}, "cpr-number-in-text", "rationale"),
        ({"municipality_code": "101"}, "municipality-mismatch", "municipality"),
        ({"decided_by": {"id": ""}}, "blank-text", "actor.id"),
    ],
    ids=str,
)
def test_a_record_that_breaks_a_rule_is_refused_and_records_nothing(
    overrides: dict[str, Any], problem: str, field: str
) -> None:
    own_costs = odense()

    refused(own_costs, lambda: record(own_costs, **overrides), InvalidInput, problem, field)


def test_a_package_intervention_is_costed_per_hour() -> None:
    own_costs = odense({"intervention": "network-group", "unit": "hour"})

    assert [(r.intervention, r.unit) for r in own_costs.in_force(JANUARY)] == [("network-group", "hour")]


def test_replaying_the_events_gives_the_same_own_costs() -> None:
    own_costs = OwnCosts.start(OwnCosts.id_for(ODENSE), ODENSE)
    record(own_costs)
    record(own_costs, rate=Decimal("650.00"))
    events = then_events(own_costs)

    replayed = replay(events)

    assert replayed.records == own_costs.records
    assert replayed.version == own_costs.version == 3
