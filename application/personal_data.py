"""Personal data at rest: envelope encryption with a data key per citizen, and crypto-erasure.

A ``referral.referred`` event carries three personal fields: ``citizen_ref``, ``case_ref`` and
``purpose``. The mapper stores each as an *envelope*::

    enc:v1:<key_id>:<base64url(nonce ‖ AES-256-GCM ciphertext)>

sealed with the citizen's data key (DEK); the associated data binds the envelope to its referral
and field (``caseledger/field/v1|<referral_id>|<field>``), so an envelope copied to another referral
or field does not open. ``case_ref`` absent stays absent.

Each citizen has one DEK (32 random bytes) per municipality that filed referrals for them, kept in
``caseledger_citizen_keys`` wrapped under the master key (the KEK, from configuration, never in the
database) and found again by a *blind index*, HMAC-SHA256 of the municipality and the
``citizen_ref`` under a key derived from the master key: the indexes of one citizen in two
municipalities are unrelated, so one municipality's lookup says nothing of another's. The master
key itself derives four keys (HKDF-SHA256): one wraps DEKs, one makes blind indexes, one made the
blind indexes of the old form (``citizen_ref`` alone, before the keys per municipality) and one makes
the check value stored to recognise a wrong master key before anything is decrypted.

Each municipality is its own data controller. Its erasure of a citizen destroys the citizen's DEK of
that municipality, so the events, and with them the hash chains, stay exactly as stored, and the
personal fields of that municipality's referrals read as ``"erased"`` everywhere: state, events,
trail, feed and the projections (which only ever hold envelopes and are revealed when read). The
citizen's referrals in another municipality are sealed with another key and stay readable there.

A *shared* key of the old form (one per citizen, made before the keys per municipality) may have
sealed referrals of several municipalities. An erasure by one of them cannot destroy it without
destroying the others' data: that municipality's referrals are then marked erased (withheld, see
``application.citizen_keys``) and read ``"erased"`` like the rest, and the key is destroyed only with
the last referral that needs it. Until then their ciphertext can still be opened by whoever holds
both the database and the master key: withheld, not crypto-erased.
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
    legacy_indexing: bytes
    checking: bytes

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

    def blind_index(self, citizen_ref: str, municipality: str) -> str:
        """The index of the citizen's key in ``municipality`` (unrelated to their index elsewhere)."""
        message = f"{len(municipality)}:{municipality}|{citizen_ref}".encode()
        return hmac.new(self.indexing, message, hashlib.sha256).hexdigest()

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


