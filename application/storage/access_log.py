"""The access log: who read or exported referral-level data, when, how, and what they were answered.

One append-only table, ``caseledger_access_log``, in the event store's own database but apart from
the business events: not in the notification log, not in the hash chains, never projected. Each row
is one read (or a denied attempt, or a referral refused because its id is taken: ``referral.refer``,
409): the instant (UTC), the token's name, role and municipality, the
municipality of the data, the action, the referral id or the query's parameters (never a
``citizen_ref``), the HTTP status and the format (json, csv, or html for a dashboard page).

Append-only is enforced by the database, not only by this code:

- SQLite: a trigger aborts every UPDATE; another aborts every DELETE unless the row is older than a
  cutoff the retention purge writes into ``caseledger_access_log_purge`` inside its own transaction
  (and removes again before it commits, so no other connection ever sees it).
- PostgreSQL: a trigger refuses UPDATE and TRUNCATE, and DELETE unless the transaction set
  ``caseledger.access_log_purge_before`` (``set_config(…, true)``, transaction-local) and the row is
  older than it; only ``purge`` does so.

These guard against mistakes and casual tampering; whoever can drop triggers can still rewrite the
table, as with any database-level log.

Retention: ``purge_expired(days)`` deletes entries older than ``days`` days (the API runs it at start
and then periodically; see ``api.settings.Settings.access_log_retention_days``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from psycopg.sql import SQL, Composed, Identifier

from application.storage.sqlite_writes import write_transaction

ACCESS_LOG_TABLE = "caseledger_access_log"
PURGE_TABLE = "caseledger_access_log_purge"
PURGE_SETTING = "caseledger.access_log_purge_before"
ACTIONS = (
    "referral.read",
    "referral.events",
    "referral.list",
    "audit.trail",
    "audit.decisions",
    "spending.lineage",
    "feed.read",
    "access_log.read",
    "dashboard.revisionsspor",
    "dashboard.match",
    "referral.refer",
)
COLUMNS = "at, token, role, token_municipality, municipality, action, referral_id, query, status, format"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class AccessEntry:
    """One read of referral-level data (or a denied attempt), as recorded."""

    token: str
    role: str
    token_municipality: str
    municipality: str
    """The municipality of the data: the referral's, or the query's (``*``: every municipality)."""
    action: str
    status: int
    referral_id: UUID | None = None
    query: Mapping[str, Any] | None = None
    """The query's parameters, for list and search reads (never a citizen's reference)."""
    format: str = "json"


@dataclass(frozen=True)
class AccessQuery:
    """Which entries to list; every field left None does not filter."""

    municipality: str | None = None
    """Entries about this municipality's data or made by its tokens; None: every entry."""
    since: datetime | None = None
    """Inclusive."""
    until: datetime | None = None
    """Exclusive."""
    token: str | None = None
    role: str | None = None
    action: str | None = None
    referral_ids: Sequence[UUID] | None = None
    """Entries on any of these referrals (an empty list matches nothing)."""
    page: int = 1
    page_size: int = 50
    newest_first: bool = False
    viewer: str | None = None
    """The municipality of the asking token when it is scoped to one. Its tokens' attempts on another
    municipality's referral are then shown with its own municipality as the data's, exactly as an
    attempt on an id that does not exist is recorded: the log does not tell it whose the referral is."""


class _Cursor(Protocol):
    def execute(self, *args: Any, **kwargs: Any) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> Any: ...


