"""The receipt signing key (Ed25519, from configuration, never in the database).

Configured like the master key: ``CASELEDGER_SIGNING_KEY`` (base64 of a 32-byte Ed25519 private key
seed) or ``CASELEDGER_SIGNING_KEY_FILE`` (a file holding it). Neither set: on SQLite a key file
``signing.key`` beside the database is made (mode 0600) and used, with a warning; in memory an
ephemeral key; on PostgreSQL there is none, and receipts are refused (``SigningKeyMissing``) while
everything else runs.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from application.storage.key_files import KeySource, decode_base64
from domain.errors import DomainError

log = logging.getLogger("caseledger.audit")

SEED_BYTES = 32


class SigningKeyError(Exception):
    """The signing key given is malformed or cannot be read."""


class SigningKeyMissing(DomainError):
    """No signing key is configured (PostgreSQL without ``CASELEDGER_SIGNING_KEY``): no receipts."""

    def __init__(self) -> None:
        super().__init__(
            "signing-key-missing",
            "no receipt signing key is configured: set CASELEDGER_SIGNING_KEY (base64 of a 32-byte "
            "Ed25519 seed) or CASELEDGER_SIGNING_KEY_FILE",
        )


def key_id_of(public_key: bytes) -> str:
    """A short, stable name of a public key: the first 16 hex digits of sha256 of its raw bytes."""
    return hashlib.sha256(public_key).hexdigest()[:16]


@dataclass(frozen=True)
class SigningKey:
    """The private key that signs receipts, and its public half."""

    private: Ed25519PrivateKey

    @classmethod
    def from_base64(cls, text: str, origin: str) -> SigningKey:
        seed = decode_base64(text, origin, SigningKeyError)
        if len(seed) != SEED_BYTES:
            msg = f"{origin}: the signing key must be {SEED_BYTES} bytes (an Ed25519 seed), got {len(seed)}"
            raise SigningKeyError(msg)
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte Ed25519 public key."""
        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


SIGNING_KEY = KeySource(
    "CASELEDGER_SIGNING_KEY",
    SigningKey.from_base64,
    SigningKeyError,
    log,
    made_for="to sign audit receipts with; keep it apart from the database",
    size=SEED_BYTES,
)


def resolve_signing_key(key: str, key_file: str, *, sqlite_path: str | None) -> SigningKey | None:
    """The signing key from ``key`` (base64) or ``key_file``; neither: on SQLite (``sqlite_path``)
    the ``signing.key`` file beside the database, made if missing; on PostgreSQL (None) none."""
    found = SIGNING_KEY.configured(key, key_file)
    if found is not None or sqlite_path is None:
        return found
    return SIGNING_KEY.beside(sqlite_path)
