"""Praksis: the practice report (``GET /reports/practice``) as a table, a lead-time chart, a chart of
the weekly intake and a workbook."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.dashboard import formatting
from api.dashboard.access import Viewer, about, export_link, frame, open_page
from api.dashboard.charts import Axes, Tick
from api.dashboard.forbrug import MAX_MONTHS, MONTH, Period, labeller, month_asked, picker_years
from api.dashboard.intake_chart import intake_chart, week_label
from api.dashboard.rendering import templates
from api.dashboard.session import PAGE
from api.dashboard.vocabulary import CLOSE_REASONS, PRACTICE_BY, PRACTICE_COLUMNS, PRACTICE_LEAD_TIMES, TOTAL
from api.dashboard.workbook import Column, Sheet, workbook_response
from api.dependencies import Ledger, Reports
from projections.practice import LEAD_TIMES, PracticeQuery, months_between

router = APIRouter(prefix="/dashboard", include_in_schema=False)

CHARTED = ("referred_to_matched", "matched_to_agreed")
"""The lead times drawn over months: how long a referral waits for a supplier, then for a rate."""
COLOURS = {"referred_to_matched": "#1f5f99", "matched_to_agreed": "#e07b24"}
SHARES = ("rematched_share", "extended_share", "above_list_share")
WEEKLY_SHEET = "Pr. uge"
WEEKLY_COLUMNS = (Column("Uge", width=14), Column("Indstillinger", "count"))


def _shift(value: str, months: int) -> str:
    index = int(value[:4]) * 12 + int(value[5:]) - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def practice_period(request: Request, today: date) -> Period:
    """The chosen referral months and grouping; by default the twelve months up to this one, by month."""
    params = request.query_params
    this_month = f"{today.year:04d}-{today.month:02d}"
    first, last = month_asked(params, "from"), month_asked(params, "to")
    by, problem = params.get("by", "month"), None
    if by not in PRACTICE_BY:
        by, problem = "month", "Ukendt gruppering; viser måned."
    last = last if MONTH.match(last) else this_month
    first = first if MONTH.match(first) else _shift(last, -11)
    if first > last:
        first, last = last, first
        problem = "Perioden var vendt om; fra og til er byttet."
    if len(months_between(first, last)) > MAX_MONTHS:
        first = _shift(last, -(MAX_MONTHS - 1))
        problem = f"Højst {MAX_MONTHS} måneder ad gangen; perioden er forkortet."
    return Period(first, last, by, problem)


def _key_label(by: str, viewer: Viewer, reports: Reports) -> Callable[[dict[str, Any]], str]:
    if by == "month":
        return lambda group: formatting.month(group["key"])
    if by == "supplier":
        return lambda group: group.get("name") or group["key"] or "(ingen leverandør)"
    label = labeller(by, viewer, reports)
    return lambda group: label(group["key"])


def share(value: str | None) -> str:
    """A share from the report (``"0.125"``) as a Danish percentage: ``12,5 %``; nothing → a dash."""
    return "–" if value is None else formatting.share_percent(value)


def reasons_text(reasons: dict[str, int]) -> str:
    """Close reasons in Danish with their counts, most frequent first: ``målet er nået 3, andet 1``."""
    ordered = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{CLOSE_REASONS.get(reason, reason)} {formatting.count(n)}" for reason, n in ordered)


@dataclass(frozen=True)
class LeadTimeChart(Axes):
    """The median lead times over the months as lines of points (None where a month has none)."""

    lines: list[dict[str, Any]]


def lead_time_chart(groups: list[dict[str, Any]]) -> LeadTimeChart:
    """Geometry of the chart of median days referred→matched and matched→agreed, a point per month."""
    width, height, left, top, right, bottom = 720, 260, 56, 16, 16, 44
    plot_right, plot_bottom = width - right, height - bottom
    values: list[int] = [
        g[name]["median"] for g in groups for name in CHARTED if g[name]["median"] is not None
    ]
    step = max(1, -(-max([*values, 1]) // 5))
    highest = step * 5
    slot = (plot_right - left) / max(len(groups), 1)

    def y(days: int) -> float:
        return float(plot_bottom - (plot_bottom - top) * days / highest)

    lines: list[dict[str, Any]] = []
    described: list[str] = []
    for name in CHARTED:
        points: list[dict[str, Any]] = [
            {
                "index": index,
                "x": left + slot * (index + 0.5),
                "y": y(group[name]["median"]),
                "title": f"{formatting.month(group['key'])}: {_days(group[name]['median'])}",
            }
            for index, group in enumerate(groups)
            if group[name]["median"] is not None
        ]
        # A month without a median breaks the line: only neighbouring months are joined.
        runs: list[list[dict[str, Any]]] = []
        for point in points:
            if not runs or runs[-1][-1]["index"] != point["index"] - 1:
                runs.append([])
            runs[-1].append(point)
        paths = [" ".join(f"{p['x']:.1f},{p['y']:.1f}" for p in run) for run in runs if len(run) > 1]
        label = PRACTICE_LEAD_TIMES[name]
        lines.append(
            {"name": name, "label": label, "colour": COLOURS[name], "points": points, "paths": paths}
        )
        by_month = "; ".join(
            f"{formatting.month(g['key'])} {_days(g[name]['median'])}"
            for g in groups
            if g[name]["median"] is not None
        )
        described.append(f"Median {label.lower()}: {by_month or 'ingen'}.")
    every = max(1, -(-len(groups) // 6))  # a label is about as wide as a month's slot at 12 months
    x_ticks = [
        Tick(left + slot * (index + 0.5), formatting.month(group["key"]))
        for index, group in enumerate(groups)
        if index % every == 0
    ]
    y_ticks = [Tick(y(step * n), formatting.count(step * n)) for n in range(6)]
    frame = Axes(width, height, left, top, plot_right, plot_bottom, x_ticks, y_ticks, " ".join(described))
    return LeadTimeChart(**vars(frame), lines=lines)


def _days(value: int) -> str:
    return "1 dag" if value == 1 else f"{formatting.count(value)} dage"


def practice_shown(
    request: Request, ledger: Ledger, reports: Reports
) -> tuple[Viewer, Period, dict[str, Any], list[dict[str, Any]]] | Response:
    """What Praksis shows (the page and its workbook alike): the viewer, the period and grouping and
    the report's groups with their labels; or the login or refusal page."""
    viewer = open_page(request, "praksis", ledger)
    if isinstance(viewer, Response):
        return viewer
    period = practice_period(request, viewer.today)
    report = reports.practice(
        PracticeQuery(period.from_month, period.to_month, period.by, viewer.municipality)
    )
    label = _key_label(period.by, viewer, reports)
    rows = [{**group, "label": label(group)} for group in report["groups"]]
    return viewer, period, report, rows


