"""What comes with a write besides its body: idempotency, expected version, integration source."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from application.keys import ANY_SCOPE


@dataclass(frozen=True)
class WriteContext:
    """Request metadata for one command.

    ``idempotency_key`` with ``fingerprint`` (a hash of the request) makes a repeat a replay;
    ``event_id`` does the same for a batch item; ``expected_version`` is ``If-Match``.
    ``requester`` (the token's name) scopes ``idempotency_key``: the same key from two tokens is two
    requests; ``event_scope`` (the municipality the item concerns, see ``docs/idempotency.md``)
    scopes ``event_id``: the same id in two municipalities is two events.
    """

    idempotency_key: str | None = None
    fingerprint: str = ""
    expected_version: int | None = None
    event_id: str | None = None
    event_scope: str = ANY_SCOPE
    source_system: str | None = None
    requester: str | None = None
    earlier_fingerprint: Callable[[], str] | None = None
    """The request's fingerprint in the form claims were stored with before ``fingerprint``'s,
    computed only when a stored claim differs from ``fingerprint``."""

    def fingerprinted_as(self, stored: str) -> bool:
        """Whether a claim's stored fingerprint is this request's (in either form)."""
        if stored == self.fingerprint:
            return True
        return self.earlier_fingerprint is not None and stored == self.earlier_fingerprint()

    def origin(self) -> dict[str, Any] | None:
        """The ``source`` recorded on events from an integration."""
        if not self.event_id and not self.source_system:
            return None
        return {"system": self.source_system, "event_id": self.event_id}


@dataclass(frozen=True)
class WriteResult:
    """``{"id", "version", "position"}``; ``replayed`` when an earlier identical request answered."""

    id: str
    version: int
    position: int
    replayed: bool = False

    def body(self) -> dict[str, Any]:
        return {"id": self.id, "version": self.version, "position": self.position}
