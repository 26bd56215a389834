"""Group commit: concurrent saves share one database transaction, each still all-or-nothing.

Every save takes the event store's write lock (PostgreSQL: eventsourcing locks the events table
in EXCLUSIVE mode until commit, so that positions become visible in order; SQLite: its one write
lock) and holds it through the commit's WAL flush. Writes are therefore serial, and each pays a
whole flush: the commits a second are bounded by the disk's flush time, whatever the CPU (figures:
docs/benchmarks.md, *Figures behind choices in the code*).

So the recorders hand their inserts to a :class:`GroupCommit`. A save that arrives while another
is committing waits; when that commit ends, one of the waiting threads commits everything that
queued up meanwhile in ONE transaction (events, claims and chain rows of every save in it), and
each save gets its own positions back. Alone, a save commits at once, as before.

If the group's transaction fails on a uniqueness conflict (two saves of the same aggregate version,
or of the same claim), nothing of it was stored; each save of the group is then committed on its
own, so exactly the saves that would have failed alone fail, with the same IntegrityError (and the
application answers them as before: a retry on fresh state, a replay, a 409 or a 412). A save that
does not fit the group's size limit waits for the next group.

A commit that fails because the database is out of reach (no connection within the pool's
``connect_timeout``, the write lock not had within ``lock_timeout``, a dropped connection, a full
disk) fails every save that queued while it was waiting, with the same error: they share its
deadline. Each would otherwise lead a group of its own after it and wait a whole timeout again,
answering after about twice the promised wait. A save that
arrives after the failure tries afresh.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError, StoredEvent

from application.keys import Claim

Insert = Callable[[Sequence[StoredEvent], Sequence[Claim], Sequence[Any]], Sequence[int] | None]
"""``insert(events, claims, citizen_keys)``: one transaction; the events' positions."""
DEFAULT_MAX_EVENTS = 1000


def out_of_reach(error: BaseException) -> bool:
    """Whether a failed insert says the database cannot take writes now, rather than something
    about the saves themselves (eventsourcing wraps psycopg's and sqlite3's errors in these)."""
    return isinstance(error, OperationalError | InterfaceError)


def _shared(failure: BaseException) -> BaseException:
    """An error of ``failure``'s kind and message for another save's thread to raise (one
    exception object raised in several threads would collect all their tracebacks)."""
    error = type(failure)(str(failure))
    error.__cause__ = failure
    return error


@dataclass
class _Save:
    events: Sequence[StoredEvent]
    claims: Sequence[Claim]
    citizen_keys: Sequence[Any]
    positions: Sequence[int] | None = None
    error: BaseException | None = None
    done: bool = False


@dataclass
class GroupCommit:
    """Combines concurrent ``insert(events, claims, citizen_keys)`` calls into shared transactions
    (``citizen_keys``: the data keys made for citizens filed in the save, see ``application.storage.citizen_keys``)."""

    insert: Insert
    max_events: int = DEFAULT_MAX_EVENTS
    _queue: list[_Save] = field(default_factory=list)
    _leading: bool = False
    _condition: threading.Condition = field(default_factory=threading.Condition)
    groups: int = 0
    grouped_saves: int = 0

    def submit(
        self, events: Sequence[StoredEvent], claims: Sequence[Claim], citizen_keys: Sequence[Any] = ()
    ) -> Sequence[int] | None:
        """Store ``events`` with ``claims`` and new ``citizen_keys`` in one transaction (possibly
        shared); their positions."""
        save = _Save(events, claims, citizen_keys)
        with self._condition:
            self._queue.append(save)
            while not save.done:
                if self._leading:
                    self._condition.wait()
                    continue
                self._leading = True
                group = self._take()
                self._condition.release()
                failure: BaseException | None = None
                try:
                    failure = self._commit(group)
                finally:
                    self._condition.acquire()
                    self._leading = False
                    if failure is not None:
                        self._fail_queued(failure)
                    self._condition.notify_all()
        if save.error is not None:
            raise save.error
        return save.positions

    def _take(self) -> list[_Save]:
        """The queue's first saves, up to ``max_events`` events (at least one save)."""
        group: list[_Save] = []
        size = 0
        while self._queue and (not group or size + len(self._queue[0].events) <= self.max_events):
            save = self._queue.pop(0)
            group.append(save)
            size += len(save.events)
        return group

    def _fail_queued(self, failure: BaseException) -> None:
        """Fail the saves that queued while the commit that failed with ``failure`` was waiting."""
        for save in self._queue:
            save.error, save.done = _shared(failure), True
        self._queue.clear()

    def _commit(self, group: list[_Save]) -> BaseException | None:
        """Commit ``group``; the error that says the database is out of reach, if one did."""
        if len(group) > 1:
            self.groups += 1
            self.grouped_saves += len(group)
            try:
                positions = self.insert(
                    [e for save in group for e in save.events],
                    [c for save in group for c in save.claims],
                    [k for save in group for k in save.citizen_keys],
                )
            except IntegrityError:
                pass  # nothing was stored: commit each on its own below
            except BaseException as error:  # e.g. the database is gone: every save of the group fails
                for save in group:
                    save.error, save.done = error, True
                return error if out_of_reach(error) else None
            else:
                offset = 0
                for save in group:
                    count = len(save.events)
                    save.positions = None if positions is None else positions[offset : offset + count]
                    save.done = True
                    offset += count
                return None
        failure: BaseException | None = None
        for save in group:
            if failure is not None:  # the rest of the group shares the failed one's wait
                save.error, save.done = _shared(failure), True
                continue
            try:
                save.positions = self.insert(save.events, save.claims, save.citizen_keys)
            except BaseException as error:  # handed to the save's own thread
                save.error = error
                if out_of_reach(error):
                    failure = error
            save.done = True
        return failure
