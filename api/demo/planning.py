"""What the demo generator plans with: its proportions, the plans of suppliers and referrals, the
scheduled actions, date and money arithmetic, and the state the planners share."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from api.demo.vocabulary_profiles import Profile
from application.service.caseledger import CaseLedger
from application.service.commands import COMMANDS
from application.service.context import WriteContext
from domain.reference import Reference, load_reference
from domain.supplier import Supplier

CENT = Decimal("0.01")
ONE_DAY = timedelta(days=1)

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


@dataclass
class SupplierPlan:
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
class Case:
    """One referral as the generator plans it, and the amounts fixed when its steps run."""

    id: UUID
    intervention: str
    unit: str
    worker: dict[str, str]
    supplier: SupplierPlan | None = None
    kind: str | None = None
    rate: Decimal | None = None
    package_price: Decimal | None = None
    status: str = "referred"


@dataclass(order=True)
class Action:
    key: tuple[date, int, int]
    run: Callable[[], None] = field(compare=False)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def first_of_next_month(day: date) -> date:
    return add_months(day.replace(day=1), 1)


class Planner:
    """The generator's state and scheduling, shared by the supplier, referral and follow-up planners."""

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
        self.actions: list[Action] = []
        self.sequence = 0
        self.suppliers: list[SupplierPlan] = []
        self.current: dict[UUID, Supplier] = {}
        self.cases: list[Case] = []
        self.counts = {
            "suppliers": 0,
            "price_lists": 0,
            "rematches": 0,
            "agreed": 0,
            "extended": 0,
            "adjusted": 0,
        }

    # -- scheduling ------------------------------------------------------------------------------------

    def _command(
        self, command: str, target: UUID | None, actor: Mapping[str, str | None], **arguments: Any
    ) -> None:
        """Run ``command`` (``application.service.commands``) as a case system's request would."""
        self.app.writes.execute(COMMANDS[command], target, arguments, actor=actor, context=WriteContext())

    def _at(self, day: date, phase: int, run: Callable[[], None]) -> None:
        """Schedule ``run`` on the business date ``day``; same-day actions keep the order planned."""
        self.sequence += 1
        self.actions.append(Action((day, phase, self.sequence), run))

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
