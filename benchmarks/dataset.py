"""A large, realistic data set, written fast: the domain's own commands, saved in bulk.

Every referral goes through ``Referral.refer/match/agree_price/extend/adjust/close`` (so every
rule holds), but events are saved many aggregates per transaction, ordered by business date, so
that a million events take about a minute rather than the hours one request per event would.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from application.service.caseledger import CaseLedger
from domain.cvr import fresh_cvr
from domain.reference import load_reference
from domain.referral import Referral
from domain.supplier import Supplier

MUNICIPALITIES = ("461", "101", "751", "851", "147", "157")
WORKERS = [{"id": f"sw-{n:04d}", "name": f"Rådgiver {n}"} for n in range(40)]
MATCHERS = [{"id": f"mo-{n:04d}", "name": f"Matcher {n}"} for n in range(8)]
REASONS = ("goal_achieved", "planned_end", "need_changed", "family_declined", "moved", "withdrawn")


@dataclass(frozen=True)
class Generated:
    suppliers: int
    referrals: int
    events: int


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)).scaleb(-2)


def generate(
    ledger: CaseLedger,
    *,
    events: int = 1_000_000,
    suppliers: int = 180,
    seed: int = 1,
    chunk: int = 300,
    progress: Callable[[int], None] | None = None,
) -> Generated:
    """Write about ``events`` events: suppliers with price lists, then referral lifecycles.

    ``chunk`` referrals (about 1,700 events) go in one transaction: psycopg's pipeline mode, which
    eventsourcing uses on PostgreSQL, was seen to hang on saves of about 10,000 events.
    """
    rng = random.Random(seed)
    reference = load_reference()
    hourly = [code for code, i in reference.interventions.items() if i.unit == "hour"]
    daily = [code for code, i in reference.interventions.items() if i.unit == "day"]
    taken: set[str] = set()
    offered: dict[UUID, list[str]] = {}
    registry: list[Supplier] = []
    written = 0
    for n in range(suppliers):
        supplier = Supplier.register(
            supplier_id=UUID(int=rng.getrandbits(128), version=4),
            name=f"Leverandør {n:03d} ApS",
            cvr=fresh_cvr(rng, taken),
            contact={
                "email": f"kontakt{n}@leverandoer.dk",
                "phone": f"+45 {rng.randint(20_000_000, 99_999_999)}",
            },
            target_groups=["Børn og unge"],
            competencies=["Familiebehandling"],
            education_levels=["socialrådgiver"],
            decided_by=MATCHERS[0],
        )
        kinds = rng.sample(hourly, 3) + rng.sample(daily, 1)
        offered[supplier.id] = kinds
        for municipality in MUNICIPALITIES:
            supplier.negotiate_price_list(
                municipality_code=municipality,
                negotiated_on=date(2023, 11, 1),
                valid_from=date(2024, 1, 1),
                valid_to=None,
                rates=[{"intervention": k, "unit": "hour", "rate": _money(rng, 600, 1100)} for k in kinds[:3]]
                + [{"intervention": kinds[3], "unit": "day", "rate": _money(rng, 1800, 6500)}],
                packages=[],
                note=None,
                decided_by=MATCHERS[0],
            )
        registry.append(supplier)
    written += len(ledger.save(*registry))
    if progress:
        progress(written)

    by_intervention: dict[str, list[Supplier]] = {}
    for supplier in registry:
        for kind in offered[supplier.id]:
            by_intervention.setdefault(kind, []).append(supplier)
    first_day = date(2024, 1, 1)
    referrals = 0
    while written < events:
        pending: list[tuple[date, int, Any]] = []
        for _ in range(chunk):
            referrals += 1
            pending.extend(_lifecycle(rng, reference, by_intervention, first_day, referrals))
        pending.sort(key=lambda item: (item[0], item[1]))
        written += len(ledger.save(*(event for _, _, event in pending)))
        if progress:
            progress(written)
    return Generated(suppliers=suppliers, referrals=referrals, events=written)


def _lifecycle(
    rng: random.Random,
    reference: Any,
    by_intervention: dict[str, list[Supplier]],
    first_day: date,
    number: int,
) -> list[tuple[date, int, Any]]:
    """One referral's events, each with its business date (and an order within the referral)."""
    intervention = rng.choice(list(by_intervention))
    referred_on = first_day + timedelta(days=rng.randint(0, 700))
    start = referred_on + timedelta(days=rng.randint(14, 40))
    basis = next(
        code
        for code in sorted(reference.interventions[intervention].legal_bases)
        if reference.legal_bases[code].is_valid_on(start)
    )
    end = start + timedelta(days=rng.randint(60, 365))
    worker = rng.choice(WORKERS)
    referral = Referral.refer(
        referral_id=UUID(int=rng.getrandbits(128), version=4),
        municipality_code=rng.choice(MUNICIPALITIES),
        citizen_ref=f"PSN-{number:07X}",
        case_ref=f"SAG-{referred_on.year}-{number:07d}",
        legal_basis=basis,
        intervention=intervention,
        purpose="Støtte til familien efter børnefaglig undersøgelse",
        requested_hours_per_week=None,
        requested_start=start,
        expected_end=end,
        referred_on=referred_on,
        decided_by=worker,
    )
    dated = [referred_on]
    candidates = by_intervention[intervention]
    supplier = rng.choice(candidates)
    matched_on = referred_on + timedelta(days=rng.randint(3, 12))
    referral.match(
        supplier=supplier,
        rationale="Bedste faglige match",
        criteria=["Erfaring med målgruppen"],
        candidates=[],
        matched_on=matched_on,
        decided_by=rng.choice(MATCHERS),
    )
    dated.append(matched_on)
    unit = reference.interventions[intervention].unit
    listed = supplier.list_rate(referral.municipality, intervention, unit, start)
    rate = listed.rate if listed else _money(rng, 600, 1100)
    agreed_on = matched_on + timedelta(days=rng.randint(1, 5))
    referral.agree_price(
        supplier=supplier,
        hourly_rate=rate if unit == "hour" else None,
        hours_per_week=Decimal(rng.randint(2, 12)) if unit == "hour" else None,
        daily_rate=rate if unit == "day" else None,
        package_name=None,
        package_price=None,
        start=start,
        end=end,
        agreed_on=agreed_on,
        rationale=None,
        decided_by=rng.choice(MATCHERS),
    )
    dated.append(agreed_on)
    for _ in range(rng.choice((0, 1, 1, 2, 3, 4, 5))):
        assert referral.end is not None and referral.start is not None
        decided_on = max(dated[-1], referral.end - timedelta(days=20))
        if rng.random() < 0.5:
            referral.extend(
                new_end=referral.end + timedelta(days=rng.randint(30, 180)),
                hours_per_week=Decimal(rng.randint(1, 10)) if unit == "hour" and rng.random() < 0.3 else None,
                package_price=None,
                rationale="Forlænget efter opfølgning",
                decided_on=decided_on,
                decided_by=worker,
            )
        else:
            span = (referral.end - referral.start).days
            referral.adjust(
                supplier=supplier,
                effective_from=referral.start + timedelta(days=rng.randint(0, span)),
                hours_per_week=Decimal(rng.randint(1, 10)) if unit == "hour" else None,
                hourly_rate=None,
                daily_rate=_money(rng, 1800, 6500) if unit == "day" else None,
                rationale="Justeret efter opfølgning",
                decided_on=decided_on,
                decided_by=worker,
            )
        dated.append(decided_on)
    if rng.random() < 0.5:
        assert referral.end is not None
        closed_on = max(dated[-1], referral.end - timedelta(days=rng.randint(0, 60)))
        referral.close(
            closed_on=closed_on, reason=rng.choice(REASONS), rationale="Afsluttet", decided_by=worker
        )
        dated.append(closed_on)
    return [
        (day, order, event)
        for order, (day, event) in enumerate(zip(dated, referral.collect_events(), strict=True))
    ]
