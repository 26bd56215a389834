"""The master key (the KEK, from configuration, never in the database) and what it derives.

The master key derives five keys (HKDF-SHA256): one wraps citizens' data keys, one makes blind
indexes (HMAC-SHA256 of the municipality and the ``citizen_ref``, so the indexes of one citizen in
two municipalities are unrelated), one made the blind indexes of the old form (``citizen_ref`` alone,
before the keys per municipality), one makes the check value stored to recognise a wrong master
key before anything is decrypted, and one makes the case-number indexes the decision search finds
a referral by (HMAC-SHA256 of the municipality and the ``case_ref``; see
``application.privacy.case_index``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from application.storage.key_files import MAKE_ONE, KeySource, decode_base64

log = logging.getLogger("caseledger.personal_data")

NONCE_BYTES = 12
KEY_BYTES = 32


class MasterKeyError(Exception):
    """The master key is missing, malformed or not the one this database was sealed with."""


def _derive(master: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose.encode()).derive(master)


@dataclass(frozen=True)
class MasterKey:
    """The key-encryption key and what is derived from it."""

    wrapping: bytes
    indexing: bytes
    legacy_indexing: bytes
    checking: bytes
    case_indexing: bytes

    @classmethod
    def from_bytes(cls, master: bytes) -> MasterKey:
        if len(master) != KEY_BYTES:
            msg = f"the master key must be {KEY_BYTES} bytes (base64 of 32 random bytes), got {len(master)}"
            raise MasterKeyError(msg)
        return cls(
            wrapping=_derive(master, "caseledger/kek/v1"),
            indexing=_derive(master, "caseledger/blind-index/v2"),
            legacy_indexing=_derive(master, "caseledger/blind-index/v1"),
            checking=_derive(master, "caseledger/check/v1"),
            case_indexing=_derive(master, "caseledger/case-index/v1"),
        )

    @classmethod
    def from_base64(cls, text: str, origin: str) -> MasterKey:
        master = decode_base64(text, origin, MasterKeyError)
        try:
            return cls.from_bytes(master)
        except MasterKeyError as error:
            msg = f"{origin}: {error}"
            raise MasterKeyError(msg) from None

    def check_value(self) -> str:
        """Stored in the database to recognise this key later; reveals nothing about it."""
        return hmac.new(self.checking, b"caseledger master key check", hashlib.sha256).hexdigest()

    def blind_index(self, citizen_ref: str, municipality: str) -> str:
        """The index of the citizen's key in ``municipality`` (unrelated to their index elsewhere)."""
        message = f"{len(municipality)}:{municipality}|{citizen_ref}".encode()
        return hmac.new(self.indexing, message, hashlib.sha256).hexdigest()

    def case_index(self, case_ref: str, municipality: str) -> str:
        """The keyed hash a referral of ``municipality`` is found by its case number with (unrelated
        to the same number's hash in another municipality, and to every blind index)."""
        message = f"{len(municipality)}:{municipality}|{case_ref.strip()}".encode()
        return hmac.new(self.case_indexing, message, hashlib.sha256).hexdigest()

    def legacy_blind_index(self, citizen_ref: str) -> str:
        """The index of the citizen's shared key of the old form, made before the keys per municipality."""
        return hmac.new(self.legacy_indexing, citizen_ref.encode(), hashlib.sha256).hexdigest()

    def wrap(self, key_id: str, dek: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + AESGCM(self.wrapping).encrypt(nonce, dek, _wrap_aad(key_id))

    def unwrap(self, key_id: str, wrapped: bytes) -> bytes:
        try:
            return AESGCM(self.wrapping).decrypt(
                wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _wrap_aad(key_id)
            )
        except InvalidTag:
            msg = (
                f"citizen key {key_id} does not unwrap with the configured master key: "
                "CASELEDGER_MASTER_KEY is not the key this database was sealed with, or the key row was altered"
            )
            raise MasterKeyError(msg) from None


def _wrap_aad(key_id: str) -> bytes:
    return f"caseledger/dek/v1|{key_id}".encode()


MASTER_KEY = KeySource(
    "CASELEDGER_MASTER_KEY",
    MasterKey.from_base64,
    MasterKeyError,
    log,
    made_for="and sealing personal data with it; keep it out of the database's backups",
    size=KEY_BYTES,
)


def resolve_master_key(env: Mapping[str, str], *, sqlite_path: str | None) -> MasterKey:
    """The master key from ``CASELEDGER_MASTER_KEY`` (base64) or ``CASELEDGER_MASTER_KEY_FILE``.

    Neither set: on SQLite a key file ``master.key`` beside the database is made (mode 0600) and
    used, with a warning; in memory an ephemeral key; on PostgreSQL this refuses to start.
    """
    key = MASTER_KEY.configured(
        env.get("CASELEDGER_MASTER_KEY") or "", env.get("CASELEDGER_MASTER_KEY_FILE") or ""
    )
    if key is not None:
        return key
    if sqlite_path is None:
        msg = (
            "no master key: set CASELEDGER_MASTER_KEY (base64 of 32 random bytes) or "
            "CASELEDGER_MASTER_KEY_FILE; on PostgreSQL personal data is never stored without one. "
            f"Make one with: {MAKE_ONE}"
        )
        raise MasterKeyError(msg)
    return MASTER_KEY.beside(sqlite_path)
