"""Signed receipts of the global hash chain's head, for an auditor to keep outside the database.

A receipt is ``{position, chain_head, recorded_at, issued_at, key_id, signature}``: the chain head
(``application.chain``) at ``position``, the instant its event was recorded, when the receipt was
issued, and the Ed25519 signature (base64) of the canonical JSON of the other five fields (keys
sorted, no spaces, UTF-8). Anyone holding the public key can check it with any Ed25519 tool; the
chain still passing through that head is checked by recomputing it (``Audit.check_receipt``).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from application.signing_key import SigningKey, key_id_of

SIGNED_FIELDS = ("position", "chain_head", "recorded_at", "issued_at", "key_id")


def canonical(fields: Mapping[str, Any]) -> bytes:
    """The bytes a receipt's signature covers: its signed fields as JSON, keys sorted, no spaces."""
    statement = {name: fields[name] for name in SIGNED_FIELDS}
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def issue(position: int, chain_head: str, recorded_at: datetime | None, key: SigningKey) -> dict[str, Any]:
    """A signed receipt of the head ``chain_head`` at ``position`` (``recorded_at``: None before
    the first event)."""
    fields: dict[str, Any] = {
        "position": position,
        "chain_head": chain_head,
        "recorded_at": recorded_at.astimezone(UTC).isoformat() if recorded_at else None,
        "issued_at": datetime.now(UTC).isoformat(),
        "key_id": key.key_id,
    }
    return {**fields, "signature": base64.b64encode(key.sign(canonical(fields))).decode()}


def public_key_of(key: SigningKey) -> dict[str, str]:
    """``{key_id, public_key}``: the raw Ed25519 public key in base64."""
    return {"key_id": key.key_id, "public_key": base64.b64encode(key.public_key).decode()}


def signature_problem(receipt: Mapping[str, Any], public_key: bytes) -> str | None:
    """Why ``receipt`` is not signed by ``public_key`` (None: it is)."""
    missing = [name for name in (*SIGNED_FIELDS, "signature") if name not in receipt]
    if missing:
        return f"not a receipt: no {', '.join(missing)}"
    if receipt["key_id"] != key_id_of(public_key):
        return f"signed with key {receipt['key_id']}, not the configured key {key_id_of(public_key)}"
    try:
        signature = base64.b64decode(str(receipt["signature"]), validate=True)
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, canonical(receipt))
    except (binascii.Error, ValueError, InvalidSignature):
        return "the signature does not match the receipt: it was altered or forged"
    return None
