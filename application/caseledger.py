"""The caseledger Application: referral and supplier commands, reads by id, version and instant."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent, Repository
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    EventStore,
    IntegrityError,
    InterfaceError,
    JSONTranscoder,
    Mapper,
    OperationalError,
    Recording,
    StoredEvent,
)
from eventsourcing.utils import Environment

from application.access_log import AccessLog, open_access_log, utc_now
from application.audit import trail_entries
from application.chain import StoredRow, verify, verify_stream
from application.context import WriteContext, WriteResult
from application.errors import IdempotencyKeyReused, StorageUnavailable, VersionMismatch
from application.kept_aggregates import KeptAggregates
from application.keys import Claim, earlier_event_key, event_key, is_event_key
from application.privacy.citizen_keys import ErasureRecord, open_citizen_key_store
from application.privacy.keyring import PREPARED, Keyring
from application.privacy.master_key import resolve_master_key
from application.privacy.sealing_mapper import SealingMapper
from application.replay import replay
from application.storage.environment import ExplicitEnvironment, start_up_lock
from application.storage.postgres import PostgresKeyedRecorder
from application.storage.sqlite import SQLiteKeyedRecorder
from application.tokens import TokenStore, open_token_store
from application.transcodings import DateAsISO
from domain.errors import InvalidInput, NotFound, RuleViolation
from domain.referral import Referral
from domain.supplier import Supplier

if TYPE_CHECKING:
    from application.batch import BatchSession
    from application.keys import StoredClaim

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
CONFLICT_RETRIES = 5
MUNICIPALITY_CACHE = 100_000
READ_COPIES = 10_000
"""The most aggregates kept for commands that only read them (see ``CaseLedger._read_only``)."""
A = TypeVar("A", bound=Aggregate)


def _of_kind(kind: type[A], aggregate_id: UUID, aggregate: Aggregate | None) -> A:
    """``aggregate`` if it is a ``kind``; else NotFound, as for no aggregate at all."""
    if not isinstance(aggregate, kind):
        label = kind.__name__.lower()
        msg = f"no {label} with id {aggregate_id}"
        raise NotFound(f"{label}-not-found", msg)
    return aggregate


def _collect(objs: Sequence[Any]) -> list[Any]:
    """The events a save will store: aggregates' pending events (collected), and events as given."""
    events: list[Any] = []
    for obj in objs:
        if isinstance(obj, Aggregate):
            events.extend(obj.collect_events())
        elif obj is not None:
            events.append(obj)
    return events


def copenhagen_today() -> date:
    """Business dates are calendar dates in Europe/Copenhagen."""
    return datetime.now(COPENHAGEN).date()


