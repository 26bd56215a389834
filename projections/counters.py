"""Summary tables kept current with deltas: add what a batch changed, drop keys that reach zero
(so an incrementally maintained table equals one rebuilt from scratch).

Deltas are gathered in memory first (``Deltas``), so each key is written once however many events
moved it: once per batch when following the log, and during a bulk rebuild once per many batches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from projections.database import Cursor


class Deltas:
    """Changes to summary tables not yet written: per table, its key columns, its value column and
    ``{key tuple: delta}``."""

    def __init__(self) -> None:
        self._tables: dict[str, tuple[tuple[str, ...], str, dict[tuple[Any, ...], int]]] = {}
        self.kept: dict[str, Any] = {}
        """What a bulk build keeps across its batches besides deltas (never written by ``flush``)."""

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
    if changes:
        cur.add_many(name, keys, value, changes)
