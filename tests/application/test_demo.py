"""The demo loader (``api.demo``): a small municipality goes in through the commands, on
SQLite and PostgreSQL, and what the store holds agrees with the summary it returns.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from api.demo import DemoSummary, load_demo
from application.service.caseledger import CaseLedger
from domain.cvr import is_valid_cvr
from tests.storage import storage_env

TODAY = date(2026, 6, 15)
SMALL: dict[str, Any] = {"weeks": 4, "suppliers": 12, "per_week": 15}
THIN_YEAR: dict[str, Any] = {"weeks": 52, "suppliers": 12, "per_week": 3}
DECISION_DATES = ("referred_on", "matched_on", "agreed_on", "decided_on", "closed_on", "negotiated_on")


def events_of(app: CaseLedger) -> list[Any]:
    """Every stored event, in global order."""
    last = app.last_position()
    return [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(start=1, limit=last)]


def topics_of(app: CaseLedger) -> Counter[str]:
    last = app.last_position()
    return Counter(n.topic for n in app.recorder.select_notifications(start=1, limit=last))


def ids_of(app: CaseLedger, topic: str) -> list[UUID]:
    last = app.last_position()
    return [n.originator_id for n in app.recorder.select_notifications(start=1, limit=last, topics=[topic])]


def test_small_demo_loads_and_the_summary_matches_the_store(ledger: CaseLedger) -> None:
    calls: list[tuple[int, int]] = []

    summary = load_demo(
        ledger, today=TODAY, **SMALL, progress=lambda done, total: calls.append((done, total))
    )

    topics = topics_of(ledger)
    # One event per command, but the first own cost also starts the municipality's own costs.
    assert summary.events == ledger.recorder.max_notification_id() == calls[-1][0] + 1
    assert calls[-1][0] == calls[-1][1]
    assert topics["own_cost.started"] == 1 and topics["own_cost.recorded"] == 4
    assert topics["supplier.registered"] == summary.suppliers == SMALL["suppliers"]
    assert topics["supplier.price_list_negotiated"] == summary.price_lists >= summary.suppliers
    assert topics["referral.referred"] == summary.referrals
    assert topics["referral.price_agreed"] == summary.price_agreements
    assert topics["referral.extended"] == summary.extensions
    assert topics["referral.adjusted"] == summary.adjustments
    assert topics["referral.closed"] == summary.closed
    assert sum(summary.by_status.values()) == summary.referrals
    statuses = Counter(ledger.get_referral(i).status for i in ids_of(ledger, "referral.referred"))
    assert statuses == Counter({k: v for k, v in summary.by_status.items() if v})


def test_demo_suppliers_have_valid_unique_cvr_numbers_and_odense_contacts(ledger: CaseLedger) -> None:
    load_demo(ledger, today=TODAY, **SMALL)

    suppliers = [ledger.get_supplier(i) for i in ids_of(ledger, "supplier.registered")]

    cvrs = [s.cvr for s in suppliers]
    assert all(is_valid_cvr(cvr) for cvr in cvrs)
    assert len(set(cvrs)) == len(cvrs)
    assert len({s.name for s in suppliers}) == len(suppliers)
    for supplier in suppliers:
        assert re.fullmatch(r"\+45( \d\d){4}", supplier.contact["phone"])
        assert re.search(r", 5(000|2[0-7]0) Odense", supplier.contact["address"])
        assert supplier.education_levels and supplier.competencies and supplier.target_groups
        assert "461" in supplier.municipalities()
    stated = [s.capacity_hours_per_week for s in suppliers if s.capacity_hours_per_week is not None]
    assert 0 < len(stated) < len(suppliers)  # most state a capacity, some do not


def test_a_thin_year_reaches_every_status_extension_and_adjustment(ledger: CaseLedger) -> None:
    summary = load_demo(ledger, today=TODAY, **THIN_YEAR)

    assert all(count > 0 for count in summary.by_status.values()), summary.by_status
    assert summary.extensions > 0
    assert summary.adjustments > 0
    assert summary.rematches > 0
    matches = topics_of(ledger)["referral.matched"]
    assert matches >= summary.matched + summary.active + summary.rematches


def test_demo_decisions_are_dated_in_order_and_never_after_today(ledger: CaseLedger) -> None:
    load_demo(ledger, today=TODAY, **THIN_YEAR)

    referred_on: dict[UUID, date] = {}
    last_decision: dict[UUID, date] = {}
    for event in events_of(ledger):
        for name in DECISION_DATES:
            value = getattr(event, name, None)
            if value is None:
                continue
            assert value <= TODAY, (type(event).__name__, name, value)
            if name == "referred_on":
                referred_on[event.originator_id] = value
            elif name != "negotiated_on":
                assert value >= referred_on[event.originator_id]
                assert value >= last_decision.get(event.originator_id, value)
                last_decision[event.originator_id] = value
        if type(event).__name__ == "Referred":
            assert re.fullmatch(r"PSN-[0-9A-F]{6}", event.citizen_ref)
            assert re.fullmatch(r"SAG-20\d\d-\d{6}", event.case_ref)
            assert not re.search(r"\d{10}", event.purpose)
        if type(event).__name__ == "Matched":
            assert 1 <= len(event.candidates) <= 3
        if type(event).__name__ == "PriceAgreed":
            assert event.start > event.agreed_on
            assert not event.above_list_rate or event.rationale


def test_the_same_seed_gives_the_same_demo(tmp_path: Path) -> None:
    def load(name: str) -> tuple[DemoSummary, list[Any]]:
        app = CaseLedger(storage_env(f"sqlite:///{tmp_path / name}"))
        try:
            summary = load_demo(app, today=TODAY, **SMALL, seed=7)
            return summary, [{k: v for k, v in vars(e).items() if k != "timestamp"} for e in events_of(app)]
        finally:
            app.close()

    assert load("first.sqlite") == load("second.sqlite")


def test_load_demo_refuses_a_nonsense_size(ledger: CaseLedger) -> None:
    with pytest.raises(ValueError, match="weeks"):
        load_demo(ledger, today=TODAY, weeks=0)
    assert ledger.last_position() == 0
