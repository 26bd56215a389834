"""Reports on procurement practice for the matching unit and controllers: lead times, shares and
close reasons, prices above the list rate, and price lists that are old or missing."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request

from api.auth import municipality_scope
from api.csv_export import csv_response, wants_csv
from api.dependencies import Fresh, Ledger, Reports
from api.fields import Day, SearchText
from api.practice_responses import PracticeReportOut, PriceExceptionPageOut, PriceListReportOut
from api.problems import responses
from domain.errors import InvalidInput
from projections.practice import LEAD_TIMES, PracticeQuery, months_between
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
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
MOST_MONTHS = 120
"""The longest period the practice report covers (ten years): ``by=month`` answers every month."""


@router.get(
    "/practice",
    response_model=PracticeReportOut,
    response_model_exclude_unset=True,
    responses=CSV_AND_PROBLEMS,
)
def practice(
    municipality: ReportScope,
    request: Request,
    reports: Reports,
    _fresh: Fresh,
    from_month: Annotated[str, Query(alias="from", pattern=MONTH, description="First referral month.")],
    to_month: Annotated[str, Query(alias="to", pattern=MONTH, description="Last referral month, inclusive.")],
    by: Annotated[str | None, Query(pattern=r"^(month|intervention|supplier|legal_basis)$")] = None,
) -> Any:
    """The procurement practice of the referrals referred in the months `from`..`to`: counts, lead
    times (median and p90, nearest rank), rematch, extension, adjustment and above-list figures and
    close reasons, in one group or per month, intervention, supplier or legal basis."""
    if from_month > to_month:
        raise InvalidInput("period-reversed", f"from {from_month} is after to {to_month}", field="from")
    if len(months_between(from_month, to_month)) > MOST_MONTHS:
        msg = f"the period {from_month}..{to_month} is longer than {MOST_MONTHS} months"
        raise InvalidInput("period-too-long", msg, field="to")
    report = reports.practice(PracticeQuery(from_month, to_month, by, municipality))
    if wants_csv(request):
        return csv_response([_flat(group) for group in report["groups"]], "practice")
    return report


def _flat(group: dict[str, Any]) -> dict[str, Any]:
    """A practice group as one CSV row: each lead time as its median and p90 columns."""
    row: dict[str, Any] = {}
    for name, value in group.items():
        if name in LEAD_TIMES:
            row.update({f"{name}_median": value["median"], f"{name}_p90": value["p90"]})
        else:
            row[name] = value
    return row


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
