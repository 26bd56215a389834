"""The PostgreSQL recorder: eventsourcing's, with caseledger's keys, hash chains and citizen links
written in the events' transaction (see ``application.storage``), its statements rendered once."""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import ConnectionPool as EventsourcingPool
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composable, Composed, Identifier

from application.keys import Claim, StoredClaim
from application.storage.chain_links import CHAIN_TABLE, ChainRow, link
from application.storage.citizen_keys import INSERT_ORDER, LINKS, NewCitizenKey
from application.storage.citizen_keys import KEYS as CITIZEN_KEYS
from application.storage.connections import RevivingPool, bounded_retry, session_options
from application.storage.recording import (
    KEYS_TABLE,
    KeyedRecording,
    as_uuid,
    chain_row,
    citizen_links,
    new_events,
    previous_hashes,
    versions_before,
)


def rendered(statement: Composed) -> bytes | Composed:
    """A composed statement as bytes, built once: psycopg renders a ``Composed`` again on every
    execution, a visible share of a command's API CPU (figures: docs/benchmarks.md). Rendered without a
    connection, it is UTF-8; only ASCII bytes (the statements with the schema names in use) read the
    same in every client encoding, so any other statement stays composed."""
    text = statement.as_bytes(None)
    return text if text.isascii() else statement


class DatabaseFunctionsRefused(ValueError):
    """eventsourcing was asked to insert events through its database functions, a path that would
    skip this recorder (no chain rows, no citizen keys, no claims)."""


