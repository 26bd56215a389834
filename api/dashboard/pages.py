"""The dashboard's pages: Overblik, Forbrug (and a cell's lineage), Priser, Revisionsspor, Praksis and Match, server-rendered in Danish.

Each page answers from the same read models and with the same rules as the JSON report and audit
endpoints (the ``Reports`` queries and ``Audit.referral_trail``), with the token from the login
cookie instead of a bearer header: the role decides which pages open, the municipality what they
show. Query parameters keep the endpoints' names (``municipality``, ``from``, ``to``, ``by``,
``intervention``, ``unit``), so a page's address maps directly onto its endpoint's. None of these
routes is in the OpenAPI document.
"""

from __future__ import annotations

from typing import Any

from api.dashboard import (
    forbrug,
    forbrug_celle,
    login,
    match,
    ordliste,
    overblik,
    praksis,
    priser,
    revisionsspor,
    revisionsspor_export,
)
from api.dashboard.rendering import Templates


def install(app: Any) -> None:
    """Serve the dashboard from ``app``: its routes and its templates."""
    app.state.dashboard = Templates()
    app.include_router(login.entry)
    for page in (
        login,
        overblik,
        forbrug,
        forbrug_celle,
        priser,
        revisionsspor,
        revisionsspor_export,
        praksis,
        match,
        ordliste,
    ):
        app.include_router(page.router)
