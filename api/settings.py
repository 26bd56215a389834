"""Configuration from the environment (``CASELEDGER_*``), read once by the composition root.

These settings are the only configuration: the application's storage environment is built from them
alone (``application.storage.environment.ExplicitEnvironment``), and a ``CASELEDGER_*`` variable that is
not one of them is refused by the CLI (``unknown_settings``). What ``caseledger config`` shows of them,
and ``docs/configuration.md``'s table, is made in ``api.settings_report``.
"""

from __future__ import annotations

import difflib
import functools
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

from application.audit.signing_key import SigningKey, SigningKeyError, resolve_signing_key
from application.privacy.master_key import MasterKeyError, resolve_master_key
from application.storage.environment import describe_store, is_postgres, storage_env
from projections.runner import BULK_START_BACKLOG

DEFAULT_MAX_WORKERS = 3
"""The most API processes ``serve`` starts by itself on PostgreSQL. Each API process's pools hold at
most 19 connections (the event store's ``pool_size`` 5 + ``max_overflow`` 10, the read models' 4)
and the projection process about 21; three API processes and the projection process need at most
78 of the 97 that PostgreSQL's default ``max_connections`` of 100 leaves to ordinary users, with
room for ``caseledger import`` (about 2 per worker process, at most 3 of them), the CLI and a
restart. Set ``CASELEDGER_WORKERS`` for more."""


def available_cores() -> int:
    """The CPU cores this process may use: those it is allowed to run on, bounded by a cgroup v2
    CPU quota (a container limited to 1 CPU on a 16-core host has 1), at least 1."""
    cores = len(os.sched_getaffinity(0))
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
    except (OSError, ValueError):
        quota = "max"  # no cgroup v2 quota to read: the affinity alone
    if quota != "max":
        cores = min(cores, math.ceil(int(quota) / int(period)))
    return max(1, cores)


def one_per_core() -> int:
    """One process per available core (one Python process uses one core), at most
    ``DEFAULT_MAX_WORKERS``."""
    return min(available_cores(), DEFAULT_MAX_WORKERS)


class ProjectionSettings(BaseModel):
    """How the projection runner folds the log into the read models, each set as
    ``CASELEDGER_PROJECTIONS__<NAME>`` (e.g. ``CASELEDGER_PROJECTIONS__BATCH_SIZE=2000``)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    batch_size: int | None = Field(default=None, ge=1, le=100_000)
    """The most events folded into the read models per transaction. Unset: 5,000 on PostgreSQL (a
    runner that has fallen behind catches up in large, cheaper batches), 500 on SQLite (whose one
    write lock the event store shares)."""

    nice: int = Field(default=10, ge=0, le=19)
    """The niceness ``caseledger projections run`` (also the one ``serve --workers N`` starts) gives
    itself on PostgreSQL: when the CPU is short, the writers go first and the read models catch up
    after, in large batches. 0: an equal share. Not applied on SQLite, where the projections hold
    the one write lock while they fold a batch (a descheduled holder would hold the writers up)."""

    gather_ms: float = Field(default=0.0, ge=0, le=1000)
    """After folding a batch, the live runner waits this long before reading the next one, so that
    under load several commits share a batch (fewer statements per event, for at most this much
    more lag); an idle runner still wakes at once on the first new event. Off (0) by default: under
    a steady stream of commits the read models then seldom show lag 0 at the moment one asks."""

    rebuild_batch_size: int = 5000
    """Events folded per transaction while ``projections rebuild`` (or a runner that starts far
    behind: ``bulk_start_backlog``) builds a new generation in bulk."""

    bulk_start_backlog: int = Field(default=BULK_START_BACKLOG, ge=1)
    """A projection runner that starts at least this many events behind the log, and behind by at
    least three quarters of it, builds the read models in bulk before it follows the log
    (``projections.runner.BULK_START_BACKLOG``)."""


class ReceiptSettings(BaseModel):
    """Signed receipts of the chain head written while serving, each set as
    ``CASELEDGER_RECEIPTS__<NAME>`` (e.g. ``CASELEDGER_RECEIPTS__DIRECTORY=/var/lib/receipts``)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    directory: str = ""
    """Where the API writes a receipt (``receipt-<position>.json``, as ``GET /audit/receipt`` gives
    it) every ``interval_minutes`` while the log has grown; for example a directory another system
    collects. Empty: none are written. Needs a signing key on PostgreSQL."""

    interval_minutes: float = Field(default=15.0, gt=0, le=24 * 60)
    """Minutes between two receipts written to ``directory``."""


