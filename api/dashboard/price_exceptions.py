"""Priser's second half: the newest price exceptions (``GET /reports/price-exceptions``) and the
price lists' hygiene (``GET /reports/price-lists``), with names instead of codes, as the page and
its workbook show them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.dashboard.access import Viewer
from api.dashboard.vocabulary import UNITS
from api.dashboard.workbook import Column, Sheet
from api.dependencies import Reports
from domain.reference import load_reference
from projections.price_practice import ExceptionQuery, PriceListQuery

SHOWN = 50
"""How many exceptions the page lists: the first page of the endpoint at its default size."""
STALE_MONTHS = 12
"""A list negotiated longer ago than this is stale: the endpoint's default."""
EXCEPTION_SHEET = "Prisundtagelser"
EXCEPTION_COLUMNS = (
    Column("Besluttet", "date"),
    Column("Leverandør", width=30),
    Column("Indsats", width=34),
    Column("Enhed", width=10),
    Column("Aftalt takst", "money"),
    Column("Listepris", "money"),
    Column("Forskel (%)", "number", number_format="0.0"),
    Column("Listens alder (dage)", "count"),
    Column("Begrundelse", width=50),
    Column("Besluttet af", width=24),
    Column("Indstilling", width=38),
)
TYPES = {"referral.price_agreed": "aftale", "referral.adjusted": "regulering"}


@dataclass(frozen=True)
class PriceExceptions:
    """The exceptions shown (the newest first), how many there are in all, and the lists' hygiene."""

    items: list[dict[str, Any]]
    total: int
    lists: dict[str, Any]
    stale_months: int = STALE_MONTHS


def intervention_name(code: str) -> str:
    found = load_reference().interventions.get(code)
    return found.name_da if found else code


def price_exceptions_shown(viewer: Viewer, reports: Reports, intervention: str | None) -> PriceExceptions:
    """The first page of the price exceptions for the viewer's municipality (and the intervention
    chosen on the page), and the lists in force today that are stale or missing; from ``reports``,
    which Priser reads as known at its "Kendt pr." day."""
    found = reports.price_exceptions(
        ExceptionQuery(municipality=viewer.municipality, intervention=intervention, page_size=SHOWN)
    )
    items = [
        {
            **item,
            "intervention_name": intervention_name(item["intervention"]),
            "decided_by": item["actor"].get("name") or item["actor"]["id"],
            "kind": TYPES.get(item["type"], item["type"]),
            "unit_label": f"pr. {UNITS.get(item['unit'], item['unit'])}",
        }
        for item in found["items"]
    ]
    lists = reports.price_lists(
        PriceListQuery(older_than_months=STALE_MONTHS, municipality=viewer.municipality), viewer.today
    )
    lists = {
        **lists,
        "stale": [
            {**row, "intervention_names": [intervention_name(code) for code in row["interventions"]]}
            for row in lists["stale"]
        ],
        "missing": [
            {**row, "intervention_name": intervention_name(row["intervention"])} for row in lists["missing"]
        ],
    }
    return PriceExceptions(items, int(found["total"]), lists)


def exception_sheet(shown: PriceExceptions) -> Sheet:
    """The exceptions the page lists as the workbook's sheet "Prisundtagelser"."""
    rows = [
        [
            item["decided_on"],
            item["supplier_name"] or item["supplier_id"],
            item["intervention_name"],
            item["unit_label"],
            item["agreed"],
            item["list_rate"],
            item["difference_pct"],
            item["list_age_days"],
            item["rationale"],
            item["decided_by"],
            item["referral_id"],
        ]
        for item in shown.items
    ]
    return Sheet(EXCEPTION_SHEET, EXCEPTION_COLUMNS, rows, frozen_columns=2)
