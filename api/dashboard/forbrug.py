"""Forbrug: the spending timeline (``GET /reports/spending``) as a chart, a table and a workbook."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.basis import Basis
from api.csv_export import safe_cell
from api.dashboard import formatting, spending_cells
from api.dashboard.access import Viewer, about, export_link, frame, open_page
from api.dashboard.charts import months_between, stacked_bars
from api.dashboard.known import known_on, read_known
from api.dashboard.rendering import templates
from api.dashboard.session import PAGE
from api.dashboard.vocabulary import (
    AMOUNTS,
    GROUPING_PLURALS,
    GROUPINGS,
    OTHERS,
    SPENDING,
    TOP_CHOICES,
    TOTAL,
    legal_basis_label,
)
from api.dashboard.workbook import Column, Sheet, workbook_response
from api.dependencies import Ledger, Reports
from domain.reference import load_reference
from projections.spending import SpendingQuery
from projections.supplier_overview import OverviewQuery

router = APIRouter(prefix="/dashboard", include_in_schema=False)

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MAX_MONTHS = 60
YEARS_BACK, YEARS_AHEAD = 6, 2
MAX_SEARCH = 200
WRITERS = {"ore": formatting.kroner, "kr": formatting.whole_kroner, "tkr": formatting.thousand_kroner}
CELL_BUDGET = 3000
"""Cells (rows × columns) above which the table is shown a page of rows at a time: the browser's
layout of the table is what costs (by supplier over 60 months, 180 × 62 cells; docs/dashboard.md)."""
DANISH_LAST = str.maketrans({"æ": "{", "ø": "|", "å": "}"})
"""æ, ø, å after z, in that order (the server's sort of a paged table by name)."""


def _shift_month(value: str, months: int) -> str:
    year, number = map(int, value.split("-"))
    index = year * 12 + number - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True)
class Period:
    """What Forbrug is asked for: the months, the grouping, how many keys get a row of their own
    (``top``; 0 for all) and how amounts are written (``amounts``, a key of ``AMOUNTS``)."""

    from_month: str
    to_month: str
    by: str
    problem: str | None
    top: int = 0
    amounts: str = "ore"
    search: str = ""


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
    top = params.get("top", "")
    amounts = params.get("amounts", "ore")
    return Period(
        first,
        last,
        by,
        problem,
        int(top) if top.isdigit() and len(top) <= 3 else 0,
        amounts if amounts in AMOUNTS else "ore",
        (params.get("q") or "").strip()[:MAX_SEARCH],
    )


def page_asked(request: Request, pages: int) -> int:
    """The page asked for (``page``), within 1 and ``pages``; 1 for a text that is no number."""
    text = request.query_params.get("page", "1")
    return max(1, min(pages, int(text))) if text.isdigit() and len(text) < 7 else 1


