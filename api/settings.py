"""Configuration from the environment (``CASELEDGER_*``), read once by the composition root."""

from __future__ import annotations

import math
import os
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from application.storage import is_postgres, storage_env
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


class Settings(BaseSettings):
    """Everything caseledger can be configured with."""

    model_config = SettingsConfigDict(env_prefix="CASELEDGER_", extra="ignore")

    database_url: str = ""
    """Empty: an SQLite file under ``./caseledger-data/``; ``sqlite:///path`` or ``postgresql://…``."""

    master_key: SecretStr = SecretStr("")
    """Base64 of 32 random bytes: the key that wraps every citizen's data key (personal fields are
    sealed under those). Never stored in the database. Empty on SQLite: ``master.key`` beside the
    database file is made and used; on PostgreSQL a key (or ``master_key_file``) is required."""

    master_key_file: str = ""
    """A file holding the master key in base64 (e.g. a mounted secret), instead of ``master_key``."""

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

    projection_batch_size: int | None = Field(default=None, ge=1, le=100_000)
    """The most events folded into the read models per transaction. Unset: 5,000 on PostgreSQL (a
    runner that has fallen behind catches up in large, cheaper batches), 500 on SQLite (whose one
    write lock the event store shares)."""

    projection_nice: int = Field(default=10, ge=0, le=19)
    """The niceness ``caseledger projections run`` (also the one ``serve --workers N`` starts) gives
    itself on PostgreSQL: when the CPU is short, the writers go first and the read models catch up
    after, in large batches. 0: an equal share. Not applied on SQLite, where the projections hold
    the one write lock while they fold a batch (a descheduled holder would hold the writers up)."""

    projection_gather_ms: float = Field(default=0.0, ge=0, le=1000)
    """After folding a batch, the live runner waits this long before reading the next one, so that
    under load several commits share a batch (fewer statements per event, for at most this much
    more lag); an idle runner still wakes at once on the first new event. Off (0) by default: under
    a steady stream of commits the read models then seldom show lag 0 at the moment one asks."""

    projection_rebuild_batch_size: int = 5000
    """Events folded per transaction while ``projections rebuild`` (or a runner that starts far
    behind: ``projection_bulk_start_backlog``) builds a new generation in bulk."""

    projection_bulk_start_backlog: int = Field(default=BULK_START_BACKLOG, ge=1)
    """A projection runner that starts at least this many events behind the log, and behind by at
    least three quarters of it, builds the read models in bulk before it follows the log
    (``projections.runner.BULK_START_BACKLOG``)."""

    min_position_wait: float = 5.0
    """How long a query with ``min_position`` waits for the projections before answering 503."""

    access_log_retention_days: int = 183
    """Access-log entries older than this many days (about six months) are deleted at start and then
    every ``access_log_purge_interval`` seconds; 0 keeps them all."""

    access_log_purge_interval: float = 3600.0
    """Seconds between two retention purges of the access log while the API runs."""

    cookie_secure: bool | None = None
    """The dashboard's login cookie is ``Secure``: true, false, or unset to follow the request's scheme
    (https → Secure; behind a TLS-terminating proxy run uvicorn with ``--proxy-headers`` or set true)."""

    crash_after_commits: int | None = None
    """TEST ONLY (fault injection): SIGKILL this process right after its N-th committed write,
    before the response is sent, so that tests can crash the API between commit and response.
    Read once at startup; never set it in production."""

    token_cache_seconds: float = 5.0
    """A live token is looked up in the database at most once in this many seconds per process;
    a token revoked by another process (``caseledger tokens revoke``) keeps working for at most
    this long. 0: look the token up on every request."""

    host: str = "127.0.0.1"
    port: int = 8000

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

    def storage_env(self) -> dict[str, str]:
        """The application's environment: the database and the master key."""
        return storage_env(
            self.database_url,
            master_key=self.master_key.get_secret_value(),
            master_key_file=self.master_key_file,
        )
