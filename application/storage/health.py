"""Whether the event store can take writes, as the last write found out.

A write that fails because the store cannot take it (a full disk, no connection, a lock not had in
time, the server refusing) puts the store in a failing episode of that kind until a write
succeeds. The episode is logged once when it begins (what is wrong, without a traceback) and once
when it ends; ``/readyz`` answers 503 meanwhile, and every such failure is counted by kind.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
import psycopg_pool

log = logging.getLogger("caseledger.storage")

KINDS = ("disk_full", "no_connection", "lock_timeout", "refused")


def failure_kind(error: BaseException) -> str:
    """Which of ``KINDS`` a failed write's error (or what caused it) is."""
    seen: BaseException | None = error
    messages = []
    while seen is not None:
        if isinstance(seen, psycopg.errors.DiskFull):
            return "disk_full"
        if isinstance(seen, psycopg.errors.LockNotAvailable):
            return "lock_timeout"
        if isinstance(seen, psycopg_pool.PoolTimeout):
            return "no_connection"
        messages.append(str(seen).lower())
        if isinstance(seen, sqlite3.OperationalError | psycopg.OperationalError):
            break
        seen = seen.__cause__
    text = " ".join(messages)
    if "disk is full" in text or "no space left" in text or "disk full" in text:
        return "disk_full"
    if "database is locked" in text or "lock timeout" in text or "busy" in text:
        return "lock_timeout"
    if "couldn't get a connection" in text or ("connection" in text and ("refused" not in text)):
        return "no_connection"
    return "refused"


@dataclass
class StorageHealth:
    """The store's write health: the failing episode's kind and detail, or None."""

    listeners: list[Callable[[str], None]] = field(default_factory=list)
    """Called with the kind of every failed write (the API counts them for ``/metrics``)."""
    failing: str | None = None
    detail: str = ""
    low_space: bool = False
    """Whether the last measure of free space (``/readyz``) was below the operator's minimum."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def write_failed(self, error: BaseException) -> None:
        kind = failure_kind(error)
        with self._lock:
            begins = self.failing != kind
            self.failing, self.detail = kind, str(error).strip().splitlines()[0] if str(error) else kind
        if begins:
            log.error("the event store cannot take writes (%s): %s", kind, self.detail)
        for listener in self.listeners:
            listener(kind)

    def write_succeeded(self) -> None:
        if self.failing is None:
            return
        with self._lock:
            kind, self.failing, self.detail = self.failing, None, ""
        if kind is not None:
            log.warning("the event store takes writes again (after %s)", kind)

    def space_measured(self, free: int, minimum: int) -> bool:
        """Note a measure of free space; log once when it falls below ``minimum`` and once when it
        is back. Whether it is below."""
        low = free < minimum
        with self._lock:
            begins, ends = low and not self.low_space, self.low_space and not low
            self.low_space = low
        if begins:
            log.error(
                "the event store's file system is low on space: %d MiB free, %d MiB wanted",
                free >> 20,
                minimum >> 20,
            )
        if ends:
            log.warning("the event store's file system has space again: %d MiB free", free >> 20)
        return low
