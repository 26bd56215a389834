"""The caseledger Application: the store, its commands and its reads by id, version and instant.

It composes the parts: the write path (``application.service.write_path``) runs the commands declared in
``application.service.commands``; ``municipalities`` places referrals for access checks; ``privacy`` opens
and erases personal data; ``audit`` recomputes the hash chains and builds decision trails.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeVar, cast
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.application import Application, ProcessingEvent, Repository
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    EventStore,
    IntegrityError,
    InterfaceError,
    JSONTranscoder,
    Mapper,
    OperationalError,
    Recording,
)
from eventsourcing.utils import Environment

from application.audit.integrity import Audit
from application.errors import StorageUnavailable
from application.privacy.case_index import index_case_refs
from application.privacy.erasure import Privacy
from application.privacy.keyring import PREPARED, Keyring
from application.privacy.master_key import resolve_master_key
from application.privacy.sealing_mapper import SealingMapper
from application.service.transcodings import DateAsISO
from application.service.write_path import WritePath
from application.storage.access_log import AccessLog, open_access_log, utc_now
from application.storage.citizen_keys_dialects import open_citizen_key_store
from application.storage.environment import ExplicitEnvironment, start_up_lock
from application.storage.municipalities import Municipalities
from application.storage.postgres import PostgresKeyedRecorder
from application.storage.sqlite import SQLiteKeyedRecorder
from application.storage.tokens import TokenStore, open_token_store
from domain.errors import NotFound
from domain.referral import Referral
from domain.supplier import Supplier

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
CONFLICT_RETRIES = 5
A = TypeVar("A", bound=Aggregate)


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
        ``CASELEDGER_MASTER_KEY_FILE`` in ``env`` alone, where the settings put it
        (``api.settings.Settings.storage_env``; see ``application.privacy.master_key.resolve_master_key``)."""
        with start_up_lock(self.construct_env(self.name, env)):
            super().__init__(env=dict(env or {}))
            self.today = clock
            self._subscribers: list[Callable[[int], None]] = []
            sqlite = self.env.get("PERSISTENCE_MODULE") == "eventsourcing.sqlite"
            master = resolve_master_key(
                {
                    key: self.env.get(key) or ""
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
            self.municipalities = Municipalities(
                self.sealed_events, self.keyed_recorder, self._batch_aggregates
            )
            self.writes = WritePath(
                save=self.save,
                keyed_recorder=self.keyed_recorder,
                repository=self.repository,
                sealed_repository=self.sealed_repository,
                municipalities=self.municipalities,
            )
            self.privacy = Privacy(self.keyring, self.citizen_keys, self.municipalities)
            self.audit = Audit(self.keyed_recorder, self.mapper, self._sealed_mapper, self.municipalities)

    def _batch_aggregates(self) -> dict[UUID, Aggregate | None] | None:
        session = self.writes.session
        return None if session is None else session.aggregates

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
        one by one against runtime-checkable Protocols, slow on Python 3.11 (figures:
        docs/benchmarks.md)."""
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

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    @property
    def keyed_recorder(self) -> SQLiteKeyedRecorder | PostgresKeyedRecorder:
        recorder = self.recorder
        assert isinstance(recorder, SQLiteKeyedRecorder | PostgresKeyedRecorder)
        return recorder

    # -- reads -----------------------------------------------------------------------------------

    def _load_as_of(
        self, kind: type[A], aggregate_id: UUID, version: int | None, as_of: datetime | None
    ) -> A:
        current = self.writes.load(kind, aggregate_id)
        if version is not None:
            if not 1 <= version <= current.version:
                msg = (
                    f"{kind.__name__.lower()} {aggregate_id} has versions 1..{current.version}, not {version}"
                )
                raise NotFound("version-not-found", msg)
            return self.writes.load(kind, aggregate_id, version)
        if as_of is not None:
            known = [
                e.originator_version for e in self.events.get(aggregate_id) if cast(Any, e).timestamp <= as_of
            ]
            if not known:
                msg = f"{kind.__name__.lower()} {aggregate_id} did not exist at {as_of.isoformat()}"
                raise NotFound("not-yet-recorded", msg)
            return self.writes.load(kind, aggregate_id, known[-1])
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
        self.writes.load(Referral, referral_id)
        return list(self.events.get(referral_id))

    def supplier_events(self, supplier_id: UUID) -> list[Any]:
        """The supplier's events, oldest first."""
        self.writes.load(Supplier, supplier_id)
        return list(self.events.get(supplier_id))

    def sealed_events_upto(self, versions: Mapping[UUID, int]) -> dict[UUID, list[Any]]:
        """Each of ``versions``' aggregates' events up to its version, oldest first, personal fields
        still sealed: what ``sealed_events.get(id, lte=version)`` gives each (the same mapper), read
        in one query per few hundred aggregates instead of one each."""
        decode = self.sealed_events.mapper.to_domain_event
        stored = self.keyed_recorder.events_upto(versions)
        return {aggregate_id: [decode(event) for event in events] for aggregate_id, events in stored.items()}

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

        Personal fields stay sealed (envelopes, as the projections store them), each
        ``referral.referred`` with the case index of its case number beside them
        (``application.privacy.case_index``), unless ``reveal``: then they are opened, or read
        ``"erased"``, with one key lookup for the whole batch."""
        try:
            notifications = self.recorder.select_notifications(
                start=after, limit=limit, inclusive_of_start=False
            )
            events = [(n.id, self._sealed_mapper.to_domain_event(n)) for n in notifications]
            if reveal:
                self.keyring.reveal_events([event for _, event in events])
            else:
                index_case_refs(self.keyring, [event for _, event in events])
        except (OperationalError, InterfaceError) as error:
            raise StorageUnavailable(str(error)) from error
        return events

    def open_tokens(self) -> TokenStore:
        """The bearer tokens, kept in the same database as the events."""
        return open_token_store(self.keyed_recorder.datastore)

    def open_access_log(self, clock: Callable[[], datetime] = utc_now) -> AccessLog:
        """The access log, kept in the same database as the events (``application.storage.access_log``)."""
        return open_access_log(self.keyed_recorder.datastore, clock)
