"""Server time, size and browser load of the dashboard's pages, views and workbooks, on the full demo.

    python -m benchmarks.dashboard --database-url sqlite:////tmp/dash-bench/demo.sqlite
    python -m benchmarks.dashboard --database-url "postgresql://postgres@127.0.0.1:5432/test?schema=bench"

Fills an empty store with the full demo (``caseledger demo``'s defaults), serves caseledger with
uvicorn in a thread on a free port with a new admin token (or ``--role reporter --municipality
461``), and then

- requests every page, view and ``.xlsx`` export (``views``) ``--repeat`` times after one warm-up
  with the login cookie over HTTP, and reports the server time (request sent to body received) as
  p50 and p95 and the body's size;
- opens the heaviest views (``BROWSER_VIEWS``, or none with ``--browser-repeat 0``) in headless
  Chromium ``--browser-repeat`` times after one warm-up and reports the ``load`` event's time
  from the navigation's start (p50 and p95) from the browser's navigation timing.

``--only TEXT`` times only the views whose name holds ``TEXT`` (e.g. ``"Forbrug cell"``). Prints
Markdown tables with the load average and the CPU speed check (see docs/benchmarks.md). Asserts
nothing. The browser is Debian's Chromium (``--chromium``, default ``/usr/bin/chromium``)
via Playwright.
"""

from __future__ import annotations

import math
import socket
import statistics
import threading
import time
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn
from playwright.sync_api import sync_playwright

from api.app import create_app
from api.dashboard.session import COOKIE
from api.demo import load_demo
from api.settings import Settings
from application.service.caseledger import CaseLedger, copenhagen_today
from application.storage.environment import prepare_storage
from benchmarks import arguments
from benchmarks.suite import cpu_speed_ms, load_average
from tests.api.dashboard.support import CHROMIUM_ARGS

TIMING = """() => {
    const n = performance.getEntriesByType('navigation')[0];
    return {response: n.responseEnd - n.requestStart, ready: n.domContentLoadedEventEnd - n.startTime,
            load: n.loadEventEnd - n.startTime, bytes: n.decodedBodySize};
}"""
WHOLE_MONTH = "Forbrug, one cell's lineage (whole month, Ingen)"
BROWSER_VIEWS = (
    "Forbrug, by supplier, 60 months",
    "Forbrug, by supplier",
    "Overblik",
    "Revisionsspor, list",
    WHOLE_MONTH,
)
"""The views also timed in the browser: the biggest pages."""


def prepare(database_url: str, role: str, municipality: str) -> str:
    """Load the demo into an empty store; a new token's secret."""
    env = Settings(database_url=database_url).storage_env()
    prepare_storage(env)
    ledger = CaseLedger(env)
    try:
        if ledger.last_position() == 0:
            started = time.perf_counter()
            summary = load_demo(ledger, today=copenhagen_today())
            print(f"demo loaded in {time.perf_counter() - started:.1f} s: {summary}")
        else:
            print(f"store holds {ledger.last_position()} events; demo not loaded")
        return ledger.open_tokens().create(role=role, municipality=municipality).secret
    finally:
        ledger.close()


