"""The demo's referrals: filed week by week (fewer in the holidays), matched to a supplier with the
candidates passed over, sometimes matched again, and priced from the list in force."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from api.demo.follow_ups import FollowUpPlanner
from api.demo.planning import (
    ONE_DAY,
    P_ABOVE_LIST,
    P_AGREED,
    P_MATCHED,
    P_REMATCHED,
    P_SAME_CITIZEN,
    Case,
    SupplierPlan,
    add_months,
    money,
)
from api.demo.vocabulary_decisions import (
    ABOVE_LIST_RATIONALES,
    CANDIDATE_REASONS,
    DISCOUNT_RATIONALES,
    GENERAL_CRITERIA,
    HIGHER_PRICE_REASON,
    LIST_PRICE_RATIONALES,
    MATCH_RATIONALES,
    REMATCH_RATIONALES,
)
from api.demo.vocabulary_interventions import (
    DAILY_RANGES,
    DEFAULT_DURATION_MONTHS,
    DURATION_MONTHS,
    HOURLY_RANGES,
    HOURS_PER_WEEK,
    PURPOSE_ADDITIONS,
    PURPOSES,
    REFERRAL_MIX,
)
from api.demo.vocabulary_people import CASE_WORKERS, MATCHERS


class ReferralPlanner(FollowUpPlanner):
    """A year of referrals: filed, matched (sometimes again) and priced; the follow-ups are planned on."""

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
        case = Case(id=self._uuid(), intervention=code, unit=unit, worker=rng.choice(CASE_WORKERS))
        self.cases.append(case)
        requested_start = referred_on + timedelta(days=rng.randint(14, 42))
        months = rng.choice(DURATION_MONTHS.get(code, DEFAULT_DURATION_MONTHS))
        expected_end = add_months(requested_start, months) - ONE_DAY
        hours = Decimal(rng.choice(HOURS_PER_WEEK[code])) if code in HOURS_PER_WEEK else None
        purpose = rng.choice(PURPOSES[code]) + rng.choice(PURPOSE_ADDITIONS)
        legal_basis = self._legal_basis(code, requested_start)

        def refer() -> None:
            self._command(
                "referral.referred",
                case.id,
                case.worker,
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

    def _maybe_close_unpriced(self, case: Case, closed_on: date, probability: float) -> None:
        """Close a referral that never got a price (withdrawn, declined ...), if that happened by today."""
        if closed_on <= self.today and self.rng.random() < probability:
            reason = self.rng.choice(
                ("withdrawn", "need_changed", "family_declined", "family_declined", "moved")
            )
            self._at(closed_on, 2, self._close(case, closed_on, reason))

    def _offering(self, code: str) -> list[SupplierPlan]:
        return [plan for plan in self.suppliers if code in plan.interventions]

    def _pick_supplier(self, code: str, on: date, *, exclude: Sequence[UUID]) -> SupplierPlan:
        offering = [plan for plan in self._offering(code) if plan.id not in exclude]
        ready = [plan for plan in offering if plan.available_from <= on] or offering
        return self.rng.choices(ready, [plan.weight for plan in ready])[0]

    def _pricing_kind(self, code: str, unit: str, supplier: SupplierPlan) -> str:
        if unit == "day":
            return "daily"
        has_packages = bool(supplier.packages.get(code))
        if unit == "package":
            if has_packages and (code not in supplier.hourly or self.rng.random() < 0.8):
                return "package"
            return "hourly"
        return "package" if has_packages and self.rng.random() < 0.15 else "hourly"

    def _match(
        self, case: Case, chosen: SupplierPlan, matched_on: date, *, previous: SupplierPlan | None
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

        def candidate(plan: SupplierPlan, reason: str) -> dict[str, Any]:
            return {
                "supplier_id": plan.id,
                "hourly_rate": self._hourly(plan, case, matched_on),
                "reason": reason,
            }

        def run() -> None:
            chosen_rate = self._list_rate(chosen, case, matched_on)
            candidates: list[dict[str, Any]] = []
            if previous is not None:
                candidates.append(
                    candidate(previous, "Først valgte leverandør; kunne ikke levere som aftalt")
                )
            for plan, usual in zip(alternatives, reasons, strict=True):
                their_rate = self._list_rate(plan, case, matched_on)
                reason = usual
                if their_rate is not None and chosen_rate is not None and their_rate > chosen_rate:
                    reason = HIGHER_PRICE_REASON
                elif case.intervention not in plan.interventions:
                    reason = "Tilbyder ikke den efterspurgte indsats"
                candidates.append(candidate(plan, reason))
            self._command(
                "referral.matched",
                case.id,
                actor,
                supplier_id=chosen.id,
                rationale=rationale,
                criteria=criteria,
                candidates=candidates,
                matched_on=matched_on,
            )
            if previous is not None:
                self.counts["rematches"] += 1
            case.supplier = chosen
            case.status = "matched"

        return run

    def _list_rate(self, plan: SupplierPlan, case: Case, on: date) -> Decimal | None:
        unit = "day" if case.unit == "day" else "hour"
        found = self.current[plan.id].list_rate(self.municipality, case.intervention, unit, on)
        return found.rate if found else None

    def _hourly(self, plan: SupplierPlan, case: Case, on: date) -> Decimal | None:
        return self._list_rate(plan, case, on) if case.unit != "day" else None

    def _agree(
        self,
        case: Case,
        supplier: SupplierPlan,
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
                    rate, rationale = money(listed * premium), above_why
                elif mode < 0.4:
                    rate, rationale = money(listed * discount), discount_why
                else:
                    rate = listed
            self._command(
                "referral.price_agreed",
                case.id,
                actor,
                hourly_rate=rate if kind == "hourly" else None,
                hours_per_week=hours if kind == "hourly" else None,
                daily_rate=rate if kind == "daily" else None,
                package_name=package[0] if package else None,
                package_price=package[1] if package else None,
                start=start,
                end=end,
                agreed_on=agreed_on,
                rationale=rationale,
            )
            case.kind, case.rate = kind, rate
            case.package_price = package[1] if package else None
            case.status = "active"
            self.counts["agreed"] += 1

        return run
