"""Business rules on referral commands (docs/domain.md rules 2-5 and 7): a broken rule is a clear error
and nothing is written. Given events / when command / then events or error. No I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.errors import DomainError, InvalidInput, RuleViolation
from domain.referral import Referral
from domain.supplier import Supplier
from tests.domain.builders import (
    END,
    START,
    WORKER,
    a_matched_referral,
    a_referral,
    a_supplier,
    adjust,
    agree_price,
    an_active_referral,
    close,
    daily_rate,
    daily_terms,
    extend,
    hourly_rate,
    match,
    package_terms,
    price_list,
    problem_of,
    refer,
    refused,
    then_events,
)

CPR_WITH_DASH = "010190-1234"
CPR_WITHOUT_DASH = "0101901234"


def matched_daily() -> tuple[Referral, Supplier]:
    """A referral for respite stays, matched: priced by the day."""
    return a_matched_referral(intervention="respite-stay", legal_basis="BL-32-1-7")


def matched_package() -> tuple[Referral, Supplier]:
    """A referral for a network group, matched: priced as a package."""
    return a_matched_referral(intervention="network-group", legal_basis="BL-30-1-2")


def active_daily() -> tuple[Referral, Supplier]:
    return an_active_referral(
        refer_overrides={"intervention": "respite-stay", "legal_basis": "BL-32-1-7"}, **daily_terms()
    )


def active_package() -> tuple[Referral, Supplier]:
    return an_active_referral(
        refer_overrides={"intervention": "network-group", "legal_basis": "BL-30-1-2"}, **package_terms()
    )


# -- rule 2: dates -----------------------------------------------------------------------------


def test_expected_end_before_requested_start_is_rejected() -> None:
    with pytest.raises(InvalidInput) as caught:
        refer(requested_start=date(2026, 3, 1), expected_end=date(2026, 2, 28))

    assert caught.value.problem == "dates-out-of-order"
    assert caught.value.field == "expected_end"


def test_expected_end_on_the_requested_start_is_accepted() -> None:
    [referred] = then_events(refer(requested_start=date(2026, 3, 1), expected_end=date(2026, 3, 1)))

    assert referred.expected_end == referred.requested_start


@pytest.mark.parametrize("field", ["requested_start", "expected_end", "referred_on"])
def test_referral_dates_outside_the_accepted_range_are_rejected(field: str) -> None:
    dates = {"requested_start": START, "expected_end": END, "referred_on": date(2026, 1, 2)}
    dates[field] = date(1899, 12, 31) if field != "expected_end" else date(2300, 1, 1)

    with pytest.raises(InvalidInput) as caught:
        refer(**dates)

    assert caught.value.problem == "date-out-of-range"
    assert caught.value.field == field


def test_an_agreement_of_a_single_day_is_accepted() -> None:
    referral, supplier = a_matched_referral()

    agree_price(referral, supplier, start=date(2026, 2, 1), end=date(2026, 2, 1))

    assert (referral.start, referral.end) == (date(2026, 2, 1), date(2026, 2, 1))


def test_extension_by_a_single_day_is_accepted() -> None:
    referral, _ = an_active_referral()

    extend(referral, new_end=date(2026, 4, 1))

    assert referral.end == date(2026, 4, 1)


def test_extension_must_be_later_than_the_already_extended_end() -> None:
    referral, _ = an_active_referral()
    extend(referral, new_end=date(2026, 6, 30))

    refused(
        referral,
        lambda: extend(referral, new_end=date(2026, 5, 31)),
        RuleViolation,
        "extension-not-later",
        "new_end",
    )


@pytest.mark.parametrize("effective_from", [date(2026, 1, 14), date(2026, 4, 1)], ids=["before", "after"])
def test_adjustment_outside_the_current_period_is_rejected(effective_from: date) -> None:
    referral, supplier = an_active_referral()

    refused(
        referral,
        lambda: adjust(referral, supplier, effective_from=effective_from, hours_per_week=Decimal("5")),
        RuleViolation,
        "adjustment-outside-period",
        "effective_from",
    )


@pytest.mark.parametrize("effective_from", [START, END], ids=["first-day", "last-day"])
def test_adjustment_on_the_first_or_last_day_of_the_period_is_accepted(effective_from: date) -> None:
    referral, supplier = an_active_referral()

    adjust(referral, supplier, effective_from=effective_from, hours_per_week=Decimal("5"))

    assert [e.effective_from for e in then_events(referral)] == [effective_from]


def test_adjustment_within_the_extended_part_of_the_period_is_accepted() -> None:
    referral, supplier = an_active_referral()
    extend(referral, new_end=date(2026, 6, 30))
    referral.collect_events()

    adjust(referral, supplier, effective_from=date(2026, 5, 1), hours_per_week=Decimal("5"))

    assert [e.effective_from for e in then_events(referral)] == [date(2026, 5, 1)]


@pytest.mark.parametrize(
    ("given", "command", "field"),
    [
        ("referred", lambda r, s, on: match(r, s, matched_on=on), "matched_on"),
        ("matched", lambda r, s, on: agree_price(r, s, agreed_on=on), "agreed_on"),
        ("active", lambda r, s, on: extend(r, decided_on=on), "decided_on"),
        ("active", lambda r, s, on: adjust(r, s, decided_on=on, hours_per_week=Decimal("5")), "decided_on"),
        ("active", lambda r, s, on: close(r, closed_on=on), "closed_on"),
    ],
    ids=["match", "agree_price", "extend", "adjust", "close"],
)
def test_a_decision_dated_before_the_referral_is_rejected(
    given: str, command: Callable[[Referral, Supplier, date], None], field: str
) -> None:
    builders: dict[str, Callable[[], tuple[Referral, Supplier]]] = {
        "referred": lambda: (a_referral(), a_supplier()),
        "matched": a_matched_referral,
        "active": an_active_referral,
    }
    referral, supplier = builders[given]()

    refused(
        referral,
        lambda: command(referral, supplier, date(2026, 1, 1)),
        InvalidInput,
        "dates-out-of-order",
        field,
    )


# -- rule 3: exact money -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        ({"hourly_rate": Decimal("850.005")}, "hourly_rate"),
        ({"hours_per_week": Decimal("2.125")}, "hours_per_week"),
    ],
    ids=["hourly_rate", "hours_per_week"],
)
def test_more_than_two_decimals_in_an_hourly_agreement_is_rejected(terms: dict[str, Any], field: str) -> None:
    referral, supplier = a_matched_referral()

    refused(
        referral, lambda: agree_price(referral, supplier, **terms), InvalidInput, "too-many-decimals", field
    )


@pytest.mark.parametrize("amount", ["0", "0.00", "-850.00"])
@pytest.mark.parametrize("field", ["hourly_rate", "hours_per_week"])
def test_non_positive_rate_or_hours_is_rejected(field: str, amount: str) -> None:
    referral, supplier = a_matched_referral()

    refused(
        referral,
        lambda: agree_price(referral, supplier, **{field: Decimal(amount)}),
        InvalidInput,
        "not-positive",
        field,
    )


def test_whole_numbers_are_recorded_as_exact_amounts_with_ore() -> None:
    referral, supplier = a_matched_referral()

    agree_price(referral, supplier, hourly_rate=850, hours_per_week="3")

    [agreed] = then_events(referral)
    assert isinstance(agreed.hourly_rate, Decimal)
    assert str(agreed.hourly_rate) == "850.00"
    assert str(agreed.hours_per_week) == "3.00"


@pytest.mark.parametrize("amount", ["3.125", "0", "-1"])
def test_requested_hours_must_be_exact_and_positive(amount: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        refer(requested_hours_per_week=Decimal(amount))

    assert caught.value.field == "requested_hours_per_week"


def test_candidate_hourly_rate_with_three_decimals_is_rejected() -> None:
    referral, other = a_referral(), a_supplier(cvr="24256790")
    candidates = [{"supplier_id": other.id, "hourly_rate": Decimal("790.125"), "reason": "Too dear"}]

    refused(
        referral,
        lambda: match(referral, a_supplier(), candidates=candidates),
        InvalidInput,
        "too-many-decimals",
        "candidates[0].hourly_rate",
    )


@pytest.mark.parametrize(
    ("change", "problem", "field"),
    [
        ({"hourly_rate": Decimal("900.001")}, "too-many-decimals", "hourly_rate"),
        ({"hours_per_week": Decimal("-2")}, "not-positive", "hours_per_week"),
        ({"hourly_rate": Decimal("0")}, "not-positive", "hourly_rate"),
    ],
)
def test_adjustment_amounts_must_be_exact_and_positive(
    change: dict[str, Any], problem: str, field: str
) -> None:
    referral, supplier = an_active_referral()

    refused(referral, lambda: adjust(referral, supplier, **change), InvalidInput, problem, field)


def test_extension_package_price_must_be_positive() -> None:
    referral, supplier = matched_package()
    agree_price(referral, supplier, **package_terms())

    refused(
        referral,
        lambda: extend(referral, package_price=Decimal("0")),
        InvalidInput,
        "not-positive",
        "package_price",
    )


# -- pricing shapes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "terms", "problem"),
    [
        pytest.param(
            a_matched_referral, {"hours_per_week": None}, "incomplete-hourly-pricing", id="hourly-no-hours"
        ),
        pytest.param(
            a_matched_referral, {"hourly_rate": None}, "incomplete-hourly-pricing", id="hourly-no-rate"
        ),
        pytest.param(
            matched_package,
            package_terms(package_name=None),
            "incomplete-package-pricing",
            id="package-no-name",
        ),
        pytest.param(
            matched_package,
            package_terms(package_price=None),
            "incomplete-package-pricing",
            id="package-no-price",
        ),
    ],
)
def test_hourly_or_package_pricing_needs_both_its_parts(
    given: Callable[[], tuple[Referral, Supplier]], terms: dict[str, Any], problem: str
) -> None:
    referral, supplier = given()

    refused(referral, lambda: agree_price(referral, supplier, **terms), InvalidInput, problem)


@pytest.mark.parametrize(
    ("given", "field"),
    [
        pytest.param(active_daily, "hourly_rate", id="daily-hourly_rate"),
        pytest.param(active_daily, "hours_per_week", id="daily-hours_per_week"),
        pytest.param(active_package, "hourly_rate", id="package-hourly_rate"),
        pytest.param(active_package, "hours_per_week", id="package-hours_per_week"),
        pytest.param(active_package, "daily_rate", id="package-daily_rate"),
    ],
)
def test_adjusting_hourly_terms_of_a_daily_or_any_terms_of_a_package_agreement_is_rejected(
    given: Callable[[], tuple[Referral, Supplier]], field: str
) -> None:
    referral, supplier = given()

    refused(
        referral,
        lambda: adjust(referral, supplier, **{field: Decimal("5")}),
        RuleViolation,
        "pricing-does-not-fit",
        field,
    )


def test_daily_rate_adjustment_of_a_daily_agreement_is_accepted() -> None:
    referral, supplier = active_daily()

    adjust(referral, supplier, daily_rate=Decimal("1600"))

    [adjusted] = then_events(referral)
    assert adjusted.daily_rate == Decimal("1600.00")
    assert adjusted.hourly_rate is None


# -- required text -----------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["citizen_ref", "purpose"])
def test_blank_citizen_ref_or_purpose_is_rejected(field: str) -> None:
    assert problem_of(lambda: refer(**{field: "   "}), InvalidInput) == ("blank-text", field)


def test_blank_actor_id_is_rejected() -> None:
    assert problem_of(lambda: refer(decided_by={"id": " ", "name": "Someone"}), InvalidInput) == (
        "blank-text",
        "actor.id",
    )


def test_match_without_rationale_is_rejected() -> None:
    referral = a_referral()

    refused(referral, lambda: match(referral, a_supplier(), rationale=" "), InvalidInput, "blank-text")


def test_chosen_supplier_listed_among_the_candidates_is_rejected() -> None:
    referral, supplier = a_referral(), a_supplier()
    candidates = [{"supplier_id": supplier.id, "reason": "Also considered"}]

    refused(
        referral,
        lambda: match(referral, supplier, candidates=candidates),
        InvalidInput,
        "chosen-supplier-as-candidate",
        "candidates[0].supplier_id",
    )


def test_candidate_without_a_reason_is_rejected() -> None:
    referral, other = a_referral(), a_supplier(cvr="24256790")

    refused(
        referral,
        lambda: match(referral, a_supplier(), candidates=[{"supplier_id": other.id, "reason": ""}]),
        InvalidInput,
        "blank-text",
        "candidates[0].reason",
    )


@pytest.mark.parametrize(
    "command",
    [
        lambda r, s: extend(r, rationale=" "),
        lambda r, s: adjust(r, s, hours_per_week=Decimal("5"), rationale=""),
        lambda r, s: close(r, rationale="  "),
    ],
    ids=["extend", "adjust", "close"],
)
def test_extension_adjustment_and_closure_need_a_rationale(
    command: Callable[[Referral, Supplier], None],
) -> None:
    referral, supplier = an_active_referral()

    refused(referral, lambda: command(referral, supplier), InvalidInput, "blank-text", "rationale")


def test_closing_with_an_unknown_reason_is_rejected() -> None:
    referral = a_referral()

    refused(referral, lambda: close(referral, reason="bored"), InvalidInput, "invalid-close-reason", "reason")


@pytest.mark.parametrize("code", ["46", "4611", "abc", "４６１"])
def test_municipality_must_be_a_three_digit_code(code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        refer(municipality_code=code)

    assert caught.value.problem == "invalid-municipality"


# -- rule 4: rate above the supplier's list rate -----------------------------------------------


def test_hourly_rate_above_the_list_rate_without_rationale_is_rejected() -> None:
    supplier = price_list(a_supplier(), rates=[hourly_rate("800.00")])
    referral, _ = a_matched_referral(supplier)

    error = refused(
        referral,
        lambda: agree_price(referral, supplier, hourly_rate=Decimal("850.00"), rationale=None),
        RuleViolation,
        "rationale-required-above-list-rate",
        "rationale",
    )
    assert "800.00" in error.detail


def test_hourly_rate_above_the_list_rate_with_blank_rationale_is_rejected() -> None:
    supplier = price_list(a_supplier(), rates=[hourly_rate("800.00")])
    referral, _ = a_matched_referral(supplier)

    refused(
        referral,
        lambda: agree_price(referral, supplier, hourly_rate=Decimal("850.00"), rationale="   "),
        RuleViolation,
        "rationale-required-above-list-rate",
    )


def test_hourly_rate_above_the_list_rate_with_rationale_records_the_list_rate() -> None:
    supplier = price_list(a_supplier(), rates=[hourly_rate("800.00")], negotiated_on=date(2025, 11, 3))
    referral, _ = a_matched_referral(supplier)

    agree_price(
        referral, supplier, hourly_rate=Decimal("850.00"), rationale="Only supplier speaking Tigrinya"
    )

    [agreed] = then_events(referral)
    assert agreed.list_rate == Decimal("800.00")
    assert agreed.list_negotiated_on == date(2025, 11, 3)
    assert agreed.above_list_rate is True
    assert agreed.rationale == "Only supplier speaking Tigrinya"
    assert referral.list_rate == Decimal("800.00")


@pytest.mark.parametrize("rate", ["800.00", "799.99"], ids=["equal", "below"])
def test_hourly_rate_at_or_below_the_list_rate_needs_no_rationale(rate: str) -> None:
    supplier = price_list(a_supplier(), rates=[hourly_rate("800.00")])
    referral, _ = a_matched_referral(supplier)

    agree_price(referral, supplier, hourly_rate=Decimal(rate), rationale=None)

    [agreed] = then_events(referral)
    assert agreed.list_rate == Decimal("800.00")
    assert agreed.above_list_rate is False


def test_daily_rate_above_the_list_rate_without_rationale_is_rejected() -> None:
    supplier = price_list(a_supplier(), rates=[daily_rate("1400.00")])
    referral, _ = a_matched_referral(supplier, intervention="respite-stay", legal_basis="BL-32-1-7")

    refused(
        referral,
        lambda: agree_price(referral, supplier, **daily_terms("1400.01")),
        RuleViolation,
        "rationale-required-above-list-rate",
        "rationale",
    )


def test_daily_rate_above_the_list_rate_with_rationale_records_the_list_rate() -> None:
    supplier = price_list(a_supplier(), rates=[daily_rate("1400.00")])
    referral, _ = a_matched_referral(supplier, intervention="respite-stay", legal_basis="BL-32-1-7")

    agree_price(referral, supplier, **daily_terms("1500.00"), rationale="Weekend stays cost more")

    [agreed] = then_events(referral)
    assert (agreed.list_rate, agreed.above_list_rate) == (Decimal("1400.00"), True)


def test_without_a_list_rate_no_rationale_is_needed_and_none_is_recorded() -> None:
    referral, supplier = a_matched_referral()

    agree_price(referral, supplier, hourly_rate=Decimal("5000.00"), rationale=None)

    [agreed] = then_events(referral)
    assert agreed.list_rate is None
    assert agreed.list_negotiated_on is None
    assert agreed.above_list_rate is False


def test_a_daily_list_rate_does_not_count_for_an_hourly_agreement() -> None:
    supplier = price_list(a_supplier(), rates=[daily_rate("100.00", intervention="consultancy")])
    referral, _ = a_matched_referral(supplier)

    agree_price(referral, supplier, hourly_rate=Decimal("850.00"), rationale=None)

    assert [e.list_rate for e in then_events(referral)] == [None]


def test_another_municipalitys_list_rate_does_not_count() -> None:
    supplier = price_list(a_supplier(), rates=[hourly_rate("500.00")], municipality_code="101")
    referral, _ = a_matched_referral(supplier)

    agree_price(referral, supplier, rationale=None)

    assert [e.list_rate for e in then_events(referral)] == [None]


def test_another_interventions_list_rate_does_not_count() -> None:
    supplier = price_list(a_supplier(), rates=[hourly_rate("500.00", intervention="home-support")])
    referral, _ = a_matched_referral(supplier)

    agree_price(referral, supplier, rationale=None)

    assert [e.list_rate for e in then_events(referral)] == [None]


def test_the_list_rate_is_the_one_valid_on_the_agreements_start() -> None:
    supplier = price_list(a_supplier(), rates=[hourly_rate("800.00")], valid_from=date(2025, 1, 1))
    price_list(supplier, rates=[hourly_rate("900.00")], valid_from=date(2026, 2, 1))
    referral, _ = a_matched_referral(supplier)

    refused(
        referral,
        lambda: agree_price(referral, supplier, hourly_rate=Decimal("850.00"), start=date(2026, 1, 15)),
        RuleViolation,
        "rationale-required-above-list-rate",
    )
    agree_price(referral, supplier, hourly_rate=Decimal("850.00"), start=date(2026, 2, 1), end=END)
    assert [(e.list_rate, e.above_list_rate) for e in then_events(referral)] == [(Decimal("900.00"), False)]


def test_a_list_that_expired_before_the_start_does_not_count() -> None:
    supplier = price_list(
        a_supplier(), rates=[hourly_rate("500.00")], valid_from=date(2025, 1, 1), valid_to=date(2026, 1, 14)
    )
    referral, _ = a_matched_referral(supplier)

    agree_price(referral, supplier, start=date(2026, 1, 15), rationale=None)

    assert [e.list_rate for e in then_events(referral)] == [None]


def test_adjusted_rate_records_the_list_rate_valid_on_its_effective_date() -> None:
    supplier = price_list(a_supplier(), rates=[hourly_rate("800.00")])
    referral, _ = an_active_referral(supplier, hourly_rate=Decimal("800.00"))

    adjust(referral, supplier, effective_from=date(2026, 3, 1), hourly_rate=Decimal("880.00"))

    [adjusted] = then_events(referral)
    assert (adjusted.list_rate, adjusted.above_list_rate) == (Decimal("800.00"), True)
    assert adjusted.rationale == "Changed need"


def test_adjusted_hours_only_records_no_list_rate() -> None:
    supplier = price_list(a_supplier(), rates=[hourly_rate("800.00")])
    referral, _ = an_active_referral(supplier, hourly_rate=Decimal("800.00"))

    adjust(referral, supplier, hours_per_week=Decimal("5"))

    [adjusted] = then_events(referral)
    assert (adjusted.list_rate, adjusted.above_list_rate) == (None, False)


# -- rule 5: legal basis × intervention × validity ---------------------------------------------

SEL_SECTIONS = [
    ("SEL-11-3", "consultancy"),
    ("SEL-52-3-2", "home-support"),
    ("SEL-52-3-3", "family-treatment"),
    ("SEL-52-3-5", "respite-stay"),
    ("SEL-52-3-7", "placement"),
    ("SEL-54", "parent-support-person"),
]
BARNETS_LOV = [
    ("BL-30-1-1", "consultancy"),
    ("BL-30-1-2", "network-group"),
    ("BL-32-1-2", "home-support"),
    ("BL-32-1-5", "family-treatment"),
    ("BL-32-1-7", "respite-stay"),
    ("BL-46", "placement"),
    ("BL-75", "parent-support-person"),
]


LAST_DAY_OF_SEL, FIRST_DAY_OF_BL = date(2023, 12, 31), date(2024, 1, 1)
IN_FORCE = [(*section, LAST_DAY_OF_SEL) for section in SEL_SECTIONS] + [
    (*section, FIRST_DAY_OF_BL) for section in BARNETS_LOV
]
OUT_OF_FORCE = [(*section, FIRST_DAY_OF_BL) for section in SEL_SECTIONS] + [
    (*section, LAST_DAY_OF_SEL) for section in BARNETS_LOV
]


def refer_starting(legal_basis: str, intervention: str, requested_start: date) -> Referral:
    """A referral under ``legal_basis``, filed in December 2023, from ``requested_start`` to mid-2024."""
    return refer(
        legal_basis=legal_basis,
        intervention=intervention,
        referred_on=date(2023, 12, 1),
        requested_start=requested_start,
        expected_end=date(2024, 6, 30),
    )


@pytest.mark.parametrize(("legal_basis", "intervention", "requested_start"), IN_FORCE)
def test_serviceloven_sections_until_2024_and_barnets_lov_from_2024_are_valid(
    legal_basis: str, intervention: str, requested_start: date
) -> None:
    [referred] = then_events(refer_starting(legal_basis, intervention, requested_start))

    assert referred.legal_basis == legal_basis


@pytest.mark.parametrize(("legal_basis", "intervention", "requested_start"), OUT_OF_FORCE)
def test_serviceloven_sections_from_2024_and_barnets_lov_before_2024_are_rejected(
    legal_basis: str, intervention: str, requested_start: date
) -> None:
    with pytest.raises(RuleViolation) as caught:
        refer_starting(legal_basis, intervention, requested_start)

    assert (caught.value.problem, caught.value.field) == ("legal-basis-not-valid", "legal_basis")
    if legal_basis.startswith("SEL-"):
        assert "BL-" in caught.value.detail  # points to the Barnets lov successor


def test_the_legal_basis_is_checked_on_the_requested_start_not_the_referral_date() -> None:
    with pytest.raises(RuleViolation) as caught:
        refer(
            legal_basis="SEL-52-3-3",
            intervention="family-treatment",
            referred_on=date(2023, 12, 15),
            requested_start=date(2024, 1, 2),
            expected_end=date(2024, 6, 30),
        )

    assert caught.value.problem == "legal-basis-not-valid"


def test_sections_still_in_serviceloven_stay_valid_after_2023() -> None:
    [referred] = then_events(refer(legal_basis="SEL-85", intervention="socio-pedagogical-support"))

    assert referred.legal_basis == "SEL-85"


@pytest.mark.parametrize(
    ("legal_basis", "intervention"),
    [("BL-30-1-1", "placement"), ("BL-46", "consultancy"), ("BL-32-1-7", "family-treatment")],
)
def test_intervention_not_allowed_under_the_legal_basis_is_rejected(
    legal_basis: str, intervention: str
) -> None:
    assert problem_of(lambda: refer(legal_basis=legal_basis, intervention=intervention), RuleViolation) == (
        "intervention-not-allowed",
        "intervention",
    )


def test_unknown_legal_basis_is_rejected() -> None:
    assert problem_of(lambda: refer(legal_basis="BL-999"), InvalidInput) == (
        "unknown-legal-basis",
        "legal_basis",
    )


def test_unknown_intervention_is_rejected() -> None:
    assert problem_of(lambda: refer(intervention="astrology"), InvalidInput) == (
        "unknown-intervention",
        "intervention",
    )


# -- rule 7: no CPR numbers in any text field --------------------------------------------------


@pytest.mark.parametrize("cpr", [CPR_WITH_DASH, CPR_WITHOUT_DASH], ids=["dash", "no-dash"])
@pytest.mark.parametrize("field", ["citizen_ref", "case_ref", "purpose"])
def test_cpr_number_in_referral_text_is_rejected(field: str, cpr: str) -> None:
    assert problem_of(lambda: refer(**{field: f"Barn {cpr} i familien"}), InvalidInput) == (
        "cpr-number-in-text",
        field,
    )


@pytest.mark.parametrize("cpr", [CPR_WITH_DASH, CPR_WITHOUT_DASH], ids=["dash", "no-dash"])
def test_cpr_number_as_the_whole_citizen_ref_is_rejected(cpr: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        refer(citizen_ref=cpr)

    assert caught.value.problem == "cpr-number-in-text"


def test_cpr_number_in_the_actor_name_is_rejected() -> None:
    assert problem_of(
        lambda: refer(decided_by={"id": "sw1", "name": f"Sofie {CPR_WITH_DASH}"}), InvalidInput
    ) == ("cpr-number-in-text", "actor.name")


@pytest.mark.parametrize("cpr", [CPR_WITH_DASH, CPR_WITHOUT_DASH], ids=["dash", "no-dash"])
@pytest.mark.parametrize(
    ("text", "field"),
    [
        (lambda cpr, other: {"rationale": f"Fits {cpr}"}, "rationale"),
        (lambda cpr, other: {"criteria": ["fit", f"knows {cpr}"]}, "criteria[1]"),
        (
            lambda cpr, other: {"candidates": [{"supplier_id": other, "reason": f"Knows {cpr} privately"}]},
            "candidates[0].reason",
        ),
    ],
    ids=["rationale", "criteria", "candidate-reason"],
)
def test_cpr_number_in_match_text_is_rejected(
    text: Callable[[str, Any], dict[str, Any]], field: str, cpr: str
) -> None:
    referral, other = a_referral(), a_supplier(cvr="24256790")

    refused(
        referral,
        lambda: match(referral, a_supplier(), **text(cpr, other.id)),
        InvalidInput,
        "cpr-number-in-text",
        field,
    )


@pytest.mark.parametrize("cpr", [CPR_WITH_DASH, CPR_WITHOUT_DASH], ids=["dash", "no-dash"])
def test_cpr_number_in_price_rationale_is_rejected(cpr: str) -> None:
    referral, supplier = a_matched_referral()

    refused(
        referral,
        lambda: agree_price(referral, supplier, rationale=f"Child {cpr}"),
        InvalidInput,
        "cpr-number-in-text",
        "rationale",
    )


@pytest.mark.parametrize("cpr", [CPR_WITH_DASH, CPR_WITHOUT_DASH], ids=["dash", "no-dash"])
@pytest.mark.parametrize(
    "command",
    [
        lambda r, s, text: extend(r, rationale=text),
        lambda r, s, text: adjust(r, s, hours_per_week=Decimal("5"), rationale=text),
        lambda r, s, text: close(r, rationale=text),
    ],
    ids=["extend", "adjust", "close"],
)
def test_cpr_number_in_a_decisions_rationale_is_rejected(
    command: Callable[[Referral, Supplier, str], None], cpr: str
) -> None:
    referral, supplier = an_active_referral()

    refused(
        referral,
        lambda: command(referral, supplier, f"Mother ({cpr}) asked for it"),
        InvalidInput,
        "cpr-number-in-text",
        "rationale",
    )


@pytest.mark.parametrize(
    "text",
    [
        "Ring på 66131372",  # an 8-digit phone number
        "Leverandør CVR 12345674",
        "Sag 320190-1234",  # day 32 is not a date
        "Sag 011390-1234",  # month 13 is not a date
        "Journal 2902011234",  # 29 February 2001 did not exist
        "Reference 12345678901234",  # a longer number
    ],
)
def test_numbers_that_are_not_cpr_like_are_accepted_in_text(text: str) -> None:
    [referred] = then_events(refer(purpose=text, citizen_ref=f"PSN {text}"))

    assert referred.purpose == text


def test_adjustment_looked_up_with_another_supplier_is_rejected() -> None:
    referral, _ = an_active_referral()
    other = a_supplier(name="Andet Hus ApS", cvr="87654303")

    refused(
        referral,
        lambda: adjust(referral, other, effective_from=START, hourly_rate=Decimal("900.00")),
        RuleViolation,
        "not-the-matched-supplier",
        "supplier_id",
    )


# -- one command, one broken rule -------------------------------------------------------------
# Each row: given a referral (and its supplier), the command is refused with the error, the problem
# and the field, and nothing is recorded. The ids are the names these cases had as separate tests.


def refusal(
    name: str,
    given: Callable[[], tuple[Referral, Supplier]],
    command: Callable[[Referral, Supplier], object],
    outcome: tuple[type[DomainError], str, str | None],
) -> Any:
    """One row: ``outcome`` is ``(error, problem, field)``; ``name`` is the test the row used to be."""
    return pytest.param(given, command, *outcome, id=name)


# fmt: off
SINGLE_REFUSALS = [
    refusal("agreed_end_before_start_is_rejected", a_matched_referral, lambda r, s: agree_price(r, s, start=date(2026, 2, 1), end=date(2026, 1, 31)), (InvalidInput, "dates-out-of-order", "end")),
    refusal("extension_to_the_current_end_is_rejected", an_active_referral, lambda r, _: extend(r, new_end=END), (RuleViolation, "extension-not-later", "new_end")),
    refusal("extension_to_an_earlier_end_is_rejected", an_active_referral, lambda r, _: extend(r, new_end=date(2026, 3, 1)), (RuleViolation, "extension-not-later", "new_end")),
    refusal("more_than_two_decimals_in_a_daily_rate_is_rejected", matched_daily, lambda r, s: agree_price(r, s, **daily_terms("1450.001")), (InvalidInput, "too-many-decimals", "daily_rate")),
    refusal("more_than_two_decimals_in_a_package_price_is_rejected", matched_package, lambda r, s: agree_price(r, s, **package_terms("12000.999")), (InvalidInput, "too-many-decimals", "package.price")),
    refusal("non_positive_daily_rate_is_rejected", matched_daily, lambda r, s: agree_price(r, s, **daily_terms("0.00")), (InvalidInput, "not-positive", "daily_rate")),
    refusal("non_positive_package_price_is_rejected", matched_package, lambda r, s: agree_price(r, s, **package_terms("-1")), (InvalidInput, "not-positive", "package.price")),
    refusal("more_hours_than_a_week_has_is_rejected", a_matched_referral, lambda r, s: agree_price(r, s, hours_per_week=Decimal("168.01")), (InvalidInput, "out-of-range", "hours_per_week")),
    refusal("extension_hours_must_be_exact", an_active_referral, lambda r, _: extend(r, hours_per_week=Decimal("4.001")), (InvalidInput, "too-many-decimals", "hours_per_week")),
    refusal("agreement_without_any_pricing_is_rejected", a_matched_referral, lambda r, s: agree_price(r, s, hourly_rate=None, hours_per_week=None), (InvalidInput, "one-pricing-required", None)),
    refusal("agreement_with_both_hourly_and_daily_pricing_is_rejected", a_matched_referral, lambda r, s: agree_price(r, s, daily_rate=Decimal("1500")), (InvalidInput, "one-pricing-required", None)),
    refusal("agreement_with_both_hourly_pricing_and_a_package_is_rejected", a_matched_referral, lambda r, s: agree_price(r, s, package_name="Forløb", package_price=Decimal("9000")), (InvalidInput, "one-pricing-required", None)),
    refusal("extension_hours_on_a_daily_agreement_are_rejected", active_daily, lambda r, _: extend(r, hours_per_week=Decimal("4")), (RuleViolation, "pricing-does-not-fit", "hours_per_week")),
    refusal("extension_of_a_package_agreement_without_its_own_package_price_is_rejected", active_package, lambda r, _: extend(r), (RuleViolation, "package-price-required", "package_price")),
    refusal("extension_package_price_on_an_hourly_agreement_is_rejected", an_active_referral, lambda r, _: extend(r, package_price=Decimal("9000")), (RuleViolation, "pricing-does-not-fit", "package_price")),
    refusal("adjustment_without_any_change_is_rejected", an_active_referral, adjust, (InvalidInput, "nothing-to-adjust", None)),
    refusal("daily_rate_adjustment_of_an_hourly_agreement_is_rejected", an_active_referral, lambda r, s: adjust(r, s, daily_rate=Decimal("1500")), (RuleViolation, "pricing-does-not-fit", "daily_rate")),
    refusal("cpr_number_in_package_name_is_rejected", matched_package, lambda r, s: agree_price(r, s, **package_terms(name=f"Forløb {CPR_WITHOUT_DASH}")), (InvalidInput, "cpr-number-in-text", "package.name")),
    refusal("floating_point_amounts_are_refused_by_the_domain", an_active_referral, lambda r, s: adjust(r, s, effective_from=START, hours_per_week=5.5), (InvalidInput, "inexact-amount", "hours_per_week")),
    refusal("cpr_number_in_an_integration_source_is_rejected", an_active_referral, lambda r, _: r.close(closed_on=END, reason="planned_end", rationale="Forløbet er slut", decided_by=WORKER, origin={"system": "sag", "event_id": "ev-010190-1234"}), (InvalidInput, "cpr-number-in-text", "source.event_id")),
]
# fmt: on


@pytest.mark.parametrize(("given", "command", "error", "problem", "field"), SINGLE_REFUSALS)
def test_a_command_breaking_a_rule_is_refused(
    given: Callable[[], tuple[Referral, Supplier]],
    command: Callable[[Referral, Supplier], object],
    error: type[DomainError],
    problem: str,
    field: str | None,
) -> None:
    referral, supplier = given()

    refused(referral, lambda: command(referral, supplier), error, problem, field)
