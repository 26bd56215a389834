"""What storage reads of an envelope (``application.privacy.envelopes``) without opening it: that a
value is one, and the id of the citizen key that sealed it, which the recorders link to the referral
in the events' own transaction (``caseledger_citizen_referrals``)."""

from __future__ import annotations

from typing import TypeGuard

PREFIX = "enc:v1:"


def is_sealed(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and value.startswith(PREFIX)


def key_id_of(value: str) -> str:
    """The key an envelope was sealed with."""
    return value[len(PREFIX) :].split(":", 1)[0]
