"""Personal data on request: opening sealed fields for a reader, finding a citizen's referrals,
and crypto-erasure per municipality (see ``docs/personal-data.md``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import InterfaceError, OperationalError

from application.errors import StorageUnavailable
from application.privacy.keyring import Keyring
from application.storage.citizen_keys import CitizenKeyStore, ErasureRecord
from application.storage.municipalities import Municipalities
from domain.errors import InvalidInput, NotFound
from domain.reference import load_reference
from domain.referral import Referral

log = logging.getLogger("caseledger.personal_data")


@dataclass
class Privacy:
    """What a reader may see of a citizen, and their erasure."""

    keyring: Keyring
    citizen_keys: CitizenKeyStore
    municipalities: Municipalities
    erasure_listeners: list[Callable[[list[str]], None]] = field(default_factory=list)
    """Called with the referral ids of each erasure once it is committed (and again when it is
    repeated), to clear what other stores derived from the erased data (the read model's case
    indexes). A failing listener is logged, not raised: the erasure stands."""

    def reveal_referral_rows(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows of the referral list (``id``, sealed ``citizen_ref``, ``case_ref``) with those opened."""
        fields = {"citizen_ref": "citizen_ref", "case_ref": "case_ref"}
        return self._revealing(lambda: self.keyring.reveal_rows(rows, id_key="id", fields=fields))

    def reveal_decision_rows(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows of the decision search with a referral's sealed ``purpose`` (its rationale) opened."""
        referred = [row for row in rows if row.get("type") == Referral.Referred.TOPIC]
        opened = self._revealing(
            lambda: self.keyring.reveal_rows(referred, id_key="referral_id", fields={"rationale": "purpose"})
        )
        by_position = {row["position"]: row for row in opened}
        return [by_position.get(row["position"], row) for row in rows]

    def _revealing(self, reveal: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
        try:
            return reveal()
        except (OperationalError, InterfaceError) as error:
            raise StorageUnavailable(str(error)) from error

    def case_indexes(self, case_ref: str, municipality: str | None) -> list[str]:
        """The case indexes a referral with ``case_ref`` has in ``municipality`` (None: in each
        municipality), to look up in the decision log (see ``application.privacy.case_index``)."""
        places = [municipality] if municipality is not None else sorted(load_reference().municipalities)
        return [self.keyring.master.case_index(case_ref, place) for place in places]

    def findable_by_case_ref(self, referral_ids: Sequence[str]) -> list[str]:
        """Those of ``referral_ids`` whose personal data is not erased (still linked to a data key):
        an index found in a read model is answered only while the case number it stands for exists."""
        try:
            linked = self.citizen_keys.linked(referral_ids)
        except (OperationalError, InterfaceError) as error:
            raise StorageUnavailable(str(error)) from error
        return [referral_id for referral_id in referral_ids if referral_id in linked]

    def _erased(self, referral_ids: list[str]) -> None:
        for listener in self.erasure_listeners:
            try:
                listener(referral_ids)
            except Exception:
                log.exception("clearing what was derived from erased referrals %s failed", referral_ids)

    def referral_ids_of_citizen(self, citizen_ref: str, *, municipality: str | None = None) -> list[UUID]:
        """The referrals filed for ``citizen_ref`` in ``municipality`` (None: in every municipality),
        in filing order; found by their blind indexes; none once erased there."""
        try:
            return [UUID(i) for i, _ in self._citizen_referrals(citizen_ref.strip(), municipality)]
        except (OperationalError, InterfaceError) as error:
            raise StorageUnavailable(str(error)) from error

    def _citizen_referrals(self, ref: str, municipality: str | None) -> list[tuple[str, str]]:
        """``(referral_id, key_id)`` of the citizen's referrals not erased in ``municipality`` (None:
        every municipality): those sealed with the citizen's keys of the municipalities, and those
        of the municipality sealed with the citizen's shared key of the old form, if they have one."""
        master, store = self.keyring.master, self.citizen_keys
        places = [municipality] if municipality is not None else store.municipalities()
        own = store.find_keys([master.blind_index(ref, place) for place in places])
        shared = store.find_key(master.legacy_blind_index(ref))
        key_ids = [key_id for key_id, _ in own.values()] + ([shared[0]] if shared else [])
        return [
            (referral_id, key_id)
            for referral_id, key_id, _ in store.links(key_ids)
            if municipality is None
            or shared is None
            or key_id != shared[0]
            or self.municipalities.of(UUID(referral_id)) == municipality
        ]

    def access_log_referrals(
        self, referral_id: UUID | None, citizen_ref: str | None, *, municipality: str | None = None
    ) -> list[UUID] | None:
        """The referrals an access-log search is about: the one named, those of the citizen named, or
        both (the named one if it is the citizen's); ``None`` when neither is named (all).
        ``municipality``: only that municipality's referrals of the citizen (a scoped token's search
        must not learn another municipality's referral ids)."""
        named = None if referral_id is None else [referral_id]
        if citizen_ref is None:
            return named
        of_citizen = self.referral_ids_of_citizen(citizen_ref, municipality=municipality)
        return of_citizen if named is None else [i for i in named if i in of_citizen]

    def erase_citizen(
        self, citizen_ref: str, *, municipality: str, actor: str, reason: str = ""
    ) -> dict[str, Any]:
        """Crypto-erase what ``municipality`` holds about a citizen: destroy their data key of that
        municipality, so that ``citizen_ref``, ``case_ref`` and ``purpose`` of its referrals for them
        read as ``"erased"`` everywhere from now on; suppliers, prices, spending and decisions stay,
        and so do the citizen's referrals in any other municipality (another key). The key row is
        physically purged (see ``application.storage.citizen_keys``) and the erasure recorded without
        personal data.

        The answer is the same whether or not the citizen is known elsewhere. Referrals sealed with
        a shared key of the old form are withheld instead while another municipality's referral
        needs that key (see ``application.privacy.envelopes``). Erasing again answers the earlier
        erasure (``already_erased``). A citizen with no referral in ``municipality``: ``NotFound``.
        """
        ref = citizen_ref.strip()
        if not ref:
            raise InvalidInput("blank-text", "citizen_ref must not be blank", field="citizen_ref")
        if ref in reason:
            msg = "the reason must not contain the citizen_ref: it is kept after the erasure"
            raise InvalidInput("personal-data-in-reason", msg, field="reason")
        try:
            blind = self.keyring.master.blind_index(ref, municipality)
            own = self.citizen_keys.find_key(blind)
            shared = self.citizen_keys.find_key(self.keyring.master.legacy_blind_index(ref))
            shared_referrals = (
                [i for i, k in self._citizen_referrals(ref, municipality) if k == shared[0]] if shared else []
            )
            if own is None and not shared_referrals:
                earlier = self._earlier_erasure(ref, municipality)
                if earlier is None:
                    raise NotFound("citizen-not-found", "no referral was filed for this citizen_ref")
                # Purge again: an earlier purge may have been held up by an old transaction.
                purged = self.citizen_keys.purge()
                self._erased(earlier.referral_ids)
                return {**earlier.as_dict(), "already_erased": True, "purged": purged}
            own_key = None if own is None else own[0]
            record = ErasureRecord(
                erasure_id=str(uuid4()),
                key_id=own_key or (shared[0] if shared else ""),
                referral_ids=[],
                erased_at=datetime.now(UTC).isoformat(),
                actor=actor,
                reason=reason.strip(),
                municipality=municipality,
            )
            erased = self.citizen_keys.erase(
                record,
                blind,
                own_key=own_key,
                shared_key=shared[0] if shared_referrals and shared else None,
                shared_referrals=shared_referrals,
            )
            if erased is None:  # a concurrent erasure was first
                return self.erase_citizen(ref, municipality=municipality, actor=actor, reason=reason)
            purged = self.citizen_keys.purge()
        except (OperationalError, InterfaceError) as error:
            raise StorageUnavailable(str(error)) from error
        self._erased(erased.referral_ids)
        return {**erased.as_dict(), "already_erased": False, "purged": purged}

    def _earlier_erasure(self, ref: str, municipality: str) -> ErasureRecord | None:
        """The last erasure of the citizen by ``municipality``; or one made before the keys per
        municipality (of every municipality's referrals), narrowed to that municipality's."""
        earlier = self.citizen_keys.last_erasure(self.keyring.master.blind_index(ref, municipality))
        if earlier is not None:
            return earlier
        old = self.citizen_keys.last_erasure(self.keyring.master.legacy_blind_index(ref))
        if old is None or old.municipality is not None:
            return None
        mine = [i for i in old.referral_ids if self.municipalities.of(UUID(i)) == municipality]
        return replace(old, referral_ids=mine) if mine else None

    def erasures(self) -> list[dict[str, Any]]:
        """Every erasure recorded, oldest first (no personal data)."""
        return [record.as_dict() for record in self.citizen_keys.erasures()]
