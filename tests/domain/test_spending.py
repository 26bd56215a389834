"""Committed spend (disponering) per calendar month, as docs/domain.md defines it.

Given the recorded decisions on a referral, then its spending timeline, to the øre. No I/O.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from domain.referral import Referral
from domain.spending import set_from, value_on
from tests.domain.builders import (
    a_matched_referral,
    adjust,
    an_active_referral,
    close,
    daily_terms,
    extend,
    package_terms,
    round_half_up,
)

RESPITE = {"intervention": "respite-stay", "legal_basis": "BL-32-1-7"}
NETWORK_GROUP = {"intervention": "network-group", "legal_basis": "BL-30-1-2"}


def d(text: str) -> Decimal:
    return Decimal(text)


def hourly(rate: str = "850.00", hours: str = "3", **terms: Any) -> Referral:
    """Given: a referral with an hourly price agreed (2026-01-15..2026-03-31 unless overridden)."""
    referral, _ = an_active_referral(hourly_rate=d(rate), hours_per_week=d(hours), **terms)
    return referral


def daily(rate: str = "1500.00", **terms: Any) -> Referral:
    referral, _ = an_active_referral(refer_overrides=RESPITE, **daily_terms(rate), **terms)
    return referral


def package(price: str = "25000.00", **terms: Any) -> Referral:
    referral, _ = an_active_referral(refer_overrides=NETWORK_GROUP, **package_terms(price), **terms)
    return referral


# -- the worked example ------------------------------------------------------------------------


def test_domain_worked_example_850_an_hour_3_hours_a_week_mid_january_to_march() -> None:
    referral = hourly("850.00", "3", start=date(2026, 1, 15), end=date(2026, 3, 31))

    assert referral.monthly_commitments() == {
        "2026-01": d("6192.86"),  # 850 × 3 / 7 × 17 = 6192.857…
        "2026-02": d("10200.00"),  # 850 × 3 / 7 × 28
        "2026-03": d("11292.86"),  # 850 × 3 / 7 × 31 = 11292.857…
    }
    assert referral.committed_total() == d("27685.72")


def test_amounts_are_exact_decimals_with_two_places() -> None:
    commitments = hourly().monthly_commitments()

    assert all(isinstance(amount, Decimal) for amount in commitments.values())
    assert [str(amount) for amount in commitments.values()] == ["6192.86", "10200.00", "11292.86"]


def test_nothing_is_committed_before_a_price_is_agreed() -> None:
    referral, _ = a_matched_referral()

    assert referral.monthly_commitments() == {}
    assert referral.committed_total() == d("0.00")


def test_a_single_day_agreement_spends_one_day() -> None:
    referral = hourly("700.00", "7", start=date(2026, 5, 5), end=date(2026, 5, 5))

    assert referral.monthly_commitments() == {"2026-05": d("700.00")}


def test_months_run_across_the_turn_of_the_year() -> None:
    referral = hourly("700.00", "7", start=date(2026, 12, 30), end=date(2027, 1, 2))

    assert referral.monthly_commitments() == {"2026-12": d("1400.00"), "2027-01": d("1400.00")}


# -- daily pricing -----------------------------------------------------------------------------


def test_a_daily_rate_spends_the_rate_on_each_day_of_the_period() -> None:
    referral = daily("1500.00", start=date(2026, 1, 20), end=date(2026, 2, 10))

    assert referral.monthly_commitments() == {"2026-01": d("18000.00"), "2026-02": d("15000.00")}


def test_a_daily_rate_adjustment_changes_the_rate_from_its_date() -> None:
    referral = daily("1500.00", start=date(2026, 1, 20), end=date(2026, 2, 10))

    adjust(referral, effective_from=date(2026, 2, 1), daily_rate=d("1600.00"))

    assert referral.monthly_commitments() == {"2026-01": d("18000.00"), "2026-02": d("16000.00")}


def test_a_daily_referral_closed_early_stops_spending_on_the_closing_day() -> None:
    referral = daily("1500.00", start=date(2026, 1, 20), end=date(2026, 2, 10))

    close(referral, closed_on=date(2026, 1, 25))

    assert referral.monthly_commitments() == {"2026-01": d("9000.00")}


# -- packages ----------------------------------------------------------------------------------


def test_a_package_is_committed_in_full_in_the_month_of_its_start() -> None:
    referral = package("25000.00", start=date(2026, 1, 15), end=date(2026, 3, 31))

    assert referral.monthly_commitments() == {"2026-01": d("25000.00")}


def test_a_package_extension_is_committed_in_the_month_of_the_first_extended_day() -> None:
    referral = package("25000.00", start=date(2026, 1, 15), end=date(2026, 3, 31))

    extend(referral, new_end=date(2026, 6, 30), package_price=d("12000.00"))

    assert referral.monthly_commitments() == {"2026-01": d("25000.00"), "2026-04": d("12000.00")}


def test_a_package_extension_from_mid_month_is_committed_in_that_month() -> None:
    referral = package("25000.00", start=date(2026, 1, 15), end=date(2026, 3, 20))

    extend(referral, new_end=date(2026, 6, 30), package_price=d("12000.00"))

    assert referral.monthly_commitments() == {"2026-01": d("25000.00"), "2026-03": d("12000.00")}


def test_a_package_extension_in_the_month_of_the_start_adds_to_that_month() -> None:
    referral = package("25000.00", start=date(2026, 1, 5), end=date(2026, 1, 20))

    extend(referral, new_end=date(2026, 2, 28), package_price=d("8000.50"))

    assert referral.monthly_commitments() == {"2026-01": d("33000.50")}


def test_packages_are_not_released_by_closing() -> None:
    referral = package("25000.00", start=date(2026, 1, 15), end=date(2026, 3, 31))
    extend(referral, new_end=date(2026, 6, 30), package_price=d("12000.00"))

    close(referral, closed_on=date(2026, 2, 1), reason="family_declined")

    assert referral.monthly_commitments() == {"2026-01": d("25000.00"), "2026-04": d("12000.00")}


def test_a_package_closed_before_its_start_is_still_committed() -> None:
    referral = package("25000.00", start=date(2026, 1, 15), end=date(2026, 3, 31))

    close(referral, closed_on=date(2026, 1, 10), reason="withdrawn")

    assert referral.monthly_commitments() == {"2026-01": d("25000.00")}
    assert referral.committed_total() == d("25000.00")


# -- closure -----------------------------------------------------------------------------------


def test_closure_before_the_start_spends_nothing() -> None:
    referral = hourly(start=date(2026, 1, 15))

    close(referral, closed_on=date(2026, 1, 14), reason="family_declined")

    assert referral.monthly_commitments() == {}
    assert referral.committed_total() == d("0.00")


def test_closure_on_the_start_day_spends_that_day() -> None:
    referral = hourly(start=date(2026, 1, 15))

    close(referral, closed_on=date(2026, 1, 15))

    assert referral.monthly_commitments() == {"2026-01": d("364.29")}  # 850 × 3 / 7 = 364.2857…


def test_closure_cuts_the_period_at_the_closing_day() -> None:
    referral = hourly()

    close(referral, closed_on=date(2026, 2, 10))

    assert referral.monthly_commitments() == {
        "2026-01": d("6192.86"),
        "2026-02": d("3642.86"),  # 850 × 3 / 7 × 10 = 3642.857…
    }


def test_closure_after_the_end_changes_nothing() -> None:
    referral = hourly()

    close(referral, closed_on=date(2026, 5, 1), reason="planned_end")

    assert referral.monthly_commitments() == {
        "2026-01": d("6192.86"),
        "2026-02": d("10200.00"),
        "2026-03": d("11292.86"),
    }


def test_closure_of_an_extended_referral_cuts_the_extended_period() -> None:
    referral = hourly()
    extend(referral, new_end=date(2026, 6, 30))

    close(referral, closed_on=date(2026, 4, 7))

    assert referral.monthly_commitments()["2026-04"] == d("2550.00")  # 850 × 3 / 7 × 7
    assert "2026-05" not in referral.monthly_commitments()


# -- extension ---------------------------------------------------------------------------------


def test_extension_without_new_hours_keeps_spending_at_the_same_pace() -> None:
    referral = hourly()

    extend(referral, new_end=date(2026, 4, 30))

    assert referral.monthly_commitments()["2026-04"] == d("10928.57")  # 850 × 3 / 7 × 30 = 10928.571…


def test_extension_with_new_hours_applies_them_from_the_day_after_the_old_end() -> None:
    referral = hourly(end=date(2026, 2, 15))

    extend(referral, new_end=date(2026, 3, 31), hours_per_week=d("5"))

    assert referral.monthly_commitments() == {
        "2026-01": d("6192.86"),
        "2026-02": d("13357.14"),  # 850 × (3 × 15 + 5 × 13) / 7 = 13357.142…
        "2026-03": d("18821.43"),  # 850 × 5 × 31 / 7 = 18821.428…
    }
    assert (referral.pricing_on(date(2026, 2, 15)) or {}).get("hours_per_week") == d("3.00")
    assert (referral.pricing_on(date(2026, 2, 16)) or {}).get("hours_per_week") == d("5.00")


def test_a_second_extension_with_hours_starts_after_the_first_extensions_end() -> None:
    referral = hourly(end=date(2026, 1, 31))
    extend(referral, new_end=date(2026, 2, 28), hours_per_week=d("7"))

    extend(referral, new_end=date(2026, 3, 31), hours_per_week=d("14"))

    assert referral.monthly_commitments() == {
        "2026-01": d("6192.86"),
        "2026-02": d("23800.00"),  # 850 × 28
        "2026-03": d("52700.00"),  # 850 × 2 × 31
    }


def test_extension_hours_follow_an_earlier_adjustment_of_hours() -> None:
    referral = hourly(end=date(2026, 2, 15))
    adjust(referral, effective_from=date(2026, 2, 1), hours_per_week=d("4"))

    extend(referral, new_end=date(2026, 3, 31), hours_per_week=d("5"))

    assert referral.monthly_commitments()["2026-02"] == d("15178.57")  # 850 × (4 × 15 + 5 × 13) / 7


# -- adjustment --------------------------------------------------------------------------------


def test_adjusted_hours_apply_from_the_effective_date_inclusive() -> None:
    referral = hourly()

    adjust(referral, effective_from=date(2026, 2, 15), hours_per_week=d("5"))

    assert referral.monthly_commitments() == {
        "2026-01": d("6192.86"),
        "2026-02": d("13600.00"),  # 850 × (3 × 14 + 5 × 14) / 7
        "2026-03": d("18821.43"),
    }


def test_retroactive_adjustment_changes_past_months() -> None:
    referral = hourly()
    assert referral.monthly_commitments()["2026-02"] == d("10200.00")

    adjust(referral, effective_from=date(2026, 2, 1), hourly_rate=d("900.00"), decided_on=date(2026, 3, 10))

    assert referral.monthly_commitments() == {
        "2026-01": d("6192.86"),
        "2026-02": d("10800.00"),  # 900 × 3 × 4
        "2026-03": d("11957.14"),  # 900 × 3 × 31 / 7 = 11957.142…
    }


def test_a_later_recorded_adjustment_overrides_earlier_decisions_from_its_date_on() -> None:
    referral = hourly()
    adjust(referral, effective_from=date(2026, 3, 1), hours_per_week=d("5"))

    adjust(referral, effective_from=date(2026, 2, 1), hours_per_week=d("4"), decided_on=date(2026, 3, 5))

    assert referral.monthly_commitments() == {
        "2026-01": d("6192.86"),
        "2026-02": d("13600.00"),  # 850 × 4 × 4
        "2026-03": d("15057.14"),  # 850 × 4 × 31 / 7: the March change to 5 hours is overridden
    }


def test_a_rate_adjustment_does_not_override_a_later_hours_adjustment() -> None:
    referral = hourly()
    adjust(referral, effective_from=date(2026, 3, 1), hours_per_week=d("5"))

    adjust(referral, effective_from=date(2026, 2, 1), hourly_rate=d("900.00"))

    assert referral.monthly_commitments() == {
        "2026-01": d("6192.86"),
        "2026-02": d("10800.00"),  # 900 × 3 × 4
        "2026-03": d("19928.57"),  # 900 × 5 × 31 / 7 = 19928.571…
    }


def test_an_adjustment_recorded_after_an_extension_overrides_the_extension_hours_from_its_date() -> None:
    referral = hourly(end=date(2026, 2, 15))
    extend(referral, new_end=date(2026, 3, 31), hours_per_week=d("5"))

    adjust(referral, effective_from=date(2026, 2, 1), hours_per_week=d("4"))

    assert referral.monthly_commitments() == {
        "2026-01": d("6192.86"),
        "2026-02": d("13600.00"),
        "2026-03": d("15057.14"),
    }


def test_adjustment_of_hours_and_rate_together() -> None:
    referral = hourly()

    adjust(referral, effective_from=date(2026, 3, 1), hours_per_week=d("7"), hourly_rate=d("1000.00"))

    assert referral.monthly_commitments()["2026-03"] == d("31000.00")


# -- calendar and rounding ---------------------------------------------------------------------


def test_leap_year_february_has_29_days_of_hourly_spend() -> None:
    referral = hourly(start=date(2028, 2, 1), end=date(2028, 2, 29))

    assert referral.monthly_commitments() == {"2028-02": d("10564.29")}  # 850 × 3 × 29 / 7 = 10564.285…


def test_leap_year_february_has_29_days_of_daily_spend() -> None:
    referral, _ = an_active_referral(
        refer_overrides=RESPITE,
        **daily_terms("1000.00"),
        start=date(2028, 1, 31),
        end=date(2028, 3, 1),
    )

    assert referral.monthly_commitments() == {
        "2028-01": d("1000.00"),
        "2028-02": d("29000.00"),
        "2028-03": d("1000.00"),
    }


def test_half_an_ore_rounds_up() -> None:
    referral = hourly("0.01", "3.50", start=date(2026, 2, 2), end=date(2026, 2, 2))

    assert referral.monthly_commitments() == {"2026-02": d("0.01")}  # 0.01 × 3.5 / 7 = 0.005


def test_rounding_happens_once_per_month_not_per_day() -> None:
    referral = hourly("1.00", "1", start=date(2026, 2, 2), end=date(2026, 2, 8))

    # Seven days of 1/7 DKK: exactly 1.00 (rounding each day would give 7 × 0.14 = 0.98).
    assert referral.monthly_commitments() == {"2026-02": d("1.00")}


def test_totals_are_sums_of_the_rounded_monthly_amounts() -> None:
    referral = hourly("1.00", "1", start=date(2026, 1, 30), end=date(2026, 2, 2))

    # 2/7 = 0.2857… → 0.29 in each month; the exact total 4/7 would round to 0.57.
    assert referral.monthly_commitments() == {"2026-01": d("0.29"), "2026-02": d("0.29")}
    assert referral.committed_total() == d("0.58")


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Fraction(5, 1000), "0.01"),
        (Fraction(15, 1000), "0.02"),
        (Fraction(25, 1000), "0.03"),  # half-even would give 0.02
        (Fraction(4999, 1_000_000), "0.00"),
        (Fraction(43350, 7), "6192.86"),
        (Fraction(0), "0.00"),
        (Fraction(123456789, 100), "1234567.89"),
    ],
)
def test_round_half_up_to_the_ore(amount: Fraction, expected: str) -> None:
    assert round_half_up(amount) == d(expected)


def test_pricing_on_is_clamped_into_the_agreements_period() -> None:
    referral = hourly()
    adjust(referral, effective_from=date(2026, 3, 1), hourly_rate=d("900.00"))

    before = referral.pricing_on(date(2025, 1, 1))
    after = referral.pricing_on(date(2027, 1, 1))

    assert before is not None
    assert after is not None
    assert (before["hourly_rate"], before["hours_per_week"]) == (d("850.00"), d("3.00"))
    assert (after["hourly_rate"], after["daily_rate"]) == (d("900.00"), None)


# -- the step functions underneath -------------------------------------------------------------


def test_set_from_replaces_every_later_step() -> None:
    steps = [(date(2026, 1, 1), d("1")), (date(2026, 3, 1), d("3")), (date(2026, 5, 1), d("5"))]

    set_from(steps, date(2026, 2, 1), d("2"))

    assert steps == [(date(2026, 1, 1), d("1")), (date(2026, 2, 1), d("2"))]


def test_set_from_on_the_same_day_replaces_that_step() -> None:
    steps = [(date(2026, 1, 1), d("1"))]

    set_from(steps, date(2026, 1, 1), d("2"))

    assert steps == [(date(2026, 1, 1), d("2"))]


def test_value_on_finds_the_step_in_force() -> None:
    steps = [(date(2026, 1, 1), d("1")), (date(2026, 2, 1), d("2"))]

    assert value_on(steps, date(2025, 12, 31)) is None
    assert value_on(steps, date(2026, 1, 31)) == d("1")
    assert value_on(steps, date(2026, 2, 1)) == d("2")
    assert value_on(steps, date(2030, 1, 1)) == d("2")
