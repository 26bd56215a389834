"""Signed receipts of the global hash chain's head, for an auditor to keep outside the database.

A receipt is ``{position, chain_head, recorded_at, issued_at, key_id, signature}``: the chain head
(``application.storage.chain_links``) at ``position``, the instant its event was recorded, when the
receipt was issued, and the Ed25519 signature (base64) of the canonical JSON of the other five fields
(keys sorted, no spaces, UTF-8). Anyone holding the public key can check it with any Ed25519 tool; the
chain still passing through that head is checked by recomputing it (``Audit.check_receipt``).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from application.audit.signing_key import SigningKey, key_id_of
from domain.errors import RuleViolation

log = logging.getLogger("caseledger.receipts")

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


def write_receipt(directory: Path, receipt: Mapping[str, Any]) -> Path | None:
    """Write ``receipt`` to ``directory/receipt-<position>.json``, whole or not at all (written
    aside, then linked into place); None when a receipt of that position is there already (another
    API process wrote it), which is kept."""
    final = directory / f"receipt-{receipt['position']:012d}.json"
    with tempfile.NamedTemporaryFile("w", dir=directory, prefix=".receipt-", delete=False) as aside:
        aside.write(json.dumps(receipt, indent=2) + "\n")
        aside.flush()
        os.fsync(aside.fileno())
    try:
        os.link(aside.name, final)
    except FileExistsError:
        return None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(aside.name)
    return final


def keep_receipts(
    issue_receipt: Callable[[], dict[str, Any]],
    head_position: Callable[[], int],
    directory: Path,
    interval: float,
    stop: threading.Event,
) -> None:
    """At once and then every ``interval`` seconds until ``stop``: when the log has grown since the
    last receipt, issue one and write it to ``directory``. A failure is logged and tried again at the next
    interval; a chain that does not verify gets no receipt (``Audit.receipt``)."""
    written: int | None = None
    while True:
        written = _write_if_grown(issue_receipt, head_position, directory, written)
        if stop.wait(interval):
            return


def _write_if_grown(
    issue_receipt: Callable[[], dict[str, Any]],
    head_position: Callable[[], int],
    directory: Path,
    written: int | None,
) -> int | None:
    """The position of the last receipt written, after writing one when the log has grown."""
    try:
        if head_position() == written:
            return written
        receipt = issue_receipt()
        path = write_receipt(directory, receipt)
    except RuleViolation as refused:
        log.error("no receipt written: %s", refused.detail)
        return written
    except Exception:
        log.exception("writing a receipt to %s failed", directory)
        return written
    if path is not None:
        log.info("receipt of position %d written to %s", receipt["position"], path)
    return int(receipt["position"])
