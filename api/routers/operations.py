"""Operations: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from api.dependencies import Ledger, Reports
from api.problems import problem, respond
from api.responses import HealthOut, ReadinessOut
from application.errors import StorageUnavailable
from application.storage.environment import free_bytes, storage_kind

MIB = 1024 * 1024

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
    responses={
        503: {
            "content": {"application/problem+json": {}},
            "description": (
                "Storage unreachable, its last write failed for a full disk, or (SQLite) its "
                "free space is below CASELEDGER_MIN_FREE_DISK_MB (Retry-After)"
            ),
        }
    },
)
def readyz(request: Request, ledger: Ledger, reports: Reports) -> Any:
    """Storage is reachable and can take writes; the newest event's position; the projections'
    position and lag. 503 when the store cannot be reached, its last write failed for a full disk,
    or (SQLite) its file system has less free space than ``CASELEDGER_MIN_FREE_DISK_MB``."""
    try:
        state = _positions(ledger, reports)
    except StorageUnavailable as error:
        storage = {"ok": False, "kind": storage_kind(ledger.env), "error": str(error)}
        return _unavailable("the database cannot be reached", storage)
    # Only a full disk keeps it unready after its own reads succeeded: those reads show that a
    # connection and the locks can be had again, which ends the other kinds of failure.
    health = ledger.keyed_recorder.health
    if health.failing == "disk_full":
        return _unavailable(
            f"the event store cannot take writes ({health.failing}): its last write failed",
            {**state["storage"], "ok": False, "error": health.detail},
            health.failing,
        )
    free = free_bytes(ledger.env)
    if free is not None:
        state["storage"]["free_bytes"] = free
        minimum = request.app.state.settings.min_free_disk_mb * MIB
        if health.space_measured(free, minimum):
            return _unavailable(
                f"the store's file system has {free // MIB} MiB free, below the "
                f"{minimum // MIB} MiB of CASELEDGER_MIN_FREE_DISK_MB",
                {**state["storage"], "ok": False},
                "low_disk_space",
            )
    return {"status": "ready", **state}


def _unavailable(reason: str, storage: dict[str, Any], kind: str = "no_connection") -> JSONResponse:
    """503 as problem+json; ``readiness`` says why, ``storage`` what the store's state is."""
    body = {
        **problem(503, "not-ready", "Not ready", reason),
        "readiness": {"reason": kind, "detail": reason},
        "storage": storage,
    }
    return respond(body, {"Retry-After": "5"})


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
