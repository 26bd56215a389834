"""Read model: what each supplier offers — its target groups, competencies and education levels —
and the weekly capacity it states, for the candidate ranking's fit and load."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.supplier import CAPACITY, LIST_FIELDS, Supplier
from projections.codec import to_ore
from projections.database import Cursor
from projections.tables import table

COLUMNS = ("supplier_id", *LIST_FIELDS, "capacity_centi")


@dataclass
class Profile:
    """One supplier's labels and capacity (in hundredths of an hour) while a batch is folded."""

    supplier_id: str
    labels: dict[str, list[str]]
    capacity_centi: int | None = None

    def to_db(self) -> tuple[Any, ...]:
        return (
            self.supplier_id,
            *(json.dumps(self.labels[name], ensure_ascii=False) for name in LIST_FIELDS),
            self.capacity_centi,
        )


def load(cur: Cursor, generation: int, supplier_ids: set[str]) -> dict[str, Profile]:
    """The stored profiles of the suppliers a batch touches, in one query."""
    if not supplier_ids:
        return {}
    ids = sorted(supplier_ids)
    cur.run(
        f"SELECT * FROM {table('cl_supplier_profiles', generation)} WHERE supplier_id IN ({','.join('?' * len(ids))})",
        ids,
    )
    return {row["supplier_id"]: _from_row(row) for row in cur.rows()}


def _from_row(row: dict[str, Any]) -> Profile:
    capacity = row["capacity_centi"]
    return Profile(
        supplier_id=row["supplier_id"],
        labels={name: json.loads(row[name]) for name in LIST_FIELDS},
        capacity_centi=None if capacity is None else int(capacity),
    )


def fold(profile: Profile | None, event: Any) -> Profile | None:
    """Apply one supplier event (a price list changes no profile: ``None`` when there is none yet)."""
    if isinstance(event, Supplier.Registered):
        return Profile(
            supplier_id=str(event.originator_id),
            labels={name: list(getattr(event, name)) for name in LIST_FIELDS},
        )
    if isinstance(event, Supplier.DetailsUpdated) and profile is not None:
        for name in LIST_FIELDS:
            if name in event.changes:
                profile.labels[name] = list(event.changes[name])
        if CAPACITY in event.changes:
            profile.capacity_centi = to_ore(event.changes[CAPACITY])
    return profile


def save(cur: Cursor, generation: int, profiles: Sequence[Profile]) -> None:
    updates = ", ".join(f"{column}=excluded.{column}" for column in COLUMNS[1:])
    cur.run_many(
        f"INSERT INTO {table('cl_supplier_profiles', generation)} ({', '.join(COLUMNS)}) "
        f"VALUES ({','.join('?' * len(COLUMNS))}) ON CONFLICT (supplier_id) DO UPDATE SET {updates}",
        [profile.to_db() for profile in profiles],
    )
