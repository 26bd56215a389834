"""Operations: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.dependencies import Ledger
from application.errors import StorageUnavailable

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Storage unreachable"}})
def readyz(ledger: Ledger) -> Any:
    """Storage is reachable; the newest event's position."""
    try:
        position = ledger.last_position()
    except StorageUnavailable as error:
        body = {"status": "unavailable", "storage": {"ok": False, "error": str(error)}}
        return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})
    return {"status": "ready", "storage": {"ok": True, "last_position": position}}


@router.get("/metrics", response_class=Response)
def metrics(request: Request, ledger: Ledger) -> Response:
    """Prometheus text format: requests by route and status, latency, the event store's position."""
    instruments = request.app.state.metrics
    try:
        instruments.last_position.set(ledger.last_position())
    except StorageUnavailable:
        instruments.last_position.set(float("nan"))
    return Response(generate_latest(instruments.registry), media_type=CONTENT_TYPE_LATEST)
