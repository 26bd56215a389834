"""The dashboard's pages: Overblik, Forbrug, Priser and Revisionsspor, server-rendered in Danish.

Each page answers from the same read models and with the same rules as the JSON report and audit
endpoints (the ``Reports`` queries and ``CaseLedger.referral_trail``), with the token from the login
cookie instead of a bearer header: the role decides which pages open, the municipality what they
show. Query parameters keep the endpoints' names (``municipality``, ``from``, ``to``, ``by``,
``intervention``, ``unit``), so a page's address maps directly onto its endpoint's. None of these
routes is in the OpenAPI document.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from api.access_log import logged
from api.auth import Principal, check_referral, get_tokens
from api.csv_export import safe_cell
from api.dashboard import formatting
from api.dashboard.charts import distribution, months_between, stacked_bars
from api.dashboard.session import (
    PAGE,
    ROLE_NAMES,
    forget,
    pages_for,
    remember,
    safe_next,
    same_origin,
    signed_in,
)
from api.dependencies import Ledger, Reports
from application.commands import COMMANDS
from domain.errors import NotFound
from domain.reference import load_reference
from projections.price_benchmarks import BenchmarkQuery
from projections.spending import SpendingQuery
from projections.supplier_overview import OverviewQuery

router = APIRouter(prefix="/dashboard", include_in_schema=False)
entry = APIRouter(include_in_schema=False)

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MUNICIPALITY = re.compile(r"^\d{3}$")
MAX_MONTHS = 60
YEAR_DAYS = 365
GROUPINGS = {
    "intervention": "Indsats",
    "supplier": "Leverandør",
    "legal_basis": "Lovgrundlag",
    "municipality": "Kommune",
    "": "Ingen (i alt)",
}
UNITS = {"hour": "time", "day": "dag", "package": "forløb"}
EVENT_TYPES = {name: command.label for name, command in COMMANDS.items() if name.startswith("referral.")}
STATUSES = {"referred": "henvist", "matched": "matchet", "active": "aktiv", "closed": "afsluttet"}
FACTS = {
    "status": "Status",
    "supplier_id": "Leverandør",
    "start": "Start",
    "end": "Slut",
    "pricing": "Prisform",
    "package_price": "Forløbspris",
    "closed_on": "Afsluttet",
    "close_reason": "Afslutningsårsag",
    "hours_per_week": "Timer pr. uge",
    "hourly_rate": "Timepris",
    "daily_rate": "Dagspris",
}
MONEY_FACTS = {"package_price", "hourly_rate", "daily_rate"}
DATE_FACTS = {"start", "end", "closed_on"}
PRICINGS = {"hourly": "timepris", "daily": "dagspris", "package": "forløbspris"}
CLOSE_REASONS = {
    "goal_achieved": "målet er nået",
    "planned_end": "planlagt afslutning",
    "need_changed": "behovet er ændret",
    "family_declined": "familien takkede nej",
    "moved": "fraflyttet kommunen",
    "supplier_terminated": "leverandøren ophørte",
    "rematched": "ny leverandør",
    "withdrawn": "trukket tilbage",
    "other": "andet",
}
INTEGRITY_PROBLEMS = {
    "altered": ("ændret", "hændelsen (type eller indhold) er ikke den, der blev registreret"),
    "deleted": ("slettet", "kæden kender hændelsen, men den er ikke længere gemt"),
    "missing": ("mangler", "en version mangler i forløbet, og dens kædeled med den"),
    "moved": ("flyttet", "hændelsen ligger et andet sted i loggen end der, hvor den blev registreret"),
    "not covered": (
        "uden kædeled",
        "hændelsen har intet kædeled: gemt før kæden fandtes eller uden om systemet",
    ),
    "chain broken": ("kæden brudt", "den samlede kæde hænger ikke sammen med rækken før denne"),
    "undecodable": ("ulæselig", "de gemte bytes kan ikke læses som en hændelse"),
}
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
        )
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


# -- access ------------------------------------------------------------------------------------------


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
    asked = request.query_params.get("municipality") or None
    if asked is not None and not MUNICIPALITY.match(asked):
        asked = None
    if asked is not None and not principal.sees(asked):
        message = f"Din adgang gælder kommune {principal.municipality}, ikke kommune {asked}."
        return refusal(request, principal, slug, message, ledger.today())
    municipality = asked if principal.all_municipalities else principal.municipality
    return Viewer(principal, municipality, ledger.today())


def refusal(request: Request, principal: Principal, slug: str, message: str, today: date) -> HTMLResponse:
    return templates(request).render(
        "afvist.html", http_status=403, **frame(Viewer(principal, None, today), slug), message=message
    )


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


# -- login -------------------------------------------------------------------------------------------


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
    allowed = pages_for(principal)
    if not allowed:
        return RedirectResponse("/dashboard/login", status_code=303)
    return RedirectResponse(f"/dashboard/{allowed[0].slug}", status_code=303)


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
    allowed = pages_for(principal)
    if not allowed:
        role = ROLE_NAMES.get(principal.role, principal.role)
        return templates(request).render(
            "login.html",
            http_status=403,
            next=target,
            error=f"Rollen {role} har ikke adgang til nogen side i oversigten.",
        )
    response = RedirectResponse(target or f"/dashboard/{allowed[0].slug}", status_code=303)
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


# -- Overblik ----------------------------------------------------------------------------------------


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


@router.get("/overblik")
def overblik(request: Request, ledger: Ledger, reports: Reports) -> Response:
    """The supplier overview (``GET /reports/suppliers``) as a sortable, filterable table."""
    viewer = open_page(request, "overblik", ledger)
    if isinstance(viewer, Response):
        return viewer
    rows = reports.supplier_overview(OverviewQuery(municipality=viewer.municipality), viewer.today)
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
    return templates(request).render(
        "overblik.html",
        **frame(viewer, "overblik"),
        suppliers=suppliers,
        old_count=sum(1 for s in suppliers if s["has_old"]),
        committed=f"{sum((Decimal(s['committed_total']) for s in suppliers), Decimal(0)):.2f}",
    )


# -- Forbrug -----------------------------------------------------------------------------------------


def _shift_month(value: str, months: int) -> str:
    year, number = map(int, value.split("-"))
    index = year * 12 + number - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True)
class Period:
    from_month: str
    to_month: str
    by: str
    problem: str | None


def period_of(request: Request, today: date) -> Period:
    """The chosen months and grouping; by default the twelve months up to this one, by intervention."""
    params = request.query_params
    this_month = f"{today.year:04d}-{today.month:02d}"
    first, last = params.get("from", ""), params.get("to", "")
    by = params.get("by", "intervention")
    problem = None
    if by not in GROUPINGS:
        by, problem = "intervention", "Ukendt gruppering; viser indsats."
    first = first if MONTH.match(first) else _shift_month(last if MONTH.match(last) else this_month, -11)
    last = last if MONTH.match(last) else max(first, this_month) if MONTH.match(first) else this_month
    if first > last:
        first, last = last, first
        problem = "Perioden var vendt om; fra og til er byttet."
    if len(months_between(first, last)) > MAX_MONTHS:
        first = _shift_month(last, -(MAX_MONTHS - 1))
        problem = f"Højst {MAX_MONTHS} måneder ad gangen; perioden er forkortet."
    return Period(first, last, by, problem)


def labeller(by: str, viewer: Viewer, reports: Reports) -> Callable[[str | None], str]:
    """Readable names for the keys of a grouping (supplier names, Danish intervention names, ...)."""
    if by == "supplier":
        rows = reports.supplier_overview(OverviewQuery(municipality=viewer.municipality), viewer.today)
        names = {row["supplier_id"]: row["name"] for row in rows}
        return lambda key: names.get(key or "", key or "(ingen leverandør)")
    if by == "intervention":
        interventions = load_reference().interventions
        return lambda key: interventions[key].name_da if key in interventions else str(key)
    if by == "legal_basis":
        bases = load_reference().legal_bases
        return lambda key: f"{key} {bases[key].title_da}" if key in bases else str(key)
    if by == "municipality":
        return lambda key: f"Kommune {key}"
    return lambda key: "Forpligtet forbrug i alt"


def spending_query(period: Period, viewer: Viewer) -> SpendingQuery:
    return SpendingQuery(
        from_month=period.from_month,
        to_month=period.to_month,
        by=period.by or None,
        municipality=viewer.municipality,
    )


@dataclass(frozen=True)
class Series:
    """One key of a grouping on the Forbrug page: its label and its amounts by month."""

    key: str | None
    label: str
    amounts: dict[str, str]

    @property
    def values(self) -> dict[str, Decimal]:
        return {month: Decimal(amount) for month, amount in self.amounts.items()}

    @property
    def total(self) -> Decimal:
        return sum(self.values.values(), Decimal(0))


def spending_shown(
    request: Request, ledger: Ledger, reports: Reports
) -> tuple[Viewer, Period, dict[str, Any], Callable[[str | None], str]] | Response:
    """What Forbrug shows (the page and its CSV alike): the viewer, the period and grouping asked
    for, the spending report for them and the labels of its keys; or the login or refusal page."""
    viewer = open_page(request, "forbrug", ledger)
    if isinstance(viewer, Response):
        return viewer
    period = period_of(request, viewer.today)
    report = reports.spending(spending_query(period, viewer))
    return viewer, period, report, labeller(period.by, viewer, reports)


@router.get("/forbrug")
def forbrug(request: Request, ledger: Ledger, reports: Reports) -> Response:
    """The spending timeline (``GET /reports/spending``) as a stacked monthly chart and a table."""
    shown = spending_shown(request, ledger, reports)
    if isinstance(shown, Response):
        return shown
    viewer, period, report, label = shown
    months = months_between(period.from_month, period.to_month)
    by_key: dict[str | None, dict[str, str]] = {}
    for row in report["rows"]:
        by_key.setdefault(row.get("key"), {})[row["month"]] = row["amount"]
    series = sorted(
        (Series(key, label(key), amounts) for key, amounts in by_key.items()),
        key=lambda found: (-found.total, found.label),
    )
    chart = stacked_bars(months, [(found.label, found.values) for found in series])
    month_totals = {
        m: sum((found.values[m] for found in series if m in found.values), Decimal(0)) for m in months
    }
    query = {"from": period.from_month, "to": period.to_month, "by": period.by}
    if viewer.municipality and not viewer.fixed_municipality:
        query["municipality"] = viewer.municipality
    return templates(request).render(
        "forbrug.html",
        **frame(viewer, "forbrug"),
        period=period,
        groupings=GROUPINGS,
        months=months,
        series=series,
        chart=chart,
        month_totals={m: f"{v:.2f}" for m, v in month_totals.items()},
        total=report["total"],
        csv_link=f"/dashboard/forbrug.csv?{urlencode(query)}",
    )


@router.get("/forbrug.csv")
def forbrug_csv(request: Request, ledger: Ledger, reports: Reports) -> Response:
    """What the Forbrug page shows, as CSV: the endpoint's rows (month, key, amount) with a label."""
    shown = spending_shown(request, ledger, reports)
    if isinstance(shown, Response):
        return shown
    _, period, report, label = shown
    columns = ["month", "key", "label", "amount"] if period.by else ["month", "amount"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in report["rows"]:
        by = [row["month"], row["key"], label(row["key"]), row["amount"]]
        cells = by if period.by else [row["month"], row["amount"]]
        writer.writerow([safe_cell(cell) for cell in cells])
    name = f"forbrug-{period.from_month}-{period.to_month}" + (f"-{period.by}" if period.by else "")
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"', "Cache-Control": "no-store"},
    )


