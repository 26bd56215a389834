"""What the keyed recorders of both dialects share: the group commit of concurrent inserts, and the
reads of the events being recorded that the hash chains (``application.storage.chain_links``) and
the citizen links (``application.storage.citizen_keys``) are made from."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.utils import get_topic

from application.keys import Claim
from application.storage.chain_links import GENESIS, ChainRow, NewEvent, StoredRow
from application.storage.envelope_labels import is_sealed, key_id_of
from application.storage.group_commit import GroupCommit
from application.storage.health import StorageHealth
from domain.referral import Referral

KEYS_TABLE = "caseledger_keys"
EVENTS_UPTO_CHUNK = 500
"""Ids a query of ``events_upto`` asks for (a whole month's referrals, about 1,650, take four)."""


class KeyedRecording:
    """The part of ``SQLiteKeyedRecorder`` and ``PostgresKeyedRecorder`` that is the same: concurrent
    inserts share transactions (see ``application.storage.group_commit``), each dialect's ``_insert_alone``
    writing one, and their outcome is told to ``self.health``."""

    group_commit: GroupCommit
    health: StorageHealth

    def _start_group_commit(self) -> None:
        self.group_commit = GroupCommit(self._insert_alone)
        self.health = StorageHealth()

    def _insert_alone(
        self, stored_events: Sequence[StoredEvent], claims: Sequence[Claim], citizen_keys: Sequence[Any]
    ) -> Sequence[int] | None:
        """The events, claims and citizen keys in one transaction of their own."""
        raise NotImplementedError

    def _submit(
        self, stored_events: Sequence[StoredEvent], claims: Sequence[Claim], citizen_keys: Sequence[Any]
    ) -> Sequence[int] | None:
        """The group commit, its outcome told to ``self.health``."""
        try:
            positions = self.group_commit.submit(stored_events, claims, citizen_keys)
        except (OperationalError, InterfaceError) as error:
            self.health.write_failed(error)
            raise
        self.health.write_succeeded()
        return positions

    # -- many streams' events at once (a spending cell's lineage) ------------------------------------

    def _select_events_upto(self, chunk: Sequence[tuple[UUID, int]]) -> list[Any]:
        """Rows (``originator_id``, ``originator_version``, ``topic``, ``state``) of each stream of
        ``chunk`` up to its version, in version order per stream: one query."""
        raise NotImplementedError

    def events_upto(self, versions: Mapping[UUID, int]) -> dict[UUID, list[StoredEvent]]:
        """The stored events of each of ``versions``' ids up to its version, oldest first (an id
        with none: an empty list), in one query per ``EVENTS_UPTO_CHUNK`` ids."""
        found: dict[UUID, list[StoredEvent]] = {i: [] for i in versions}
        wanted = list(versions.items())
        for start in range(0, len(wanted), EVENTS_UPTO_CHUNK):
            for r in self._select_events_upto(wanted[start : start + EVENTS_UPTO_CHUNK]):
                originator_id = as_uuid(r["originator_id"])
                found[originator_id].append(
                    StoredEvent(originator_id, r["originator_version"], r["topic"], as_bytes(r["state"]))
                )
        return found

    # -- the verifier's reads by stream (application.audit.chain.ChainStore) -----------------------------

    def _select_by_stream(
        self, table: str, after: tuple[UUID, int] | None, upto: int, limit: int, stream: UUID | None
    ) -> list[Any]:
        """Rows of ``table`` (``events``, the events' position as ``notification_id``, or ``chain``)
        at positions up to ``upto``, after ``after`` in (stream, version) order, of ``stream`` if
        given; at most ``limit``."""
        raise NotImplementedError

    def stored_rows_by_stream(
        self, after: tuple[UUID, int] | None, upto: int, limit: int, stream: UUID | None = None
    ) -> list[StoredRow]:
        return [
            StoredRow(
                as_uuid(r["originator_id"]),
                r["originator_version"],
                r["topic"] or "",
                as_bytes(r["state"]),
                r["notification_id"],
            )
            for r in self._select_by_stream("events", after, upto, limit, stream)
        ]

    def chain_rows_by_stream(
        self, after: tuple[UUID, int] | None, upto: int, limit: int, stream: UUID | None = None
    ) -> list[ChainRow]:
        rows = self._select_by_stream("chain", after, upto, limit, stream)
        return [chain_row(r, as_uuid(r["originator_id"])) for r in rows]


def citizen_links(
    stored_events: Sequence[StoredEvent], positions: Sequence[int]
) -> list[tuple[UUID, str, int]]:
    """``(referral_id, key_id, position)`` of each ``referral.referred`` event being stored: which
    citizen key sealed it (read from its sealed ``citizen_ref``), recorded in the events' own
    transaction."""
    topic = get_topic(Referral.Referred)
    links = []
    for event, position in zip(stored_events, positions, strict=True):
        if event.topic != topic:
            continue
        citizen_ref = json.loads(event.state).get("citizen_ref")
        if is_sealed(citizen_ref):
            links.append((as_uuid(event.originator_id), key_id_of(citizen_ref), position))
    return links


def new_events(stored_events: Sequence[StoredEvent], positions: Sequence[int]) -> list[NewEvent]:
    """The events being recorded with the positions the database gave them (in insert order)."""
    return [
        NewEvent(as_uuid(e.originator_id), e.originator_version, e.topic, e.state, p)
        for e, p in zip(stored_events, positions, strict=True)
    ]


def as_bytes(value: bytes | memoryview | str | None) -> bytes:
    """Stored state as bytes, also when someone rewrote it as text (SQLite keeps what it is given)."""
    if value is None:
        return b""
    return value.encode() if isinstance(value, str) else bytes(value)


def as_uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def versions_before(events: Sequence[NewEvent]) -> list[tuple[UUID, int]]:
    """Per stream in the batch, the version just before its first new one (whose link it follows)."""
    first: dict[UUID, int] = {}
    for event in events:
        first[event.originator_id] = min(event.version, first.get(event.originator_id, event.version))
    return [(stream, version - 1) for stream, version in first.items()]


def previous_hashes(rows: Sequence[Any]) -> tuple[dict[UUID, bytes], bytes]:
    """Split the one read of previous hashes: stream links by stream, and the global head."""
    previous_stream: dict[UUID, bytes] = {}
    previous_global = GENESIS
    for row in rows:
        if row["originator_id"] is None:
            previous_global = bytes.fromhex(row["hash"])
        else:
            previous_stream[as_uuid(row["originator_id"])] = bytes.fromhex(row["hash"])
    return previous_stream, previous_global


def chain_row(row: Any, originator_id: UUID) -> ChainRow:
    return ChainRow(
        row["position"], originator_id, row["originator_version"], row["stream_hash"], row["global_hash"]
    )
