"""Revisionsspor: a referral's decision trail (``GET /audit/referrals/{id}``) with its integrity
check, or the newest referrals to choose from; every read is recorded in the access log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.access_log import REDACTED, logged
from api.auth import check_referral
from api.dashboard import formatting
from api.dashboard.access import Viewer, export_link, frame, open_page
from api.dashboard.decisions import Suppliers, decision_details
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
    TRAIL_LIST_COLUMNS,
    legal_basis_name,
    legal_basis_title,
)
from api.dependencies import Ledger, Reports
from application.privacy.envelopes import ERASED
from application.service.caseledger import CaseLedger
from domain.errors import NotFound
from domain.reference import load_reference
from projections.referral_list import SORTS
from projections.reports import Reports as ReadModels

router = APIRouter(prefix="/dashboard", include_in_schema=False)
# The list's sortable columns, in TRAIL_LIST_COLUMNS' order: Indstillet, Leverandør, ..., Bevilget.
LIST_SORTS = ("referred", "supplier", None, None, "status", None, "committed")
FIRST_DESCENDING = {"referred", "committed"}  # newest and largest first; names and statuses A→Z
SORT_NAMES = {"referred": "indstillet", "supplier": "leverandør", "status": "status", "committed": "bevilget"}
FACT_ORDER = {name: position for position, name in enumerate(FACTS)}
MAX_CASE_REF = 200
"""The longest case number searched for (as ``GET /audit/decisions?case_ref=`` takes)."""


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


@dataclass(frozen=True)
class ListChoice:
    """The list's filters and order, as kept in the address (``status``, ``supplier``,
    ``intervention``, ``case_ref``, ``sort`` and ``dir``, the latter only when not the sort's usual
    direction: newest and largest first, names and statuses ascending); anything unknown is dropped."""

    status: str | None = None
    supplier: str | None = None
    intervention: str | None = None
    case_ref: str | None = None
    sort: str = "referred"
    descending: bool = True

    @classmethod
    def of(cls, request: Request) -> ListChoice:
        given = request.query_params
        status = given.get("status") or None
        supplier = (given.get("supplier") or "").strip() or None
        intervention = given.get("intervention") or None
        case = (given.get("case_ref") or "").strip()[:MAX_CASE_REF] or None
        sort = given.get("sort") or "referred"
        sort = sort if sort in SORTS else "referred"
        order = given.get("dir")
        return cls(
            status=status if status in STATUSES else None,
            supplier=supplier if supplier and _is_uuid(supplier) else None,
            intervention=intervention if intervention in load_reference().interventions else None,
            case_ref=case,
            sort=sort,
            descending=order == "desc" if order in ("asc", "desc") else sort in FIRST_DESCENDING,
        )

    def seen_by(self, viewer: Viewer) -> ListChoice:
        """This choice as ``viewer`` may make it: a case number only for a token that may read it."""
        return self if self.case_ref is None or reads_case_refs(viewer) else replace(self, case_ref=None)

    @property
    def filters(self) -> dict[str, str | None]:
        return {"status": self.status, "supplier_id": self.supplier, "intervention": self.intervention}

    def query(self, **changes: Any) -> dict[str, str | None]:
        """The address's parameters for this choice with ``changes``; defaults left out."""
        chosen = replace(self, **changes)
        return {
            "status": chosen.status,
            "supplier": chosen.supplier,
            "intervention": chosen.intervention,
            "case_ref": chosen.case_ref,
            "sort": None if chosen.sort == "referred" else chosen.sort,
            "dir": None
            if chosen.descending == (chosen.sort in FIRST_DESCENDING)
            else ("desc" if chosen.descending else "asc"),
        }

    def link(self, page: int = 1, **changes: Any) -> str:
        """The list's address with this choice, ``changes`` and ``page``."""
        chosen = {key: value for key, value in self.query(**changes).items() if value}
        if page > 1:
            chosen["page"] = str(page)
        return f"?{urlencode(chosen)}" if chosen else "?"

    def headers(self) -> list[dict[str, Any]]:
        """The list's column headers, those it can be sorted by with the address that sorts by them
        (the current one reversed) and their ``aria-sort``."""
        found = []
        for text, key in zip(TRAIL_LIST_COLUMNS, LIST_SORTS, strict=True):
            header: dict[str, Any] = {"text": text, "num": text == TRAIL_LIST_COLUMNS[-1]}
            if key:
                current = key == self.sort
                header["link"] = self.link(
                    sort=key, descending=not self.descending if current else key in FIRST_DESCENDING
                )
                header["aria_sort"] = ("descending" if self.descending else "ascending") if current else None
            found.append(header)
        return found


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True


def asked_for(request: Request, *, every_page: bool = False) -> tuple[str, ListChoice, int]:
    """The referral, the list's choice and page asked for; noted for the access log, refused or not."""
    asked = (request.query_params.get("referral") or "").strip()
    page_text = request.query_params.get("page", "1")
    page = max(1, min(10_000, int(page_text))) if page_text.isdigit() and len(page_text) < 6 else 1
    choice = ListChoice.of(request)
    # An id that is no UUID is dropped by the access log.
    if asked:
        request.state.access_referral_id = asked
    else:
        chosen = {key: value for key, value in choice.query().items() if value and key != "status"}
        if choice.case_ref:
            chosen["case_ref"] = REDACTED  # personal data: never in the access log
        request.state.access_query = {
            "status": choice.status,
            **chosen,
            "page": "alle" if every_page else str(page),
        }
    return asked, choice, page


