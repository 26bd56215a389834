"""The Supplier aggregate: registration, details and per-municipality price lists (docs/domain.md
"Supplier", rules 3, 6 and 7). Given events / when command / then events or error. No I/O.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from domain.errors import InvalidInput
from domain.supplier import ListRate, Supplier
from tests.domain.builders import (
    MATCHER,
    a_supplier,
    daily_rate,
    hourly_rate,
    price_list,
    problem_of,
    refused,
    replay,
    then_events,
)

CPR_WITH_DASH = "010190-1234"
CPR_WITHOUT_DASH = "0101901234"
PACKAGE = {"name": "Forløb 20 timer", "intervention": "consultancy", "price": Decimal("15000"), "hours": 20}


def register(**overrides: Any) -> Supplier:
    arguments: dict[str, Any] = {
        "supplier_id": uuid4(),
        "name": "Familiehuset ApS",
        "cvr": "12345674",
        "contact": {"name": "Hanne Hansen", "email": "hh@familiehuset.dk", "phone": "66131372"},
        "target_groups": ["0-17 years"],
        "competencies": ["family therapy"],
        "education_levels": ["social worker"],
        "decided_by": MATCHER,
    }
    arguments.update(overrides)
    return Supplier.register(**arguments)


def negotiate(supplier: Supplier, **overrides: Any) -> None:
    arguments: dict[str, Any] = {
        "municipality_code": "461",
        "negotiated_on": date(2025, 12, 1),
        "valid_from": date(2026, 1, 1),
        "valid_to": None,
        "rates": [hourly_rate("800.00")],
        "packages": [],
        "note": None,
        "decided_by": MATCHER,
    }
    arguments.update(overrides)
    supplier.negotiate_price_list(**arguments)


# -- registered --------------------------------------------------------------------------------


def test_registering_records_every_detail_trimmed_and_deduplicated() -> None:
    supplier = register(
        name="  Familiehuset ApS ",
        contact={"name": " Hanne ", "email": "", "phone": "66131372", "address": None},
        target_groups=["0-17 years", " 0-17 years ", "families"],
        competencies=["family therapy"],
        education_levels=["psychologist", "social worker"],
    )

    [registered] = then_events(supplier)

    assert isinstance(registered, Supplier.Registered)
    assert registered.name == "Familiehuset ApS"
    assert registered.cvr == "12345674"
    assert registered.contact == {"name": "Hanne", "phone": "66131372"}
    assert registered.target_groups == ["0-17 years", "families"]
    assert registered.competencies == ["family therapy"]
    assert registered.education_levels == ["psychologist", "social worker"]
    assert registered.actor == MATCHER
    assert supplier.price_lists == []


@pytest.mark.parametrize("cvr", ["12345678", "1234567", "123456740", "1234567A", "", "12 45674"])
def test_invalid_cvr_number_is_rejected(cvr: str) -> None:
    assert problem_of(lambda: register(cvr=cvr), InvalidInput) == ("invalid-cvr", "cvr")


@pytest.mark.parametrize("cvr", ["12345674", "24256790", "10150817"])
def test_cvr_numbers_passing_modulus_11_are_accepted(cvr: str) -> None:
    [registered] = then_events(register(cvr=cvr))

    assert registered.cvr == cvr


def test_blank_supplier_name_is_rejected() -> None:
    assert problem_of(lambda: register(name="  "), InvalidInput) == ("blank-text", "name")


def test_unknown_contact_field_is_rejected() -> None:
    assert problem_of(lambda: register(contact={"name": "Hanne", "fax": "66131373"}), InvalidInput) == (
        "unknown-field",
        "contact",
    )


def test_blank_label_in_a_list_is_rejected() -> None:
    assert problem_of(lambda: register(competencies=["family therapy", " "]), InvalidInput) == (
        "blank-text",
        "competencies[1]",
    )


@pytest.mark.parametrize("cpr", [CPR_WITH_DASH, CPR_WITHOUT_DASH], ids=["dash", "no-dash"])
@pytest.mark.parametrize(
    ("details", "field"),
    [
        (lambda cpr: {"name": f"Hanne Hansen {cpr}"}, "name"),
        (lambda cpr: {"contact": {"name": f"Hanne {cpr}"}}, "contact.name"),
        (lambda cpr: {"contact": {"phone": cpr}}, "contact.phone"),
        (lambda cpr: {"contact": {"address": f"Vej 1, {cpr}"}}, "contact.address"),
        (lambda cpr: {"contact": {"email": f"{cpr}@mail.dk"}}, "contact.email"),
        (lambda cpr: {"target_groups": ["0-17", cpr]}, "target_groups[1]"),
        (lambda cpr: {"competencies": [f"trained {cpr}"]}, "competencies[0]"),
        (lambda cpr: {"education_levels": [f"{cpr}"]}, "education_levels[0]"),
        (lambda cpr: {"decided_by": {"id": "m1", "name": cpr}}, "actor.name"),
    ],
    ids=[
        "name",
        "contact-name",
        "contact-phone",
        "contact-address",
        "contact-email",
        "target-groups",
        "competencies",
        "education-levels",
        "actor",
    ],
)
def test_cpr_number_in_supplier_details_is_rejected(details: Any, field: str, cpr: str) -> None:
    assert problem_of(lambda: register(**details(cpr)), InvalidInput) == ("cpr-number-in-text", field)


@pytest.mark.parametrize("phone", ["66131372", "+45 66 13 13 72", "+4566131372", "66 13 13 72"])
def test_ordinary_phone_numbers_are_not_taken_for_cpr_numbers(phone: str) -> None:
    [registered] = then_events(register(contact={"phone": phone}))

    assert registered.contact == {"phone": phone}


def test_a_cvr_number_in_the_name_is_not_taken_for_a_cpr_number() -> None:
    [registered] = then_events(register(name="Familiehuset ApS (CVR 12345674)"))

    assert registered.name == "Familiehuset ApS (CVR 12345674)"


# -- details updated ---------------------------------------------------------------------------


def test_updating_details_records_only_the_changes() -> None:
    supplier = a_supplier()

    supplier.update_details(
        changes={"name": " Familiehuset A/S ", "competencies": ["family therapy", "PMTO"]}, decided_by=MATCHER
    )

    [updated] = then_events(supplier)
    assert isinstance(updated, Supplier.DetailsUpdated)
    assert updated.changes == {"name": "Familiehuset A/S", "competencies": ["family therapy", "PMTO"]}
    assert supplier.name == "Familiehuset A/S"
    assert supplier.competencies == ["family therapy", "PMTO"]
    assert supplier.cvr == "12345674"


@pytest.mark.parametrize(
    ("changes", "problem", "field"),
    [
        pytest.param({"cvr": "24256790"}, "cvr-immutable", "cvr", id="the_cvr_number_cannot_be_changed"),
        pytest.param({}, "nothing-to-change", None, id="an_update_without_changes_is_rejected"),
        pytest.param(
            {"rating": "5"}, "unknown-field", "rating", id="an_update_of_an_unknown_detail_is_rejected"
        ),
    ],
)
def test_an_invalid_update_of_the_details_is_refused(
    changes: dict[str, Any], problem: str, field: str | None
) -> None:
    supplier = a_supplier()

    refused(
        supplier,
        lambda: supplier.update_details(changes=changes, decided_by=MATCHER),
        InvalidInput,
        problem,
        field,
    )
    assert supplier.cvr == "12345674"


@pytest.mark.parametrize("cpr", [CPR_WITH_DASH, CPR_WITHOUT_DASH], ids=["dash", "no-dash"])
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (lambda cpr: {"name": f"Hanne {cpr}"}, "name"),
        (lambda cpr: {"contact": {"phone": cpr}}, "contact.phone"),
        (lambda cpr: {"target_groups": [cpr]}, "target_groups[0]"),
    ],
    ids=["name", "contact", "target_groups"],
)
def test_cpr_number_in_updated_details_is_rejected(changes: Any, field: str, cpr: str) -> None:
    supplier = a_supplier()

    refused(
        supplier,
        lambda: supplier.update_details(changes=changes(cpr), decided_by=MATCHER),
        InvalidInput,
        "cpr-number-in-text",
        field,
    )


# -- price list negotiated ---------------------------------------------------------------------


def test_negotiating_a_price_list_records_rates_packages_and_dates() -> None:
    supplier = a_supplier()

    negotiate(
        supplier,
        valid_to=date(2026, 12, 31),
        rates=[hourly_rate("800"), daily_rate("1400.50")],
        packages=[PACKAGE],
        note="  Index-regulated yearly ",
    )

    [negotiated] = then_events(supplier)
    assert isinstance(negotiated, Supplier.PriceListNegotiated)
    assert negotiated.municipality == "461"
    assert negotiated.negotiated_on == date(2025, 12, 1)
    assert (negotiated.valid_from, negotiated.valid_to) == (date(2026, 1, 1), date(2026, 12, 31))
    assert negotiated.rates == [
        {"intervention": "consultancy", "unit": "hour", "rate": Decimal("800.00")},
        {"intervention": "respite-stay", "unit": "day", "rate": Decimal("1400.50")},
    ]
    assert negotiated.packages == [
        {"name": "Forløb 20 timer", "intervention": "consultancy", "price": Decimal("15000.00"), "hours": 20}
    ]
    assert negotiated.note == "Index-regulated yearly"
    assert supplier.municipalities() == ["461"]


def test_a_price_list_with_only_packages_is_accepted() -> None:
    supplier = a_supplier()

    negotiate(supplier, rates=[], packages=[PACKAGE])

    assert len(then_events(supplier)) == 1


def test_an_empty_price_list_is_rejected() -> None:
    supplier = a_supplier()

    refused(supplier, lambda: negotiate(supplier, rates=[], packages=[]), InvalidInput, "empty-price-list")


def test_price_list_valid_to_before_valid_from_is_rejected() -> None:
    supplier = a_supplier()

    refused(
        supplier,
        lambda: negotiate(supplier, valid_from=date(2026, 1, 1), valid_to=date(2025, 12, 31)),
        InvalidInput,
        "dates-out-of-order",
        "valid_to",
    )


def test_price_list_valid_for_a_single_day_is_accepted() -> None:
    supplier = a_supplier()

    negotiate(supplier, valid_from=date(2026, 1, 1), valid_to=date(2026, 1, 1))

    assert supplier.list_rate("461", "consultancy", "hour", date(2026, 1, 1)) is not None
    assert supplier.list_rate("461", "consultancy", "hour", date(2026, 1, 2)) is None


@pytest.mark.parametrize(
    ("rates", "problem", "field"),
    [
        ([hourly_rate("800.005")], "too-many-decimals", "rates[0].rate"),
        ([hourly_rate("0")], "not-positive", "rates[0].rate"),
        ([hourly_rate("-800")], "not-positive", "rates[0].rate"),
        (
            [{"intervention": "consultancy", "unit": "week", "rate": Decimal("1")}],
            "invalid-unit",
            "rates[0].unit",
        ),
        ([hourly_rate("800"), hourly_rate("810")], "duplicate-rate", "rates[1]"),
        ([hourly_rate("800", intervention="astrology")], "unknown-intervention", "rates[0].intervention"),
    ],
    ids=["three-decimals", "zero", "negative", "unit", "duplicate", "intervention"],
)
def test_invalid_rates_are_rejected(rates: list[dict[str, Any]], problem: str, field: str) -> None:
    supplier = a_supplier()

    refused(supplier, lambda: negotiate(supplier, rates=rates), InvalidInput, problem, field)


@pytest.mark.parametrize(
    ("change", "problem", "field"),
    [
        ({"price": Decimal("15000.001")}, "too-many-decimals", "packages[0].price"),
        ({"price": Decimal("0")}, "not-positive", "packages[0].price"),
        ({"hours": Decimal("-1")}, "not-positive", "packages[0].hours"),
        ({"name": " "}, "blank-text", "packages[0].name"),
    ],
    ids=["three-decimals", "zero-price", "negative-hours", "blank-name"],
)
def test_invalid_packages_are_rejected(change: dict[str, Any], problem: str, field: str) -> None:
    supplier = a_supplier()

    refused(
        supplier, lambda: negotiate(supplier, packages=[{**PACKAGE, **change}]), InvalidInput, problem, field
    )


def test_a_repeated_package_name_is_rejected() -> None:
    supplier = a_supplier()

    refused(
        supplier,
        lambda: negotiate(supplier, packages=[PACKAGE, {**PACKAGE, "price": Decimal("1")}]),
        InvalidInput,
        "duplicate-package",
        "packages[1].name",
    )


def test_price_list_for_an_invalid_municipality_code_is_rejected() -> None:
    supplier = a_supplier()

    refused(
        supplier,
        lambda: negotiate(supplier, municipality_code="Odense"),
        InvalidInput,
        "invalid-municipality",
    )


@pytest.mark.parametrize("cpr", [CPR_WITH_DASH, CPR_WITHOUT_DASH], ids=["dash", "no-dash"])
def test_cpr_number_in_price_list_note_is_rejected(cpr: str) -> None:
    supplier = a_supplier()

    refused(
        supplier,
        lambda: negotiate(supplier, note=f"Agreed for child {cpr}"),
        InvalidInput,
        "cpr-number-in-text",
        "note",
    )


def test_cpr_number_in_package_name_of_a_price_list_is_rejected() -> None:
    supplier = a_supplier()

    refused(
        supplier,
        lambda: negotiate(supplier, packages=[{**PACKAGE, "name": f"Forløb {CPR_WITH_DASH}"}]),
        InvalidInput,
        "cpr-number-in-text",
        "packages[0].name",
    )


# -- which list rate is in force ---------------------------------------------------------------


def rate_on(
    supplier: Supplier,
    on: date,
    *,
    municipality: str = "461",
    intervention: str = "consultancy",
    unit: str = "hour",
) -> Decimal | None:
    """The list rate in force on ``on`` (consultancy per hour in Odense unless told)."""
    found = supplier.list_rate(municipality, intervention, unit, on)
    return found.rate if found else None


def test_no_list_rate_before_any_list_is_valid() -> None:
    supplier = price_list(a_supplier(), rates=[hourly_rate("800.00")], valid_from=date(2026, 1, 1))

    assert supplier.list_rate("461", "consultancy", "hour", date(2025, 12, 31)) is None


def test_the_list_rate_records_its_negotiation_date_and_validity() -> None:
    supplier = price_list(
        a_supplier(),
        rates=[hourly_rate("800.00")],
        negotiated_on=date(2025, 11, 3),
        valid_from=date(2026, 1, 1),
        valid_to=date(2026, 12, 31),
    )

    assert supplier.list_rate("461", "consultancy", "hour", date(2026, 6, 1)) == ListRate(
        rate=Decimal("800.00"),
        negotiated_on=date(2025, 11, 3),
        valid_from=date(2026, 1, 1),
        valid_to=date(2026, 12, 31),
    )


def test_a_later_list_supersedes_the_earlier_from_its_valid_from() -> None:
    supplier = price_list(a_supplier(), rates=[hourly_rate("800.00")], valid_from=date(2025, 1, 1))
    price_list(supplier, rates=[hourly_rate("850.00")], valid_from=date(2026, 3, 1))

    assert rate_on(supplier, date(2026, 2, 28)) == Decimal("800.00")
    assert rate_on(supplier, date(2026, 3, 1)) == Decimal("850.00")


def test_the_later_valid_from_wins_whatever_order_the_lists_were_recorded_in() -> None:
    supplier = price_list(a_supplier(), rates=[hourly_rate("850.00")], valid_from=date(2026, 3, 1))
    price_list(supplier, rates=[hourly_rate("800.00")], valid_from=date(2025, 1, 1))

    assert rate_on(supplier, date(2026, 2, 28)) == Decimal("800.00")
    assert rate_on(supplier, date(2026, 3, 1)) == Decimal("850.00")


def test_of_two_lists_from_the_same_day_the_one_recorded_last_wins() -> None:
    supplier = price_list(a_supplier(), rates=[hourly_rate("800.00")])
    price_list(supplier, rates=[hourly_rate("790.00")], negotiated_on=date(2025, 12, 15))

    found = supplier.list_rate("461", "consultancy", "hour", date(2026, 6, 1))

    assert found is not None
    assert (found.rate, found.negotiated_on) == (Decimal("790.00"), date(2025, 12, 15))


def test_after_a_later_lists_valid_to_the_earlier_open_list_applies_again() -> None:
    supplier = price_list(a_supplier(), rates=[hourly_rate("800.00")], valid_from=date(2025, 1, 1))
    price_list(
        supplier, rates=[hourly_rate("700.00")], valid_from=date(2026, 1, 1), valid_to=date(2026, 6, 30)
    )

    assert rate_on(supplier, date(2026, 6, 30)) == Decimal("700.00")
    assert rate_on(supplier, date(2026, 7, 1)) == Decimal("800.00")


def test_after_the_only_lists_valid_to_there_is_no_list_rate() -> None:
    supplier = price_list(
        a_supplier(), rates=[hourly_rate("800.00")], valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31)
    )

    assert supplier.list_rate("461", "consultancy", "hour", date(2027, 1, 1)) is None


def test_a_later_list_without_the_intervention_leaves_the_earlier_rate_in_force() -> None:
    supplier = price_list(a_supplier(), rates=[hourly_rate("800.00")], valid_from=date(2025, 1, 1))
    price_list(
        supplier, rates=[hourly_rate("500.00", intervention="home-support")], valid_from=date(2026, 1, 1)
    )

    assert rate_on(supplier, date(2026, 6, 1)) == Decimal("800.00")
    assert rate_on(supplier, date(2026, 6, 1), intervention="home-support") == Decimal("500.00")


def test_price_lists_are_per_municipality() -> None:
    supplier = price_list(a_supplier(), rates=[hourly_rate("800.00")], municipality_code="461")
    price_list(supplier, rates=[hourly_rate("950.00")], municipality_code="101")

    assert rate_on(supplier, date(2026, 6, 1)) == Decimal("800.00")
    assert rate_on(supplier, date(2026, 6, 1), municipality="101") == Decimal("950.00")
    assert supplier.list_rate("751", "consultancy", "hour", date(2026, 6, 1)) is None
    assert supplier.municipalities() == ["101", "461"]


def test_hour_and_day_rates_are_separate() -> None:
    supplier = price_list(
        a_supplier(), rates=[hourly_rate("800.00"), daily_rate("3000.00", intervention="consultancy")]
    )

    assert rate_on(supplier, date(2026, 6, 1)) == Decimal("800.00")
    assert rate_on(supplier, date(2026, 6, 1), unit="day") == Decimal("3000.00")


def test_prices_in_force_merge_the_lists_with_the_latest_winning() -> None:
    supplier = price_list(
        a_supplier(),
        rates=[hourly_rate("800.00"), hourly_rate("600.00", intervention="home-support")],
        packages=[PACKAGE],
        valid_from=date(2025, 1, 1),
        negotiated_on=date(2024, 12, 1),
    )
    price_list(
        supplier, rates=[hourly_rate("850.00")], valid_from=date(2026, 1, 1), negotiated_on=date(2025, 12, 1)
    )

    prices = supplier.prices_in_force("461", date(2026, 6, 1))

    by_intervention = {
        (r["intervention"], r["unit"]): (r["rate"], r["negotiated_on"]) for r in prices["rates"]
    }
    assert by_intervention == {
        ("consultancy", "hour"): (Decimal("850.00"), date(2025, 12, 1)),
        ("home-support", "hour"): (Decimal("600.00"), date(2024, 12, 1)),
    }
    assert [(p["name"], p["price"]) for p in prices["packages"]] == [("Forløb 20 timer", Decimal("15000.00"))]


def test_replaying_the_suppliers_events_rebuilds_its_price_lists() -> None:
    supplier = register()
    negotiate(supplier, rates=[hourly_rate("800.00")], valid_from=date(2025, 1, 1))
    negotiate(supplier, rates=[hourly_rate("850.00")], valid_from=date(2026, 3, 1))
    supplier.update_details(changes={"name": "Nyt Navn ApS"}, decided_by=MATCHER)

    rebuilt = replay(then_events(supplier))

    assert isinstance(rebuilt, Supplier)
    assert rebuilt.name == "Nyt Navn ApS"
    assert rebuilt.price_lists == supplier.price_lists
    assert rebuilt.list_rate("461", "consultancy", "hour", date(2026, 3, 1)) == supplier.list_rate(
        "461", "consultancy", "hour", date(2026, 3, 1)
    )
