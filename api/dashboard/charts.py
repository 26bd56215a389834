"""Chart geometry for server-rendered SVG: a stacked monthly bar chart and rate distributions.

Plain arithmetic on Decimals; the templates draw the shapes. No JavaScript chart library and
nothing fetched from elsewhere, so the pages work on a machine without internet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

from api.dashboard.formatting import count, kroner, month, short_kroner
from api.dashboard.vocabulary import OTHERS, SPENDING

PALETTE = (
    "#1f5f99",
    "#e07b24",
    "#3a9a5b",
    "#c23b4b",
    "#7b5ea7",
    "#8c6d4f",
    "#d16aa7",
    "#5f7f8f",
    "#b8a227",
    "#2aa3b5",
)
OTHERS_COLOUR = "#b9bec4"
MAX_SERIES = 9


@dataclass(frozen=True)
class Segment:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str
    month: str = ""
    future: bool = False


@dataclass(frozen=True)
class Band:
    """A stretch of the plot behind the bars: this month, or the committed months after it."""

    x: float
    width: float


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Axes:
    """A line or bar chart's frame (Praksis' charts): the viewBox, the plot's right and bottom edges,
    the ticks and what the chart shows in words (its SVG description)."""

    width: int
    height: int
    left: int
    top: int
    plot_right: float
    plot_bottom: float
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    description: str


@dataclass(frozen=True)
class LegendItem:
    label: str
    colour: str
    total: str


@dataclass
class StackedBars:
    """A stacked bar per month; ``segments`` in drawing order, axes and legend ready to print."""

    width: int = 960
    height: int = 380
    left: int = 96
    right: int = 16
    top: int = 16
    bottom: int = 56
    segments: list[Segment] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    legend: list[LegendItem] = field(default_factory=list)
    now: Band | None = None
    future: Band | None = None
    y_label: str = f"{SPENDING} pr. måned (kr.)"
    x_label: str = "Måned"

    @property
    def plot_bottom(self) -> int:
        return self.height - self.bottom

    @property
    def plot_right(self) -> int:
        return self.width - self.right


def nice_step(maximum: Decimal, ticks: int = 5) -> Decimal:
    """A round step (1, 2, 2.5 or 5 × 10^k) so that ``ticks`` steps cover ``maximum``."""
    if maximum <= 0:
        return Decimal(1)
    raw = maximum / ticks
    magnitude = Decimal(10) ** (raw.adjusted())
    for factor in (1, 2, Decimal("2.5"), 5, 10):
        step = magnitude * factor
        if step >= raw:
            return step
    return magnitude * 10


def months_between(first: str, last: str) -> list[str]:
    """Every ``YYYY-MM`` from ``first`` to ``last`` inclusive."""
    year, number = map(int, first.split("-"))
    end = tuple(map(int, last.split("-")))
    found = []
    while (year, number) <= end:
        found.append(f"{year:04d}-{number:02d}")
        year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return found


def stacked_bars(
    months: Sequence[str],
    series: Sequence[tuple[str, dict[str, Decimal]]],
    this_month: str | None = None,
) -> StackedBars:
    """``series``: ``(label, {month: amount})`` biggest first; beyond ``MAX_SERIES`` they are
    drawn together as "Øvrige" (the table beside the chart keeps every one). With ``this_month``
    its slot is marked, and the months after it (committed, not yet delivered) are set apart."""
    chart = StackedBars()
    shown = list(series[:MAX_SERIES])
    rest = series[MAX_SERIES:]
    colours = list(PALETTE[: len(shown)])
    if rest:
        merged: dict[str, Decimal] = {}
        for _, amounts in rest:
            for key, amount in amounts.items():
                merged[key] = merged.get(key, Decimal(0)) + amount
        shown.append((f"{OTHERS} ({count(len(rest))})", merged))
        colours.append(OTHERS_COLOUR)

    totals = {m: sum((amounts.get(m, Decimal(0)) for _, amounts in shown), Decimal(0)) for m in months}
    highest = max(totals.values(), default=Decimal(0))
    step = nice_step(highest)
    top_value = step * max(1, int((highest / step).to_integral_value(rounding=ROUND_CEILING)))
    plot_height = Decimal(chart.plot_bottom - chart.top)
    plot_width = Decimal(chart.plot_right - chart.left)

    def y_of(value: Decimal) -> float:
        return float(chart.plot_bottom - value / top_value * plot_height)

    tick = Decimal(0)
    while tick <= top_value:
        chart.y_ticks.append(Tick(y_of(tick), short_kroner(tick)))
        tick += step

    slot = plot_width / max(1, len(months))
    bar = slot * Decimal("0.7")
    label_every = 1 if len(months) <= 13 else -(-len(months) // 12)
    for index, name in enumerate(months):
        x = chart.left + slot * index + (slot - bar) / 2
        future = this_month is not None and name > this_month
        if name == this_month:
            chart.now = Band(float(chart.left + slot * index), float(slot))
        if future and chart.future is None:
            start = chart.left + slot * index
            chart.future = Band(float(start), float(chart.plot_right - start))
        if index % label_every == 0:
            chart.x_ticks.append(Tick(float(x + bar / 2), month(name)))
        base = Decimal(0)
        for (label, amounts), colour in zip(shown, colours, strict=True):
            amount = amounts.get(name, Decimal(0))
            if amount <= 0:
                continue
            chart.segments.append(
                Segment(
                    x=float(x),
                    y=y_of(base + amount),
                    width=float(bar),
                    height=float(amount / top_value * plot_height),
                    colour=colour,
                    title=f"{month(name)} · {label}: {kroner(amount)}" + (" (disponeret)" if future else ""),
                    month=name,
                    future=future,
                )
            )
            base += amount
    for (label, amounts), colour in zip(shown, colours, strict=True):
        chart.legend.append(LegendItem(label, colour, kroner(sum(amounts.values(), Decimal(0)))))
    return chart


# -- rate distributions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    """One five-number summary on a row's scale (pixels from the left of the plot)."""

    label: str
    colour: str
    y: float
    low: float
    q1: float
    median: float
    q3: float
    high: float
    title: str


