"""Audit: the decision trail of one referral and the verification of the hash chains."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request

from api.access_log import logged
from api.audit_responses import (
    AccessLogPageOut,
    DecisionPageOut,
    ErasureRecordOut,
    PublicKeyOut,
    ReceiptOut,
    TrailOut,
    VerificationOut,
)
from api.auth import Principal, municipality_scope, referral_access, require
from api.basis import BASIS_HEADERS, AsKnownAt
from api.csv_export import csv_response, wants_csv
from api.dependencies import Fresh, Ledger, Page, PageSize
from api.fields import ANCHOR_PATTERN, Day, InstantOrDay, SearchText, instant_from, parse_anchor
from api.problems import responses
from api.schemas import EventType
from application.audit.receipts import public_key_of
from application.audit.signing_key import SigningKey, SigningKeyMissing
from application.storage.access_log import ACTIONS, AccessQuery
from application.token_roles import ROLES
from projections.decision_log import DecisionQuery
from projections.reports import Reports

router = APIRouter(prefix="/audit", tags=["audit"])


CSV_AND_PROBLEMS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "JSON, or CSV (one row per entry) for `Accept: text/csv`",
    },
    **responses(401, 403, 404, 422, 503),
}
DECISIONS_ANSWERS: dict[int | str, dict[str, Any]] = {
    **CSV_AND_PROBLEMS,
    200: {**CSV_AND_PROBLEMS[200], "headers": BASIS_HEADERS},
}
Audits = Annotated[Principal, Depends(require("audit:read"))]
AuditsReferral = Annotated[Principal, Depends(referral_access("audit:read"))]
AuditScope = Annotated[str | None, Depends(municipality_scope("audit:read"))]
AccessLogScope = Annotated[str | None, Depends(municipality_scope("access_log:read"))]
if TYPE_CHECKING:  # the checker sees text; the OpenAPI document sees the enumeration
    Action = str
    Role = str
else:
    Action = Literal[ACTIONS]
    Role = Literal[ROLES]


@router.get("/verify", response_model=VerificationOut, responses=responses(401, 403, 422, 503))
def verify(
    principal: Audits,
    ledger: Ledger,
    expect: Annotated[
        str | None,
        Query(
            pattern=ANCHOR_PATTERN,
            description="A chain head kept from an earlier verify, `POSITION:GLOBAL_HASH`: the recomputed "
            "chain must pass through it (detects a chain rewritten consistently up to the newest event).",
        ),
    ] = None,
) -> dict[str, Any]:
    """Recompute the per-referral and the global hash chains over every stored event; name each stream
    and version that was altered, deleted, moved or is not covered, and give the chain head to keep.
    A token scoped to one municipality has its municipality's referrals and the suppliers checked
    and named; of the other streams' problems it learns only how many (`problems_elsewhere`)."""
    scoped = None if principal.all_municipalities else principal.municipality
    return ledger.audit.verify_integrity(anchor=parse_anchor(expect) if expect else None, municipality=scoped)


def _receipt_key(request: Request) -> SigningKey:
    key: SigningKey | None = request.app.state.signing_key
    if key is None:
        raise SigningKeyMissing
    return key


@router.get("/receipt", response_model=ReceiptOut, responses=responses(401, 403, 409, 503))
def receipt(_principal: Audits, request: Request, ledger: Ledger) -> dict[str, Any]:
    """A signed statement of the global hash chain's head (the same head `GET /audit/verify`
    reports), to keep outside the database: check it with `GET /audit/public-key` and any Ed25519
    tool, and later with `caseledger audit verify --receipt FILE`. Issued only when the chains
    verify (409 `chain-not-intact` otherwise); 503 `signing-key-missing` on PostgreSQL without a
    configured signing key."""
    return ledger.audit.receipt(_receipt_key(request))


@router.get("/public-key", response_model=PublicKeyOut, responses=responses(401, 403, 503))
def public_key(_principal: Audits, request: Request) -> dict[str, str]:
    """The Ed25519 public key receipts are signed with, and its `key_id`."""
    return public_key_of(_receipt_key(request))


@router.get("/referrals/{referral_id}", response_model=TrailOut, responses=CSV_AND_PROBLEMS)
@logged("audit.trail")
def referral_trail(referral_id: UUID, _principal: AuditsReferral, request: Request, ledger: Ledger) -> Any:
    """Every decision on the referral: who, when (recorded and effective), why, what changed; and
    whether its stored events are intact."""
    trail = ledger.audit.referral_trail(referral_id)
    if wants_csv(request):
        return csv_response(trail["entries"], f"referral-{referral_id}-trail")
    return trail