def rows_per_page(columns: int) -> int:
    """Rows a page of a table with ``columns`` columns: a multiple of ten whose cells stay within
    ``CELL_BUDGET`` (40 for 60 months and the name and "I alt" columns), at least ten."""
    return max(10, CELL_BUDGET // columns // 10 * 10)


def ordered(series: list[Series], sort: str, descending: bool) -> list[Series]:
    """``series`` sorted as the address asks (``sort``: ``total``, a month ``YYYY-MM`` or ``0``,
    the name column, as the page's script names its columns), else as they are. The script sorts
    a table shown whole itself; a paged one it asks the server to sort, over every row."""
    if sort == "total":
        return sorted(series, key=lambda found: found.total, reverse=descending)
    if MONTH.match(sort):
        return sorted(series, key=lambda found: found.values.get(sort, Decimal(0)), reverse=descending)
    if sort == "0":
        return sorted(
            series, key=lambda found: found.label.lower().translate(DANISH_LAST), reverse=descending
        )
    return series


@dataclass(frozen=True)
class RowPage:
    """The rows a page shows: all of them (``pages`` 1), or ``size`` of them from number ``first``
    (1-based) of ``count``."""

    rows: list[Any]
    count: int
    page: int
    pages: int
    first: int
    size: int

    def pager(self, link: Callable[[int], str]) -> dict[str, Any]:
        """The pager's words and links (``link``: a page number's address)."""
        return {
            "page": self.page,
            "pages": self.pages,
            "first": self.first,
            "last": self.first + len(self.rows) - 1,
            "previous": link(self.page - 1) if self.page > 1 else None,
            "next": link(self.page + 1) if self.page < self.pages else None,
            "next_size": min(self.size, self.count - self.first + 1 - self.size),
            "size": self.size,
        }


def page_of(request: Request, rows: list[Any], size: int) -> RowPage:
    """The page of ``rows``, ``size`` a page, that the address asks for (``page``)."""
    pages = max(1, -(-len(rows) // size))
    page = page_asked(request, pages)
    start = (page - 1) * size
    return RowPage(rows[start : start + size], len(rows), page, pages, start + 1, size)


def row_page(request: Request, series: list[Series], months: list[str]) -> RowPage:
    """The page of ``series`` asked for (``page``, ``sort`` and ``dir`` in the address): all of them
    unless the table would have more than ``CELL_BUDGET`` cells."""
    params = request.query_params
    rows = ordered(series, params.get("sort", ""), params.get("dir") == "desc")
    columns = len(months) + 2
    if len(rows) * columns <= CELL_BUDGET:
        return RowPage(rows, len(rows), 1, 1, 1, len(rows))
    return page_of(request, rows, rows_per_page(columns))


def address_link(request: Request) -> Callable[[int], str]:
    """A page number's address: the page's own with every choice, and that ``page``."""
    asked = dict(request.query_params)
    return lambda number: f"/dashboard/forbrug?{urlencode({**asked, 'page': number})}"


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
    others: int = 0
    """How many keys this row gathers ("Øvrige"), or 0 for a key's own row."""

    @cached_property
    def values(self) -> dict[str, Decimal]:
        return {month: Decimal(amount) for month, amount in self.amounts.items()}

    @cached_property
    def total(self) -> Decimal:
        return sum(self.values.values(), Decimal(0))


@dataclass(frozen=True)
class SpendingTable:
    """Forbrug's table: a row per key (biggest first; beyond the top N one row "Øvrige") with its
    months, the monthly totals and the total; ``every`` keeps each key for the chart."""

    months: list[str]
    this_month: str
    series: list[Series]
    month_totals: dict[str, Decimal]
    total: str
    every: list[Series]
    report_rows: list[dict[str, Any]]
    label: Callable[[str | None], str]


def spending_table(
    viewer: Viewer, period: Period, report: dict[str, Any], label: Callable[[str | None], str]
) -> SpendingTable:
    months = months_between(period.from_month, period.to_month)
    by_key: dict[str | None, dict[str, str]] = {}
    for row in report["rows"]:
        by_key.setdefault(row.get("key"), {})[row["month"]] = row["amount"]
    every = sorted(
        (Series(key, label(key), amounts) for key, amounts in by_key.items()),
        key=lambda found: (-found.total, found.label),
    )
    words = period.search.lower().split()
    if words:
        every = [found for found in every if all(word in found.label.lower() for word in words)]
    series = every
    if period.top and len(every) > period.top:
        series = [*every[: period.top], gathered(every[period.top :])]
    month_totals = {
        m: sum((found.values[m] for found in series if m in found.values), Decimal(0)) for m in months
    }
    this_month = f"{viewer.today.year:04d}-{viewer.today.month:02d}"
    # With a search the total is the found rows', else the report's (the same sum, exactly).
    total = f"{sum((found.total for found in every), Decimal(0)):.2f}" if words else report["total"]
    return SpendingTable(months, this_month, series, month_totals, total, every, report["rows"], label)


def gathered(rest: list[Series]) -> Series:
    """The keys beyond the top N as one row, "Øvrige (n)", their amounts added month by month."""
    amounts: dict[str, Decimal] = {}
    for found in rest:
        for month, amount in found.values.items():
            amounts[month] = amounts.get(month, Decimal(0)) + amount
    return Series(
        None,
        f"{OTHERS} ({formatting.count(len(rest))})",
        {m: f"{a:.2f}" for m, a in amounts.items()},
        len(rest),
    )


def spending_shown(
    request: Request, ledger: Ledger, reports: Reports
) -> tuple[Viewer, Period, SpendingTable, Basis] | Response:
    """What Forbrug shows (the page and its workbook alike): the viewer, the period and grouping asked
    for, the table of the spending report for them as known at the "Kendt pr." day (now, if none)
    and its basis; or the login or refusal page."""
    viewer = open_page(request, "forbrug", ledger)
    if isinstance(viewer, Response):
        return viewer
    period = period_of(request, viewer.today)
    query = spending_query(period, viewer)
    basis, report = read_known(request, ledger, known_on(request), lambda read: read.spending(query))
    return viewer, period, spending_table(viewer, period, report, labeller(period.by, viewer, reports)), basis


@router.get("/forbrug")
def forbrug(request: Request, ledger: Ledger, reports: Reports) -> Response:
    """The spending timeline (``GET /reports/spending``) as a stacked monthly chart and a table."""
    shown = spending_shown(request, ledger, reports)
    if isinstance(shown, Response):
        return shown
    viewer, period, table, basis = shown
    day = known_on(request)
    shown_rows = row_page(request, table.series, table.months)
    chart = stacked_bars(
        table.months, [(found.label, found.values) for found in table.every], table.this_month
    )
    return templates(request).render(
        "forbrug.html",
        **frame(viewer, "forbrug"),
        period=period,
        groupings=GROUPINGS,
        months=table.months,
        this_month=table.this_month,
        series=table.series,
        table_body=spending_cells.body(
            shown_rows.rows, table.months, table.this_month, WRITERS[period.amounts]
        ),
        pager=shown_rows.pager(address_link(request)),
        row_count=shown_rows.count,
        all_rows=GROUPING_PLURALS[period.by],
        chart=chart,
        month_totals={m: f"{v:.2f}" for m, v in table.month_totals.items()},
        total=table.total,
        money=WRITERS[period.amounts],
        amount_choices=AMOUNTS,
        top_choices=top_choices(period),
        month_names=formatting.MONTH_NAMES,
        years=picker_years(period, viewer.today),
        export_link=export_link(
            viewer, "forbrug", {**period_query(period), "known_on": day.isoformat() if day else None}
        ),
        cell_link=cell_link(viewer, period, day, table_place(request, shown_rows.page)),
        known_on=day,
        basis=basis,
    )


def cell_link(
    viewer: Viewer, period: Period, day: date | None = None, place: dict[str, str] | None = None
) -> str:
    """The address of a cell's lineage without its month and key, which the page's script adds
    from the cell's column and row: the page's choices (the "Kendt pr." day among them, which the
    cell is read as known at) and the table's ``place``, so the cell's page can lead back."""
    chosen = {**period_query(period), "known_on": day.isoformat() if day else None, **(place or {})}
    link = export_link(viewer, "forbrug", chosen).replace("forbrug.xlsx?", "forbrug/celle?", 1)
    return link if period.by else f"{link}&by="  # "Ingen": kept, so the way back is to the same grouping


def table_place(request: Request, page: int) -> dict[str, str]:
    """Where in the table the reader is: its page (``forbrug_page``, as the cell's page has a
    ``page`` of its own) and the sort the server applied; empty on the first page unsorted."""
    params = request.query_params
    place = {"forbrug_page": str(page)} if page > 1 else {}
    if params.get("sort"):
        place["sort"] = params["sort"]
        if params.get("dir"):
            place["dir"] = params["dir"]
    return place


def top_choices(period: Period) -> dict[str, str]:
    """The choices of "Rækker", with the one in the address if it is not among them."""
    asked = {str(period.top): f"{formatting.count(period.top)} største"} if period.top else {}
    return {**TOP_CHOICES, **asked}


def period_query(period: Period) -> dict[str, str | None]:
    """The address's parameters for ``period`` (defaults left out)."""
    return {
        "from": period.from_month,
        "to": period.to_month,
        "by": period.by,
        "top": str(period.top) if period.top else None,
        "amounts": period.amounts if period.amounts != "ore" else None,
        "q": period.search or None,
    }


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
    viewer, period, table, basis = shown
    day = known_on(request)
    shown_as = AMOUNTS[period.amounts][1]
    columns = [
        Column(GROUPINGS[period.by] if period.by else SPENDING, width=40),
        *(Column(month_header(m, table.this_month), "money", number_format=shown_as) for m in table.months),
        Column(TOTAL, "money", number_format=shown_as),
    ]
    rows = [
        [found.label, *(found.amounts.get(m) for m in table.months), found.total] for found in table.series
    ]
    footer = [TOTAL, *(table.month_totals[m] for m in table.months), table.total]
    sheet = Sheet(PAGE["forbrug"].title, columns, rows, footer, frozen_columns=1)
    details = [
        ("Periode", f"{formatting.month_long(period.from_month)} – {formatting.month_long(period.to_month)}"),
        ("Fordelt på", GROUPINGS[period.by]),
        ("Rækker", top_choices(period)[str(period.top or "")]),
        ("Beløb vist i", AMOUNTS[period.amounts][0]),
        ("Søgning", period.search or "ingen"),
        ("Kendt pr.", formatting.day(day) if day else "nu"),
        ("Logposition", formatting.count(basis.position)),
    ]
    name = f"forbrug-{period.from_month}-{period.to_month}" + (f"-{period.by}" if period.by else "")
    return workbook_response([sheet], about(viewer, "forbrug", details), name)


@router.get("/forbrug.csv")
def forbrug_csv(request: Request, ledger: Ledger, reports: Reports) -> Response:
    """The spending report's rows (month, key, amount) with a label, as plain CSV for scripts that
    fetched it before the workbook came; no longer linked from the page (see docs/dashboard.md)."""
    shown = spending_shown(request, ledger, reports)
    if isinstance(shown, Response):
        return shown
    _, period, table, _ = shown
    columns = ["month", "key", "label", "amount"] if period.by else ["month", "amount"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in table.report_rows:
        by = [row["month"], row["key"], table.label(row["key"]), row["amount"]]
        cells = by if period.by else [row["month"], row["amount"]]
        writer.writerow([safe_cell(cell) for cell in cells])
    name = f"forbrug-{period.from_month}-{period.to_month}" + (f"-{period.by}" if period.by else "")
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"', "Cache-Control": "no-store"},
    )