def serve(database_url: str) -> tuple[uvicorn.Server, threading.Thread, str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(create_app(Settings(database_url=database_url)), log_level="warning")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with httpx.Client(base_url=base) as client:
        while client.get("/readyz").json()["projections"]["lag"]:
            time.sleep(0.5)
    return server, thread, base


def _month(today: date, shift: int) -> str:
    index = today.year * 12 + today.month - 1 + shift
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def views(base: str, secret: str) -> list[tuple[str, str]]:
    """(name, path) of every page, view and workbook to time. Sixty months by supplier end a year
    ahead (the demo commits that far); the trail is of the referral with the most events among the
    newest closed; the cell by supplier is this month's biggest supplier's; the whole month's cell
    (grouping "Ingen") is the month of the 60 with the largest total, the one listing the most
    referrals."""
    today = copenhagen_today()
    sixty = {"from": _month(today, -47), "to": _month(today, 12)}
    by_supplier_60 = urlencode({**sixty, "by": "supplier"})
    found: list[tuple[str, str]] = [
        ("Overblik", "/dashboard/overblik"),
        ("Forbrug", "/dashboard/forbrug"),
        ("Forbrug, by supplier", "/dashboard/forbrug?by=supplier"),
        ("Forbrug, by supplier, 60 months", f"/dashboard/forbrug?{by_supplier_60}"),
        (
            "Forbrug, by legal basis, 60 months",
            f"/dashboard/forbrug?{urlencode({**sixty, 'by': 'legal_basis'})}",
        ),
        ("Priser", "/dashboard/priser"),
        ("Praksis", "/dashboard/praksis"),
        ("Praksis, by supplier", "/dashboard/praksis?by=supplier"),
        ("Match, pick list", "/dashboard/match"),
        ("Revisionsspor, list", "/dashboard/revisionsspor"),
        ("Revisionsspor, list by supplier, page 60", "/dashboard/revisionsspor?sort=supplier&page=60"),
        ("Ordliste", "/dashboard/ordliste"),
    ]
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {secret}"}, timeout=60) as api:
        closed = api.get("/referrals", params={"status": "closed", "page_size": 20}).json()["items"]
        if closed:
            ids = [item["id"] for item in closed]
            longest = max(ids, key=lambda i: len(api.get(f"/audit/referrals/{i}").json()["entries"]))
            found.append(("Revisionsspor, one trail", f"/dashboard/revisionsspor?referral={longest}"))
        this_month = _month(today, 0)
        spending = api.get(
            "/reports/spending", params={"from": this_month, "to": this_month, "by": "supplier"}
        )
        biggest = max(spending.json()["rows"], key=lambda row: Decimal(row["amount"]))
        cell = urlencode({"month": this_month, "by": "supplier", "key": biggest["key"]})
        months = api.get("/reports/spending", params={**sixty}).json()["rows"]
        busiest = max(months, key=lambda row: Decimal(row["amount"]))["month"]
        whole_month = f"/dashboard/forbrug/celle?{urlencode({'month': busiest, 'by': ''})}"
        found += [
            (WHOLE_MONTH, whole_month),
            (f"{WHOLE_MONTH}, page 17", f"{whole_month}&page=17"),
            (
                "Forbrug, one cell's lineage (biggest supplier, this month)",
                f"/dashboard/forbrug/celle?{cell}",
            ),
            (
                "Forbrug, one cell's lineage (a month by intervention)",
                "/dashboard/forbrug/celle?"
                + urlencode({"month": this_month, "by": "intervention", "key": "family-treatment"}),
            ),
            ("Forbrug cell.xlsx (biggest supplier, this month)", f"/dashboard/forbrug/celle.xlsx?{cell}"),
            ("Forbrug cell.xlsx (whole month, Ingen)", whole_month.replace("celle?", "celle.xlsx?")),
        ]
        waiting = api.get("/referrals", params={"status": "referred", "page_size": 1}).json()["items"]
        if waiting:
            found.append(("Match, one referral", f"/dashboard/match?referral={waiting[0]['id']}"))
    found += [
        ("Overblik.xlsx", "/dashboard/overblik.xlsx"),
        ("Forbrug.xlsx, by supplier, 60 months", f"/dashboard/forbrug.xlsx?{by_supplier_60}"),
        ("Priser.xlsx", "/dashboard/priser.xlsx"),
        ("Praksis.xlsx, by supplier", "/dashboard/praksis.xlsx?by=supplier"),
        ("Revisionsspor.xlsx, every page", "/dashboard/revisionsspor.xlsx"),
    ]
    if closed:
        found.append(("Revisionsspor.xlsx, one trail", f"/dashboard/revisionsspor.xlsx?referral={longest}"))
    return found


def percentile(samples: list[float], share: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def server_times(
    base: str, secret: str, shown: list[tuple[str, str]], repeat: int
) -> list[tuple[str, list[float], int, int]]:
    """(name, seconds per request, bytes, status) of each view."""
    rows = []
    with httpx.Client(base_url=base, cookies={COOKIE: secret}, timeout=120) as client:
        for name, path in shown:
            client.get(path)  # warm-up
            samples = []
            for _ in range(repeat):
                started = time.perf_counter()
                answer = client.get(path)
                samples.append(time.perf_counter() - started)
            rows.append((name, samples, len(answer.content), answer.status_code))
    return rows


def browser_times(
    base: str, secret: str, shown: list[tuple[str, str]], repeat: int, chromium: str
) -> list[tuple[str, list[dict[str, Any]]]]:
    """(name, the navigation timings) of each view opened in Chromium."""
    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(base_url=base, viewport={"width": 1440, "height": 900})
        page.goto("/dashboard/login")
        page.fill("#token", secret)
        with page.expect_navigation():
            page.click("section.login button[type=submit]")
        for name, path in shown:
            page.goto(path)  # warm-up
            samples: list[dict[str, Any]] = []
            for _ in range(repeat):
                page.goto(path)
                samples.append(page.evaluate(TIMING))
            rows.append((name, samples))
        browser.close()
    return rows


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=20, help="requests per view (server time)")
    parser.add_argument("--browser-repeat", type=int, default=10, help="loads per view in Chromium; 0: none")
    parser.add_argument("--role", default="admin")
    parser.add_argument("--municipality", default="*")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--only", default="", help="time only the views whose name holds this text")
    args = parser.parse_args()

    secret = prepare(args.database_url, args.role, args.municipality)
    server, thread, base = serve(args.database_url)
    try:
        shown = [(name, path) for name, path in views(base, secret) if args.only in name]
        load_before, speed = load_average(), cpu_speed_ms()
        served = server_times(base, secret, shown, args.repeat)
        heaviest = [(name, path) for name, path in shown if name in BROWSER_VIEWS]
        loaded = (
            browser_times(base, secret, heaviest, args.browser_repeat, args.chromium)
            if args.browser_repeat
            else []
        )
        load_after = load_average()
    finally:
        server.should_exit = True
        thread.join(timeout=10)

    print(
        f"\nrole {args.role}, municipality {args.municipality}; load average {load_before} → {load_after}; "
        f"CPU speed check {speed:.0f} ms\n"
    )
    print(f"Server time over HTTP, {args.repeat} requests per view after a warm-up:\n")
    print("| view | server p50 ms | server p95 ms | kB | status |")
    print("|---|---:|---:|---:|---:|")
    for name, samples, size, status in served:
        print(
            f"| {name} | {statistics.median(samples) * 1000:.0f} | {percentile(samples, 0.95) * 1000:.0f} | "
            f"{size / 1024:.0f} | {status} |"
        )
    if loaded:
        print(
            f"\nChromium, 1440×900, {args.browser_repeat} loads per view after a warm-up (navigation start → load event):\n"
        )
        print("| view | response p50 ms | load p50 ms | load p95 ms | HTML kB |")
        print("|---|---:|---:|---:|---:|")
        for name, timings in loaded:
            loads = [t["load"] for t in timings]
            responses = [t["response"] for t in timings]
            print(
                f"| {name} | {statistics.median(responses):.0f} | {statistics.median(loads):.0f} | "
                f"{percentile(loads, 0.95):.0f} | {timings[0]['bytes'] / 1024:.0f} |"
            )


if __name__ == "__main__":
    main()
