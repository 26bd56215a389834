"""Aggregates a process keeps from one batch to the next, so that the next batch naming them need
not read and replay their events again.

A case system sends history in business-date order, so one referral's lifecycle spans several
batches of ``POST /events``: without this, every batch read back most of the referrals the one
before it had written (a large share of the API's CPU for ``POST /events``; figures:
docs/benchmarks.md). A kept copy is only used
when the batch's up-front query (``stream_versions``, which it makes anyway) finds it at the last
stored version, so a write by another process or request since simply means a normal load.

A copy has one owner at a time: a batch *takes* it (it leaves the store), changes it, and *puts* it
back once its events are stored. Personal fields are withheld from a kept copy (commands never
read them), so no plaintext outlives the request that carried it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from uuid import UUID

from eventsourcing.domain import Aggregate

from application.privacy.envelopes import withhold_personal_fields

KEPT_AGGREGATES = 5_000
"""The most aggregates a process keeps (the oldest go first): a bound on the memory they take."""


class KeptAggregates:
    """A bounded, thread-safe store of aggregates as last stored, each taken by one batch at a time."""

    def __init__(self, limit: int = KEPT_AGGREGATES) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._kept: dict[UUID, Aggregate] = {}

    def take(self, aggregate_id: UUID, version: int) -> Aggregate | None:
        """The kept copy of ``aggregate_id`` if it is at ``version`` (the last stored one); a copy
        at any other version is stale and dropped."""
        with self._lock:
            kept = self._kept.pop(aggregate_id, None)
        return kept if kept is not None and kept.version == version else None

    def put(self, aggregates: Iterable[Aggregate]) -> None:
        """Keep ``aggregates``, which must be exactly as stored (no pending events)."""
        fresh = []
        for aggregate in aggregates:
            if aggregate.pending_events:
                continue
            withhold_personal_fields(aggregate)
            fresh.append(aggregate)
        with self._lock:
            for aggregate in fresh:
                self._kept.pop(aggregate.id, None)
                self._kept[aggregate.id] = aggregate
            while len(self._kept) > self.limit:
                del self._kept[next(iter(self._kept))]
