"""Reports from the projections: supplier overview, spending timeline, price benchmarks."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from api.auth import municipality_scope
from api.basis import AsKnownAt, Knowledge, basis_of, report_responses
from api.csv_export import wants_csv
from api.dependencies import Fresh, Ledger
from api.fields import MONTH_PATTERN, Instant, SearchText
from api.responses import (
    BenchmarkOut,
    SpendingChangesOut,
    SpendingOut,
    SupplierOverviewOut,
    SupplierReportOut,
)
from domain.errors import InvalidInput, NotFound
from domain.referral import STATUSES
from projections.known_at import PinnedReports
from projections.price_benchmarks import BenchmarkQuery
from projections.spending import SpendingQuery
from projections.spending_changes import changes
from projections.supplier_overview import OverviewQuery

router = APIRouter(prefix="/reports", tags=["reports"])
CSV_AND_PROBLEMS = report_responses("the same columns, nested values as JSON", 401, 403, 404, 422, 503)
ReportScope = Annotated[str | None, Depends(municipality_scope("report:read"))]
"""The report right; the municipality to report on (a scoped token: always its own)."""


@router.get("/suppliers", response_model=list[SupplierOverviewOut], responses=CSV_AND_PROBLEMS)
def supplier_overview(
    municipality: ReportScope,
    ledger: Ledger,
    as_known: AsKnownAt,
    _fresh: Fresh,
) -> Any:
    """Per supplier: CVR, contact, prices in force (with negotiation dates), caseload and committed
    spend. A list: its basis is in the headers only."""
    today = ledger.today()
    query = OverviewQuery(municipality=municipality)
    return as_known.report(lambda reports: reports.supplier_overview(query, today), "suppliers")


@router.get("/suppliers/{supplier_id}", response_model=SupplierReportOut, responses=CSV_AND_PROBLEMS)
def supplier_report(
    supplier_id: UUID,
    municipality: ReportScope,
    ledger: Ledger,
    as_known: AsKnownAt,
    _fresh: Fresh,
) -> Any:
    """One supplier's overview row, plus its referrals by status."""
    today = ledger.today()

    def report(reports: PinnedReports) -> dict[str, Any] | None:
        rows = reports.supplier_overview(
            OverviewQuery(municipality=municipality, supplier_id=str(supplier_id)), today
        )
        if not rows:
            return None
        by_status: dict[str, int] = {}
        for status in STATUSES:
            page = reports.referrals(
                {"supplier_id": str(supplier_id), "status": status, "municipality": municipality}, 1, 1
            )
            by_status[status] = page["total"]
        return {**rows[0], "referrals_by_status": by_status}

    basis, row = as_known.read(report)
    if row is None:
        raise NotFound("supplier-not-found", f"no supplier with id {supplier_id}")
    return as_known.answer(basis, row, "supplier", [row])


@router.get(
    "/spending", response_model=SpendingOut, response_model_exclude_unset=True, responses=CSV_AND_PROBLEMS
)
def spending(
    municipality: ReportScope,
    as_known: AsKnownAt,
    _fresh: Fresh,
    from_month: Annotated[str | None, Query(alias="from", pattern=MONTH_PATTERN)] = None,
    to_month: Annotated[str | None, Query(alias="to", pattern=MONTH_PATTERN)] = None,
    by: Annotated[str | None, Query(pattern=r"^(supplier|intervention|legal_basis|municipality)$")] = None,
    supplier_id: UUID | None = None,
    intervention: SearchText | None = None,
    legal_basis: SearchText | None = None,
) -> Any:
    """Committed spend per month (docs/domain.md), optionally grouped by supplier, intervention, legal basis or municipality."""
    query = SpendingQuery(
        from_month=from_month,
        to_month=to_month,
        by=by,
        municipality=municipality,
        supplier_id=str(supplier_id) if supplier_id else None,
        intervention=intervention,
        legal_basis=legal_basis,
    )
    return as_known.report(lambda reports: reports.spending(query), "spending", lambda found: found["rows"])


@router.get("/price-benchmarks", response_model=list[BenchmarkOut], responses=CSV_AND_PROBLEMS)
def price_benchmarks(
    municipality: ReportScope,
    ledger: Ledger,
    as_known: AsKnownAt,
    _fresh: Fresh,
    intervention: SearchText | None = None,
    unit: Annotated[str | None, Query(pattern=r"^(hour|day|package)$")] = None,
) -> Any:
    """Per intervention and unit: count, min, p25, median, p75, max of agreed rates and of list
    rates in force. A list: its basis is in the headers only."""
    query = BenchmarkQuery(intervention=intervention, unit=unit, municipality=municipality)
    today = ledger.today()
    return as_known.report(lambda reports: reports.price_benchmarks(query, today), "price-benchmarks")


@router.get("/spending/changes", response_model=SpendingChangesOut, responses=CSV_AND_PROBLEMS)
def spending_changes(
    municipality: ReportScope,
    request: Request,
    response: Response,
    ledger: Ledger,
    known_at: Knowledge,
    _fresh: Fresh,
    since: Annotated[Instant, Query(description="The earlier knowledge time (RFC 3339).")],
    until: Annotated[
        Instant | None, Query(description="The later knowledge time (default: the live read models).")
    ] = None,
    months_to: Annotated[
        str | None,
        Query(pattern=MONTH_PATTERN, description="The last month compared (YYYY-MM)."),
    ] = None,
) -> Any:
    """Changes after the fact: per month (up to `months_to`) and referral, the committed spend that
    differs between what was known at `since` and at `until`, with the referral's events recorded in
    between (docs/knowledge-time.md)."""
    if until is not None and until < since:
        msg = "until must not be before since"
        raise InvalidInput("invalid-period", msg, field="query.until")
    before, after, rows = changes(
        known_at,
        known_at.position_at(since),
        None if until is None else known_at.position_at(until),
        months_to,
        municipality,
    )
    basis = basis_of(ledger, after, until)
    if wants_csv(request):
        return basis.csv(rows, "spending-changes")
    return basis.body({"before": basis_of(ledger, before, since).as_dict(), "items": rows}, response)
