"""Helpers for projection tests: a small demo history and a dump of the live read models."""

from __future__ import annotations

from datetime import date
from typing import Any

from api.demo import load_demo
from application.caseledger import CaseLedger
from projections.database import ProjectionDatabase
from projections.read_models import live_generation
from projections.tables import MODEL_TABLES, table

DEMO_TODAY = date(2026, 6, 15)


def small_demo(ledger: CaseLedger, *, weeks: int = 10, per_week: int = 12, suppliers: int = 15) -> None:
    load_demo(ledger, today=DEMO_TODAY, weeks=weeks, suppliers=suppliers, per_week=per_week, seed=7)


def dump(db: ProjectionDatabase) -> dict[str, list[dict[str, Any]]]:
    """Every row of every live read-model table, in a stable order (positions left out)."""
    tables: dict[str, list[dict[str, Any]]] = {}
    with db.reading() as cur:
        generation, _ = live_generation(cur)
        for name in MODEL_TABLES:
            cur.run(f"SELECT * FROM {table(name, generation)}")
            rows = [{k: v for k, v in row.items() if k != "position"} for row in cur.rows()]
            tables[name] = sorted(rows, key=lambda r: repr(sorted(r.items())))
    return tables
