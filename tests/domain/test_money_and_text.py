"""Value rules: exact money (rule 3), CPR detection in text (rule 7), CVR modulus 11 (rule 6). No I/O."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import money
from domain.cvr import fresh_cvr, is_valid_cvr, valid_cvr
from domain.errors import InvalidInput
from domain.text import contains_cpr, optional, reject_cpr, required
from domain.values import source

# -- exact money -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("850.00"), "850.00"),
        (Decimal("850.5"), "850.50"),
        (850, "850.00"),
        ("0.01", "0.01"),
        ("1E+3", "1000.00"),
    ],
)
def test_exact_amounts_are_kept_to_the_ore(value: Decimal | int | str, expected: str) -> None:
    amount = money.exact(value, "rate")

    assert isinstance(amount, Decimal)
    assert str(amount) == expected


@pytest.mark.parametrize("value", [Decimal("850.005"), "0.001", "1.999", Decimal("0.125")])
def test_more_than_two_decimals_is_an_error_not_a_rounding(value: Decimal | str) -> None:
    with pytest.raises(InvalidInput) as caught:
        money.exact(value, "hourly_rate")

    assert (caught.value.problem, caught.value.field) == ("too-many-decimals", "hourly_rate")


@pytest.mark.parametrize("value", ["abc", "", "1,50", "NaN", "Infinity", "-Infinity", Decimal("NaN")])
def test_non_numbers_are_rejected(value: Decimal | str) -> None:
    with pytest.raises(InvalidInput) as caught:
        money.exact(value, "rate")

    assert caught.value.problem == "invalid-amount"


@pytest.mark.parametrize("value", ["0", "0.00", "-0.01", "-850"])
def test_rates_must_be_positive(value: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        money.rate(value, "rate")

    assert caught.value.problem == "not-positive"


def test_rates_above_the_ceiling_are_rejected() -> None:
    assert money.rate("1000000.00", "rate") == Decimal("1000000.00")
    with pytest.raises(InvalidInput) as caught:
        money.rate("1000000.01", "rate")

    assert caught.value.problem == "out-of-range"


def test_hours_per_week_cannot_exceed_the_hours_of_a_week() -> None:
    assert money.hours("168", "hours_per_week") == Decimal("168.00")
    with pytest.raises(InvalidInput) as caught:
        money.hours("168.01", "hours_per_week")

    assert caught.value.problem == "out-of-range"


def test_huge_numbers_are_refused_rather_than_overflowing() -> None:
    with pytest.raises(InvalidInput) as caught:
        money.price(Decimal("1E+30"), "price")

    assert caught.value.problem == "out-of-range"


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=100_000_000))
def test_every_whole_number_of_ore_is_accepted_exactly(cents: int) -> None:
    amount = Decimal(cents).scaleb(-2)

    assert money.rate(amount, "rate") == amount
    assert money.exact(str(amount), "rate") == amount


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10_000_000), st.integers(min_value=1, max_value=9))
def test_any_fraction_of_an_ore_is_rejected(cents: int, tenth_of_ore: int) -> None:
    amount = Decimal(cents).scaleb(-2) + Decimal(tenth_of_ore).scaleb(-3)

    with pytest.raises(InvalidInput):
        money.exact(amount, "rate")


# -- CPR-like numbers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "010190-1234",
        "0101901234",
        "Barn 311299-9999 i familien",
        "cpr:3112999999.",
        "010190 1234",  # a space instead of the dash
        "PSN-010190-1234",
        "290200-1234",  # 29 February in a year ending 00 (2000 was a leap year)
        "290296-1234",  # 29 February 1996
        "300490-1234",  # 30 April
        "x0101901234y",
    ],
)
def test_cpr_like_numbers_are_detected(text: str) -> None:
    assert contains_cpr(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "PSN-1",
        "66131372",  # an 8-digit phone number
        "+45 66 13 13 72",
        "12345674",  # a CVR number
        "CVR 12345674, tlf. 66131372",
        "000190-1234",  # day 00
        "320190-1234",  # day 32
        "010090-1234",  # month 00
        "011390-1234",  # month 13
        "310490-1234",  # 31 April
        "290201-1234",  # 29 February 2001
        "290297-1234",  # 29 February 1997
        "010190-123",  # too few digits
        "010190--1234",  # two dashes
        "10101901234",  # part of a longer number
        "01019012345",
        "2026-01-15",  # an ISO date
        "0101-90-1234",
    ],
)
def test_numbers_that_are_not_cpr_like_are_not_detected(text: str) -> None:
    assert not contains_cpr(text)


@settings(max_examples=200, deadline=None)
@given(st.dates(), st.integers(min_value=0, max_value=9999), st.sampled_from(["", "-"]))
def test_every_real_date_followed_by_four_digits_is_detected(day: date, serial: int, dash: str) -> None:
    assert contains_cpr(f"ref {day:%d%m%y}{dash}{serial:04d} end")


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=99_999_999))
def test_no_eight_digit_number_is_taken_for_a_cpr_number(number: int) -> None:
    assert not contains_cpr(f"tlf. {number:08d}")


def test_reject_cpr_names_the_field_inside_nested_values() -> None:
    with pytest.raises(InvalidInput) as caught:
        reject_cpr({"candidates": [{"reason": "ok"}, {"reason": "see 0101901234"}]}, "body")

    assert caught.value.problem == "cpr-number-in-text"
    assert caught.value.field == "body.candidates[1].reason"


def test_reject_cpr_ignores_values_that_are_not_text() -> None:
    reject_cpr({"rate": Decimal("101901234"), "hours": 3, "missing": None}, "body")


def test_required_text_is_trimmed_and_blank_is_rejected() -> None:
    assert required("  purpose ", "purpose") == "purpose"
    with pytest.raises(InvalidInput) as caught:
        required(" \t\n", "purpose")

    assert (caught.value.problem, caught.value.field) == ("blank-text", "purpose")


def test_optional_text_is_trimmed_and_blank_becomes_none() -> None:
    assert optional(" x ") == "x"
    assert optional("   ") is None
    assert optional(None) is None


# -- CVR modulus 11 ----------------------------------------------------------------------------


@pytest.mark.parametrize("cvr", ["12345674", "24256790", "10150817"])
def test_cvr_numbers_whose_weighted_sum_is_divisible_by_11_are_valid(cvr: str) -> None:
    assert is_valid_cvr(cvr)
    assert valid_cvr(cvr) == cvr


@pytest.mark.parametrize(
    "cvr",
    [
        "12345678",  # weighted sum 114, not divisible by 11
        "12345675",
        "1234567",
        "123456740",
        "1234567a",
        "１２３４５６７４",  # full-width digits
        "",
        " 12345674",
    ],
)
def test_cvr_numbers_failing_modulus_11_or_the_format_are_invalid(cvr: str) -> None:
    assert not is_valid_cvr(cvr)
    with pytest.raises(InvalidInput) as caught:
        valid_cvr(cvr)

    assert (caught.value.problem, caught.value.field) == ("invalid-cvr", "cvr")


def test_cvr_numbers_starting_with_zero_are_invalid_even_when_the_sum_fits() -> None:
    # 0·2 + 1·7 + 0 + 0 + 0 + 0 + 0 + 4·1 = 11: the sum passes, but no CVR number starts with 0.
    assert not is_valid_cvr("01000004")


def _valid_cvrs() -> st.SearchStrategy[str]:
    weights = (2, 7, 6, 5, 4, 3, 2)

    def complete(prefix: str) -> str | None:
        check = -sum(int(d) * w for d, w in zip(prefix, weights, strict=True)) % 11
        return f"{prefix}{check}" if check < 10 else None

    prefixes = st.integers(min_value=1_000_000, max_value=9_999_999).map(str)
    return prefixes.map(complete).filter(lambda cvr: cvr is not None)  # type: ignore[return-value]


@settings(max_examples=200, deadline=None)
@given(_valid_cvrs(), st.integers(min_value=0, max_value=7), st.integers(min_value=1, max_value=9))
def test_modulus_11_catches_every_single_digit_error(cvr: str, position: int, shift: int) -> None:
    assert is_valid_cvr(cvr)
    wrong = cvr[:position] + str((int(cvr[position]) + shift) % 10) + cvr[position + 1 :]

    assert not is_valid_cvr(wrong)


@settings(max_examples=200, deadline=None)
@given(_valid_cvrs(), st.integers(min_value=0, max_value=6))
def test_modulus_11_catches_swapped_neighbouring_digits(cvr: str, position: int) -> None:
    swapped = cvr[:position] + cvr[position + 1] + cvr[position] + cvr[position + 2 :]

    assert is_valid_cvr(swapped) == (swapped == cvr)


def test_fresh_cvr_numbers_are_valid_new_and_the_same_for_the_same_seed() -> None:
    taken = {"12345674"}
    rng = random.Random(8)
    drawn = [fresh_cvr(rng, taken) for _ in range(300)]

    assert all(is_valid_cvr(cvr) for cvr in drawn)
    assert len(set(drawn)) == len(drawn) and "12345674" not in drawn
    assert taken == {"12345674", *drawn}
    again = random.Random(8)
    assert [fresh_cvr(again, set()) for _ in range(5)] == drawn[:5]


@pytest.mark.parametrize("text", ["nul\x00byte", "escape\x1b[31m", "bell\x07"])
def test_control_characters_in_text_are_rejected(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        reject_cpr(text, "purpose")

    assert refused.value.problem == "control-character-in-text"


def test_tabs_and_line_breaks_in_text_are_accepted() -> None:
    reject_cpr("første linje\n\tanden linje\r\n", "purpose")


@settings(max_examples=300, deadline=None)
@given(st.uuids())
def test_a_whole_uuid_is_an_id_never_a_cpr_number(value: UUID) -> None:
    reject_cpr({"source": {"event_id": str(value)}, "actor": {"id": str(value).upper()}}, "body")


def test_a_uuid_whose_digits_read_as_a_date_is_accepted_but_not_inside_other_text() -> None:
    lookalike = "01019012-34ab-4cde-8f00-0101901234aa"  # ten digits in a row: 0101901234

    assert not contains_cpr(lookalike)
    assert contains_cpr(f"note {lookalike}")


@settings(max_examples=300, deadline=None)
@given(st.uuids())
def test_a_whole_uuid_without_its_dashes_is_an_id_never_a_cpr_number(value: UUID) -> None:
    reject_cpr({"actor": {"id": value.hex}}, "body")
    source({"system": "DUBU", "event_id": value.hex})


def test_an_event_id_is_refused_only_when_it_is_or_spells_out_a_cpr_number() -> None:
    for accepted in ("evt-0101901234-7", "evt-ab010190-1234-4cde-8f00-0101901234aa", "0101901234" * 2):
        source({"system": "DUBU", "event_id": accepted})
    for whole in ("010190-1234", " 0101901234 ", "ev-010190-1234", "ev 010190 1234"):
        with pytest.raises(InvalidInput) as refused:
            source({"system": "DUBU", "event_id": whole})
        assert refused.value.problem == "cpr-number-in-text"
    with pytest.raises(InvalidInput) as refused:
        source({"system": "DUBU 0101901234", "event_id": "evt-1"})
    assert refused.value.problem == "cpr-number-in-text"
