"""Prometheus instruments, one registry per app (no module-level singletons).

When ``serve`` runs several API processes it sets ``PROMETHEUS_MULTIPROC_DIR`` before they start:
prometheus_client then keeps every process's values in files there, and a scrape (answered by
whichever process gets it) adds up the counts of all of them, not just its own. prometheus_client
decides this when it is imported, by whether the variable exists; it must be set before start-up."""

from __future__ import annotations

import os
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.supervisor import MULTIPROCESS_DIR
from application.storage.health import KINDS as STORAGE_FAILURE_KINDS


class Metrics:
    """Request counts and latencies by route template, and the store's last position."""

    def __init__(self) -> None:
        self.shared = MULTIPROCESS_DIR in os.environ
        """Whether the values live in files shared by the API processes (the test prometheus_client
        makes when imported, made once here, so that a scrape reads what the counters write)."""
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "caseledger_http_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "caseledger_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.last_position = self._latest(
            "caseledger_event_store_position", "Global position of the newest stored event"
        )
        self.projection_position = self._latest(
            "caseledger_projection_position", "Position the live read models have processed"
        )
        self.projection_lag = self._latest(
            "caseledger_projection_lag_events", "Events stored but not yet in the read models"
        )

        self.storage_failures = Counter(
            "caseledger_storage_failures",
            "Writes the event store could not take, by kind (disk_full, no_connection, lock_timeout, refused)",
            ["kind"],
            registry=self.registry,
        )
        self.storage_unavailable_answers = Counter(
            "caseledger_storage_unavailable_answers",
            "Requests answered 503 storage-unavailable, by kind: writes, reads and token checks alike",
            ["kind"],
            registry=self.registry,
        )
        for kind in STORAGE_FAILURE_KINDS:
            self.storage_failures.labels(kind)
            self.storage_unavailable_answers.labels(kind)
        self.open_files_exhausted = Counter(
            "caseledger_open_files_exhausted",
            "Times the process ran out of file descriptors: failed accepts (asyncio) and episodes of"
            " descriptors within a few of the soft limit (seen by the watcher, under any loop)",
            registry=self.registry,
        )

    def _latest(self, name: str, documentation: str) -> Gauge:
        """A gauge whose value, across the API processes, is the one set last."""
        return Gauge(name, documentation, registry=self.registry, multiprocess_mode="mostrecent")

    def storage_failures_counted(self, kind: str) -> None:
        self.storage_failures.labels(kind).inc()

    def unavailable_answered(self, kind: str) -> None:
        self.storage_unavailable_answers.labels(kind).inc()

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.latency.labels(method, route).observe(seconds)
        self.requests.labels(method, route, str(status)).inc()

    def exposition(self) -> bytes:
        """The Prometheus text: this process's instruments, or every API process's together."""
        if not self.shared:
            return generate_latest(self.registry)
        combined = CollectorRegistry()
        MultiProcessCollector(combined)  # type: ignore[no-untyped-call]  # prometheus_client leaves it untyped
        return generate_latest(combined)


class MetricsMiddleware:
    """Counts and times every HTTP request by route template (plain ASGI: Starlette's
    ``BaseHTTPMiddleware`` cost a task and a memory stream per request)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.observe(scope["method"], template, status, time.perf_counter() - started)
