"""The report queries, each answered from the live generation of the read models (each report's
query is in its read model's module)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Concatenate, ParamSpec, TypeVar

from projections import (
    candidates,
    decision_log,
    lineage,
    practice,
    price_benchmarks,
    price_practice,
    referral_list,
    spending,
    supplier_overview,
)
from projections.database import Cursor, ProjectionDatabase
from projections.read_models import live_generation

P = ParamSpec("P")
T = TypeVar("T")


def _live(report: Callable[Concatenate[Cursor, int, P], T]) -> Callable[Concatenate[Reports, P], T]:
    """A method of ``Reports`` that reads ``report(cur, generation, …)`` on the live generation, with
    ``report``'s other parameters and its docstring."""

    def method(self: Reports, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._on_live(report, *args, **kwargs)

    method.__doc__ = report.__doc__
    return method


class Reports:
    """The report queries, always on the live generation."""

    def __init__(self, db: ProjectionDatabase) -> None:
        self.db = db

    def _on_live(
        self, report: Callable[Concatenate[Cursor, int, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``report(cur, generation, …)`` on the live generation, in one read."""
        with self.db.reading() as cur:
            generation, _ = live_generation(cur)
            return report(cur, generation, *args, **kwargs)

    def position(self) -> int:
        with self.db.reading() as cur:
            return live_generation(cur)[1]

    def supplier_overview(self, query: supplier_overview.OverviewQuery, today: date) -> list[dict[str, Any]]:
        return self._on_live(supplier_overview.overview, query, today)

    def spending(self, query: spending.SpendingQuery) -> dict[str, Any]:
        return self._on_live(spending.report, query)

    def spending_lineage(self, query: lineage.LineageQuery) -> list[lineage.CellPart]:
        return self._on_live(lineage.cell_parts, query)

    def price_benchmarks(self, query: price_benchmarks.BenchmarkQuery, today: date) -> list[dict[str, Any]]:
        return self._on_live(price_benchmarks.benchmarks, query, today)

    def decisions(self, query: decision_log.DecisionQuery) -> dict[str, Any]:
        return self._on_live(decision_log.search, query)

    def referrals_by_case_index(self, indexes: list[str], municipality: str | None) -> list[str]:
        return self._on_live(decision_log.referrals_by_case_index, indexes, municipality)

    def practice(self, query: practice.PracticeQuery) -> dict[str, Any]:
        return self._on_live(practice.report, query)

    def price_exceptions(self, query: price_practice.ExceptionQuery) -> dict[str, Any]:
        return self._on_live(price_practice.exceptions, query)

    def price_lists(self, query: price_practice.PriceListQuery, today: date) -> dict[str, Any]:
        return self._on_live(price_practice.price_lists, query, today)

    def candidates(self, query: candidates.CandidateQuery) -> list[dict[str, Any]]:
        return self._on_live(candidates.candidates, query)

    referrals = _live(referral_list.page)

    def referral_suppliers(self, municipality: str | None) -> dict[str, str]:
        """The suppliers the referral list names, id → name, by name."""
        return self._on_live(referral_list.supplier_names, municipality)
