"""Batch ingestion: many items, each accepted or rejected on its own, committed many at a time.

``POST /events`` and ``caseledger import`` apply items in order, and each item behaves exactly as
the single request would (its checks see the items accepted before it). Committing every item in a
transaction of its own costs a database round trip or five per item, so a batch runs its items in a
:class:`BatchSession` instead:

- aggregates are loaded once and kept in memory across the batch; an accepted item's events are
  collected rather than saved, with its claims (``event/…``, ``idempotency:…``, ``cvr:…``); at
  the end they are handed to the process's ``KeptAggregates``, where the next batch finds those
  still at their last stored version (``application.service.kept_aggregates``);
- claims already stored for the batch's keys, and which of its aggregates exist, are read in one
  query each at the start; claims pending in the batch answer repeats within it;
- every ``flush_events`` events (and at the end) the pending events, their claims and chain rows
  are saved in ONE transaction. So after a crash each item is either stored with its claim or not at
  all, and a resend answers ``duplicate`` for the stored ones. Saves stay chunked: psycopg's pipeline
  mode, which eventsourcing uses on PostgreSQL, was seen to hang on one save of ~10,000 events.

If a flush loses a race (a concurrent request wrote one of the aggregates, or claimed one of the
keys, after the batch read it), nothing of that chunk is stored; the session forgets what it knew
and runs the chunk's items again one by one, each in its own transaction, as the single requests
would run (a replay, a retry on fresh state, or a 412 for a named ``expected_version``).
Suppliers read by referral commands (a match, a price agreement) are those of the batch's start or
of the batch's own writes: a concurrent price-list change becomes visible with the next batch.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError

from application.errors import StorageUnavailable
from application.keys import Claim, StoredClaim
from application.service.context import WriteResult
from application.service.kept_aggregates import KeptAggregates
from application.service.replay import replay
from application.storage import KeyedRecorder


class Writer(Protocol):
    """What a batch needs of the write path (``application.service.write_path.WritePath``)."""

    @property
    def keyed_recorder(self) -> KeyedRecorder: ...
    @property
    def sealed_repository(self) -> Repository[UUID]: ...
    @property
    def kept(self) -> KeptAggregates: ...
    def save(self, *objs: Any, **kwargs: Any) -> Any: ...

    def batch_session(self, session: BatchSession | None) -> AbstractContextManager[None]: ...


PENDING = -1
"""The position of a write that is not flushed yet."""
DEFAULT_FLUSH_EVENTS = 500

R = TypeVar("R")


class BatchSession:
    """What one batch knows beyond the database: cached aggregates, pending events and claims."""

    def __init__(self, writes: Writer, *, max_cached: int = 5_000) -> None:
        self.writes = writes
        self.max_cached = max_cached
        self.aggregates: dict[UUID, Aggregate | None] = {}
        self.claims: dict[str, StoredClaim | None] = {}
        self.pending_events: list[Any] = []
        self.pending_claims: list[Claim] = []
        self.pending_keys: dict[str, StoredClaim] = {}
        self.positions: dict[tuple[UUID, int], int] = {}
        self.touched: set[UUID] = set()
        self.checked: set[UUID] = set()
        """Aggregates whose kept read-only copy was found current in this batch."""
        self.copies_checked = False
        """Whether the kept read-only copies were checked against the store (once per batch)."""

    def prefetch(self, keys: Iterable[str], aggregate_ids: Iterable[UUID]) -> None:
        """Read, in one query each, which of ``keys`` are claimed and which aggregates exist."""
        recorder = self.writes.keyed_recorder
        if not self.pending_keys:
            # Between batches (an import's chunks) only this batch's keys are worth keeping: a key
            # of an earlier batch that comes again is looked up in the database (so is a position).
            self.claims = {}
            self.positions = {}
        wanted_keys = sorted(set(keys) - self.claims.keys() - self.pending_keys.keys())
        if wanted_keys:
            found = recorder.find_claims(wanted_keys)
            self.claims.update({key: found.get(key) for key in wanted_keys})
            # A claimed key answers with the position of the write it claimed: read them all now
            # (a resent batch, or an import run again, is all duplicates: one query, not one each).
            results = (json.loads(claim.result) for claim in found.values())
            if claimed := {(UUID(r["id"]), r["version"]) for r in results} - self.positions.keys():
                self.positions.update(recorder.positions_of(sorted(claimed)))
        wanted_ids = sorted(set(aggregate_ids) - self.aggregates.keys())
        if wanted_ids:
            versions = recorder.stream_versions(wanted_ids)
            for aggregate_id in wanted_ids:
                if aggregate_id not in versions:
                    self.aggregates[aggregate_id] = None
                elif (kept := self.writes.kept.take(aggregate_id, versions[aggregate_id])) is not None:
                    self.aggregates[aggregate_id] = kept

    # -- reads the CaseLedger makes through the session ----------------------------------------

    def load(self, aggregate_id: UUID) -> Aggregate:
        """The aggregate as this batch has it (raises ``AggregateNotFoundError`` when none)."""
        self.touched.add(aggregate_id)
        if aggregate_id in self.aggregates:
            aggregate = self.aggregates[aggregate_id]
            if aggregate is None:
                raise AggregateNotFoundError(aggregate_id)
            return aggregate
        try:
            # Sealed, as single commands load them: their rules never read the personal fields, and
            # opening them cost a data-key read per referral.
            loaded: Aggregate = self.writes.sealed_repository.get(aggregate_id, projector_func=replay)
        except AggregateNotFoundError:
            self.aggregates[aggregate_id] = None
            raise
        self.aggregates[aggregate_id] = loaded
        return loaded

    def find_claim(self, key: str) -> StoredClaim | None:
        if key in self.pending_keys:
            return self.pending_keys[key]
        if key in self.claims:
            return self.claims[key]
        found = self.writes.keyed_recorder.find_claim(key)
        self.claims[key] = found
        return found

    def position_of(self, aggregate_id: UUID, version: int) -> int | None:
        if (aggregate_id, version) in self.positions:
            return self.positions[(aggregate_id, version)]
        for event in self.pending_events:
            if event.originator_id == aggregate_id and event.originator_version == version:
                return PENDING
        return self.writes.keyed_recorder.position_of(aggregate_id, version)

    # -- the write -----------------------------------------------------------------------------

    def write(self, aggregate: Aggregate, claims: Sequence[Claim]) -> WriteResult:
        """Keep a command's events and claims for the flush (instead of saving them now)."""
        events = aggregate.collect_events()
        self.aggregates[aggregate.id] = aggregate
        self.checked.discard(aggregate.id)  # a copy kept from before this write is not current
        self.pending_events.extend(events)
        for claim in claims:
            self.pending_claims.append(claim)
            self.pending_keys[claim.key] = StoredClaim(claim.key, claim.fingerprint, claim.result)
        return WriteResult(str(aggregate.id), aggregate.version, PENDING)

    def discard_partial(self) -> bool:
        """After a rejected item: True if it left uncollected events on an aggregate (then that
        aggregate's cached state is suspect and the caller flushes and forgets it)."""
        dirty = False
        for aggregate_id in self.touched:
            aggregate = self.aggregates.get(aggregate_id)
            if aggregate is not None and aggregate.pending_events:
                aggregate.collect_events()
                dirty = True
        return dirty

    def flush(self) -> None:
        """Save the pending events with their claims and chain rows in one transaction."""
        if not self.pending_events and not self.pending_claims:
            return
        recordings = self.writes.save(*self.pending_events, claims=self.pending_claims)
        for recording in recordings:
            event = recording.domain_event
            self.positions[(event.originator_id, event.originator_version)] = recording.notification.id
        self.claims.update(self.pending_keys)
        self.clear_pending()
        # Bounded memory for long imports: what is dropped is read again from the database.
        if len(self.aggregates) > self.max_cached:
            self.aggregates = {}
        if len(self.claims) > 10 * self.max_cached:
            self.claims = {}

    def clear_pending(self) -> None:
        self.pending_events = []
        self.pending_claims = []
        self.pending_keys = {}

    def forget(self) -> None:
        """Drop everything read before: the next reads go to the database."""
        self.clear_pending()
        self.aggregates = {}
        self.claims = {}
        self.checked = set()
        self.copies_checked = False


