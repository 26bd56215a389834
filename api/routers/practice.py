"""Reports on pricing practice for the matching unit and controllers: prices above the list rate,
and price lists that are old or missing."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request

from api.auth import municipality_scope
from api.csv_export import csv_response, wants_csv
from api.dependencies import Fresh, Ledger, Reports
from api.fields import Day, SearchText
from api.practice_responses import PriceExceptionPageOut, PriceListReportOut
from api.problems import responses
from projections.price_practice import ExceptionQuery, PriceListQuery

router = APIRouter(prefix="/reports", tags=["reports"])
CSV_AND_PROBLEMS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "JSON, or CSV for `Accept: text/csv` (the rows, nested values as JSON)",
    },
    **responses(401, 403, 422, 503),
}
ReportScope = Annotated[str | None, Depends(municipality_scope("report:read"))]
"""The report right; the municipality to report on (a scoped token: always its own)."""


@router.get("/price-exceptions", response_model=PriceExceptionPageOut, responses=CSV_AND_PROBLEMS)
def price_exceptions(
    municipality: ReportScope,
    request: Request,
    reports: Reports,
    _fresh: Fresh,
    from_date: Annotated[
        Day | None, Query(alias="from", description="First decision date, inclusive.")
    ] = None,
    to_date: Annotated[Day | None, Query(alias="to", description="Last decision date, inclusive.")] = None,
    supplier_id: UUID | None = None,
    intervention: SearchText | None = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Any:
    """Every price agreement and rate adjustment above the list rate in force on its start (an
    adjustment: its effective_from), newest decision first; the period filters on the decision date."""
    found = reports.price_exceptions(
        ExceptionQuery(
            from_date=from_date.isoformat() if from_date else None,
            to_date=to_date.isoformat() if to_date else None,
            municipality=municipality,
            supplier_id=str(supplier_id) if supplier_id else None,
            intervention=intervention,
            page=page,
            page_size=page_size,
        )
    )
    return csv_response(found["items"], "price-exceptions") if wants_csv(request) else found


@router.get("/price-lists", response_model=PriceListReportOut, responses=CSV_AND_PROBLEMS)
def price_lists(
    municipality: ReportScope,
    request: Request,
    ledger: Ledger,
    reports: Reports,
    _fresh: Fresh,
    older_than_months: Annotated[
        int, Query(ge=0, le=1200, description="Report lists negotiated more than this many months ago.")
    ] = 12,
) -> Any:
    """Suppliers' lists in force today (Europe/Copenhagen) negotiated more than `older_than_months`
    ago, and suppliers with active referrals in an intervention no list in force covers."""
    report = reports.price_lists(
        PriceListQuery(older_than_months=older_than_months, municipality=municipality), ledger.today()
    )
    if wants_csv(request):
        rows = [{"finding": "stale", **row} for row in report["stale"]]
        rows += [{"finding": "missing", **row} for row in report["missing"]]
        return csv_response(rows, "price-lists")
    return report
