"""The one write path: load → decide → save, with claims, retries and batches.

Every command (``application.service.commands``), from a route or a batch item, runs through
``WritePath.execute``: replay an earlier identical request (its claim), load the aggregate (sealed:
rules never read personal fields), read the supplier the command needs, call the aggregate's
command, and save its events with the request's claims in one transaction. A lost race on the
aggregate's version is retried on fresh state unless the client named the version it expected
(then 412). In a batch (``application.service.batch``), the same steps read the batch's session and leave
the events to its flush.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Repository
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError

from application.errors import IdempotencyKeyReused, StorageUnavailable, VersionMismatch
from application.keys import Claim, earlier_event_key, event_key, is_event_key
from application.service.commands import CHOSEN, MATCHED, CommandType
from application.service.context import WriteContext, WriteResult
from application.service.kept_aggregates import KeptAggregates
from application.service.replay import replay
from application.storage import KeyedRecorder
from application.storage.municipalities import Municipalities
from domain.errors import NotFound, RuleViolation
from domain.referral import Referral
from domain.supplier import Supplier

if TYPE_CHECKING:
    from application.keys import StoredClaim
    from application.service.batch import BatchSession

CONFLICT_RETRIES = 5
READ_COPIES = 10_000
"""The most aggregates kept for commands that only read them (see ``WritePath.read_only``)."""
A = TypeVar("A", bound=Aggregate)


def of_kind(kind: type[A], aggregate_id: UUID, aggregate: Aggregate | None) -> A:
    """``aggregate`` if it is a ``kind``; else NotFound, as for no aggregate at all."""
    if not isinstance(aggregate, kind):
        label = kind.__name__.lower()
        msg = f"no {label} with id {aggregate_id}"
        raise NotFound(f"{label}-not-found", msg)
    return aggregate


@dataclass
class WritePath:
    """Runs commands against the store; owns the batch session of each thread and the caches of
    aggregates that commands read or that batches leave behind."""

    save: Callable[..., Any]
    keyed_recorder: KeyedRecorder
    repository: Repository[UUID]
    sealed_repository: Repository[UUID]
    municipalities: Municipalities
    kept: KeptAggregates = field(default_factory=KeptAggregates)
    """Aggregates batches wrote or read, for the next batch (``application.service.kept_aggregates``)."""
    _batch: threading.local = field(default_factory=threading.local)
    _read_copies: dict[UUID, Aggregate] = field(default_factory=dict)

    # -- the command ---------------------------------------------------------------------------

    def execute(
        self,
        command: CommandType,
        target: UUID | None,
        arguments: Mapping[str, Any],
        *,
        actor: Mapping[str, str | None],
        context: WriteContext,
    ) -> WriteResult:
        """Run ``command`` on the aggregate ``target`` (for a creating command: the new id, or None
        for a fresh one) with the request's ``arguments``, recorded as decided by ``actor``."""
        args = {command.renamed.get(name, name): value for name, value in arguments.items()}
        args["decided_by"] = actor
        args["origin"] = context.origin()
        if command.creates:
            new_id = target or uuid4()
            args[command.target] = new_id
            claims: list[tuple[str, str]] = []
            taken: Callable[[], RuleViolation] | None = None
            if command.unique is not None:
                value = args[command.unique.argument]
                claims.append((command.unique.key(value), str(new_id)))
                taken = partial(self._taken, command, value)

            def create() -> Aggregate:
                self._ensure_new(new_id)
                if taken is not None and self.find_claim(claims[0][0]) is not None:
                    raise taken()
                created: Aggregate = getattr(command.aggregate, command.method)(**args)
                return created

            result = self._write(context, create, unique=claims, on_conflict=taken)
            if command.aggregate is Referral and self.session is None:
                # committed (a batch's writes may yet lose their race)
                self.municipalities.remember(UUID(result.id), args["municipality_code"])
            return result
        if command.per is not None:
            target = command.aggregate.id_for(arguments[command.per])  # type: ignore[attr-defined]
        assert target is not None

        def decide() -> Aggregate:
            aggregate = self._existing_or_started(command, target, arguments, context)
            call = dict(args)
            if command.supplier == CHOSEN:
                call["supplier"] = self._registered_supplier(call.pop("supplier_id"), "supplier_id")
                for i, candidate in enumerate(call["candidates"]):
                    self._registered_supplier(candidate["supplier_id"], f"candidates[{i}].supplier_id")
            elif command.supplier == MATCHED:
                call["supplier"] = self._matched_supplier(aggregate)
            getattr(aggregate, command.method)(**call)
            return aggregate

        return self._write(context, decide)

    def _taken(self, command: CommandType, value: str) -> RuleViolation:
        assert command.unique is not None
        claim = self.find_claim(command.unique.key(value))
        owner = claim.fingerprint if claim else f"another {command.kind}"
        msg = command.unique.message.format(value=value, owner=owner)
        return RuleViolation(command.unique.problem, msg, field=command.unique.argument)

    def _write(
        self,
        context: WriteContext,
        decide: Callable[[], Aggregate],
        *,
        unique: Sequence[tuple[str, str]] = (),
        on_conflict: Callable[[], Exception] | None = None,
    ) -> WriteResult:
        """Run ``decide`` (which loads, checks and mutates) and save its events with the claims.

        Any ``unique`` key (with its owner) already taken by a concurrent request is answered as that
        request's replay, or by ``on_conflict``.
        """
        try:
            earlier = self._replay(context)
            if earlier is not None:
                return earlier
            for _ in range(CONFLICT_RETRIES):
                aggregate = decide()
                # what json.dumps({"id": …, "version": …}) gives, without its encoder per command
                result = f'{{"id": "{aggregate.id}", "version": {aggregate.version}}}'
                claims = [Claim(key, context.fingerprint, result) for key in self._request_keys(context)]
                claims += [Claim(key, owner, result) for key, owner in unique]
                session = self.session
                if session is not None:
                    return session.write(aggregate, claims)
                try:
                    recordings = self.save(aggregate, claims=claims)
                except IntegrityError:
                    earlier = self._replay(context)
                    if earlier is not None:
                        return earlier
                    if on_conflict is not None and any(self.keyed_recorder.find_claim(k) for k, _ in unique):
                        raise on_conflict() from None
                    if context.expected_version is not None:
                        raise self._moved_on(aggregate.id, context.expected_version) from None
                    continue
                return WriteResult(str(aggregate.id), aggregate.version, recordings[-1].notification.id)
        except (OperationalError, InterfaceError) as error:
            raise StorageUnavailable(str(error)) from error
        msg = "the aggregate kept changing under this command; try again"
        raise RuleViolation("concurrent-update", msg)

    @staticmethod
    def _moved_on(aggregate_id: UUID, expected: int) -> VersionMismatch:
        msg = f"If-Match expected version {expected} of {aggregate_id}, which has moved on"
        return VersionMismatch("version-mismatch", msg)

    # -- replays -------------------------------------------------------------------------------

    def _replay(self, context: WriteContext) -> WriteResult | None:
        """The earlier answer to this very request, if there was one."""
        for key in self._request_keys(context):
            claim = self.find_claim(key)
            if claim is None and context.event_id and is_event_key(key):
                claim = self._earlier_event_claim(context.event_id, context.event_scope)
            if claim is None:
                continue
            if not context.fingerprinted_as(claim.fingerprint):
                what = "event_id" if is_event_key(key) else "Idempotency-Key"
                msg = f"this {what} was already used for a different request"
                raise IdempotencyKeyReused("idempotency-key-reused", msg)
            stored = json.loads(claim.result)
            aggregate_id = UUID(stored["id"])
            position = self.position_of(aggregate_id, stored["version"]) or 0
            return WriteResult(stored["id"], stored["version"], position, replayed=True)
        return None

    def _earlier_event_claim(self, event_id: str, scope: str) -> StoredClaim | None:
        """The claim of ``event_id`` stored before ids were scoped, if it belongs to ``scope``: it
        claimed a referral of that municipality, or a supplier (shared by all municipalities, and
        its events' ids shown to every token's feed). Another municipality's answers as no claim."""
        claim = self.find_claim(earlier_event_key(event_id))
        if claim is None:
            return None
        aggregate_id = UUID(json.loads(claim.result)["id"])
        municipality = self.municipalities.of(aggregate_id)
        if municipality is not None:
            return claim if municipality == scope else None
        try:
            first = list(self.sealed_repository.event_store.get(aggregate_id, lte=1))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        return claim if first and isinstance(first[0], Supplier.Registered) else None

    @staticmethod
    def _request_keys(context: WriteContext) -> list[str]:
        keys = []
        if context.idempotency_key:
            # Scoped to the requester: two case systems may pick the same key without colliding.
            scope = hashlib.sha256(context.requester.encode()).hexdigest()[:32] if context.requester else "-"
            keys.append(f"idempotency:{scope}:{context.idempotency_key}")
        if context.event_id:
            # Scoped to the municipality the item concerns (docs/idempotency.md).
            keys.append(event_key(context.event_scope, context.event_id))
        return keys

    # -- the batch session ---------------------------------------------------------------------

    @contextmanager
    def batch_session(self, session: BatchSession | None) -> Iterator[None]:
        """Run this thread's commands in ``session`` (see ``application.service.batch``): they read its
        aggregates and claims and leave their events to its flush instead of saving them."""
        previous = getattr(self._batch, "session", None)
        self._batch.session = session
        try:
            yield
        finally:
            self._batch.session = previous

    @property
    def session(self) -> BatchSession | None:
        session: BatchSession | None = getattr(self._batch, "session", None)
        return session

    def find_claim(self, key: str) -> StoredClaim | None:
        session = self.session
        return session.find_claim(key) if session is not None else self.keyed_recorder.find_claim(key)

    def position_of(self, aggregate_id: UUID, version: int) -> int | None:
        session = self.session
        if session is not None:
            return session.position_of(aggregate_id, version)
        return self.keyed_recorder.position_of(aggregate_id, version)

    # -- loading -------------------------------------------------------------------------------

    def get(self, aggregate_id: UUID, version: int | None = None, *, sealed: bool = False) -> Aggregate:
        """The aggregate (the batch's own state of it, in a batch); AggregateNotFoundError."""
        session = self.session
        if session is not None and version is None:
            return session.load(aggregate_id)
        repository = self.sealed_repository if sealed else self.repository
        aggregate: Aggregate = repository.get(aggregate_id, version=version, projector_func=replay)
        return aggregate

    def load(
        self, kind: type[A], aggregate_id: UUID, version: int | None = None, *, sealed: bool = False
    ) -> A:
        try:
            aggregate: Aggregate | None = self.get(aggregate_id, version, sealed=sealed)
        except AggregateNotFoundError:
            aggregate = None
        return of_kind(kind, aggregate_id, aggregate)

    def _existing(self, kind: type[A], aggregate_id: UUID, context: WriteContext) -> A:
        # A command's rules never read the personal fields: load it sealed, without the citizen's
        # data key (a read and an unwrap less per command).
        aggregate = self.load(kind, aggregate_id, sealed=True)
        if context.expected_version is not None and aggregate.version != context.expected_version:
            msg = (
                f"If-Match expected version {context.expected_version} of {aggregate_id}, "
                f"but it is at version {aggregate.version}"
            )
            raise VersionMismatch("version-mismatch", msg)
        return aggregate

    def _existing_or_started(
        self, command: CommandType, target: UUID, arguments: Mapping[str, Any], context: WriteContext
    ) -> Aggregate:
        """The aggregate the command runs on; for a command ``per`` a value, one started for it
        when none is stored yet (saved with the command's events, or not at all)."""
        if command.per is None:
            return self._existing(command.aggregate, target, context)
        try:
            return self._existing(command.aggregate, target, context)
        except NotFound:
            started: Aggregate = command.aggregate.start(target, arguments[command.per])  # type: ignore[attr-defined]
            return started

    def _ensure_new(self, aggregate_id: UUID) -> None:
        try:
            self.get(aggregate_id)
        except AggregateNotFoundError:
            return
        msg = f"an aggregate with id {aggregate_id} already exists"
        raise RuleViolation("already-exists", msg, field="id")

    def read_only(self, kind: type[A], aggregate_id: UUID) -> A:
        """An aggregate that a command only reads (a supplier, for a match or a price agreement).

        A copy kept from an earlier load serves while no event has been stored for it since: one
        query for at most one row, instead of reading and replaying all its events (a large share
        of the CPU of ``POST /events``; figures: docs/benchmarks.md). A kept copy is never handed to a command that writes it. In a
        batch, the batch's own state of the aggregate comes first, and a copy checked once serves
        the rest of the batch (suppliers as of the batch's start, or of its own writes); a batch
        checks all kept copies in one query."""
        session = self.session
        if session is not None and aggregate_id in session.aggregates:
            return self.load(kind, aggregate_id)
        kept = self._read_copies.get(aggregate_id)
        if isinstance(kept, kind):
            if session is not None:
                if not session.copies_checked:
                    self._check_read_copies(session)
                if aggregate_id in session.checked:
                    return kept
            elif not self.keyed_recorder.select_events(aggregate_id, gt=kept.version, limit=1):
                return kept
        try:
            found: Aggregate | None = self.sealed_repository.get(aggregate_id, projector_func=replay)
        except AggregateNotFoundError:
            found = None
        loaded = of_kind(kind, aggregate_id, found)
        if len(self._read_copies) >= READ_COPIES:
            self._read_copies.clear()
        self._read_copies[aggregate_id] = loaded
        if session is not None:
            session.checked.add(aggregate_id)
        return loaded

    def _check_read_copies(self, session: BatchSession) -> None:
        """Mark in ``session`` every kept read-only copy still at its last stored version: one
        query for a batch's suppliers, instead of one per supplier it reads."""
        copies = list(self._read_copies.items())
        versions = self.keyed_recorder.stream_versions([aggregate_id for aggregate_id, _ in copies])
        session.checked.update(i for i, copy in copies if versions.get(i) == copy.version)
        session.copies_checked = True

    def _registered_supplier(self, supplier_id: UUID, field: str) -> Supplier:
        try:
            return self.read_only(Supplier, supplier_id)
        except NotFound:
            msg = f"{field} {supplier_id} is not a registered supplier"
            raise RuleViolation("supplier-not-registered", msg, field=field) from None

    def _matched_supplier(self, referral: Aggregate) -> Supplier | None:
        """The matched supplier; None before matching (the domain then refuses the command)."""
        supplier_id = referral.supplier_id if isinstance(referral, Referral) else None
        return self.read_only(Supplier, supplier_id) if supplier_id else None