def iter_batch(
    writes: Writer,
    items: Sequence[Callable[[], WriteResult | R]],
    *,
    keys: Iterable[str] = (),
    aggregate_ids: Iterable[UUID] = (),
    flush_events: int | None = None,
    session: BatchSession | None = None,
) -> Iterator[WriteResult | R]:
    """Run ``items`` in order in one session, yielding each chunk's results once the chunk is
    stored. Each item returns a ``WriteResult`` (accepted or replayed) or its own rejection value,
    and may raise only what the whole batch should fail with (chunks flushed before stay stored).

    ``keys`` and ``aggregate_ids`` (the batch's claim keys and targets) are read up front, in bulk.
    Pass the same ``session`` to successive calls (e.g. an import's chunks) to keep what it has read."""
    owned = session is None
    session = session or BatchSession(writes)
    try:
        session.prefetch(keys, aggregate_ids)
    except (OperationalError, InterfaceError) as error:
        raise StorageUnavailable(str(error)) from error
    flush_at = flush_events or DEFAULT_FLUSH_EVENTS
    results: list[WriteResult | R] = []
    start = 0  # the first item not flushed yet

    def flush(upto: int) -> list[WriteResult | R]:
        nonlocal start, results
        try:
            session.flush()
        except (OperationalError, InterfaceError) as error:
            raise StorageUnavailable(str(error)) from error
        except IntegrityError:
            # Lost a race with a concurrent writer: nothing of this chunk was stored. Run its items
            # again, each on its own, as the single requests would.
            session.forget()
            results = [item() for item in items[start:upto]]
        done = [_resolved(result, session) for result in results]
        start, results = upto, []
        return done

    for index, item in enumerate(items):
        session.touched = set()
        with writes.batch_session(session):
            result = item()
        results.append(result)
        if session.discard_partial():
            yield from flush(index + 1)
            session.forget()
        elif len(session.pending_events) >= flush_at:
            yield from flush(index + 1)
    yield from flush(len(items))
    if owned:
        # Everything the session holds now is as stored: the next batch may start from it.
        writes.kept.put(a for a in session.aggregates.values() if a is not None)


def _resolved(result: WriteResult | R, session: BatchSession) -> WriteResult | R:
    """A pending write's result with the position its last event was stored at."""
    if isinstance(result, WriteResult) and result.position == PENDING:
        position = session.positions.get((UUID(result.id), result.version))
        if position is None:
            position = session.writes.keyed_recorder.position_of(UUID(result.id), result.version) or 0
        return dataclasses.replace(result, position=position)
    return result
