"""The mapper that seals the personal fields of ``referral.referred`` on the way into the event store."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent, Transcoder

from application.privacy.envelopes import SEALED_FIELDS, seal
from application.privacy.keyring import PREPARED, Keyring
from application.storage.envelope_labels import is_sealed
from domain.referral import Referral


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
