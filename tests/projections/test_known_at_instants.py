"""An instant mapped to a position by the recorded-times index (``KnownAt.position_at``) is exactly
the position a scan of the whole log from position 0 gives — for histories whose recorded times
disagree with the commit order, at every event's time, a microsecond either side of it, before the
first event and after the last; with part of the log not folded yet, folded in small live batches,
and after a bulk rebuild in batches of another size — on SQLite and PostgreSQL. And the index is
what is used: no mapping reads more than two spans' worth of events when a folded one settles it."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import eventsourcing.domain
import pytest

from application.service.caseledger import CaseLedger
from projections import read_models, recorded_times
from projections.database import ProjectionDatabase
from projections.known_at import KnownAt
from projections.runner import ProjectionRunner
from projections.tables import table
from tests.projections.helpers import small_demo

SPAN = 7
"""Positions per span in these tests: a small history spans many of them."""
START = datetime(2026, 3, 1, 9, tzinfo=UTC)


def shuffled_clock(rng: random.Random) -> Iterator[datetime]:
    """Recorded times that go forward on the whole but often backward by up to 40 ms (a slow
    commit after a quicker later one), and now and then repeat the previous one exactly."""
    now = START
    previous = now
    while True:
        now += timedelta(milliseconds=10)
        roll = rng.random()
        if roll < 0.15:
            at = previous
        elif roll < 0.5:
            at = now - timedelta(milliseconds=rng.randint(1, 40), microseconds=rng.randint(0, 999))
        else:
            at = now
        previous = at
        yield at


def scanned(events: Sequence[tuple[int, Any]], instant: datetime) -> int:
    """The oracle: the last position before the first event recorded after ``instant``, by a scan
    of the whole log in position order."""
    position = 0
    for at, event in events:
        if event.timestamp > instant:
            return position
        position = at
    return position


def instants(events: Sequence[tuple[int, Any]], rng: random.Random) -> list[datetime]:
    times = sorted({event.timestamp for _, event in events})
    micro = timedelta(microseconds=1)
    asked = {START - timedelta(days=1), times[0] - micro, times[-1], times[-1] + timedelta(days=1)}
    for at in times:
        asked |= {at - micro, at, at + micro}
    asked |= {times[0] + (times[-1] - times[0]) * rng.random() for _ in range(50)}
    return sorted(asked)


class Counted:
    """``read_events`` that counts the events it hands out."""

    def __init__(self, ledger: CaseLedger) -> None:
        self.ledger = ledger
        self.read = 0

    def __call__(self, after: int, limit: int) -> Sequence[tuple[int, Any]]:
        found = self.ledger.read_events(after, limit)
        self.read += len(found)
        return found


def check(ledger: CaseLedger, db: ProjectionDatabase, rng: random.Random, folded: int) -> None:
    """Every instant maps as the full scan does, by a ``KnownAt`` with nothing cached; one whose
    first later event is folded reads at most two spans of events."""
    events = list(ledger.read_events(0, 1_000_000))
    source = Counted(ledger)
    known = KnownAt(db, source, ledger.last_position)
    try:
        settled_by_folded = 0
        for instant in instants(events, rng):
            source.read = 0
            expected = scanned(events, instant)
            assert known.position_at(instant) == expected, instant
            later = [at for at, event in events if event.timestamp > instant]
            if later and later[0] <= folded:
                settled_by_folded += 1
                assert source.read <= 2 * SPAN, (instant, source.read)
        assert settled_by_folded > 20
    finally:
        known.close()


def spans(db: ProjectionDatabase) -> list[dict[str, Any]]:
    with db.reading() as cur:
        generation, _ = read_models.live_generation(cur)
        cur.run(f"SELECT * FROM {table('cl_recorded_spans', generation)} ORDER BY span")
        return [dict(row) for row in cur.rows()]


@pytest.mark.parametrize("seed", [3, 17])
def test_an_instant_maps_to_the_position_a_scan_of_the_whole_log_gives(
    ledger: CaseLedger, projection_db: ProjectionDatabase, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    rng = random.Random(seed)
    monkeypatch.setattr(recorded_times, "SPAN", SPAN)
    clock = shuffled_clock(rng)
    monkeypatch.setattr(eventsourcing.domain, "datetime_now_with_tzinfo", lambda: next(clock))
    small_demo(ledger, weeks=8, per_week=10, suppliers=4)
    head = ledger.last_position()
    assert head > 20 * SPAN
    events = list(ledger.read_events(0, 1_000_000))
    assert any(a.timestamp > b.timestamp for (_, a), (_, b) in pairwise(events))
    part = events[len(events) * 3 // 5][0]

    def upto(after: int, limit: int) -> Sequence[tuple[int, Any]]:
        return [(p, e) for p, e in ledger.read_events(after, limit) if p <= end]

    end = part
    runner = ProjectionRunner(projection_db, upto, batch_size=5, rebuild_batch_size=11)
    assert runner.catch_up() > 0
    check(ledger, projection_db, rng, folded=part)

    end = head
    runner.catch_up()
    check(ledger, projection_db, rng, folded=head)
    live = spans(projection_db)
    assert len(live) >= head // SPAN

    runner.rebuild()
    assert spans(projection_db) == live, "the live fold and a bulk rebuild record the same spans"
    check(ledger, projection_db, rng, folded=head)


def test_read_models_of_an_older_version_are_scanned_from_the_start(
    ledger: CaseLedger, projection_db: ProjectionDatabase
) -> None:
    """While read models built before the index (without its table) are being rebuilt, the
    mapping scans the log from position 0."""
    small_demo(ledger, weeks=2, per_week=5, suppliers=3)
    ProjectionRunner(projection_db, ledger.read_events).catch_up()
    with projection_db.transaction() as cur:
        generation, _ = read_models.live_generation(cur)
        cur.run(f"DROP TABLE {table('cl_recorded_spans', generation)}")
        cur.run("UPDATE cl_generations SET models_version = models_version - 1 WHERE live = 1")
    events = list(ledger.read_events(0, 1_000_000))
    middle = events[len(events) // 2][1].timestamp
    known = KnownAt(projection_db, ledger.read_events, ledger.last_position)
    try:
        assert known.position_at(middle) == scanned(events, middle)
    finally:
        known.close()
