"""Reports on procurement practice for the matching unit and controllers: lead times, shares and
close reasons, prices above the list rate, and price lists that are old or missing."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from api.auth import municipality_scope
from api.basis import AsKnownAt, report_responses
from api.dependencies import Fresh, Ledger, Page, PageSize
from api.fields import Day, SearchText
from api.practice_responses import PracticeReportOut, PriceExceptionPageOut, PriceListReportOut
from domain.errors import InvalidInput
from projections.practice import LEAD_TIMES, PracticeQuery, months_between
from projections.price_practice import ExceptionQuery, PriceListQuery

router = APIRouter(prefix="/reports", tags=["reports"])
CSV_AND_PROBLEMS = report_responses("the rows, nested values as JSON", 401, 403, 422, 503)
ReportScope = Annotated[str | None, Depends(municipality_scope("report:read"))]
"""The report right; the municipality to report on (a scoped token: always its own)."""
MONTH = r"^(000[1-9]|00[1-9]\d|0[1-9]\d{2}|[1-9]\d{3})-(0[1-9]|1[0-2])$"  # a date has no year 0
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
    as_known: AsKnownAt,
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
    query = PracticeQuery(from_month, to_month, by, municipality)
    return as_known.report(
        lambda reports: reports.practice(query),
        "practice",
        lambda found: [_flat(group) for group in found["groups"]],
    )


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
    as_known: AsKnownAt,
    _fresh: Fresh,
    from_date: Annotated[
        Day | None, Query(alias="from", description="First decision date, inclusive.")
    ] = None,
    to_date: Annotated[Day | None, Query(alias="to", description="Last decision date, inclusive.")] = None,
    supplier_id: UUID | None = None,
    intervention: SearchText | None = None,
    page: Page = 1,
    page_size: PageSize = 50,
) -> Any:
    """Every price agreement and rate adjustment above the list rate in force on its start (an
    adjustment: its effective_from), newest decision first; the period filters on the decision date."""
    query = ExceptionQuery(
        from_date=from_date.isoformat() if from_date else None,
        to_date=to_date.isoformat() if to_date else None,
        municipality=municipality,
        supplier_id=str(supplier_id) if supplier_id else None,
        intervention=intervention,
        page=page,
        page_size=page_size,
    )
    return as_known.report(
        lambda reports: reports.price_exceptions(query), "price-exceptions", lambda found: found["items"]
    )


@router.get("/price-lists", response_model=PriceListReportOut, responses=CSV_AND_PROBLEMS)
def price_lists(
    municipality: ReportScope,
    ledger: Ledger,
    as_known: AsKnownAt,
    _fresh: Fresh,
    older_than_months: Annotated[
        int, Query(ge=0, le=1200, description="Report lists negotiated more than this many months ago.")
    ] = 12,
) -> Any:
    """Suppliers' lists in force today (Europe/Copenhagen) negotiated more than `older_than_months`
    ago, and suppliers with active referrals in an intervention no list in force covers."""
    query = PriceListQuery(older_than_months=older_than_months, municipality=municipality)
    today = ledger.today()
    return as_known.report(lambda reports: reports.price_lists(query, today), "price-lists", _findings)


def _findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The price-list report as CSV rows: each stale list, then each missing one."""
    rows = [{"finding": "stale", **row} for row in report["stale"]]
    return rows + [{"finding": "missing", **row} for row in report["missing"]]
