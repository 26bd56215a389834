"""Load times of the dashboard's pages in headless Chromium, on the demo municipality.

    python -m benchmarks.dashboard --database-url sqlite:///bench/dashboard.sqlite
    python -m benchmarks.dashboard --database-url "postgresql://postgres@127.0.0.1:5432/test?schema=bench"

Fills an empty store with the full demo (``caseledger demo``'s defaults), serves caseledger with
uvicorn in a thread on a free port, logs in through the login form with a new admin token (or
``--role reporter --municipality 461``) and opens each page ``--repeat`` times after one warm-up.
Reports the browser's navigation timing per page (request start to response end, to DOMContentLoaded
and to the load event) and the HTML size, as a Markdown table. Asserts nothing.

The browser is Debian's Chromium (``--chromium``, default ``/usr/bin/chromium``) via Playwright.
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from typing import Any

import httpx
import uvicorn
from playwright.sync_api import sync_playwright

from api.app import create_app
from api.demo import load_demo
from api.settings import Settings
from application.caseledger import CaseLedger, copenhagen_today
from application.storage.environment import prepare_storage
from benchmarks import arguments
from tests.api.dashboard.support import CHROMIUM_ARGS

TIMING = """() => {
    const n = performance.getEntriesByType('navigation')[0];
    return {response: n.responseEnd - n.requestStart, ready: n.domContentLoadedEventEnd - n.startTime,
            load: n.loadEventEnd - n.startTime, bytes: n.decodedBodySize};
}"""


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


def pages(base: str, secret: str) -> list[str]:
    """The pages to time; the trail of the referral with the most events among the newest closed."""
    paths = [
        "/dashboard/overblik",
        "/dashboard/forbrug",
        "/dashboard/forbrug?by=supplier",
        "/dashboard/priser",
    ]
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {secret}"}) as api:
        found = api.get("/referrals", params={"status": "closed", "page_size": 20})
        if found.status_code == 200 and found.json()["items"]:
            ids = [item["id"] for item in found.json()["items"]]
            longest = max(ids, key=lambda i: len(api.get(f"/audit/referrals/{i}").json()["entries"]))
            paths += ["/dashboard/revisionsspor", f"/dashboard/revisionsspor?referral={longest}"]
    return paths


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--role", default="admin")
    parser.add_argument("--municipality", default="*")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    secret = prepare(args.database_url, args.role, args.municipality)
    server, thread, base = serve(args.database_url)
    rows = []
    try:
        paths = pages(base, secret)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(base_url=base, viewport={"width": 1400, "height": 900})
            page.goto("/dashboard/login")
            page.fill("#token", secret)
            with page.expect_navigation():
                page.click("section.login button[type=submit]")
            for path in paths:
                page.goto(path)  # warm-up
                samples: list[dict[str, Any]] = []
                for _ in range(args.repeat):
                    page.goto(path)
                    samples.append(page.evaluate(TIMING))
                rows.append((path, samples))
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)

    def p50(samples: list[dict[str, Any]], key: str) -> float:
        return float(statistics.median(sample[key] for sample in samples))

    def worst(samples: list[dict[str, Any]], key: str) -> float:
        return float(max(sample[key] for sample in samples))

    print(f"\n{args.repeat} loads per page, role {args.role}, municipality {args.municipality}\n")
    print("| page | response p50 ms | DOMContentLoaded p50 ms | load p50 ms | load max ms | HTML kB |")
    print("|---|---:|---:|---:|---:|---:|")
    for path, samples in rows:
        shown = path if "referral=" not in path else "/dashboard/revisionsspor?referral=…"
        print(
            f"| {shown} | {p50(samples, 'response'):.0f} | {p50(samples, 'ready'):.0f} | "
            f"{p50(samples, 'load'):.0f} | {worst(samples, 'load'):.0f} | {samples[0]['bytes'] / 1024:.0f} |"
        )


if __name__ == "__main__":
    main()