class PostgresKeyedRecorder(KeyedRecording, PostgresApplicationRecorder):
    """PostgreSQL application recorder that also writes claimed keys in the events' transaction."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        if datastore.enable_db_functions:
            # eventsourcing's insert path with database functions never calls this recorder's
            # statements: events would be stored without their chain rows, keys and claims.
            datastore.close()
            msg = (
                "POSTGRES_ENABLE_DB_FUNCTIONS is not supported: eventsourcing's database-function "
                "inserts skip caseledger's recorder (hash chains, citizen keys, claims)"
            )
            raise DatabaseFunctionsRefused(msg)
        # Every statement on the pool's connections (reads, the access log, tokens, /readyz), not
        # only the event insert that eventsourcing bounds with SET LOCAL: a lock held on a table
        # (a migration, VACUUM FULL, a forgotten transaction) is waited for at most this long,
        # then the statement fails (LockNotAvailable) and the request is answered 503.
        kwargs = datastore.pool.kwargs
        if isinstance(kwargs, dict):  # (eventsourcing passes a dict)
            datastore.pool.kwargs = {**kwargs, "options": session_options(datastore.lock_timeout)}
        # (Before eventsourcing's constructor, which opens the pool.)
        super().__init__(datastore, events_table_name=events_table_name)
        self._start_group_commit()
        if type(datastore.pool) is EventsourcingPool:
            # eventsourcing builds the pool; dead connections are replaced at checkout by ours.
            datastore.pool.__class__ = RevivingPool
        self.keys_table = SQL("{0}.{1}").format(Identifier(datastore.schema), Identifier(KEYS_TABLE))
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {0} (key text PRIMARY KEY, fingerprint text NOT NULL, "
                "result text NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now())"
            ).format(self.keys_table)
        )
        self.chain_table = SQL("{0}.{1}").format(Identifier(datastore.schema), Identifier(CHAIN_TABLE))
        self.events_table = SQL("{0}.{1}").format(
            Identifier(datastore.schema), Identifier(self.events_table_name)
        )
        self.lock_table_statements = [
            rendered(statement) if isinstance(statement, Composed) else statement
            for statement in self.lock_table_statements
        ]
        self.insert_arrays_statement = rendered(
            SQL(
                "INSERT INTO {0} (originator_id, originator_version, topic, state) "
                "SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[]) "
                "RETURNING notification_id"
            ).format(self.events_table)
        )
        self.notify_statement = rendered(SQL("NOTIFY {0}").format(Identifier(self.channel_name)))
        self.insert_claims_statement = rendered(
            SQL(
                "INSERT INTO {0} (key, fingerprint, result) "
                "SELECT * FROM unnest(%b::text[], %b::text[], %b::text[])"
            ).format(self.keys_table)
        )
        self.insert_citizen_keys_statement = rendered(
            SQL(
                "INSERT INTO {0}.{1} (key_id, blind_index, wrapped_key, created_at, municipality) "
                "VALUES (%s, %s, %s, %s, %s)"
            ).format(Identifier(datastore.schema), Identifier(CITIZEN_KEYS))
        )
        self.insert_links_statement = rendered(
            SQL(
                "INSERT INTO {0}.{1} (referral_id, key_id, position) VALUES (%s, %s, %s) "
                "ON CONFLICT (referral_id) DO NOTHING"
            ).format(Identifier(datastore.schema), Identifier(LINKS))
        )
        self.chain_heads_statement = rendered(
            SQL(
                "SELECT c.originator_id, c.stream_hash AS hash FROM {0} c "
                "JOIN unnest(%b::uuid[], %b::bigint[]) AS k(id, v) "
                "ON c.originator_id = k.id AND c.originator_version = k.v "
                "UNION ALL (SELECT NULL, global_hash FROM {0} ORDER BY position DESC LIMIT 1)"
            ).format(self.chain_table)
        )
        self.insert_chain_statement = rendered(
            SQL(
                "INSERT INTO {0} (position, originator_id, originator_version, stream_hash, global_hash) "
                "SELECT * FROM unnest(%b::bigint[], %b::uuid[], %b::bigint[], %b::text[], %b::text[])"
            ).format(self.chain_table)
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {0} (position bigint PRIMARY KEY, originator_id uuid NOT NULL, "
                "originator_version bigint NOT NULL, stream_hash text NOT NULL, global_hash text NOT NULL, "
                "UNIQUE (originator_id, originator_version))"
            ).format(self.chain_table)
        )

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """Concurrent inserts share transactions (see ``application.storage.group_commit``)."""
        if kwargs.get("tracking") is not None:
            return cast("Sequence[int] | None", self._insert_with_retry(stored_events, **kwargs))
        return self._submit(stored_events, kwargs.get("claims", ()), kwargs.get("citizen_keys", ()))

    def _insert_alone(
        self, stored_events: Sequence[StoredEvent], claims: Sequence[Claim], citizen_keys: Sequence[Any]
    ) -> Sequence[int] | None:
        return cast(
            "Sequence[int] | None",
            self._insert_with_retry(stored_events, claims=claims, citizen_keys=citizen_keys),
        )

    _insert_with_retry = bounded_retry(PostgresApplicationRecorder.insert_events)
    select_events = bounded_retry(PostgresApplicationRecorder.select_events)
    select_notifications = bounded_retry(PostgresApplicationRecorder.select_notifications)
    max_notification_id = bounded_retry(PostgresApplicationRecorder.max_notification_id)

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        # Unique keys are inserted in one order (sorted) by every transaction: two batches claiming
        # the same keys, or making the same citizens' first data keys, in different orders would
        # otherwise each wait for the other's uncommitted row (a deadlock, answered 503); in one
        # order, the later one waits and then meets the earlier's row as a UniqueViolation.
        claims: Sequence[Claim] = sorted(kwargs.get("claims", ()), key=attrgetter("key"))
        new_keys: Sequence[NewCitizenKey] = sorted(kwargs.get("citizen_keys", ()), key=INSERT_ORDER)
        if not claims and not new_keys:
            return
        # eventsourcing writes in pipeline mode. Sync right after the claims, so that a key taken by
        # a concurrent request raises its own UniqueViolation (an IntegrityError: a replay or a 409)
        # rather than surfacing later as PipelineAborted, an OperationalError that would be retried
        # and then answered as 503. The same for a citizen's data key made concurrently (retried).
        with curs.connection.pipeline() as pipeline:
            if claims:
                curs.execute(
                    self.insert_claims_statement,
                    (
                        [claim.key for claim in claims],
                        [claim.fingerprint for claim in claims],
                        [claim.result for claim in claims],
                    ),
                )
            if new_keys:
                curs.executemany(self.insert_citizen_keys_statement, new_keys)
            pipeline.sync()

    def _notify_channel(self, curs: Cursor[DictRow]) -> None:
        curs.execute(self.notify_statement)

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        """As eventsourcing does (table lock, NOTIFY, one INSERT … RETURNING), but with the events
        as four arrays sent in binary rather than an array of composites in text, whose encoding
        (bytea as escaped text) cost more than the rest of a large save."""
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(
            self.insert_arrays_statement,
            (
                [as_uuid(e.originator_id) for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
            ),
        )

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if positions:
            self._insert_chain(curs, stored_events, positions)
            links = citizen_links(stored_events, positions)
            if links:
                curs.executemany(self.insert_links_statement, links)
        return positions

    def _insert_chain(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], positions: Sequence[int]
    ) -> None:
        """Link the new events into both chains. eventsourcing holds the events table in EXCLUSIVE
        mode until this transaction ends, so the head read here is the head they follow."""
        events = new_events(stored_events, positions)
        before = versions_before(events)
        curs.execute(self.chain_heads_statement, ([i for i, _ in before], [v for _, v in before]))
        previous_stream, previous_global = previous_hashes(curs.fetchall())
        rows = link(events, previous_stream, previous_global)
        curs.execute(
            self.insert_chain_statement,
            [list(column) for column in zip(*rows, strict=True)] if rows else [[], [], [], [], []],
        )

    # -- the verifier's reads (application.audit.chain.ChainStore) ---------------------------------------

    def _select(self, statement: Any, params: Sequence[Any]) -> list[DictRow]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(statement, params)
            return curs.fetchall()

    def max_position(self) -> int:
        return int(self.max_notification_id() or 0)

    def _select_by_stream(
        self, table: str, after: tuple[UUID, int] | None, upto: int, limit: int, stream: UUID | None
    ) -> list[Any]:
        where: Composable = SQL("")
        params: list[Any] = []
        if stream is not None:
            where += SQL(" AND originator_id = %s")
            params.append(stream)
        if after is not None:
            where += SQL(" AND (originator_id, originator_version) > (%s, %s)")
            params += [after[0], after[1]]
        # "+ 0": keep the planner on the primary key (originator_id, originator_version).
        select = (
            SQL(
                "SELECT notification_id, originator_id, originator_version, topic, state FROM {0} "
                "WHERE notification_id + 0"
            ).format(self.events_table)
            if table == "events"
            else SQL("SELECT * FROM {0} WHERE position + 0").format(self.chain_table)
        )
        return self._select(
            SQL("{0} <= %s{1} ORDER BY originator_id, originator_version LIMIT %s").format(select, where),
            [upto, *params, limit],
        )

    def chain_rows_by_position(self, after: int, upto: int, limit: int) -> list[ChainRow]:
        rows = self._select(
            SQL("SELECT * FROM {0} WHERE position > %s AND position <= %s ORDER BY position LIMIT %s").format(
                self.chain_table
            ),
            [after, upto, limit],
        )
        return [chain_row(r, r["originator_id"]) for r in rows]

    def chain_links_of(self, stream: UUID, upto: int) -> list[tuple[ChainRow, str | None]]:
        rows = self._select(
            # "+ 0": a stream's few rows are found by its originator_id; without it, PostgreSQL
            # (without fresh statistics) also scanned the position index up to ``upto`` and ANDed
            # the two, two orders of magnitude slower on a million events (docs/benchmarks.md).
            SQL(
                "SELECT c.*, (SELECT p.global_hash FROM {0} p WHERE p.position < c.position "
                "ORDER BY p.position DESC LIMIT 1) AS previous_global FROM {0} c "
                "WHERE c.originator_id = %s AND c.position + 0 <= %s ORDER BY c.position"
            ).format(self.chain_table),
            [stream, upto],
        )
        return [(chain_row(r, r["originator_id"]), r["previous_global"]) for r in rows]

    def find_claim(self, key: str) -> StoredClaim | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL("SELECT key, fingerprint, result FROM {0} WHERE key=%s").format(self.keys_table), (key,)
            )
            row = curs.fetchone()
        return StoredClaim(row["key"], row["fingerprint"], row["result"]) if row else None

    def find_claims(self, keys: Sequence[str]) -> dict[str, StoredClaim]:
        """The stored claims among ``keys``, in one query."""
        rows = self._select(
            SQL("SELECT key, fingerprint, result FROM {0} WHERE key = ANY(%s)").format(self.keys_table),
            [list(keys)],
        )
        return {r["key"]: StoredClaim(r["key"], r["fingerprint"], r["result"]) for r in rows}

    def stream_versions(self, originator_ids: Sequence[UUID]) -> dict[UUID, int]:
        """The last stored version of each of ``originator_ids`` that has events, in one query: one
        backward index probe per id. (``WHERE originator_id = ANY(…) GROUP BY``, planned without
        statistics — after a bulk load, with autovacuum off or behind — scanned the whole table
        in parallel, many times slower per batch on a million events: docs/benchmarks.md.)"""
        rows = self._select(
            SQL(
                "SELECT k.id AS originator_id, e.version FROM unnest(%s::uuid[]) AS k(id) "
                "CROSS JOIN LATERAL (SELECT originator_version AS version FROM {0} "
                "WHERE originator_id = k.id ORDER BY originator_version DESC LIMIT 1) e"
            ).format(self.events_table),
            [list(originator_ids)],
        )
        return {as_uuid(r["originator_id"]): int(r["version"]) for r in rows}

    def first_events(self, originator_ids: Sequence[UUID]) -> list[StoredEvent]:
        """The first stored event of each of ``originator_ids`` that has events, in one query: one
        index probe each (as ``stream_versions``)."""
        rows = self._select(
            SQL(
                "SELECT e.originator_id, e.originator_version, e.topic, e.state FROM unnest(%s::uuid[]) AS k(id) "
                "JOIN {0} e ON e.originator_id = k.id AND e.originator_version = 1"
            ).format(self.events_table),
            [list(originator_ids)],
        )
        return [
            StoredEvent(as_uuid(r["originator_id"]), r["originator_version"], r["topic"], bytes(r["state"]))
            for r in rows
        ]

    def _select_events_upto(self, chunk: Sequence[tuple[UUID, int]]) -> list[Any]:
        # One index range scan per id (as ``stream_versions``).
        return self._select(
            SQL(
                "SELECT k.id AS originator_id, e.originator_version, e.topic, e.state "
                "FROM unnest(%s::uuid[], %s::bigint[]) AS k(id, version) CROSS JOIN LATERAL "
                "(SELECT originator_version, topic, state FROM {0} "
                "WHERE originator_id = k.id AND originator_version <= k.version "
                "ORDER BY originator_version) e"
            ).format(self.events_table),
            [[i for i, _ in chunk], [v for _, v in chunk]],
        )

    def positions_of(self, events: Sequence[tuple[UUID, int]]) -> dict[tuple[UUID, int], int]:
        """The position of each stored ``(originator_id, version)`` among ``events``, in one query:
        one index probe each (as ``stream_versions``)."""
        rows = self._select(
            SQL(
                "SELECT k.id AS originator_id, k.version, e.notification_id "
                "FROM unnest(%s::uuid[], %s::bigint[]) AS k(id, version) CROSS JOIN LATERAL "
                "(SELECT notification_id FROM {0} WHERE originator_id = k.id AND originator_version = k.version) e"
            ).format(self.events_table),
            [[i for i, _ in events], [v for _, v in events]],
        )
        return {(as_uuid(r["originator_id"]), int(r["version"])): int(r["notification_id"]) for r in rows}

    def position_of(self, originator_id: UUID, version: int) -> int | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL(
                    "SELECT notification_id FROM {0}.{1} WHERE originator_id=%s AND originator_version=%s"
                ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name)),
                (originator_id, version),
            )
            row = curs.fetchone()
        return int(row["notification_id"]) if row else None
