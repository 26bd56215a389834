"""Given-builders for domain tests: aggregates whose history is already recorded (and collected).

Each builder runs the commands that make up the "given" part of a test and then collects the
pending events, so a test's "when" command is the only thing that can leave new events behind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.domain import Aggregate

from domain.errors import DomainError
from domain.referral import Referral
from domain.supplier import Supplier

WORKER = {"id": "sw1", "name": "Sofie Rådgiver"}
MATCHER = {"id": "m1", "name": "Match og Organisation"}
ODENSE = "461"
REFERRED_ON = date(2026, 1, 2)
START = date(2026, 1, 15)
END = date(2026, 3, 31)


def a_supplier(
    *,
    name: str = "Familiehuset ApS",
    cvr: str = "12345674",
    contact: Mapping[str, str | None] | None = None,
) -> Supplier:
    """Given: a registered supplier without price lists."""
    supplier = Supplier.register(
        supplier_id=uuid4(),
        name=name,
        cvr=cvr,
        contact=contact if contact is not None else {"name": "Hanne Hansen", "phone": "66131372"},
        target_groups=["0-17 years"],
        competencies=["family therapy"],
        education_levels=["social worker"],
        decided_by=MATCHER,
    )
    supplier.collect_events()
    return supplier


def price_list(supplier: Supplier, **overrides: Any) -> Supplier:
    """Given: the supplier has negotiated a price list with Odense (no rates unless given; events
    collected)."""
    arguments: dict[str, Any] = {
        "municipality_code": ODENSE,
        "negotiated_on": date(2025, 12, 1),
        "valid_from": date(2026, 1, 1),
        "valid_to": None,
        "rates": [],
        "packages": [],
        "note": None,
        "decided_by": MATCHER,
    }
    arguments.update(overrides)
    supplier.negotiate_price_list(**arguments)
    supplier.collect_events()
    return supplier


def hourly_rate(rate: str, intervention: str = "consultancy") -> dict[str, Any]:
    return {"intervention": intervention, "unit": "hour", "rate": Decimal(rate)}


def daily_rate(rate: str, intervention: str = "respite-stay") -> dict[str, Any]:
    return {"intervention": intervention, "unit": "day", "rate": Decimal(rate)}


def refer(**overrides: Any) -> Referral:
    """When: a referral is filed (no events collected)."""
    arguments: dict[str, Any] = {
        "referral_id": uuid4(),
        "municipality_code": ODENSE,
        "citizen_ref": "PSN-1",
        "case_ref": "SAG-2026-17",
        "legal_basis": "BL-30-1-1",
        "intervention": "consultancy",
        "purpose": "Støtte til forældrene i at skabe struktur i hverdagen",
        "requested_hours_per_week": Decimal("3"),
        "requested_start": START,
        "expected_end": END,
        "referred_on": REFERRED_ON,
        "decided_by": WORKER,
    }
    arguments.update(overrides)
    return Referral.refer(**arguments)


def a_referral(**overrides: Any) -> Referral:
    """Given: a referred referral."""
    referral = refer(**overrides)
    referral.collect_events()
    return referral


def match(referral: Referral, supplier: Supplier, **overrides: Any) -> None:
    arguments: dict[str, Any] = {
        "supplier": supplier,
        "rationale": "Best professional fit at a fair price",
        "criteria": ["experience with families with young children"],
        "candidates": [],
        "matched_on": date(2026, 1, 5),
        "decided_by": MATCHER,
    }
    arguments.update(overrides)
    referral.match(**arguments)


def a_matched_referral(supplier: Supplier | None = None, **refer_overrides: Any) -> tuple[Referral, Supplier]:
    """Given: a referral matched with ``supplier`` (a fresh one if not given)."""
    supplier = supplier or a_supplier()
    referral = a_referral(**refer_overrides)
    match(referral, supplier)
    referral.collect_events()
    return referral, supplier


def agree_price(referral: Referral, supplier: Supplier | None, **overrides: Any) -> None:
    """Agree an hourly price (850.00 × 3 h/week, 2026-01-15..2026-03-31) unless overridden."""
    arguments: dict[str, Any] = {
        "supplier": supplier,
        "hourly_rate": Decimal("850.00"),
        "hours_per_week": Decimal("3"),
        "daily_rate": None,
        "package_name": None,
        "package_price": None,
        "start": START,
        "end": END,
        "agreed_on": date(2026, 1, 10),
        "rationale": None,
        "decided_by": MATCHER,
    }
    arguments.update(overrides)
    referral.agree_price(**arguments)


def daily_terms(rate: str = "1500.00", **overrides: Any) -> dict[str, Any]:
    return {"hourly_rate": None, "hours_per_week": None, "daily_rate": Decimal(rate), **overrides}


def package_terms(price: str = "25000.00", name: str = "Forløb 20 timer", **overrides: Any) -> dict[str, Any]:
    return {
        "hourly_rate": None,
        "hours_per_week": None,
        "package_name": name,
        "package_price": Decimal(price),
        **overrides,
    }


def an_active_referral(
    supplier: Supplier | None = None, *, refer_overrides: Mapping[str, Any] | None = None, **terms: Any
) -> tuple[Referral, Supplier]:
    """Given: a referral with an agreed price (hourly 850.00 × 3 h/week by default)."""
    referral, supplier = a_matched_referral(supplier, **(refer_overrides or {}))
    agree_price(referral, supplier, **terms)
    referral.collect_events()
    return referral, supplier


def extend(referral: Referral, **overrides: Any) -> None:
    arguments: dict[str, Any] = {
        "new_end": date(2026, 6, 30),
        "hours_per_week": None,
        "package_price": None,
        "rationale": "The family needs more time",
        "decided_on": date(2026, 3, 20),
        "decided_by": WORKER,
    }
    arguments.update(overrides)
    referral.extend(**arguments)


def adjust(referral: Referral, supplier: Supplier | None = None, **overrides: Any) -> None:
    arguments: dict[str, Any] = {
        "supplier": supplier,
        "effective_from": date(2026, 2, 1),
        "hours_per_week": None,
        "hourly_rate": None,
        "daily_rate": None,
        "rationale": "Changed need",
        "decided_on": date(2026, 1, 25),
        "decided_by": WORKER,
    }
    arguments.update(overrides)
    referral.adjust(**arguments)


def close(referral: Referral, **overrides: Any) -> None:
    arguments: dict[str, Any] = {
        "closed_on": date(2026, 2, 10),
        "reason": "goal_achieved",
        "rationale": "The family manages on its own",
        "decided_by": WORKER,
    }
    arguments.update(overrides)
    referral.close(**arguments)


def then_events(aggregate: Aggregate) -> list[Any]:
    """Then: the events the "when" command left pending (typed loosely: each test knows its events)."""
    return list(aggregate.collect_events())


def problem_of(command: Callable[[], object], error: type[DomainError]) -> tuple[str, str | None]:
    """Then: ``command`` raises ``error``; its ``(problem, field)``."""
    with pytest.raises(error) as caught:
        command()
    return caught.value.problem, caught.value.field


def refused(
    aggregate: Aggregate,
    command: Callable[[], object],
    error: type[DomainError],
    problem: str,
    field: str | None = None,
) -> DomainError:
    """Then: ``command`` is refused with the named error and records nothing at all."""
    aggregate.collect_events()
    version = aggregate.version
    with pytest.raises(error) as caught:
        command()
    assert caught.value.problem == problem, caught.value.detail
    if field is not None:
        assert caught.value.field == field
    assert aggregate.collect_events() == []
    assert aggregate.version == version
    return caught.value


def replay(events: Sequence[Any]) -> Any:
    """Rebuild an aggregate from its recorded events (as a repository would)."""
    aggregate = None
    for recorded in events:
        aggregate = recorded.mutate(aggregate)
    return aggregate


def round_half_up(amount: Fraction) -> Decimal:
    """Round an exact amount to øre, halves away from zero (amounts here are never negative): the
    rounding the read models apply to each referral's month (``domain.spending``, in whole øre)."""
    cents = (amount * 100 + Fraction(1, 2)).__floor__()
    return Decimal(cents) / 100
