"""Personal data at rest: envelope encryption with a data key per citizen, and crypto-erasure.

A ``referral.referred`` event carries three personal fields: ``citizen_ref``, ``case_ref`` and
``purpose``. The mapper stores each as an *envelope*::

    enc:v1:<key_id>:<base64url(nonce ‖ AES-256-GCM ciphertext)>

sealed with the citizen's data key (DEK); the associated data binds the envelope to its referral
and field (``caseledger/field/v1|<referral_id>|<field>``), so an envelope copied to another referral
or field does not open. ``case_ref`` absent stays absent.

Each citizen has one DEK (32 random bytes), kept in ``caseledger_citizen_keys`` wrapped under the
master key (the KEK, from configuration, never in the database) and found again by a *blind index*,
HMAC-SHA256 of the ``citizen_ref`` under a key derived from the master key. The master key itself
derives three keys (HKDF-SHA256): one wraps DEKs, one makes blind indexes, one makes the check value
stored to recognise a wrong master key before anything is decrypted.

Erasing a citizen destroys their DEK. The events, and with them the hash chains, stay exactly as
stored; their personal fields then read as ``"erased"`` everywhere: state, events, trail, feed and
the projections (which only ever hold envelopes and are revealed when read).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder

from application.citizen_keys import CitizenKeyStore, NewCitizenKey, now
from domain.referral import Referral

log = logging.getLogger("caseledger.personal_data")

SEALED_FIELDS = ("citizen_ref", "case_ref", "purpose")
"""The personal fields of ``referral.referred``."""
PREFIX = "enc:v1:"
ERASED = "erased"
"""What a personal field reads as once its citizen's key was destroyed."""
NONCE_BYTES = 12
KEY_BYTES = 32
KEY_FILE_NAME = "master.key"


class MasterKeyError(Exception):
    """The master key is missing, malformed or not the one this database was sealed with."""


class SealedDataError(Exception):
    """An envelope is malformed or does not open with its key (altered bytes)."""


# -- the master key ---------------------------------------------------------------------------------


def _derive(master: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose.encode()).derive(master)


@dataclass(frozen=True)
class MasterKey:
    """The key-encryption key and what is derived from it."""

    wrapping: bytes
    indexing: bytes
    checking: bytes

    @classmethod
    def from_bytes(cls, master: bytes) -> MasterKey:
        if len(master) != KEY_BYTES:
            msg = f"the master key must be {KEY_BYTES} bytes (base64 of 32 random bytes), got {len(master)}"
            raise MasterKeyError(msg)
        return cls(
            wrapping=_derive(master, "caseledger/kek/v1"),
            indexing=_derive(master, "caseledger/blind-index/v1"),
            checking=_derive(master, "caseledger/check/v1"),
        )

    @classmethod
    def from_base64(cls, text: str, origin: str) -> MasterKey:
        try:
            master = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            msg = f'{origin} is not valid base64; make one with: python -c "import os,base64;print(base64.b64encode(os.urandom(32)).decode())"'
            raise MasterKeyError(msg) from None
        try:
            return cls.from_bytes(master)
        except MasterKeyError as error:
            msg = f"{origin}: {error}"
            raise MasterKeyError(msg) from None

    def check_value(self) -> str:
        """Stored in the database to recognise this key later; reveals nothing about it."""
        return hmac.new(self.checking, b"caseledger master key check", hashlib.sha256).hexdigest()

    def blind_index(self, citizen_ref: str) -> str:
        return hmac.new(self.indexing, citizen_ref.encode(), hashlib.sha256).hexdigest()

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


def resolve_master_key(env: Mapping[str, str], *, sqlite_path: str | None) -> MasterKey:
    """The master key from ``CASELEDGER_MASTER_KEY`` (base64) or ``CASELEDGER_MASTER_KEY_FILE``.

    Neither set: on SQLite a key file ``master.key`` beside the database is made (mode 0600) and
    used, with a warning; in memory an ephemeral key; on PostgreSQL this refuses to start.
    """
    text = (env.get("CASELEDGER_MASTER_KEY") or "").strip()
    if text:
        return MasterKey.from_base64(text, "CASELEDGER_MASTER_KEY")
    file = (env.get("CASELEDGER_MASTER_KEY_FILE") or "").strip()
    if file:
        return _read_key_file(Path(file), "CASELEDGER_MASTER_KEY_FILE")
    if sqlite_path is None:
        msg = (
            "no master key: set CASELEDGER_MASTER_KEY (base64 of 32 random bytes) or "
            "CASELEDGER_MASTER_KEY_FILE; on PostgreSQL personal data is never stored without one. "
            'Make one with: python -c "import os,base64;print(base64.b64encode(os.urandom(32)).decode())"'
        )
        raise MasterKeyError(msg)
    if sqlite_path == ":memory:" or "mode=memory" in sqlite_path:
        return MasterKey.from_bytes(secrets.token_bytes(KEY_BYTES))
    path = Path(sqlite_path).parent / KEY_FILE_NAME
    if not path.exists():
        _write_key_file(path)
        log.warning(
            "no CASELEDGER_MASTER_KEY configured: generated %s and sealing personal data with it; "
            "keep it out of the database's backups, or configure CASELEDGER_MASTER_KEY",
            path,
        )
    return _read_key_file(path, str(path))


