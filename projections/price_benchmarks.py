"""Report: agreed rates and list rates per intervention and unit — count, min, quartiles, max — and,
for one municipality, its own cost in force beside them."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from itertools import accumulate
from typing import Any

from domain.own_cost import OwnCosts
from projections import counters
from projections.database import Cursor
from projections.filters import conditions
from projections.tables import table


@dataclass(frozen=True)
class BenchmarkQuery:
    intervention: str | None = None
    unit: str | None = None
    municipality: str | None = None


def _nth(counts: list[tuple[int, int]], ends: list[int], index: int) -> int:
    """The value at ``index`` (0-based) of the sorted values that ``counts`` [(value, n)] stand for;
    ``ends`` holds the running totals of the ``n`` (a binary search, not a scan: a group may hold
    thousands of distinct rates)."""
    return counts[min(bisect_right(ends, index), len(counts) - 1)][0]


def _quartile_of_counts(counts: list[tuple[int, int]], ends: list[int], total: int, quarters: int) -> str:
    """The ``quarters``/4 quantile by linear interpolation between closest ranks (as PostgreSQL's
    percentile_cont), rounded half up to the øre, over the sorted values that ``counts`` stand for,
    without expanding them. In integers: four times the position and four times the value, so
    no ``Fraction`` is built (they were a third of the report's time on a national data set)."""
    position4 = quarters * (total - 1)
    low, part = divmod(position4, 4)
    below, above = _nth(counts, ends, low), _nth(counts, ends, min(low + 1, total - 1))
    ore = (4 * below + (above - below) * part + 2) // 4  # floor(exact + 1/2): half up
    return f"{ore // 100}.{ore % 100:02d}"


def _money(ore: int) -> str:
    return f"{ore // 100}.{ore % 100:02d}"


QUARTILES = {"min": 0, "p25": 1, "median": 2, "p75": 3, "max": 4}
"""The summary's figures, each as its quantile in quarters."""


def _summary(values: list[int]) -> dict[str, Any]:
    counted: dict[int, int] = {}
    for value in values:
        counted[value] = counted.get(value, 0) + 1
    return _summary_of_counts(sorted(counted.items()))


def _summary_of_counts(counts: list[tuple[int, int]]) -> dict[str, Any]:
    """``counts``: (value, n) in ascending order of value."""
    ends = list(accumulate(n for _, n in counts))
    total = ends[-1] if ends else 0
    if not total:
        return {"count": 0, "min": None, "p25": None, "median": None, "p75": None, "max": None}
    return {
        "count": total,
        **{name: _quartile_of_counts(counts, ends, total, q) for name, q in QUARTILES.items()},
    }


def save_agreed(generation: int, referrals: list[Any], pending: counters.Deltas) -> None:
    """Count the agreed rate of each price agreement folded in this batch."""
    deltas = pending.of(
        table("cl_agreed_rates", generation), ("municipality", "intervention", "unit", "rate_ore"), "n"
    )
    for referral in referrals:
        agreed = referral.extra.get("agreed")
        if agreed is not None and agreed[3] is not None:
            deltas[agreed] = deltas.get(agreed, 0) + 1


def save_own_costs(cur: Cursor, generation: int, events: list[Any]) -> None:
    """Keep the latest own cost recorded per municipality, intervention, unit and valid-from date (a
    later record for the same date is a correction that replaces it)."""
    latest: dict[tuple[str, str, str, str], tuple[int, int]] = {}
    for event in events:
        if isinstance(event, OwnCosts.Recorded):
            key = (event.municipality, event.intervention, event.unit, event.valid_from.isoformat())
            latest[key] = (int(event.rate * 100), event.originator_version)
    if latest:
        cur.run_many(
            f"INSERT INTO {table('cl_own_costs', generation)} "
            "(municipality, intervention, unit, valid_from, rate_ore, version) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (municipality, intervention, unit, valid_from) "
            "DO UPDATE SET rate_ore = excluded.rate_ore, version = excluded.version",
            [(*key, rate, version) for key, (rate, version) in latest.items()],
        )


def _own_costs(
    cur: Cursor, generation: int, query: BenchmarkQuery, today: date
) -> dict[tuple[str, str], int]:
    """Per intervention and unit, the municipality's own cost in force ``today``, in øre."""
    where, params = _filters(query)
    cur.run(
        f"SELECT intervention, unit, valid_from, rate_ore FROM {table('cl_own_costs', generation)} "
        f"WHERE {' AND '.join(['valid_from <= ?', *where])}",
        [today.isoformat(), *params],
    )
    in_force: dict[tuple[str, str], tuple[str, int]] = {}
    for intervention, unit, valid_from, rate in cur.tuples():
        if (intervention, unit) not in in_force or valid_from > in_force[(intervention, unit)][0]:
            in_force[(intervention, unit)] = (valid_from, int(rate))
    return {key: rate for key, (_, rate) in in_force.items()}


def _filters(query: BenchmarkQuery) -> tuple[list[str], list[Any]]:
    return conditions(
        (("intervention", query.intervention), ("unit", query.unit), ("municipality", query.municipality))
    )


def benchmarks(cur: Cursor, generation: int, query: BenchmarkQuery, today: date) -> list[dict[str, Any]]:
    """Per intervention and unit: the agreed rates of price agreements, and the list rates in force today."""
    where, params = _filters(query)
    clause = " AND ".join(["1 = 1", *where])
    cur.run(
        f"SELECT intervention, unit, rate_ore, SUM(n) AS n FROM {table('cl_agreed_rates', generation)} "
        f"WHERE {clause} GROUP BY intervention, unit, rate_ore",
        params,
    )
    agreed: dict[tuple[str, str], dict[int, int]] = {}
    for intervention, unit, rate, n in cur.tuples():
        agreed.setdefault((intervention, unit), {})[int(rate)] = int(n)

    # The list rate in force for a supplier, municipality, intervention and unit is the one valid
    # today with the latest valid-from, then the latest list. Chosen here, not by a window function
    # in SQL: PostgreSQL's sort for it took longer than this loop (docs/benchmarks.md, "Figures
    # behind choices in the code").
    day = today.isoformat()
    list_clause = " AND ".join(["valid_from <= ?", "(valid_to IS NULL OR valid_to >= ?)", *where])
    cur.run(
        f"SELECT supplier_id, municipality, intervention, unit, valid_from, list_no, rate_ore "
        f"FROM {table('cl_list_rates', generation)} WHERE {list_clause}",
        [day, day, *params],
    )
    in_force: dict[tuple[str, str, str, str], tuple[str, int, int]] = {}
    for supplier_id, municipality, intervention, unit, valid_from, list_no, rate in cur.tuples():
        key = (supplier_id, municipality, intervention, unit)
        candidate = (valid_from, list_no, rate)
        if key not in in_force or candidate[:2] > in_force[key][:2]:
            in_force[key] = candidate
    listed: dict[tuple[str, str], list[int]] = {}
    for (_, _, intervention, unit), (_, _, rate) in in_force.items():
        listed.setdefault((intervention, unit), []).append(int(rate))

    # Own costs are one municipality's: a report across municipalities has none to show.
    own = _own_costs(cur, generation, query, today) if query.municipality is not None else {}
    rows = []
    for intervention, unit in sorted(set(agreed) | set(listed)):
        of_agreements = _summary_of_counts(sorted(agreed.get((intervention, unit), {}).items()))
        of_lists = _summary(listed.get((intervention, unit), []))
        rows.append(
            {
                "intervention": intervention,
                "unit": unit,
                "agreements": of_agreements.pop("count"),
                **of_agreements,
                "list_rates": of_lists.pop("count"),
                **{f"list_{name}": value for name, value in of_lists.items()},
                "own_cost": _money(own[(intervention, unit)]) if (intervention, unit) in own else None,
            }
        )
    return rows
