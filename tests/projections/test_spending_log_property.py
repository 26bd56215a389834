"""Property, on SQLite and PostgreSQL: for random histories — hourly, daily and package referrals
with extensions, adjustments (often effective in the past) and closures, their suppliers registered
and renamed, the events saved interleaved across referrals — the spending report as known at every
position P, read from the spending log (``spending.report_at``, spans of a few positions so that
both the spans and the log are read), equals the spending report of a store of its own folded
from the events up to P only, for every grouping; and a rebuild writes the same log, whose
answers are the same.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.service.caseledger import CaseLedger
from domain.supplier import Supplier
from projections import spending_log
from projections.database import ProjectionDatabase
from projections.known_at import pinned
from projections.read_models import live_generation
from projections.reports import Reports
from projections.runner import ProjectionRunner
from projections.spending import SpendingQuery
from projections.tables import table
from tests.domain.builders import MATCHER
from tests.domain.test_spending_properties import Scenario, play, scenarios
from tests.storage import database_url, storage_env

KINDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]
QUERIES = [
    SpendingQuery(),
    SpendingQuery(by="supplier"),
    SpendingQuery(by="intervention"),
    SpendingQuery(by="legal_basis"),
    SpendingQuery(by="municipality", from_month="2025-01", to_month="2027-12"),
    SpendingQuery(by="supplier", municipality="461", from_month="2026-01"),
]
LOGGED = ("cl_spend_log", "cl_spend_marks", "cl_supplier_names")


@contextmanager
def stores(kind: str) -> Iterator[tuple[CaseLedger, ProjectionDatabase, ProjectionDatabase]]:
    """A fresh event store with its read models, and a second store's read models (the oracle)."""
    with tempfile.TemporaryDirectory() as directory:
        (Path(directory) / "oracle").mkdir()
        with (
            database_url(kind, Path(directory)) as url,
            database_url(kind, Path(directory) / "oracle") as oracle_url,
        ):
            ledger = CaseLedger(storage_env(url))
            db = ProjectionDatabase.from_env(storage_env(url))
            oracle = ProjectionDatabase.from_env(storage_env(oracle_url))
            try:
                yield ledger, db, oracle
            finally:
                oracle.close()
                db.close()
                ledger.close()


def histories(played: list[Scenario], renamed: list[int]) -> list[list[Any]]:
    """Per scenario its events, after its supplier's registration, with the supplier renamed once
    when its index is in ``renamed`` (before the referral's events, after them, or between)."""
    found = []
    for index, scenario in enumerate(played):
        referral = play(scenario)
        events: list[Any] = referral.collect_events()
        supplier = Supplier.register(
            supplier_id=referral.supplier_id,
            name=f"Leverandør {index}",
            cvr="12345674",
            contact={"name": "Hanne Hansen"},
            target_groups=[],
            competencies=[],
            education_levels=[],
            decided_by=MATCHER,
        )
        if index in renamed:
            supplier.update_details(changes={"name": f"Omdøbt {index}"}, decided_by=MATCHER)
        registered, *renaming = supplier.collect_events()
        middle = len(events) * renamed.count(index) // 4
        found.append([registered, *events[:middle], *renaming, *events[middle:]])
    return found


def save_interleaved(ledger: CaseLedger, pending: list[list[Any]], turns: list[tuple[int, int]]) -> None:
    """Each history saved a few events at a time in the order ``turns`` gives, the rest at the end."""
    for which, count in [*turns, *((i, len(events)) for i, events in enumerate(pending))]:
        events = pending[which % len(pending)]
        taken, events[:] = events[:count], events[count:]
        if taken:
            ledger.save(*taken)


def logged(db: ProjectionDatabase) -> dict[str, list[tuple[Any, ...]]]:
    with db.reading() as cur:
        generation, _ = live_generation(cur)
        found = {}
        for name in LOGGED:
            cur.run(f"SELECT * FROM {table(name, generation)}")
            found[name] = sorted(cur.tuples())
        return found


def known_at(db: ProjectionDatabase, position: int, query: SpendingQuery) -> dict[str, Any] | None:
    with pinned(db) as (reports, _):
        return reports.known_at(position).spending(query)


@pytest.mark.parametrize("kind", KINDS)
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    played=st.lists(scenarios, min_size=1, max_size=3),
    renamed=st.lists(st.integers(0, 2), max_size=3),
    turns=st.lists(st.tuples(st.integers(0, 2), st.integers(1, 3)), max_size=12),
    span=st.integers(1, 7),
    batch=st.integers(1, 6),
)
def test_the_spending_log_known_at_every_position_is_a_store_of_the_events_up_to_there(
    kind: str, played: list[Scenario], renamed: list[int], turns: list[tuple[int, int]], span: int, batch: int
) -> None:
    with stores(kind) as (ledger, db, oracle_db), patch.object(spending_log, "MARK_EVERY", span):
        save_interleaved(ledger, histories(played, renamed), turns)
        head = ledger.last_position()
        live = ProjectionRunner(db, ledger.read_events, batch_size=batch)
        live.catch_up()
        end = [0]

        def upto(after: int, limit: int) -> list[tuple[int, Any]]:
            return [(p, e) for p, e in ledger.read_events(after, limit) if p <= end[0]]

        oracle = ProjectionRunner(oracle_db, upto, batch_size=3)
        expected: dict[int, list[dict[str, Any]]] = {}
        for position in range(head + 1):
            end[0] = position
            oracle.catch_up()
            expected[position] = [Reports(oracle_db).spending(query) for query in QUERIES]
            found = [known_at(db, position, query) for query in QUERIES]
            assert found == expected[position], position

        folded = logged(db)
        live.rebuild()
        assert logged(db) == folded
        for position in range(head + 1):
            assert [known_at(db, position, query) for query in QUERIES] == expected[position], position
