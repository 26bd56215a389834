"""Forbrug: the spending timeline (``GET /reports/spending``) as a chart, a table and a workbook."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.dashboard import formatting
from api.dashboard.access import Viewer, about, export_link, frame, open_page
from api.dashboard.charts import months_between, stacked_bars
from api.dashboard.rendering import templates
from api.dashboard.session import PAGE
from api.dashboard.vocabulary import GROUPINGS, SPENDING, TOTAL, legal_basis_label
from api.dashboard.workbook import Column, Sheet, workbook_response
from api.dependencies import Ledger, Reports
from domain.reference import load_reference
from projections.spending import SpendingQuery
from projections.supplier_overview import OverviewQuery

router = APIRouter(prefix="/dashboard", include_in_schema=False)

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MAX_MONTHS = 60
YEARS_BACK, YEARS_AHEAD = 6, 2


def _shift_month(value: str, months: int) -> str:
    year, number = map(int, value.split("-"))
    index = year * 12 + number - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True)
class Period:
    from_month: str
    to_month: str
    by: str
    problem: str | None


def month_asked(params: Mapping[str, str], name: str) -> str:
    """``from`` or ``to`` as ``YYYY-MM``, or as the page's month picker sends it without JavaScript:
    two selects, ``from_month`` and ``from_year``."""
    value = params.get(name, "")
    month, year = params.get(f"{name}_month", ""), params.get(f"{name}_year", "")
    return value if value or not (month and year) else f"{year}-{month}"


def picker_years(period: Period, today: date) -> list[int]:
    """The years the month pickers offer: six back and two ahead, and any year the period reaches."""
    first = min(today.year - YEARS_BACK, int(period.from_month[:4]))
    return list(range(first, max(today.year + YEARS_AHEAD, int(period.to_month[:4])) + 1))


def period_of(request: Request, today: date) -> Period:
    """The chosen months and grouping; by default the twelve months up to this one, by intervention."""
    params = request.query_params
    this_month = f"{today.year:04d}-{today.month:02d}"
    first, last = month_asked(params, "from"), month_asked(params, "to")
    by = params.get("by", "intervention")
    problem = None
    if by not in GROUPINGS:
        by, problem = "intervention", "Ukendt gruppering; viser indsats."
    first = first if MONTH.match(first) else _shift_month(last if MONTH.match(last) else this_month, -11)
    last = last if MONTH.match(last) else max(first, this_month) if MONTH.match(first) else this_month
    if first > last:
        first, last = last, first
        problem = "Perioden var vendt om; fra og til er byttet."
    if len(months_between(first, last)) > MAX_MONTHS:
        first = _shift_month(last, -(MAX_MONTHS - 1))
        problem = f"Højst {MAX_MONTHS} måneder ad gangen; perioden er forkortet."
    return Period(first, last, by, problem)


def labeller(by: str, viewer: Viewer, reports: Reports) -> Callable[[str | None], str]:
    """Readable names for the keys of a grouping (supplier names, Danish intervention names, ...)."""
    if by == "supplier":
        rows = reports.supplier_overview(OverviewQuery(municipality=viewer.municipality), viewer.today)
        names = {row["supplier_id"]: row["name"] for row in rows}
        return lambda key: names.get(key or "", key or "(ingen leverandør)")
    if by == "intervention":
        interventions = load_reference().interventions
        return lambda key: interventions[key].name_da if key in interventions else str(key)
    if by == "legal_basis":
        return legal_basis_label
    if by == "municipality":
        return lambda key: f"Kommune {key}"
    return lambda key: f"{SPENDING} i alt"


def spending_query(period: Period, viewer: Viewer) -> SpendingQuery:
    return SpendingQuery(
        from_month=period.from_month,
        to_month=period.to_month,
        by=period.by or None,
        municipality=viewer.municipality,
    )


@dataclass(frozen=True)
class Series:
    """One key of a grouping on the Forbrug page: its label and its amounts by month."""

    key: str | None
    label: str
    amounts: dict[str, str]

    @property
    def values(self) -> dict[str, Decimal]:
        return {month: Decimal(amount) for month, amount in self.amounts.items()}

    @property
    def total(self) -> Decimal:
        return sum(self.values.values(), Decimal(0))


@dataclass(frozen=True)
class SpendingTable:
    """Forbrug's table: a row per key (biggest first) with its months, the monthly totals, the total."""

    months: list[str]
    this_month: str
    series: list[Series]
    month_totals: dict[str, Decimal]
    total: str