@router.get("/praksis")
def praksis(request: Request, ledger: Ledger, reports: Reports) -> Response:
    """The practice report (``GET /reports/practice``) as a table, with the lead times over months."""
    shown = practice_shown(request, ledger, reports)
    if isinstance(shown, Response):
        return shown
    viewer, period, report, rows = shown
    monthly = report["groups"]
    if period.by != "month":
        query = PracticeQuery(period.from_month, period.to_month, "month", viewer.municipality)
        monthly = reports.practice(query)["groups"]
    return templates(request).render(
        "praksis.html",
        **frame(viewer, "praksis"),
        period=period,
        groupings=PRACTICE_BY,
        columns=PRACTICE_COLUMNS,
        lead_times=LEAD_TIMES,
        lead_time_names=PRACTICE_LEAD_TIMES,
        shares=SHARES,
        rows=rows,
        chart=lead_time_chart(monthly),
        intake=intake_chart(report["weekly_intake"]),
        share=share,
        reasons_text=reasons_text,
        month_names=formatting.MONTH_NAMES,
        years=picker_years(period, viewer.today),
        export_link=export_link(
            viewer, "praksis", {"from": period.from_month, "to": period.to_month, "by": period.by}
        ),
    )


@router.get("/praksis.xlsx")
def praksis_xlsx(request: Request, ledger: Ledger, reports: Reports) -> Response:
    """Praksis's table as an Excel workbook: a row per group, days as counts and shares as per cent;
    and the weekly intake (sheet "Pr. uge"), a row per week and the total."""
    shown = practice_shown(request, ledger, reports)
    if isinstance(shown, Response):
        return shown
    viewer, period, report, rows = shown
    percent = "0.0%"
    columns = [
        Column(PRACTICE_BY[period.by], width=36),
        *(Column(PRACTICE_COLUMNS[name], "count") for name in ("referred", "matched", "agreed", "closed")),
        *(
            Column(f"{PRACTICE_LEAD_TIMES[name]}, {which} (dage)", "count")
            for name in LEAD_TIMES
            for which in ("median", "p90")
        ),
        *(Column(PRACTICE_COLUMNS[name], "number", number_format=percent) for name in SHARES),
        Column(PRACTICE_COLUMNS["mean_extension_days"], "number", number_format="0.0"),
        Column(PRACTICE_COLUMNS["adjustments_per_referral"], "number"),
        Column(PRACTICE_COLUMNS["close_reasons"], width=50),
    ]
    table = [
        [
            row["label"],
            *(row[name] for name in ("referred", "matched", "agreed", "closed")),
            *(row[name][which] for name in LEAD_TIMES for which in ("median", "p90")),
            *(row[name] for name in SHARES),
            row["mean_extension_days"],
            row["adjustments_per_referral"],
            reasons_text(row["close_reasons"]),
        ]
        for row in rows
    ]
    details = [
        (
            "Indstillet i",
            f"{formatting.month_long(period.from_month)} – {formatting.month_long(period.to_month)}",
        ),
        ("Fordelt på", PRACTICE_BY[period.by]),
    ]
    sheet = Sheet(PAGE["praksis"].title, columns, table, frozen_columns=1)
    weeks = [[week_label(week), n] for week, n in report["weekly_intake"].items()]
    weekly = Sheet(WEEKLY_SHEET, WEEKLY_COLUMNS, weeks, [TOTAL, sum(n for _, n in weeks)], frozen_columns=1)
    name = f"praksis-{period.from_month}-{period.to_month}-{period.by}"
    return workbook_response([sheet, weekly], about(viewer, "praksis", details), name)