class CaseLedger(Application[UUID]):
    """Stores referrals and suppliers as event-sourced aggregates in one notification log."""

    name = "caseledger"

    def __init__(self, env: Mapping[str, str] | None = None, *, clock: Callable[[], date] = copenhagen_today):
        """Open the store named by ``env`` (see ``application.storage.storage_env``), and by nothing
        else (``construct_env``); the master key comes from ``CASELEDGER_MASTER_KEY`` /
        ``CASELEDGER_MASTER_KEY_FILE`` in ``env`` or, under those two names only, the process
        environment (see ``application.personal_data.resolve_master_key``)."""
        with start_up_lock(self.construct_env(self.name, env)):
            super().__init__(env=dict(env or {}))
            self.today = clock
            self._subscribers: list[Callable[[int], None]] = []
            self._batch = threading.local()
            self._municipalities: dict[UUID, str] = {}
            self._read_copies: dict[UUID, Aggregate] = {}
            self.kept = KeptAggregates()
            """Aggregates batches wrote or read, for the next batch (``application.kept_aggregates``)."""
            sqlite = self.env.get("PERSISTENCE_MODULE") == "eventsourcing.sqlite"
            master = resolve_master_key(
                {
                    key: self.env.get(key) or os.environ.get(key, "")
                    for key in ("CASELEDGER_MASTER_KEY", "CASELEDGER_MASTER_KEY_FILE")
                },
                sqlite_path=self.env.get("SQLITE_DBNAME") if sqlite else None,
            )
            self.citizen_keys = open_citizen_key_store(self.keyed_recorder.datastore)
            self.keyring = Keyring(self.citizen_keys, master)
            for mapper in (self._revealing_mapper, self._sealed_mapper):
                mapper.keyring = self.keyring
            self.sealed_events = EventStore(mapper=self._sealed_mapper, recorder=self.recorder)
            """The events with their personal fields still sealed (what the projections are given)."""
            self.sealed_repository: Repository[UUID] = Repository(self.sealed_events)
            """Aggregates with their personal fields still sealed (what commands load)."""

    def construct_env(self, name: str, env: Mapping[str, str] | None = None) -> Environment:
        """The library's settings: ``env`` and the class's own, as eventsourcing takes them, but
        no process environment and no name prefix. eventsourcing's own adds the whole process
        environment and looks each setting up under ``CASELEDGER_`` first, so that a variable left
        on the machine (``POSTGRES_ENABLE_DB_FUNCTIONS``, ``CASELEDGER_POSTGRES_DBNAME``) would change
        the store, its tables or its insert path."""
        settings = dict(type(self).env)  # the class's own, as eventsourcing takes them (none now)
        if type(self).is_snapshotting_enabled or type(self).snapshotting_intervals:
            settings["IS_SNAPSHOTTING_ENABLED"] = "y"
        return ExplicitEnvironment(name, {**settings, **(env or {})})

    def construct_mapper(self) -> Mapper[UUID]:
        transcoder = self.construct_transcoder()
        self._sealed_mapper = SealingMapper(transcoder, reveal=False)
        self._revealing_mapper = SealingMapper(transcoder, reveal=True)
        return self._revealing_mapper

    def subscribe(self, callback: Callable[[int], None]) -> None:
        """Call ``callback(position)`` after each save (e.g. to wake an in-process projection runner)."""
        self._subscribers.append(callback)

    def _record_events(self, events: list[Any], **kwargs: Any) -> list[Recording[UUID]]:
        """``Application.save`` for events already collected (``_collect``), which it would check
        one by one against runtime-checkable Protocols: ~3 % of an import's CPU on Python 3.11."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        processing_event.events.extend(events)
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """Save as eventsourcing does, sealing the personal fields of every referral filed in this
        save with its citizen's data key in the referral's municipality: found first (one read), or made
        and stored in the events' own transaction. A key made concurrently for the same citizen fails that transaction; the
        save is then sealed again with the key that won."""
        events = _collect(objs)
        citizens = {(e.citizen_ref, str(e.municipality)) for e in events if isinstance(e, Referral.Referred)}
        for attempt in range(CONFLICT_RETRIES):
            prepared, new_keys = self.keyring.prepare(citizens) if citizens else (None, [])
            token = PREPARED.set(prepared)
            try:
                recordings = self._record_events(
                    events, **({**kwargs, "citizen_keys": new_keys} if new_keys else kwargs)
                )
            except IntegrityError:
                if not new_keys or attempt == CONFLICT_RETRIES - 1 or not self.keyring.taken(new_keys):
                    raise
                continue
            finally:
                PREPARED.reset(token)
            break
        if recordings:
            for callback in self._subscribers:
                callback(recordings[-1].notification.id)
        return recordings

    @contextmanager
    def batch_session(self, session: BatchSession | None) -> Iterator[None]:
        """Run this thread's commands in ``session`` (see ``application.batch``): they read its
        aggregates and claims and leave their events to its flush instead of saving them."""
        previous = getattr(self._batch, "session", None)
        self._batch.session = session
        try:
            yield
        finally:
            self._batch.session = previous

    @property
    def _session(self) -> BatchSession | None:
        session: BatchSession | None = getattr(self._batch, "session", None)
        return session

    def _get(self, aggregate_id: UUID, version: int | None = None, *, sealed: bool = False) -> Aggregate:
        session = self._session
        if session is not None and version is None:
            return session.load(aggregate_id)
        repository = self.sealed_repository if sealed else self.repository
        aggregate: Aggregate = repository.get(aggregate_id, version=version, projector_func=replay)
        return aggregate

    def _find_claim(self, key: str) -> StoredClaim | None:
        session = self._session
        return session.find_claim(key) if session is not None else self.keyed_recorder.find_claim(key)

    def _position_of(self, aggregate_id: UUID, version: int) -> int | None:
        session = self._session
        if session is not None:
            return session.position_of(aggregate_id, version)
        return self.keyed_recorder.position_of(aggregate_id, version)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    @property
    def keyed_recorder(self) -> SQLiteKeyedRecorder | PostgresKeyedRecorder:
        recorder = self.recorder
        assert isinstance(recorder, SQLiteKeyedRecorder | PostgresKeyedRecorder)
        return recorder

    # -- reads -----------------------------------------------------------------------------------

    def _load(
        self, kind: type[A], aggregate_id: UUID, version: int | None = None, *, sealed: bool = False
    ) -> A:
        try:
            aggregate: Aggregate | None = self._get(aggregate_id, version, sealed=sealed)
        except AggregateNotFoundError:
            aggregate = None
        return _of_kind(kind, aggregate_id, aggregate)

    def _load_as_of(
        self, kind: type[A], aggregate_id: UUID, version: int | None, as_of: datetime | None
    ) -> A:
        current = self._load(kind, aggregate_id)
        if version is not None:
            if not 1 <= version <= current.version:
                msg = (
                    f"{kind.__name__.lower()} {aggregate_id} has versions 1..{current.version}, not {version}"
                )
                raise NotFound("version-not-found", msg)
            return self._load(kind, aggregate_id, version)
        if as_of is not None:
            known = [
                e.originator_version for e in self.events.get(aggregate_id) if cast(Any, e).timestamp <= as_of
            ]
            if not known:
                msg = f"{kind.__name__.lower()} {aggregate_id} did not exist at {as_of.isoformat()}"
                raise NotFound("not-yet-recorded", msg)
            return self._load(kind, aggregate_id, known[-1])
        return current

    def get_referral(
        self, referral_id: UUID, *, version: int | None = None, as_of: datetime | None = None
    ) -> Referral:
        """The referral now, at ``version``, or as it stood at the instant ``as_of``."""
        return self._load_as_of(Referral, referral_id, version, as_of)

    def get_supplier(
        self, supplier_id: UUID, *, version: int | None = None, as_of: datetime | None = None
    ) -> Supplier:
        """The supplier now, at ``version``, or as it stood at the instant ``as_of``."""
        return self._load_as_of(Supplier, supplier_id, version, as_of)

    def referral_events(self, referral_id: UUID) -> list[Any]:
        """The referral's events, oldest first."""
        self._load(Referral, referral_id)
        return list(self.events.get(referral_id))

    def supplier_events(self, supplier_id: UUID) -> list[Any]:
        """The supplier's events, oldest first."""
        self._load(Supplier, supplier_id)
        return list(self.events.get(supplier_id))

    def last_position(self) -> int:
        """The global position of the newest stored event (0 when empty)."""
        try:
            return self.recorder.max_notification_id() or 0
        except (OperationalError, InterfaceError) as error:
            raise StorageUnavailable(str(error)) from error

    @property
    def notify_channel(self) -> str | None:
        """The PostgreSQL channel NOTIFYed on every insert of events (None on SQLite)."""
        channel = getattr(self.recorder, "channel_name", None)
        return channel if isinstance(channel, str) else None

    def read_events(self, after: int, limit: int, *, reveal: bool = False) -> list[tuple[int, Any]]:
        """Up to ``limit`` stored events after global position ``after``, as (position, event).

        Personal fields stay sealed (envelopes, as the projections store them) unless ``reveal``:
        then they are opened, or read ``"erased"``, with one key lookup for the whole batch."""
        try:
            notifications = self.recorder.select_notifications(
                start=after, limit=limit, inclusive_of_start=False
            )
            events = [(n.id, self._sealed_mapper.to_domain_event(n)) for n in notifications]
            if reveal:
                self.keyring.reveal_events([event for _, event in events])
        except (OperationalError, InterfaceError) as error:
            raise StorageUnavailable(str(error)) from error
        return events

    def remembered_municipality(self, referral_id: UUID) -> str | None:
        """The municipality of a referral this process has filed or looked up before, without any
        I/O; None when it has not (then ``referral_municipality`` finds out)."""
        return self._municipalities.get(referral_id)

    def _remember_municipality(self, referral_id: UUID, municipality: str) -> None:
        # Fixed when the referral is filed: safe to remember (a bounded number of them).
        if len(self._municipalities) >= MUNICIPALITY_CACHE:
            self._municipalities.clear()
        self._municipalities[referral_id] = municipality

    def referral_municipality(self, referral_id: UUID) -> str | None:
        """The municipality a referral was filed for (fixed at referral), or None when there is no
        such referral or its first event cannot be read (so access checks fail closed)."""
        known = self._municipalities.get(referral_id)
        if known is not None:
            return known
        session = self._session
        if session is not None and session.aggregates.get(referral_id) is not None:
            cached = session.aggregates[referral_id]
            return str(cached.municipality) if isinstance(cached, Referral) else None
        try:
            first = list(self.sealed_events.get(referral_id, lte=1))
        except (OperationalError, InterfaceError) as error:
            raise StorageUnavailable(str(error)) from error
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        if first and isinstance(first[0], Referral.Referred):
            self._remember_municipality(referral_id, str(first[0].municipality))
            return str(first[0].municipality)
        return None

    def learn_municipalities(self, referral_ids: Sequence[UUID]) -> None:
        """Read, in one query, the municipality of each of ``referral_ids`` not remembered yet (for
        ``remembered_municipality``; a batch's items on referrals filed before it)."""
        unknown = [i for i in referral_ids if i not in self._municipalities]
        if not unknown:
            return
        try:
            stored = self.keyed_recorder.first_events(unknown)
        except (OperationalError, InterfaceError) as error:
            raise StorageUnavailable(str(error)) from error
        for event in stored:
            if not event.topic.startswith(f"{Referral.TOPIC}."):
                continue
            try:
                first = self._sealed_mapper.to_domain_event(event)
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
            if isinstance(first, Referral.Referred):
                self._remember_municipality(first.originator_id, str(first.municipality))

    def open_tokens(self) -> TokenStore:
        """The bearer tokens, kept in the same database as the events."""
        return open_token_store(self.keyed_recorder.datastore)

    def open_access_log(self, clock: Callable[[], datetime] = utc_now) -> AccessLog:
        """The access log, kept in the same database as the events (see ``application.access_log``)."""
        return open_access_log(self.keyed_recorder.datastore, clock)

    # -- personal data ---------------------------------------------------------------------------------

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
            or self.referral_municipality(UUID(referral_id)) == municipality
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
        physically purged (see ``application.citizen_keys``) and the erasure recorded without
        personal data.

        The answer is the same whether or not the citizen is known elsewhere. Referrals sealed with
        a shared key of the old form are withheld instead while another municipality's referral
        needs that key (see ``application.personal_data``). Erasing again answers the earlier
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
                return {**earlier.as_dict(), "already_erased": True, "purged": self.citizen_keys.purge()}
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
        mine = [i for i in old.referral_ids if self.referral_municipality(UUID(i)) == municipality]
        return replace(old, referral_ids=mine) if mine else None

    def erasures(self) -> list[dict[str, Any]]:
        """Every erasure recorded, oldest first (no personal data)."""
        return [record.as_dict() for record in self.citizen_keys.erasures()]

    # -- audit -------------------------------------------------------------------------------------

    def verify_integrity(
        self,
        *,
        batch_size: int = 2000,
        max_problems: int = 1000,
        anchor: tuple[int, str] | None = None,
        municipality: str | None = None,
    ) -> dict[str, Any]:
        """Recompute both hash chains over every stored event (see ``application.chain``):
        ``{ok, checked, chained, problem_count, problems, problems_elsewhere, head, anchor}``;
        ``anchor`` is a head exported earlier, ``(position, global_hash)``, that the recomputed chain
        must still pass. ``municipality``: count and name only the streams of that municipality's
        referrals and the (shared) suppliers'; of the others' problems say only how many there are. A
        stream whose first event cannot be read any more cannot be placed: it counts as elsewhere."""
        scope = None if municipality is None else self._streams_of(municipality)
        try:
            found = verify(
                self.keyed_recorder,
                batch_size=batch_size,
                max_problems=max_problems,
                anchor=anchor,
                scope=scope,
            )
            return found.as_dict()
        except (OperationalError, InterfaceError) as error:
            raise StorageUnavailable(str(error)) from error

    def _streams_of(self, municipality: str) -> Callable[[UUID, StoredRow | None], bool]:
        """Whether a stream is ``municipality``'s referral or a supplier, from its first stored
        event when the verifier read it (no further read), else from ``referral_municipality``."""

        def sees(stream_id: UUID, first: StoredRow | None) -> bool:
            if first is not None:
                if not first.topic.startswith(f"{Referral.TOPIC}."):
                    return True  # suppliers are shared by every municipality
                try:
                    event = self._sealed_mapper.to_domain_event(
                        StoredEvent(stream_id, first.version, first.topic, first.state)
                    )
                except Exception:  # altered bytes fail in many ways: then place it by its id
                    event = None
                if isinstance(event, Referral.Referred):
                    return str(event.municipality) == municipality
            return self.referral_municipality(stream_id) == municipality

        return sees

    def referral_trail(self, referral_id: UUID) -> dict[str, Any]:
        """The referral's decision trail and the integrity of its stream.

        Read from the stored events themselves, so an altered event still shows (flagged)."""
        try:
            stored = list(self.recorder.select_events(referral_id))
            if not stored or not (stored[0].topic or "").startswith(f"{Referral.TOPIC}."):
                msg = f"no referral with id {referral_id}"
                raise NotFound("referral-not-found", msg)
            integrity = verify_stream(self.keyed_recorder, referral_id).as_dict()
        except (OperationalError, InterfaceError) as error:
            raise StorageUnavailable(str(error)) from error
        entries = trail_entries(stored, self.mapper, integrity["problems"])
        return {"referral_id": str(referral_id), "entries": entries, "integrity": integrity}

    # -- the write path ----------------------------------------------------------------------------

    def _replay(self, context: WriteContext) -> WriteResult | None:
        """The earlier answer to this very request, if there was one."""
        for key in self._request_keys(context):
            claim = self._find_claim(key)
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
            position = self._position_of(aggregate_id, stored["version"]) or 0
            return WriteResult(stored["id"], stored["version"], position, replayed=True)
        return None

    def _earlier_event_claim(self, event_id: str, scope: str) -> StoredClaim | None:
        """The claim of ``event_id`` stored before ids were scoped, if it belongs to ``scope``: it
        claimed a referral of that municipality, or a supplier (shared by all municipalities, and
        its events' ids shown to every token's feed). Another municipality's answers as no claim."""
        claim = self._find_claim(earlier_event_key(event_id))
        if claim is None:
            return None
        aggregate_id = UUID(json.loads(claim.result)["id"])
        municipality = self.referral_municipality(aggregate_id)
        if municipality is not None:
            return claim if municipality == scope else None
        try:
            first = list(self.sealed_events.get(aggregate_id, lte=1))
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

    def _write(
        self,
        context: WriteContext,
        command: Callable[[], Aggregate],
        *,
        unique: Sequence[tuple[str, str]] = (),
        on_conflict: Callable[[], Exception] | None = None,
    ) -> WriteResult:
        """Run ``command`` (which loads, checks and mutates) and save its events with the claims.

        A lost race on the aggregate's version is retried on fresh state, unless the client named
        the version it expected (then 412). Any unique key already taken by a concurrent request is
        answered as that request's replay, or by ``on_conflict``.
        """
        try:
            replay = self._replay(context)
            if replay is not None:
                return replay
            for _ in range(CONFLICT_RETRIES):
                aggregate = command()
                # what json.dumps({"id": …, "version": …}) gives, without its encoder per command
                result = f'{{"id": "{aggregate.id}", "version": {aggregate.version}}}'
                claims = [Claim(key, context.fingerprint, result) for key in self._request_keys(context)]
                claims += [Claim(key, owner, result) for key, owner in unique]
                session = self._session
                if session is not None:
                    return session.write(aggregate, claims)
                try:
                    recordings = self.save(aggregate, claims=claims)
                except IntegrityError:
                    replay = self._replay(context)
                    if replay is not None:
                        return replay
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

    def _moved_on(self, aggregate_id: UUID, expected: int) -> VersionMismatch:
        msg = f"If-Match expected version {expected} of {aggregate_id}, which has moved on"
        return VersionMismatch("version-mismatch", msg)

    def _existing(self, kind: type[A], aggregate_id: UUID, context: WriteContext) -> A:
        # A command's rules never read the personal fields: load it sealed, without the citizen's
        # data key (a read and an unwrap less per command).
        aggregate = self._load(kind, aggregate_id, sealed=True)
        if context.expected_version is not None and aggregate.version != context.expected_version:
            msg = (
                f"If-Match expected version {context.expected_version} of {aggregate_id}, "
                f"but it is at version {aggregate.version}"
            )
            raise VersionMismatch("version-mismatch", msg)
        return aggregate

    def _ensure_new(self, aggregate_id: UUID) -> None:
        try:
            self._get(aggregate_id)
        except AggregateNotFoundError:
            return
        msg = f"an aggregate with id {aggregate_id} already exists"
        raise RuleViolation("already-exists", msg, field="id")

    def _read_only(self, kind: type[A], aggregate_id: UUID) -> A:
        """An aggregate that a command only reads (a supplier, for a match or a price agreement).

        A copy kept from an earlier load serves while no event has been stored for it since: one
        query for at most one row, instead of reading and replaying all its events (about 15 % of
        the CPU of ``POST /events``). A kept copy is never handed to a command that writes it. In a
        batch, the batch's own state of the aggregate comes first, and a copy checked once serves
        the rest of the batch (suppliers as of the batch's start, or of its own writes); a batch
        checks all kept copies in one query."""
        session = self._session
        if session is not None and aggregate_id in session.aggregates:
            return self._load(kind, aggregate_id)
        kept = self._read_copies.get(aggregate_id)
        if isinstance(kept, kind):
            if session is not None:
                if not session.copies_checked:
                    self._check_read_copies(session)
                if aggregate_id in session.checked:
                    return kept
            elif not self.recorder.select_events(aggregate_id, gt=kept.version, limit=1):
                return kept
        try:
            found: Aggregate | None = self.sealed_repository.get(aggregate_id, projector_func=replay)
        except AggregateNotFoundError:
            found = None
        loaded = _of_kind(kind, aggregate_id, found)
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
            return self._read_only(Supplier, supplier_id)
        except NotFound:
            msg = f"{field} {supplier_id} is not a registered supplier"
            raise RuleViolation("supplier-not-registered", msg, field=field) from None

    # -- suppliers ---------------------------------------------------------------------------------

    def register_supplier(
        self,
        *,
        supplier_id: UUID | None,
        name: str,
        cvr: str,
        contact: Mapping[str, str | None],
        target_groups: Sequence[str],
        competencies: Sequence[str],
        education_levels: Sequence[str],
        actor: Mapping[str, str | None],
        context: WriteContext,
    ) -> WriteResult:
        """Register a supplier; one per CVR number (DOMAIN.md rule 6)."""
        new_id = supplier_id or uuid4()

        def command() -> Supplier:
            self._ensure_new(new_id)
            self._refuse_taken_cvr(cvr)
            return Supplier.register(
                supplier_id=new_id,
                name=name,
                cvr=cvr,
                contact=contact,
                target_groups=target_groups,
                competencies=competencies,
                education_levels=education_levels,
                decided_by=actor,
                origin=context.origin(),
            )

        return self._write(
            context, command, unique=[(f"cvr:{cvr}", str(new_id))], on_conflict=lambda: self._cvr_taken(cvr)
        )

    def _refuse_taken_cvr(self, cvr: str) -> None:
        if self._find_claim(f"cvr:{cvr}") is not None:
            raise self._cvr_taken(cvr)

    def _cvr_taken(self, cvr: str) -> RuleViolation:
        claim = self._find_claim(f"cvr:{cvr}")
        owner = claim.fingerprint if claim else "another supplier"
        msg = f"CVR {cvr} is already registered (supplier {owner}); one supplier per CVR number"
        return RuleViolation("cvr-already-registered", msg, field="cvr")

    def update_supplier_details(
        self,
        supplier_id: UUID,
        *,
        changes: Mapping[str, Any],
        actor: Mapping[str, str | None],
        context: WriteContext,
    ) -> WriteResult:
        """Change a supplier's name, contact or profile."""

        def command() -> Supplier:
            supplier = self._existing(Supplier, supplier_id, context)
            supplier.update_details(changes=changes, decided_by=actor, origin=context.origin())
            return supplier

        return self._write(context, command)

    def negotiate_price_list(
        self,
        supplier_id: UUID,
        *,
        municipality: str,
        negotiated_on: date,
        valid_from: date,
        valid_to: date | None,
        rates: Sequence[Mapping[str, Any]],
        packages: Sequence[Mapping[str, Any]],
        note: str | None,
        actor: Mapping[str, str | None],
        context: WriteContext,
    ) -> WriteResult:
        """Record a price list negotiated between the supplier and one municipality."""

        def command() -> Supplier:
            supplier = self._existing(Supplier, supplier_id, context)
            supplier.negotiate_price_list(
                municipality_code=municipality,
                negotiated_on=negotiated_on,
                valid_from=valid_from,
                valid_to=valid_to,
                rates=rates,
                packages=packages,
                note=note,
                decided_by=actor,
                origin=context.origin(),
            )
            return supplier

        return self._write(context, command)

    # -- referrals ---------------------------------------------------------------------------------

    def refer(
        self,
        *,
        referral_id: UUID | None,
        municipality: str,
        citizen_ref: str,
        case_ref: str | None,
        legal_basis: str,
        intervention: str,
        purpose: str,
        requested_hours_per_week: Decimal | None,
        requested_start: date,
        expected_end: date,
        referred_on: date,
        actor: Mapping[str, str | None],
        context: WriteContext,
    ) -> WriteResult:
        """File a referral."""
        new_id = referral_id or uuid4()

        def command() -> Referral:
            self._ensure_new(new_id)
            return Referral.refer(
                referral_id=new_id,
                municipality_code=municipality,
                citizen_ref=citizen_ref,
                case_ref=case_ref,
                legal_basis=legal_basis,
                intervention=intervention,
                purpose=purpose,
                requested_hours_per_week=requested_hours_per_week,
                requested_start=requested_start,
                expected_end=expected_end,
                referred_on=referred_on,
                decided_by=actor,
                origin=context.origin(),
            )

        result = self._write(context, command, on_conflict=None)
        if self._session is None:  # committed (a batch's writes may yet lose their race)
            self._remember_municipality(UUID(result.id), municipality)
        return result

    def match_supplier(
        self,
        referral_id: UUID,
        *,
        supplier_id: UUID,
        rationale: str,
        criteria: Sequence[str],
        candidates: Sequence[Mapping[str, Any]],
        matched_on: date,
        actor: Mapping[str, str | None],
        context: WriteContext,
    ) -> WriteResult:
        """Choose the supplier for a referral, with the criteria and the alternatives considered."""

        def command() -> Referral:
            referral = self._existing(Referral, referral_id, context)
            supplier = self._registered_supplier(supplier_id, "supplier_id")
            for i, candidate in enumerate(candidates):
                self._registered_supplier(candidate["supplier_id"], f"candidates[{i}].supplier_id")
            referral.match(
                supplier=supplier,
                rationale=rationale,
                criteria=criteria,
                candidates=candidates,
                matched_on=matched_on,
                decided_by=actor,
                origin=context.origin(),
            )
            return referral

        return self._write(context, command)

    def agree_price(
        self,
        referral_id: UUID,
        *,
        hourly_rate: Decimal | None,
        hours_per_week: Decimal | None,
        daily_rate: Decimal | None,
        package_name: str | None,
        package_price: Decimal | None,
        start: date,
        end: date,
        agreed_on: date,
        rationale: str | None,
        actor: Mapping[str, str | None],
        context: WriteContext,
    ) -> WriteResult:
        """Agree the price with the matched supplier; records the list rate in force on ``start``."""

        def command() -> Referral:
            referral = self._existing(Referral, referral_id, context)
            supplier = self._matched_supplier(referral)
            referral.agree_price(
                supplier=supplier,
                hourly_rate=hourly_rate,
                hours_per_week=hours_per_week,
                daily_rate=daily_rate,
                package_name=package_name,
                package_price=package_price,
                start=start,
                end=end,
                agreed_on=agreed_on,
                rationale=rationale,
                decided_by=actor,
                origin=context.origin(),
            )
            return referral

        return self._write(context, command)

    def _matched_supplier(self, referral: Referral) -> Supplier | None:
        """The matched supplier; None before matching (the domain then refuses the command)."""
        return self._read_only(Supplier, referral.supplier_id) if referral.supplier_id else None

    def extend_referral(
        self,
        referral_id: UUID,
        *,
        new_end: date,
        hours_per_week: Decimal | None,
        package_price: Decimal | None,
        rationale: str,
        decided_on: date,
        actor: Mapping[str, str | None],
        context: WriteContext,
    ) -> WriteResult:
        """Extend an active referral to a later end."""

        def command() -> Referral:
            referral = self._existing(Referral, referral_id, context)
            referral.extend(
                new_end=new_end,
                hours_per_week=hours_per_week,
                package_price=package_price,
                rationale=rationale,
                decided_on=decided_on,
                decided_by=actor,
                origin=context.origin(),
            )
            return referral

        return self._write(context, command)

    def adjust_referral(
        self,
        referral_id: UUID,
        *,
        effective_from: date,
        hours_per_week: Decimal | None,
        hourly_rate: Decimal | None,
        daily_rate: Decimal | None,
        rationale: str,
        decided_on: date,
        actor: Mapping[str, str | None],
        context: WriteContext,
    ) -> WriteResult:
        """Change hours and/or rate of an active referral from a date on."""

        def command() -> Referral:
            referral = self._existing(Referral, referral_id, context)
            supplier = self._matched_supplier(referral)
            referral.adjust(
                supplier=supplier,
                effective_from=effective_from,
                hours_per_week=hours_per_week,
                hourly_rate=hourly_rate,
                daily_rate=daily_rate,
                rationale=rationale,
                decided_on=decided_on,
                decided_by=actor,
                origin=context.origin(),
            )
            return referral

        return self._write(context, command)

    def close_referral(
        self,
        referral_id: UUID,
        *,
        closed_on: date,
        reason: str,
        rationale: str,
        actor: Mapping[str, str | None],
        context: WriteContext,
    ) -> WriteResult:
        """Close a referral that is not closed yet."""

        def command() -> Referral:
            referral = self._existing(Referral, referral_id, context)
            referral.close(
                closed_on=closed_on,
                reason=reason,
                rationale=rationale,
                decided_by=actor,
                origin=context.origin(),
            )
            return referral

        return self._write(context, command)
