"""Audit: the decision trail of one referral and the verification of the hash chains."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request

from api.auth import Principal, municipality_scope, referral_access, require
from api.csv_export import csv_response, wants_csv
from api.dependencies import Fresh, Ledger, Reports
from api.fields import Day
from api.problems import responses
from api.schemas import ErasureRecordOut, EventType, TrailOut, VerificationOut
from projections.decision_log import DecisionQuery

router = APIRouter(prefix="/audit", tags=["audit"])
CSV_AND_PROBLEMS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {}},
        "description": "JSON, or CSV (one row per entry) for `Accept: text/csv`",
    },
    **responses(401, 403, 404, 422, 503),
}
Audits = Annotated[Principal, Depends(require("audit:read"))]
AuditsReferral = Annotated[Principal, Depends(referral_access("audit:read"))]
AuditScope = Annotated[str | None, Depends(municipality_scope("audit:read"))]


@router.get("/verify", response_model=VerificationOut, responses=responses(401, 403, 503))
def verify(_principal: Audits, ledger: Ledger) -> dict[str, Any]:
    """Recompute the per-referral and the global hash chains over every stored event; name each stream
    and version that was altered, deleted, moved or is not covered, and give the chain head to keep."""
    return ledger.verify_integrity()


@router.get("/referrals/{referral_id}", response_model=TrailOut, responses=CSV_AND_PROBLEMS)
def referral_trail(referral_id: UUID, _principal: AuditsReferral, request: Request, ledger: Ledger) -> Any:
    """Every decision on the referral: who, when (recorded and effective), why, what changed; and
    whether its stored events are intact."""
    trail = ledger.referral_trail(referral_id)
    if wants_csv(request):
        return csv_response(trail["entries"], f"referral-{referral_id}-trail")
    return trail


@router.get("/decisions", responses=CSV_AND_PROBLEMS)
def decisions(
    municipality: AuditScope,
    request: Request,
    reports: Reports,
    ledger: Ledger,
    _fresh: Fresh,
    actor: Annotated[str | None, Query(description="The deciding actor's id.")] = None,
    type: Annotated[EventType | None, Query(description="Event type, e.g. referral.matched.")] = None,
    supplier_id: UUID | None = None,
    from_date: Annotated[
        Day | None, Query(alias="from", description="First business date, inclusive.")
    ] = None,
    to_date: Annotated[Day | None, Query(alias="to", description="Last business date, inclusive.")] = None,
    above_list_rate: Annotated[
        bool | None, Query(description="Only prices/adjustments above the list rate.")
    ] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Any:
    """Search decisions across referrals (e.g. every match by one consultant last quarter, every price
    above the list rate), newest business date first; the period filters on the decision's business date."""
    found = reports.decisions(
        DecisionQuery(
            actor=actor,
            type=type,
            supplier_id=str(supplier_id) if supplier_id else None,
            municipality=municipality,
            from_date=from_date.isoformat() if from_date else None,
            to_date=to_date.isoformat() if to_date else None,
            above_list_rate=above_list_rate,
            page=page,
            page_size=page_size,
        )
    )
    found = {**found, "items": ledger.reveal_decision_rows(found["items"])}
    return csv_response(found["items"], "decisions") if wants_csv(request) else found


@router.get("/erasures", response_model=list[ErasureRecordOut], responses=responses(401, 403, 503))
def erasures(principal: Audits, ledger: Ledger) -> list[dict[str, Any]]:
    """Every erasure of a citizen's personal data, oldest first: the destroyed key, the referrals it
    sealed, when, by whom and why (no personal data). A token scoped to one municipality sees the
    erasures that touched its referrals, and only those referral ids."""
    records = ledger.erasures()
    if principal.all_municipalities:
        return records
    visible = []
    for record in records:
        own = [
            i
            for i in record["referral_ids"]
            if ledger.referral_municipality(UUID(i)) == principal.municipality
        ]
        if own:
            visible.append({**record, "referral_ids": own})
    return visible
