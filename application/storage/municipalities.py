"""Which municipality a referral belongs to: fixed when it is filed, so safe to remember.

Every access check on a referral asks this (a scoped token sees only its own municipality's), so the
answer comes from memory when this process filed or looked up the referral before, from the batch
being run, or from the referral's first stored event (one read).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import EventStore, InterfaceError, OperationalError

from application.errors import StorageUnavailable
from application.storage import KeyedRecorder
from domain.referral import Referral

MUNICIPALITY_CACHE = 100_000


class Municipalities:
    """The municipality of each referral, remembered (a bounded number of them)."""

    def __init__(
        self,
        sealed_events: EventStore[UUID],
        recorder: KeyedRecorder,
        batch_aggregates: Callable[[], Mapping[UUID, Aggregate | None] | None],
    ) -> None:
        self.sealed_events = sealed_events
        self.recorder = recorder
        self.batch_aggregates = batch_aggregates
        """The aggregates of the batch this thread is running, if any."""
        self._known: dict[UUID, str] = {}

    def remembered(self, referral_id: UUID) -> str | None:
        """The municipality of a referral this process has filed or looked up before, without any
        I/O; None when it has not (then ``of`` finds out)."""
        return self._known.get(referral_id)

    def remember(self, referral_id: UUID, municipality: str) -> None:
        if len(self._known) >= MUNICIPALITY_CACHE:
            self._known.clear()
        self._known[referral_id] = municipality

    def of(self, referral_id: UUID) -> str | None:
        """The municipality a referral was filed for, or None when there is no such referral or its
        first event cannot be read (so access checks fail closed)."""
        known = self._known.get(referral_id)
        if known is not None:
            return known
        in_batch = self.batch_aggregates()
        if in_batch is not None and in_batch.get(referral_id) is not None:
            cached = in_batch[referral_id]
            return str(cached.municipality) if isinstance(cached, Referral) else None
        try:
            first = list(self.sealed_events.get(referral_id, lte=1))
        except (OperationalError, InterfaceError) as error:
            raise StorageUnavailable(str(error)) from error
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        if first and isinstance(first[0], Referral.Referred):
            self.remember(referral_id, str(first[0].municipality))
            return str(first[0].municipality)
        return None

    def learn(self, referral_ids: Sequence[UUID]) -> None:
        """Read, in one query, the municipality of each of ``referral_ids`` not remembered yet (for
        ``remembered``; a batch's items on referrals filed before it)."""
        unknown = [i for i in referral_ids if i not in self._known]
        if not unknown:
            return
        try:
            stored = self.recorder.first_events(unknown)
        except (OperationalError, InterfaceError) as error:
            raise StorageUnavailable(str(error)) from error
        for event in stored:
            if not event.topic.startswith(f"{Referral.TOPIC}."):
                continue
            try:
                first = self.sealed_events.mapper.to_domain_event(event)
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
            if isinstance(first, Referral.Referred):
                self.remember(first.originator_id, str(first.municipality))
