"""Logging in to the dashboard with an API token, and what each role may see there.

The login form posts a token; the server checks it with the same token store as the JSON API's
bearer authentication and, if it is live, sets it as an ``HttpOnly; SameSite=Strict`` cookie
(``Secure`` over https, or always/never by ``CASELEDGER_COOKIE_SECURE``). Every page looks the token
up again, so a revoked token stops working at once and no session state lives in the server. Logging
out clears the cookie. The JSON API does not read this cookie: it keeps ``Authorization: Bearer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import Request, Response

from api.auth import Principal, get_tokens

COOKIE = "caseledger_dashboard"
PATH = "/dashboard"


@dataclass(frozen=True)
class Page:
    """A dashboard page: its path under /dashboard, its Danish title and the right it needs."""

    slug: str
    title: str
    right: str


PAGES = (
    Page("overblik", "Overblik", "report:read"),
    Page("forbrug", "Forbrug", "report:read"),
    Page("priser", "Priser", "report:read"),
    Page("revisionsspor", "Revisionsspor", "audit:read"),
    Page("praksis", "Praksis", "report:read"),
    Page("match", "Match", "referral:candidates"),
)
PAGE = {page.slug: page for page in PAGES}

ROLE_NAMES = {
    "case_system": "sagssystem",
    "caseworker": "sagsbehandler",
    "matcher": "visitator",
    "auditor": "revisor",
    "reporter": "rapportlæser",
    "admin": "administrator",
}


def pages_for(principal: Principal) -> list[Page]:
    """The pages the token's role may open, in menu order."""
    return [page for page in PAGES if principal.can(page.right)]


HOME = {"auditor": "revisionsspor"}
"""Where a role starts when it may open that page: an auditor comes for the decision histories."""


def home_page(principal: Principal) -> Page | None:
    """The page a signed-in role starts on: its own (``HOME``), else the first it may open."""
    allowed = pages_for(principal)
    preferred = [page for page in allowed if page.slug == HOME.get(principal.role)]
    first = preferred or allowed
    return first[0] if first else None


def signed_in(request: Request) -> Principal | None:
    """The live token in the dashboard cookie, or None (no cookie, unknown or revoked token)."""
    secret = request.cookies.get(COOKIE)
    if not secret:
        return None
    token = get_tokens(request).authenticate(secret)
    if token is not None:
        request.state.principal = token
    return token


def secure_cookie(request: Request) -> bool:
    """``CASELEDGER_COOKIE_SECURE``: true or false, or unset to follow the request's scheme."""
    configured: bool | None = request.app.state.settings.cookie_secure
    return request.url.scheme == "https" if configured is None else configured


def remember(response: Response, request: Request, secret: str) -> None:
    """Set the login cookie: only for /dashboard, never readable by scripts, never sent cross-site."""
    response.set_cookie(
        COOKIE,
        secret,
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=secure_cookie(request),
    )


def forget(response: Response, request: Request) -> None:
    """Clear the login cookie."""
    response.delete_cookie(COOKIE, path=PATH, httponly=True, samesite="strict", secure=secure_cookie(request))


def same_origin(request: Request) -> bool:
    """A form post from this very site (the ``Origin`` header, where the browser sends one)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    # The host only: behind a TLS-terminating proxy the scheme seen here may be http.
    return urlsplit(origin).netloc == request.url.netloc


def safe_next(target: str | None) -> str | None:
    """Where to go after logging in: only a dashboard path on this site, never another host."""
    if not target or not target.startswith(f"{PATH}/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target
