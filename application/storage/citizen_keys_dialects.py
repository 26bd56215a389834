"""The citizen key store on SQLite and on PostgreSQL: tables, transactions and physical purging."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from psycopg.sql import SQL, Identifier

from application.storage.citizen_keys import (
    ADDED_COLUMNS,
    ERASED_REFERRALS,
    ERASURES,
    KEYS,
    LINKS,
    META,
    CitizenKeyStore,
    _Cursor,
)
from application.storage.sqlite_writes import write_transaction

_NOT_REMOVABLE = re.compile(r"(\d+) dead row versions cannot be removed yet")


SQLITE_DDL = (
    f"CREATE TABLE IF NOT EXISTS {KEYS} (key_id TEXT PRIMARY KEY, blind_index TEXT NOT NULL UNIQUE, "
    "wrapped_key BLOB NOT NULL, created_at TEXT NOT NULL, municipality TEXT)",
    f"CREATE TABLE IF NOT EXISTS {LINKS} (referral_id TEXT PRIMARY KEY, key_id TEXT NOT NULL, "
    "position INTEGER NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS {LINKS}_key ON {LINKS} (key_id)",
    f"CREATE TABLE IF NOT EXISTS {ERASURES} (erasure_id TEXT PRIMARY KEY, key_id TEXT NOT NULL, "
    "blind_index TEXT NOT NULL, referral_ids TEXT NOT NULL, erased_at TEXT NOT NULL, actor TEXT NOT NULL, "
    "reason TEXT NOT NULL, municipality TEXT, shared_key_id TEXT)",
    f"CREATE INDEX IF NOT EXISTS {ERASURES}_index ON {ERASURES} (blind_index)",
    f"CREATE TABLE IF NOT EXISTS {ERASED_REFERRALS} (referral_id TEXT PRIMARY KEY, key_id TEXT NOT NULL, "
    "erasure_id TEXT NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {META} (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
)


class SQLiteCitizenKeyStore(CitizenKeyStore):
    """In the SQLite file of the event store, through its datastore's connections."""

    dialect = "sqlite"

    def __init__(self, datastore: SQLiteDatastore) -> None:
        self.datastore = datastore
        with self._transaction() as cur:
            for statement in SQLITE_DDL:
                cur.execute(statement)
            for table, column in ADDED_COLUMNS:  # a store from before the keys per municipality
                cur.execute("SELECT count(*) FROM pragma_table_info(?) WHERE name = ?", (table, column))
                if not cur.fetchone()[0]:
                    cur.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")

    @contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[Any]:
        with write_transaction(self.datastore) if write else self.datastore.transaction(commit=False) as cur:
            if write:
                # Overwrite deleted and freed content with zeros on this connection from now on, so
                # that no copy of a destroyed key stays in a free page or a page's free space.
                cur.execute("PRAGMA secure_delete=ON")
            yield cur

    def _sql(self, statement: str) -> str:
        return statement.format(keys=KEYS, links=LINKS, erasures=ERASURES, meta=META, erased=ERASED_REFERRALS)

    def purge(self) -> bool:
        """Checkpoint the write-ahead log into the database file and truncate it to zero bytes (its
        frames still hold the key's page as it was before the erasure). A reader that holds an old
        snapshot keeps the log busy: then this retries until ``purge_timeout`` and answers False."""
        deadline = time.monotonic() + self.purge_timeout
        with self.datastore.get_connection(commit=True) as conn:
            cursor = conn.cursor()
            cursor.execute("PRAGMA busy_timeout")
            busy_timeout = int(cursor.fetchone()[0])
            cursor.execute("PRAGMA busy_timeout = 100")
            try:
                while True:
                    cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    busy, _log, _done = cursor.fetchone()
                    if not busy:
                        return True
                    if time.monotonic() >= deadline:
                        return False
                    time.sleep(0.1)
            finally:
                cursor.execute(f"PRAGMA busy_timeout = {busy_timeout}")