@router.get("/revisionsspor")
@logged("dashboard.revisionsspor")
def revisionsspor(request: Request, ledger: Ledger, reports: Reports) -> Response:
    """A referral's decision trail (``GET /audit/referrals/{id}``) as a timeline with the integrity
    check's result; without a referral, the newest referrals to choose from.

    Reads referral-level data: ``ledger.audit.referral_trail`` (the trail) and ``reports.referrals`` (the
    list to choose from), both for the signed-in token; an access log records them here.
    """
    asked, choice, page = asked_for(request)
    viewer = open_page(request, "revisionsspor", ledger)
    if isinstance(viewer, Response):
        return viewer
    context = {**frame(viewer, "revisionsspor"), "lovgrundlag": legal_basis_name}
    if not asked:
        choice = choice.seen_by(viewer)
        filters = {"municipality": viewer.municipality, **choice.filters}
        listing = reports.referrals(
            filters,
            page,
            25,
            choice.sort,
            choice.descending,
            found_by_case_ref(ledger, reports, viewer, choice),
        )
        return templates(request).render(
            "revisionsspor.html",
            **context,
            listing=listing,
            columns=choice.headers(),
            choice=choice,
            suppliers=reports.referral_suppliers(viewer.municipality),
            export_link=export_link(viewer, "revisionsspor", choice.query()),
            status_filter=choice.status,
            case_search=reads_case_refs(viewer),
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
            problem=f"Ingen indstilling med id {asked}.",
        )
    suppliers = Suppliers(ledger)
    first = trail["entries"][0]["data"] if trail["entries"] and trail["entries"][0]["data"] else {}
    entries = trail_entries(trail, suppliers.name)
    decision_details(entries, first, suppliers)
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
    interventions = load_reference().interventions
    summary = {
        "intervention": interventions[first["intervention"]].name_da
        if first.get("intervention") in interventions
        else first.get("intervention"),
        "legal_basis": legal_basis_name(first["legal_basis"]) if first.get("legal_basis") else None,
        "legal_basis_title": legal_basis_title(first.get("legal_basis")),
        "case_ref": case_ref(first, viewer),
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
        export_link=export_link(viewer, "revisionsspor", {"referral": str(referral_id)}),
        asked=str(referral_id),
        problem=None,
    )


def reads_case_refs(viewer: Viewer) -> bool:
    """Whether ``viewer`` may see and search case numbers (personal data): a token that may read the
    referral itself (``GET /referrals/{id}``)."""
    return viewer.principal.can("referral:read")


def found_by_case_ref(
    ledger: CaseLedger, reports: ReadModels, viewer: Viewer, choice: ListChoice
) -> list[str] | None:
    """The referrals of the viewer's municipality (or all) with the case number searched for, found
    by its keyed hash as ``GET /audit/decisions?case_ref=`` finds them (none once erased); None
    without a search."""
    if choice.case_ref is None:
        return None
    indexes = ledger.privacy.case_indexes(choice.case_ref, viewer.municipality)
    return ledger.privacy.findable_by_case_ref(reports.referrals_by_case_index(indexes, viewer.municipality))


def case_ref(referred: dict[str, Any], viewer: Viewer) -> str | None:
    """The case number (``case_ref``, personal data) for a token that may read the referral itself;
    None for any other, and "–" when the referral has none."""
    if not reads_case_refs(viewer):
        return None
    found = referred.get("case_ref")
    if found == ERASED:
        return "slettet (borgerens personoplysninger er slettet)"
    return str(found) if found else "–"


def trail_entries(trail: dict[str, Any], supplier_name: Callable[[str], str]) -> list[dict[str, Any]]:
    """The trail's entries with their Danish labels, changes, decider and integrity text."""
    entries: list[dict[str, Any]] = []
    for item in trail["entries"]:
        changes = [
            {
                "field": FACTS.get(name, name),
                "from": fact_text(name, change["from"], supplier_name),
                "to": fact_text(name, change["to"], supplier_name),
            }
            for name, change in sorted((item["changes"] or {}).items(), key=_fact_order)
        ]
        entries.append(
            {
                **item,
                "label": EVENT_TYPES.get(item["type"], item["type"]),
                "recorded_text": formatting.instant(item["recorded_at"]),
                "change_list": changes,
                "actor_text": _actor(item["actor"]),
                "problem_text": "; ".join(
                    INTEGRITY_PROBLEMS.get(p.strip(), (p.strip(), ""))[0]
                    for p in item["integrity"].split(";")
                ),
            }
        )
    return entries


def _fact_order(item: tuple[str, Any]) -> tuple[int, str]:
    """Facts in ``FACTS``' order (Start before Slut), any other after them by name."""
    return (FACT_ORDER.get(item[0], len(FACT_ORDER)), item[0])


def _actor(actor: Any) -> str:
    if not isinstance(actor, dict):
        return "–" if actor is None else str(actor)
    name, ident = actor.get("name"), actor.get("id")
    return f"{name} ({ident})" if name and ident and name != ident else str(name or ident or "–")
