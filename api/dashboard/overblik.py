"""Overblik: the supplier overview (``GET /reports/suppliers``) with the age of each price list."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.dashboard import formatting
from api.dashboard.access import frame, open_page
from api.dashboard.rendering import templates
from api.dependencies import Ledger, Reports
from projections.supplier_overview import OverviewQuery

router = APIRouter(prefix="/dashboard", include_in_schema=False)

YEAR_DAYS = 365


def price_list_entries(row: dict[str, Any], today: date) -> list[dict[str, Any]]:
    """The supplier's lists in force, one per municipality and negotiation date, newest first, each
    with its age and whether it is older than a year."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for in_force in row["price_lists"]:
        for item in [*in_force["rates"], *in_force["packages"]]:
            key = (in_force["municipality"], item["negotiated_on"])
            negotiated = date.fromisoformat(item["negotiated_on"])
            entry = found.setdefault(
                key,
                {
                    "municipality": in_force["municipality"],
                    "negotiated_on": item["negotiated_on"],
                    "age": formatting.age(negotiated, today),
                    "age_days": (today - negotiated).days,
                    "old": (today - negotiated).days > YEAR_DAYS,
                    "items": 0,
                },
            )
            entry["items"] += 1
    return sorted(found.values(), key=lambda e: (e["municipality"], e["negotiated_on"]), reverse=True)


@router.get("/overblik")
def overblik(request: Request, ledger: Ledger, reports: Reports) -> Response:
    """The supplier overview (``GET /reports/suppliers``) as a sortable, filterable table."""
    viewer = open_page(request, "overblik", ledger)
    if isinstance(viewer, Response):
        return viewer
    rows = reports.supplier_overview(OverviewQuery(municipality=viewer.municipality), viewer.today)
    suppliers = []
    for row in sorted(rows, key=lambda r: r["name"].casefold()):
        lists = price_list_entries(row, viewer.today)
        suppliers.append(
            {
                **row,
                "lists": lists,
                "oldest_days": max((e["age_days"] for e in lists), default=-1),
                "has_old": any(e["old"] for e in lists),
            }
        )
    return templates(request).render(
        "overblik.html",
        **frame(viewer, "overblik"),
        suppliers=suppliers,
        old_count=sum(1 for s in suppliers if s["has_old"]),
        committed=f"{sum((Decimal(s['committed_total']) for s in suppliers), Decimal(0)):.2f}",
    )
