"""Priser: the price benchmarks (``GET /reports/price-benchmarks``), agreed against list rates."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.basis import Basis
from api.dashboard import formatting
from api.dashboard.access import Viewer, about, export_link, frame, open_page
from api.dashboard.charts import distribution
from api.dashboard.known import known_on, read_known
from api.dashboard.price_exceptions import PriceExceptions, exception_sheet, price_exceptions_shown
from api.dashboard.rendering import templates
from api.dashboard.session import PAGE
from api.dashboard.vocabulary import PRICE_COLUMNS, STATISTICS, UNITS
from api.dashboard.workbook import Column, Sheet, workbook_response
from api.dependencies import Ledger
from domain.reference import load_reference
from projections.price_benchmarks import BenchmarkQuery

router = APIRouter(prefix="/dashboard", include_in_schema=False)


def benchmarks_shown(
    request: Request, ledger: Ledger
) -> tuple[Viewer, dict[str, Any], list[dict[str, Any]], Basis, PriceExceptions] | Response:
    """What Priser shows (the page and its workbook alike): the viewer, the intervention, unit and
    "Kendt pr." day asked for (unknown ones dropped), the benchmark rows for them as known then (as
    ``GET /reports/price-benchmarks?known_at=`` answers), their basis, and the price exceptions and
    lists read in the same read (as ``known_at`` the same instant); or the login or refusal page."""
    viewer = open_page(request, "priser", ledger)
    if isinstance(viewer, Response):
        return viewer
    interventions = load_reference().interventions
    intervention = request.query_params.get("intervention") or None
    if intervention not in interventions:
        intervention = None
    unit = request.query_params.get("unit") or None
    if unit not in UNITS:
        unit = None
    day = known_on(request)
    query = BenchmarkQuery(intervention=intervention, unit=unit, municipality=viewer.municipality)
    basis, (rows, exceptions) = read_known(
        request,
        ledger,
        day,
        lambda read: (
            read.price_benchmarks(query, viewer.today),
            price_exceptions_shown(viewer, read, intervention),
        ),
    )
    shown = [
        {
            **row,
            "label": interventions[row["intervention"]].name_da
            if row["intervention"] in interventions
            else row["intervention"],
            "unit_label": UNITS.get(row["unit"], row["unit"]),
        }
        for row in rows
    ]
    chosen = {"intervention": intervention, "unit": unit, "known_on": day.isoformat() if day else None}
    return viewer, chosen, shown, basis, exceptions


@router.get("/priser")
def priser(request: Request, ledger: Ledger) -> Response:
    """Price benchmarks (``GET /reports/price-benchmarks``): agreed rates against list rates."""
    shown = benchmarks_shown(request, ledger)
    if isinstance(shown, Response):
        return shown
    viewer, chosen, rows, basis, exceptions = shown
    return templates(request).render(
        "priser.html",
        **frame(viewer, "priser"),
        rows=[{**row, "chart": distribution(row)} for row in rows],
        interventions=sorted(load_reference().interventions.values(), key=lambda i: i.name_da),
        units=UNITS,
        columns=PRICE_COLUMNS,
        statistics=STATISTICS,
        export_link=export_link(viewer, "priser", chosen),
        basis=basis,
        exceptions=exceptions,
        sees_trail=viewer.principal.can("audit:read"),
        **chosen,
    )


@router.get("/priser.xlsx")
def priser_xlsx(request: Request, ledger: Ledger) -> Response:
    """Priser's tables as an Excel workbook: a row per intervention and unit, counts and rates; and
    the price exceptions the page lists (sheet "Prisundtagelser")."""
    shown = benchmarks_shown(request, ledger)
    if isinstance(shown, Response):
        return shown
    viewer, chosen, rows, basis, exceptions = shown
    agreed, listed = PRICE_COLUMNS["agreed"], PRICE_COLUMNS["listed"]
    columns = [
        Column(PRICE_COLUMNS["intervention"], width=40),
        Column(PRICE_COLUMNS["unit"], width=10),
        *(
            Column(f"{group}, {name.lower()}", kind)
            for group in (agreed, listed)
            for name, kind in STATISTICS
        ),
    ]
    fields = [("agreements", "min", "median", "max"), ("list_rates", "list_min", "list_median", "list_max")]
    table = [
        [row["label"], f"pr. {row['unit_label']}", *(row[name] for group in fields for name in group)]
        for row in rows
    ]
    interventions = load_reference().interventions
    details = [
        ("Indsats", interventions[chosen["intervention"]].name_da if chosen["intervention"] else "alle"),
        ("Enhed", f"pr. {UNITS[chosen['unit']]}" if chosen["unit"] else "alle"),
        ("Listepriser i kraft pr.", formatting.day(viewer.today)),
        ("Kendt pr.", formatting.day(chosen["known_on"]) if chosen["known_on"] else "nu"),
        ("Logposition", formatting.count(basis.position)),
    ]
    name = f"priser-{viewer.municipality or 'alle'}-{viewer.today.isoformat()}"
    sheet = Sheet(PAGE["priser"].title, columns, table, frozen_columns=2)
    return workbook_response([sheet, exception_sheet(exceptions)], about(viewer, "priser", details), name)
