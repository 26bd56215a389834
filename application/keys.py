"""Keys claimed atomically with the events they produced.

Idempotency keys, batch event ids and CVR numbers are each a unique key written in the same
transaction as the events, so a retry can never append twice and two suppliers can never share a
CVR number, even when requests race.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Claim:
    """A unique key, a fingerprint of what claimed it, and the result to answer a repeat with."""

    key: str
    fingerprint: str
    result: str  # JSON: {"id": ..., "version": ...}


@dataclass(frozen=True)
class StoredClaim:
    """A claim as found in storage."""

    key: str
    fingerprint: str
    result: str


ANY_SCOPE = "*"
"""The scope of an ``event_id`` sent by a token of every municipality about no referral (a supplier
event), and of one the application is given without a scope."""


def event_key(scope: str, event_id: str) -> str:
    """The claim of a batch item's ``event_id`` within its scope (the municipality the item concerns):
    the same id in two municipalities is two events, and neither can see or take the other's."""
    return f"event/{scope}:{event_id}"


def earlier_event_key(event_id: str) -> str:
    """The claim an ``event_id`` was stored under before ids were scoped (one namespace for all)."""
    return f"event:{event_id}"


def is_event_key(key: str) -> bool:
    return key.startswith(("event/", "event:"))
