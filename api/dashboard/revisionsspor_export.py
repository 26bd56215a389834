"""Revisionsspor as an Excel workbook: one referral's trail, or every referral of the list."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.access_log import logged
from api.auth import check_referral
from api.dashboard import formatting
from api.dashboard.access import Viewer, about, open_page
from api.dashboard.decisions import Suppliers
from api.dashboard.revisionsspor import SORT_NAMES, ListChoice, asked_for, found_by_case_ref, trail_entries
from api.dashboard.session import PAGE
from api.dashboard.vocabulary import STATUSES, TRAIL_LIST_COLUMNS, legal_basis_name
from api.dashboard.workbook import Column, Sheet, workbook_response
from api.dependencies import Ledger, Reports
from domain.errors import NotFound
from domain.reference import load_reference

router = APIRouter(prefix="/dashboard", include_in_schema=False)

LIST_COLUMNS = (
    Column(TRAIL_LIST_COLUMNS[0], "date"),
    Column(TRAIL_LIST_COLUMNS[1], width=36),
    Column(TRAIL_LIST_COLUMNS[2], width=36),
    Column(TRAIL_LIST_COLUMNS[3], width=30),
    Column(TRAIL_LIST_COLUMNS[4]),
    Column(TRAIL_LIST_COLUMNS[5], width=10),
    Column(TRAIL_LIST_COLUMNS[6], "money"),
    Column("Id", width=38),
)
TRAIL_COLUMNS = (
    Column("Version", "count"),
    Column("Gælder fra", "date"),
    Column("Registreret (dansk tid)", width=24),
    Column("Hændelse", width=26),
    Column("Besluttet af", width=30),
    Column("Begrundelse", width=50),
    Column("Ændringer", width=60),
    Column("Integritet", width=14),
)
EXPORT_PAGE_SIZE = 500


@router.get("/revisionsspor.xlsx")
@logged("dashboard.revisionsspor")
def revisionsspor_xlsx(request: Request, ledger: Ledger, reports: Reports) -> Response:
    """Revisionsspor as an Excel workbook: one referral's trail, or every referral of the list
    (all its pages) with the status filter; recorded in the access log like the page."""
    asked, choice, _ = asked_for(request, every_page=True)
    viewer = open_page(request, "revisionsspor", ledger)
    if isinstance(viewer, Response):
        return viewer
    if not asked:
        return _listing_workbook(viewer, ledger, reports, choice.seen_by(viewer))
    try:
        referral_id = UUID(asked)
        check_referral(viewer.principal, ledger, referral_id)
        trail = ledger.audit.referral_trail(referral_id)
    except (ValueError, NotFound):
        return Response(
            "Ingen indstilling med dette id.", status_code=404, media_type="text/plain; charset=utf-8"
        )
    rows = [
        [
            e["version"],
            e["effective_date"],
            e["recorded_text"] if e["recorded_at"] else None,
            e["label"],
            e["actor_text"],
            e["rationale"],
            "; ".join(f"{c['field']}: {c['from']} → {c['to']}" for c in e["change_list"]),
            "i orden" if e["integrity"] == "ok" else e["problem_text"],
        ]
        for e in trail_entries(trail, Suppliers(ledger).name)
    ]
    integrity = trail["integrity"]
    details = [
        ("Indstilling", str(referral_id)),
        (
            "Integritetskontrol",
            f"i orden ({formatting.count(integrity['checked'])} hændelser kontrolleret)"
            if integrity["ok"]
            else f"FEJL: {formatting.count(integrity['problem_count'])} problem(er) blandt "
            f"{formatting.count(integrity['checked'])} kontrollerede hændelser",
        ),
    ]
    sheet = Sheet(PAGE["revisionsspor"].title, TRAIL_COLUMNS, rows, frozen_columns=1)
    return workbook_response([sheet], about(viewer, "revisionsspor", details), f"revisionsspor-{referral_id}")


def _listing_workbook(viewer: Viewer, ledger: Ledger, reports: Reports, choice: ListChoice) -> Response:
    interventions = load_reference().interventions
    filters = {"municipality": viewer.municipality, **choice.filters}
    referral_ids = found_by_case_ref(ledger, reports, viewer, choice)
    names = reports.referral_suppliers(viewer.municipality)
    rows: list[list[Any]] = []
    page = 1
    while True:
        found = reports.referrals(
            filters, page, EXPORT_PAGE_SIZE, choice.sort, choice.descending, referral_ids
        )
        rows.extend(
            [
                r["referred_on"],
                names.get(r["supplier_id"], r["supplier_id"]) if r["supplier_id"] else None,
                interventions[r["intervention"]].name_da
                if r["intervention"] in interventions
                else r["intervention"],
                legal_basis_name(r["legal_basis"]),
                STATUSES.get(r["status"], r["status"]),
                r["municipality"],
                r["committed_total"],
                r["id"],
            ]
            for r in found["items"]
        )
        if not found["items"] or page * EXPORT_PAGE_SIZE >= found["total"]:
            break
        page += 1
    details = [
        ("Status", STATUSES[choice.status] if choice.status else "alle"),
        (
            "Leverandør",
            names.get(choice.supplier, choice.supplier) if choice.supplier else "alle",
        ),
        (
            "Indsats",
            interventions[choice.intervention].name_da if choice.intervention else "alle",
        ),
        *([("Sagsnummer", choice.case_ref)] if choice.case_ref else []),
        ("Sorteret efter", f"{SORT_NAMES[choice.sort]}, {'faldende' if choice.descending else 'stigende'}"),
    ]
    sheet = Sheet(PAGE["revisionsspor"].title, LIST_COLUMNS, rows, frozen_columns=1)
    name = f"revisionsspor-{viewer.municipality or 'alle'}-{viewer.today.isoformat()}"
    return workbook_response([sheet], about(viewer, "revisionsspor", details), name)
