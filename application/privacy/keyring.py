"""The keyring: finds or makes citizens' data keys (one per citizen and municipality), unwraps them
with the master key, and reveals sealed values (``"erased"`` when the key is gone or the referral
withheld)."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from application.privacy.envelopes import SEALED_FIELDS, unseal
from application.privacy.master_key import KEY_BYTES, MasterKey, MasterKeyError
from application.storage.citizen_keys import CitizenKeyStore, NewCitizenKey, now
from application.storage.envelope_labels import is_sealed, key_id_of
from domain.referral import Referral

Citizen = tuple[str, str]
"""``(citizen_ref, municipality)``: whom a data key is for."""


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