# -- Priser ------------------------------------------------------------------------------------------


@router.get("/priser")
def priser(request: Request, ledger: Ledger, reports: Reports) -> Response:
    """Price benchmarks (``GET /reports/price-benchmarks``): agreed rates against list rates."""
    viewer = open_page(request, "priser", ledger)
    if isinstance(viewer, Response):
        return viewer
    interventions = load_reference().interventions
    intervention = request.query_params.get("intervention") or None
    if intervention not in interventions:
        intervention = None
    unit = request.query_params.get("unit") or None
    if unit not in UNITS:
        unit = None
    rows = reports.price_benchmarks(
        BenchmarkQuery(intervention=intervention, unit=unit, municipality=viewer.municipality), viewer.today
    )
    shown = [
        {
            **row,
            "label": interventions[row["intervention"]].name_da
            if row["intervention"] in interventions
            else row["intervention"],
            "unit_label": UNITS.get(row["unit"], row["unit"]),
            "chart": distribution(row),
        }
        for row in rows
    ]
    return templates(request).render(
        "priser.html",
        **frame(viewer, "priser"),
        rows=shown,
        interventions=sorted(interventions.values(), key=lambda i: i.name_da),
        intervention=intervention,
        units=UNITS,
        unit=unit,
    )


# -- Revisionsspor -----------------------------------------------------------------------------------


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


