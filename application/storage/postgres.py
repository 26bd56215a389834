"""Storage chosen by one setting: an SQLite file (embedded default) or PostgreSQL (production).

The recorders extend eventsourcing's own with two tables written in the same transaction as the
events: ``caseledger_keys`` (see ``application.keys``) and ``caseledger_chain``, the hash chains
that make tampering evident (see ``application.chain``). Both also answer the verifier's reads.
"""

from __future__ import annotations

import fcntl
import functools
import json
import select
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from operator import attrgetter
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import ConnectionPool as EventsourcingPool
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from eventsourcing.utils import Environment, get_topic
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composable, Composed, Identifier
from psycopg_pool import ConnectionPool, PoolTimeout

from application.chain import CHAIN_TABLE, GENESIS, ChainRow, NewEvent, StoredRow, link
from application.citizen_keys import INSERT_ORDER, LINKS, SQLITE_DDL, NewCitizenKey
from application.citizen_keys import KEYS as CITIZEN_KEYS
from application.group_commit import GroupCommit
from application.keys import Claim, StoredClaim
from application.personal_data import is_sealed, key_id_of
from application.storage_health import StorageHealth
from domain.referral import Referral

KEYS_TABLE = "caseledger_keys"
DEFAULT_SQLITE_PATH = Path("caseledger-data") / "caseledger.sqlite"
RETRY_WINDOW_SECONDS = 1.0
"""A storage call that fails within this time of its first attempt is tried again (a connection
dropped by a server restart); one that fails later is given up, so that a request never waits for
more than about one pool timeout (``connect_timeout``) while the database is down."""


def _bounded_retry(method: Callable[..., Any]) -> Callable[..., Any]:
    """eventsourcing's PostgreSQL recorder retries a failed call 10 times; each attempt may wait a
    full pool timeout while the server is down, which holds a request for close to a minute. Use
    the undecorated method and retry it only within ``RETRY_WINDOW_SECONDS``."""
    inner: Callable[..., Any] = getattr(method, "__wrapped__", method)

    @functools.wraps(inner)
    def call(*args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        while True:
            try:
                return inner(*args, **kwargs)
            except (InterfaceError, OperationalError):
                if time.monotonic() - started > RETRY_WINDOW_SECONDS:
                    raise
                time.sleep(0.1)

    return call


class SQLiteKeyedRecorder(SQLiteApplicationRecorder):
    """SQLite application recorder that also writes claimed keys in the events' transaction."""

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name)
        self.group_commit = GroupCommit(self._insert_alone)
        self.health = StorageHealth()

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """Concurrent inserts share transactions (see ``application.group_commit``)."""
        if kwargs.get("tracking") is not None:
            return super().insert_events(stored_events, **kwargs)
        return self._submit(stored_events, kwargs.get("claims", ()), kwargs.get("citizen_keys", ()))

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
        events = _new_events(stored_events, positions)
        wanted = json.dumps([[i.hex, v] for i, v in _versions_before(events)])
        c.execute(
            f"SELECT originator_id, stream_hash AS hash FROM {CHAIN_TABLE} "
            "WHERE (originator_id, originator_version) IN "
            "(SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?)) "
            f"UNION ALL SELECT * FROM (SELECT NULL, global_hash FROM {CHAIN_TABLE} "
            "ORDER BY position DESC LIMIT 1)",
            (wanted,),
        )
        previous_stream, previous_global = _previous_hashes(c.fetchall())
        rows = link(events, previous_stream, previous_global)
        c.executemany(
            f"INSERT INTO {CHAIN_TABLE} (position, originator_id, originator_version, stream_hash, "
            "global_hash) VALUES (?,?,?,?,?)",
            [(p, i.hex, v, sh, gh) for p, i, v, sh, gh in rows],
        )

    # -- the verifier's reads (application.chain.ChainStore) ---------------------------------------

    def _select(self, statement: str, params: Sequence[Any]) -> list[Any]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, params)
            return list(c.fetchall())

    def max_position(self) -> int:
        return int(self.max_notification_id() or 0)

    @staticmethod
    def _stream_filter(after: tuple[UUID, int] | None, stream: UUID | None) -> tuple[str, list[Any]]:
        where, params = "", list[Any]()
        if stream is not None:
            where += " AND originator_id = ?"
            params.append(stream.hex)
        if after is not None:
            where += " AND (originator_id, originator_version) > (?, ?)"
            params += [after[0].hex, after[1]]
        return where, params

    def stored_rows_by_stream(
        self, after: tuple[UUID, int] | None, upto: int, limit: int, stream: UUID | None = None
    ) -> list[StoredRow]:
        where, params = self._stream_filter(after, stream)
        rows = self._select(
            # "+rowid": keep the planner on the (originator_id, originator_version) index.
            f"SELECT rowid, originator_id, originator_version, topic, state FROM {self.events_table_name} "
            f"WHERE +rowid <= ?{where} ORDER BY originator_id, originator_version LIMIT ?",
            [upto, *params, limit],
        )
        return [
            StoredRow(
                UUID(r["originator_id"]),
                r["originator_version"],
                r["topic"] or "",
                _as_bytes(r["state"]),
                r["rowid"],
            )
            for r in rows
        ]

    def chain_rows_by_stream(
        self, after: tuple[UUID, int] | None, upto: int, limit: int, stream: UUID | None = None
    ) -> list[ChainRow]:
        where, params = self._stream_filter(after, stream)
        rows = self._select(
            f"SELECT * FROM {CHAIN_TABLE} WHERE +position <= ?{where} "
            "ORDER BY originator_id, originator_version LIMIT ?",
            [upto, *params, limit],
        )
        return [_chain_row(r, UUID(r["originator_id"])) for r in rows]

    def chain_rows_by_position(self, after: int, upto: int, limit: int) -> list[ChainRow]:
        rows = self._select(
            f"SELECT * FROM {CHAIN_TABLE} WHERE position > ? AND position <= ? ORDER BY position LIMIT ?",
            [after, upto, limit],
        )
        return [_chain_row(r, UUID(r["originator_id"])) for r in rows]

    def chain_links_of(self, stream: UUID, upto: int) -> list[tuple[ChainRow, str | None]]:
        rows = self._select(
            f"SELECT c.*, (SELECT p.global_hash FROM {CHAIN_TABLE} p WHERE p.position < c.position "
            f"ORDER BY p.position DESC LIMIT 1) AS previous_global FROM {CHAIN_TABLE} c "
            "WHERE c.originator_id = ? AND c.position <= ? ORDER BY c.position",
            [stream.hex, upto],
        )
        return [(_chain_row(r, UUID(r["originator_id"])), r["previous_global"]) for r in rows]

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