class Settings(BaseSettings):
    """Everything caseledger can be configured with."""

    model_config = SettingsConfigDict(
        env_prefix="CASELEDGER_", env_nested_delimiter="__", extra="ignore", use_attribute_docstrings=True
    )

    database_url: str = ""
    """Empty: an SQLite file under ``./caseledger-data/``; ``sqlite:///path`` or ``postgresql://…``."""

    master_key: SecretStr = SecretStr("")
    """Base64 of 32 random bytes: the key that wraps every citizen's data key (personal fields are
    sealed under those). Never stored in the database. Empty on SQLite: ``master.key`` beside the
    database file is made and used; on PostgreSQL a key (or ``master_key_file``) is required."""

    master_key_file: str = ""
    """A file holding the master key in base64 (e.g. a mounted secret), instead of ``master_key``."""

    signing_key: SecretStr = SecretStr("")
    """Base64 of a 32-byte Ed25519 private key seed: signs the auditor's receipts of the hash chain's
    head (``GET /audit/receipt``). Never stored in the database. Empty on SQLite: ``signing.key``
    beside the database file is made and used; on PostgreSQL receipts are refused (503) until one
    (or ``signing_key_file``) is set."""

    signing_key_file: str = ""
    """A file holding the signing key in base64 (e.g. a mounted secret), instead of ``signing_key``."""

    receipts: ReceiptSettings = Field(default_factory=ReceiptSettings)
    """Receipts written while serving (``CASELEDGER_RECEIPTS__*``); off unless a directory is set."""

    max_body_bytes: int = 5 * 1024 * 1024
    """Request bodies above this size are refused with 413."""

    body_timeout: float = Field(default=30.0, gt=0)
    """Seconds a request's whole body may take to arrive, counted from the request's start; a body
    still incomplete then (a client that sent the headers and stalled) is answered 408 and its
    connection closed."""

    max_batch_items: int = 1000
    """The most items one ``POST /events`` may carry."""

    workers: int | None = Field(default=None, ge=1, le=64)
    """API processes ``caseledger serve`` starts; with more than one, it also starts one
    ``caseledger projections run`` process (the API processes then run none). Unset: see
    ``serve_processes``."""

    run_projections: bool = True
    """Run the projection runner inside the API process (the embedded default). Set false when
    ``caseledger projections run`` runs as its own process."""

    projections: ProjectionSettings = Field(default_factory=ProjectionSettings)
    """Tuning of the projection runner (``CASELEDGER_PROJECTIONS__*``); the defaults suit both stores."""

    min_position_wait: float = 5.0
    """How long a query with ``min_position`` waits for the projections before answering 503."""

    access_log_retention_days: int = 183
    """Access-log entries older than this many days (about six months) are deleted at start and then
    every ``access_log_purge_interval`` seconds; 0 keeps them all."""

    access_log_purge_interval: float = 3600.0
    """Seconds between two retention purges of the access log while the API runs."""

    min_free_disk_mb: int = Field(default=64, ge=0)
    """SQLite: ``/readyz`` answers 503 (``low_disk_space``) while the file system that holds the
    store has less than this many MiB free, before writes start failing. 0: not checked. (A
    PostgreSQL server's disk cannot be measured from here; a full one shows as ``disk_full``.)"""

    cookie_secure: bool | None = None
    """The dashboard's login cookie is ``Secure``: true, false, or unset to follow the request's scheme
    (https → Secure; behind a TLS-terminating proxy run uvicorn with ``--proxy-headers`` or set true)."""

    token_cache_seconds: float = 5.0
    """A live token is remembered for at most this many seconds per process, and only while no token
    was created or revoked anywhere (every request reads the tokens' generation; a revocation holds
    from the next request on in every process). 0: look the token itself up on every request."""

    host: str = "127.0.0.1"
    """The interface ``caseledger serve`` listens on (``--host`` overrides it)."""

    port: int = 8000
    """The port ``caseledger serve`` listens on (``--port`` overrides it)."""

    def serve_processes(self) -> int:
        """The API processes ``caseledger serve`` starts: ``workers`` if set; else, on PostgreSQL, one
        per available core (one Python process uses one core) up to ``DEFAULT_MAX_WORKERS``; on
        SQLite one, as its writers take turns at one write lock anyway."""
        if self.workers is not None:
            return self.workers
        return one_per_core() if is_postgres(self.database_url) else 1

    def import_processes(self) -> int:
        """The processes ``caseledger import`` checks items in by default: ``one_per_core``, on
        SQLite too: its writers take turns at the write lock, but the checks, most of an import's
        CPU, run side by side."""
        return one_per_core()

    def storage_env(self, *, make_directory: bool = True) -> dict[str, str]:
        """The application's environment: the database and the master key (``make_directory``: create
        the SQLite file's directory)."""
        return storage_env(
            self.database_url,
            master_key=self.master_key.get_secret_value(),
            master_key_file=self.master_key_file,
            make_directory=make_directory,
        )

    def receipt_key(self) -> SigningKey | None:
        """The key that signs receipts (``application.audit.signing_key``): the one configured, else on
        SQLite ``signing.key`` beside the database (made if missing), else None. Raises
        ``SigningKeyError`` for a malformed or unreadable one."""
        env = storage_env(self.database_url, make_directory=False)
        return resolve_signing_key(
            self.signing_key.get_secret_value(),
            self.signing_key_file,
            sqlite_path=None if is_postgres(self.database_url) else env["SQLITE_DBNAME"],
        )

    def store_description(self) -> str:
        """The store these settings name, without a password and without creating anything:
        ``PostgreSQL host:port/db, schema NAME`` or ``SQLite /abs/path``."""
        return describe_store(storage_env(self.database_url, make_directory=False))


