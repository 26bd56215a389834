"""Operations: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from api.dependencies import Ledger, Reports
from api.schemas import HealthOut, ReadinessOut
from application.errors import StorageUnavailable
from application.storage import storage_kind

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=HealthOut)
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


def _positions(ledger: Ledger, reports: Reports) -> dict[str, Any]:
    last = ledger.last_position()
    try:
        processed: int | None = reports.position()
    except Exception:  # the read models' own storage is down or not yet created
        processed = None
    return {
        "storage": {"ok": True, "last_position": last, "kind": storage_kind(ledger.env)},
        "projections": {
            "ok": processed is not None,
            "position": processed,
            "lag": None if processed is None else max(0, last - processed),
        },
    }


@router.get(
    "/readyz",
    response_model=ReadinessOut,
    response_model_exclude_unset=True,
    responses={503: {"model": ReadinessOut, "description": "Storage unreachable (Retry-After)"}},
)
def readyz(ledger: Ledger, reports: Reports) -> Any:
    """Storage is reachable; the newest event's position; the projections' position and lag."""
    try:
        state = _positions(ledger, reports)
    except StorageUnavailable as error:
        body = {"status": "unavailable", "storage": {"ok": False, "error": str(error)}}
        return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})
    return {"status": "ready", **state}


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "Prometheus text",
        }
    },
)
def metrics(request: Request, ledger: Ledger, reports: Reports) -> Response:
    """Prometheus text: requests by route and status, latency, store position, projection position and lag."""
    instruments = request.app.state.metrics
    try:
        state = _positions(ledger, reports)
    except StorageUnavailable:
        instruments.last_position.set(float("nan"))
    else:
        instruments.last_position.set(state["storage"]["last_position"])
        projected = state["projections"]
        instruments.projection_position.set(projected["position"] if projected["ok"] else float("nan"))
        instruments.projection_lag.set(projected["lag"] if projected["ok"] else float("nan"))
    return Response(instruments.exposition(), media_type=CONTENT_TYPE_LATEST)
