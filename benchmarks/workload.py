"""Realistic write traffic as the API sees it: ``/events`` items and the equivalent HTTP commands.

180 suppliers (hourly and daily rates, a price list in each of six municipalities), then referral
lifecycles: refer → match (one alternative considered) → agree the list rate → 0-5 extensions or
adjustments → closed in half of the cases. The same lifecycle is a list of ``/events`` items (for
``POST /events`` and ``caseledger import``) or of HTTP commands (for the load test).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from domain.cvr import fresh_cvr
from domain.reference import load_reference

MUNICIPALITIES = ("461", "101", "751", "851", "147", "157")
WORKERS = [{"id": f"sw-{n:04d}", "name": f"Rådgiver {n}"} for n in range(40)]
MATCHERS = [{"id": f"mo-{n:04d}", "name": f"Matcher {n}"} for n in range(8)]
REASONS = ("goal_achieved", "planned_end", "need_changed", "family_declined", "moved", "withdrawn")
PATHS = {
    "referral.referred": "/referrals",
    "referral.matched": "/referrals/{id}/match",
    "referral.price_agreed": "/referrals/{id}/price-agreement",
    "referral.extended": "/referrals/{id}/extension",
    "referral.adjusted": "/referrals/{id}/adjustment",
    "referral.closed": "/referrals/{id}/closure",
}


@dataclass
class Offer:
    supplier_id: str
    interventions: list[str]
    rates: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # (municipality, intervention)


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


class Workload:
    """A seeded generator of suppliers and referral lifecycles (``/events`` items)."""

    def __init__(self, *, seed: int = 7, suppliers: int = 180, prefix: str = "bench") -> None:
        self.rng = random.Random(seed)
        self.prefix = prefix
        self.reference = load_reference()
        self.units = {code: i.unit for code, i in self.reference.interventions.items()}
        hourly = [c for c, u in self.units.items() if u == "hour"]
        daily = [c for c, u in self.units.items() if u == "day"]
        self.referrals = 0
        self.events = 0
        self.offers: list[Offer] = []
        self.by_intervention: dict[str, list[Offer]] = {}
        taken: set[str] = set()
        self._supplier_items: list[dict[str, Any]] = []
        for n in range(suppliers):
            offer = Offer(self._uuid(), self.rng.sample(hourly, 3) + self.rng.sample(daily, 1))
            self.offers.append(offer)
            for kind in offer.interventions:
                self.by_intervention.setdefault(kind, []).append(offer)
            self._supplier_items.append(
                self._item(
                    "supplier.registered",
                    supplier_id=offer.supplier_id,
                    data={
                        "name": f"Leverandør {n:03d} ApS",
                        "cvr": fresh_cvr(self.rng, taken),
                        "contact": {"email": f"kontakt{n}@leverandoer.dk", "phone": "+45 66 13 13 72"},
                        "target_groups": ["Børn og unge"],
                        "competencies": ["Familiebehandling"],
                        "education_levels": ["socialrådgiver"],
                        "actor": MATCHERS[0],
                    },
                )
            )
            for municipality in MUNICIPALITIES:
                rates = []
                for kind in offer.interventions:
                    low, high = (600, 1100) if self.units[kind] == "hour" else (1800, 6500)
                    rate = Decimal(self.rng.randint(low * 100, high * 100)).scaleb(-2)
                    offer.rates[(municipality, kind)] = rate
                    rates.append({"intervention": kind, "unit": self.units[kind], "rate": _money(rate)})
                self._supplier_items.append(
                    self._item(
                        "supplier.price_list_negotiated",
                        supplier_id=offer.supplier_id,
                        data={
                            "municipality": municipality,
                            "negotiated_on": "2023-11-01",
                            "valid_from": "2024-01-01",
                            "rates": rates,
                            "packages": [],
                            "actor": MATCHERS[0],
                        },
                    )
                )

    def _uuid(self) -> str:
        return str(UUID(int=self.rng.getrandbits(128), version=4))

    def _item(self, kind: str, *, data: dict[str, Any], **target: Any) -> dict[str, Any]:
        self.events += 1
        return {"event_id": f"{self.prefix}-{self.events}", "type": kind, **target, "data": data}

    def supplier_items(self) -> list[dict[str, Any]]:
        """Every supplier's registration and price lists (1 + 6 events each)."""
        return list(self._supplier_items)

    def lifecycle(self, municipality: str | None = None) -> list[tuple[date, dict[str, Any]]]:
        """One referral's items, each with its business date, in order."""
        rng = self.rng
        self.referrals += 1
        number = self.referrals
        referral_id = self._uuid()
        intervention = rng.choice(list(self.by_intervention))
        unit = self.units[intervention]
        municipality = municipality or rng.choice(MUNICIPALITIES)
        referred_on = date(2024, 1, 1) + timedelta(days=rng.randint(0, 600))
        start = referred_on + timedelta(days=rng.randint(14, 40))
        basis = next(
            code
            for code in sorted(self.reference.interventions[intervention].legal_bases)
            if self.reference.legal_bases[code].is_valid_on(start)
        )
        end = start + timedelta(days=rng.randint(60, 365))
        worker = rng.choice(WORKERS)
        dated: list[tuple[date, dict[str, Any]]] = []

        def add(day: date, kind: str, data: dict[str, Any], **extra: Any) -> None:
            dated.append((day, self._item(kind, referral_id=referral_id, data=data, **extra)))

        add(
            referred_on,
            "referral.referred",
            {
                "municipality": municipality,
                "citizen_ref": f"B-{number:07x}",
                "case_ref": f"SAG-{referred_on.year}-{number:07d}",
                "legal_basis": basis,
                "intervention": intervention,
                "purpose": "Støtte til familien efter børnefaglig undersøgelse",
                "requested_start": start.isoformat(),
                "expected_end": end.isoformat(),
                "referred_on": referred_on.isoformat(),
                "actor": worker,
            },
        )
        offers = self.by_intervention[intervention]
        chosen = rng.choice(offers)
        others = [o for o in offers if o is not chosen]
        candidates = []
        if others:
            other = rng.choice(others)
            candidates.append(
                {
                    "supplier_id": other.supplier_id,
                    "hourly_rate": _money(other.rates[(municipality, intervention)])
                    if unit == "hour"
                    else None,
                    "reason": "Ingen ledig kapacitet",
                }
            )
        matched_on = referred_on + timedelta(days=rng.randint(3, 12))
        add(
            matched_on,
            "referral.matched",
            {
                "supplier_id": chosen.supplier_id,
                "rationale": "Bedste faglige match",
                "criteria": ["Erfaring med målgruppen"],
                "candidates": candidates,
                "matched_on": matched_on.isoformat(),
                "actor": rng.choice(MATCHERS),
            },
            expected_version=1,
        )
        rate = chosen.rates[(municipality, intervention)]
        agreed_on = matched_on + timedelta(days=rng.randint(1, 5))
        terms: dict[str, Any] = (
            {"hourly_rate": _money(rate), "hours_per_week": str(rng.randint(2, 12))}
            if unit == "hour"
            else {"daily_rate": _money(rate)}
        )
        add(
            agreed_on,
            "referral.price_agreed",
            {
                **terms,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "agreed_on": agreed_on.isoformat(),
                "actor": rng.choice(MATCHERS),
            },
        )
        last = agreed_on
        for _ in range(rng.choice((0, 1, 1, 2, 3, 4, 5))):
            decided_on = max(last, end - timedelta(days=20))
            if rng.random() < 0.5:
                end = end + timedelta(days=rng.randint(30, 180))
                add(
                    decided_on,
                    "referral.extended",
                    {
                        "new_end": end.isoformat(),
                        "rationale": "Forlænget efter opfølgning",
                        "decided_on": decided_on.isoformat(),
                        "actor": worker,
                    },
                )
            else:
                effective = start + timedelta(days=rng.randint(0, (end - start).days))
                change = (
                    {"hours_per_week": str(rng.randint(1, 10))}
                    if unit == "hour"
                    else {"daily_rate": _money((rate * Decimal("0.95")).quantize(Decimal("0.01")))}
                )
                add(
                    decided_on,
                    "referral.adjusted",
                    {
                        "effective_from": effective.isoformat(),
                        **change,
                        "rationale": "Justeret efter opfølgning",
                        "decided_on": decided_on.isoformat(),
                        "actor": worker,
                    },
                )
            last = decided_on
        if rng.random() < 0.5:
            closed_on = max(last, end - timedelta(days=rng.randint(0, 60)))
            add(
                closed_on,
                "referral.closed",
                {
                    "closed_on": closed_on.isoformat(),
                    "reason": rng.choice(REASONS),
                    "rationale": "Afsluttet",
                    "actor": worker,
                },
            )
        return dated

    def referral_items(self, events: int, *, window: int = 300) -> Iterator[dict[str, Any]]:
        """Lifecycles until about ``events`` items, ``window`` referrals at a time interleaved in
        business-date order (as a case system would send them)."""
        written = 0
        while written < events:
            pending: list[tuple[date, int, dict[str, Any]]] = []
            for _ in range(window):
                for order, (day, item) in enumerate(self.lifecycle()):
                    pending.append((day, order, item))
            pending.sort(key=lambda entry: (entry[0], entry[1]))
            for _, _, item in pending:
                yield item
            written += len(pending)


def http_command(item: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The HTTP request (path, body) equivalent to a referral item."""
    kind = item["type"]
    if kind == "referral.referred":
        return PATHS[kind], {"id": item["referral_id"], **item["data"]}
    return PATHS[kind].format(id=item["referral_id"]), item["data"]


def write_jsonl(path: Path, items: Iterator[dict[str, Any]] | list[dict[str, Any]]) -> int:
    """Write items as JSON lines; returns how many."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for item in items:
            out.write(json.dumps(item, ensure_ascii=False, separators=(",", ":")))
            out.write("\n")
            count += 1
    return count
