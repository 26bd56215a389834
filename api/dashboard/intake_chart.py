"""Praksis' weekly intake: the practice report's ``weekly_intake`` (indstillinger per ISO week of
their referral day) as the geometry of a bar chart, with its summary in words."""

from __future__ import annotations

from dataclasses import dataclass

from api.dashboard.charts import Axes, Tick
from api.dashboard.formatting import count


@dataclass(frozen=True)
class Bar:
    week: str
    label: str
    number: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class IntakeChart(Axes):
    bars: list[Bar]


def week_label(week: str) -> str:
    """``2026-W03`` → ``uge 3, 2026``."""
    year, number = week.split("-W")
    return f"uge {int(number)}, {year}"


def intake_chart(weeks: dict[str, int]) -> IntakeChart:
    """A bar per week, about eight weeks labelled, and the total, busiest and quietest weeks in words."""
    width, height, left, top, right, bottom = 720, 200, 48, 12, 12, 40
    plot_right, plot_bottom = width - right, height - bottom
    highest = max(weeks.values(), default=0)
    step = max(1, -(-highest // 4))
    top_value = step * 4
    slot = (plot_right - left) / max(len(weeks), 1)

    def y(value: int) -> float:
        return plot_bottom - (plot_bottom - top) * value / top_value

    bars = [
        Bar(week, week_label(week), n, left + slot * (i + 0.1), y(n), slot * 0.8, plot_bottom - y(n))
        for i, (week, n) in enumerate(weeks.items())
    ]
    every = max(1, -(-len(weeks) // 8))
    x_ticks = [
        Tick(left + slot * (i + 0.5), week_label(week).replace(",", ""))
        for i, week in enumerate(weeks)
        if i % every == 0
    ]
    y_ticks = [Tick(y(step * n), count(step * n)) for n in range(5)]
    if weeks:
        busiest = max(weeks, key=lambda w: (weeks[w], w))
        quietest = min(weeks, key=lambda w: (weeks[w], w))
        total = sum(weeks.values())
        description = (
            f"{count(total)} indstillinger over {count(len(weeks))} uger, "
            f"flest i {week_label(busiest)} ({count(weeks[busiest])}), "
            f"færrest i {week_label(quietest)} ({count(weeks[quietest])}). "
            "Tallene for hver uge står i tabellen under grafen."
        )
    else:
        description = "Ingen uger i perioden."
    frame = Axes(width, height, left, top, plot_right, plot_bottom, x_ticks, y_ticks, description)
    return IntakeChart(**vars(frame), bars=bars)
