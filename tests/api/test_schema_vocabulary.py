"""The API's enumerations repeat the domain's vocabulary for the OpenAPI document; they must not drift."""

from __future__ import annotations

from typing import get_args

from api.routers.audit import Action
from api.schemas import CloseReason, EventType
from application.access_log import ACTIONS
from domain.referral import CLOSE_REASONS, Referral
from domain.supplier import Supplier


def _business_topics(aggregate: type) -> set[str]:
    """The stable topics of an aggregate's business events (not the internal ``*.created`` base)."""
    return {
        value.TOPIC
        for value in vars(aggregate).values()
        if isinstance(value, type) and hasattr(value, "TOPIC") and not value.TOPIC.endswith(".created")
    }


def test_close_reasons_in_the_api_are_the_domains() -> None:
    assert get_args(CloseReason) == CLOSE_REASONS


def test_batch_event_types_are_the_domains_event_topics() -> None:
    assert set(get_args(EventType)) == _business_topics(Referral) | _business_topics(Supplier)


def test_access_log_actions_in_the_api_are_the_logs() -> None:
    assert get_args(Action) == ACTIONS
