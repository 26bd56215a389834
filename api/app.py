"""The composition root: ``create_app(settings)`` builds everything in the lifespan."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import problems
from api.body_limit import BodyLimit
from api.metrics import Metrics, MetricsMiddleware
from api.routers import audit, events, feed, operations, referrals, reports, suppliers
from api.settings import Settings
from application.caseledger import CaseLedger
from application.storage import prepare_storage, storage_env
from application.tokens import cached
from projections.database import ProjectionDatabase
from projections.read_models import Reports
from projections.runner import ProjectionRunner

DESCRIPTION = """
Event-sourced case flow for social-services procurement: referrals, suppliers and price lists.
Money is DKK with exactly two decimals, written as strings in answers. Every error is
`application/problem+json`. Every POST accepts `Idempotency-Key`; commands accept `If-Match`.

Every endpoint but `/healthz`, `/readyz`, `/metrics` and the documentation needs
`Authorization: Bearer <token>`; create one with
`caseledger tokens create --role admin --municipality '*' --name me`. Roles: `case_system`,
`caseworker`, `matcher`, `auditor`, `reporter`, `admin`; a token scoped to one municipality sees
and writes only that municipality's referrals (others answer 404) and reports.
"""


def projections_for(
    ledger: CaseLedger, env: dict[str, str], settings: Settings
) -> tuple[ProjectionRunner, ProjectionDatabase]:
    """The read models' database (the events' own) and the runner that feeds them from ``ledger``."""
    db = ProjectionDatabase.from_env(env)
    runner = ProjectionRunner(
        db,
        ledger.read_events,
        batch_size=settings.projection_batch_size,
        notify_channel=ledger.notify_channel,
    )
    return runner, db


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the API. Storage is opened in the lifespan and closed after it."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        env = storage_env(settings.database_url)
        prepare_storage(env)
        ledger = CaseLedger(env)
        runner, projection_db = projections_for(ledger, env, settings)
        app.state.ledger = ledger
        app.state.tokens = cached(ledger.open_tokens(), settings.token_cache_seconds)
        app.state.reports = Reports(projection_db)
        stop = threading.Event()
        worker = None
        if settings.run_projections:
            ledger.subscribe(lambda _position: runner.wake.set())
            worker = threading.Thread(
                target=runner.run_forever, args=(stop,), name="projections", daemon=True
            )
            worker.start()
        try:
            yield
        finally:
            stop.set()
            if worker is not None:
                runner.interrupt()
                worker.join(timeout=10)
            projection_db.close()
            ledger.close()

    app = FastAPI(title="caseledger", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.metrics = Metrics()
    problems.install(app)
    for router in (
        suppliers.router,
        referrals.router,
        events.router,
        reports.router,
        feed.router,
        operations.router,
        audit.router,
    ):
        app.include_router(router)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app