ENV_PREFIX = "CASELEDGER_"
TEST_ONLY_SETTINGS = {
    "CASELEDGER_TEST_POSTGRES_URL": "TEST ONLY: the PostgreSQL database the tests make their schemas in.",
    "CASELEDGER_TEST_CHROMIUM": "TEST ONLY: the Chromium binary the dashboard's browser tests drive.",
    "CASELEDGER_LONG_TESTS": "TEST ONLY: 1 runs the long form of the fault, concurrency and load tests.",
}
"""Names the test harness reads (never caseledger itself); allowed so that the CLI, which tests run,
does not refuse them."""

EXAMPLES = {
    "database_url": "postgresql://caseledger:secret@db.internal:5432/caseledger?schema=public",
    "master_key": "(base64 of 32 random bytes)",
    "master_key_file": "/run/secrets/caseledger_master_key",
    "signing_key": "(base64 of a 32-byte Ed25519 seed)",
    "signing_key_file": "/run/secrets/caseledger_signing_key",
    "max_body_bytes": "10485760",
    "body_timeout": "10",
    "max_batch_items": "500",
    "workers": "4",
    "run_projections": "false",
    "projections.batch_size": "2000",
    "projections.nice": "0",
    "projections.gather_ms": "20",
    "projections.rebuild_batch_size": "10000",
    "projections.bulk_start_backlog": "500000",
    "receipts.directory": "/var/lib/caseledger/receipts",
    "receipts.interval_minutes": "60",
    "min_position_wait": "2.5",
    "access_log_retention_days": "365",
    "access_log_purge_interval": "600",
    "min_free_disk_mb": "512",
    "cookie_secure": "true",
    "token_cache_seconds": "0",
    "host": "10.0.0.5",
    "port": "8080",
}
"""An example value of each setting for the documentation's table (none given: the table shows —)."""


