"""Report: agreed rates and list rates per intervention and unit — count, min, quartiles, max."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from itertools import accumulate
from typing import Any

from domain.spending import round_half_up
from projections import counters
from projections.database import Cursor
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


def _quantile_of_counts(counts: list[tuple[int, int]], ends: list[int], total: int, q: Fraction) -> str:
    """Linear interpolation between closest ranks (as PostgreSQL's percentile_cont), to the øre,
    over the sorted values that ``counts`` stand for, without expanding them."""
    position = q * (total - 1)
    low = int(position)
    below, above = _nth(counts, ends, low), _nth(counts, ends, min(low + 1, total - 1))
    exact = Fraction(below) + Fraction(above - below) * (position - low)
    return f"{round_half_up(exact / 100):.2f}"


def _summary(values: list[int]) -> dict[str, Any]:
    counted: dict[int, int] = {}
    for value in values:
        counted[value] = counted.get(value, 0) + 1
    return _summary_of_counts(counted)


def _summary_of_counts(counted: dict[int, int]) -> dict[str, Any]:
    counts = sorted(counted.items())
    ends = list(accumulate(n for _, n in counts))
    total = ends[-1] if ends else 0
    if not total:
        return {"count": 0, "min": None, "p25": None, "median": None, "p75": None, "max": None}
    quartiles = {
        "min": Fraction(0),
        "p25": Fraction(1, 4),
        "median": Fraction(1, 2),
        "p75": Fraction(3, 4),
        "max": Fraction(1),
    }
    return {
        "count": total,
        **{name: _quantile_of_counts(counts, ends, total, q) for name, q in quartiles.items()},
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


def _filters(query: BenchmarkQuery) -> tuple[list[str], list[Any]]:
    where, params = [], []
    for column, value in (
        ("intervention", query.intervention),
        ("unit", query.unit),
        ("municipality", query.municipality),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    return where, params


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
    for row in cur.rows():
        agreed.setdefault((row["intervention"], row["unit"]), {})[int(row["rate_ore"])] = int(row["n"])

    day = today.isoformat()
    list_clause = " AND ".join(["valid_from <= ?", "(valid_to IS NULL OR valid_to >= ?)", *where])
    cur.run(
        f"SELECT supplier_id, municipality, intervention, unit, rate_ore, valid_from, list_no "
        f"FROM {table('cl_list_rates', generation)} WHERE {list_clause}",
        [day, day, *params],
    )
    in_force: dict[tuple[str, str, str, str], tuple[str, int, int]] = {}
    for row in cur.rows():
        key = (row["supplier_id"], row["municipality"], row["intervention"], row["unit"])
        candidate = (row["valid_from"], int(row["list_no"]), int(row["rate_ore"]))
        if key not in in_force or candidate[:2] > in_force[key][:2]:
            in_force[key] = candidate
    listed: dict[tuple[str, str], list[int]] = {}
    for (_, _, intervention, unit), (_, _, rate) in in_force.items():
        listed.setdefault((intervention, unit), []).append(rate)

    rows = []
    for intervention, unit in sorted(set(agreed) | set(listed)):
        of_agreements = _summary_of_counts(agreed.get((intervention, unit), {}))
        of_lists = _summary(listed.get((intervention, unit), []))
        rows.append(
            {
                "intervention": intervention,
                "unit": unit,
                "agreements": of_agreements.pop("count"),
                **of_agreements,
                "list_rates": of_lists.pop("count"),
                **{f"list_{name}": value for name, value in of_lists.items()},
            }
        )
    return rows
