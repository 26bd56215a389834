"""The global feed: every event in the order it was stored, for downstream systems and auditors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.dependencies import Ledger
from api.problems import responses
from application.views import event_view

router = APIRouter(tags=["feed"])


@router.get("/feed", responses=responses(422, 503))
def feed(
    ledger: Ledger,
    after: Annotated[int, Query(ge=0, description="Global position to read after.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """``[{position, stream_id, stream_type, version, type, recorded_at, actor, data}]`` in global order."""
    items = []
    for position, event in ledger.read_events(after, limit):
        view = event_view(event)
        items.append(
            {
                "position": position,
                "stream_id": str(event.originator_id),
                "stream_type": view["type"].split(".")[0],
                **view,
            }
        )
    return items
