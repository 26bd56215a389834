"""A Forbrug cell's lineage: the indstillinger and events whose amounts add up to one cell of the
table (a month, and a key of the grouping), as a page and a workbook.

The same read as ``GET /reports/spending/lineage`` (``projections/lineage.py``): the spending read
model's rows for the month and key, each referral's events folded to find the ones that moved its
amount. Referral-level data, so every read and refused attempt is recorded in the access log as
the API's lineage read is (action ``spending.lineage``, format html or xlsx).

The page lists ``PAGE_SIZE`` indstillinger at a time (a month's total with the grouping "Ingen" is
every referral of the month, about 1,650 on the full demo: 934 kB of HTML); the cell's total is
all of them, and only the page's referrals have their events read. The workbook holds them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.access_log import logged
from api.basis import Basis
from api.dashboard import formatting
from api.dashboard.access import Viewer, about, frame, open_page, refusal
from api.dashboard.forbrug import labeller, page_of
from api.dashboard.known import known_on, read_known
from api.dashboard.rendering import templates
from api.dashboard.vocabulary import EVENT_TYPES, GROUPINGS, SPENDING, TOTAL
from api.dashboard.workbook import Column, Sheet, workbook_response
from api.dependencies import Ledger, Reports
from projections.codec import money
from projections.lineage import CellPart, LineageQuery, lineage

router = APIRouter(prefix="/dashboard", include_in_schema=False)

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
KEY = re.compile(r"^[\w.\-]{1,64}$")
KEPT = ("from", "to", "by", "top", "amounts", "q", "known_on", "municipality", "sort", "dir", "forbrug_page")
"""Forbrug's choices, carried to the cell and back."""
PAGE_SIZE = 100
"""Indstillinger listed a page."""
COLUMNS = (
    Column("Indstilling", width=38),
    Column("Beløb", "money"),
    Column("Hændelse", width=26),
    Column("Gælder fra", "date"),
    Column("Registreret (dansk tid)", width=24),
    Column("Ændring", "money"),
)


@dataclass(frozen=True)
class Cell:
    """The cell asked for: its month, the grouping and key (none for a month's total)."""

    month: str
    by: str | None
    key: str | None

    @staticmethod
    def asked(request: Request) -> Cell | None:
        params = request.query_params
        month, by, key = params.get("month", ""), params.get("by") or None, params.get("key") or None
        if not MONTH.match(month) or (by is not None and (by not in GROUPINGS or key is None)):
            return None
        if key is not None and (by is None or not KEY.match(key)):
            return None
        return Cell(month, by, key)


@dataclass(frozen=True)
class Shown:
    """A cell as the page and workbook show it: its referrals' amounts (``parts``, by referral id)
    as known at the "Kendt pr." day (``day``; None: now) from ``basis``."""

    viewer: Viewer
    cell: Cell
    parts: list[CellPart]
    basis: Basis
    day: date | None

    @property
    def amount(self) -> str:
        """The cell's amount: every referral's, not only a page's."""
        return money(sum(part.amount_ore for part in self.parts)) or "0.00"

    def lineage(self, ledger: Ledger, parts: list[CellPart]) -> dict[str, Any]:
        """``parts``' amounts and events; each referral's events up to the version its amount was
        folded from, so as known at the basis too (as the API's lineage reads them), a few hundred
        referrals a query."""
        read = ledger.sealed_events_upto({UUID(part.referral_id): part.version for part in parts})
        events_of = {part.referral_id: read[UUID(part.referral_id)] for part in parts}
        return lineage(parts, events_of, self.cell.month)


def cell_shown(request: Request, ledger: Ledger) -> Shown | Response:
    """The viewer, the cell and its referrals' amounts; else the login page, a refusal (403: the
    page's right, or another municipality, in ``municipality`` or as the key of the grouping by
    municipality) or a page saying the cell is unknown (404)."""
    cell = Cell.asked(request)
    request.state.access_query = {
        name: request.query_params[name]
        for name in ("month", "by", "key", "municipality", "known_on")
        if request.query_params.get(name)
    }
    viewer = open_page(request, "forbrug", ledger)
    if isinstance(viewer, Response):
        return viewer
    if cell is None:
        return templates(request).render(
            "afvist.html",
            http_status=404,
            **frame(viewer, "forbrug"),
            heading="Ukendt celle",
            message="Adressen peger ikke på en celle i Forbrug: den skal have en måned (ÅÅÅÅ-MM) og, "
            "for en række, en fordeling og en nøgle.",
            back="/dashboard/forbrug",
        )
    if cell.by == "municipality" and cell.key is not None and not viewer.principal.sees(cell.key):
        message = f"Din adgang gælder kommune {viewer.principal.municipality}, ikke kommune {cell.key}."
        return refusal(request, viewer.principal, "forbrug", message, viewer.today)
    query = LineageQuery(month=cell.month, by=cell.by, key=cell.key, municipality=viewer.municipality)
    day = known_on(request)
    basis, parts = read_known(request, ledger, day, lambda read: read.spending_lineage(query))
    return Shown(viewer, cell, parts, basis, day)


