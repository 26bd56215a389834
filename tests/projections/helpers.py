"""Helpers for projection tests: a small demo history and a dump of the live read models."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from api.demo import load_demo
from application.service.caseledger import CaseLedger
from domain.referral import Referral
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


def supplier_endings(events: Iterable[Any]) -> Iterator[tuple[str, str | None, str, int | None]]:
    """Each time a referral ended with a supplier, in event order, read from the referral events
    alone (the track records' oracle): the supplier, the municipality, how (the close reason, or
    ``rematched`` when matched away from it), and the days its measure ran (start to the end or the
    closure, both days counted; ``None`` when matched away, never started or closed before it)."""
    state: dict[Any, dict[str, Any]] = {}
    for event in events:
        referral = state.setdefault(
            event.originator_id, {"supplier": None, "municipality": None, "start": None, "end": None}
        )
        if isinstance(event, Referral.Referred):
            referral["municipality"] = event.municipality
        elif isinstance(event, Referral.Matched):
            if referral["supplier"] not in (None, str(event.supplier_id)):
                yield referral["supplier"], referral["municipality"], "rematched", None
            referral["supplier"] = str(event.supplier_id)
        elif isinstance(event, Referral.PriceAgreed):
            referral["start"], referral["end"] = event.start, event.end
        elif isinstance(event, Referral.Extended):
            referral["end"] = event.new_end
        elif isinstance(event, Referral.Closed) and referral["supplier"] is not None:
            ran = None
            if referral["start"] is not None:
                last = min(referral["end"], event.closed_on)
                if last >= referral["start"]:
                    ran = (last - referral["start"]).days + 1
            yield referral["supplier"], referral["municipality"], event.reason, ran
