"""The API that kills itself between commit and response: the fault injection of
``test_duplicate_delivery``, kept out of the production app.

``uvicorn tests.reliability.crashing_app:create_crashing_app --factory`` serves the app of
``api.app.create_served_app`` and, once it has started, SIGKILLs the process right after its N-th
committed write (``CRASH_AFTER_COMMITS=N``), before the response is sent: the ledger's save
subscribers run after the commit and before the answer leaves.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.app import create_served_app

CRASH_AFTER_COMMITS = "CRASH_AFTER_COMMITS"
"""The environment variable that says after how many committed writes the process dies."""

FACTORY = "tests.reliability.crashing_app:create_crashing_app"
"""The factory as uvicorn names it."""


def crash_after(commits: int) -> Callable[[int], None]:
    """A save subscriber that kills the process after ``commits`` committed writes."""
    count = 0
    lock = threading.Lock()

    def after_commit(_position: int) -> None:
        nonlocal count
        with lock:
            count += 1
            if count >= commits:
                os.kill(os.getpid(), signal.SIGKILL)

    return after_commit


def create_crashing_app() -> FastAPI:
    """``create_served_app()``, whose ledger gets the crash subscriber once the lifespan has opened it."""
    commits = int(os.environ[CRASH_AFTER_COMMITS])
    app = create_served_app()
    serving = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with serving(app):
            app.state.ledger.subscribe(crash_after(commits))
            yield

    app.router.lifespan_context = lifespan
    return app
