"""Tamper evidence: the hash chains over the stored events (linked by the recorders, see
``application.storage.chain_links``) recomputed and checked.

``verify`` recomputes both chains from the stored events and the chain table in batches, with memory
bounded by the batch size, and names each stream and version that was altered, deleted, moved or is
not covered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar
from uuid import UUID

from application.storage.chain_links import GENESIS, ChainRow, StoredRow, global_hash, stream_hash

DEFAULT_BATCH = 2000
DEFAULT_MAX_PROBLEMS = 1000
MAX_GAP_REPORTED = 100

ALTERED = "altered"
DELETED = "deleted"
MISSING = "missing"
MOVED = "moved"
NOT_COVERED = "not covered"
CHAIN_BROKEN = "chain broken"

DESCRIPTIONS = {
    ALTERED: "the stored event (topic or state bytes) differs from what was recorded, or its chain "
    "link was rewritten",
    DELETED: "the chain records this event, but it is no longer stored",
    MISSING: "a version is missing from the stream, together with its chain row",
    MOVED: "the event is stored at another position than the one it was recorded at",
    NOT_COVERED: "the event has no chain row: it was stored before the chain existed or was "
    "written past the recorder",
    CHAIN_BROKEN: "the global chain does not link to the row before this position: that row or this "
    "one was removed, reordered or rewritten",
}


class ChainStore(Protocol):
    """What verification needs of a recorder (both storage recorders implement it)."""

    def max_position(self) -> int: ...

    def stored_rows_by_stream(
        self, after: tuple[UUID, int] | None, upto: int, limit: int, stream: UUID | None = None
    ) -> list[StoredRow]: ...

    def chain_rows_by_stream(
        self, after: tuple[UUID, int] | None, upto: int, limit: int, stream: UUID | None = None
    ) -> list[ChainRow]: ...

    def chain_rows_by_position(self, after: int, upto: int, limit: int) -> list[ChainRow]: ...

    def chain_links_of(self, stream: UUID, upto: int) -> list[tuple[ChainRow, str | None]]: ...


@dataclass
class Verification:
    """What ``verify`` found; ``as_dict()`` is the JSON answer."""

    checked: int = 0
    chained: int = 0
    problem_count: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    head: dict[str, Any] = field(default_factory=dict)
    max_problems: int = DEFAULT_MAX_PROBLEMS
    anchor: dict[str, Any] | None = None
    scope: Callable[[UUID, StoredRow | None], bool] | None = None
    """Whether a stream is the asker's (given its id and its first stored event, if read): the others'
    events are not counted and their problems not named, only counted in ``problems_elsewhere``.
    None: every stream is."""
    problems_elsewhere: int = 0

    @property
    def ok(self) -> bool:
        return (
            self.problem_count == 0
            and self.problems_elsewhere == 0
            and (self.anchor is None or self.anchor["ok"])
        )

    def sees(self, stream_id: UUID, first: StoredRow | None = None) -> bool:
        return self.scope is None or self.scope(stream_id, first)

    def report(
        self, stream_id: UUID, version: int, position: int | None, problem: str, *, seen: bool = True
    ) -> None:
        if not seen:
            self.problems_elsewhere += 1
            return
        self.problem_count += 1
        if len(self.problems) < self.max_problems:
            self.problems.append(
                {
                    "stream_id": str(stream_id),
                    "version": version,
                    "position": position,
                    "problem": problem,
                    "detail": DESCRIPTIONS[problem],
                }
            )

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "chained": self.chained,
            "problem_count": self.problem_count,
            "problems": sorted(self.problems, key=lambda p: (p["stream_id"], p["version"], p["problem"])),
            "problems_elsewhere": self.problems_elsewhere,
            "head": self.head,
            "anchor": self.anchor,
        }


_Row = TypeVar("_Row", StoredRow, ChainRow)


def _pages(
    read: Callable[[tuple[UUID, int] | None, int, int, UUID | None], Sequence[_Row]],
    upto: int,
    batch: int,
    stream: UUID | None,
) -> Iterator[_Row]:
    """Every row ``read`` finds up to ``upto``, in (stream, version) order, a page of ``batch`` at a time."""
    after: tuple[UUID, int] | None = None
    while True:
        page = read(after, upto, batch, stream)
        yield from page
        if len(page) < batch:
            return
        after = (page[-1].originator_id, page[-1].version)


def _merged(
    store: ChainStore, upto: int, batch: int, stream: UUID | None
) -> Iterator[tuple[tuple[UUID, int], StoredRow | None, ChainRow | None]]:
    """Stored events and chain rows merged on (stream, version), in that order, batch by batch."""

    events = _pages(store.stored_rows_by_stream, upto, batch, stream)
    links = _pages(store.chain_rows_by_stream, upto, batch, stream)
    event, row = next(events, None), next(links, None)
    while event is not None or row is not None:
        event_key = (event.originator_id, event.version) if event else None
        row_key = (row.originator_id, row.version) if row else None
        if row_key is None or (event_key is not None and event_key < row_key):
            assert event_key is not None
            yield event_key, event, None
            event = next(events, None)
        elif event_key is None or row_key < event_key:
            yield row_key, None, row
            row = next(links, None)
        else:
            yield event_key, event, row
            event, row = next(events, None), next(links, None)


def _check_streams(
    store: ChainStore, found: Verification, upto: int, batch: int, stream: UUID | None
) -> None:
    """Each stored event against its chain row, and each stream link against the one before."""
    current: UUID | None = None
    last_version = 0
    previous: ChainRow | None = None
    seen = True
    for (stream_id, version), event, row in _merged(store, upto, batch, stream):
        if stream_id != current:
            current, last_version, previous = stream_id, 0, None
            seen = found.sees(stream_id, event if event is not None and event.version == 1 else None)
        gap = version > last_version + 1
        for missing in range(last_version + 1, min(version, last_version + 1 + MAX_GAP_REPORTED)):
            found.report(stream_id, missing, None, MISSING, seen=seen)
        last_version = version
        if event is not None and seen:
            found.checked += 1
        if row is None:
            assert event is not None
            found.report(stream_id, version, event.position, NOT_COVERED, seen=seen)
            continue
        if seen:
            found.chained += 1
        if event is None:
            found.report(stream_id, version, row.position, DELETED, seen=seen)
        elif gap:
            # The link before this one went with the missing version: it cannot be checked here.
            if event.position != row.position:
                found.report(stream_id, version, event.position, MOVED, seen=seen)
        else:
            before = previous.stream_hash if previous and previous.version == version - 1 else GENESIS.hex()
            expected = stream_hash(bytes.fromhex(before), stream_id, version, event.topic, event.state)
            if expected.hex() != row.stream_hash:
                found.report(stream_id, version, event.position, ALTERED, seen=seen)
            elif event.position != row.position:
                found.report(stream_id, version, event.position, MOVED, seen=seen)
        previous = row


def _check_global(
    store: ChainStore, found: Verification, upto: int, batch: int, anchor: tuple[int, str] | None = None
) -> ChainRow | None:
    """Each global link against the one before it, in position order; returns the last row. With an
    ``anchor`` (a head exported earlier: position and global hash), the recomputed hash at that
    position must equal it: a chain rewritten consistently from before that point on is caught."""
    last: ChainRow | None = None
    at_anchor: str | None = None
    after = 0
    while True:
        page = store.chain_rows_by_position(after, upto, batch)
        for row in page:
            head = last.global_hash if last else GENESIS.hex()
            expected = global_hash(bytes.fromhex(head), row.position, bytes.fromhex(row.stream_hash))
            if expected.hex() != row.global_hash:
                seen = found.sees(row.originator_id)
                found.report(row.originator_id, row.version, row.position, CHAIN_BROKEN, seen=seen)
            if anchor is not None and row.position == anchor[0]:
                at_anchor = expected.hex()
            last = row
        if len(page) < batch:
            break
        after = page[-1].position
    if anchor is not None:
        position, wanted = anchor
        found.anchor = {
            "position": position,
            "expected_hash": wanted,
            "found_hash": at_anchor,
            "ok": at_anchor == wanted.lower(),
        }
    return last


def _head(row: ChainRow | None) -> dict[str, Any]:
    return {
        "position": row.position if row else 0,
        "global_hash": row.global_hash if row else GENESIS.hex(),
        "computed_at": datetime.now(UTC).isoformat(),
    }


def verify(
    store: ChainStore,
    *,
    batch_size: int = DEFAULT_BATCH,
    max_problems: int = DEFAULT_MAX_PROBLEMS,
    anchor: tuple[int, str] | None = None,
    scope: Callable[[UUID, StoredRow | None], bool] | None = None,
) -> Verification:
    """Recompute both chains over every event stored so far (later writes are left for next time).

    Reads in batches of ``batch_size`` (stream order, then position order); lists at most
    ``max_problems`` problems but counts them all. ``anchor``: see ``_check_global``. ``scope``: see
    ``Verification.scope`` (called once per stream, and once per broken global link).
    """
    upto = store.max_position()
    found = Verification(max_problems=max_problems, scope=scope)
    _check_streams(store, found, upto, batch_size, None)
    found.head = _head(_check_global(store, found, upto, batch_size, anchor))
    return found


def verify_stream(store: ChainStore, stream: UUID, *, batch_size: int = DEFAULT_BATCH) -> Verification:
    """Both chains where they touch one stream: its events, its links, and the global links of its rows."""
    upto = store.max_position()
    found = Verification()
    _check_streams(store, found, upto, batch_size, stream)
    last: ChainRow | None = None
    for row, previous_global in store.chain_links_of(stream, upto):
        expected = global_hash(
            bytes.fromhex(previous_global or GENESIS.hex()), row.position, bytes.fromhex(row.stream_hash)
        )
        if expected.hex() != row.global_hash:
            found.report(row.originator_id, row.version, row.position, CHAIN_BROKEN)
        last = row
    found.head = _head(last)
    return found
