"""Revisionsspor: a referral's decision trail (``GET /audit/referrals/{id}``) with its integrity
check, or the newest referrals to choose from; every read is recorded in the access log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.access_log import logged
from api.auth import check_referral
from api.dashboard import formatting
from api.dashboard.access import frame, open_page
from api.dashboard.rendering import templates
from api.dashboard.vocabulary import (
    CLOSE_REASONS,
    DATE_FACTS,
    EVENT_TYPES,
    FACTS,
    INTEGRITY_PROBLEMS,
    MONEY_FACTS,
    PRICINGS,
    STATUSES,
)
from api.dependencies import Ledger, Reports
from domain.errors import NotFound
from domain.reference import load_reference

router = APIRouter(prefix="/dashboard", include_in_schema=False)


def fact_text(name: str, value: Any, supplier_name: Callable[[str], str]) -> str:
    """One fact of a trail's ``changes`` as an auditor reads it."""
    if value is None or value == "":
        return "–"
    if name in MONEY_FACTS:
        return formatting.kroner(value)
    if name in DATE_FACTS:
        return formatting.day(value)
    if name == "supplier_id":
        return supplier_name(str(value))
    if name == "status":
        return STATUSES.get(str(value), str(value))
    if name == "pricing":
        return PRICINGS.get(str(value), str(value))
    if name == "close_reason":
        return CLOSE_REASONS.get(str(value), str(value))
    if name == "hours_per_week":
        return formatting.number(value)
    return str(value)


@router.get("/revisionsspor")
@logged("dashboard.revisionsspor")
def revisionsspor(request: Request, ledger: Ledger, reports: Reports) -> Response:
    """A referral's decision trail (``GET /audit/referrals/{id}``) as a timeline with the integrity
    check's result; without a referral, the newest referrals to choose from.

    Reads referral-level data: ``ledger.audit.referral_trail`` (the trail) and ``reports.referrals`` (the
    list to choose from), both for the signed-in token; an access log records them here.
    """
    asked = (request.query_params.get("referral") or "").strip()
    page_text = request.query_params.get("page", "1")
    page = max(1, min(10_000, int(page_text))) if page_text.isdigit() and len(page_text) < 6 else 1
    status = request.query_params.get("status") or None
    status = status if status in STATUSES else None
    # What the access log records for this request, refused or not (an id that is no UUID is dropped).
    if asked:
        request.state.access_referral_id = asked
    else:
        request.state.access_query = {"status": status, "page": str(page)}
    viewer = open_page(request, "revisionsspor", ledger)
    if isinstance(viewer, Response):
        return viewer
    context = frame(viewer, "revisionsspor")
    if not asked:
        listing = reports.referrals({"municipality": viewer.municipality, "status": status}, page, 25)
        return templates(request).render(
            "revisionsspor.html",
            **context,
            listing=listing,
            status_filter=status,
            statuses=STATUSES,
            interventions=load_reference().interventions,
            trail=None,
            asked=None,
            problem=None,
        )
    try:
        referral_id = UUID(asked)
        check_referral(viewer.principal, ledger, referral_id)
        trail = ledger.audit.referral_trail(referral_id)
    except (ValueError, NotFound):
        return templates(request).render(
            "revisionsspor.html",
            http_status=404,
            **context,
            listing=None,
            trail=None,
            asked=asked,
            problem=f"Ingen henvisning med id {asked}.",
        )
    names: dict[str, str] = {}

    def supplier_name(supplier_id: str) -> str:
        if supplier_id not in names:
            try:
                names[supplier_id] = ledger.get_supplier(UUID(supplier_id)).name
            except (ValueError, NotFound, LookupError):
                names[supplier_id] = supplier_id
        return names[supplier_id]

    entries: list[dict[str, Any]] = []
    for item in trail["entries"]:
        changes = [
            {
                "field": FACTS.get(name, name),
                "from": fact_text(name, change["from"], supplier_name),
                "to": fact_text(name, change["to"], supplier_name),
            }
            for name, change in sorted((item["changes"] or {}).items())
        ]
        entries.append(
            {
                **item,
                "label": EVENT_TYPES.get(item["type"], item["type"]),
                "change_list": changes,
                "actor_text": _actor(item["actor"]),
                "problem_text": "; ".join(
                    INTEGRITY_PROBLEMS.get(p.strip(), (p.strip(), ""))[0]
                    for p in item["integrity"].split(";")
                ),
            }
        )
    stored_versions = {item["version"] for item in trail["entries"]}
    gaps = sorted({p["version"] for p in trail["integrity"]["problems"]} - stored_versions)
    for version in gaps:
        entries.append({"version": version, "gap": True})
    entries.sort(key=lambda e: (e["version"], "gap" in e))
    problems = [
        {
            **p,
            "label": INTEGRITY_PROBLEMS.get(p["problem"], (p["problem"], ""))[0],
            "explanation": INTEGRITY_PROBLEMS.get(p["problem"], ("", p["detail"]))[1],
        }
        for p in trail["integrity"]["problems"]
    ]
    first = trail["entries"][0]["data"] if trail["entries"] and trail["entries"][0]["data"] else {}
    interventions = load_reference().interventions
    summary = {
        "intervention": interventions[first["intervention"]].name_da
        if first.get("intervention") in interventions
        else first.get("intervention"),
        "legal_basis": first.get("legal_basis"),
        "municipality": first.get("municipality"),
        "referred_on": first.get("referred_on"),
    }
    return templates(request).render(
        "revisionsspor.html",
        **context,
        listing=None,
        trail=trail,
        entries=entries,
        problems=problems,
        summary=summary,
        asked=str(referral_id),
        problem=None,
    )


def _actor(actor: Any) -> str:
    if not isinstance(actor, dict):
        return "–" if actor is None else str(actor)
    name, ident = actor.get("name"), actor.get("id")
    return f"{name} ({ident})" if name and ident and name != ident else str(name or ident or "–")
