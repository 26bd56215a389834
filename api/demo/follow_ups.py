"""The demo's follow-ups: what happens to a priced referral until today (extensions, adjustments of
hours and rates, and its closure); the closure also ends referrals that never got a price."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from api.demo.planning import (
    CENT,
    ONE_DAY,
    P_ADJUSTED,
    P_CLOSE_AFTER_END,
    P_EARLY_CLOSE,
    P_EXTENDED,
    P_RETROACTIVE,
    P_SECOND_EXTENSION,
    Case,
    Planner,
    add_months,
    first_of_next_month,
    money,
)
from api.demo.vocabulary_decisions import (
    CLOSE_RATIONALES,
    EXTENSION_RATIONALES,
    HOURS_RATIONALES,
    RATE_RATIONALES,
)


class FollowUpPlanner(Planner):
    """What happens to a referral after its price is agreed: extensions, adjustments, closure."""

    def _plan_after_agreement(
        self,
        case: Case,
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
                new_end = add_months(end + ONE_DAY, rng.choice((2, 3, 3, 6))) - ONE_DAY
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
        self, case: Case, *, kind: str, hours: Decimal | None, start: date, end: date, decided_on: date
    ) -> Decimal | None:
        rng = self.rng
        if rng.random() < P_RETROACTIVE:
            effective_from = decided_on - timedelta(days=rng.randint(7, 45))
        else:
            effective_from = first_of_next_month(decided_on) if rng.random() < 0.6 else decided_on
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
                new_rate = money(case.rate * factor)
                if new_rate == case.rate:
                    new_rate += CENT * 100
                case.rate = new_rate
            self._command(
                "referral.adjusted",
                case.id,
                worker,
                effective_from=effective_from,
                hours_per_week=new_hours,
                hourly_rate=new_rate if kind == "hourly" else None,
                daily_rate=new_rate if kind == "daily" else None,
                rationale=rationale,
                decided_on=decided_on,
            )
            self.counts["adjusted"] += 1

        self._at(decided_on, 2, run)
        return new_hours if new_hours is not None else hours

    def _extend(
        self, case: Case, new_end: date, hours: Decimal | None, decided_on: date
    ) -> Callable[[], None]:
        rationale = self.rng.choice(EXTENSION_RATIONALES)

        def run() -> None:
            self._command(
                "referral.extended",
                case.id,
                case.worker,
                new_end=new_end,
                hours_per_week=hours,
                package_price=case.package_price if case.kind == "package" else None,
                rationale=rationale,
                decided_on=decided_on,
            )
            self.counts["extended"] += 1

        return run

    def _close(self, case: Case, closed_on: date, reason: str) -> Callable[[], None]:
        def run() -> None:
            self._command(
                "referral.closed",
                case.id,
                case.worker,
                closed_on=closed_on,
                reason=reason,
                rationale=CLOSE_RATIONALES[reason],
            )
            case.status = "closed"

        return run
