"""Referrals: the lifecycle commands, state (now, at a version, as of an instant) and events."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from api.access_log import logged
from api.auth import Principal, check_municipality, municipality_scope, referral_access, require
from api.basis import BASIS_HEADERS, AsKnownAt
from api.candidate_responses import CandidateOut
from api.dependencies import (
    Creating,
    Fresh,
    Ledger,
    Page,
    PageSize,
    Reports,
    etag,
    versioned,
)
from api.event_responses import EventOut
from api.fields import Instant, SearchText
from api.problems import responses
from api.responses import ReferralOut, ReferralPageOut, WriteResultOut
from api.routers.writes import CREATE_ERRORS, add_command_routes, created
from api.schemas import ReferralIn
from application.views import event_view, referral_view
from domain.referral import Status
from projections.candidates import CandidateQuery

router = APIRouter(prefix="/referrals", tags=["referrals"])
READ_ERRORS = responses(401, 403, 404, 422, 503)

Refers = Annotated[Principal, Depends(require("referral:refer"))]
ReadsReferral = Annotated[Principal, Depends(referral_access("referral:read"))]
RanksCandidates = Annotated[Principal, Depends(referral_access("referral:candidates"))]
MAX_CANDIDATES = 100
ListScope = Annotated[str | None, Depends(municipality_scope("referral:read"))]


@router.post("", status_code=201, response_model=WriteResultOut, responses=CREATE_ERRORS)
@logged("referral.refer", refusals=("already-exists",))
def refer(
    body: ReferralIn,
    request: Request,
    ledger: Ledger,
    principal: Refers,
    writing: Creating,
) -> JSONResponse:
    """File a referral for a measure (the token must cover its municipality). An `id` that is taken
    answers 409 `already-exists`, whoever's referral holds it; the refusal is recorded in the access
    log, where the holder's municipality sees it (docs/isolation.md)."""
    check_municipality(principal, body.municipality)
    request.state.access_referral_id = body.id
    return created("referral.referred", ledger, body, writing, "/referrals")


add_command_routes(router, "referral")


@router.get(
    "",
    response_model=ReferralPageOut,
    responses={200: {"headers": BASIS_HEADERS}, **responses(401, 403, 422, 503)},
)
@logged("referral.list")
def list_referrals(
    municipality: ListScope,
    response: Response,
    ledger: Ledger,
    as_known: AsKnownAt,
    _fresh: Fresh,
    status: Annotated[Status | None, Query()] = None,
    supplier_id: UUID | None = None,
    intervention: SearchText | None = None,
    legal_basis: SearchText | None = None,
    page: Page = 1,
    page_size: PageSize = 50,
) -> dict[str, Any]:
    """A page of referrals from the referral-list projection, newest referral first."""
    filters = {
        "status": status,
        "supplier_id": str(supplier_id) if supplier_id else None,
        "intervention": intervention,
        "legal_basis": legal_basis,
        "municipality": municipality,
    }
    basis, found = as_known.read(lambda reports: reports.referrals(filters, page, page_size))
    return basis.body({**found, "items": ledger.privacy.reveal_referral_rows(found["items"])}, response)


@router.get("/{referral_id}", response_model=ReferralOut, responses=READ_ERRORS | versioned())
@logged("referral.read")
def get_referral(
    referral_id: UUID,
    ledger: Ledger,
    _principal: ReadsReferral,
    response: Response,
    version: Annotated[int | None, Query(ge=1, description="The referral as it was at this version.")] = None,
    as_of: Annotated[
        Instant | None, Query(description="The referral as it was at this instant (RFC 3339).")
    ] = None,
) -> dict[str, Any]:
    """The referral's state, now or as it was; ``committed_total`` per docs/domain.md."""
    referral = ledger.get_referral(referral_id, version=version, as_of=as_of)
    response.headers.update(etag(referral.version))
    return referral_view(referral, ledger.today())


@router.get("/{referral_id}/events", response_model=list[EventOut], responses=READ_ERRORS)
@logged("referral.events")
def referral_events(referral_id: UUID, ledger: Ledger, _principal: ReadsReferral) -> list[dict[str, Any]]:
    """The referral's events, oldest first."""
    return [event_view(e) for e in ledger.referral_events(referral_id)]


@router.get("/{referral_id}/candidates", response_model=list[CandidateOut], responses=READ_ERRORS)
@logged("referral.candidates")
def referral_candidates(
    referral_id: UUID,
    ledger: Ledger,
    reports: Reports,
    _principal: RanksCandidates,
    _fresh: Fresh,
    target_group: Annotated[
        SearchText | None, Query(description="The target group wanted (the referral records none).")
    ] = None,
    competency: Annotated[
        list[SearchText] | None, Query(max_length=20, description="A competency wanted; repeat for more.")
    ] = None,
    education_level: Annotated[SearchText | None, Query(description="The education level wanted.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_CANDIDATES)] = 10,
) -> list[dict[str, Any]]:
    """The registered suppliers with a rate or package for the referral's intervention in force in
    its municipality, ranked on fit, price, capacity and track record, each with the reasons for its
    score (docs/decision-support.md)."""
    wanted = {
        "target_groups": [target_group] if target_group else [],
        "competencies": list(dict.fromkeys(competency or [])),
        "education_levels": [education_level] if education_level else [],
    }
    query = CandidateQuery.for_referral(ledger.get_referral(referral_id), ledger.today(), wanted, limit)
    return reports.candidates(query)
