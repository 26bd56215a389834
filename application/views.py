"""Plain, JSON-ready views of aggregates and events: money as two-decimal strings, dates as ISO."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.referral import Referral
from domain.supplier import Supplier

EVENT_META = ("originator_id", "originator_version", "timestamp", "originator_topic", "actor", "source")


def plain(value: Any) -> Any:
    """Convert decimals, dates, datetimes and UUIDs (nested anywhere) to JSON-ready values."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def event_type(domain_event: object) -> str:
    """The stable event type, e.g. ``referral.matched`` (the event's topic)."""
    return str(type(domain_event).TOPIC)  # type: ignore[attr-defined]


def event_view(domain_event: Any) -> dict[str, Any]:
    """``{version, type, recorded_at, actor, source, data}`` for one stored event."""
    state = vars(domain_event)
    return {
        "version": domain_event.originator_version,
        "type": event_type(domain_event),
        "recorded_at": domain_event.timestamp.isoformat(),
        "actor": plain(state.get("actor")),
        "source": plain(state.get("source")),
        "data": {key: plain(value) for key, value in state.items() if key not in EVENT_META},
    }


REFERRAL_STATE = (
    "status",
    "municipality",
    "citizen_ref",
    "case_ref",
    "legal_basis",
    "intervention",
    "purpose",
    "requested_hours_per_week",
    "requested_start",
    "expected_end",
    "referred_on",
    "supplier_id",
    "previous_supplier_ids",
    "list_rate",
    "start",
    "end",
    "closed_on",
    "close_reason",
    "close_initiated_by",
)
SUPPLIER_STATE = (
    "name",
    "cvr",
    "contact",
    "target_groups",
    "competencies",
    "education_levels",
    "capacity_hours_per_week",
    "price_lists",
)


def _aggregate_view(aggregate: Any, state: tuple[str, ...], **derived: Any) -> dict[str, Any]:
    """Id, version and timestamps, the attributes named in ``state`` and the ``derived`` values,
    JSON-ready."""
    return {
        "id": str(aggregate.id),
        "version": aggregate.version,
        **{name: plain(getattr(aggregate, name)) for name in state},
        **plain(derived),
        "created_at": aggregate.created_on.isoformat(),
        "modified_at": aggregate.modified_on.isoformat(),
    }


def referral_view(referral: Referral, today: date) -> dict[str, Any]:
    """The referral's state as ``GET /referrals/{id}`` answers it."""
    return _aggregate_view(
        referral,
        REFERRAL_STATE,
        pricing=referral.pricing_on(today),
        committed_total=referral.committed_total(),
        committed_by_month=referral.monthly_commitments(),
    )


def supplier_view(supplier: Supplier, today: date) -> dict[str, Any]:
    """The supplier with the prices in force today per municipality, and every list it negotiated."""
    prices_in_force = [
        {"municipality": code, **supplier.prices_in_force(code, today)} for code in supplier.municipalities()
    ]
    return _aggregate_view(supplier, SUPPLIER_STATE, prices_in_force=prices_in_force)