def _read_key_file(path: Path, origin: str) -> MasterKey:
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        msg = f"cannot read the master key from {origin} ({path}): {error}"
        raise MasterKeyError(msg) from None
    return MasterKey.from_base64(text, f"{origin} ({path})")


def _write_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode() + "\n")


# -- envelopes --------------------------------------------------------------------------------------


def _field_aad(referral_id: UUID | str, field: str) -> bytes:
    return f"caseledger/field/v1|{referral_id}|{field}".encode()


def seal(dek: bytes, key_id: str, referral_id: UUID | str, field: str, plaintext: str) -> str:
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = nonce + AESGCM(dek).encrypt(nonce, plaintext.encode(), _field_aad(referral_id, field))
    return f"{PREFIX}{key_id}:{base64.urlsafe_b64encode(sealed).decode().rstrip('=')}"


def is_sealed(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and value.startswith(PREFIX)


WITHHELD = "withheld"
"""What a personal field of an aggregate that a process keeps in memory holds instead of plaintext."""


def withhold_personal_fields(aggregate: object) -> None:
    """Replace the plaintext personal fields of ``aggregate`` (a referral filed in this process) by
    ``WITHHELD``; envelopes and absent fields stay. For copies kept for commands, which never read
    them."""
    for field in SEALED_FIELDS:
        value = getattr(aggregate, field, None)
        if isinstance(value, str) and not is_sealed(value):
            setattr(aggregate, field, WITHHELD)


def key_id_of(value: str) -> str:
    """The key an envelope was sealed with."""
    return value[len(PREFIX) :].split(":", 1)[0]


def unseal(dek: bytes | None, value: str, referral_id: UUID | str, field: str) -> str:
    """The plaintext of an envelope, or ``ERASED`` when its key is gone (``dek`` None)."""
    if dek is None:
        return ERASED
    try:
        _key_id, text = value[len(PREFIX) :].split(":", 1)
        blob = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return (
            AESGCM(dek)
            .decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _field_aad(referral_id, field))
            .decode()
        )
    except (ValueError, InvalidTag) as error:
        msg = f"the sealed {field} of referral {referral_id} does not open: it was altered or moved"
        raise SealedDataError(msg) from error


# -- the keyring ------------------------------------------------------------------------------------