def cell_label(cell: Cell, viewer: Viewer, reports: Reports) -> str:
    """The row's name on Forbrug (a supplier's name, an intervention's, ...), or the month's total."""
    if cell.by is None:
        return f"{SPENDING} i alt"
    return labeller(cell.by, viewer, reports)(cell.key)


def kept(request: Request) -> dict[str, str]:
    """Forbrug's choices in the address; ``by`` even when empty (the grouping "Ingen")."""
    params = request.query_params
    chosen = {name: params[name] for name in KEPT if params.get(name) or (name == "by" and name in params)}
    day = known_on(request)
    if day is not None:
        chosen["known_on"] = day.isoformat()
    else:
        chosen.pop("known_on", None)
    return chosen


def way_back(choices: dict[str, str]) -> dict[str, str]:
    """Forbrug's address as it was left: its choices, sort and page (``forbrug_page`` here)."""
    back = {name: value for name, value in choices.items() if name != "forbrug_page"}
    if "forbrug_page" in choices:
        back["page"] = choices["forbrug_page"]
    return back


def event_rows(found: dict[str, Any]) -> list[dict[str, Any]]:
    """Each referral's events with Danish names and times, newest last."""
    return [
        {
            **referral,
            "events": [
                {
                    **event,
                    "label": EVENT_TYPES.get(event["type"], event["type"]),
                    "recorded_text": formatting.instant(event["recorded_at"]),
                }
                for event in referral["events"]
            ],
        }
        for referral in found["referrals"]
    ]


@router.get("/forbrug/celle")
@logged("spending.lineage")
def forbrug_celle(request: Request, ledger: Ledger, reports: Reports) -> Response:
    """The indstillinger and events that make up one Forbrug cell, a page of them at a time, each
    leading to its trail."""
    shown = cell_shown(request, ledger)
    if isinstance(shown, Response):
        return shown
    viewer, cell = shown.viewer, shown.cell
    choices = kept(request)
    cell_query = {**choices, "month": cell.month, "by": cell.by, "key": cell.key}
    address = {k: v for k, v in cell_query.items() if v}
    listed = page_of(request, shown.parts, PAGE_SIZE)
    found = shown.lineage(ledger, listed.rows)

    def page_link(number: int) -> str:
        return f"/dashboard/forbrug/celle?{urlencode({**choices, **address, 'page': number})}"

    return templates(request).render(
        "forbrug_celle.html",
        **frame(viewer, "forbrug"),
        cell=cell,
        label=cell_label(cell, viewer, reports),
        grouping=GROUPINGS.get(cell.by or "", ""),
        amount=shown.amount,
        count=listed.count,
        pager=listed.pager(page_link),
        page_amount=found["amount"],
        referrals=event_rows(found),
        sees_trail=viewer.principal.can("audit:read"),
        back_link=f"/dashboard/forbrug?{urlencode(way_back(choices))}",
        export_link=f"/dashboard/forbrug/celle.xlsx?{urlencode(address)}",
        known_on=shown.day,
        basis=shown.basis,
    )


@router.get("/forbrug/celle.xlsx")
@logged("spending.lineage")
def forbrug_celle_xlsx(request: Request, ledger: Ledger, reports: Reports) -> Response:
    """The cell's lineage as a workbook: a row per event, the referral's amount on its first row."""
    shown = cell_shown(request, ledger)
    if isinstance(shown, Response):
        return shown
    viewer, cell = shown.viewer, shown.cell
    found = shown.lineage(ledger, shown.parts)
    rows: list[list[Any]] = []
    for referral in event_rows(found):
        events = referral["events"] or [None]
        for index, event in enumerate(events):
            rows.append(
                [
                    referral["referral_id"],
                    referral["amount"] if index == 0 else None,
                    event["label"] if event else None,
                    event["business_date"] if event else None,
                    event["recorded_text"] if event else None,
                    event["change"] if event else None,
                ]
            )
    footer = [TOTAL, found["amount"], None, None, None, None]
    sheet = Sheet("Celle", COLUMNS, rows, footer, frozen_columns=1)
    details = [
        ("Måned", formatting.month_long(cell.month)),
        ("Fordelt på", GROUPINGS.get(cell.by or "", "")),
        ("Række", cell_label(cell, viewer, reports)),
        ("Antal indstillinger", formatting.count(len(found["referrals"]))),
        ("Cellens beløb", f"{formatting.kroner(found['amount'])} (summen af indstillingernes beløb)"),
        ("Kendt pr.", formatting.day(shown.day) if shown.day else "nu"),
        ("Logposition", formatting.count(shown.basis.position)),
    ]
    name = f"forbrug-celle-{cell.month}" + (f"-{cell.by}-{cell.key}" if cell.by else "")
    return workbook_response([sheet], about(viewer, "forbrug", details), name)