def rendered(statement: Composed) -> bytes | Composed:
    """A composed statement as bytes, built once: psycopg renders a ``Composed`` again on every
    execution (about 3 % of a command's API CPU for the statements of one write). Rendered without a
    connection, it is UTF-8; only ASCII bytes (the statements with the schema names in use) read the
    same in every client encoding, so any other statement stays composed."""
    text = statement.as_bytes(None)
    return text if text.isascii() else statement


class DatabaseFunctionsRefused(ValueError):
    """eventsourcing was asked to insert events through its database functions, a path that would
    skip this recorder (no chain rows, no citizen keys, no claims)."""


class PostgresKeyedRecorder(PostgresApplicationRecorder):
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
        self.group_commit = GroupCommit(self._insert_alone)
        self.health = StorageHealth()
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
        """Concurrent inserts share transactions (see ``application.group_commit``)."""
        if kwargs.get("tracking") is not None:
            return cast("Sequence[int] | None", self._insert_with_retry(stored_events, **kwargs))
        return self._submit(stored_events, kwargs.get("claims", ()), kwargs.get("citizen_keys", ()))

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

    def _insert_alone(
        self, stored_events: Sequence[StoredEvent], claims: Sequence[Claim], citizen_keys: Sequence[Any]
    ) -> Sequence[int] | None:
        return cast(
            "Sequence[int] | None",
            self._insert_with_retry(stored_events, claims=claims, citizen_keys=citizen_keys),
        )

    _insert_with_retry = _bounded_retry(PostgresApplicationRecorder.insert_events)
    select_events = _bounded_retry(PostgresApplicationRecorder.select_events)
    select_notifications = _bounded_retry(PostgresApplicationRecorder.select_notifications)
    max_notification_id = _bounded_retry(PostgresApplicationRecorder.max_notification_id)

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
                [_as_uuid(e.originator_id) for e in stored_events],
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
        events = _new_events(stored_events, positions)
        before = _versions_before(events)
        curs.execute(self.chain_heads_statement, ([i for i, _ in before], [v for _, v in before]))
        previous_stream, previous_global = _previous_hashes(curs.fetchall())
        rows = link(events, previous_stream, previous_global)
        curs.execute(
            self.insert_chain_statement,
            [list(column) for column in zip(*rows, strict=True)] if rows else [[], [], [], [], []],
        )

    # -- the verifier's reads (application.chain.ChainStore) ---------------------------------------

    def _select(self, statement: Any, params: Sequence[Any]) -> list[DictRow]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(statement, params)
            return curs.fetchall()

    def max_position(self) -> int:
        return int(self.max_notification_id() or 0)

    @staticmethod
    def _stream_filter(after: tuple[UUID, int] | None, stream: UUID | None) -> tuple[Composable, list[Any]]:
        where: Composable = SQL("")
        params: list[Any] = []
        if stream is not None:
            where += SQL(" AND originator_id = %s")
            params.append(stream)
        if after is not None:
            where += SQL(" AND (originator_id, originator_version) > (%s, %s)")
            params += [after[0], after[1]]
        return where, params

    def stored_rows_by_stream(
        self, after: tuple[UUID, int] | None, upto: int, limit: int, stream: UUID | None = None
    ) -> list[StoredRow]:
        where, params = self._stream_filter(after, stream)
        rows = self._select(
            # "+ 0": keep the planner on the primary key (originator_id, originator_version).
            SQL(
                "SELECT notification_id, originator_id, originator_version, topic, state FROM {0} "
                "WHERE notification_id + 0 <= %s{1} ORDER BY originator_id, originator_version LIMIT %s"
            ).format(self.events_table, where),
            [upto, *params, limit],
        )
        return [
            StoredRow(
                r["originator_id"],
                r["originator_version"],
                r["topic"] or "",
                bytes(r["state"]),
                r["notification_id"],
            )
            for r in rows
        ]

    def chain_rows_by_stream(
        self, after: tuple[UUID, int] | None, upto: int, limit: int, stream: UUID | None = None
    ) -> list[ChainRow]:
        where, params = self._stream_filter(after, stream)
        rows = self._select(
            SQL(
                "SELECT * FROM {0} WHERE position + 0 <= %s{1} "
                "ORDER BY originator_id, originator_version LIMIT %s"
            ).format(self.chain_table, where),
            [upto, *params, limit],
        )
        return [_chain_row(r, r["originator_id"]) for r in rows]

    def chain_rows_by_position(self, after: int, upto: int, limit: int) -> list[ChainRow]:
        rows = self._select(
            SQL("SELECT * FROM {0} WHERE position > %s AND position <= %s ORDER BY position LIMIT %s").format(
                self.chain_table
            ),
            [after, upto, limit],
        )
        return [_chain_row(r, r["originator_id"]) for r in rows]

    def chain_links_of(self, stream: UUID, upto: int) -> list[tuple[ChainRow, str | None]]:
        rows = self._select(
            # "+ 0": a stream's few rows are found by its originator_id; without it, PostgreSQL
            # (without fresh statistics) also scanned the position index up to ``upto`` and ANDed
            # the two, 39 ms on a million events against 0.2 ms.
            SQL(
                "SELECT c.*, (SELECT p.global_hash FROM {0} p WHERE p.position < c.position "
                "ORDER BY p.position DESC LIMIT 1) AS previous_global FROM {0} c "
                "WHERE c.originator_id = %s AND c.position + 0 <= %s ORDER BY c.position"
            ).format(self.chain_table),
            [stream, upto],
        )
        return [(_chain_row(r, r["originator_id"]), r["previous_global"]) for r in rows]

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
        in parallel: 165–215 ms per batch on a million events, against 6 ms.)"""
        rows = self._select(
            SQL(
                "SELECT k.id AS originator_id, e.version FROM unnest(%s::uuid[]) AS k(id) "
                "CROSS JOIN LATERAL (SELECT originator_version AS version FROM {0} "
                "WHERE originator_id = k.id ORDER BY originator_version DESC LIMIT 1) e"
            ).format(self.events_table),
            [list(originator_ids)],
        )
        return {_as_uuid(r["originator_id"]): int(r["version"]) for r in rows}

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
            StoredEvent(_as_uuid(r["originator_id"]), r["originator_version"], r["topic"], bytes(r["state"]))
            for r in rows
        ]

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
        return {(_as_uuid(r["originator_id"]), int(r["version"])): int(r["notification_id"]) for r in rows}

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


def session_options(lock_timeout: float) -> str:
    """libpq's ``options`` that bound each wait for a lock of every statement on a connection
    (``lock_timeout`` in seconds; 0 waits without end, as PostgreSQL's own default)."""
    return f"-c lock_timeout={int(lock_timeout * 1000)}ms"


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
            links.append((_as_uuid(event.originator_id), key_id_of(citizen_ref), position))
    return links


class RevivingPool(EventsourcingPool[Any]):
    """eventsourcing's pool, whose checkout replaces dead connections without a pause.

    After a server restart (or terminated backends) every idle connection is dead. psycopg_pool's
    own ``check`` finds them one at a time and sleeps with backoff between failed checks (1 s, 2 s,
    …): with five dead connections the first request after an idle restart waited 3–5 s and often
    ran out of ``connect_timeout`` (503). Here a dead connection is closed and handed back (the pool
    opens a replacement in the background) and the next one is taken at once, within the same
    deadline."""

    def getconn(self, timeout: float | None = None) -> Any:
        return checked_getconn(self, super().getconn, timeout)


def checked_getconn(pool: ConnectionPool[Any], getconn: Callable[[float], Any], timeout: float | None) -> Any:
    """A connection from ``pool`` that passed ``quick_check``, dead ones replaced, within ``timeout``."""
    wait = pool.timeout if timeout is None else timeout
    deadline = time.monotonic() + wait
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            msg = f"couldn't get a connection after {wait:.2f} sec"
            raise PoolTimeout(msg)
        connection = getconn(left)
        try:
            quick_check(connection)
        except psycopg.Error:
            connection.close()
            pool.putconn(connection)  # a closed connection is dropped and replaced by the pool
            continue
        return connection


def quick_check(connection: psycopg.Connection[Any]) -> None:
    """The check before handing out a connection, without a round trip for a healthy one.

    An idle connection's socket has nothing to read unless the server closed it (restart,
    terminated backend, idle timeout) or sent an error; only then is it pinged, and the ping's
    failure makes the pool replace it. A ping on every checkout cost one round trip each, several
    per request."""
    if connection.closed or connection.broken:
        msg = "the connection is closed"
        raise psycopg.OperationalError(msg)
    try:
        readable, _, _ = select.select([connection.fileno()], [], [], 0)
    except (OSError, ValueError):
        readable = [True]
    if readable:
        ConnectionPool.check_connection(connection)


def _new_events(stored_events: Sequence[StoredEvent], positions: Sequence[int]) -> list[NewEvent]:
    """The events being recorded with the positions the database gave them (in insert order)."""
    return [
        NewEvent(_as_uuid(e.originator_id), e.originator_version, e.topic, e.state, p)
        for e, p in zip(stored_events, positions, strict=True)
    ]


def _as_bytes(value: bytes | memoryview | str | None) -> bytes:
    """Stored state as bytes, also when someone rewrote it as text (SQLite keeps what it is given)."""
    if value is None:
        return b""
    return value.encode() if isinstance(value, str) else bytes(value)


def _as_uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def _versions_before(events: Sequence[NewEvent]) -> list[tuple[UUID, int]]:
    """Per stream in the batch, the version just before its first new one (whose link it follows)."""
    first: dict[UUID, int] = {}
    for event in events:
        first[event.originator_id] = min(event.version, first.get(event.originator_id, event.version))
    return [(stream, version - 1) for stream, version in first.items()]


def _previous_hashes(rows: Sequence[Any]) -> tuple[dict[UUID, bytes], bytes]:
    """Split the one read of previous hashes: stream links by stream, and the global head."""
    previous_stream: dict[UUID, bytes] = {}
    previous_global = GENESIS
    for row in rows:
        if row["originator_id"] is None:
            previous_global = bytes.fromhex(row["hash"])
        else:
            previous_stream[_as_uuid(row["originator_id"])] = bytes.fromhex(row["hash"])
    return previous_stream, previous_global


def _chain_row(row: Any, originator_id: UUID) -> ChainRow:
    return ChainRow(
        row["position"], originator_id, row["originator_version"], row["stream_hash"], row["global_hash"]
    )


class ExplicitEnvironment(Environment):
    """eventsourcing's environment holding exactly what caseledger gives it.

    The library's own ``Environment`` looks every setting up under the application's name first
    (``CASELEDGER_POSTGRES_DBNAME`` before ``POSTGRES_DBNAME``), and ``Application.construct_env``
    fills it from ``os.environ``; ``CaseLedger.construct_env`` builds this one instead, from the
    mapping ``storage_env`` made, so that nothing the process environment carries reaches the
    library. The name stays: eventsourcing names the tables after it (``caseledger_events``)."""

    def create_keys(self, key: str) -> list[str]:
        return [key]


def storage_env(
    database_url: str, *, master_key: str = "", master_key_file: str = "", make_directory: bool = True
) -> dict[str, str]:
    """Translate ``CASELEDGER_DATABASE_URL`` into eventsourcing's environment settings, with the master
    key that seals personal data when one is given (else ``CaseLedger`` looks for
    ``CASELEDGER_MASTER_KEY`` / ``CASELEDGER_MASTER_KEY_FILE`` in the process environment, then, on
    SQLite only, for ``master.key`` beside the database file). This mapping is all the library is
    given (``ExplicitEnvironment``): a setting it does not name takes the library's default.
    ``make_directory``: create the SQLite file's directory (off to only describe the store).

    ``sqlite:///relative/path.sqlite``, ``sqlite:////absolute/path.sqlite`` or an empty value (the
    default file under ``./caseledger-data/``), with optional ``?lock_timeout=S`` (how long a write
    waits for SQLite's one write lock before it is answered 503; default 10); ``postgresql://user:password@host:port/dbname`` with
    optional ``?schema=NAME&pool_size=N&max_overflow=N&connect_timeout=S&lock_timeout=S``.
    """
    keys = {
        name: value
        for name, value in (
            ("CASELEDGER_MASTER_KEY", master_key.strip()),
            ("CASELEDGER_MASTER_KEY_FILE", master_key_file.strip()),
        )
        if value
    }
    return {**_database_env(database_url, make_directory=make_directory), **keys}


def storage_kind(env: Mapping[str, str]) -> Literal["postgresql", "sqlite"]:
    """The kind of store ``env`` (``storage_env``) names; ``GET /readyz`` tells anyone this much."""
    return "postgresql" if env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres" else "sqlite"


def describe_store(env: Mapping[str, str]) -> str:
    """The store ``env`` (``storage_env``) names, for an operator, without a password:
    ``PostgreSQL 127.0.0.1:5432/caseledger, schema public`` or ``SQLite /abs/path.sqlite``."""
    if env["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
        return (
            f"PostgreSQL {env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}/{env['POSTGRES_DBNAME']}, "
            f"schema {env['POSTGRES_SCHEMA']}"
        )
    database = env["SQLITE_DBNAME"]
    if database == ":memory:":
        return "SQLite in memory"
    return f"SQLite {Path(database).absolute()}"


def store_exists(env: Mapping[str, str]) -> bool:
    """Whether the store ``env`` names holds caseledger's tables (the events table), without creating
    anything. Raises ``psycopg.OperationalError`` when PostgreSQL cannot be reached or the database
    does not exist."""
    if env["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
        with _admin_connection(env) as conn:
            found = conn.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
                [env["POSTGRES_SCHEMA"], "caseledger_events"],
            ).fetchone()
        return found is not None
    database = env["SQLITE_DBNAME"]
    return database != ":memory:" and Path(database).is_file()


POSTGRES_SCHEMES = ("postgresql", "postgres")


def is_postgres(database_url: str) -> bool:
    """Whether ``database_url`` names a PostgreSQL store (anything else is SQLite or invalid)."""
    return urlsplit(database_url.strip()).scheme in POSTGRES_SCHEMES


def _database_env(database_url: str, *, make_directory: bool) -> dict[str, str]:
    url = database_url.strip()
    if not url or url.startswith("sqlite:"):
        url, _, query = url.partition("?")
        sqlite_options = {key: values[-1] for key, values in parse_qs(query).items()}
        path = Path(url.removeprefix("sqlite:").removeprefix("//").removeprefix("/") or DEFAULT_SQLITE_PATH)
        if url.startswith("sqlite:////"):
            path = Path("/" + str(path))
        if make_directory and str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(path),
            "SQLITE_LOCK_TIMEOUT": sqlite_options.get("lock_timeout", "10"),
            "APPLICATION_RECORDER_TOPIC": get_topic(SQLiteKeyedRecorder),
        }
    parts = urlsplit(url)
    if parts.scheme not in POSTGRES_SCHEMES:
        msg = f"CASELEDGER_DATABASE_URL must start with sqlite: or postgresql://, got {parts.scheme!r}"
        raise ValueError(msg)
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")) or "postgres",
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_SCHEMA": options.get("schema", "public"),
        "POSTGRES_POOL_SIZE": options.get("pool_size", "5"),
        "POSTGRES_MAX_OVERFLOW": options.get("max_overflow", "10"),
        "POSTGRES_CONNECT_TIMEOUT": options.get("connect_timeout", "5"),
        "POSTGRES_LOCK_TIMEOUT": options.get("lock_timeout", "5"),
        # No pre-ping by the pool itself: RevivingPool checks at checkout, without its pauses.
        "POSTGRES_PRE_PING": "n",
        "APPLICATION_RECORDER_TOPIC": get_topic(PostgresKeyedRecorder),
    }


