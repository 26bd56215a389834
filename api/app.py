"""The composition root: ``create_app(settings)`` builds everything in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import problems
from api.body_limit import BodyLimit
from api.metrics import Metrics
from api.routers import events, operations, referrals, suppliers
from api.settings import Settings
from application.caseledger import CaseLedger
from application.storage import prepare_storage, storage_env

DESCRIPTION = """
Event-sourced case flow for social-services procurement: referrals, suppliers and price lists.
Money is DKK with exactly two decimals, written as strings in answers. Every error is
`application/problem+json`. Every POST accepts `Idempotency-Key`; commands accept `If-Match`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the API. Storage is opened in the lifespan and closed after it."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        env = storage_env(settings.database_url)
        prepare_storage(env)
        ledger = CaseLedger(env)
        app.state.ledger = ledger
        try:
            yield
        finally:
            ledger.close()

    app = FastAPI(title="caseledger", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.metrics = Metrics()
    problems.install(app)
    for router in (suppliers.router, referrals.router, events.router, operations.router):
        app.include_router(router)
    app.middleware("http")(app.state.metrics.middleware)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app