@dataclass
class Distribution:
    width: int = 260
    height: int = 64
    left: int = 8
    right: int = 8
    boxes: list[Box] = field(default_factory=list)
    low_label: str = ""
    high_label: str = ""


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def distribution(row: dict[str, Any]) -> Distribution:
    """Agreed rates against list rates for one price-benchmark row, on a shared scale."""
    chart = Distribution()
    summaries: list[tuple[str, str, float, list[Decimal]]] = []
    for prefix, label, colour, y in (
        ("", "Aftalt", "#1f5f99", 16.0),
        ("list_", "Listepris", "#e07b24", 40.0),
    ):
        found = [_decimal(row.get(f"{prefix}{name}")) for name in ("min", "p25", "median", "p75", "max")]
        values = [value for value in found if value is not None]
        if len(values) == len(found):
            summaries.append((label, colour, y, values))
    if not summaries:
        return chart
    lowest = min(values[0] for *_, values in summaries)
    highest = max(values[-1] for *_, values in summaries)
    span = highest - lowest or Decimal(1)
    inner = Decimal(chart.width - chart.left - chart.right)

    def x_of(value: Decimal) -> float:
        return float(chart.left + (value - lowest) / span * inner)

    for label, colour, y, values in summaries:
        low, q1, median, q3, high = (x_of(v) for v in values)
        title = (
            f"{label}: min {kroner(values[0])}, 25 % {kroner(values[1])}, median {kroner(values[2])}, "
            f"75 % {kroner(values[3])}, maks {kroner(values[4])}"
        )
        chart.boxes.append(Box(label, colour, y, low, q1, median, q3, high, title))
    chart.low_label, chart.high_label = kroner(lowest), kroner(highest)
    return chart
