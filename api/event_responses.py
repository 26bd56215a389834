"""Stored events as answered: a referral's or supplier's events and the global feed, one schema
per event type (``api.event_data``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from api.event_data import by_type
from api.fields import InstantText
from api.responses import ActorOut, SourceOut


class EventEnvelope(BaseModel):
    """One stored event of an aggregate, oldest first."""

    version: int
    type: str
    recorded_at: InstantText
    actor: ActorOut | None
    source: SourceOut | None = None
    data: dict[str, Any]


class FeedPlace(BaseModel):
    """Where an event stands in the global order."""

    position: int
    stream_id: str
    stream_type: Literal["referral", "supplier"]


class FeedEventEnvelope(EventEnvelope, FeedPlace):  # FeedPlace's fields come first
    """One stored event in global order (``GET /feed``)."""


if TYPE_CHECKING:
    EventOut = EventEnvelope
    FeedEventOut = FeedEventEnvelope
else:
    EventOut = by_type(EventEnvelope, "EventOut")
    FeedEventOut = by_type(FeedEventEnvelope, "FeedEventOut")
