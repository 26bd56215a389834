"""Bearer tokens: a role and a municipality (or ``*``) each, stored only as SHA-256 hashes.

The secret is shown once, when it is created (``secrets.token_urlsafe``); the table
``caseledger_tokens`` in the event store's own database keeps its hash, a unique name, the role, the
municipality and when it was created and revoked. A presented token is found by its hash (an index
lookup) and the stored hash compared once more in constant time. Looking up by the hash does not
leak the secret through timing: an index search on SHA-256(secret) can at most reveal how much of
a *hash* prefix matched, and no one can choose a secret to steer its hash's prefix.

Roles, their rights and ``Token`` live in ``application.token_roles``.

Revocation holds from the next request on, in every process: the one-row table
``caseledger_token_generation`` counts the changes to ``caseledger_tokens`` (a trigger bumps it in
the changing statement's own transaction, whoever changes the table: this code, ``caseledger tokens
revoke`` in another process, or an administrator's SQL). ``CachedTokenStore`` reads the counter on
every request, one indexed read of one row, and trusts only what it looked up at the generation it
reads.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

from eventsourcing.persistence import IntegrityError
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from psycopg.sql import SQL, Identifier

from application.storage.environment import sqlite_start_up_lock
from application.storage.sqlite_writes import write_transaction
from application.token_roles import RIGHTS, ROLES, IssuedToken, Token
from domain.errors import InvalidInput, NotFound, RuleViolation

TOKENS_TABLE = "caseledger_tokens"
GENERATION_TABLE = "caseledger_token_generation"
_MUNICIPALITY = re.compile(r"^(\d{3}|\*)$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class _Cursor(Protocol):
    def execute(self, *args: Any, **kwargs: Any) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> Any: ...


class TokenStore:
    """Create, list, revoke and look up tokens. Subclasses say how SQL reaches the database."""

    def _transaction(self) -> AbstractContextManager[_Cursor]:
        raise NotImplementedError

    def _reading(self) -> AbstractContextManager[_Cursor]:
        """A cursor for reads, on the newest committed state (SQLite: a reader connection, never
        waiting for the writer; PostgreSQL: a pooled connection in autocommit)."""
        raise NotImplementedError

    def _sql(self, statement: str) -> Any:
        """``statement`` with ``{table}`` and ``{generation}`` named, ``?`` as placeholders."""
        raise NotImplementedError

    def generation(self) -> int:
        """How many times the tokens have changed (created, revoked, or altered otherwise) so far."""
        with self._reading() as cursor:
            cursor.execute(self._sql("SELECT generation FROM {generation} WHERE id = 1"))
            row = cursor.fetchone()
        return 0 if row is None else int(row["generation"])

    def create(self, *, role: str, municipality: str, name: str | None = None) -> IssuedToken:
        """A new token for ``role`` in ``municipality`` (three digits or ``*``)."""
        if role not in RIGHTS:
            msg = f"role must be one of {', '.join(ROLES)}, not {role!r}"
            raise InvalidInput("unknown-role", msg, field="role")
        if not _MUNICIPALITY.match(municipality):
            msg = f"municipality must be three digits or '*', not {municipality!r}"
            raise InvalidInput("invalid-municipality", msg, field="municipality")
        secret = secrets.token_urlsafe(32)
        name = name or f"{role}-{municipality.replace('*', 'all')}-{secrets.token_hex(3)}"
        if not _NAME.match(name):
            msg = "name must be 1 to 100 letters, digits, '.', '_', '@' or '-'"
            raise InvalidInput("invalid-token-name", msg, field="name")
        token = Token(name=name, role=role, municipality=municipality, created_at=_now())
        # One INSERT, no read first: on SQLite a read-then-write transaction fails at once ("database
        # is locked") when another connection wrote in between; the UNIQUE name decides instead.
        try:
            with self._transaction() as cursor:
                cursor.execute(
                    self._sql(
                        "INSERT INTO {table} (token_hash, name, role, municipality, created_at) "
                        "VALUES (?, ?, ?, ?, ?)"
                    ),
                    (token_hash(secret), name, role, municipality, token.created_at),
                )
        except IntegrityError:
            msg = f"a token named {name!r} exists already"
            raise RuleViolation("token-name-taken", msg, field="name") from None
        return IssuedToken(secret=secret, token=token)

    def tokens(self) -> list[Token]:
        """Every token, oldest first (no secrets, no hashes)."""
        with self._transaction() as cursor:
            cursor.execute(
                self._sql(
                    "SELECT name, role, municipality, created_at, revoked_at FROM {table} "
                    "ORDER BY created_at, name"
                )
            )
            return [_token(row) for row in cursor.fetchall()]

    def revoke(self, name: str) -> Token:
        """Revoke the token named ``name`` (from now on it answers 401); revoking twice is fine."""
        with self._transaction() as cursor:
            cursor.execute(
                self._sql("UPDATE {table} SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL"),
                (_now(), name),
            )
            cursor.execute(
                self._sql(
                    "SELECT name, role, municipality, created_at, revoked_at FROM {table} WHERE name = ?"
                ),
                (name,),
            )
            row = cursor.fetchone()
        if row is None:
            msg = f"no token named {name!r}"
            raise NotFound("token-not-found", msg)
        return _token(row)

    def authenticate(self, secret: str) -> Token | None:
        """The live (not revoked) token with this secret, or None."""
        wanted = token_hash(secret)
        with self._reading() as cursor:
            cursor.execute(
                self._sql(
                    "SELECT token_hash, name, role, municipality, created_at, revoked_at FROM {table} "
                    "WHERE token_hash = ?"
                ),
                (wanted,),
            )
            row = cursor.fetchone()
        if row is None or not hmac.compare_digest(str(row["token_hash"]), wanted):
            return None
        token = _token(row)
        return None if token.revoked_at is not None else token


class CachedTokenStore(TokenStore):
    """A token store that remembers live tokens for up to ``ttl`` seconds after looking them up, as
    long as the tokens' generation (``TokenStore.generation``) has not changed since.

    Each ``authenticate`` reads the generation first (one row), then answers from the cache only
    what was looked up at that same generation; a revocation anywhere bumps it, so the next request
    in every process looks the token up again. Unknown and revoked tokens are never remembered.
    """

    MAX_ENTRIES = 10_000

    def __init__(self, store: TokenStore, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.ttl = ttl
        self.clock = clock
        self._live: dict[str, tuple[float, int, Token]] = {}
        self._generation = -1
        self._lock = threading.Lock()

    def generation(self) -> int:
        return self.store.generation()

    def create(self, *, role: str, municipality: str, name: str | None = None) -> IssuedToken:
        return self.store.create(role=role, municipality=municipality, name=name)

    def tokens(self) -> list[Token]:
        return self.store.tokens()

    def revoke(self, name: str) -> Token:
        return self.store.revoke(name)

    def authenticate(self, secret: str) -> Token | None:
        key = token_hash(secret)
        generation = self.store.generation()
        now = self.clock()
        with self._lock:
            if generation > self._generation:
                self._live.clear()
                self._generation = generation
            found = self._live.get(key)
        if found is not None and found[0] > now and found[1] == generation:
            return found[2]
        token = self.store.authenticate(secret)
        with self._lock:
            if token is None:
                self._live.pop(key, None)
            elif generation == self._generation:  # not when a newer generation was seen meanwhile
                if len(self._live) >= self.MAX_ENTRIES:
                    self._live.clear()
                self._live[key] = (now + self.ttl, generation, token)
        return token


def cached(store: TokenStore, ttl: float) -> TokenStore:
    """``store`` behind a cache of ``ttl`` seconds (none when ``ttl`` is 0)."""
    return CachedTokenStore(store, ttl) if ttl > 0 else store


def _token(row: Any) -> Token:
    revoked = row["revoked_at"]
    return Token(
        name=row["name"],
        role=row["role"],
        municipality=row["municipality"],
        created_at=str(row["created_at"]),
        revoked_at=None if revoked is None else str(revoked),
    )


class SQLiteTokenStore(TokenStore):
    """Tokens in the SQLite file of the event store (through its datastore's connections)."""

    def __init__(self, datastore: SQLiteDatastore) -> None:
        self.datastore = datastore
        bump = "UPDATE caseledger_token_generation SET generation = generation + 1 WHERE id = 1"
        # Ledgers opening a new store at once would race on these statements (SQLite answers "database
        # is locked" to a read transaction that turns into a write); take turns, as the tables do.
        with sqlite_start_up_lock(datastore.pool.db_name), write_transaction(datastore) as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {TOKENS_TABLE} (token_hash TEXT PRIMARY KEY, "
                "name TEXT NOT NULL UNIQUE, role TEXT NOT NULL, municipality TEXT NOT NULL, "
                "created_at TEXT NOT NULL, revoked_at TEXT) WITHOUT ROWID"
            )
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {GENERATION_TABLE} "
                "(id INTEGER PRIMARY KEY CHECK (id = 1), generation INTEGER NOT NULL)"
            )
            cursor.execute("INSERT OR IGNORE INTO caseledger_token_generation (id, generation) VALUES (1, 0)")
            for change in ("INSERT", "UPDATE", "DELETE"):
                cursor.execute(
                    f"CREATE TRIGGER IF NOT EXISTS {GENERATION_TABLE}_{change.lower()} AFTER {change} "
                    f"ON {TOKENS_TABLE} BEGIN {bump}; END"
                )

    def _transaction(self) -> AbstractContextManager[_Cursor]:
        return write_transaction(self.datastore)

    def _reading(self) -> AbstractContextManager[_Cursor]:
        return self.datastore.transaction(commit=False)

    def _sql(self, statement: str) -> str:
        return statement.format(table=TOKENS_TABLE, generation=GENERATION_TABLE)


