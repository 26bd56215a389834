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
