"""When the folded events were recorded, by span of positions: the index ``KnownAt.position_at``
maps an instant to a position with (docs/knowledge-time.md, *Instants*).

The log's positions are cut into spans of ``SPAN`` (1 to ``SPAN``, ``SPAN`` + 1 to 2 × ``SPAN``, …).
Per span that holds a folded event, ``cl_recorded_spans`` keeps the position of its last event and
the latest time recorded by any event up to that position, from position 1 on: a running maximum,
so it never decreases from one span to the next. The rows are a function of the events alone, not
of how they were cut into batches, so the live fold and a bulk rebuild write the same rows, batch
by batch in the batch's transaction (``save``), as the other read models.

An instant T is then placed by one indexed read (``span_of``): the first span whose running maximum
is after T holds the first event recorded after T (every event before it was recorded at or before
T, and one of its own was not), so the longest prefix recorded by T ends between the previous
span's last event and that span's last event; only those events need to be read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from projections.database import Cursor
from projections.tables import table

SPAN = 5000
"""Positions per span: an instant is placed by reading at most this many events."""

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def micros(instant: datetime) -> int:
    """An aware instant as microseconds since the epoch: exact (datetimes go no finer), and
    comparable in SQL as an integer on both storages."""
    return (instant - EPOCH) // MICROSECOND


def save(cur: Cursor, generation: int, batch: Sequence[tuple[int, Any]]) -> None:
    """The spans a batch (positions ascending, after every event folded before it) ends in or
    passes, with their last event and the running maximum of the recorded times up to it."""
    if not batch:
        return
    name = table("cl_recorded_spans", generation)
    cur.run(f"SELECT recorded_max FROM {name} ORDER BY span DESC LIMIT 1")
    found = cur.one()
    running = int(found["recorded_max"]) if found is not None else None
    spans: dict[int, tuple[int, int]] = {}
    for position, event in batch:
        at = micros(event.timestamp)
        if running is None or at > running:
            running = at
        spans[(position - 1) // SPAN] = (position, running)
    for span, (last, recorded) in spans.items():
        cur.run(
            f"INSERT INTO {name} (span, last_position, recorded_max) VALUES (?, ?, ?) "
            "ON CONFLICT (span) DO UPDATE SET last_position = excluded.last_position, "
            "recorded_max = excluded.recorded_max",
            [span, last, recorded],
        )


def span_of(cur: Cursor, generation: int, instant: datetime) -> tuple[int, int] | None:
    """``(after, last)`` for the first span whose running maximum is after ``instant``: the last
    event of the span before it (0 if none) and its own last event. The first event recorded after
    ``instant`` lies between the two. None when every folded event was recorded by then."""
    name = table("cl_recorded_spans", generation)
    # The running maximum never decreases with the span: the least one after the instant is the
    # first span's (on a tie, the lower span is the first).
    cur.run(
        f"SELECT span, last_position FROM {name} WHERE recorded_max > ? ORDER BY recorded_max, span LIMIT 1",
        [micros(instant)],
    )
    first = cur.one()
    if first is None:
        return None
    cur.run(f"SELECT last_position FROM {name} WHERE span < ? ORDER BY span DESC LIMIT 1", [first["span"]])
    before = cur.one()
    return (int(before["last_position"]) if before is not None else 0), int(first["last_position"])