class PostgresCitizenKeyStore(CitizenKeyStore):
    """In the PostgreSQL schema of the event store, through its datastore's pool."""

    dialect = "postgres"

    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore
        self.tables = {
            name: SQL("{0}.{1}").format(Identifier(datastore.schema), Identifier(table))
            for name, table in (
                ("keys", KEYS),
                ("links", LINKS),
                ("erasures", ERASURES),
                ("meta", META),
                ("erased", ERASED_REFERRALS),
            )
        }
        statements = (
            "CREATE TABLE IF NOT EXISTS {keys} (key_id text PRIMARY KEY, blind_index text NOT NULL UNIQUE, "
            "wrapped_key bytea NOT NULL, created_at text NOT NULL, municipality text)",
            "CREATE TABLE IF NOT EXISTS {links} (referral_id uuid PRIMARY KEY, key_id text NOT NULL, "
            "position bigint NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {LINKS}_key ON {{links}} (key_id)",
            "CREATE TABLE IF NOT EXISTS {erasures} (erasure_id text PRIMARY KEY, key_id text NOT NULL, "
            "blind_index text NOT NULL, referral_ids text NOT NULL, erased_at text NOT NULL, "
            "actor text NOT NULL, reason text NOT NULL, municipality text, shared_key_id text)",
            f"CREATE INDEX IF NOT EXISTS {ERASURES}_index ON {{erasures}} (blind_index)",
            "CREATE TABLE IF NOT EXISTS {meta} (name text PRIMARY KEY, value text NOT NULL)",
            "CREATE TABLE IF NOT EXISTS {erased} (referral_id text PRIMARY KEY, key_id text NOT NULL, "
            "erasure_id text NOT NULL)",
        )
        with self._transaction() as cur:
            for statement in statements:
                cur.execute(self._sql(statement))
            # A store from before the keys per municipality: add the columns. Looked up first, as
            # ALTER TABLE would take the table's exclusive lock at every start.
            for table, column in ADDED_COLUMNS:
                cur.execute(
                    "SELECT 1 FROM information_schema.columns "
                    "WHERE table_schema = %s AND table_name = %s AND column_name = %s",
                    (datastore.schema, table, column),
                )
                if cur.fetchone() is None:
                    cur.execute(
                        SQL("ALTER TABLE {0}.{1} ADD COLUMN IF NOT EXISTS {2} text").format(
                            Identifier(datastore.schema), Identifier(table), Identifier(column)
                        )
                    )

    def _transaction(self, *, write: bool = True) -> Any:
        return self.datastore.transaction(commit=write)

    def _lock_key(self, cur: _Cursor, key_id: str) -> None:
        # Two municipalities erasing the citizen of one shared key at once: the later waits here,
        # then counts the links the earlier left (read committed), so the last one destroys the key.
        cur.execute(self._sql("SELECT key_id FROM {keys} WHERE key_id = ? FOR UPDATE"), (key_id,))

    def _sql(self, statement: str) -> Any:
        return SQL(statement.replace("?", "%s")).format(**self.tables)

    def _select_in(self, cur: _Cursor, select: str, column: str, values: list[str]) -> list[Any]:
        # One statement with one array, however many values: psycopg parses a statement of hundreds
        # of placeholders anew each time, and a rebuild looks up hundreds of keys per batch of
        # events (for the case indexes; measured: docs/benchmarks.md, "Figures behind choices").
        if not values:
            return []
        cur.execute(self._sql(f"{select} WHERE {column} = ANY(?)"), (list(values),))
        return list(cur.fetchall())

    def purge(self) -> bool:
        """Rewrite the keys table (``VACUUM FULL``): the deleted row's bytes leave its files, which a
        plain VACUUM would only mark as reusable. The table holds one small row per citizen.

        A transaction that began before the erasure (anywhere in the database) keeps the dead row
        "not yet removable", and one that read the keys table holds a lock VACUUM FULL must wait
        for: then this retries until ``purge_timeout`` and answers False (erasing
        again purges again)."""
        deadline = time.monotonic() + self.purge_timeout
        with self.datastore.get_connection() as conn:
            kept: list[int] = []

            def on_notice(notice: psycopg.errors.Diagnostic) -> None:
                found = _NOT_REMOVABLE.search(f"{notice.message_primary} {notice.message_detail}")
                if found:
                    kept.append(int(found.group(1)))

            conn.add_notice_handler(on_notice)
            # VACUUM FULL needs the table to itself: wait for it only briefly, so that key lookups
            # queued behind it are never held up for long; then try again.
            conn.execute("SET lock_timeout = '500ms'")
            try:
                while True:
                    kept.clear()
                    try:
                        conn.execute(SQL("VACUUM (FULL, VERBOSE) {0}").format(self.tables["keys"]))
                    except psycopg.errors.LockNotAvailable:
                        kept.append(-1)
                    if not any(kept):
                        return True
                    if time.monotonic() >= deadline:
                        return False
                    time.sleep(0.2)
            finally:
                conn.execute("RESET lock_timeout")
                conn.remove_notice_handler(on_notice)


def open_citizen_key_store(datastore: SQLiteDatastore | PostgresDatastore) -> CitizenKeyStore:
    """The key store in the same database as the events (its tables are created if missing)."""
    if isinstance(datastore, PostgresDatastore):
        return PostgresCitizenKeyStore(datastore)
    return SQLiteCitizenKeyStore(datastore)