@router.get("/revisionsspor")
@logged("dashboard.revisionsspor")
def revisionsspor(request: Request, ledger: Ledger, reports: Reports) -> Response:
    """A referral's decision trail (``GET /audit/referrals/{id}``) as a timeline with the integrity
    check's result; without a referral, the newest referrals to choose from.

    Reads referral-level data: ``ledger.referral_trail`` (the trail) and ``reports.referrals`` (the
    list to choose from), both for the signed-in token; an access log records them here.
    """
    asked = (request.query_params.get("referral") or "").strip()
    page_text = request.query_params.get("page", "1")
    page = max(1, min(10_000, int(page_text))) if page_text.isdigit() and len(page_text) < 6 else 1
    status = request.query_params.get("status") or None
    status = status if status in STATUSES else None
    # What the access log records for this request, refused or not (an id that is no UUID is dropped).
    if asked:
        request.state.access_referral_id = asked
    else:
        request.state.access_query = {"status": status, "page": str(page)}
    viewer = open_page(request, "revisionsspor", ledger)
    if isinstance(viewer, Response):
        return viewer
    context = frame(viewer, "revisionsspor")
    if not asked:
        listing = reports.referrals({"municipality": viewer.municipality, "status": status}, page, 25)
        return templates(request).render(
            "revisionsspor.html",
            **context,
            listing=listing,
            status_filter=status,
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
            problem=f"Ingen henvisning med id {asked}.",
        )
    names: dict[str, str] = {}

    def supplier_name(supplier_id: str) -> str:
        if supplier_id not in names:
            try:
                names[supplier_id] = ledger.get_supplier(UUID(supplier_id)).name
            except (ValueError, NotFound, LookupError):
                names[supplier_id] = supplier_id
        return names[supplier_id]

    entries: list[dict[str, Any]] = []
    for item in trail["entries"]:
        changes = [
            {
                "field": FACTS.get(name, name),
                "from": fact_text(name, change["from"], supplier_name),
                "to": fact_text(name, change["to"], supplier_name),
            }
            for name, change in sorted((item["changes"] or {}).items())
        ]
        entries.append(
            {
                **item,
                "label": EVENT_TYPES.get(item["type"], item["type"]),
                "change_list": changes,
                "actor_text": _actor(item["actor"]),
                "problem_text": "; ".join(
                    INTEGRITY_PROBLEMS.get(p.strip(), (p.strip(), ""))[0]
                    for p in item["integrity"].split(";")
                ),
            }
        )
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
    first = trail["entries"][0]["data"] if trail["entries"] and trail["entries"][0]["data"] else {}
    interventions = load_reference().interventions
    summary = {
        "intervention": interventions[first["intervention"]].name_da
        if first.get("intervention") in interventions
        else first.get("intervention"),
        "legal_basis": first.get("legal_basis"),
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
        asked=str(referral_id),
        problem=None,
    )


def _actor(actor: Any) -> str:
    if not isinstance(actor, dict):
        return "–" if actor is None else str(actor)
    name, ident = actor.get("name"), actor.get("id")
    return f"{name} ({ident})" if name and ident and name != ident else str(name or ident or "–")


def install(app: Any) -> None:
    """Serve the dashboard from ``app``: its routes and its templates."""
    app.state.dashboard = Templates()
    app.include_router(entry)
    app.include_router(router)