class AccessLog:
    """Append, list and purge access-log entries. Subclasses say how SQL reaches the database."""

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self.clock = clock

    # -- what each database does differently ----------------------------------------------------------

    def _transaction(self) -> AbstractContextManager[_Cursor]:
        raise NotImplementedError

    def _sql(self, statement: str) -> Any:
        raise NotImplementedError

    def _instant(self, value: datetime) -> Any:
        """An instant as a parameter."""
        raise NotImplementedError

    def _allow_purge_before(self, cursor: _Cursor, cutoff: datetime) -> None:
        raise NotImplementedError

    def _end_purge(self, cursor: _Cursor) -> None:
        raise NotImplementedError

    # -- the log ----------------------------------------------------------------------------------------

    def append(self, entry: AccessEntry) -> None:
        """Record ``entry`` at the clock's instant (committed when this returns)."""
        query = None if entry.query is None else json.dumps(dict(entry.query), sort_keys=True)
        with self._transaction() as cursor:
            cursor.execute(
                self._sql(f"INSERT INTO {{table}} ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                (
                    self._instant(self.clock()),
                    entry.token,
                    entry.role,
                    entry.token_municipality,
                    entry.municipality,
                    entry.action,
                    None if entry.referral_id is None else str(entry.referral_id),
                    query,
                    entry.status,
                    entry.format,
                ),
            )

    def entries(self, query: AccessQuery) -> dict[str, Any]:
        """``{items, page, page_size, total}``, oldest entry first (or newest first)."""
        where: list[str] = []
        params: list[Any] = []
        if query.municipality is not None:
            where.append("(municipality = ? OR token_municipality = ?)")
            params += [query.municipality, query.municipality]
        if query.since is not None:
            where.append("at >= ?")
            params.append(self._instant(query.since))
        if query.until is not None:
            where.append("at < ?")
            params.append(self._instant(query.until))
        for column in ("token", "role", "action"):
            value = getattr(query, column)
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if query.referral_ids is not None:
            if not query.referral_ids:
                where.append("1 = 0")
            else:
                where.append(f"referral_id IN ({', '.join('?' for _ in query.referral_ids)})")
                params += [str(referral_id) for referral_id in query.referral_ids]
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        order = " DESC" if query.newest_first else ""
        with self._transaction() as cursor:
            cursor.execute(self._sql(f"SELECT COUNT(*) AS n FROM {{table}}{clause}"), params)
            total = int(cursor.fetchone()["n"])
            cursor.execute(
                self._sql(f"SELECT {COLUMNS} FROM {{table}}{clause} ORDER BY id{order} LIMIT ? OFFSET ?"),
                [*params, query.page_size, (query.page - 1) * query.page_size],
            )
            items = [_row(row, query.viewer) for row in cursor.fetchall()]
        return {"items": items, "page": query.page, "page_size": query.page_size, "total": total}

    def purge(self, before: datetime) -> int:
        """Delete the entries recorded before ``before``; how many were deleted."""
        with self._transaction() as cursor:
            self._allow_purge_before(cursor, before)
            cursor.execute(
                self._sql("SELECT COUNT(*) AS n FROM {table} WHERE at < ?"), (self._instant(before),)
            )
            deleted = int(cursor.fetchone()["n"])
            cursor.execute(self._sql("DELETE FROM {table} WHERE at < ?"), (self._instant(before),))
            self._end_purge(cursor)
        return deleted

    def purge_expired(self, retention_days: int) -> int:
        """Delete the entries older than ``retention_days`` days (0 keeps every entry)."""
        if retention_days <= 0:
            return 0
        return self.purge(self.clock() - timedelta(days=retention_days))


def _instant_text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return str(value)


def _row(row: Any, viewer: str | None = None) -> dict[str, Any]:
    query = row["query"]
    municipality = row["municipality"]
    if viewer is not None and municipality != viewer:
        # Only its own tokens' entries reach a scoped viewer from another municipality's data.
        municipality = viewer
    return {
        "at": _instant_text(row["at"]),
        "token": row["token"],
        "role": row["role"],
        "municipality": municipality,
        "token_municipality": row["token_municipality"],
        "action": row["action"],
        "referral_id": row["referral_id"],
        "query": None if query is None else json.loads(query),
        "status": row["status"],
        "format": row["format"],
    }


class SQLiteAccessLog(AccessLog):
    """The access log in the SQLite file of the event store."""

    def __init__(self, datastore: SQLiteDatastore, clock: Callable[[], datetime] = utc_now) -> None:
        super().__init__(clock)
        self.datastore = datastore
        with write_transaction(self.datastore) as cursor:
            for statement in (
                f"CREATE TABLE IF NOT EXISTS {ACCESS_LOG_TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                "at TEXT NOT NULL, token TEXT NOT NULL, role TEXT NOT NULL, "
                "token_municipality TEXT NOT NULL, municipality TEXT NOT NULL, action TEXT NOT NULL, "
                "referral_id TEXT, query TEXT, status INTEGER NOT NULL, format TEXT NOT NULL)",
                f"CREATE INDEX IF NOT EXISTS {ACCESS_LOG_TABLE}_at ON {ACCESS_LOG_TABLE} (at)",
                f"CREATE INDEX IF NOT EXISTS {ACCESS_LOG_TABLE}_referral ON {ACCESS_LOG_TABLE} (referral_id)",
                f"CREATE TABLE IF NOT EXISTS {PURGE_TABLE} (before TEXT NOT NULL)",
                f"CREATE TRIGGER IF NOT EXISTS {ACCESS_LOG_TABLE}_no_update BEFORE UPDATE ON "
                f"{ACCESS_LOG_TABLE} BEGIN SELECT RAISE(ABORT, "
                f"'{ACCESS_LOG_TABLE} is append-only: UPDATE refused'); END",
                f"CREATE TRIGGER IF NOT EXISTS {ACCESS_LOG_TABLE}_no_delete BEFORE DELETE ON "
                f"{ACCESS_LOG_TABLE} WHEN NOT EXISTS (SELECT 1 FROM {PURGE_TABLE} WHERE OLD.at < before) "
                f"BEGIN SELECT RAISE(ABORT, '{ACCESS_LOG_TABLE} is append-only: DELETE refused "
                "(only the retention purge deletes, and only expired entries)'); END",
            ):
                cursor.execute(statement)

    def _transaction(self) -> AbstractContextManager[_Cursor]:
        return write_transaction(self.datastore)

    def _sql(self, statement: str) -> str:
        return statement.format(table=ACCESS_LOG_TABLE)

    def _instant(self, value: datetime) -> str:
        # Fixed width, so that text order is time order.
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def _allow_purge_before(self, cursor: _Cursor, cutoff: datetime) -> None:
        cursor.execute(f"INSERT INTO {PURGE_TABLE} (before) VALUES (?)", (self._instant(cutoff),))

    def _end_purge(self, cursor: _Cursor) -> None:
        cursor.execute(f"DELETE FROM {PURGE_TABLE}")


