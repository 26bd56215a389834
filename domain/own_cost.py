"""The OwnCosts aggregate: what one municipality would pay to deliver an intervention itself.

One aggregate per municipality, its id derived from the kommunekode (``OwnCosts.id_for``), so a
write finds it without a look-up and the first record starts it. Each record is an own cost per
unit of an intervention from a date. It is reference for price negotiation only: nothing in
spending reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain import money
from domain.errors import InvalidInput, RuleViolation
from domain.reference import load_reference
from domain.text import reject_cpr_in, required
from domain.values import Actor, Source, day, decided

UNITS = ("hour", "day")
PACKAGE_UNIT = "hour"
"""A municipality delivering a package intervention itself pays its staff by the hour."""
_NAMESPACE = uuid5(NAMESPACE_URL, "caseledger:own-costs")


def municipality_in_reference(code: str, field: str = "municipality") -> str:
    """One of the 98 municipalities of the reference data."""
    if code not in load_reference().municipalities:
        msg = f"{field} {code!r} is not one of the municipalities' codes"
        raise InvalidInput("unknown-municipality", msg, field=field)
    return code


def fitting_unit(intervention: str, unit: str) -> str:
    """``unit`` when it is the unit the intervention is delivered in (an hour for a package one)."""
    usual = load_reference().intervention(intervention).unit
    fits = PACKAGE_UNIT if usual not in UNITS else usual
    if unit != fits:
        msg = f"an own cost of {intervention!r} is per {fits}, not per {unit!r}"
        raise InvalidInput("unit-does-not-fit", msg, field="unit")
    return unit


@dataclass(frozen=True)
class OwnCost:
    """One recorded own cost, with the version of the aggregate that recorded it."""

    intervention: str
    unit: str
    rate: Decimal
    valid_from: date
    rationale: str
    actor: Actor
    version: int


class OwnCosts(Aggregate):
    """A municipality's own costs, every one ever recorded (a correction is a new record)."""

    TOPIC = "own_cost"

    class Created(Aggregate.Created):
        TOPIC = "own_cost.created"

    class Started(Aggregate.Created):
        TOPIC = "own_cost.started"
        municipality: str

    class Recorded(Aggregate.Event):
        TOPIC = "own_cost.recorded"
        municipality: str
        intervention: str
        unit: str
        rate: Decimal
        valid_from: date
        rationale: str
        actor: Actor
        source: Source | None

    @staticmethod
    def id_for(municipality_code: str) -> UUID:
        """The id of the municipality's own costs: the same in every process and store."""
        return uuid5(_NAMESPACE, municipality_code)

    @classmethod
    def start(cls, own_costs_id: UUID, municipality_code: str) -> OwnCosts:
        """The own costs of a municipality before its first record (saved only with that record)."""
        code = municipality_in_reference(municipality_code)
        if own_costs_id != cls.id_for(code):
            msg = f"{own_costs_id} is not the id of municipality {code}'s own costs"
            raise InvalidInput("id-mismatch", msg, field="id")
        return cls._create(cls.Started, id=own_costs_id, municipality=code)

    @event(Started)
    def __init__(self, *, municipality: str) -> None:
        self.municipality = municipality
        self.records: list[OwnCost] = []

    # -- recording -----------------------------------------------------------------------------

    def record(
        self,
        *,
        municipality_code: str,
        intervention: str,
        unit: str,
        rate: Decimal | int | str,
        valid_from: date,
        rationale: str,
        decided_by: Mapping[str, str | None],
        origin: Mapping[str, str | None] | None = None,
    ) -> None:
        """Record what the intervention costs the municipality per unit from ``valid_from``. A record
        for an intervention, unit and date already recorded replaces it (a correction), unless it
        says the same rate."""
        if municipality_code != self.municipality:
            msg = f"these are municipality {self.municipality}'s own costs, not {municipality_code}'s"
            raise InvalidInput("municipality-mismatch", msg, field="municipality")
        reject_cpr_in({"rationale": rationale, "actor": decided_by})
        code = load_reference().intervention(intervention).code
        unit = fitting_unit(code, unit)
        amount = money.rate(rate, "rate")
        day(valid_from, "valid_from")
        if (earlier := self.recorded(code, unit, valid_from)) is not None and earlier.rate == amount:
            msg = (
                f"the own cost of {code} per {unit} from {valid_from.isoformat()} is already "
                f"{amount} (version {earlier.version}); a correction names another rate"
            )
            raise RuleViolation("own-cost-unchanged", msg, field="rate")
        self.trigger_event(
            self.Recorded,
            municipality=self.municipality,
            intervention=code,
            unit=unit,
            rate=amount,
            valid_from=valid_from,
            rationale=required(rationale, "rationale"),
            **decided(decided_by, origin),
        )

    @event(Recorded)
    def _recorded(
        self,
        *,
        intervention: str,
        unit: str,
        rate: Decimal,
        valid_from: date,
        rationale: str,
        actor: Actor,
    ) -> None:
        self.records.append(
            OwnCost(intervention, unit, rate, valid_from, rationale, actor, version=self.version + 1)
        )

    # -- queries -------------------------------------------------------------------------------

    def recorded(self, intervention: str, unit: str, valid_from: date) -> OwnCost | None:
        """The record in force for exactly this intervention, unit and date (the latest made)."""
        found = None
        for record in self.records:
            if (record.intervention, record.unit, record.valid_from) == (intervention, unit, valid_from):
                found = record
        return found

    def in_force(self, on: date) -> list[OwnCost]:
        """Per intervention and unit, the own cost in force on ``on``: the latest ``valid_from`` not
        after it, of those the latest recorded. Sorted by intervention and unit."""
        current: dict[tuple[str, str], OwnCost] = {}
        for record in self.records:
            key = (record.intervention, record.unit)
            if record.valid_from <= on and (
                key not in current or record.valid_from >= current[key].valid_from
            ):
                current[key] = record
        return [current[key] for key in sorted(current)]

    def replaced(self) -> set[int]:
        """The versions of records a later record for the same intervention, unit and date replaced."""
        latest: dict[tuple[str, str, date], int] = {}
        for record in self.records:
            latest[(record.intervention, record.unit, record.valid_from)] = record.version
        return {record.version for record in self.records} - set(latest.values())