class Keyring:
    """Finds or makes citizens' data keys, opens them, and reveals sealed values."""

    def __init__(self, store: CitizenKeyStore, master: MasterKey) -> None:
        self.store = store
        self.master = master
        stored = store.check_value(master.check_value())
        if not hmac.compare_digest(stored, master.check_value()):
            msg = (
                "the configured master key (CASELEDGER_MASTER_KEY / CASELEDGER_MASTER_KEY_FILE) is not the "
                "key this database's personal data was sealed with; refusing to start rather than read "
                "it as garbage or seal new data under another key"
            )
            raise MasterKeyError(msg)

    def keys_for(self, citizen_refs: Iterable[str]) -> dict[str, tuple[str, bytes]]:
        """``{citizen_ref: (key_id, dek)}``, making keys for citizens that have none (one transaction)."""
        by_index = {self.master.blind_index(ref): ref for ref in set(citizen_refs)}
        proposed = []
        for blind in by_index:
            key_id = secrets.token_hex(16)
            proposed.append((key_id, blind, self.master.wrap(key_id, secrets.token_bytes(KEY_BYTES))))
        found = self.store.ensure_keys(proposed)
        return {
            by_index[blind]: (key_id, self.master.unwrap(key_id, wrapped))
            for blind, (key_id, wrapped) in found.items()
        }

    def prepare(
        self, citizen_refs: Iterable[str]
    ) -> tuple[dict[str, tuple[str, bytes]], list[NewCitizenKey]]:
        """For a save: ``{citizen_ref: (key_id, dek)}`` of each citizen, and the keys to store with the
        events for those who had none (so a new key is written in the events' own transaction)."""
        by_index = {self.master.blind_index(ref): ref for ref in set(citizen_refs)}
        found = self.store.find_keys(list(by_index))
        prepared = {
            by_index[blind]: (key_id, self.master.unwrap(key_id, wrapped))
            for blind, (key_id, wrapped) in found.items()
        }
        new: list[NewCitizenKey] = []
        for blind, ref in by_index.items():
            if ref not in prepared:
                key_id, dek = secrets.token_hex(16), secrets.token_bytes(KEY_BYTES)
                new.append((key_id, blind, self.master.wrap(key_id, dek), now()))
                prepared[ref] = (key_id, dek)
        return prepared, new

    def taken(self, proposed: Sequence[NewCitizenKey]) -> bool:
        """Whether a citizen of ``proposed`` has a key now (another save made it first)."""
        return bool(self.store.find_keys([blind for _, blind, _, _ in proposed]))

    def deks(self, key_ids: Iterable[str]) -> dict[str, bytes | None]:
        """``{key_id: dek}``; None for a key that was destroyed."""
        wanted = sorted(set(key_ids))
        found = self.store.wrapped_keys(wanted)
        return {
            key_id: self.master.unwrap(key_id, found[key_id]) if key_id in found else None
            for key_id in wanted
        }

    def reveal_rows(
        self, rows: Sequence[dict[str, Any]], *, id_key: str, fields: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        """Copies of ``rows`` with each sealed value of ``fields`` (``{column: sealed field name}``) opened
        (or ``ERASED``); the referral id is ``row[id_key]``. One key lookup for all rows."""
        key_ids = [key_id_of(row[c]) for row in rows for c in fields if is_sealed(row.get(c))]
        deks = self.deks(key_ids) if key_ids else {}
        revealed = []
        for row in rows:
            copy = dict(row)
            for column, field in fields.items():
                value = row.get(column)
                if is_sealed(value):
                    copy[column] = unseal(deks[key_id_of(value)], value, row[id_key], field)
            revealed.append(copy)
        return revealed

    def reveal_events(self, events: Sequence[Any]) -> None:
        """Open the sealed fields of ``referral.referred`` events in place (one key lookup)."""
        referred = [e for e in events if isinstance(e, Referral.Referred)]
        key_ids = [key_id_of(v) for e in referred for f in SEALED_FIELDS if is_sealed(v := e.__dict__.get(f))]
        if not key_ids:
            return
        deks = self.deks(key_ids)
        for event in referred:
            state = event.__dict__
            for field in SEALED_FIELDS:
                value = state.get(field)
                if is_sealed(value):
                    state[field] = unseal(deks[key_id_of(value)], value, event.originator_id, field)


PREPARED: ContextVar[dict[str, tuple[str, bytes]] | None] = ContextVar(
    "caseledger_prepared_keys", default=None
)
"""Keys looked up for a whole save at once (``{citizen_ref: (key_id, dek)}``), for the mapper."""


class SealingMapper(Mapper[UUID]):
    """eventsourcing's mapper, sealing the personal fields of ``referral.referred`` on the way in and,
    if ``reveal``, opening them on the way out (else they stay envelopes: for the projections)."""

    def __init__(self, transcoder: Transcoder, *, reveal: bool) -> None:
        super().__init__(transcoder)
        self.reveal = reveal
        self.keyring: Keyring | None = None

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        if not isinstance(domain_event, Referral.Referred) or self.keyring is None:
            return super().to_stored_event(domain_event)
        state = dict(vars(domain_event))
        citizen_ref = state["citizen_ref"]
        if is_sealed(citizen_ref):  # already sealed (e.g. an event read sealed and saved again)
            return super().to_stored_event(domain_event)
        prepared = PREPARED.get() or {}
        key_id, dek = prepared.get(citizen_ref) or self.keyring.keys_for([citizen_ref])[citizen_ref]
        for field in SEALED_FIELDS:
            if state.get(field) is not None:
                state[field] = seal(dek, key_id, state["originator_id"], field, state[field])
        sealed = object.__new__(type(domain_event))
        object.__setattr__(sealed, "__dict__", state)
        return super().to_stored_event(sealed)

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        domain_event = super().to_domain_event(stored_event)
        if self.reveal and self.keyring is not None and isinstance(domain_event, Referral.Referred):
            self.keyring.reveal_events([domain_event])
        return domain_event
