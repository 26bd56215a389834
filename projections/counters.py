"""Summary tables kept current with deltas: add what a batch changed, drop keys that reach zero
(so an incrementally maintained table equals one rebuilt from scratch)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from projections.database import Cursor


def add(
    cur: Cursor, name: str, keys: Sequence[str], value: str, deltas: Mapping[tuple[Any, ...], int]
) -> None:
    """``value += delta`` for each key tuple (inserting new keys), then delete rows that are zero."""
    changes = [(*key, delta) for key, delta in deltas.items() if delta]
    if not changes:
        return
    columns = ", ".join((*keys, value))
    marks = ", ".join("?" * (len(keys) + 1))
    cur.run_many(
        f"INSERT INTO {name} ({columns}) VALUES ({marks}) ON CONFLICT ({', '.join(keys)}) "
        f"DO UPDATE SET {value} = {name}.{value} + excluded.{value}",
        changes,
    )
    # Summed values are never negative, so only a key that went down can have reached zero.
    lowered = [change[:-1] for change in changes if change[-1] < 0]
    match = " AND ".join(f"{key} = ?" for key in keys)
    cur.run_many(f"DELETE FROM {name} WHERE {match} AND {value} = 0", lowered)
