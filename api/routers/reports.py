"""Reports from the projections: supplier overview, spending timeline, price benchmarks."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request

from api.auth import municipality_scope
from api.csv_export import csv_response, wants_csv
from api.dependencies import Fresh, Ledger, Reports
from api.fields import SearchText
from api.problems import responses
from api.responses import BenchmarkOut, SpendingOut, SupplierOverviewOut, SupplierReportOut
from domain.errors import NotFound
from projections.price_benchmarks import BenchmarkQuery
from projections.spending import SpendingQuery
from projections.supplier_overview import OverviewQuery

router = APIRouter(prefix="/reports", tags=["reports"])
CSV_AND_PROBLEMS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "JSON, or CSV for `Accept: text/csv` (the same columns, nested values as JSON)",
    },
    **responses(401, 403, 404, 422, 503),
}
ReportScope = Annotated[str | None, Depends(municipality_scope("report:read"))]
"""The report right; the municipality to report on (a scoped token: always its own)."""


@router.get("/suppliers", response_model=list[SupplierOverviewOut], responses=CSV_AND_PROBLEMS)
def supplier_overview(
    municipality: ReportScope,
    request: Request,
    ledger: Ledger,
    reports: Reports,
    _fresh: Fresh,
) -> Any:
    """Per supplier: CVR, contact, prices in force (with negotiation dates), caseload and committed spend."""
    rows = reports.supplier_overview(OverviewQuery(municipality=municipality), ledger.today())
    return csv_response(rows, "suppliers") if wants_csv(request) else rows


@router.get("/suppliers/{supplier_id}", response_model=SupplierReportOut, responses=CSV_AND_PROBLEMS)
def supplier_report(
    supplier_id: UUID,
    municipality: ReportScope,
    request: Request,
    ledger: Ledger,
    reports: Reports,
    _fresh: Fresh,
) -> Any:
    """One supplier's overview row, plus its referrals by status."""
    rows = reports.supplier_overview(
        OverviewQuery(municipality=municipality, supplier_id=str(supplier_id)), ledger.today()
    )
    if not rows:
        raise NotFound("supplier-not-found", f"no supplier with id {supplier_id}")
    row = rows[0]
    by_status: dict[str, int] = {}
    for status in ("referred", "matched", "active", "closed"):
        page = reports.referrals(
            {"supplier_id": str(supplier_id), "status": status, "municipality": municipality}, 1, 1
        )
        by_status[status] = page["total"]
    row["referrals_by_status"] = by_status
    return csv_response([row], "supplier") if wants_csv(request) else row


@router.get(
    "/spending", response_model=SpendingOut, response_model_exclude_unset=True, responses=CSV_AND_PROBLEMS
)
def spending(
    municipality: ReportScope,
    request: Request,
    reports: Reports,
    _fresh: Fresh,
    from_month: Annotated[str | None, Query(alias="from", pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
    to_month: Annotated[str | None, Query(alias="to", pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
    by: Annotated[str | None, Query(pattern=r"^(supplier|intervention|legal_basis|municipality)$")] = None,
    supplier_id: UUID | None = None,
    intervention: SearchText | None = None,
    legal_basis: SearchText | None = None,
) -> Any:
    """Committed spend per month (docs/domain.md), optionally grouped by supplier, intervention, legal basis or municipality."""
    report = reports.spending(
        SpendingQuery(
            from_month=from_month,
            to_month=to_month,
            by=by,
            municipality=municipality,
            supplier_id=str(supplier_id) if supplier_id else None,
            intervention=intervention,
            legal_basis=legal_basis,
        )
    )
    return csv_response(report["rows"], "spending") if wants_csv(request) else report


@router.get("/price-benchmarks", response_model=list[BenchmarkOut], responses=CSV_AND_PROBLEMS)
def price_benchmarks(
    municipality: ReportScope,
    request: Request,
    ledger: Ledger,
    reports: Reports,
    _fresh: Fresh,
    intervention: SearchText | None = None,
    unit: Annotated[str | None, Query(pattern=r"^(hour|day|package)$")] = None,
) -> Any:
    """Per intervention and unit: count, min, p25, median, p75, max of agreed rates and of list rates in force."""
    rows = reports.price_benchmarks(
        BenchmarkQuery(intervention=intervention, unit=unit, municipality=municipality), ledger.today()
    )
    return csv_response(rows, "price-benchmarks") if wants_csv(request) else rows
