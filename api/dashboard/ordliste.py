"""Ordliste: the dashboard's words explained, linked from every page's header."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.dashboard.access import Viewer, frame
from api.dashboard.rendering import templates
from api.dashboard.session import signed_in
from api.dashboard.vocabulary import GLOSSARY, STATUSES
from api.dependencies import Ledger

router = APIRouter(prefix="/dashboard", include_in_schema=False)


@router.get("/ordliste")
def ordliste(request: Request, ledger: Ledger) -> Response:
    """The glossary; with the page frame for a signed-in viewer, without it for anyone else."""
    principal = signed_in(request)
    context = frame(Viewer(principal, None, ledger.today()), "ordliste") if principal is not None else {}
    return templates(request).render(
        "ordliste.html", **{**context, "title": "Ordliste"}, glossary=GLOSSARY, statuses=STATUSES
    )
