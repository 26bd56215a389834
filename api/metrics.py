"""Prometheus instruments, one registry per app (no module-level singletons)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Metrics:
    """Request counts and latencies by route template, and the store's last position."""

    def __init__(self) -> None:
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
        self.last_position = Gauge(
            "caseledger_event_store_position",
            "Global position of the newest stored event",
            registry=self.registry,
        )
        self.projection_position = Gauge(
            "caseledger_projection_position",
            "Position the live read models have processed",
            registry=self.registry,
        )
        self.projection_lag = Gauge(
            "caseledger_projection_lag_events",
            "Events stored but not yet in the read models",
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.latency.labels(method, route).observe(seconds)
        self.requests.labels(method, route, str(status)).inc()


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
