"""The store named by ``CASELEDGER_DATABASE_URL``: the settings eventsourcing is given for it (and
nothing else), whether it exists, and its start-up (the schema, and a lock while tables are made)."""

from __future__ import annotations

import fcntl
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

import psycopg
from eventsourcing.utils import Environment, get_topic
from psycopg.sql import SQL, Identifier

from application.storage.postgres import PostgresKeyedRecorder
from application.storage.sqlite import SQLiteKeyedRecorder

DEFAULT_SQLITE_PATH = Path("caseledger-data") / "caseledger.sqlite"


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
    key that seals personal data when one is given (else, on SQLite only, ``CaseLedger`` uses
    ``master.key`` beside the database file, made on first start). The process environment is read
    by the settings alone (``api.settings.Settings``), never here. This mapping is all the library is
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


def free_bytes(env: Mapping[str, str]) -> int | None:
    """Free space on the file system that holds the SQLite store ``env`` names, or None where it
    cannot be measured from here: in memory, or on a PostgreSQL server."""
    if storage_kind(env) != "sqlite" or env["SQLITE_DBNAME"] == ":memory:":
        return None
    try:
        return shutil.disk_usage(Path(env["SQLITE_DBNAME"]).absolute().parent).free
    except OSError:
        return None


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
