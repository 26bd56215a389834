"""The demo's suppliers: registered with valid CVR numbers, and their price lists negotiated for the
municipality (most renegotiated once a year) and a few for its neighbours."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from api.demo.planning import CENT, ONE_DAY, Planner, SupplierPlan, add_months, first_of_next_month, money
from api.demo.vocabulary_interventions import DAILY_RANGES, HOURLY_RANGES, OWN_COSTS, PACKAGES
from api.demo.vocabulary_people import FIRST_NAMES, LAST_NAMES, LEGAL_FORMS, MATCHERS, PLACES, STREETS
from api.demo.vocabulary_profiles import PROFILES, Profile
from domain.cvr import fresh_cvr

NEIGHBOURS = ("479", "480", "440", "450", "410", "420", "430")  # Svendborg, Nordfyns, Kerteminde, ...


def _ascii(text: str) -> str:
    table = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "é": "e", "ü": "u"})
    return "".join(c for c in text.lower().translate(table) if c.isalnum())


class SupplierPlanner(Planner):
    """Suppliers with valid CVR numbers, their contacts and the price lists they negotiate."""

    def plan_suppliers(self) -> None:
        rng = self.rng
        cvrs: set[str] = set()
        names: set[str] = set()
        profiles = list(PROFILES.values())
        profile_weights = [p.weight for p in profiles]
        # Its own stream, so that the suppliers, lists and referrals stay as they were without it.
        capacities = random.Random(f"{self.seed}:capacity")  # noqa: S311 - demo data
        for _ in range(self.supplier_count):
            cvr = fresh_cvr(rng, cvrs)
            profile = rng.choices(profiles, profile_weights)[0]
            name = self._supplier_name(profile, names)
            offered = self._offer(profile)
            plan = SupplierPlan(
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
            self._plan_capacity(plan, capacities)
            self._plan_price_lists(plan)
        self._plan_own_costs()

    def _plan_capacity(self, plan: SupplierPlan, rng: random.Random) -> None:
        """Most suppliers state the face-to-face hours a week they can take on, the busiest (by
        weight) more; some state none. Some end up with more than they said, as in life."""
        if rng.random() < 0.2:
            return
        hours = Decimal(max(10, round(plan.weight * rng.choice((8, 12, 15, 20)) / 5) * 5))
        actor = rng.choice(MATCHERS)

        def run() -> None:
            self._command(
                "supplier.details_updated", plan.id, actor, changes={"capacity_hours_per_week": hours}
            )

        self._at(date.min, 0, run)

    def _plan_own_costs(self) -> None:
        """What a few interventions would cost the municipality itself per hour or day: a little
        above the middle of the suppliers' usual list rates, recorded when the demo's period starts."""
        rng = random.Random(f"{self.seed}:own-costs")  # noqa: S311 - demo data
        for code, rationale in OWN_COSTS.items():
            low, high = HOURLY_RANGES.get(code) or DAILY_RANGES[code]
            rate = Decimal(round((low + high) / 2 * rng.uniform(1.0, 1.2) / 5) * 5).quantize(CENT)
            unit = "day" if code in DAILY_RANGES else "hour"
            self._at(self.first_day, 0, self._own_cost(code, unit, rate, rationale, rng.choice(MATCHERS)))

    def _own_cost(
        self, code: str, unit: str, rate: Decimal, rationale: str, actor: Mapping[str, str | None]
    ) -> Callable[[], None]:
        def run() -> None:
            self._command(
                "own_cost.recorded",
                None,
                actor,
                municipality=self.municipality,
                intervention=code,
                unit=unit,
                rate=rate,
                valid_from=self.first_day,
                rationale=rationale,
            )

        return run

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

    def _contact(self, plan: SupplierPlan) -> dict[str, str]:
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

    def _register(self, plan: SupplierPlan) -> Callable[[], None]:
        contact = self._contact(plan)
        actor = self.rng.choice(MATCHERS)

        def run() -> None:
            self._command(
                "supplier.registered",
                plan.id,
                actor,
                name=plan.name,
                cvr=plan.cvr,
                contact=contact,
                target_groups=plan.target_groups,
                competencies=plan.competencies,
                education_levels=plan.education_levels,
            )
            self.counts["suppliers"] += 1
            self.current[plan.id] = self.app.get_supplier(plan.id)

        return run

    def _plan_price_lists(self, plan: SupplierPlan) -> None:
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
        plan.available_from = first_of_next_month(negotiated)
        self._negotiate(plan, negotiated, rates, packages, note="Rammeaftale efter forhandling")
        # About half renegotiate (annual regulation) during the last year.
        low = max(plan.available_from + timedelta(days=120), self.today - timedelta(days=365))
        high = self.today - timedelta(days=20)
        if rng.random() < 0.5 and low <= high:
            regulated_on = low + timedelta(days=rng.randint(0, (high - low).days))
            factor = Decimal(str(1 + rng.randint(15, 45) / 1000))
            new_rates = [{**item, "rate": money(item["rate"] * factor)} for item in rates]
            new_packages = [{**item, "price": money(item["price"] * factor)} for item in packages]
            self._negotiate(plan, regulated_on, new_rates, new_packages, note="Årlig prisregulering")
        # A few also hold a list with a neighbouring municipality, some of them time-limited.
        if rng.random() < 0.15:
            neighbour = rng.choice([code for code in NEIGHBOURS if code != self.municipality])
            signed = self.today - timedelta(days=rng.randint(30, 730))
            until = add_months(first_of_next_month(signed), 24) - ONE_DAY if rng.random() < 0.5 else None
            offered = rng.sample(rates, rng.randint(1, len(rates))) if rates else []
            local = [
                {**item, "rate": money(item["rate"] * Decimal(rng.randint(95, 106)) / 100)}
                for item in offered
            ]
            local_packages = packages if not local else []
            self._negotiate(
                plan,
                signed,
                local,
                local_packages,
                note="Prisliste for nabokommune",
                municipality=neighbour,
                valid_to=until,
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
        plan: SupplierPlan,
        negotiated_on: date,
        rates: list[dict[str, Any]],
        packages: list[dict[str, Any]],
        *,
        note: str,
        municipality: str | None = None,
        valid_to: date | None = None,
    ) -> None:
        """Schedule a price list negotiated on ``negotiated_on``, in force from the next month's first,
        with this planner's municipality unless another is named."""
        municipality = self.municipality if municipality is None else municipality
        actor = self.rng.choice(MATCHERS)
        valid_from = first_of_next_month(negotiated_on)

        def run() -> None:
            self._command(
                "supplier.price_list_negotiated",
                plan.id,
                actor,
                municipality=municipality,
                negotiated_on=negotiated_on,
                valid_from=valid_from,
                valid_to=valid_to,
                rates=rates,
                packages=packages,
                note=f"{note} ({negotiated_on.year})",
            )
            self.counts["price_lists"] += 1
            self.current[plan.id] = self.app.get_supplier(plan.id)

        self._at(negotiated_on, 1, run)
