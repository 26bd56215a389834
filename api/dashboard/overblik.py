"""Overblik: the supplier overview (``GET /reports/suppliers``) with the age of each price list."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.basis import Basis
from api.dashboard import formatting
from api.dashboard.access import Viewer, about, export_link, frame, open_page
from api.dashboard.known import known_on, read_known
from api.dashboard.rendering import templates
from api.dashboard.session import PAGE
from api.dashboard.vocabulary import SUPPLIER_COLUMNS, TOTAL
from api.dashboard.workbook import Column, Sheet, workbook_response
from api.dependencies import Ledger
from projections.supplier_overview import OverviewQuery

router = APIRouter(prefix="/dashboard", include_in_schema=False)

YEAR_DAYS = 365
MAX_SEARCH = 200


def price_list_entries(row: dict[str, Any], today: date) -> list[dict[str, Any]]:
    """The supplier's lists in force, one per municipality and negotiation date, newest first, each
    with its age and whether it is older than a year."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for in_force in row["price_lists"]:
        for item in [*in_force["rates"], *in_force["packages"]]:
            key = (in_force["municipality"], item["negotiated_on"])
            negotiated = date.fromisoformat(item["negotiated_on"])
            entry = found.setdefault(
                key,
                {
                    "municipality": in_force["municipality"],
                    "negotiated_on": item["negotiated_on"],
                    "age": formatting.age(negotiated, today),
                    "age_days": (today - negotiated).days,
                    "old": (today - negotiated).days > YEAR_DAYS,
                    "items": 0,
                },
            )
            entry["items"] += 1
    return sorted(found.values(), key=lambda e: (e["municipality"], e["negotiated_on"]), reverse=True)


def suppliers_shown(
    request: Request, ledger: Ledger, viewer: Viewer, day: date | None
) -> tuple[list[dict[str, Any]], Basis]:
    """The supplier overview's rows by name, each with its price lists in force and their ages, as
    known at the end of ``day`` (None: now; as ``GET /reports/suppliers?known_at=`` answers), and
    their basis."""
    query = OverviewQuery(municipality=viewer.municipality)
    basis, rows = read_known(request, ledger, day, lambda read: read.supplier_overview(query, viewer.today))
    suppliers = []
    for row in sorted(rows, key=lambda r: r["name"].casefold()):
        lists = price_list_entries(row, viewer.today)
        suppliers.append(
            {
                **row,
                "lists": lists,
                "oldest_days": max((e["age_days"] for e in lists), default=-1),
                "has_old": any(e["old"] for e in lists),
            }
        )
    return suppliers, basis


@router.get("/overblik")
def overblik(request: Request, ledger: Ledger) -> Response:
    """The supplier overview (``GET /reports/suppliers``) as a sortable, filterable table."""
    viewer = open_page(request, "overblik", ledger)
    if isinstance(viewer, Response):
        return viewer
    day = known_on(request)
    suppliers, basis = suppliers_shown(request, ledger, viewer, day)
    text, only_old = filter_asked(request)
    return templates(request).render(
        "overblik.html",
        **frame(viewer, "overblik"),
        suppliers=suppliers,
        columns=SUPPLIER_COLUMNS,
        old_count=sum(1 for s in suppliers if s["has_old"]),
        committed=f"{sum((Decimal(s['committed_total']) for s in suppliers), Decimal(0)):.2f}",
        q=text,
        only_old=only_old,
        export_link=export_link(
            viewer,
            "overblik",
            {"q": text, "old": "1" if only_old else None, "known_on": day.isoformat() if day else None},
        ),
        known_on=day,
        basis=basis,
    )


def filter_asked(request: Request) -> tuple[str, bool]:
    """The supplier filter kept in the address: the search text ``q`` and ``old=1``."""
    return (request.query_params.get("q") or "").strip()[:MAX_SEARCH], request.query_params.get("old") == "1"


def matches(supplier: dict[str, Any], words: list[str], only_old: bool) -> bool:
    """The page's filter: every word in the name or CVR, and if asked a list older than a year."""
    text = f"{supplier['name']} {supplier['cvr']}".lower()
    return all(word in text for word in words) and (supplier["has_old"] or not only_old)


@router.get("/overblik.xlsx")
def overblik_xlsx(request: Request, ledger: Ledger) -> Response:
    """Overblik's table as an Excel workbook, filtered as the page was (``q``, ``old``)."""
    viewer = open_page(request, "overblik", ledger)
    if isinstance(viewer, Response):
        return viewer
    text, only_old = filter_asked(request)
    words = text.lower().split()
    day = known_on(request)
    every, basis = suppliers_shown(request, ledger, viewer, day)
    suppliers = [s for s in every if matches(s, words, only_old)]
    show_municipality = not viewer.fixed_municipality
    columns = [
        Column(SUPPLIER_COLUMNS[0], width=36),
        Column(SUPPLIER_COLUMNS[1], width=10),
        Column(SUPPLIER_COLUMNS[2], width=44),
        Column("Ældre end et år"),
        Column(SUPPLIER_COLUMNS[3], "count"),
        Column(SUPPLIER_COLUMNS[4], "count"),
        Column(SUPPLIER_COLUMNS[5], "money"),
        Column(SUPPLIER_COLUMNS[6], "money"),
    ]
    rows = [
        [
            s["name"],
            s["cvr"],
            "; ".join(
                (f"{entry['municipality']}: " if show_municipality else "")
                + f"{formatting.day(entry['negotiated_on'])} ({entry['age']})"
                for entry in s["lists"]
            ),
            "ja" if s["has_old"] else "nej",
            s["active_referrals"],
            s["total_referrals"],
            s["committed_total"],
            s["committed_current_year"],
        ]
        for s in suppliers
    ]
    footer = [
        TOTAL,
        None,
        None,
        None,
        sum(s["active_referrals"] for s in suppliers),
        sum(s["total_referrals"] for s in suppliers),
        sum((Decimal(s["committed_total"]) for s in suppliers), Decimal(0)),
        sum((Decimal(s["committed_current_year"]) for s in suppliers), Decimal(0)),
    ]
    details = [
        ("Søgning", " ".join(words) or "ingen"),
        ("Kun prislister ældre end et år", "ja" if only_old else "nej"),
        ("Kendt pr.", formatting.day(day) if day else "nu"),
        ("Logposition", formatting.count(basis.position)),
    ]
    name = f"overblik-{viewer.municipality or 'alle'}-{viewer.today.isoformat()}"
    sheet = Sheet(PAGE["overblik"].title, columns, rows, footer, frozen_columns=1)
    return workbook_response([sheet], about(viewer, "overblik", details), name)
