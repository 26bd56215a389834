"""Named domain errors. A command raises one before it records anything.

Each error carries a short ``problem`` slug (used as the problem+json ``type``),
a human ``detail`` and, where one input field is at fault, its ``field`` path.
"""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused; nothing was recorded."""

    def __init__(self, problem: str, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.problem = problem
        self.detail = detail
        self.field = field


class InvalidInput(DomainError):
    """The request itself is wrong, whatever the stored state (HTTP 422)."""


class RuleViolation(DomainError):
    """A business rule or the current state forbids the command (HTTP 409)."""


class NotFound(DomainError):
    """The named aggregate does not exist (HTTP 404)."""
