"""A realistic demo municipality (Odense, 461), loaded through the CaseLedger commands.

``load_demo`` registers suppliers with valid CVR numbers, negotiates their price lists (for the
municipality and a few for its neighbours) and files a year of referrals that are matched, priced,
extended, adjusted and closed in realistic proportions. Every write goes through the application's
commands, so every domain rule holds; a command the domain refuses is a bug in this generator and is
allowed to raise.

Everything is drawn from ``random.Random`` streams seeded by ``seed``, so a seed gives the same
suppliers, ids, texts, dates and amounts every time. The only clock is the ``today`` passed in: no
decision is dated after it. (The ``recorded_at`` timestamps stored with the events are the wall-clock
instants of the load; that is the event store's job, not the generator's.)

All actions are executed in the order of their business dates, so the notification log reads like the
municipality's history: a price list negotiated in March is recorded before the referrals agreed in
April, and each agreement records the list rate that was in force on its start.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from api.demo.vocabulary import (
    ABOVE_LIST_RATIONALES,
    CANDIDATE_REASONS,
    CASE_WORKERS,
    CLOSE_RATIONALES,
    DAILY_RANGES,
    DEFAULT_DURATION_MONTHS,
    DISCOUNT_RATIONALES,
    DURATION_MONTHS,
    EXTENSION_RATIONALES,
    FIRST_NAMES,
    GENERAL_CRITERIA,
    HIGHER_PRICE_REASON,
    HOURLY_RANGES,
    HOURS_PER_WEEK,
    HOURS_RATIONALES,
    LAST_NAMES,
    LEGAL_FORMS,
    LIST_PRICE_RATIONALES,
    MATCH_RATIONALES,
    MATCHERS,
    PACKAGES,
    PLACES,
    PROFILES,
    PURPOSE_ADDITIONS,
    PURPOSES,
    RATE_RATIONALES,
    REFERRAL_MIX,
    REMATCH_RATIONALES,
    STREETS,
    Profile,
)
from application.caseledger import CaseLedger
from application.context import WriteContext
from domain.cvr import is_valid_cvr
from domain.reference import Reference, load_reference
from domain.supplier import Supplier

CENT = Decimal("0.01")
ONE_DAY = timedelta(days=1)
NEIGHBOURS = ("479", "480", "440", "450", "410", "420", "430")  # Svendborg, Nordfyns, Kerteminde, ...

# -- proportions -------------------------------------------------------------------------------------

P_MATCHED = 0.90
P_REMATCHED = 0.08
P_AGREED = 0.90
P_ABOVE_LIST = 0.10
P_EXTENDED = 0.62
P_SECOND_EXTENSION = 0.20
P_ADJUSTED = 0.27
P_RETROACTIVE = 0.35
P_EARLY_CLOSE = 0.14
P_CLOSE_AFTER_END = 0.85
P_SAME_CITIZEN = 0.12


@dataclass(frozen=True)
class DemoSummary:
    """What ``load_demo`` wrote: aggregates, events and where the referrals ended up."""

    suppliers: int
    price_lists: int
    referrals: int
    events: int
    referred: int
    matched: int
    active: int
    closed: int
    rematches: int
    price_agreements: int
    extensions: int
    adjustments: int

    @property
    def by_status(self) -> dict[str, int]:
        """Referrals per status."""
        return {
            "referred": self.referred,
            "matched": self.matched,
            "active": self.active,
            "closed": self.closed,
        }


@dataclass
class _SupplierPlan:
    id: UUID
    name: str
    cvr: str
    profile: Profile
    interventions: list[str]
    weight: float
    available_from: date  # valid_from of its first list for the demo municipality
    hourly: dict[str, Decimal] = field(default_factory=dict)  # intervention -> first list's hourly rate
    daily: dict[str, Decimal] = field(default_factory=dict)
    packages: dict[str, list[tuple[str, Decimal]]] = field(default_factory=dict)
    education_levels: list[str] = field(default_factory=list)
    competencies: list[str] = field(default_factory=list)
    target_groups: list[str] = field(default_factory=list)


@dataclass
class _Case:
    """One referral as the generator plans it, and the amounts fixed when its steps run."""

    id: UUID
    intervention: str
    unit: str
    worker: dict[str, str]
    supplier: _SupplierPlan | None = None
    kind: str | None = None
    rate: Decimal | None = None
    package_price: Decimal | None = None
    status: str = "referred"


@dataclass(order=True)
class _Action:
    key: tuple[date, int, int]
    run: Callable[[], None] = field(compare=False)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _first_of_next_month(day: date) -> date:
    return _add_months(day.replace(day=1), 1)


def _ascii(text: str) -> str:
    table = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "é": "e", "ü": "u"})
    return "".join(c for c in text.lower().translate(table) if c.isalnum())


class _Generator:
    """Plans every action first, then runs them in business-date order through the application."""

    def __init__(
        self,
        app: CaseLedger,
        *,
        today: date,
        weeks: int,
        suppliers: int,
        per_week: int,
        municipality: str,
        seed: int,
    ) -> None:
        self.app = app
        self.today = today
        self.weeks = weeks
        self.supplier_count = suppliers
        self.per_week = per_week
        self.municipality = municipality
        self.seed = seed
        self.first_day = today - timedelta(days=7 * weeks - 1)
        # Separate streams, so that e.g. a different per_week leaves the suppliers as they were.
        self.ids = random.Random(f"{seed}:ids")  # noqa: S311 - demo data, not cryptography
        self.rng = random.Random(f"{seed}:suppliers")  # noqa: S311
        self.reference: Reference = load_reference()
        self.actions: list[_Action] = []
        self.sequence = 0
        self.suppliers: list[_SupplierPlan] = []
        self.current: dict[UUID, Supplier] = {}
        self.cases: list[_Case] = []
        self.counts = {
            "suppliers": 0,
            "price_lists": 0,
            "rematches": 0,
            "agreed": 0,
            "extended": 0,
            "adjusted": 0,
        }

    # -- scheduling ------------------------------------------------------------------------------------

    def _at(self, day: date, phase: int, run: Callable[[], None]) -> None:
        """Schedule ``run`` on the business date ``day``; same-day actions keep the order planned."""
        self.sequence += 1
        self.actions.append(_Action((day, phase, self.sequence), run))

    def _uuid(self) -> UUID:
        return UUID(int=self.ids.getrandbits(128), version=4)

    def _draw_rate(self, low: int, high: int) -> Decimal:
        kroner = self.rng.randint(low, high)
        style = self.rng.random()
        if style < 0.6:
            return Decimal(kroner - kroner % 5).quantize(CENT)
        if style < 0.85:
            return Decimal(f"{kroner}.50")
        return Decimal(f"{kroner}.{self.rng.randint(1, 99):02d}")

    # -- suppliers -------------------------------------------------------------------------------------

    def plan_suppliers(self) -> None:
        rng = self.rng
        cvrs: set[str] = set()
        names: set[str] = set()
        profiles = list(PROFILES.values())
        profile_weights = [p.weight for p in profiles]
        for _ in range(self.supplier_count):
            cvr = self._cvr(cvrs)
            profile = rng.choices(profiles, profile_weights)[0]
            name = self._supplier_name(profile, names)
            offered = self._offer(profile)
            plan = _SupplierPlan(
                id=self._uuid(),
                name=name,
                cvr=cvr,
                profile=profile,
                interventions=offered,
                weight=min(12.0, rng.paretovariate(1.3)),
                available_from=self.first_day,
                education_levels=rng.sample(profile.education_levels, rng.randint(1, 3)),
                competencies=rng.sample(profile.competencies, rng.randint(2, 4)),
                target_groups=rng.sample(profile.target_groups, rng.randint(1, 3)),
            )
            self.suppliers.append(plan)
            self._at(date.min, 0, self._register(plan))
            self._plan_price_lists(plan)

    def _cvr(self, taken: set[str]) -> str:
        while True:
            candidate = str(self.rng.randint(10_000_000, 99_999_999))
            if candidate not in taken and is_valid_cvr(candidate):
                taken.add(candidate)
                return candidate

    def _supplier_name(self, profile: Profile, taken: set[str]) -> str:
        rng = self.rng
        for attempt in range(1000):
            shape = rng.random()
            if shape < 0.55:
                name = f"{rng.choice(profile.stems)} {rng.choice(PLACES)} {rng.choice(LEGAL_FORMS)}"
            elif shape < 0.75:
                name = f"Center for {rng.choice(profile.centre_topics)}"
                if rng.random() < 0.6 or name in taken:
                    name += f" {rng.choice(PLACES)}"
            elif shape < 0.9:
                name = f"{rng.choice(profile.trades)} v/ {rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            else:
                name = f"Den selvejende institution {rng.choice(profile.stems)} {rng.choice(PLACES)}"
            if attempt > 900:
                name = f"{name} {attempt}"
            if name not in taken:
                taken.add(name)
                return name
        raise AssertionError("unreachable")

    def _offer(self, profile: Profile) -> list[str]:
        codes = list(profile.interventions)
        weights = [float(profile.interventions[c]) for c in codes]
        chosen: list[str] = []
        for _ in range(min(len(codes), self.rng.randint(2, 5))):
            pick = self.rng.choices(range(len(codes)), weights)[0]
            chosen.append(codes.pop(pick))
            weights.pop(pick)
        return chosen

    def _contact(self, plan: _SupplierPlan) -> dict[str, str]:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        words = plan.name.removeprefix("Den selvejende institution ").replace(" v/ ", " ").split()
        if words[-1] in LEGAL_FORMS:
            words.pop()
        domain = _ascii("".join(words))
        mailbox = f"{_ascii(first)}.{_ascii(last)}" if rng.random() < 0.6 else "kontakt"
        digits = f"{rng.randint(2, 9)}{rng.randint(0, 9_999_999):07d}"
        street, town = rng.choice(STREETS)
        number = f"{rng.randint(1, 180)}{rng.choice(['', '', '', 'A', 'B'])}"
        return {
            "name": f"{first} {last}",
            "email": f"{mailbox}@{domain[:40]}.dk",
            "phone": "+45 " + " ".join(digits[i : i + 2] for i in range(0, 8, 2)),
            "address": f"{street} {number}, {town}",
        }

    def _register(self, plan: _SupplierPlan) -> Callable[[], None]:
        contact = self._contact(plan)
        actor = self.rng.choice(MATCHERS)

        def run() -> None:
            self.app.register_supplier(
                supplier_id=plan.id,
                name=plan.name,
                cvr=plan.cvr,
                contact=contact,
                target_groups=plan.target_groups,
                competencies=plan.competencies,
                education_levels=plan.education_levels,
                actor=actor,
                context=WriteContext(),
            )
            self.counts["suppliers"] += 1
            self.current[plan.id] = self.app.get_supplier(plan.id)

        return run

    def _plan_price_lists(self, plan: _SupplierPlan) -> None:
        rng = self.rng
        rates: list[dict[str, Any]] = []
        packages: list[dict[str, Any]] = []
        for code in plan.interventions:
            unit = self.reference.intervention(code).unit
            if unit == "day":
                plan.daily[code] = self._draw_rate(*DAILY_RANGES[code])
                rates.append({"intervention": code, "unit": "day", "rate": plan.daily[code]})
                continue
            hourly = self._draw_rate(*HOURLY_RANGES[code])
            if unit == "hour" or rng.random() < 0.5:
                plan.hourly[code] = hourly
                rates.append({"intervention": code, "unit": "hour", "rate": hourly})
            if unit == "package" or (code in PACKAGES and rng.random() < 0.25):
                offers = self._packages(
                    code, hourly, packages_wanted=rng.randint(1, 3) if unit == "package" else 1
                )
                plan.packages[code] = [(item["name"], item["price"]) for item in offers]
                packages.extend(offers)
        # The first list: for most suppliers negotiated a year or more before the referral period,
        # for some (new suppliers) during it; in a short demo all are old, so all can be matched from
        # its first day. A list is in force from the first of the month after its negotiation.
        latest_old = self.first_day - timedelta(days=30)
        earliest = min(self.today - timedelta(days=730), latest_old - timedelta(days=90))
        if rng.random() < 0.78 or self.weeks < 8:
            negotiated = earliest + timedelta(days=rng.randint(0, (latest_old - earliest).days))
        else:
            negotiated = self.first_day + timedelta(days=rng.randint(0, max(0, 7 * self.weeks - 45)))
        plan.available_from = _first_of_next_month(negotiated)
        self._at(
            negotiated,
            1,
            self._negotiate(
                plan,
                municipality=self.municipality,
                negotiated_on=negotiated,
                valid_to=None,
                rates=rates,
                packages=packages,
                note="Rammeaftale efter forhandling",
            ),
        )
        # About half renegotiate (annual regulation) during the last year.
        low = max(plan.available_from + timedelta(days=120), self.today - timedelta(days=365))
        high = self.today - timedelta(days=20)
        if rng.random() < 0.5 and low <= high:
            regulated_on = low + timedelta(days=rng.randint(0, (high - low).days))
            factor = Decimal(str(1 + rng.randint(15, 45) / 1000))
            new_rates = [{**item, "rate": _money(item["rate"] * factor)} for item in rates]
            new_packages = [{**item, "price": _money(item["price"] * factor)} for item in packages]
            self._at(
                regulated_on,
                1,
                self._negotiate(
                    plan,
                    municipality=self.municipality,
                    negotiated_on=regulated_on,
                    valid_to=None,
                    rates=new_rates,
                    packages=new_packages,
                    note="Årlig prisregulering",
                ),
            )
        # A few also hold a list with a neighbouring municipality, some of them time-limited.
        if rng.random() < 0.15:
            neighbour = rng.choice([code for code in NEIGHBOURS if code != self.municipality])
            signed = self.today - timedelta(days=rng.randint(30, 730))
            until = _add_months(_first_of_next_month(signed), 24) - ONE_DAY if rng.random() < 0.5 else None
            offered = rng.sample(rates, rng.randint(1, len(rates))) if rates else []
            local = [
                {**item, "rate": _money(item["rate"] * Decimal(rng.randint(95, 106)) / 100)}
                for item in offered
            ]
            local_packages = packages if not local else []
            self._at(
                signed,
                1,
                self._negotiate(
                    plan,
                    municipality=neighbour,
                    negotiated_on=signed,
                    valid_to=until,
                    rates=local,
                    packages=local_packages,
                    note="Prisliste for nabokommune",
                ),
            )

    def _packages(self, code: str, hourly: Decimal, *, packages_wanted: int) -> list[dict[str, Any]]:
        labels = self.rng.sample(PACKAGES[code], min(packages_wanted, len(PACKAGES[code])))
        offers = []
        for label in labels:
            hours = self.rng.choice(
                (10, 12, 15, 20, 24, 30) if code == "network-group" else (16, 20, 30, 40, 60)
            )
            price = Decimal(round(hours * hourly * Decimal(self.rng.randint(88, 100)) / 100, -1)).quantize(
                CENT
            )
            offers.append(
                {"name": f"{label} {hours} timer", "intervention": code, "price": price, "hours": hours}
            )
        return offers

    def _negotiate(
        self,
        plan: _SupplierPlan,
        *,
        municipality: str,
        negotiated_on: date,
        valid_to: date | None,
        rates: list[dict[str, Any]],
        packages: list[dict[str, Any]],
        note: str,
    ) -> Callable[[], None]:
        actor = self.rng.choice(MATCHERS)
        valid_from = _first_of_next_month(negotiated_on)

        def run() -> None:
            self.app.negotiate_price_list(
                plan.id,
                municipality=municipality,
                negotiated_on=negotiated_on,
                valid_from=valid_from,
                valid_to=valid_to,
                rates=rates,
                packages=packages,
                note=f"{note} ({negotiated_on.year})",
                actor=actor,
                context=WriteContext(),
            )
            self.counts["price_lists"] += 1
            self.current[plan.id] = self.app.get_supplier(plan.id)

        return run

    # -- referrals ------------------------------------------------------------------------------------

    def plan_referrals(self) -> None:
        rng = random.Random(f"{self.seed}:referrals")  # noqa: S311
        self.rng = rng
        offered = {code for plan in self.suppliers for code in plan.interventions}
        mix = {code: weight for code, weight in REFERRAL_MIX.items() if code in offered}
        codes, weights = list(mix), list(mix.values())
        # Fewer referrals in the summer holidays and around New Year; the mean stays per_week.
        season = [self._season(self.first_day + timedelta(days=7 * week)) for week in range(self.weeks)]
        scale = self.weeks / sum(season)
        citizens: list[str] = []
        case_numbers: dict[int, int] = {}
        for week in range(self.weeks):
            monday = self.first_day + timedelta(days=7 * week)
            expected = self.per_week * season[week] * scale
            count = max(0, round(rng.gauss(expected, expected**0.5 / 2)))
            for _ in range(count):
                referred_on = self._weekday(monday)
                code = rng.choices(codes, weights)[0]
                if citizens and rng.random() < P_SAME_CITIZEN:
                    citizen = rng.choice(citizens)
                else:
                    citizen = f"PSN-{rng.getrandbits(24):06X}"
                    citizens.append(citizen)
                year = referred_on.year
                case_numbers[year] = case_numbers.get(year, rng.randint(1200, 2600)) + rng.randint(1, 9)
                self._plan_referral(referred_on, code, citizen, f"SAG-{year}-{case_numbers[year]:06d}")

    @staticmethod
    def _season(monday: date) -> float:
        week = monday.isocalendar().week
        if week in (52, 53, 1):
            return 0.5
        if 28 <= week <= 30:
            return 0.65
        return 1.0

    def _weekday(self, monday: date) -> date:
        day = monday + timedelta(days=self.rng.randint(0, 6))
        if day.weekday() >= 5:
            day -= timedelta(days=day.weekday() - 4)  # weekend filings are dated the Friday before
        return min(max(day, self.first_day), self.today)

    def _legal_basis(self, code: str, on: date) -> str:
        bases = sorted(
            basis
            for basis in self.reference.intervention(code).legal_bases
            if self.reference.legal_basis(basis).is_valid_on(on)
        )
        return self.rng.choice(bases)

    def _plan_referral(self, referred_on: date, code: str, citizen: str, case_ref: str) -> None:
        rng = self.rng
        unit = self.reference.intervention(code).unit
        case = _Case(id=self._uuid(), intervention=code, unit=unit, worker=rng.choice(CASE_WORKERS))
        self.cases.append(case)
        requested_start = referred_on + timedelta(days=rng.randint(14, 42))
        months = rng.choice(DURATION_MONTHS.get(code, DEFAULT_DURATION_MONTHS))
        expected_end = _add_months(requested_start, months) - ONE_DAY
        hours = Decimal(rng.choice(HOURS_PER_WEEK[code])) if code in HOURS_PER_WEEK else None
        purpose = rng.choice(PURPOSES[code]) + rng.choice(PURPOSE_ADDITIONS)
        legal_basis = self._legal_basis(code, requested_start)

        def refer() -> None:
            self.app.refer(
                referral_id=case.id,
                municipality=self.municipality,
                citizen_ref=citizen,
                case_ref=case_ref,
                legal_basis=legal_basis,
                intervention=code,
                purpose=purpose,
                requested_hours_per_week=hours if unit == "hour" else None,
                requested_start=requested_start,
                expected_end=expected_end,
                referred_on=referred_on,
                actor=case.worker,
                context=WriteContext(),
            )

        self._at(referred_on, 2, refer)

        # Matching: one to three weeks after the referral, sometimes done again before pricing.
        matched_on = referred_on + timedelta(days=rng.randint(7, 21))
        if rng.random() >= P_MATCHED or matched_on > self.today:
            self._maybe_close_unpriced(case, referred_on + timedelta(days=rng.randint(7, 40)), 0.6)
            return
        chosen = self._pick_supplier(code, matched_on, exclude=())
        self._at(matched_on, 2, self._match(case, chosen, matched_on, previous=None))
        last = matched_on
        if rng.random() < P_REMATCHED and len(self._offering(code)) > 1:
            rematched_on = matched_on + timedelta(days=rng.randint(3, 10))
            if rematched_on <= self.today:
                previous = chosen
                chosen = self._pick_supplier(code, rematched_on, exclude=(previous.id,))
                self._at(rematched_on, 2, self._match(case, chosen, rematched_on, previous=previous))
                last = rematched_on

        # Price: a few days after the (last) match; the measure starts after the agreement.
        agreed_on = last + timedelta(days=rng.randint(2, 7))
        if rng.random() >= P_AGREED or agreed_on > self.today:
            self._maybe_close_unpriced(case, last + timedelta(days=rng.randint(3, 30)), 0.7)
            return
        start = max(requested_start, agreed_on + timedelta(days=rng.randint(1, 10)))
        end = start + (expected_end - requested_start)
        kind = self._pricing_kind(code, unit, chosen)
        agreed_hours = hours
        if kind == "hourly" and agreed_hours is None:
            agreed_hours = Decimal(rng.choice(HOURS_PER_WEEK.get(code, ("2.00",))))
        elif kind == "hourly" and agreed_hours is not None and rng.random() < 0.25:
            agreed_hours = max(
                Decimal("0.50"), agreed_hours + Decimal(rng.choice(("-1.00", "-0.50", "0.50", "1.00")))
            )
        self._at(
            agreed_on,
            2,
            self._agree(
                case, chosen, kind=kind, hours=agreed_hours, start=start, end=end, agreed_on=agreed_on
            ),
        )
        self._plan_after_agreement(
            case,
            kind=kind,
            hours=agreed_hours,
            start=start,
            end=end,
            agreed_on=agreed_on,
            referred_on=referred_on,
        )

    def _maybe_close_unpriced(self, case: _Case, closed_on: date, probability: float) -> None:
        """Close a referral that never got a price (withdrawn, declined ...), if that happened by today."""
        if closed_on <= self.today and self.rng.random() < probability:
            reason = self.rng.choice(
                ("withdrawn", "need_changed", "family_declined", "family_declined", "moved")
            )
            self._at(closed_on, 2, self._close(case, closed_on, reason))

    def _offering(self, code: str) -> list[_SupplierPlan]:
        return [plan for plan in self.suppliers if code in plan.interventions]

    def _pick_supplier(self, code: str, on: date, *, exclude: Sequence[UUID]) -> _SupplierPlan:
        offering = [plan for plan in self._offering(code) if plan.id not in exclude]
        ready = [plan for plan in offering if plan.available_from <= on] or offering
        return self.rng.choices(ready, [plan.weight for plan in ready])[0]

    def _pricing_kind(self, code: str, unit: str, supplier: _SupplierPlan) -> str:
        if unit == "day":
            return "daily"
        has_packages = bool(supplier.packages.get(code))
        if unit == "package":
            if has_packages and (code not in supplier.hourly or self.rng.random() < 0.8):
                return "package"
            return "hourly"
        return "package" if has_packages and self.rng.random() < 0.15 else "hourly"

    def _match(
        self, case: _Case, chosen: _SupplierPlan, matched_on: date, *, previous: _SupplierPlan | None
    ) -> Callable[[], None]:
        rng = self.rng
        others = [plan for plan in self._offering(case.intervention) if plan.id != chosen.id]
        if previous is not None:
            others = [plan for plan in others if plan.id != previous.id]
        rng.shuffle(others)
        skip = {chosen.id, *(plan.id for plan in others), *([previous.id] if previous else [])}
        fill = [plan for plan in self.suppliers if plan.id not in skip]
        rng.shuffle(fill)
        pool = [*others, *fill]
        wanted = min(len(pool), rng.randint(1, 3) - (previous is not None))
        alternatives = pool[:wanted]
        reasons = [rng.choice(CANDIDATE_REASONS) for _ in alternatives]
        criteria = [
            f"Uddannelse: {rng.choice(chosen.education_levels)}",
            f"Kompetence: {rng.choice(chosen.competencies)}",
            f"Målgruppe: {rng.choice(chosen.target_groups)}",
            *rng.sample(GENERAL_CRITERIA, rng.randint(0, 2)),
        ]
        rationale = rng.choice(REMATCH_RATIONALES if previous else MATCH_RATIONALES)
        actor = rng.choice(MATCHERS)

        def run() -> None:
            chosen_rate = self._list_rate(chosen, case, matched_on)
            candidates: list[dict[str, Any]] = []
            if previous is not None:
                reason = "Først valgte leverandør; kunne ikke levere som aftalt"
                candidates.append(
                    {
                        "supplier_id": previous.id,
                        "hourly_rate": self._hourly(previous, case, matched_on),
                        "reason": reason,
                    }
                )
            for plan, usual in zip(alternatives, reasons, strict=True):
                their_rate = self._list_rate(plan, case, matched_on)
                reason = usual
                if their_rate is not None and chosen_rate is not None and their_rate > chosen_rate:
                    reason = HIGHER_PRICE_REASON
                elif case.intervention not in plan.interventions:
                    reason = "Tilbyder ikke den efterspurgte indsats"
                candidates.append(
                    {
                        "supplier_id": plan.id,
                        "hourly_rate": self._hourly(plan, case, matched_on),
                        "reason": reason,
                    }
                )
            self.app.match_supplier(
                case.id,
                supplier_id=chosen.id,
                rationale=rationale,
                criteria=criteria,
                candidates=candidates,
                matched_on=matched_on,
                actor=actor,
                context=WriteContext(),
            )
            if previous is not None:
                self.counts["rematches"] += 1
            case.supplier = chosen
            case.status = "matched"

        return run

    def _list_rate(self, plan: _SupplierPlan, case: _Case, on: date) -> Decimal | None:
        unit = "day" if case.unit == "day" else "hour"
        found = self.current[plan.id].list_rate(self.municipality, case.intervention, unit, on)
        return found.rate if found else None

    def _hourly(self, plan: _SupplierPlan, case: _Case, on: date) -> Decimal | None:
        return self._list_rate(plan, case, on) if case.unit != "day" else None

    def _agree(
        self,
        case: _Case,
        supplier: _SupplierPlan,
        *,
        kind: str,
        hours: Decimal | None,
        start: date,
        end: date,
        agreed_on: date,
    ) -> Callable[[], None]:
        rng = self.rng
        mode = rng.random()
        discount = Decimal(rng.randint(92, 99)) / 100
        premium = Decimal(rng.randint(103, 120)) / 100
        above_why = rng.choice(ABOVE_LIST_RATIONALES)
        list_why = rng.choice(LIST_PRICE_RATIONALES) if rng.random() < 0.4 else None
        discount_why = rng.choice(DISCOUNT_RATIONALES) if rng.random() < 0.7 else None
        low, high = (DAILY_RANGES if kind == "daily" else HOURLY_RANGES).get(case.intervention, (600, 900))
        fallback = self._draw_rate(low, high)
        package_pick = rng.random()
        actor = rng.choice(MATCHERS)

        def run() -> None:
            rationale = list_why
            rate: Decimal | None = None
            package: tuple[str, Decimal] | None = None
            if kind == "package":
                in_force = [
                    (item["name"], item["price"])
                    for item in self.current[supplier.id].prices_in_force(self.municipality, start)[
                        "packages"
                    ]
                    if item["intervention"] == case.intervention
                ]
                offers = in_force or supplier.packages[case.intervention]
                package = offers[int(package_pick * len(offers))]
            else:
                listed = self._list_rate(supplier, case, start)
                if listed is None:
                    rate = fallback
                    rationale = "Ingen listepris for indsatsen; prisen er forhandlet for denne sag."
                elif mode < P_ABOVE_LIST:
                    rate, rationale = _money(listed * premium), above_why
                elif mode < 0.4:
                    rate, rationale = _money(listed * discount), discount_why
                else:
                    rate = listed
            self.app.agree_price(
                case.id,
                hourly_rate=rate if kind == "hourly" else None,
                hours_per_week=hours if kind == "hourly" else None,
                daily_rate=rate if kind == "daily" else None,
                package_name=package[0] if package else None,
                package_price=package[1] if package else None,
                start=start,
                end=end,
                agreed_on=agreed_on,
                rationale=rationale,
                actor=actor,
                context=WriteContext(),
            )
            case.kind, case.rate = kind, rate
            case.package_price = package[1] if package else None
            case.status = "active"
            self.counts["agreed"] += 1

        return run

    def _plan_after_agreement(
        self,
        case: _Case,
        *,
        kind: str,
        hours: Decimal | None,
        start: date,
        end: date,
        agreed_on: date,
        referred_on: date,
    ) -> None:
        """Extensions, adjustments and a closure, in date order, none after today."""
        rng = self.rng
        pending: list[tuple[date, str]] = []
        if kind != "package" and rng.random() < P_ADJUSTED:
            pending.append((start + timedelta(days=rng.randint(14, 150)), "adjust"))
        if rng.random() < P_EXTENDED:
            # Decided at a follow-up meeting in the last three months before the end.
            pending.append((end - timedelta(days=rng.randint(5, 90)), "extend"))
        if rng.random() < P_EARLY_CLOSE:
            if rng.random() < 0.15:
                pending.append((agreed_on + timedelta(days=rng.randint(1, 5)), "decline"))
            else:
                span = max(15, (end - start).days)
                pending.append((start + timedelta(days=rng.randint(14, span)), "close"))
        last = agreed_on
        closed = False
        while pending:
            pending.sort()
            when, what = pending.pop(0)
            when = max(when, last)
            if when > self.today:
                break
            if what == "adjust":
                if when > end:
                    continue
                hours = self._plan_adjustment(
                    case, kind=kind, hours=hours, start=start, end=end, decided_on=when
                )
            elif what == "extend":
                new_end = _add_months(end + ONE_DAY, rng.choice((2, 3, 3, 6))) - ONE_DAY
                new_hours = None
                if kind == "hourly" and hours is not None and rng.random() < 0.35:
                    new_hours = max(Decimal("0.50"), hours + Decimal(rng.choice(("-1.00", "-0.50", "1.00"))))
                    hours = new_hours
                self._at(when, 2, self._extend(case, new_end, new_hours, when))
                end = new_end
                if rng.random() < P_SECOND_EXTENSION:
                    pending.append((end - timedelta(days=rng.randint(5, 90)), "extend"))
            else:
                reason = "family_declined" if what == "decline" else self._early_reason()
                self._at(when, 2, self._close(case, when, reason))
                closed = True
                break
            last = when
        if not closed and end <= self.today and end >= last and rng.random() < P_CLOSE_AFTER_END:
            reason = "planned_end" if rng.random() < 0.65 else "goal_achieved"
            self._at(end, 2, self._close(case, max(end, referred_on), reason))

    def _early_reason(self) -> str:
        return self.rng.choices(
            (
                "goal_achieved",
                "need_changed",
                "moved",
                "family_declined",
                "supplier_terminated",
                "rematched",
                "other",
            ),
            (30, 20, 12, 12, 8, 10, 8),
        )[0]

    def _plan_adjustment(
        self, case: _Case, *, kind: str, hours: Decimal | None, start: date, end: date, decided_on: date
    ) -> Decimal | None:
        rng = self.rng
        if rng.random() < P_RETROACTIVE:
            effective_from = decided_on - timedelta(days=rng.randint(7, 45))
        else:
            effective_from = _first_of_next_month(decided_on) if rng.random() < 0.6 else decided_on
        effective_from = min(max(effective_from, start), end)
        change = rng.random()
        new_hours = None
        if kind == "hourly" and hours is not None and change < 0.8:
            new_hours = max(
                Decimal("0.50"), hours + Decimal(rng.choice(("-2.00", "-1.00", "-0.50", "1.00", "2.00")))
            )
        change_rate = kind == "daily" or new_hours is None or change > 0.65
        factor = Decimal(rng.randint(95, 106)) / 100
        rationale = rng.choice(RATE_RATIONALES) if change_rate else rng.choice(HOURS_RATIONALES)
        worker = case.worker

        def run() -> None:
            new_rate = None
            if change_rate and case.rate is not None:
                new_rate = _money(case.rate * factor)
                if new_rate == case.rate:
                    new_rate += CENT * 100
                case.rate = new_rate
            self.app.adjust_referral(
                case.id,
                effective_from=effective_from,
                hours_per_week=new_hours,
                hourly_rate=new_rate if kind == "hourly" else None,
                daily_rate=new_rate if kind == "daily" else None,
                rationale=rationale,
                decided_on=decided_on,
                actor=worker,
                context=WriteContext(),
            )
            self.counts["adjusted"] += 1

        self._at(decided_on, 2, run)
        return new_hours if new_hours is not None else hours

    def _extend(
        self, case: _Case, new_end: date, hours: Decimal | None, decided_on: date
    ) -> Callable[[], None]:
        rationale = self.rng.choice(EXTENSION_RATIONALES)

        def run() -> None:
            self.app.extend_referral(
                case.id,
                new_end=new_end,
                hours_per_week=hours,
                package_price=case.package_price if case.kind == "package" else None,
                rationale=rationale,
                decided_on=decided_on,
                actor=case.worker,
                context=WriteContext(),
            )
            self.counts["extended"] += 1

        return run

    def _close(self, case: _Case, closed_on: date, reason: str) -> Callable[[], None]:
        def run() -> None:
            self.app.close_referral(
                case.id,
                closed_on=closed_on,
                reason=reason,
                rationale=CLOSE_RATIONALES[reason],
                actor=case.worker,
                context=WriteContext(),
            )
            case.status = "closed"

        return run

    # -- running ---------------------------------------------------------------------------------------

    def run(self, progress: Callable[[int, int], None] | None) -> DemoSummary:
        before = self.app.last_position()
        actions = sorted(self.actions)
        total = len(actions)
        for done, action in enumerate(actions, start=1):
            action.run()
            if progress is not None:
                progress(done, total)
        statuses = {status: 0 for status in ("referred", "matched", "active", "closed")}
        for case in self.cases:
            statuses[case.status] += 1
        return DemoSummary(
            suppliers=self.counts["suppliers"],
            price_lists=self.counts["price_lists"],
            referrals=len(self.cases),
            events=self.app.last_position() - before,
            rematches=self.counts["rematches"],
            price_agreements=self.counts["agreed"],
            extensions=self.counts["extended"],
            adjustments=self.counts["adjusted"],
            **statuses,
        )


def load_demo(
    app: CaseLedger,
    *,
    today: date,
    weeks: int = 52,
    suppliers: int = 180,
    per_week: int = 60,
    municipality: str = "461",
    seed: int = 461,
    progress: Callable[[int, int], None] | None = None,
) -> DemoSummary:
    """Load a demo municipality into ``app`` through its commands and say what was written.

    ``weeks`` weeks of referrals ending at ``today`` (about ``per_week`` a week) for ``municipality``,
    matched to about ``suppliers`` suppliers with price lists negotiated over the last two years.
    The same ``seed`` gives the same data (ids included), so load it into an empty store.
    ``progress(done, total)`` is called after each command. A command the domain refuses raises.
    """
    if weeks < 1 or suppliers < 1 or per_week < 0:
        msg = f"weeks and suppliers must be positive and per_week not negative, got {weeks}, {suppliers}, {per_week}"
        raise ValueError(msg)
    generator = _Generator(
        app,
        today=today,
        weeks=weeks,
        suppliers=suppliers,
        per_week=per_week,
        municipality=municipality,
        seed=seed,
    )
    generator.plan_suppliers()
    generator.plan_referrals()
    return generator.run(progress)
