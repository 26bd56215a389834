"""Storage chosen by one setting: an SQLite file (embedded default) or PostgreSQL (production).

The recorders extend eventsourcing's own with the ``caseledger_keys`` table, written in the same
transaction as the events (see ``application.keys``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from eventsourcing.utils import get_topic
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from application.keys import Claim, StoredClaim

KEYS_TABLE = "caseledger_keys"
DEFAULT_SQLITE_PATH = Path("caseledger-data") / "caseledger.sqlite"


class SQLiteKeyedRecorder(SQLiteApplicationRecorder):
    """SQLite application recorder that also writes claimed keys in the events' transaction."""

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {KEYS_TABLE} ("
            "key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, result TEXT NOT NULL, "
            "recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))) WITHOUT ROWID",
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
        return super()._insert_events(c, stored_events, **kwargs)

    def find_claim(self, key: str) -> StoredClaim | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT key, fingerprint, result FROM {KEYS_TABLE} WHERE key=?", (key,))
            row = c.fetchone()
        return StoredClaim(row["key"], row["fingerprint"], row["result"]) if row else None

    def position_of(self, originator_id: UUID, version: int) -> int | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT rowid FROM {self.events_table_name} WHERE originator_id=? AND originator_version=?",
                (originator_id.hex, version),
            )
            row = c.fetchone()
        return int(row["rowid"]) if row else None


class PostgresKeyedRecorder(PostgresApplicationRecorder):
    """PostgreSQL application recorder that also writes claimed keys in the events' transaction."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.keys_table = SQL("{0}.{1}").format(Identifier(datastore.schema), Identifier(KEYS_TABLE))
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {0} (key text PRIMARY KEY, fingerprint text NOT NULL, "
                "result text NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now())"
            ).format(self.keys_table)
        )

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        claims: Sequence[Claim] = kwargs.get("claims", ())
        if not claims:
            return
        # eventsourcing writes in pipeline mode. Sync right after the claims, so that a key taken by
        # a concurrent request raises its own UniqueViolation (an IntegrityError: a replay or a 409)
        # rather than surfacing later as PipelineAborted, an OperationalError that would be retried
        # and then answered as 503.
        with curs.connection.pipeline() as pipeline:
            for claim in claims:
                curs.execute(
                    SQL("INSERT INTO {0} (key, fingerprint, result) VALUES (%s, %s, %s)").format(
                        self.keys_table
                    ),
                    (claim.key, claim.fingerprint, claim.result),
                )
            pipeline.sync()

    def find_claim(self, key: str) -> StoredClaim | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL("SELECT key, fingerprint, result FROM {0} WHERE key=%s").format(self.keys_table), (key,)
            )
            row = curs.fetchone()
        return StoredClaim(row["key"], row["fingerprint"], row["result"]) if row else None

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


def storage_env(database_url: str) -> dict[str, str]:
    """Translate ``CASELEDGER_DATABASE_URL`` into eventsourcing's environment settings.

    ``sqlite:///relative/path.sqlite``, ``sqlite:////absolute/path.sqlite`` or an empty value (the
    default file under ``./caseledger-data/``); ``postgresql://user:password@host:port/dbname`` with
    optional ``?schema=NAME&pool_size=N&max_overflow=N&connect_timeout=S&lock_timeout=S``.
    """
    url = database_url.strip()
    if not url or url.startswith("sqlite:"):
        path = Path(url.removeprefix("sqlite:").removeprefix("//").removeprefix("/") or DEFAULT_SQLITE_PATH)
        if url.startswith("sqlite:////"):
            path = Path("/" + str(path))
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(path),
            "SQLITE_LOCK_TIMEOUT": "10",
            "APPLICATION_RECORDER_TOPIC": get_topic(SQLiteKeyedRecorder),
        }
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
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
        "POSTGRES_PRE_PING": "y",
        "APPLICATION_RECORDER_TOPIC": get_topic(PostgresKeyedRecorder),
    }


def prepare_storage(env: dict[str, str]) -> None:
    """Create what eventsourcing does not: the PostgreSQL schema named in the URL."""
    if env["PERSISTENCE_MODULE"] != "eventsourcing.postgres" or env["POSTGRES_SCHEMA"] == "public":
        return
    with psycopg.connect(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"],
        connect_timeout=int(env["POSTGRES_CONNECT_TIMEOUT"]),
        autocommit=True,
    ) as conn:
        conn.execute(SQL("CREATE SCHEMA IF NOT EXISTS {0}").format(Identifier(env["POSTGRES_SCHEMA"])))
