"""Prometheus instruments, one registry per app (no module-level singletons)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.requests import Request
from starlette.responses import Response


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

    async def middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        self.latency.labels(request.method, template).observe(time.perf_counter() - started)
        self.requests.labels(request.method, template, str(response.status_code)).inc()
        return response
