"""Forbrug: the spending timeline (``GET /reports/spending``) as a chart, a table and a CSV file."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.csv_export import safe_cell
from api.dashboard.access import Viewer, frame, open_page
from api.dashboard.charts import months_between, stacked_bars
from api.dashboard.rendering import templates
from api.dashboard.vocabulary import GROUPINGS
from api.dependencies import Ledger, Reports
from domain.reference import load_reference
from projections.spending import SpendingQuery
from projections.supplier_overview import OverviewQuery

router = APIRouter(prefix="/dashboard", include_in_schema=False)

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MAX_MONTHS = 60


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


def period_of(request: Request, today: date) -> Period:
    """The chosen months and grouping; by default the twelve months up to this one, by intervention."""
    params = request.query_params
    this_month = f"{today.year:04d}-{today.month:02d}"
    first, last = params.get("from", ""), params.get("to", "")
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
        bases = load_reference().legal_bases
        return lambda key: f"{key} {bases[key].title_da}" if key in bases else str(key)
    if by == "municipality":
        return lambda key: f"Kommune {key}"
    return lambda key: "Forpligtet forbrug i alt"


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


def spending_shown(
    request: Request, ledger: Ledger, reports: Reports
) -> tuple[Viewer, Period, dict[str, Any], Callable[[str | None], str]] | Response:
    """What Forbrug shows (the page and its CSV alike): the viewer, the period and grouping asked
    for, the spending report for them and the labels of its keys; or the login or refusal page."""
    viewer = open_page(request, "forbrug", ledger)
    if isinstance(viewer, Response):
        return viewer
    period = period_of(request, viewer.today)
    report = reports.spending(spending_query(period, viewer))
    return viewer, period, report, labeller(period.by, viewer, reports)


@router.get("/forbrug")
def forbrug(request: Request, ledger: Ledger, reports: Reports) -> Response:
    """The spending timeline (``GET /reports/spending``) as a stacked monthly chart and a table."""
    shown = spending_shown(request, ledger, reports)
    if isinstance(shown, Response):
        return shown
    viewer, period, report, label = shown
    months = months_between(period.from_month, period.to_month)
    by_key: dict[str | None, dict[str, str]] = {}
    for row in report["rows"]:
        by_key.setdefault(row.get("key"), {})[row["month"]] = row["amount"]
    series = sorted(
        (Series(key, label(key), amounts) for key, amounts in by_key.items()),
        key=lambda found: (-found.total, found.label),
    )
    this_month = f"{viewer.today.year:04d}-{viewer.today.month:02d}"
    chart = stacked_bars(months, [(found.label, found.values) for found in series], this_month)
    month_totals = {
        m: sum((found.values[m] for found in series if m in found.values), Decimal(0)) for m in months
    }
    query = {"from": period.from_month, "to": period.to_month, "by": period.by}
    if viewer.municipality and not viewer.fixed_municipality:
        query["municipality"] = viewer.municipality
    return templates(request).render(
        "forbrug.html",
        **frame(viewer, "forbrug"),
        period=period,
        groupings=GROUPINGS,
        months=months,
        this_month=this_month,
        series=series,
        chart=chart,
        month_totals={m: f"{v:.2f}" for m, v in month_totals.items()},
        total=report["total"],
        csv_link=f"/dashboard/forbrug.csv?{urlencode(query)}",
    )


@router.get("/forbrug.csv")
def forbrug_csv(request: Request, ledger: Ledger, reports: Reports) -> Response:
    """What the Forbrug page shows, as CSV: the endpoint's rows (month, key, amount) with a label."""
    shown = spending_shown(request, ledger, reports)
    if isinstance(shown, Response):
        return shown
    _, period, report, label = shown
    columns = ["month", "key", "label", "amount"] if period.by else ["month", "amount"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in report["rows"]:
        by = [row["month"], row["key"], label(row["key"]), row["amount"]]
        cells = by if period.by else [row["month"], row["amount"]]
        writer.writerow([safe_cell(cell) for cell in cells])
    name = f"forbrug-{period.from_month}-{period.to_month}" + (f"-{period.by}" if period.by else "")
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"', "Cache-Control": "no-store"},
    )
