"""Batch ingestion for case systems: ``POST /events``, each item applied on its own, in order."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from api.auth import Principal, require
from api.batch_items import apply_items
from api.dependencies import Ledger
from api.problems import responses
from api.responses import BatchOut
from api.schemas import BatchIn
from domain.errors import InvalidInput

router = APIRouter(tags=["batch ingestion"])


@router.post("/events", response_model=BatchOut, responses=responses(400, 401, 403, 413, 422, 503))
def ingest(
    batch: BatchIn,
    ledger: Ledger,
    request: Request,
    principal: Annotated[Principal, Depends(require("batch:write"))],
) -> dict[str, Any]:
    """Apply a batch of lifecycle events; an ``event_id`` seen before is a ``duplicate``.

    Each item is checked on its own, against the state the items before it left, so one rejected
    item does not stop the rest; accepted items are committed a few hundred events per
    transaction, each with its ``event_id`` claim (after a failure, a resend answers ``duplicate``
    for the stored ones). Each item is also authorised on its own, as the single request would be: an item the token's role may
    not write or naming another municipality is ``rejected`` with a 403 problem, one on another
    municipality's referral with a 404 problem.
    """
    limit: int = request.app.state.settings.max_batch_items
    if len(batch.events) > limit:
        msg = f"a batch carries at most {limit} events, this one {len(batch.events)}; split it"
        raise InvalidInput("batch-too-large", msg, field="events")
    return {"results": apply_items(ledger, principal, batch.events, batch.source_system)}
