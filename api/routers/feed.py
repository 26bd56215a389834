"""The global feed: every event in the order it was stored, for downstream systems and auditors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from api.access_log import logged
from api.auth import FeedFilter, feed_filter
from api.dependencies import Ledger
from api.event_responses import FeedEventOut
from api.fields import MAX_POSITION
from api.problems import responses
from application.views import event_view

router = APIRouter(tags=["feed"])


@router.get("/feed", response_model=list[FeedEventOut], responses=responses(401, 403, 422, 503))
@logged("feed.read")
def feed(
    visible: Annotated[FeedFilter, Depends(feed_filter)],
    ledger: Ledger,
    after: Annotated[int, Query(ge=0, le=MAX_POSITION, description="Global position to read after.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """``[{position, stream_id, stream_type, version, type, recorded_at, actor, data}]`` in global order.

    A token scoped to one municipality sees every supplier event and its own municipality's
    referral events; positions then skip the others (read on after the last position you got)."""
    items: list[dict[str, Any]] = []
    for position, event in visible.read(after, limit):
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
