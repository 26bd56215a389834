"""The one projection runner for both storages.

It reads the application's notification log in batches and folds each batch into the read models,
recording the tracking position in the same transaction: exactly once, and after any crash it
resumes where the last committed batch ended. Idle, it waits for PostgreSQL's NOTIFY (with a
timeout, so a lost notification never stalls it) or, on SQLite, polls.

Building the read models anew (``rebuild``) is in ``projections.rebuild``, the leader lock that
keeps a second projection process from folding in ``projections.leader``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from psycopg import sql

from projections import read_models
from projections.database import PostgresProjectionDatabase, ProjectionDatabase
from projections.rebuild import Rebuilding

__all__ = [
    "ANALYSE_AFTER",
    "BULK_START_BACKLOG",
    "BULK_START_SHARE",
    "LIVE_BATCH_SIZES",
    "MAX_BACKOFF_SECONDS",
    "BuildStopped",
    "EventSource",
    "ProjectionRunner",
    "wait_for_position",
]

log = logging.getLogger("caseledger.projections")

MAX_BACKOFF_SECONDS = 5.0
"""The longest pause between two attempts while the database is unreachable."""

LIVE_BATCH_SIZES = {"sqlite": 500, "postgres": 5000}
"""The most events the live runner folds per transaction, per storage (``batch_size`` overrides it).
It reads what the log holds, so following closely its batches stay small; a runner that has
fallen behind (after a bulk load, or yielding the CPU to writers under load) folds its backlog in
large batches, which costs less per event: fewer statements, and one write of a referral's row and
months for several of its events (measured with ``benchmarks.catch_up``: docs/benchmarks.md,
"Figures behind choices in the code"). On SQLite the read models share the one
write lock with the event store, and a large batch would hold writers up while it is folded."""

ANALYSE_AFTER = 5_000
"""Events the live runner folds before it first has PostgreSQL ``ANALYZE`` the read models, and
again each time its count since start doubles (10,000, 20,000, …): a runner that catches up with a
bulk import fills tables that, with autovacuum off or behind, have no statistics, and PostgreSQL
then plans the fold's look-ups as scans of the whole table, many times slower than by the index
(docs/benchmarks.md, "Figures behind choices in the code"). A rebuild analyses its new tables likewise."""

BULK_START_BACKLOG = 50_000
"""A runner that starts at least this many events behind the log (``bulk_start_backlog``; the
setting ``CASELEDGER_PROJECTIONS__BULK_START_BACKLOG``), and behind by at least ``BULK_START_SHARE``
of it, builds the read models anew in bulk (``rebuild``) instead of folding its backlog batch by
batch. A bulk build folds the whole log faster than the live runner folds a backlog (which, on
SQLite, keeps the write lock for 500 events at a time), on both storages (``benchmarks.suite --size
1M``; the figures: docs/benchmarks.md, "Figures behind choices in the code"). So it pays once most
of the log is still to be folded: typically the first start after ``caseledger import`` into a new store. Reports answer
from the old read models until the new ones are complete, as during a rebuild."""
BULK_START_SHARE = 0.75
"""The part of the log a runner must be behind by to build in bulk at start: a bulk build folds
every event, so it pays only when most of them are still to be folded (how much faster it is, per
storage: docs/benchmarks.md, "Figures behind choices in the code")."""


class BuildStopped(Exception):
    """A bulk build at start was stopped (the runner was asked to stop); its tables are dropped."""


EventSource = Callable[[int, int], Sequence[tuple[int, Any]]]
"""``read_events(after, limit)``: up to ``limit`` (position, domain event) pairs after ``after``."""


class ProjectionRunner(Rebuilding):
    """Feeds the read models from the notification log."""

    def __init__(
        self,
        db: ProjectionDatabase,
        read_events: EventSource,
        *,
        batch_size: int | None = None,
        rebuild_batch_size: int = 5000,
        poll_interval: float = 0.05,
        listen_timeout: float = 1.0,
        notify_channel: str | None = None,
        gather: float = 0.0,
        analyse_after: int = ANALYSE_AFTER,
        log_head: Callable[[], int] | None = None,
        bulk_start_backlog: int = BULK_START_BACKLOG,
    ) -> None:
        self.db = db
        self.read_events = read_events
        self.batch_size = batch_size or LIVE_BATCH_SIZES[db.dialect]
        self.rebuild_batch_size = rebuild_batch_size
        self.poll_interval = poll_interval
        self.listen_timeout = listen_timeout
        self.notify_channel = notify_channel
        self.gather = gather
        self.folded = 0
        """Events folded into the live generation by this runner since it started."""
        self.analyse_at = analyse_after
        self.log_head = log_head
        """The newest position in the log; without it the runner never builds in bulk at start."""
        self.bulk_start_backlog = bulk_start_backlog
        self.wake = threading.Event()
        read_models.ensure_control(db)

    def position(self) -> int:
        """How far the live read models have processed the log."""
        with self.db.reading() as cur:
            return read_models.live_generation(cur)[1]

    def run_once(self, generation: int | None = None) -> int:
        """Process one batch on ``generation`` (default: the live one); returns how many events."""
        while True:
            with self.db.reading() as cur:
                if generation is None:
                    target, position = read_models.live_generation(cur)
                else:
                    target, position = generation, read_models.generation_position(cur, generation) or 0
            # Events are read before the write transaction opens: on SQLite the event store shares
            # the file, and holding its write lock while waiting for the event store's connection
            # pool would stall writers that are waiting for that lock.
            batch = self.read_events(position, self.batch_size)
            if not batch:
                return 0
            with self.db.transaction() as cur:
                # Check the position again under the write lock: a concurrent runner that committed
                # this batch first has moved it; then read again after it, never apply it twice.
                if self._locked_position(cur, target) != position:
                    continue
                read_models.apply_batch(cur, target, batch)
                return len(batch)

    def catch_up(self, generation: int | None = None, progress: Callable[[int], None] | None = None) -> int:
        """Process batches until the log has no more events; returns how many were processed.

        A batch shorter than asked for reached the end of the log: no further read is spent on
        finding that out (events stored meanwhile are the next call's)."""
        done = 0
        while processed := self.run_once(generation):
            done += processed
            if generation is None:
                self._analyse_when_grown(processed)
            if progress:
                progress(processed)
            if processed < self.batch_size:
                break
        return done

    def _analyse_when_grown(self, processed: int) -> None:
        """``ANALYZE`` the live tables after ``ANALYSE_AFTER`` events folded, then at each doubling."""
        self.folded += processed
        if self.folded < self.analyse_at:
            return
        self.analyse_at = 2 * self.folded
        with self.db.reading() as cur:
            live, _ = read_models.live_generation(cur)
        read_models.analyse(self.db, live)

    def run_forever(self, stop: threading.Event) -> None:
        """Follow the log until ``stop`` is set.

        It survives an outage of the database: a failed batch is rolled back (its position with
        it), logged, and tried again after a pause that doubles up to ``MAX_BACKOFF_SECONDS``; the
        LISTEN connection is opened again once the database answers. Nothing is lost or applied
        twice, because each batch commits its rows and its position together.
        """
        listener: Any = None
        listen_again = 0.0
        started = False
        failures = 0
        try:
            while not started or not stop.is_set():
                try:
                    if not started:
                        self._start(stop)
                        started = True
                        continue
                    if listener is None and time.monotonic() >= listen_again:
                        try:
                            listener = self._listen()
                        except Exception:  # poll meanwhile; LISTEN is tried again later
                            log.warning("LISTEN failed; polling until it works again", exc_info=True)
                            listen_again = time.monotonic() + MAX_BACKOFF_SECONDS
                    if self.catch_up() == 0:
                        self._idle(listener, stop)
                    elif self.gather:
                        # Under a steady stream of commits, let a few more gather before the next
                        # batch: each batch costs about a dozen statements whatever its size.
                        stop.wait(self.gather)
                    if failures:
                        log.warning("projections resumed after %d failed attempts", failures)
                    failures = 0
                except BuildStopped:
                    return
                except Exception as error:
                    failures += 1
                    pause = min(MAX_BACKOFF_SECONDS, 0.1 * 2 ** min(failures, 10))
                    if failures == 1:
                        log.exception("projection batch failed; retrying")
                    else:
                        log.warning("projections still failing (%s); retry in %.1f s", error, pause)
                    _closed(listener)
                    listener = None
                    if stop.wait(pause):
                        return
        finally:
            _closed(listener)

    def _start(self, stop: threading.Event) -> None:
        """What is due at start: a rebuild of read models built by an older version (even when asked
        to stop), else a bulk build when most of the log is still to be folded (see
        ``BULK_START_BACKLOG``), which stops when ``stop`` is set and, should it fail, leaves the
        runner to catch up batch by batch; and the generations before the live one, if a drop left
        any, are dropped."""
        with self.db.reading() as cur:
            outdated = not read_models.live_is_current(cur)
            live, position = read_models.live_generation(cur)
            leftovers = read_models.generations_before(cur, live)
        if outdated:
            log.warning("read models were built by an older version; rebuilding beside them")
            self.rebuild()
            return
        if leftovers:
            self._drop_stale(live, patience=0.0)  # one attempt; a stuck read leaves them to the next
        if self.log_head is None or stop.is_set():
            return
        head = self.log_head()
        behind = head - position
        if behind < self.bulk_start_backlog or behind < BULK_START_SHARE * head:
            return
        log.warning("read models %d events behind a log of %d; building them anew in bulk", behind, head)

        def stop_when_asked(_folded: int) -> None:
            if stop.is_set():
                raise BuildStopped

        try:
            self.rebuild(stop_when_asked)
        except BuildStopped:
            raise
        except Exception:
            log.exception("the bulk build failed; catching up batch by batch instead")
            return
        log.warning("read models built in bulk; following the log")

    def _listen(self) -> Any:
        """A LISTEN connection on PostgreSQL (None on SQLite: it polls). Raises if it cannot be
        opened; the caller polls meanwhile and tries again later."""
        if not isinstance(self.db, PostgresProjectionDatabase) or not self.notify_channel:
            return None
        connection = self.db.listen_connection()
        try:
            connection.execute(sql.SQL("LISTEN {0}").format(sql.Identifier(self.notify_channel)))
        except BaseException:
            connection.close()
            raise
        return connection

    def _idle(self, listener: Any, stop: threading.Event) -> None:
        if listener is None:
            self.wake.wait(self.poll_interval)
            self.wake.clear()
            return
        for _ in listener.notifies(timeout=self.listen_timeout, stop_after=1):
            break

    def interrupt(self) -> None:
        """Wake an idle ``run_forever`` at once (after its stop event is set)."""
        self.wake.set()
        if isinstance(self.db, PostgresProjectionDatabase) and self.notify_channel:
            try:
                with self.db.listen_connection() as connection:
                    connection.execute(sql.SQL("NOTIFY {0}").format(sql.Identifier(self.notify_channel)))
            except psycopg.Error:
                log.warning("could not NOTIFY the projection runner; it stops within its listen timeout")


def _closed(listener: Any) -> None:
    """Close a LISTEN connection, whatever state it is in."""
    if listener is not None:
        try:
            listener.close()
        except Exception:
            log.debug("closing the LISTEN connection failed", exc_info=True)


def wait_for_position(position_of: Callable[[], int], target: int, timeout: float = 5.0) -> bool:
    """Wait until the read models have processed ``target`` (read-your-writes); False on timeout."""
    deadline = time.monotonic() + timeout
    while position_of() < target:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True
