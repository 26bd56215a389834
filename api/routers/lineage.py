"""Lineage of the spending report: which referrals and events make up one of its cells."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request

from api.access_log import logged
from api.auth import Principal, check_municipality, municipality_scope
from api.basis import AsKnownAt, report_responses
from api.dependencies import Fresh, Ledger
from api.fields import MONTH_PATTERN, SearchText
from api.lineage_responses import LineageOut
from application.service.caseledger import CaseLedger
from domain.errors import InvalidInput, NotFound
from domain.reference import load_reference
from projections.lineage import LineageQuery, lineage

router = APIRouter(prefix="/reports", tags=["reports"])
CSV_AND_PROBLEMS = report_responses("one row per referral, its events as JSON", 401, 403, 422, 503)
LineageScope = Annotated[str | None, Depends(municipality_scope("report:read"))]


@router.get("/spending/lineage", response_model=LineageOut, responses=CSV_AND_PROBLEMS)
@logged("spending.lineage")
def spending_lineage(
    municipality: LineageScope,
    request: Request,
    ledger: Ledger,
    as_known: AsKnownAt,
    _fresh: Fresh,
    month: Annotated[str, Query(pattern=MONTH_PATTERN, description="The cell's month.")],
    by: Annotated[
        str | None,
        Query(pattern=r"^(supplier|intervention|legal_basis|municipality)$", description="As the report's."),
    ] = None,
    key: Annotated[
        SearchText | None, Query(description="The cell's key in the grouping `by` (required with it).")
    ] = None,
    supplier_id: UUID | None = None,
) -> Any:
    """One cell of `GET /reports/spending` (a month, optionally one key of a grouping) and what makes
    it up: each referral's committed amount in the month — the amounts add up to the cell to the
    øre — and the events that changed that amount (see docs/api.md)."""
    if (by is None) != (key is None):
        raise InvalidInput("by-and-key", "by and key go together: name both or neither", field="key")
    if by is not None and key is not None:
        _check_key(request.state.principal, ledger, by, key)
    query = LineageQuery(
        month=month,
        by=by,
        key=key,
        municipality=municipality,
        supplier_id=str(supplier_id) if supplier_id else None,
    )
    basis, parts = as_known.read(lambda reports: reports.spending_lineage(query))
    # Each referral's events up to the version its row was folded from: as known at the basis too.
    read = ledger.sealed_events_upto({UUID(part.referral_id): part.version for part in parts})
    events_of = {part.referral_id: read[UUID(part.referral_id)] for part in parts}
    cell = lineage(parts, events_of, month)
    return as_known.answer(basis, cell, f"spending-lineage-{month}", cell["referrals"])


def _check_key(principal: Principal, ledger: CaseLedger, by: str, key: str) -> None:
    """422 for a key that names nothing of its kind; 403 for another municipality's (a scoped token)."""
    reference = load_reference()
    known: dict[str, Any] = {
        "intervention": reference.interventions,
        "legal_basis": reference.legal_bases,
        "municipality": reference.municipalities,
    }
    if by == "supplier":
        try:
            ledger.get_supplier(UUID(key))
        except (ValueError, NotFound):
            msg = f"key {key!r} is not a registered supplier's id"
            raise InvalidInput("unknown-key", msg, field="key") from None
        return
    if key not in known[by]:
        msg = f"key {key!r} is not a known {by.replace('_', ' ')}"
        raise InvalidInput("unknown-key", msg, field="key")
    if by == "municipality":
        check_municipality(principal, key, field="key")
