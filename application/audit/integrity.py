"""The auditor's reads of the store itself: the hash chains recomputed, and a referral's trail.

Both read the stored events (not the projections), so an altered event still shows, flagged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import InterfaceError, Mapper, OperationalError, StoredEvent

from application.audit.chain import verify, verify_stream
from application.audit.receipts import issue, signature_problem
from application.audit.signing_key import SigningKey
from application.audit.trail import trail_entries
from application.errors import StorageUnavailable
from application.storage import KeyedRecorder
from application.storage.chain_links import GENESIS, StoredRow
from application.storage.municipalities import Municipalities
from domain.errors import NotFound, RuleViolation
from domain.own_cost import OwnCosts
from domain.referral import Referral


@dataclass
class Audit:
    """Integrity checks and decision trails, read from the stored events."""

    recorder: KeyedRecorder
    mapper: Mapper[UUID]
    """Opens personal fields (a trail shows them to an auditor entitled to the referral)."""
    sealed_mapper: Mapper[UUID]
    municipalities: Municipalities

    def verify_integrity(
        self,
        *,
        batch_size: int = 2000,
        max_problems: int = 1000,
        anchor: tuple[int, str] | None = None,
        municipality: str | None = None,
    ) -> dict[str, Any]:
        """Recompute both hash chains over every stored event (see ``application.audit.chain``):
        ``{ok, checked, chained, problem_count, problems, problems_elsewhere, head, anchor}``;
        ``anchor`` is a head exported earlier, ``(position, global_hash)``, that the recomputed chain
        must still pass. ``municipality``: count and name only the streams of that municipality's
        referrals and the (shared) suppliers'; of the others' problems say only how many there are. A
        stream whose first event cannot be read any more cannot be placed: it counts as elsewhere."""
        scope = None if municipality is None else self._streams_of(municipality)
        try:
            found = verify(
                self.recorder,
                batch_size=batch_size,
                max_problems=max_problems,
                anchor=anchor,
                scope=scope,
            )
            return found.as_dict()
        except (OperationalError, InterfaceError) as error:
            raise StorageUnavailable(str(error)) from error

    def receipt(self, key: SigningKey) -> dict[str, Any]:
        """A signed receipt of the global chain's head (``application.audit.receipts``), issued only for a
        chain that verifies: a receipt vouches for every event up to its head."""
        found = self.verify_integrity()
        if not found["ok"]:
            msg = (
                f"the hash chains do not verify ({found['problem_count']} problems): no receipt is "
                "issued for them; see GET /audit/verify"
            )
            raise RuleViolation("chain-not-intact", msg)
        head = found["head"]
        return issue(head["position"], head["global_hash"], self._recorded_at(head["position"]), key)

    def _recorded_at(self, position: int) -> datetime | None:
        """When the event at ``position`` was recorded (None: no event there)."""
        try:
            rows = self.recorder.chain_rows_by_position(position - 1, position, 1)
            if not rows:
                return None
            stored = self.recorder.select_events(
                rows[0].originator_id, gt=rows[0].version - 1, lte=rows[0].version
            )
        except (OperationalError, InterfaceError) as error:
            raise StorageUnavailable(str(error)) from error
        if not stored:
            return None
        timestamp: datetime = cast(Any, self.sealed_mapper.to_domain_event(stored[0])).timestamp
        return timestamp

    def check_receipt(self, receipt: dict[str, Any], public_key: bytes) -> str | None:
        """Why ``receipt`` no longer holds (None: it does): it must be signed by ``public_key``, the
        recomputed chain must still pass through its head, and no stored event may be altered,
        removed or reordered since."""
        reason = signature_problem(receipt, public_key)
        if reason is not None:
            return reason
        try:
            anchor = (int(receipt["position"]), str(receipt["chain_head"]))
        except (TypeError, ValueError):
            return "not a receipt: position is not a number"
        if anchor == (0, GENESIS.hex()):  # a receipt of the empty store: every chain starts there
            found = self.verify_integrity()
        else:
            found = self.verify_integrity(anchor=anchor)
        if found["anchor"] is not None and not found["anchor"]["ok"]:
            return f"the chain no longer holds {anchor[1]} at position {anchor[0]}"
        if not found["ok"]:
            return f"the hash chains do not verify: {found['problem_count']} problems (see caseledger audit verify)"
        return None

    def _streams_of(self, municipality: str) -> Callable[[UUID, StoredRow | None], bool]:
        """Whether a stream is ``municipality``'s referral or own costs, or a supplier, from its first
        stored event when the verifier read it (no further read), else from ``referral_municipality``."""
        own_costs = OwnCosts.id_for(municipality)  # each municipality's own costs have an id of their own

        def sees(stream_id: UUID, first: StoredRow | None) -> bool:
            if stream_id == own_costs:
                return True
            if first is not None:
                if first.topic.startswith(f"{OwnCosts.TOPIC}."):
                    return False
                if not first.topic.startswith(f"{Referral.TOPIC}."):
                    return True  # suppliers are shared by every municipality
                try:
                    event = self.sealed_mapper.to_domain_event(
                        StoredEvent(stream_id, first.version, first.topic, first.state)
                    )
                except Exception:  # altered bytes fail in many ways: then place it by its id
                    event = None
                if isinstance(event, Referral.Referred):
                    return str(event.municipality) == municipality
            return self.municipalities.of(stream_id) == municipality

        return sees

    def referral_trail(self, referral_id: UUID) -> dict[str, Any]:
        """The referral's decision trail and the integrity of its stream.

        Read from the stored events themselves, so an altered event still shows (flagged)."""
        try:
            stored = list(self.recorder.select_events(referral_id))
            if not stored or not (stored[0].topic or "").startswith(f"{Referral.TOPIC}."):
                msg = f"no referral with id {referral_id}"
                raise NotFound("referral-not-found", msg)
            integrity = verify_stream(self.recorder, referral_id).as_dict()
        except (OperationalError, InterfaceError) as error:
            raise StorageUnavailable(str(error)) from error
        entries = trail_entries(stored, self.mapper, integrity["problems"])
        return {"referral_id": str(referral_id), "entries": entries, "integrity": integrity}