@dataclass(frozen=True)
class Setting:
    """One setting: its environment variable and where it sits in ``Settings``."""

    env_name: str
    path: tuple[str, ...]
    """``("port",)``, or ``("projections", "batch_size")`` for a setting of a group."""
    field: FieldInfo

    @property
    def key(self) -> str:
        return ".".join(self.path)

    def value(self, settings: Settings) -> object:
        return functools.reduce(getattr, self.path, settings)


def all_settings() -> list[Setting]:
    """Every setting, in the settings class's order, a group's members in the group's place."""
    found = []
    for name, field in Settings.model_fields.items():
        group = field.annotation
        if isinstance(group, type) and issubclass(group, BaseModel):
            found += [
                Setting(f"{ENV_PREFIX}{name.upper()}__{member.upper()}", (name, member), member_field)
                for member, member_field in group.model_fields.items()
            ]
        else:
            found.append(Setting(ENV_PREFIX + name.upper(), (name,), field))
    return found


def setting_names() -> list[str]:
    """Every documented setting's environment variable, in the settings class's order."""
    return [setting.env_name for setting in all_settings()]


def unknown_settings(environ: Mapping[str, str]) -> list[str]:
    """The ``CASELEDGER_*`` variables in ``environ`` that name no setting (pydantic-settings reads the
    names without regard to case, so they are compared so too)."""
    known = {name.upper() for name in setting_names()} | set(TEST_ONLY_SETTINGS)
    return sorted(
        name for name in environ if name.upper().startswith(ENV_PREFIX) and name.upper() not in known
    )


def unknown_setting_message(name: str) -> str:
    """One line naming an unknown variable and the closest documented setting."""
    closest = difflib.get_close_matches(name.upper(), setting_names(), n=1, cutoff=0.6)
    if closest:
        return f"unknown setting {name}; did you mean {closest[0]}?"
    return f"unknown setting {name}; the settings are listed by: caseledger config"


def start_problems(environ: Mapping[str, str]) -> tuple[Settings | None, list[str]]:
    """The settings ``environ`` gives, and why caseledger could not start with them (none: it can).
    Checks the names, the values, the database URL and the master key; creates nothing and
    connects to nothing."""
    problems = [unknown_setting_message(name) for name in unknown_settings(environ)]
    try:
        settings = Settings()
    except ValidationError as error:
        for detail in error.errors():
            name = ENV_PREFIX + "__".join(str(part) for part in detail["loc"]).upper()
            problems.append(f"{name}: {detail['msg']}")
        return None, problems
    try:
        settings.store_description()
    except ValueError as error:
        problems.append(str(error))
        return settings, problems
    key, key_file = settings.master_key.get_secret_value().strip(), settings.master_key_file.strip()
    if key or key_file or is_postgres(settings.database_url):
        # With neither given, on SQLite, the key file beside the database is made at start.
        try:
            resolve_master_key(
                {"CASELEDGER_MASTER_KEY": key, "CASELEDGER_MASTER_KEY_FILE": key_file}, sqlite_path=None
            )
        except MasterKeyError as error:
            problems.append(str(error))
    if settings.signing_key.get_secret_value().strip() or settings.signing_key_file.strip():
        try:  # only a key given is checked: the SQLite one is made at start, PostgreSQL may have none
            settings.receipt_key()
        except SigningKeyError as error:
            problems.append(str(error))
    elif settings.receipts.directory and is_postgres(settings.database_url):
        problems.append(
            "CASELEDGER_RECEIPTS__DIRECTORY is set but no signing key: set CASELEDGER_SIGNING_KEY "
            "or CASELEDGER_SIGNING_KEY_FILE"
        )
    return settings, problems
