"""Priser: the price benchmarks (``GET /reports/price-benchmarks``), agreed against list rates."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.dashboard.access import frame, open_page
from api.dashboard.charts import distribution
from api.dashboard.rendering import templates
from api.dashboard.vocabulary import UNITS
from api.dependencies import Ledger, Reports
from domain.reference import load_reference
from projections.price_benchmarks import BenchmarkQuery

router = APIRouter(prefix="/dashboard", include_in_schema=False)


@router.get("/priser")
def priser(request: Request, ledger: Ledger, reports: Reports) -> Response:
    """Price benchmarks (``GET /reports/price-benchmarks``): agreed rates against list rates."""
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
    rows = reports.price_benchmarks(
        BenchmarkQuery(intervention=intervention, unit=unit, municipality=viewer.municipality), viewer.today
    )
    shown = [
        {
            **row,
            "label": interventions[row["intervention"]].name_da
            if row["intervention"] in interventions
            else row["intervention"],
            "unit_label": UNITS.get(row["unit"], row["unit"]),
            "chart": distribution(row),
        }
        for row in rows
    ]
    return templates(request).render(
        "priser.html",
        **frame(viewer, "priser"),
        rows=shown,
        interventions=sorted(interventions.values(), key=lambda i: i.name_da),
        intervention=intervention,
        units=UNITS,
        unit=unit,
    )
