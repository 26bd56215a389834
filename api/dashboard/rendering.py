"""Rendering the dashboard: its Jinja2 templates with the Danish formatting filters, its static
files, and the security headers every page is sent with."""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from api.dashboard import formatting, vocabulary

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
STATIC = {"dashboard.css": "text/css; charset=utf-8", "dashboard.js": "text/javascript; charset=utf-8"}


class Templates:
    """The Jinja2 templates (package data of ``api.dashboard``), with the Danish formatting filters."""

    def __init__(self) -> None:
        self.env = Environment(
            loader=PackageLoader("api.dashboard", "templates"),
            autoescape=select_autoescape(("html",)),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(
            kr=formatting.kroner,
            dato=formatting.day,
            maaned=formatting.month,
            maaned_lang=formatting.month_long,
            tal=formatting.number,
            antal=formatting.count,
        )
        self.env.globals.update(ord=vocabulary.ORD)
        self.static = {
            name: resources.files("api.dashboard").joinpath("static", name).read_bytes() for name in STATIC
        }

    def render(self, name: str, http_status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(
            self.env.get_template(name).render(**context), status_code=http_status, headers=SECURITY_HEADERS
        )


def templates(request: Request) -> Templates:
    found: Templates = request.app.state.dashboard
    return found
