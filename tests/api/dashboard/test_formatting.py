"""Danish number and date formatting, and the chart geometry, without a server."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.dashboard.charts import MAX_SERIES, distribution, months_between, nice_step, stacked_bars
from api.dashboard.formatting import (
    age,
    count,
    day,
    kroner,
    month,
    short_kroner,
    thousand_kroner,
    whole_kroner,
)


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("0.00", "0,00\u00a0kr."),
        ("850.00", "850,00\u00a0kr."),
        ("1234.50", "1.234,50\u00a0kr."),
        ("-27685.72", "-27.685,72\u00a0kr."),
        ("647993999.85", "647.993.999,85\u00a0kr."),
        (None, "–"),
    ],
)
def test_money_is_written_the_danish_way(amount: str | None, shown: str) -> None:
    assert kroner(amount) == shown


@pytest.mark.parametrize(
    ("amount", "whole", "thousands"),
    [
        ("0.00", "0\u00a0kr.", "0\u00a0t.kr."),
        ("1234.49", "1.234\u00a0kr.", "1\u00a0t.kr."),
        ("1234.50", "1.235\u00a0kr.", "1\u00a0t.kr."),
        ("1499.99", "1.500\u00a0kr.", "1\u00a0t.kr."),
        ("1500.00", "1.500\u00a0kr.", "2\u00a0t.kr."),
        ("647993999.85", "647.994.000\u00a0kr.", "647.994\u00a0t.kr."),
        ("-2500.00", "-2.500\u00a0kr.", "-3\u00a0t.kr."),
        (None, "–", "–"),
    ],
)
def test_money_in_whole_kroner_and_thousands_rounds_half_up(
    amount: str | None, whole: str, thousands: str
) -> None:
    assert (whole_kroner(amount), thousand_kroner(amount)) == (whole, thousands)


@given(st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False, allow_infinity=False))
def test_the_danish_text_reads_back_to_the_same_amount(amount: Decimal) -> None:
    text = kroner(f"{amount:.2f}").removesuffix("\u00a0kr.")
    assert Decimal(text.replace(".", "").replace(",", ".")) == amount


def test_counts_are_grouped_the_danish_way() -> None:
    assert [count(n) for n in (0, 7, 999, 1760, 3146, 1_234_567, -1760)] == [
        "0",
        "7",
        "999",
        "1.760",
        "3.146",
        "1.234.567",
        "-1.760",
    ]


def test_dates_months_and_ages() -> None:
    assert day("2025-03-07") == "07.03.2025"
    assert month("2026-05") == "maj 2026"
    assert age(date(2025, 9, 28), date(2026, 11, 23)) == "1 år 1 md."
    assert age(date(2026, 11, 1), date(2026, 11, 23)) == "22 dage"
    assert short_kroner(Decimal(1_250_000)) == "1,25\u00a0mio.\u00a0kr."
    assert short_kroner(Decimal(85_000)) == "85.000\u00a0kr."


def test_the_axis_steps_are_round_and_cover_the_highest_month() -> None:
    assert nice_step(Decimal(52_000_000)) == Decimal(20_000_000)
    assert nice_step(Decimal(7)) == Decimal(2)
    assert months_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]


def test_stacked_bars_lump_the_smallest_series_and_keep_every_amount() -> None:
    months = ["2026-01", "2026-02"]
    series = [(f"S{n}", {"2026-01": Decimal(100 - n), "2026-02": Decimal(50)}) for n in range(12)]

    chart = stacked_bars(months, series)

    assert [item.label for item in chart.legend][-1] == "Øvrige (3)"
    assert len(chart.legend) == MAX_SERIES + 1
    assert len(chart.segments) == 2 * (MAX_SERIES + 1)
    top = chart.y_ticks[-1]
    assert top.position == chart.top
    january = [s for s in chart.segments if s.title.startswith("jan.")]
    scale = Decimal(top.label.removesuffix("\u00a0kr.").replace(".", "")) / (chart.plot_bottom - chart.top)
    drawn = sum(Decimal(str(s.height)) for s in january) * scale
    assert abs(drawn - sum(100 - n for n in range(12))) < 1


def test_stacked_bars_mark_this_month_and_set_the_later_months_apart() -> None:
    months = ["2026-01", "2026-02", "2026-03", "2026-04"]
    amounts = {m: Decimal(100) for m in months}

    chart = stacked_bars(months, [("S", amounts)], this_month="2026-02")
    plain = stacked_bars(months, [("S", amounts)])

    assert [(s.month, s.future) for s in chart.segments] == [
        ("2026-01", False),
        ("2026-02", False),
        ("2026-03", True),
        ("2026-04", True),
    ]
    assert chart.now is not None and chart.future is not None
    assert chart.now.x + chart.now.width == chart.future.x
    assert chart.future.x + chart.future.width == chart.plot_right
    assert chart.segments[2].title.endswith("(disponeret)")
    assert plain.now is None and plain.future is None and not any(s.future for s in plain.segments)


def test_a_distribution_needs_both_summaries_to_draw_both_boxes() -> None:
    row = {"min": "500.00", "p25": "600.00", "median": "700.00", "p75": "800.00", "max": "900.00"}
    only_agreed = distribution({**row, "list_min": None})
    both = distribution({**row, **{f"list_{k}": v for k, v in row.items()}})

    assert [box.label for box in only_agreed.boxes] == ["Aftalt"]
    assert [box.label for box in both.boxes] == ["Aftalt", "Listepris"]
    assert both.boxes[0].low == both.left and both.boxes[0].high == both.width - both.right