def _admin_connection(env: Mapping[str, str]) -> psycopg.Connection[Any]:
    """An autocommit connection to the database of ``env`` (the schema need not exist yet)."""
    return psycopg.connect(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env.get("POSTGRES_PASSWORD", ""),
        connect_timeout=int(env.get("POSTGRES_CONNECT_TIMEOUT") or 5),
        autocommit=True,
    )


def _take_start_up_lock(conn: psycopg.Connection[Any], env: Mapping[str, str]) -> None:
    # A minute, not forever: a process stuck holding it must not hang every other start.
    conn.execute("SET lock_timeout = '60s'")
    conn.execute(
        "SELECT pg_advisory_lock(hashtext(%s))",
        [f"caseledger start-up {env.get('POSTGRES_SCHEMA', 'public')}"],
    )


@contextmanager
def start_up_lock(env: Mapping[str, str]) -> Iterator[None]:
    """Hold PostgreSQL's advisory lock for this schema while the stores create their tables: API
    workers and a projection process starting at once would otherwise race on CREATE … IF NOT
    EXISTS and CREATE OR REPLACE FUNCTION, and PostgreSQL fails the losers (duplicate key, "tuple
    concurrently updated"). On SQLite a lock file beside the database does it: switching a new file
    to WAL fails at once ("database is locked") when another process is doing the same."""
    if env.get("PERSISTENCE_MODULE") != "eventsourcing.postgres":
        with sqlite_start_up_lock(env.get("SQLITE_DBNAME") or ""):
            yield
        return
    with _admin_connection(env) as conn:
        _take_start_up_lock(conn, env)
        yield


@contextmanager
def sqlite_start_up_lock(database: str) -> Iterator[None]:
    if not database or ":memory:" in database or "mode=memory" in database:
        yield
        return
    lock_file = Path(f"{database.removeprefix('file:').split('?')[0]}.start-up-lock")
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
        yield


def prepare_storage(env: dict[str, str]) -> None:
    """Create what eventsourcing does not: the PostgreSQL schema named in the URL (under the
    start-up lock: processes starting together would race on it too)."""
    if env["PERSISTENCE_MODULE"] != "eventsourcing.postgres" or env["POSTGRES_SCHEMA"] == "public":
        return
    with _admin_connection(env) as conn:
        _take_start_up_lock(conn, env)
        conn.execute(SQL("CREATE SCHEMA IF NOT EXISTS {0}").format(Identifier(env["POSTGRES_SCHEMA"])))