Citizen = tuple[str, str]
"""``(citizen_ref, municipality)``: whom a data key is for."""

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

    def keys_for(self, citizens: Iterable[Citizen]) -> dict[Citizen, tuple[str, bytes]]:
        """``{(citizen_ref, municipality): (key_id, dek)}``, making keys for citizens that have none in
        their municipality (one transaction)."""
        by_index = {self.master.blind_index(ref, place): (ref, place) for ref, place in set(citizens)}
        proposed = []
        for blind, (_, place) in by_index.items():
            key_id = secrets.token_hex(16)
            proposed.append((key_id, blind, self.master.wrap(key_id, secrets.token_bytes(KEY_BYTES)), place))
        found = self.store.ensure_keys(proposed)
        return {
            by_index[blind]: (key_id, self.master.unwrap(key_id, wrapped))
            for blind, (key_id, wrapped) in found.items()
        }

    def prepare(
        self, citizens: Iterable[Citizen]
    ) -> tuple[dict[Citizen, tuple[str, bytes]], list[NewCitizenKey]]:
        """For a save: ``{(citizen_ref, municipality): (key_id, dek)}`` of each citizen, and the keys to
        store with the events for those who had none in that municipality (so a new key is written in
        the events' own transaction)."""
        by_index = {self.master.blind_index(ref, place): (ref, place) for ref, place in set(citizens)}
        found = self.store.find_keys(list(by_index))
        prepared = {
            by_index[blind]: (key_id, self.master.unwrap(key_id, wrapped))
            for blind, (key_id, wrapped) in found.items()
        }
        new: list[NewCitizenKey] = []
        for blind, citizen in by_index.items():
            if citizen not in prepared:
                key_id, dek = secrets.token_hex(16), secrets.token_bytes(KEY_BYTES)
                new.append((key_id, blind, self.master.wrap(key_id, dek), now(), citizen[1]))
                prepared[citizen] = (key_id, dek)
        return prepared, new

    def taken(self, proposed: Sequence[NewCitizenKey]) -> bool:
        """Whether a citizen of ``proposed`` has a key now (another save made it first)."""
        return bool(self.store.find_keys([new[1] for new in proposed]))

    def deks(self, sealed: Iterable[tuple[str, str]]) -> dict[tuple[str, str], bytes | None]:
        """``{(key_id, referral_id): dek}`` for envelopes of referrals sealed with keys; None for a key
        that was destroyed, and for a referral its municipality erased while the shared key of the
        old form that sealed it serves another municipality still."""
        wanted = {(key_id, str(referral_id)) for key_id, referral_id in sealed}
        found = self.store.wrapped_keys(sorted({key_id for key_id, _ in wanted}))
        erased = self.store.erased_referrals(
            [referral_id for key_id, referral_id in wanted if key_id in found and found[key_id][1]]
        )
        deks = {key_id: self.master.unwrap(key_id, wrapped) for key_id, (wrapped, _) in found.items()}
        return {
            (key_id, referral_id): None if referral_id in erased else deks.get(key_id)
            for key_id, referral_id in wanted
        }

    def reveal_rows(
        self, rows: Sequence[dict[str, Any]], *, id_key: str, fields: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        """Copies of ``rows`` with each sealed value of ``fields`` (``{column: sealed field name}``) opened
        (or ``ERASED``); the referral id is ``row[id_key]``. One key lookup for all rows."""
        sealed = [
            (key_id_of(row[c]), _referral(row[id_key]))
            for row in rows
            for c in fields
            if is_sealed(row.get(c))
        ]
        deks = self.deks(sealed) if sealed else {}
        revealed = []
        for row in rows:
            copy = dict(row)
            for column, field in fields.items():
                value = row.get(column)
                if is_sealed(value):
                    dek = deks[key_id_of(value), _referral(row[id_key])]
                    copy[column] = unseal(dek, value, row[id_key], field)
            revealed.append(copy)
        return revealed

    def reveal_events(self, events: Sequence[Any]) -> None:
        """Open the sealed fields of ``referral.referred`` events in place (one key lookup)."""
        referred = [e for e in events if isinstance(e, Referral.Referred)]
        sealed = [
            (key_id_of(v), _referral(e.originator_id))
            for e in referred
            for f in SEALED_FIELDS
            if is_sealed(v := e.__dict__.get(f))
        ]
        if not sealed:
            return
        deks = self.deks(sealed)
        for event in referred:
            state = event.__dict__
            for field in SEALED_FIELDS:
                value = state.get(field)
                if is_sealed(value):
                    dek = deks[key_id_of(value), _referral(event.originator_id)]
                    state[field] = unseal(dek, value, event.originator_id, field)


def _referral(referral_id: UUID | str) -> str:
    """A referral id as the key store keeps it (``str`` of the UUID)."""
    return str(referral_id if isinstance(referral_id, UUID) else UUID(str(referral_id)))


PREPARED: ContextVar[dict[Citizen, tuple[str, bytes]] | None] = ContextVar(
    "caseledger_prepared_keys", default=None
)
"""Keys looked up for a whole save at once (``{(citizen_ref, municipality): (key_id, dek)}``), for
the mapper."""


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
        citizen = (citizen_ref, str(state["municipality"]))
        key_id, dek = prepared.get(citizen) or self.keyring.keys_for([citizen])[citizen]
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
