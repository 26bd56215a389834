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


def referral_view(referral: Referral, today: date) -> dict[str, Any]:
    """The referral's state as ``GET /referrals/{id}`` answers it."""
    return {
        "id": str(referral.id),
        "version": referral.version,
        "status": referral.status,
        "municipality": referral.municipality,
        "citizen_ref": referral.citizen_ref,
        "case_ref": referral.case_ref,
        "legal_basis": referral.legal_basis,
        "intervention": referral.intervention,
        "purpose": referral.purpose,
        "requested_hours_per_week": plain(referral.requested_hours_per_week),
        "requested_start": plain(referral.requested_start),
        "expected_end": plain(referral.expected_end),
        "referred_on": plain(referral.referred_on),
        "supplier_id": plain(referral.supplier_id),
        "previous_supplier_ids": plain(referral.previous_supplier_ids),
        "pricing": plain(referral.pricing_on(today)),
        "list_rate": plain(referral.list_rate),
        "start": plain(referral.start),
        "end": plain(referral.end),
        "closed_on": plain(referral.closed_on),
        "close_reason": referral.close_reason,
        "close_initiated_by": referral.close_initiated_by,
        "committed_total": plain(referral.committed_total()),
        "committed_by_month": plain(referral.monthly_commitments()),
        "created_at": referral.created_on.isoformat(),
        "modified_at": referral.modified_on.isoformat(),
    }


def supplier_view(supplier: Supplier, today: date) -> dict[str, Any]:
    """The supplier with the prices in force today per municipality, and every list it negotiated."""
    return {
        "id": str(supplier.id),
        "version": supplier.version,
        "name": supplier.name,
        "cvr": supplier.cvr,
        "contact": supplier.contact,
        "target_groups": supplier.target_groups,
        "competencies": supplier.competencies,
        "education_levels": supplier.education_levels,
        "capacity_hours_per_week": plain(supplier.capacity_hours_per_week),
        "prices_in_force": [
            {"municipality": code, **plain(supplier.prices_in_force(code, today))}
            for code in supplier.municipalities()
        ],
        "price_lists": plain(supplier.price_lists),
        "created_at": supplier.created_on.isoformat(),
        "modified_at": supplier.modified_on.isoformat(),
    }