class PostgresAccessLog(AccessLog):
    """The access log in the PostgreSQL schema of the event store."""

    def __init__(self, datastore: PostgresDatastore, clock: Callable[[], datetime] = utc_now) -> None:
        super().__init__(clock)
        self.datastore = datastore
        schema = Identifier(datastore.schema)
        self.table = SQL("{0}.{1}").format(schema, Identifier(ACCESS_LOG_TABLE))
        guard = SQL("{0}.{1}").format(schema, Identifier(f"{ACCESS_LOG_TABLE}_guard"))
        statements: list[Composed] = [
            SQL(
                "CREATE TABLE IF NOT EXISTS {0} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                "at timestamptz NOT NULL, token text NOT NULL, role text NOT NULL, "
                "token_municipality text NOT NULL, municipality text NOT NULL, action text NOT NULL, "
                "referral_id text, query text, status integer NOT NULL, format text NOT NULL)"
            ).format(self.table),
            SQL("CREATE INDEX IF NOT EXISTS {0} ON {1} (at)").format(
                Identifier(f"{ACCESS_LOG_TABLE}_at"), self.table
            ),
            SQL("CREATE INDEX IF NOT EXISTS {0} ON {1} (referral_id)").format(
                Identifier(f"{ACCESS_LOG_TABLE}_referral"), self.table
            ),
            SQL(
                "CREATE OR REPLACE FUNCTION {0}() RETURNS trigger LANGUAGE plpgsql AS $guard$ "
                "DECLARE cutoff text := current_setting({1}, true); "
                "BEGIN "
                "IF TG_OP = 'DELETE' AND coalesce(cutoff, '') <> '' THEN "
                "IF OLD.at < cutoff::timestamptz THEN RETURN OLD; END IF; "
                "END IF; "
                "RAISE EXCEPTION '{2} is append-only: % refused', TG_OP "
                "USING ERRCODE = 'insufficient_privilege', "
                "HINT = 'only the retention purge deletes, and only expired entries'; "
                "END $guard$"
            ).format(guard, PURGE_SETTING, SQL(ACCESS_LOG_TABLE)),
            SQL(
                "CREATE OR REPLACE TRIGGER {0} BEFORE UPDATE OR DELETE ON {1} "
                "FOR EACH ROW EXECUTE FUNCTION {2}()"
            ).format(Identifier(f"{ACCESS_LOG_TABLE}_append_only"), self.table, guard),
            SQL(
                "CREATE OR REPLACE TRIGGER {0} BEFORE TRUNCATE ON {1} "
                "FOR EACH STATEMENT EXECUTE FUNCTION {2}()"
            ).format(Identifier(f"{ACCESS_LOG_TABLE}_no_truncate"), self.table, guard),
        ]
        with self.datastore.transaction(commit=True) as cursor:
            # Two processes starting at once would race on CREATE OR REPLACE; take turns.
            cursor.execute(SQL("SELECT pg_advisory_xact_lock(hashtext({0}))").format(ACCESS_LOG_TABLE))
            for statement in statements:
                cursor.execute(statement)

    def _transaction(self) -> AbstractContextManager[_Cursor]:
        return self.datastore.transaction(commit=True)

    def _sql(self, statement: str) -> Any:
        return SQL(statement.replace("?", "%s").replace("{table}", "{0}")).format(self.table)

    def _instant(self, value: datetime) -> datetime:
        return value.astimezone(UTC)

    def _allow_purge_before(self, cursor: _Cursor, cutoff: datetime) -> None:
        cursor.execute("SELECT set_config(%s, %s, true)", (PURGE_SETTING, cutoff.astimezone(UTC).isoformat()))

    def _end_purge(self, cursor: _Cursor) -> None:
        cursor.execute("SELECT set_config(%s, '', true)", (PURGE_SETTING,))


def open_access_log(
    datastore: SQLiteDatastore | PostgresDatastore, clock: Callable[[], datetime] = utc_now
) -> AccessLog:
    """The access log in the same database as the events (its table and triggers created if missing)."""
    if isinstance(datastore, PostgresDatastore):
        return PostgresAccessLog(datastore, clock)
    return SQLiteAccessLog(datastore, clock)
