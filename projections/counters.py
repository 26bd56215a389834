"""Summary tables kept current with deltas: add what a batch changed, drop keys that reach zero
(so an incrementally maintained table equals one rebuilt from scratch).

Deltas are gathered in memory first (``Deltas``), so each key is written once however many events
moved it: once per batch when following the log, and during a bulk rebuild once per many batches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from projections import database
from projections.database import Cursor


class Deltas:
    """Changes to summary tables not yet written: per table, its key columns, its value column and
    ``{key tuple: delta}``."""

    def __init__(self) -> None:
        self._tables: dict[str, tuple[tuple[str, ...], str, dict[tuple[Any, ...], int]]] = {}

    def of(self, name: str, keys: Sequence[str], value: str) -> dict[tuple[Any, ...], int]:
        """The pending deltas of table ``name`` (keyed by ``keys``, summing ``value``), to add to."""
        found = self._tables.get(name)
        if found is None:
            found = self._tables[name] = (tuple(keys), value, {})
        return found[2]

    def __len__(self) -> int:
        return sum(len(deltas) for _, _, deltas in self._tables.values())

    def flush(self, cur: Cursor) -> None:
        """Write every pending delta and forget them."""
        for name, (keys, value, deltas) in self._tables.items():
            add(cur, name, keys, value, deltas)
        self._tables.clear()


def add(
    cur: Cursor, name: str, keys: Sequence[str], value: str, deltas: Mapping[tuple[Any, ...], int]
) -> None:
    """``value += delta`` for each key tuple (inserting new keys), then delete rows that are zero."""
    changes = [(*key, delta) for key, delta in deltas.items() if delta]
    if not changes:
        return
    if cur.dialect == "postgres" and len(changes) >= database.STAGE_FROM:
        _add_staged(cur, name, keys, value, changes)
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


def _add_staged(
    cur: Cursor, name: str, keys: Sequence[str], value: str, changes: list[tuple[Any, ...]]
) -> None:
    stage = database.stage_rows(cur, name, (*keys, value), changes)
    columns = ", ".join((*keys, value))
    match = " AND ".join(f"{name}.{key} = {stage}.{key}" for key in keys)
    cur.run(
        f"INSERT INTO {name} ({columns}) SELECT {columns} FROM {stage} ON CONFLICT ({', '.join(keys)}) "
        f"DO UPDATE SET {value} = {name}.{value} + excluded.{value}"
    )
    cur.run(f"DELETE FROM {name} USING {stage} WHERE {match} AND {stage}.{value} < 0 AND {name}.{value} = 0")
    cur.run(f"DROP TABLE {stage}")
