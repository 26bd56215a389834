"""Fixtures for the dashboard's browser tests: the real server on the demo data, and Chromium.

One SQLite database per test session holds the demo municipality (``api.demo``, at a reduced
size so that loading it takes seconds, not a minute), an admin token for every municipality and a
reporter and an auditor token for Odense (461). caseledger serves it with uvicorn in a thread on a
free port, with its projections running; the fixture waits until they have caught up.

The browser is Debian's Chromium (``/usr/bin/chromium``, or ``CASELEDGER_TEST_CHROMIUM``) driven by
Playwright's Python API; Playwright's own browser download is never used. Without Chromium or
Playwright the browser tests are skipped, and with ``CI=true`` they fail instead.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from api.app import create_app
from api.demo import load_demo
from api.settings import Settings
from application.service.caseledger import CaseLedger, copenhagen_today
from application.storage.environment import prepare_storage
from tests.api.dashboard.support import (
    CHROMIUM_ARGS,
    DEMO_SIZE,
    REPORTER_MUNICIPALITY,
    VIEWPORTS,
    DemoServer,
    chromium_path,
    unavailable,
)
from tests.storage import storage_env


def _load(database_url: str) -> tuple[str, str, str]:
    env = storage_env(database_url)
    prepare_storage(env)
    ledger = CaseLedger(env)
    try:
        load_demo(ledger, today=copenhagen_today(), **DEMO_SIZE)
        tokens = ledger.open_tokens()
        admin = tokens.create(role="admin", municipality="*", name="dashboard-admin").secret
        reporter = tokens.create(
            role="reporter", municipality=REPORTER_MUNICIPALITY, name="dashboard-reporter"
        ).secret
        auditor = tokens.create(
            role="auditor", municipality=REPORTER_MUNICIPALITY, name="dashboard-auditor"
        ).secret
    finally:
        ledger.close()
    return admin, reporter, auditor


def _wait_until_projected(server: DemoServer, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        while time.monotonic() < deadline:
            state = client.get("/readyz").json()
            if state["projections"]["ok"] and state["projections"]["lag"] == 0:
                return
            time.sleep(0.2)
    raise AssertionError(f"the projections did not catch up within {timeout} s")


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """caseledger on the demo data, served by uvicorn in a thread on a free port."""
    chromium_path()  # no point loading the demo for tests that cannot run
    database_url = f"sqlite:///{tmp_path_factory.mktemp('dashboard') / 'demo.sqlite'}"
    admin, reporter, auditor = _load(database_url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(Settings(database_url=database_url)), log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("caseledger did not start")
        time.sleep(0.05)
    running = DemoServer(f"http://127.0.0.1:{port}", database_url, admin, reporter, auditor)
    try:
        _wait_until_projected(running)
        yield running
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium (Debian's), driven by Playwright."""
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415 - optional until needed
    except ImportError as error:
        unavailable(f"playwright is not installed: {error}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, demo_server: DemoServer) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page on the demo server."""
    context = browser.new_context(
        base_url=demo_server.base_url, viewport={"width": 1400, "height": 900}, accept_downloads=True
    )
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


@pytest.fixture(params=list(VIEWPORTS))
def sized(request: pytest.FixtureRequest, browser: Any, demo_server: DemoServer) -> Iterator[Any]:
    """A fresh page at the desktop or the phone size, failing on JavaScript errors like ``page``."""
    context = browser.new_context(
        base_url=demo_server.base_url, viewport=VIEWPORTS[request.param], accept_downloads=True
    )
    opened = context.new_page()
    opened.viewport_name = request.param
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"
