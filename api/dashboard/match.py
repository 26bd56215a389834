"""Match: a referral's ranked candidates (``GET /referrals/{id}/candidates``) with their reasons, or
the referrals waiting for a supplier to pick from; every read is recorded in the access log."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.access_log import logged
from api.auth import check_referral
from api.dashboard import formatting
from api.dashboard.access import frame, open_page
from api.dashboard.rendering import templates
from api.dashboard.vocabulary import CANDIDATE_COLUMNS, UNITS
from api.dependencies import Ledger, Reports
from domain.errors import NotFound
from domain.reference import load_reference
from projections.candidates import CandidateQuery

router = APIRouter(prefix="/dashboard", include_in_schema=False)

WAITING = 25
"""How many of the referrals waiting for a supplier the pick list shows, newest first."""
LIMITS = (10, 25, 50, 100)
"""How many candidates the page asks for (the endpoint's ``limit``: 10 unless chosen)."""


def candidate_query(ledger: Ledger, referral_id: UUID, limit: int) -> CandidateQuery:
    """What ``GET /referrals/{id}/candidates`` ranks for the referral when nothing more is asked
    (no target group, competency or education level): the same query as the endpoint builds."""
    return CandidateQuery.for_referral(ledger.get_referral(referral_id), ledger.today(), limit=limit)


def supplier_link(candidate: dict[str, Any], sees_overview: bool) -> str:
    """Where a candidate's supplier is shown: its Overblik row (found by name) for a role that may
    open Overblik, else its API address."""
    if sees_overview:
        return f"/dashboard/overblik?{urlencode({'q': candidate['name']})}"
    return f"/suppliers/{candidate['supplier_id']}"


@router.get("/match")
@logged("dashboard.match")
def match(request: Request, ledger: Ledger, reports: Reports) -> Response:
    """A referral's candidates, ranked with the reasons for their scores; without a referral, the
    referrals waiting for a supplier (status ``referred``) to choose from."""
    asked = (request.query_params.get("referral") or "").strip()
    limit_text = request.query_params.get("limit", "")
    limit = int(limit_text) if limit_text.isdigit() and int(limit_text) in LIMITS else LIMITS[0]
    if asked:
        request.state.access_referral_id = asked
    else:
        request.state.access_query = {"status": "referred"}
    viewer = open_page(request, "match", ledger)
    if isinstance(viewer, Response):
        return viewer
    context = {
        **frame(viewer, "match"),
        "asked": asked or None,
        "limit": limit,
        "limits": LIMITS,
        "interventions": load_reference().interventions,
        "units": UNITS,
        "columns": CANDIDATE_COLUMNS,
        "percent": formatting.share_percent,
        "sees_trail": viewer.principal.can("audit:read"),
    }
    if not asked:
        waiting = reports.referrals({"municipality": viewer.municipality, "status": "referred"}, 1, WAITING)
        return templates(request).render("match.html", **context, waiting=waiting, referral=None)
    try:
        referral_id = UUID(asked)
        check_referral(viewer.principal, ledger, referral_id)
        query = candidate_query(ledger, referral_id, limit)
    except (ValueError, NotFound):
        return templates(request).render(
            "match.html",
            http_status=404,
            **context,
            waiting=None,
            referral=None,
            problem=f"Ingen {CANDIDATE_COLUMNS['referral']} med id {asked}.",
        )
    sees_overview = viewer.principal.can("report:read")
    found = [
        {**candidate, "link": supplier_link(candidate, sees_overview)}
        for candidate in reports.candidates(query)
    ]
    return templates(request).render(
        "match.html",
        **context,
        waiting=None,
        referral={"id": str(referral_id), "query": query},
        candidates=found,
    )
