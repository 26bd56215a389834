"""Reports as known at a position of the log, and the position every report answer was read at.

A report read through ``KnownAt.read`` is answered inside one read transaction that also reads the
position its read models had reached (on PostgreSQL at ``REPEATABLE READ``, so the runner cannot
commit a batch between the two), so the position an answer names is the one its rows come from.

A report *known at* a position P the live read models have passed is answered from their
position-keyed rows when they hold it (the spending report: ``spending_log``), in the same pinned
read. Any other is answered from a scratch store: the read models rebuilt beside
the live ones from the events up to P, by the rebuild's own code (``Rebuilding.rebuild``), so the
answer is by construction the one a store rebuilt from those events gives. The last few scratch
stores are kept, by position (``STORES``). On SQLite a scratch store is a file of its own in a
temporary directory (so its writes never take the event store's write lock); on PostgreSQL a
schema of its own in the same database. Both are removed when evicted and when the API stops.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from psycopg.sql import SQL, Identifier

from projections import recorded_times
from projections.database import (
    Cursor,
    PostgresProjectionDatabase,
    ProjectionDatabase,
    SQLiteProjectionDatabase,
)
from projections.reports import Reports
from projections.runner import EventSource, ProjectionRunner
from projections.spending import SpendingQuery, report_at
from projections.tables import MODELS_VERSION

P = ParamSpec("P")
T = TypeVar("T")

STORES = 3
"""Scratch stores kept (least recently used evicted): each is a full copy of the read models."""
SCAN_BATCH = 5000
"""Events read at a time when an instant is resolved to a position past the recorded times' spans."""
SPAN_READ = 500
"""Events read at a time within the span of positions that settles an instant (a span holds up to
``recorded_times.SPAN``): the answer is usually found before its end, and every event read is decoded."""
INSTANTS_KEPT = 1000
"""Instants whose position is final kept (the mapping of one costs a read of up to a span of events)."""
SCHEMA_PREFIX = "cl_known_at_"


@dataclass(frozen=True)
class Cut:
    """What an answer was read from: the log position its read models had reached, and the
    version of the read models that built them."""

    position: int
    read_model_version: int


