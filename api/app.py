"""The composition root: ``create_app(settings)`` builds everything in the lifespan."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from api import dashboard, openapi, problems
from api.access_log import AccessLogMiddleware, AccessRecorder
from api.body_limit import BodyLimit
from api.metrics import Metrics, MetricsMiddleware
from api.routers import (
    admin,
    audit,
    events,
    feed,
    lineage,
    operations,
    own_costs,
    practice,
    reference,
    referrals,
    reports,
    suppliers,
)
from api.runtime import tune_garbage_collector, watch_descriptor_headroom, watch_open_files
from api.settings import Settings
from application.audit.receipts import keep_receipts
from application.audit.signing_key import SigningKey, SigningKeyMissing
from application.service.caseledger import CaseLedger
from application.storage.access_log import AccessLog
from application.storage.environment import prepare_storage
from application.storage.tokens import cached
from projections.database import ProjectionDatabase
from projections.decision_log import forget_case_indexes
from projections.known_at import KnownAt
from projections.reports import Reports
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

Every read of referral-level data (a referral, its events or trail, the referral list, the feed,
decision searches, the access log itself) and every denied attempt at one is recorded in the access
log (`GET /audit/access-log`); a read that cannot be recorded answers 503.
"""
log = logging.getLogger("caseledger.api")


def purge_access_log(access_log: AccessLog, settings: Settings) -> None:
    """Delete the access-log entries past their retention (logged, never raised: a failed purge is
    retried at the next interval)."""
    try:
        deleted = access_log.purge_expired(settings.access_log_retention_days)
    except Exception:
        log.exception("access-log retention purge failed")
        return
    if deleted:
        log.info("access-log retention purge deleted %d entries", deleted)


def purge_periodically(access_log: AccessLog, settings: Settings, stop: threading.Event) -> None:
    while not stop.wait(settings.access_log_purge_interval):
        purge_access_log(access_log, settings)


def keep_receipts_while_serving(
    ledger: CaseLedger, key: SigningKey | None, settings: Settings, stop: threading.Event
) -> threading.Thread | None:
    """The thread that writes receipts to ``CASELEDGER_RECEIPTS__DIRECTORY`` (None: none is set)."""
    directory = settings.receipts.directory
    if not directory:
        return None
    if key is None:
        raise SigningKeyMissing
    Path(directory).mkdir(parents=True, exist_ok=True)
    writer = threading.Thread(
        target=keep_receipts,
        args=(lambda: ledger.audit.receipt(key), ledger.last_position, Path(directory)),
        kwargs={"interval": settings.receipts.interval_minutes * 60, "stop": stop},
        name="receipts",
        daemon=True,
    )
    writer.start()
    return writer


def projections_for(
    ledger: CaseLedger, env: dict[str, str], settings: Settings
) -> tuple[ProjectionRunner, ProjectionDatabase]:
    """The read models' database (the events' own) and the runner that feeds them from ``ledger``."""
    db = ProjectionDatabase.from_env(env)
    runner = ProjectionRunner(
        db,
        ledger.read_events,
        batch_size=settings.projections.batch_size,
        rebuild_batch_size=settings.projections.rebuild_batch_size,
        notify_channel=ledger.notify_channel,
        gather=settings.projections.gather_ms / 1000,
        log_head=ledger.last_position,
        bulk_start_backlog=settings.projections.bulk_start_backlog,
    )
    return runner, db


def forget_case_indexes_on_erasure(ledger: CaseLedger, db: ProjectionDatabase) -> None:
    """An erasure through ``ledger`` clears the erased referrals' case-number hashes in the read
    models at once (a rebuild would not bring them back either: their key is gone)."""
    ledger.privacy.erasure_listeners.append(partial(forget_case_indexes, db))


def create_served_app() -> FastAPI:
    """The app as each API process of ``caseledger serve --workers N`` runs it (uvicorn's factory):
    the garbage collector tuned for the process first, as the ``caseledger`` command tunes its own."""
    tune_garbage_collector()
    return create_app()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the API. Storage is opened in the lifespan and closed after it."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        watch_open_files(asyncio.get_running_loop(), app.state.metrics.open_files_exhausted.inc)
        env = settings.storage_env()
        prepare_storage(env)
        ledger = CaseLedger(env)
        runner, projection_db = projections_for(ledger, env, settings)
        app.state.ledger = ledger
        app.state.signing_key = settings.receipt_key()
        ledger.keyed_recorder.health.listeners.append(app.state.metrics.storage_failures_counted)
        app.state.tokens = cached(ledger.open_tokens(), settings.token_cache_seconds)
        access_log = ledger.open_access_log()
        app.state.access_log = access_log
        app.state.access_recorder = AccessRecorder(ledger, access_log)
        app.state.reports = Reports(projection_db)
        forget_case_indexes_on_erasure(ledger, projection_db)
        app.state.known_at = KnownAt(projection_db, ledger.read_events, ledger.last_position)
        stop = threading.Event()
        watch_descriptor_headroom(app.state.metrics.open_files_exhausted.inc, stop)
        purge_access_log(access_log, settings)
        purger = threading.Thread(
            target=purge_periodically, args=(access_log, settings, stop), name="access-log-purge", daemon=True
        )
        purger.start()
        receipts = keep_receipts_while_serving(ledger, app.state.signing_key, settings, stop)
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
            purger.join(timeout=10)
            if receipts is not None:
                receipts.join(timeout=10)
            if worker is not None:
                runner.interrupt()
                worker.join(timeout=10)
            app.state.known_at.close()
            projection_db.close()
            ledger.close()

    app = FastAPIOffline(
        title="caseledger",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        static_url="/docs-assets",
        redoc_url=None,  # ReDoc fetches its logo from its CDN even when served locally
        generate_unique_id_function=openapi.operation_id,
    )
    app.state.settings = settings
    app.state.metrics = Metrics()
    problems.install(app)
    for router in (
        suppliers.router,
        referrals.router,
        events.router,
        reports.router,
        lineage.router,
        practice.router,
        own_costs.router,
        feed.router,
        operations.router,
        audit.router,
        admin.router,
        reference.router,
    ):
        app.include_router(router)
    dashboard.install(app)
    openapi.install(app, settings)
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)  # outside: counts its 503s too
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout)
    return app
