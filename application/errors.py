"""Errors the application raises around the domain's own: concurrency and idempotency."""

from __future__ import annotations

from domain.errors import DomainError


class VersionMismatch(DomainError):
    """``If-Match`` / ``expected_version`` named a version the aggregate has moved on from (HTTP 412)."""


class IdempotencyKeyReused(DomainError):
    """The same idempotency key (or batch event id) came with a different request (HTTP 422)."""


class StorageUnavailable(Exception):
    """The database cannot be reached right now (HTTP 503 with Retry-After)."""
