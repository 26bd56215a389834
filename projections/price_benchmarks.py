"""Report: agreed rates and list rates per intervention and unit — count, min, quartiles, max."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from domain.spending import round_half_up
from projections.database import Cursor
from projections.tables import table


@dataclass(frozen=True)
class BenchmarkQuery:
    intervention: str | None = None
    unit: str | None = None
    municipality: str | None = None


def _quantile(sorted_ore: list[int], q: Fraction) -> str:
    """Linear interpolation between closest ranks (as PostgreSQL's percentile_cont), to the øre."""
    position = q * (len(sorted_ore) - 1)
    low = int(position)
    high = min(low + 1, len(sorted_ore) - 1)
    exact = Fraction(sorted_ore[low]) + (Fraction(sorted_ore[high] - sorted_ore[low]) * (position - low))
    return f"{round_half_up(exact / 100):.2f}"


def _summary(values: list[int]) -> dict[str, Any]:
    ordered = sorted(values)
    if not ordered:
        return {"count": 0, "min": None, "p25": None, "median": None, "p75": None, "max": None}
    return {
        "count": len(ordered),
        "min": _quantile(ordered, Fraction(0)),
        "p25": _quantile(ordered, Fraction(1, 4)),
        "median": _quantile(ordered, Fraction(1, 2)),
        "p75": _quantile(ordered, Fraction(3, 4)),
        "max": _quantile(ordered, Fraction(1)),
    }


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
    clause = " AND ".join(["agreed_rate_ore IS NOT NULL", *where])
    cur.run(
        f"SELECT intervention, unit, agreed_rate_ore FROM {table('cl_referrals', generation)} WHERE {clause}",
        params,
    )
    agreed: dict[tuple[str, str], list[int]] = {}
    for row in cur.rows():
        agreed.setdefault((row["intervention"], row["unit"]), []).append(int(row["agreed_rate_ore"]))

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
        of_agreements = _summary(agreed.get((intervention, unit), []))
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