class PinnedReports(Reports):
    """The report queries on one generation, within one read the caller holds open."""

    def __init__(self, db: ProjectionDatabase, cur: Cursor, generation: int, position: int) -> None:
        super().__init__(db)
        self._cur = cur
        self._generation = generation
        self._position = position

    def _on_live(
        self, report: Callable[Concatenate[Cursor, int, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        return report(self._cur, self._generation, *args, **kwargs)

    def position(self) -> int:
        return self._position

    def run(self, query: Callable[Concatenate[Cursor, int, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``query(cur, generation, …)`` in this read: for queries that are not a report of their own."""
        return self._on_live(query, *args, **kwargs)

    def known_at(self, position: int) -> KnownReports:
        """The reports as known at ``position`` (before this read's own), in this read."""
        return KnownReports(self.db, self._cur, self._generation, position)


class NeedsScratch(Exception):
    """A report the live read models cannot answer as known at an earlier position."""


class KnownReports(PinnedReports):
    """The reports the live read models' position-keyed rows answer as known at an earlier position
    (the spending report, ``spending.report_at``); any other raises ``NeedsScratch``."""

    def _on_live(
        self, report: Callable[Concatenate[Cursor, int, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        raise NeedsScratch

    def spending(self, query: SpendingQuery) -> dict[str, Any]:
        found = report_at(self._cur, self._generation, query, self._position)
        if found is None:
            raise NeedsScratch
        return found


@contextmanager
def pinned(db: ProjectionDatabase) -> Iterator[tuple[PinnedReports, Cut]]:
    """The live read models and their position, read in one snapshot."""
    with db.reading() as cur:
        if cur.dialect == "postgres":
            # Before the first query of the transaction: one snapshot for every statement in it.
            cur.run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cur.run("SELECT generation, position, models_version FROM cl_generations WHERE live = 1")
        row = cur.one()
        if row is None:
            msg = "no live projection generation; run ensure_control first"
            raise LookupError(msg)
        position = int(row["position"])
        yield (
            PinnedReports(db, cur, int(row["generation"]), position),
            Cut(position, int(row["models_version"])),
        )


class _Scratch:
    """One scratch store (the read models as rebuilt from the events up to one position), how many
    reads are using it, and whether it has been evicted (then the last of them closes it)."""

    def __init__(self, db: ProjectionDatabase, remove: Callable[[], None]) -> None:
        self.db = db
        self._remove = remove
        self.users = 0
        self.retired = False

    def close(self) -> None:
        self.db.close()
        self._remove()


class KnownAt:
    """Report answers on the live read models, or as known at an earlier position of the log."""

    def __init__(
        self,
        db: ProjectionDatabase,
        read_events: EventSource,
        log_head: Callable[[], int],
        *,
        stores: int = STORES,
    ) -> None:
        self.db = db
        self.read_events = read_events
        self.log_head = log_head
        self.stores = stores
        self._scratch: OrderedDict[int, _Scratch] = OrderedDict()
        self._lock = threading.Lock()
        self._building = threading.Lock()
        self._instants: OrderedDict[datetime, int] = OrderedDict()
        self._directory: Path | None = None
        self.built = 0
        """Scratch stores built so far."""

    def read(self, position: int | None, ask: Callable[[PinnedReports], T]) -> tuple[Cut, T]:
        """``ask(reports)`` on the live read models (``position`` None, or the position they are
        at), else on the read models as rebuilt from the events up to ``position``; with the cut
        it was answered from. A position beyond the log's head is the head."""
        if position is None:
            with pinned(self.db) as (reports, cut):
                return cut, ask(reports)
        target = min(position, self.log_head())
        with pinned(self.db) as (reports, cut):
            if cut.position == target:
                return cut, ask(reports)
            if target < cut.position and cut.read_model_version == MODELS_VERSION and self._is_event(target):
                try:
                    return Cut(target, cut.read_model_version), ask(reports.known_at(target))
                except NeedsScratch:
                    pass
        with self._using(target) as scratch, pinned(scratch.db) as (reports, cut):
            return cut, ask(reports)

    def _is_event(self, position: int) -> bool:
        """Whether ``position`` is an event's (or 0, the empty log): a store rebuilt up to a
        position between two events (a gap a failed write leaves) names the earlier one."""
        if position == 0:
            return True
        following = self.read_events(position - 1, 1)
        return bool(following) and following[0][0] == position

    def position_at(self, instant: datetime) -> int:
        """The last position P such that every event up to P was recorded at or before
        ``instant``: the events are scanned in position order up to the first recorded after it.
        Commit order and recorded time can disagree (an event's time is taken before its commit,
        and a slow commit lands after a quicker later one), so the cut is the longest prefix of the
        log recorded by then, never a set with a hole in it; and it only grows with the instant.
        Once an event after the instant has been seen the answer is final, and kept.

        The scan starts where the live read models' recorded times (``recorded_times``) place it:
        at the end of the last span of positions recorded by then, or, when every folded event was,
        at the read models' position; before it, every event was recorded by the instant."""
        with self._lock:
            known = self._instants.get(instant)
        if known is not None:
            return known
        position, limit = self._scan_from(instant)
        while batch := self.read_events(position, limit):
            for at, event in batch:
                if event.timestamp > instant:
                    with self._lock:
                        self._instants[instant] = position
                        while len(self._instants) > INSTANTS_KEPT:
                            self._instants.popitem(last=False)
                    return position
                position = at
            if len(batch) < limit:
                break
        return position

    def _scan_from(self, instant: datetime) -> tuple[int, int]:
        """Where the scan for ``instant`` starts (an event's position, or 0) and how many events
        each of its reads asks for: ``SPAN_READ`` at most within the span that holds the first
        event recorded after it, else ``SCAN_BATCH`` (the events the read models have not folded
        yet). Read models of an older version have no recorded times: the scan starts at 0."""
        with self.db.reading() as cur:
            cur.run("SELECT generation, position, models_version FROM cl_generations WHERE live = 1")
            live = cur.one()
            if live is None or int(live["models_version"]) != MODELS_VERSION:
                return 0, SCAN_BATCH
            span = recorded_times.span_of(cur, int(live["generation"]), instant)
        if span is None:
            return int(live["position"]), SCAN_BATCH
        after, last = span
        return after, min(SPAN_READ, last - after)

    @contextmanager
    def _using(self, position: int) -> Iterator[_Scratch]:
        with self._lock:
            scratch = self._scratch.get(position)
            if scratch is not None:
                self._scratch.move_to_end(position)
                scratch.users += 1
        if scratch is None:
            scratch = self._built(position)
        try:
            yield scratch
        finally:
            with self._lock:
                scratch.users -= 1
                done = scratch.retired and scratch.users == 0
            if done:
                scratch.close()

    def _built(self, position: int) -> _Scratch:
        """The scratch store of ``position``, built unless another request has just built it
        (builds take turns: each uses a core for as long as a rebuild of that many events)."""
        with self._building:
            with self._lock:
                scratch = self._scratch.get(position)
                if scratch is not None:
                    scratch.users += 1
                    return scratch
            scratch = self._new_store()
            try:
                runner = ProjectionRunner(scratch.db, _upto(self.read_events, position))
                runner.rebuild()
                self.built += 1
            except BaseException:
                scratch.close()
                raise
            evicted = []
            with self._lock:
                scratch.users += 1
                self._scratch[position] = scratch
                while len(self._scratch) > self.stores:
                    _, old = self._scratch.popitem(last=False)
                    old.retired = True
                    if old.users == 0:
                        evicted.append(old)
            for old in evicted:
                old.close()
            return scratch

    def _new_store(self) -> _Scratch:
        if isinstance(self.db, PostgresProjectionDatabase):
            return self._new_schema(self.db)
        if self._directory is None:
            self._directory = Path(tempfile.mkdtemp(prefix="caseledger-known-at-"))
        path = self._directory / f"{uuid.uuid4().hex}.sqlite"

        def remove() -> None:
            for leftover in path.parent.glob(f"{path.name}*"):
                leftover.unlink(missing_ok=True)

        return _Scratch(SQLiteProjectionDatabase(path), remove)

    def _new_schema(self, live: PostgresProjectionDatabase) -> _Scratch:
        schema = scratch_schema_prefix(live.schema) + uuid.uuid4().hex[:20]
        with live.listen_connection() as connection:
            connection.execute(SQL("CREATE SCHEMA {0}").format(Identifier(schema)))

        def remove() -> None:
            with live.listen_connection() as connection:
                connection.execute(SQL("DROP SCHEMA IF EXISTS {0} CASCADE").format(Identifier(schema)))

        return _Scratch(PostgresProjectionDatabase(live.conninfo, schema, pool_size=2), remove)

    def close(self) -> None:
        """Remove every scratch store (called when the API stops)."""
        with self._lock:
            stores = list(self._scratch.values())
            self._scratch.clear()
        for scratch in stores:
            scratch.close()
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)


def scratch_schema_prefix(live_schema: str) -> str:
    """The start of the names of a live schema's scratch schemas: they say whose they are (and stay
    within PostgreSQL's 63 characters)."""
    return f"{SCHEMA_PREFIX}{live_schema[:24]}_"


def _upto(read_events: EventSource, last: int) -> EventSource:
    """``read_events`` as if the log ended at position ``last``."""

    def read(after: int, limit: int) -> Sequence[tuple[int, Any]]:
        if after >= last:
            return []
        return [(position, event) for position, event in read_events(after, limit) if position <= last]

    return read
