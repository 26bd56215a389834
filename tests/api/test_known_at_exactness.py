"""Property, on SQLite and PostgreSQL: for random histories — hourly, daily and package referrals with
extensions, adjustments (often effective in the past) and closures, their events saved interleaved
across referrals — the spending report known at a position P (in total and by supplier from the
spending log, by intervention of one supplier from a bulk rebuild of a scratch store) is the report
of a read-model store of its own, folded by the live runner from the events up to P only; each
cell's lineage known at P adds up to the cell; and
the changes between two knowledge times are the difference of the two known-at reports.

A few examples only (``MAX_EXAMPLES`` per database): each builds an app on a fresh store and a
scratch store per position asked for.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from api.settings import Settings
from projections.database import ProjectionDatabase
from projections.reports import Reports
from projections.runner import ProjectionRunner
from projections.spending import SpendingQuery
from tests.domain.test_spending_properties import Scenario, play, scenarios
from tests.storage import database_url, storage_env
from tests.tokens import authorize

MAX_EXAMPLES = 7
KINDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@contextmanager
def served(kind: str) -> Iterator[TestClient]:
    with (
        tempfile.TemporaryDirectory() as directory,
        database_url(kind, Path(directory)) as url,
        TestClient(create_app(Settings(database_url=url))) as client,
    ):
        yield authorize(client)


class Folded:
    """The read models of a fresh store of their own, folded by the live runner (three events at a
    time) from the events up to a position only, moved forward with ``up_to``."""

    def __init__(self, client: TestClient, db: ProjectionDatabase) -> None:
        ledger = client.app.state.ledger  # type: ignore[attr-defined]
        self.end = 0

        def upto(after: int, limit: int) -> list[tuple[int, Any]]:
            return [(p, e) for p, e in ledger.read_events(after, limit) if p <= self.end]

        self.runner = ProjectionRunner(db, upto, batch_size=3)
        self.reports = Reports(db)

    def up_to(self, position: int) -> Reports:
        self.end = position
        self.runner.catch_up()
        return self.reports


@contextmanager
def oracle_of(kind: str, client: TestClient) -> Iterator[Folded]:
    with tempfile.TemporaryDirectory() as directory, database_url(kind, Path(directory)) as url:
        db = ProjectionDatabase.from_env(storage_env(url))
        try:
            yield Folded(client, db)
        finally:
            db.close()


def get(client: TestClient, path: str, **params: Any) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, (path, params, response.text)
    return response.json()


def by_month(report: dict[str, Any]) -> dict[str, Decimal]:
    return {row["month"]: Decimal(row["amount"]) for row in report["rows"]}


def save_interleaved(client: TestClient, played: list[Scenario], turns: list[tuple[int, int]]) -> None:
    """Each scenario's events, saved a few at a time in the order ``turns`` (referral, how many)
    gives, the rest at the end: a referral's later decisions land after other referrals' events."""
    ledger = client.app.state.ledger  # type: ignore[attr-defined]
    pending = [play(scenario).collect_events() for scenario in played]
    for which, count in [*turns, *((i, len(events)) for i, events in enumerate(pending))]:
        events = pending[which % len(pending)]
        taken, events[:] = events[:count], events[count:]
        if taken:
            ledger.save(*taken)


@pytest.mark.parametrize("kind", KINDS)
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    played=st.lists(scenarios, min_size=2, max_size=3),
    turns=st.lists(st.tuples(st.integers(0, 2), st.integers(1, 3)), max_size=12),
    cuts=st.lists(st.integers(1, 99), min_size=2, max_size=3, unique=True),
)
def test_known_at_is_a_store_of_the_events_up_to_there_and_changes_are_their_difference(
    kind: str, played: list[Scenario], turns: list[tuple[int, int]], cuts: list[int]
) -> None:
    with served(kind) as client, oracle_of(kind, client) as oracle:
        save_interleaved(client, played, turns)
        ledger = client.app.state.ledger  # type: ignore[attr-defined]
        head = ledger.last_position()
        positions = sorted({max(1, head * cut // 100) for cut in cuts} | {head})

        known: dict[int, dict[str, Decimal]] = {}
        for position in positions:
            folded = oracle.up_to(position)
            # By supplier and by intervention from the spending log; by both, from a scratch store.
            supplier = supplier_of(folded)
            one = {"supplier_id": supplier} if supplier else {}
            for by, narrowed in (("supplier", {}), ("intervention", one)):
                grouped = get(client, "/reports/spending", known_at_position=position, by=by, **narrowed)
                assert grouped.pop("basis")["position"] == position
                assert grouped == folded.spending(SpendingQuery(by=by, **narrowed)), (position, by)
            report = get(client, "/reports/spending", known_at_position=position)
            assert report.pop("basis")["position"] == position
            assert report == folded.spending(SpendingQuery()), position
            known[position] = by_month(report)
            for month, amount in list(known[position].items())[:8]:
                cell = get(client, "/reports/spending/lineage", month=month, known_at_position=position)
                assert cell["basis"]["position"] == position
                assert Decimal(cell["amount"]) == amount, (position, month)
                assert sum(Decimal(part["amount"]) for part in cell["referrals"]) == amount
                for part in cell["referrals"]:
                    assert sum(Decimal(e["change"]) for e in part["events"]) == Decimal(part["amount"])

        first, last = positions[0], positions[-1]
        # The latest time recorded up to each position (recorded time and position can disagree).
        since, until = (
            max(event.timestamp for _, event in ledger.read_events(0, p)).isoformat() for p in (first, last)
        )
        changed = get(client, "/reports/spending/changes", since=since, until=until)
        before, after = (
            by_month(strip(get(client, "/reports/spending", known_at_position=basis["position"])))
            for basis in (changed["before"], changed["basis"])
        )
        expected: dict[str, Decimal] = {}
        for month in before.keys() | after.keys():
            expected[month] = after.get(month, Decimal(0)) - before.get(month, Decimal(0))
        found: dict[str, Decimal] = {}
        for item in changed["items"]:
            assert Decimal(item["difference"]) == Decimal(item["after"]) - Decimal(item["before"])
            found[item["month"]] = found.get(item["month"], Decimal(0)) + Decimal(item["difference"])
        assert {m: d for m, d in found.items() if d} == {m: d for m, d in expected.items() if d}


def supplier_of(reports: Reports) -> str | None:
    """A supplier with spending in ``reports``, if any."""
    rows = reports.spending(SpendingQuery(by="supplier"))["rows"]
    return rows[0]["key"] if rows else None


def strip(report: dict[str, Any]) -> dict[str, Any]:
    report.pop("basis")
    return report