@router.get("/decisions", response_model=DecisionPageOut, responses=DECISIONS_ANSWERS)
@logged("audit.decisions")
def decisions(
    municipality: AuditScope,
    as_known: AsKnownAt,
    ledger: Ledger,
    _fresh: Fresh,
    actor: Annotated[SearchText | None, Query(description="The deciding actor's id.")] = None,
    type: Annotated[EventType | None, Query(description="Event type, e.g. referral.matched.")] = None,
    supplier_id: UUID | None = None,
    from_date: Annotated[
        Day | None, Query(alias="from", description="First business date, inclusive.")
    ] = None,
    to_date: Annotated[Day | None, Query(alias="to", description="Last business date, inclusive.")] = None,
    above_list_rate: Annotated[
        bool | None, Query(description="Only prices/adjustments above the list rate.")
    ] = None,
    case_ref: Annotated[
        SearchText | None,
        Query(
            description="Only the decisions on the referral(s) with this case number (exact match; found "
            "by a keyed hash, never stored, and not found once the citizen's data is erased).",
        ),
    ] = None,
    page: Page = 1,
    page_size: PageSize = 50,
) -> Any:
    """Search decisions across referrals (e.g. every match by one consultant last quarter, every price
    above the list rate), newest business date first; the period filters on the decision's business date."""

    def search(reports: Reports) -> dict[str, Any]:
        referral_ids = None
        if case_ref is not None:
            indexed = reports.referrals_by_case_index(
                ledger.privacy.case_indexes(case_ref, municipality), municipality
            )
            referral_ids = tuple(ledger.privacy.findable_by_case_ref(indexed))
        return reports.decisions(
            DecisionQuery(
                actor=actor,
                type=type,
                supplier_id=str(supplier_id) if supplier_id else None,
                municipality=municipality,
                from_date=from_date.isoformat() if from_date else None,
                to_date=to_date.isoformat() if to_date else None,
                above_list_rate=above_list_rate,
                referral_ids=referral_ids,
                page=page,
                page_size=page_size,
            )
        )

    basis, found = as_known.read(search)
    found = {**found, "items": ledger.privacy.reveal_decision_rows(found["items"])}
    return as_known.answer(basis, found, "decisions", found["items"])


@router.get("/access-log", response_model=AccessLogPageOut, responses=CSV_AND_PROBLEMS)
@logged("access_log.read")
def access_log(
    municipality: AccessLogScope,
    request: Request,
    ledger: Ledger,
    from_: Annotated[
        InstantOrDay | None,
        Query(alias="from", description="From this instant, or from the start of this date (inclusive)."),
    ] = None,
    to: Annotated[
        InstantOrDay | None,
        Query(description="Before this instant (exclusive), or to the end of this date (inclusive)."),
    ] = None,
    token: Annotated[SearchText | None, Query(description="The token's name (the actor).")] = None,
    role: Role | None = None,
    action: Action | None = None,
    referral_id: UUID | None = None,
    citizen_ref: Annotated[
        SearchText | None,
        Query(
            description="Only reads of this citizen's referrals (for a citizen's access request). "
            "It is never stored; the log records `[redacted]`.",
        ),
    ] = None,
    page: Page = 1,
    page_size: PageSize = 50,
) -> Any:
    """Who read or exported referral-level data, oldest first: `at, token, role, municipality,
    action, referral_id, query, status` (and `token_municipality, format`). Denied attempts (403,
    404) are listed with their status. A token scoped to one municipality sees the entries on its
    municipality's data and those made by its municipality's tokens; `*` sees all (or the
    `municipality` it names). A scoped token learns nothing of another municipality's referrals
    here: its own tokens' attempts on one show as on an id that does not exist, and `citizen_ref`
    finds only its municipality's referrals (see docs/isolation.md)."""
    principal: Principal = request.state.principal  # set by the scope's token check
    viewer = None if principal.all_municipalities else principal.municipality
    referral_ids = ledger.privacy.access_log_referrals(referral_id, citizen_ref, municipality=municipality)
    found = request.app.state.access_log.entries(
        AccessQuery(
            viewer=viewer,
            municipality=municipality,
            since=instant_from(from_),
            until=instant_from(to, next_day=True),
            token=token,
            role=role,
            action=action,
            referral_ids=referral_ids,
            page=page,
            page_size=page_size,
        )
    )
    return csv_response(found["items"], "access-log") if wants_csv(request) else found


@router.get("/erasures", response_model=list[ErasureRecordOut], responses=responses(401, 403, 503))
def erasures(principal: Audits, ledger: Ledger) -> list[dict[str, Any]]:
    """Every erasure of a citizen's personal data, oldest first: the destroyed key, the referrals it
    sealed, when, by whom and why (no personal data). A token scoped to one municipality sees the
    erasures that touched its referrals, and only those referral ids."""
    records = ledger.privacy.erasures()
    if principal.all_municipalities:
        return records
    visible = []
    for record in records:
        own = [
            i for i in record["referral_ids"] if ledger.municipalities.of(UUID(i)) == principal.municipality
        ]
        if own:
            visible.append({**record, "referral_ids": own})
    return visible