class PostgresTokenStore(TokenStore):
    """Tokens in the PostgreSQL schema of the event store (through its datastore's pool)."""

    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore
        schema = Identifier(datastore.schema)
        self.table = SQL("{0}.{1}").format(schema, Identifier(TOKENS_TABLE))
        self.generation_table = SQL("{0}.{1}").format(schema, Identifier(GENERATION_TABLE))
        bump = SQL("{0}.{1}").format(schema, Identifier(f"{GENERATION_TABLE}_bump"))
        with self.datastore.transaction(commit=True) as cursor:
            # Processes starting at once would race on CREATE TABLE IF NOT EXISTS; take turns.
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{datastore.schema}.{TOKENS_TABLE}"]
            )
            cursor.execute(
                SQL(
                    "CREATE TABLE IF NOT EXISTS {0} (token_hash text PRIMARY KEY, "
                    "name text NOT NULL UNIQUE, role text NOT NULL, municipality text NOT NULL, "
                    "created_at text NOT NULL, revoked_at text)"
                ).format(self.table)
            )
            cursor.execute(
                SQL(
                    "CREATE TABLE IF NOT EXISTS {0} "
                    "(id integer PRIMARY KEY CHECK (id = 1), generation bigint NOT NULL)"
                ).format(self.generation_table)
            )
            cursor.execute(
                SQL("INSERT INTO {0} (id, generation) VALUES (1, 0) ON CONFLICT (id) DO NOTHING").format(
                    self.generation_table
                )
            )
            cursor.execute(
                SQL(
                    "CREATE OR REPLACE FUNCTION {0}() RETURNS trigger LANGUAGE plpgsql AS $bump$ "
                    "BEGIN UPDATE {1} SET generation = generation + 1 WHERE id = 1; RETURN NULL; END "
                    "$bump$"
                ).format(bump, self.generation_table)
            )
            cursor.execute(
                SQL(
                    "CREATE OR REPLACE TRIGGER {0} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {1} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION {2}()"
                ).format(Identifier(f"{GENERATION_TABLE}_bump"), self.table, bump)
            )

    def _transaction(self) -> AbstractContextManager[_Cursor]:
        return self.datastore.transaction(commit=True)

    @contextmanager
    def _reading(self) -> Iterator[_Cursor]:
        # The pool's connections are in autocommit: one statement, one round trip (a transaction
        # would add BEGIN and ROLLBACK, two more).
        with self.datastore.get_connection() as connection:
            yield connection.cursor()

    def _sql(self, statement: str) -> Any:
        return SQL(statement.replace("?", "%s")).format(table=self.table, generation=self.generation_table)


def open_token_store(datastore: SQLiteDatastore | PostgresDatastore) -> TokenStore:
    """The token store in the same database as the events (the table is created if missing)."""
    if isinstance(datastore, PostgresDatastore):
        return PostgresTokenStore(datastore)
    return SQLiteTokenStore(datastore)
