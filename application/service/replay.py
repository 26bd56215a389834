"""How an aggregate is rebuilt from its events when a command loads it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def replay(aggregate: Any, events: Iterable[Any]) -> Any:
    """eventsourcing's ``project_aggregate`` without its per-event ``isinstance`` check against a
    runtime-checkable Protocol, which is slow on Python 3.11 and showed in an API process's profile
    under command load (figures: docs/benchmarks.md); every event here is an ``Aggregate.Event``,
    which can mutate."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate
