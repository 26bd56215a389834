"""The Referral aggregate (indstilling): referred → matched → active (price agreed) → closed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Literal, get_args
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain import money
from domain.errors import InvalidInput, RuleViolation
from domain.reference import load_reference
from domain.spending import Terms, committed_total, monthly_commitments, value_on
from domain.supplier import Supplier
from domain.text import optional, reject_cpr_in, required
from domain.values import Actor, Source, day, decided, municipality, not_before

Status = Literal["referred", "matched", "active", "closed"]
"""A referral's status, in the order of its life; the API's status fields and filters are this type."""
STATUSES: tuple[str, ...] = get_args(Status)
REFERRED, MATCHED, ACTIVE, CLOSED = STATUSES
CLOSE_REASONS = (
    "goal_achieved",
    "planned_end",
    "need_changed",
    "family_declined",
    "moved",
    "supplier_terminated",
    "rematched",
    "withdrawn",
    "other",
)
CLOSE_INITIATORS = {
    "family_declined": "citizen",
    "moved": "citizen",
    "supplier_terminated": "supplier",
}
"""Who ended a referral, by close reason; every other reason is the municipality's decision."""
HOURLY, DAILY, PACKAGE = "hourly", "daily", "package"
EFFECTIVE_DATE_FIELDS = {
    "referral.referred": "referred_on",
    "referral.matched": "matched_on",
    "referral.price_agreed": "agreed_on",
    "referral.extended": "decided_on",
    "referral.adjusted": "effective_from",
    "referral.closed": "closed_on",
}
"""The business date of each decision, by event type (for trails and the decision search)."""


def close_initiator(reason: str) -> str:
    """``municipality``, ``citizen`` or ``supplier``: who ended a referral closed for ``reason``."""
    return CLOSE_INITIATORS.get(reason, "municipality")


def _refuse(problem: str, detail: str, field: str | None = None) -> RuleViolation:
    return RuleViolation(problem, detail, field=field)


