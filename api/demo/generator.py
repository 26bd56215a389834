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

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from api.demo.referrals import ReferralPlanner
from api.demo.suppliers import SupplierPlanner
from application.service.caseledger import CaseLedger
from domain.referral import ACTIVE, CLOSED, MATCHED, REFERRED, STATUSES


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
        return {status: getattr(self, status) for status in (REFERRED, MATCHED, ACTIVE, CLOSED)}


class Generator(SupplierPlanner, ReferralPlanner):
    """Plans every action first, then runs them in business-date order through the application."""

    def run(self, progress: Callable[[int, int], None] | None) -> DemoSummary:
        before = self.app.last_position()
        actions = sorted(self.actions)
        total = len(actions)
        for done, action in enumerate(actions, start=1):
            action.run()
            if progress is not None:
                progress(done, total)
        statuses = {status: 0 for status in STATUSES}
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
    generator = Generator(
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