def spending_table(
    viewer: Viewer, period: Period, report: dict[str, Any], label: Callable[[str | None], str]
) -> SpendingTable:
    months = months_between(period.from_month, period.to_month)
    by_key: dict[str | None, dict[str, str]] = {}
    for row in report["rows"]:
        by_key.setdefault(row.get("key"), {})[row["month"]] = row["amount"]
    series = sorted(
        (Series(key, label(key), amounts) for key, amounts in by_key.items()),
        key=lambda found: (-found.total, found.label),
    )
    month_totals = {
        m: sum((found.values[m] for found in series if m in found.values), Decimal(0)) for m in months
    }
    this_month = f"{viewer.today.year:04d}-{viewer.today.month:02d}"
    return SpendingTable(months, this_month, series, month_totals, report["total"])


def spending_shown(
    request: Request, ledger: Ledger, reports: Reports
) -> tuple[Viewer, Period, SpendingTable] | Response:
    """What Forbrug shows (the page and its workbook alike): the viewer, the period and grouping asked
    for and the table of the spending report for them; or the login or refusal page."""
    viewer = open_page(request, "forbrug", ledger)
    if isinstance(viewer, Response):
        return viewer
    period = period_of(request, viewer.today)
    report = reports.spending(spending_query(period, viewer))
    return viewer, period, spending_table(viewer, period, report, labeller(period.by, viewer, reports))


@router.get("/forbrug")
def forbrug(request: Request, ledger: Ledger, reports: Reports) -> Response:
    """The spending timeline (``GET /reports/spending``) as a stacked monthly chart and a table."""
    shown = spending_shown(request, ledger, reports)
    if isinstance(shown, Response):
        return shown
    viewer, period, table = shown
    chart = stacked_bars(
        table.months, [(found.label, found.values) for found in table.series], table.this_month
    )
    return templates(request).render(
        "forbrug.html",
        **frame(viewer, "forbrug"),
        period=period,
        groupings=GROUPINGS,
        months=table.months,
        this_month=table.this_month,
        series=table.series,
        chart=chart,
        month_totals={m: f"{v:.2f}" for m, v in table.month_totals.items()},
        total=table.total,
        month_names=formatting.MONTH_NAMES,
        years=picker_years(period, viewer.today),
        export_link=export_link(
            viewer, "forbrug", {"from": period.from_month, "to": period.to_month, "by": period.by}
        ),
    )


def month_header(name: str, this_month: str) -> str:
    """A month column's header, saying which month is this one and which are committed ahead."""
    if name == this_month:
        return f"{formatting.month(name)} (denne måned)"
    return f"{formatting.month(name)} (disponeret)" if name > this_month else formatting.month(name)


@router.get("/forbrug.xlsx")
def forbrug_xlsx(request: Request, ledger: Ledger, reports: Reports) -> Response:
    """Forbrug's table as an Excel workbook: a row per key, the months as columns, "I alt" last."""
    shown = spending_shown(request, ledger, reports)
    if isinstance(shown, Response):
        return shown
    viewer, period, table = shown
    columns = [
        Column(GROUPINGS[period.by] if period.by else SPENDING, width=40),
        *(Column(month_header(m, table.this_month), "money") for m in table.months),
        Column(TOTAL, "money"),
    ]
    rows = [
        [found.label, *(found.amounts.get(m) for m in table.months), found.total] for found in table.series
    ]
    footer = [TOTAL, *(table.month_totals[m] for m in table.months), table.total]
    sheet = Sheet(PAGE["forbrug"].title, columns, rows, footer, frozen_columns=1)
    details = [
        ("Periode", f"{formatting.month_long(period.from_month)} – {formatting.month_long(period.to_month)}"),
        ("Fordelt på", GROUPINGS[period.by]),
    ]
    name = f"forbrug-{period.from_month}-{period.to_month}" + (f"-{period.by}" if period.by else "")
    return workbook_response([sheet], about(viewer, "forbrug", details), name)