class Referral(Aggregate):
    """A request for a measure for one citizen, and every decision taken on it."""

    TOPIC = "referral"

    class Created(Aggregate.Created):
        TOPIC = "referral.created"

    class Referred(Aggregate.Created):
        TOPIC = "referral.referred"
        municipality: str
        citizen_ref: str
        case_ref: str | None
        legal_basis: str
        intervention: str
        purpose: str
        requested_hours_per_week: Decimal | None
        requested_start: date
        expected_end: date
        referred_on: date
        actor: Actor
        source: Source | None

    class Matched(Aggregate.Event):
        TOPIC = "referral.matched"
        supplier_id: UUID
        previous_supplier_id: UUID | None
        rationale: str
        criteria: list[str]
        candidates: list[dict[str, Any]]
        matched_on: date
        actor: Actor
        source: Source | None

    class PriceAgreed(Aggregate.Event):
        TOPIC = "referral.price_agreed"
        supplier_id: UUID
        kind: str
        hourly_rate: Decimal | None
        hours_per_week: Decimal | None
        daily_rate: Decimal | None
        package: dict[str, Any] | None
        start: date
        end: date
        agreed_on: date
        list_rate: Decimal | None
        list_negotiated_on: date | None
        above_list_rate: bool
        rationale: str | None
        actor: Actor
        source: Source | None

    class Extended(Aggregate.Event):
        TOPIC = "referral.extended"
        previous_end: date
        new_end: date
        hours_per_week: Decimal | None
        package_price: Decimal | None
        rationale: str
        decided_on: date
        actor: Actor
        source: Source | None

    class Adjusted(Aggregate.Event):
        TOPIC = "referral.adjusted"
        effective_from: date
        hours_per_week: Decimal | None
        hourly_rate: Decimal | None
        daily_rate: Decimal | None
        list_rate: Decimal | None
        above_list_rate: bool
        rationale: str
        decided_on: date
        actor: Actor
        source: Source | None

    class Closed(Aggregate.Event):
        """Version 2 records ``initiated_by`` (``municipality``, ``citizen`` or ``supplier``), so an
        audit can tell a measure the municipality ended from one the family or the supplier ended.
        Version 1 events (stored before the field existed) are upcast on read: it is derived from
        their reason exactly as a version 2 close derives it."""

        TOPIC = "referral.closed"
        class_version = 2
        closed_on: date
        reason: str
        initiated_by: str
        rationale: str
        actor: Actor
        source: Source | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["initiated_by"] = close_initiator(state["reason"])

    # -- referred ------------------------------------------------------------------------------

    @classmethod
    def refer(
        cls,
        *,
        referral_id: UUID,
        municipality_code: str,
        citizen_ref: str,
        case_ref: str | None,
        legal_basis: str,
        intervention: str,
        purpose: str,
        requested_hours_per_week: Decimal | None,
        requested_start: date,
        expected_end: date,
        referred_on: date,
        decided_by: Mapping[str, str | None],
        origin: Mapping[str, str | None] | None = None,
    ) -> Referral:
        """File a referral for a measure (docs/domain.md rules 2, 5, 7)."""
        reject_cpr_in(
            {"citizen_ref": citizen_ref, "case_ref": case_ref, "purpose": purpose, "actor": decided_by}
        )
        for name, value in (
            ("requested_start", requested_start),
            ("expected_end", expected_end),
            ("referred_on", referred_on),
        ):
            day(value, name)
        not_before(expected_end, requested_start, "expected_end", "requested_start")
        load_reference().check_grant(legal_basis, intervention, requested_start)
        hours = (
            money.hours(requested_hours_per_week, "requested_hours_per_week")
            if requested_hours_per_week is not None
            else None
        )
        return cls._create(
            cls.Referred,
            id=referral_id,
            municipality=municipality(municipality_code),
            citizen_ref=required(citizen_ref, "citizen_ref"),
            case_ref=optional(case_ref),
            legal_basis=legal_basis,
            intervention=intervention,
            purpose=required(purpose, "purpose"),
            requested_hours_per_week=hours,
            requested_start=requested_start,
            expected_end=expected_end,
            referred_on=referred_on,
            **decided(decided_by, origin),
        )

    @event(Referred)
    def __init__(
        self,
        *,
        municipality: str,
        citizen_ref: str,
        case_ref: str | None,
        legal_basis: str,
        intervention: str,
        purpose: str,
        requested_hours_per_week: Decimal | None,
        requested_start: date,
        expected_end: date,
        referred_on: date,
        actor: Actor,
        source: Source | None,
    ) -> None:
        self.status = REFERRED
        self.municipality = municipality
        self.citizen_ref = citizen_ref
        self.case_ref = case_ref
        self.legal_basis = legal_basis
        self.intervention = intervention
        self.purpose = purpose
        self.requested_hours_per_week = requested_hours_per_week
        self.requested_start = requested_start
        self.expected_end = expected_end
        self.referred_on = referred_on
        self.supplier_id: UUID | None = None
        self.previous_supplier_ids: list[UUID] = []
        self.terms: Terms | None = None
        self.package: dict[str, Any] | None = None
        self.list_rate: Decimal | None = None
        self.closed_on: date | None = None
        self.close_reason: str | None = None
        self.close_initiated_by: str | None = None

    # -- shared checks -------------------------------------------------------------------------

    def _decision_date(self, value: date, field: str) -> date:
        day(value, field)
        not_before(value, self.referred_on, field, "referred_on")
        return value

    def _require_status(self, command: str, *allowed: str) -> None:
        if self.status not in allowed:
            wanted = " or ".join(allowed)
            msg = f"cannot {command}: the referral is {self.status}, it must be {wanted}"
            raise _refuse("invalid-state", msg)

    def _require_active_terms(self, command: str) -> Terms:
        self._require_status(command, ACTIVE)
        assert self.terms is not None
        return self.terms

    # -- matched -------------------------------------------------------------------------------

    def match(
        self,
        *,
        supplier: Supplier,
        rationale: str,
        criteria: Sequence[str],
        candidates: Sequence[Mapping[str, Any]],
        matched_on: date,
        decided_by: Mapping[str, str | None],
        origin: Mapping[str, str | None] | None = None,
    ) -> None:
        """Choose the supplier; allowed again (re-matching) until a price is agreed (rule 1, 5)."""
        self._require_status("match", REFERRED, MATCHED)
        reject_cpr_in(
            {"rationale": rationale, "criteria": criteria, "candidates": candidates, "actor": decided_by}
        )
        considered = []
        for i, candidate in enumerate(candidates):
            where = f"candidates[{i}]"
            if candidate["supplier_id"] == supplier.id:
                msg = f"{where} is the chosen supplier; candidates are the alternatives not chosen"
                raise InvalidInput("chosen-supplier-as-candidate", msg, field=f"{where}.supplier_id")
            rate = candidate.get("hourly_rate")
            considered.append(
                {
                    "supplier_id": candidate["supplier_id"],
                    "hourly_rate": money.rate(rate, f"{where}.hourly_rate") if rate is not None else None,
                    "reason": required(candidate["reason"], f"{where}.reason"),
                }
            )
        self.trigger_event(
            self.Matched,
            supplier_id=supplier.id,
            previous_supplier_id=self.supplier_id,
            rationale=required(rationale, "rationale"),
            criteria=[required(c, f"criteria[{i}]") for i, c in enumerate(criteria)],
            candidates=considered,
            matched_on=self._decision_date(matched_on, "matched_on"),
            **decided(decided_by, origin),
        )

    @event(Matched)
    def _matched(self, *, supplier_id: UUID, previous_supplier_id: UUID | None) -> None:
        if previous_supplier_id is not None:
            self.previous_supplier_ids.append(previous_supplier_id)
        self.supplier_id = supplier_id
        self.status = MATCHED

    # -- price agreed --------------------------------------------------------------------------

    def agree_price(
        self,
        *,
        supplier: Supplier | None,
        hourly_rate: Decimal | None,
        hours_per_week: Decimal | None,
        daily_rate: Decimal | None,
        package_name: str | None,
        package_price: Decimal | None,
        start: date,
        end: date,
        agreed_on: date,
        rationale: str | None,
        decided_by: Mapping[str, str | None],
        origin: Mapping[str, str | None] | None = None,
    ) -> None:
        """Agree the rate and scope with the matched supplier (rules 1–4)."""
        self._require_status("agree a price", MATCHED)
        if supplier is None or supplier.id != self.supplier_id:
            msg = f"the price must be agreed with the matched supplier {self.supplier_id}"
            raise _refuse("not-the-matched-supplier", msg, field="supplier_id")
        reject_cpr_in({"rationale": rationale, "package.name": package_name, "actor": decided_by})
        day(start, "start")
        day(end, "end")
        not_before(end, start, "end", "start")
        self._decision_date(agreed_on, "agreed_on")
        given = {
            HOURLY: hourly_rate is not None or hours_per_week is not None,
            DAILY: daily_rate is not None,
            PACKAGE: package_name is not None or package_price is not None,
        }
        kinds = [kind for kind, present in given.items() if present]
        if len(kinds) != 1:
            msg = "give exactly one of {hourly_rate, hours_per_week}, {daily_rate} or {package{name, price}}"
            raise InvalidInput("one-pricing-required", msg, field="pricing")
        kind = kinds[0]
        why = optional(rationale)
        found = None
        package = None
        if kind == HOURLY:
            if hourly_rate is None or hours_per_week is None:
                msg = "an hourly agreement needs both hourly_rate and hours_per_week"
                raise InvalidInput("incomplete-hourly-pricing", msg, field="hourly_rate")
            hourly_rate = money.rate(hourly_rate, "hourly_rate")
            hours_per_week = money.hours(hours_per_week, "hours_per_week")
            found = supplier.list_rate(self.municipality, self.intervention, "hour", start)
        elif kind == DAILY:
            assert daily_rate is not None
            daily_rate = money.rate(daily_rate, "daily_rate")
            found = supplier.list_rate(self.municipality, self.intervention, "day", start)
        else:
            if package_name is None or package_price is None:
                msg = "a package agreement needs package.name and package.price"
                raise InvalidInput("incomplete-package-pricing", msg, field="package")
            package = {
                "name": required(package_name, "package.name"),
                "price": money.price(package_price, "package.price"),
            }
        agreed = hourly_rate if kind == HOURLY else daily_rate
        above = found is not None and agreed is not None and agreed > found.rate
        if above and not why:
            assert found is not None
            msg = (
                f"the agreed rate {agreed} is above the supplier's list rate {found.rate} "
                f"(negotiated {found.negotiated_on.isoformat()}); a rationale is required"
            )
            raise _refuse("rationale-required-above-list-rate", msg, field="rationale")
        self.trigger_event(
            self.PriceAgreed,
            supplier_id=supplier.id,
            kind=kind,
            hourly_rate=hourly_rate,
            hours_per_week=hours_per_week,
            daily_rate=daily_rate,
            package=package,
            start=start,
            end=end,
            agreed_on=agreed_on,
            list_rate=found.rate if found else None,
            list_negotiated_on=found.negotiated_on if found else None,
            above_list_rate=above,
            rationale=why,
            **decided(decided_by, origin),
        )

    @event(PriceAgreed)
    def _price_agreed(
        self,
        *,
        kind: str,
        hourly_rate: Decimal | None,
        hours_per_week: Decimal | None,
        daily_rate: Decimal | None,
        package: dict[str, Any] | None,
        start: date,
        end: date,
        list_rate: Decimal | None,
    ) -> None:
        self.terms = Terms.agreed(
            kind=kind,
            start=start,
            end=end,
            rate=hourly_rate if kind == HOURLY else daily_rate,
            hours_per_week=hours_per_week,
            package_price=package["price"] if package else None,
        )
        self.package = package
        self.list_rate = list_rate
        self.status = ACTIVE

    # -- extended ------------------------------------------------------------------------------

    def extend(
        self,
        *,
        new_end: date,
        hours_per_week: Decimal | None,
        package_price: Decimal | None,
        rationale: str,
        decided_on: date,
        decided_by: Mapping[str, str | None],
        origin: Mapping[str, str | None] | None = None,
    ) -> None:
        """Move the end later; new hours apply from the day after the old end (rules 1, 2)."""
        terms = self._require_active_terms("extend")
        reject_cpr_in({"rationale": rationale, "actor": decided_by})
        day(new_end, "new_end")
        self._decision_date(decided_on, "decided_on")
        if new_end <= terms.end:
            msg = f"new_end {new_end.isoformat()} must be later than the current end {terms.end.isoformat()}"
            raise _refuse("extension-not-later", msg, field="new_end")
        if hours_per_week is not None:
            if terms.kind != HOURLY:
                msg = f"hours_per_week applies to hourly agreements; this one is {terms.kind}"
                raise _refuse("pricing-does-not-fit", msg, field="hours_per_week")
            hours_per_week = money.hours(hours_per_week, "hours_per_week")
        if terms.kind == PACKAGE:
            if package_price is None:
                msg = "an extension of a package agreement carries its own package_price"
                raise _refuse("package-price-required", msg, field="package_price")
            package_price = money.price(package_price, "package_price")
        elif package_price is not None:
            msg = f"package_price applies to package agreements; this one is {terms.kind}"
            raise _refuse("pricing-does-not-fit", msg, field="package_price")
        self.trigger_event(
            self.Extended,
            previous_end=terms.end,
            new_end=new_end,
            hours_per_week=hours_per_week,
            package_price=package_price,
            rationale=required(rationale, "rationale"),
            decided_on=decided_on,
            **decided(decided_by, origin),
        )

    @event(Extended)
    def _extended(
        self,
        *,
        new_end: date,
        hours_per_week: Decimal | None,
        package_price: Decimal | None,
    ) -> None:
        assert self.terms is not None
        self.terms.extend(new_end=new_end, hours_per_week=hours_per_week, package_price=package_price)

    # -- adjusted ------------------------------------------------------------------------------

    def adjust(
        self,
        *,
        supplier: Supplier | None,
        effective_from: date,
        hours_per_week: Decimal | None,
        hourly_rate: Decimal | None,
        daily_rate: Decimal | None,
        rationale: str,
        decided_on: date,
        decided_by: Mapping[str, str | None],
        origin: Mapping[str, str | None] | None = None,
    ) -> None:
        """Change hours and/or rate from a date within the current period on (rules 1, 2)."""
        terms = self._require_active_terms("adjust")
        if supplier is not None and supplier.id != self.supplier_id:
            msg = f"list rates are looked up with the matched supplier {self.supplier_id}"
            raise _refuse("not-the-matched-supplier", msg, field="supplier_id")
        reject_cpr_in({"rationale": rationale, "actor": decided_by})
        day(effective_from, "effective_from")
        self._decision_date(decided_on, "decided_on")
        if hours_per_week is None and hourly_rate is None and daily_rate is None:
            msg = "give at least one of hours_per_week, hourly_rate, daily_rate"
            raise InvalidInput("nothing-to-adjust", msg)
        fits = {HOURLY: ("hours_per_week", "hourly_rate"), DAILY: ("daily_rate",), PACKAGE: ()}[terms.kind]
        for name, value in (
            ("hours_per_week", hours_per_week),
            ("hourly_rate", hourly_rate),
            ("daily_rate", daily_rate),
        ):
            if value is not None and name not in fits:
                msg = f"{name} does not fit a {terms.kind} agreement"
                raise _refuse("pricing-does-not-fit", msg, field=name)
        if not terms.start <= effective_from <= terms.end:
            msg = (
                f"effective_from {effective_from.isoformat()} must lie within the agreement "
                f"{terms.start.isoformat()}..{terms.end.isoformat()}"
            )
            raise _refuse("adjustment-outside-period", msg, field="effective_from")
        hours = money.hours(hours_per_week, "hours_per_week") if hours_per_week is not None else None
        hourly = money.rate(hourly_rate, "hourly_rate") if hourly_rate is not None else None
        daily = money.rate(daily_rate, "daily_rate") if daily_rate is not None else None
        new_rate = hourly or daily
        found = None
        if new_rate is not None and supplier is not None:
            unit = "hour" if terms.kind == HOURLY else "day"
            found = supplier.list_rate(self.municipality, self.intervention, unit, effective_from)
        self.trigger_event(
            self.Adjusted,
            effective_from=effective_from,
            hours_per_week=hours,
            hourly_rate=hourly,
            daily_rate=daily,
            list_rate=found.rate if found else None,
            above_list_rate=bool(found and new_rate is not None and new_rate > found.rate),
            rationale=required(rationale, "rationale"),
            decided_on=decided_on,
            **decided(decided_by, origin),
        )

    @event(Adjusted)
    def _adjusted(
        self,
        *,
        effective_from: date,
        hours_per_week: Decimal | None,
        hourly_rate: Decimal | None,
        daily_rate: Decimal | None,
    ) -> None:
        assert self.terms is not None
        rate = hourly_rate if hourly_rate is not None else daily_rate
        self.terms.adjust(effective_from=effective_from, hours_per_week=hours_per_week, rate=rate)

    # -- closed --------------------------------------------------------------------------------

    def close(
        self,
        *,
        closed_on: date,
        reason: str,
        rationale: str,
        decided_by: Mapping[str, str | None],
        origin: Mapping[str, str | None] | None = None,
    ) -> None:
        """End the referral, whatever its stage; nothing changes it afterwards (rule 1)."""
        if self.status == CLOSED:
            msg = f"the referral was closed on {self.closed_on}; nothing changes a closed referral"
            raise _refuse("invalid-state", msg)
        reject_cpr_in({"rationale": rationale, "actor": decided_by})
        if reason not in CLOSE_REASONS:
            msg = f"reason must be one of {', '.join(CLOSE_REASONS)}, got {reason!r}"
            raise InvalidInput("invalid-close-reason", msg, field="reason")
        self.trigger_event(
            self.Closed,
            closed_on=self._decision_date(closed_on, "closed_on"),
            reason=reason,
            initiated_by=close_initiator(reason),
            rationale=required(rationale, "rationale"),
            **decided(decided_by, origin),
        )

    @event(Closed)
    def _closed(self, *, closed_on: date, reason: str, initiated_by: str) -> None:
        if self.terms is not None:
            self.terms.close(closed_on)
        self.closed_on = closed_on
        self.close_reason = reason
        self.close_initiated_by = initiated_by
        self.status = CLOSED

    # -- queries -------------------------------------------------------------------------------

    @property
    def start(self) -> date | None:
        return self.terms.start if self.terms else None

    @property
    def end(self) -> date | None:
        return self.terms.end if self.terms else None

    def pricing_on(self, on: date) -> dict[str, Any] | None:
        """The agreed terms in force on ``on``, clamped into the agreement's period."""
        if self.terms is None:
            return None
        when = min(max(on, self.terms.start), self.terms.end)
        rate = value_on(self.terms.rate, when)
        return {
            "kind": self.terms.kind,
            "hourly_rate": rate if self.terms.kind == HOURLY else None,
            "hours_per_week": value_on(self.terms.hours, when),
            "daily_rate": rate if self.terms.kind == DAILY else None,
            "package": self.package,
        }

    def monthly_commitments(self) -> dict[str, Decimal]:
        """Committed spend per month, per docs/domain.md."""
        return monthly_commitments(self.terms) if self.terms else {}

    def committed_total(self) -> Decimal:
        return committed_total(self.terms) if self.terms else Decimal("0.00")
