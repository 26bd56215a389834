"""The referral lifecycle: referred → matched → active (price agreed) → closed (docs/domain.md rule 1).

Given events / when command / then events or error. No I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest

from domain.errors import RuleViolation
from domain.referral import Referral
from domain.supplier import Supplier
from tests.domain.builders import (
    END,
    MATCHER,
    REFERRED_ON,
    START,
    WORKER,
    a_matched_referral,
    a_referral,
    a_supplier,
    adjust,
    agree_price,
    an_active_referral,
    close,
    extend,
    match,
    package_terms,
    refer,
    refused,
    replay,
    then_events,
)

# -- referred ----------------------------------------------------------------------------------


def test_referring_records_a_referred_event_with_every_field() -> None:
    referral = refer(case_ref="  SAG-1  ", purpose="  Støtte til familien ")

    [referred] = then_events(referral)

    assert isinstance(referred, Referral.Referred)
    assert referred.municipality == "461"
    assert referred.citizen_ref == "PSN-1"
    assert referred.case_ref == "SAG-1"
    assert referred.legal_basis == "BL-30-1-1"
    assert referred.intervention == "consultancy"
    assert referred.purpose == "Støtte til familien"
    assert referred.requested_hours_per_week == Decimal("3.00")
    assert referred.requested_start == START
    assert referred.expected_end == END
    assert referred.referred_on == REFERRED_ON
    assert referred.actor == WORKER
    assert referred.source is None
    assert referral.status == "referred"


def test_referred_event_records_the_recording_time_in_utc_beside_the_business_date() -> None:
    [referred] = then_events(refer())

    assert referred.timestamp.tzinfo is not None
    assert referred.timestamp.utcoffset() == timedelta(0)
    assert referred.referred_on == REFERRED_ON


def test_referral_from_an_integration_records_its_source_system_and_event_id() -> None:
    referral = refer(origin={"system": "DUBU", "event_id": "evt-42"})

    [referred] = then_events(referral)

    assert referred.source == {"system": "DUBU", "event_id": "evt-42"}


def test_case_ref_and_requested_hours_are_optional() -> None:
    [referred] = then_events(refer(case_ref=None, requested_hours_per_week=None))

    assert referred.case_ref is None
    assert referred.requested_hours_per_week is None


def test_a_new_referral_has_no_supplier_no_terms_and_no_commitments() -> None:
    referral = a_referral()

    assert referral.supplier_id is None
    assert referral.start is None
    assert referral.pricing_on(START) is None
    assert referral.monthly_commitments() == {}
    assert referral.committed_total() == Decimal("0.00")


# -- matched -----------------------------------------------------------------------------------


def test_matching_a_referred_referral_records_supplier_reasons_and_candidates() -> None:
    supplier, other = a_supplier(), a_supplier(name="Anden Leverandør", cvr="24256790")
    referral = a_referral()

    match(
        referral,
        supplier,
        criteria=[" family therapy ", "speaks Arabic"],
        candidates=[{"supplier_id": other.id, "hourly_rate": Decimal("790"), "reason": "No capacity"}],
    )

    [matched] = then_events(referral)
    assert isinstance(matched, Referral.Matched)
    assert matched.supplier_id == supplier.id
    assert matched.previous_supplier_id is None
    assert matched.rationale == "Best professional fit at a fair price"
    assert matched.criteria == ["family therapy", "speaks Arabic"]
    assert matched.candidates == [
        {"supplier_id": other.id, "hourly_rate": Decimal("790.00"), "reason": "No capacity"}
    ]
    assert matched.matched_on == date(2026, 1, 5)
    assert matched.actor == MATCHER
    assert referral.status == "matched"
    assert referral.supplier_id == supplier.id


def test_candidates_hourly_rate_is_optional() -> None:
    referral, other = a_referral(), a_supplier(cvr="24256790")

    match(referral, a_supplier(), candidates=[{"supplier_id": other.id, "reason": "Too far away"}])

    [matched] = then_events(referral)
    assert matched.candidates[0]["hourly_rate"] is None


def test_rematching_before_a_price_is_agreed_records_the_previous_supplier() -> None:
    first = a_supplier()
    second = a_supplier(name="Anden Leverandør", cvr="24256790")
    referral, _ = a_matched_referral(first)

    match(referral, second, rationale="The first supplier has no capacity", matched_on=date(2026, 1, 8))

    [rematched] = then_events(referral)
    assert rematched.supplier_id == second.id
    assert rematched.previous_supplier_id == first.id
    assert referral.supplier_id == second.id
    assert referral.previous_supplier_ids == [first.id]
    assert referral.status == "matched"


def test_every_rematch_keeps_the_chain_of_previous_suppliers() -> None:
    first, second, third = a_supplier(), a_supplier(cvr="24256790"), a_supplier(cvr="10150817")
    referral, _ = a_matched_referral(first)

    match(referral, second)
    match(referral, third)

    assert [e.previous_supplier_id for e in then_events(referral)] == [first.id, second.id]
    assert referral.previous_supplier_ids == [first.id, second.id]


def test_rematching_after_the_price_is_agreed_is_rejected() -> None:
    referral, _ = an_active_referral()
    other = a_supplier(cvr="24256790")

    refused(referral, lambda: match(referral, other), RuleViolation, "invalid-state")


def test_price_must_be_agreed_with_the_supplier_of_the_latest_match() -> None:
    first, second = a_supplier(), a_supplier(cvr="24256790")
    referral, _ = a_matched_referral(first)
    match(referral, second)
    referral.collect_events()

    refused(referral, lambda: agree_price(referral, first), RuleViolation, "not-the-matched-supplier")


# -- price agreed ------------------------------------------------------------------------------


def test_agreeing_an_hourly_price_on_a_matched_referral_activates_it() -> None:
    referral, supplier = a_matched_referral()

    agree_price(referral, supplier, rationale="Standard terms")

    [agreed] = then_events(referral)
    assert isinstance(agreed, Referral.PriceAgreed)
    assert agreed.supplier_id == supplier.id
    assert agreed.kind == "hourly"
    assert agreed.hourly_rate == Decimal("850.00")
    assert agreed.hours_per_week == Decimal("3.00")
    assert agreed.daily_rate is None
    assert agreed.package is None
    assert (agreed.start, agreed.end, agreed.agreed_on) == (START, END, date(2026, 1, 10))
    assert agreed.rationale == "Standard terms"
    assert agreed.actor == MATCHER
    assert referral.status == "active"
    assert (referral.start, referral.end) == (START, END)


def test_agreeing_a_daily_price_records_the_daily_rate_only() -> None:
    referral, supplier = a_matched_referral(intervention="respite-stay", legal_basis="BL-32-1-7")

    agree_price(referral, supplier, hourly_rate=None, hours_per_week=None, daily_rate=Decimal("1450.50"))

    [agreed] = then_events(referral)
    assert agreed.kind == "daily"
    assert agreed.daily_rate == Decimal("1450.50")
    assert agreed.hourly_rate is None
    assert agreed.hours_per_week is None


def test_agreeing_a_package_records_its_name_and_price() -> None:
    referral, supplier = a_matched_referral(intervention="network-group", legal_basis="BL-30-1-2")

    agree_price(referral, supplier, **package_terms("12000", name="  Gruppeforløb  "))

    [agreed] = then_events(referral)
    assert agreed.kind == "package"
    assert agreed.package == {"name": "Gruppeforløb", "price": Decimal("12000.00")}
    assert agreed.hourly_rate is None
    assert agreed.daily_rate is None
    assert agreed.list_rate is None


def test_price_agreed_without_rationale_records_none() -> None:
    referral, supplier = a_matched_referral()

    agree_price(referral, supplier, rationale="   ")

    [agreed] = then_events(referral)
    assert agreed.rationale is None


def test_agreeing_a_price_on_a_referred_referral_is_rejected() -> None:
    referral, supplier = a_referral(), a_supplier()

    refused(referral, lambda: agree_price(referral, supplier), RuleViolation, "invalid-state")


def test_agreeing_a_price_twice_is_rejected() -> None:
    referral, supplier = an_active_referral()

    refused(referral, lambda: agree_price(referral, supplier), RuleViolation, "invalid-state")


def test_agreeing_a_price_with_another_supplier_than_the_matched_one_is_rejected() -> None:
    referral, _ = a_matched_referral()
    stranger = a_supplier(cvr="24256790")

    refused(
        referral,
        lambda: agree_price(referral, stranger),
        RuleViolation,
        "not-the-matched-supplier",
        "supplier_id",
    )


def test_agreeing_a_price_without_a_supplier_is_rejected() -> None:
    referral, _ = a_matched_referral()

    refused(referral, lambda: agree_price(referral, None), RuleViolation, "not-the-matched-supplier")


# -- extended ----------------------------------------------------------------------------------


def test_extending_an_active_referral_moves_its_end() -> None:
    referral, _ = an_active_referral()

    extend(referral, new_end=date(2026, 6, 30), hours_per_week=Decimal("4"))

    [extended] = then_events(referral)
    assert isinstance(extended, Referral.Extended)
    assert extended.previous_end == END
    assert extended.new_end == date(2026, 6, 30)
    assert extended.hours_per_week == Decimal("4.00")
    assert extended.package_price is None
    assert extended.rationale == "The family needs more time"
    assert extended.decided_on == date(2026, 3, 20)
    assert extended.actor == WORKER
    assert referral.end == date(2026, 6, 30)
    assert referral.status == "active"


def test_extension_before_price_agreed_is_rejected() -> None:
    referral, _ = a_matched_referral()

    refused(referral, lambda: extend(referral), RuleViolation, "invalid-state")


def test_extension_of_a_referred_referral_is_rejected() -> None:
    referral = a_referral()

    refused(referral, lambda: extend(referral), RuleViolation, "invalid-state")


def test_second_extension_starts_from_the_first_extensions_end() -> None:
    referral, _ = an_active_referral()
    extend(referral, new_end=date(2026, 6, 30))

    extend(referral, new_end=date(2026, 9, 30))

    assert [e.previous_end for e in then_events(referral)] == [END, date(2026, 6, 30)]
    assert referral.end == date(2026, 9, 30)


# -- adjusted ----------------------------------------------------------------------------------


def test_adjusting_an_active_referral_records_the_change_from_its_date() -> None:
    referral, supplier = an_active_referral()

    adjust(referral, supplier, effective_from=date(2026, 2, 1), hours_per_week=Decimal("5"))

    [adjusted] = then_events(referral)
    assert isinstance(adjusted, Referral.Adjusted)
    assert adjusted.effective_from == date(2026, 2, 1)
    assert adjusted.hours_per_week == Decimal("5.00")
    assert adjusted.hourly_rate is None
    assert adjusted.daily_rate is None
    assert adjusted.rationale == "Changed need"
    assert adjusted.decided_on == date(2026, 1, 25)
    assert adjusted.actor == WORKER
    assert (referral.pricing_on(date(2026, 1, 31)) or {}).get("hours_per_week") == Decimal("3.00")
    assert (referral.pricing_on(date(2026, 2, 1)) or {}).get("hours_per_week") == Decimal("5.00")


def test_adjustment_before_price_agreed_is_rejected() -> None:
    referral, supplier = a_matched_referral()

    refused(
        referral,
        lambda: adjust(referral, supplier, hours_per_week=Decimal("5")),
        RuleViolation,
        "invalid-state",
    )


def test_adjustment_of_a_referred_referral_is_rejected() -> None:
    referral = a_referral()

    refused(referral, lambda: adjust(referral, hours_per_week=Decimal("5")), RuleViolation, "invalid-state")


# -- closed ------------------------------------------------------------------------------------


def _given_referred() -> tuple[Referral, Supplier]:
    return a_referral(), a_supplier()


def _given_matched() -> tuple[Referral, Supplier]:
    return a_matched_referral()


def _given_active() -> tuple[Referral, Supplier]:
    return an_active_referral()


Given = Callable[[], tuple[Referral, Supplier]]


@pytest.mark.parametrize(
    "given", [_given_referred, _given_matched, _given_active], ids=["referred", "matched", "active"]
)
def test_a_referral_can_be_closed_at_any_stage(given: Given) -> None:
    referral, _ = given()

    close(referral, closed_on=date(2026, 2, 10), reason="family_declined", rationale="Declined")

    [closed] = then_events(referral)
    assert isinstance(closed, Referral.Closed)
    assert closed.closed_on == date(2026, 2, 10)
    assert closed.reason == "family_declined"
    assert closed.rationale == "Declined"
    assert closed.actor == WORKER
    assert referral.status == "closed"
    assert referral.closed_on == date(2026, 2, 10)
    assert referral.close_reason == "family_declined"


def _documented_close_reasons() -> list[str]:
    """The reasons docs/domain.md lists for ``closed`` (the specification, not the code's list)."""
    text = (Path(__file__).parents[2] / "docs" / "domain.md").read_text(encoding="utf-8")
    listed = re.search(r"`closed` \(reason: ([^)]*)\)", text)
    assert listed is not None, "docs/domain.md lists the close reasons"
    return re.findall(r"`([a-z_]+)`", listed.group(1))


@pytest.mark.parametrize("reason", _documented_close_reasons())
def test_every_documented_close_reason_is_accepted(reason: str) -> None:
    referral = a_referral()

    close(referral, reason=reason)

    assert [e.reason for e in then_events(referral)] == [reason]


def test_closing_after_the_planned_end_is_accepted() -> None:
    referral, _ = an_active_referral()

    close(referral, closed_on=date(2026, 5, 1), reason="planned_end")

    assert [e.closed_on for e in then_events(referral)] == [date(2026, 5, 1)]


def _match_again(referral: Referral, supplier: Supplier) -> None:
    match(referral, a_supplier(cvr="24256790"))


def _agree(referral: Referral, supplier: Supplier) -> None:
    agree_price(referral, supplier)


def _extend(referral: Referral, supplier: Supplier) -> None:
    extend(referral)


def _adjust(referral: Referral, supplier: Supplier) -> None:
    adjust(referral, supplier, hours_per_week=Decimal("5"))


def _close_again(referral: Referral, supplier: Supplier) -> None:
    close(referral, closed_on=date(2026, 3, 1))


CHANGES = [_match_again, _agree, _extend, _adjust, _close_again]
CHANGE_IDS = ["match", "agree_price", "extend", "adjust", "close"]


@pytest.mark.parametrize("command", CHANGES, ids=CHANGE_IDS)
@pytest.mark.parametrize(
    "given", [_given_referred, _given_matched, _given_active], ids=["referred", "matched", "active"]
)
def test_nothing_changes_a_closed_referral(
    given: Given, command: Callable[[Referral, Supplier], None]
) -> None:
    referral, supplier = given()
    close(referral)
    referral.collect_events()

    refused(referral, lambda: command(referral, supplier), RuleViolation, "invalid-state")
    assert referral.status == "closed"


def test_closing_a_closed_referral_is_rejected() -> None:
    referral = a_referral()
    close(referral)

    refused(referral, lambda: close(referral, closed_on=date(2026, 3, 1)), RuleViolation, "invalid-state")
    assert referral.closed_on == date(2026, 2, 10)


# -- the record --------------------------------------------------------------------------------


def test_each_decision_is_a_new_event_and_versions_follow_the_order_of_decisions() -> None:
    supplier = a_supplier()
    referral = refer()
    match(referral, supplier)
    agree_price(referral, supplier)
    adjust(referral, supplier, hourly_rate=Decimal("900"), rationale="New list")
    extend(referral)
    close(referral, closed_on=date(2026, 5, 31))

    events = then_events(referral)

    assert [type(e).__name__ for e in events] == [
        "Referred",
        "Matched",
        "PriceAgreed",
        "Adjusted",
        "Extended",
        "Closed",
    ]
    assert [e.originator_version for e in events] == [1, 2, 3, 4, 5, 6]
    assert {e.originator_id for e in events} == {referral.id}


def test_replaying_the_recorded_events_rebuilds_the_same_referral() -> None:
    supplier = a_supplier()
    referral = refer(referral_id=uuid4())
    match(referral, supplier)
    match(referral, supplier)
    agree_price(referral, supplier)
    adjust(referral, supplier, effective_from=date(2026, 2, 10), hourly_rate=Decimal("900"))
    extend(referral, hours_per_week=Decimal("4"))
    adjust(referral, supplier, effective_from=date(2026, 1, 20), hours_per_week=Decimal("2"))
    close(referral, closed_on=date(2026, 5, 20))

    rebuilt = replay(then_events(referral))

    assert isinstance(rebuilt, Referral)
    assert rebuilt.id == referral.id
    assert rebuilt.version == referral.version
    assert rebuilt.status == "closed"
    assert rebuilt.previous_supplier_ids == [supplier.id]
    assert rebuilt.terms == referral.terms
    assert rebuilt.monthly_commitments() == referral.monthly_commitments()
