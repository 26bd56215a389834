"""The dashboard's front door: the site root, the start page, logging in and out, static files."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.auth import get_tokens
from api.dashboard.rendering import STATIC, templates
from api.dashboard.session import ROLE_NAMES, forget, home_page, remember, safe_next, same_origin, signed_in

router = APIRouter(prefix="/dashboard", include_in_schema=False)
entry = APIRouter(include_in_schema=False)


@entry.get("/")
def root() -> RedirectResponse:
    """The dashboard is the site's front page."""
    return RedirectResponse("/dashboard/", status_code=303)


@router.get("/")
def start(request: Request) -> Response:
    """The first page the signed-in role may open, else the login page."""
    principal = signed_in(request)
    if principal is None:
        return RedirectResponse("/dashboard/login", status_code=303)
    home = home_page(principal)
    if home is None:
        return RedirectResponse("/dashboard/login", status_code=303)
    return RedirectResponse(f"/dashboard/{home.slug}", status_code=303)


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return templates(request).render("login.html", next=safe_next(next), error=None)


@router.post("/login")
def login(
    request: Request,
    token: Annotated[str, Form(max_length=500)] = "",
    next: Annotated[str | None, Form(max_length=2000)] = None,
) -> Response:
    """Check the token; set the login cookie and go on, or show the form again with the reason."""
    target = safe_next(next)
    if not same_origin(request):
        return templates(request).render(
            "login.html", http_status=403, next=target, error="Log ind fra caseledgers egen side."
        )
    principal = get_tokens(request).authenticate(token.strip()) if token.strip() else None
    if principal is None:
        return templates(request).render(
            "login.html", http_status=401, next=target, error="Ukendt eller tilbagekaldt token."
        )
    home = home_page(principal)
    if home is None:
        role = ROLE_NAMES.get(principal.role, principal.role)
        return templates(request).render(
            "login.html",
            http_status=403,
            next=target,
            error=f"Rollen {role} har ikke adgang til nogen side i oversigten.",
        )
    response = RedirectResponse(target or f"/dashboard/{home.slug}", status_code=303)
    remember(response, request, token.strip())
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    response = RedirectResponse("/dashboard/login", status_code=303)
    forget(response, request)
    return response


@router.get("/static/{name}")
def static(request: Request, name: str) -> Response:
    if name not in STATIC:
        return Response("not found", status_code=404, media_type="text/plain")
    return Response(
        templates(request).static[name],
        media_type=STATIC[name],
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
