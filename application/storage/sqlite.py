"""The SQLite recorder: eventsourcing's, with caseledger's keys, hash chains and citizen links
written in the events' transaction (see ``application.storage``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from application.keys import Claim, StoredClaim
from application.storage.chain_links import CHAIN_TABLE, ChainRow, link
from application.storage.citizen_keys import KEYS as CITIZEN_KEYS
from application.storage.citizen_keys import LINKS, NewCitizenKey
from application.storage.citizen_keys_dialects import SQLITE_DDL
from application.storage.recording import (
    KEYS_TABLE,
    KeyedRecording,
    chain_row,
    citizen_links,
    new_events,
    previous_hashes,
    versions_before,
)


class SQLiteKeyedRecorder(KeyedRecording, SQLiteApplicationRecorder):
    """SQLite application recorder that also writes claimed keys in the events' transaction."""

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name)
        self._start_group_commit()

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """Concurrent inserts share transactions (see ``application.storage.group_commit``)."""
        if kwargs.get("tracking") is not None:
            return super().insert_events(stored_events, **kwargs)
        return self._submit(stored_events, kwargs.get("claims", ()), kwargs.get("citizen_keys", ()))

    def _insert_alone(
        self, stored_events: Sequence[StoredEvent], claims: Sequence[Claim], citizen_keys: Sequence[Any]
    ) -> Sequence[int] | None:
        return super().insert_events(stored_events, claims=claims, citizen_keys=citizen_keys)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {KEYS_TABLE} ("
            "key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, result TEXT NOT NULL, "
            "recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))) WITHOUT ROWID",
            f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE} ("
            "position INTEGER PRIMARY KEY, originator_id TEXT NOT NULL, "
            "originator_version INTEGER NOT NULL, stream_hash TEXT NOT NULL, global_hash TEXT NOT NULL, "
            "UNIQUE (originator_id, originator_version))",
            *SQLITE_DDL,
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        claims: Sequence[Claim] = kwargs.get("claims", ())
        for claim in claims:
            c.execute(
                f"INSERT INTO {KEYS_TABLE} (key, fingerprint, result) VALUES (?,?,?)",
                (claim.key, claim.fingerprint, claim.result),
            )
        new_keys: Sequence[NewCitizenKey] = kwargs.get("citizen_keys", ())
        if new_keys:
            # A key made concurrently for the same citizen: IntegrityError, and the write is retried.
            c.execute("PRAGMA secure_delete=ON")
            c.executemany(
                f"INSERT INTO {CITIZEN_KEYS} (key_id, blind_index, wrapped_key, created_at, municipality) "
                "VALUES (?,?,?,?,?)",
                new_keys,
            )
        positions = super()._insert_events(c, stored_events, **kwargs)
        if positions:
            self._insert_chain(c, stored_events, positions)
            c.executemany(
                f"INSERT INTO {LINKS} (referral_id, key_id, position) VALUES (?,?,?) "
                "ON CONFLICT (referral_id) DO NOTHING",
                [(str(i), k, p) for i, k, p in citizen_links(stored_events, positions)],
            )
        return positions

    def _insert_chain(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], positions: Sequence[int]
    ) -> None:
        """Link the new events into both chains. The write transaction holds SQLite's one write
        lock (the events were just inserted), so the head read here is the head they follow."""
        events = new_events(stored_events, positions)
        wanted = json.dumps([[i.hex, v] for i, v in versions_before(events)])
        c.execute(
            f"SELECT originator_id, stream_hash AS hash FROM {CHAIN_TABLE} "
            "WHERE (originator_id, originator_version) IN "
            "(SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?)) "
            f"UNION ALL SELECT * FROM (SELECT NULL, global_hash FROM {CHAIN_TABLE} "
            "ORDER BY position DESC LIMIT 1)",
            (wanted,),
        )
        previous_stream, previous_global = previous_hashes(c.fetchall())
        rows = link(events, previous_stream, previous_global)
        c.executemany(
            f"INSERT INTO {CHAIN_TABLE} (position, originator_id, originator_version, stream_hash, "
            "global_hash) VALUES (?,?,?,?,?)",
            [(p, i.hex, v, sh, gh) for p, i, v, sh, gh in rows],
        )

    # -- the verifier's reads (application.audit.chain.ChainStore) ---------------------------------------

    def _select(self, statement: str, params: Sequence[Any]) -> list[Any]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, params)
            return list(c.fetchall())

    def max_position(self) -> int:
        return int(self.max_notification_id() or 0)

    def _select_by_stream(
        self, table: str, after: tuple[UUID, int] | None, upto: int, limit: int, stream: UUID | None
    ) -> list[Any]:
        where, params = "", list[Any]()
        if stream is not None:
            where += " AND originator_id = ?"
            params.append(stream.hex)
        if after is not None:
            where += " AND (originator_id, originator_version) > (?, ?)"
            params += [after[0].hex, after[1]]
        # "+rowid", "+position": keep the planner on the (originator_id, originator_version) index.
        select = (
            "SELECT rowid AS notification_id, originator_id, originator_version, topic, state "
            f"FROM {self.events_table_name} WHERE +rowid"
            if table == "events"
            else f"SELECT * FROM {CHAIN_TABLE} WHERE +position"
        )
        return self._select(
            f"{select} <= ?{where} ORDER BY originator_id, originator_version LIMIT ?", [upto, *params, limit]
        )

    def chain_rows_by_position(self, after: int, upto: int, limit: int) -> list[ChainRow]:
        rows = self._select(
            f"SELECT * FROM {CHAIN_TABLE} WHERE position > ? AND position <= ? ORDER BY position LIMIT ?",
            [after, upto, limit],
        )
        return [chain_row(r, UUID(r["originator_id"])) for r in rows]

    def chain_links_of(self, stream: UUID, upto: int) -> list[tuple[ChainRow, str | None]]:
        rows = self._select(
            f"SELECT c.*, (SELECT p.global_hash FROM {CHAIN_TABLE} p WHERE p.position < c.position "
            f"ORDER BY p.position DESC LIMIT 1) AS previous_global FROM {CHAIN_TABLE} c "
            "WHERE c.originator_id = ? AND c.position <= ? ORDER BY c.position",
            [stream.hex, upto],
        )
        return [(chain_row(r, UUID(r["originator_id"])), r["previous_global"]) for r in rows]

    def find_claim(self, key: str) -> StoredClaim | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT key, fingerprint, result FROM {KEYS_TABLE} WHERE key=?", (key,))
            row = c.fetchone()
        return StoredClaim(row["key"], row["fingerprint"], row["result"]) if row else None

    def find_claims(self, keys: Sequence[str]) -> dict[str, StoredClaim]:
        """The stored claims among ``keys``, in one query."""
        found: dict[str, StoredClaim] = {}
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT key, fingerprint, result FROM {KEYS_TABLE} WHERE key IN (SELECT value FROM json_each(?))",
                (json.dumps(list(keys)),),
            )
            for row in c.fetchall():
                found[row["key"]] = StoredClaim(row["key"], row["fingerprint"], row["result"])
        return found

    def stream_versions(self, originator_ids: Sequence[UUID]) -> dict[UUID, int]:
        """The last stored version of each of ``originator_ids`` that has events, in one query."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT originator_id, MAX(originator_version) AS version FROM {self.events_table_name} "
                "WHERE originator_id IN (SELECT value FROM json_each(?)) GROUP BY originator_id",
                (json.dumps([i.hex for i in originator_ids]),),
            )
            return {UUID(row["originator_id"]): int(row["version"]) for row in c.fetchall()}

    def first_events(self, originator_ids: Sequence[UUID]) -> list[StoredEvent]:
        """The first stored event of each of ``originator_ids`` that has events, in one query."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT originator_id, originator_version, topic, state FROM {self.events_table_name} "
                "WHERE originator_id IN (SELECT value FROM json_each(?)) AND originator_version = 1",
                (json.dumps([i.hex for i in originator_ids]),),
            )
            return [
                StoredEvent(UUID(r["originator_id"]), r["originator_version"], r["topic"], r["state"])
                for r in c.fetchall()
            ]

    def _select_events_upto(self, chunk: Sequence[tuple[UUID, int]]) -> list[Any]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT e.originator_id, e.originator_version, e.topic, e.state FROM json_each(?) AS k "
                f"JOIN {self.events_table_name} AS e ON e.originator_id = json_extract(k.value, '$[0]') "
                "AND e.originator_version <= json_extract(k.value, '$[1]') "
                "ORDER BY e.originator_id, e.originator_version",
                (json.dumps([[i.hex, v] for i, v in chunk]),),
            )
            return list(c.fetchall())

    def positions_of(self, events: Sequence[tuple[UUID, int]]) -> dict[tuple[UUID, int], int]:
        """The position of each stored ``(originator_id, version)`` among ``events``, in one query."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT e.originator_id, e.originator_version, e.rowid FROM json_each(?) AS k "
                f"JOIN {self.events_table_name} AS e ON e.originator_id = json_extract(k.value, '$[0]') "
                "AND e.originator_version = json_extract(k.value, '$[1]')",
                (json.dumps([[i.hex, v] for i, v in events]),),
            )
            return {(UUID(r[0]), int(r[1])): int(r[2]) for r in c.fetchall()}

    def position_of(self, originator_id: UUID, version: int) -> int | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT rowid FROM {self.events_table_name} WHERE originator_id=? AND originator_version=?",
                (originator_id.hex, version),
            )
            row = c.fetchone()
        return int(row["rowid"]) if row else None
