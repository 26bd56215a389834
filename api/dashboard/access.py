"""Who may open a dashboard page: the login cookie's token, the page's right and the municipality
asked for; and the frame (menu, who is signed in, municipality) every page shows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import Principal
from api.dashboard import formatting
from api.dashboard.rendering import templates
from api.dashboard.session import PAGE, ROLE_NAMES, pages_for, signed_in
from api.dependencies import Ledger
from domain.reference import load_reference

MUNICIPALITY = re.compile(r"^\d{3}$")
EXAMPLE_MUNICIPALITY = "461"


@dataclass
class Viewer:
    """Who looks at a page, and at which municipality's data."""

    principal: Principal
    municipality: str | None
    today: date

    @property
    def fixed_municipality(self) -> bool:
        return not self.principal.all_municipalities


def to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/dashboard/login?{urlencode({'next': target})}", status_code=303)


def open_page(request: Request, slug: str, ledger: Ledger) -> Viewer | Response:
    """The viewer of page ``slug``; else the login page (no live token), or a refusal (403) when the
    role lacks the page's right or the query names a municipality the token does not cover."""
    principal = signed_in(request)
    if principal is None:
        return to_login(request)
    page = PAGE[slug]
    if not principal.can(page.right):
        message = f"Din rolle ({ROLE_NAMES.get(principal.role, principal.role)}) giver ikke adgang til {page.title}."
        return refusal(request, principal, slug, message, ledger.today())
    asked = (request.query_params.get("municipality") or "").strip() or None
    if asked is not None and not known_municipality(asked):
        return unknown_municipality(request, principal, slug, asked, ledger.today())
    if asked is not None and not principal.sees(asked):
        message = f"Din adgang gælder kommune {principal.municipality}, ikke kommune {asked}."
        return refusal(request, principal, slug, message, ledger.today())
    municipality = asked if principal.all_municipalities else principal.municipality
    return Viewer(principal, municipality, ledger.today())


def refusal(request: Request, principal: Principal, slug: str, message: str, today: date) -> HTMLResponse:
    return templates(request).render(
        "afvist.html", http_status=403, **frame(Viewer(principal, None, today), slug), message=message
    )


def known_municipality(code: str) -> bool:
    """A kommunekode of the shipped reference data (Denmark's 98 municipalities)."""
    return MUNICIPALITY.match(code) is not None and code in load_reference().municipalities


def unknown_municipality(
    request: Request, principal: Principal, slug: str, asked: str, today: date
) -> HTMLResponse:
    """Say so (404) when the Kommune field names no municipality, instead of an empty page."""
    example = load_reference().municipalities[EXAMPLE_MUNICIPALITY]
    message = (
        f"Der findes ingen kommune med koden {asked}. Skriv en af de 98 kommunekoder, "
        f"f.eks. {example.code} for {example.name}, eller lad feltet stå tomt."
    )
    return templates(request).render(
        "afvist.html",
        http_status=404,
        **frame(Viewer(principal, None, today), slug),
        heading="Ukendt kommune",
        message=message,
        back=f"/dashboard/{slug}",
    )


def export_link(viewer: Viewer, slug: str, query: dict[str, str | None]) -> str:
    """The page's workbook with the page's choices (those set) and the municipality looked at."""
    chosen = {key: value for key, value in query.items() if value}
    if viewer.municipality and not viewer.fixed_municipality:
        chosen["municipality"] = viewer.municipality
    return f"/dashboard/{slug}.xlsx?{urlencode(chosen)}"


def about(viewer: Viewer, slug: str, details: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """What an export says about itself: the page, the municipality, the page's choices, who and when."""
    principal = viewer.principal
    return [
        ("Side", PAGE[slug].title),
        ("Kommune", viewer.municipality or "alle kommuner"),
        *details,
        (
            "Dannet",
            f"{formatting.day(viewer.today)} af {principal.name} ({ROLE_NAMES.get(principal.role, principal.role)})",
        ),
        ("Beløb", "i kroner med øre, som tal; de samme tal som siden og API'et viser"),
    ]


def frame(viewer: Viewer, slug: str) -> dict[str, Any]:
    """What every page's frame shows: the menu for the role, who is signed in, the municipality."""
    principal = viewer.principal
    return {
        "pages": pages_for(principal),
        "current": slug,
        "title": PAGE[slug].title if slug in PAGE else "",
        "who": principal.name,
        "role": ROLE_NAMES.get(principal.role, principal.role),
        "scope": "alle kommuner" if principal.all_municipalities else f"kommune {principal.municipality}",
        "municipality": viewer.municipality,
        "fixed_municipality": viewer.fixed_municipality,
        "today": viewer.today,
    }
