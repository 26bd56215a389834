"""Response bodies of the practice reports (``GET /reports/practice``, ``GET /reports/price-exceptions``
and ``GET /reports/price-lists``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.fields import DayText, MonthText
from api.responses import BasisOut


class DeciderOut(BaseModel):
    id: str | None
    name: str | None


class PriceExceptionOut(BaseModel):
    """One price agreement or rate adjustment above the list rate in force on its start (an
    adjustment: its ``effective_from``)."""

    referral_id: str
    type: Literal["referral.price_agreed", "referral.adjusted"]
    municipality: str
    supplier_id: str | None
    supplier_name: str | None
    intervention: str
    unit: str | None
    agreed: str = Field(description="The agreed (or adjusted) rate, DKK with two decimals.")
    list_rate: str = Field(description="The list rate in force it was compared with.")
    difference_pct: str = Field(
        description="(agreed − list) / list in per cent, one decimal, rounded half up.", examples=["5.9"]
    )
    list_negotiated_on: DayText | None
    list_age_days: int | None = Field(description="Days from the list's negotiation to the decision.")
    rationale: str | None
    decided_on: DayText | None
    rate_from: DayText | None = Field(description="An adjustment's effective_from (null for an agreement).")
    actor: DeciderOut


class PriceExceptionPageOut(BaseModel):
    items: list[PriceExceptionOut]
    page: int
    page_size: int
    total: int
    basis: BasisOut


class StaleListOut(BaseModel):
    """A supplier's price list in force today for a municipality, negotiated before the cut-off."""

    supplier_id: str
    supplier_name: str | None
    municipality: str
    negotiated_on: DayText
    valid_from: DayText
    valid_to: DayText | None
    age_days: int
    interventions: list[str] = Field(description="The interventions whose rates in force come from it.")


class MissingListOut(BaseModel):
    """A supplier with active referrals in an intervention that no list in force today covers."""

    supplier_id: str
    supplier_name: str | None
    municipality: str
    intervention: str
    active_referrals: int


class PriceListReportOut(BaseModel):
    today: DayText = Field(description="Today in Europe/Copenhagen, the day the lists are judged on.")
    negotiated_before: DayText = Field(description="Lists negotiated before this day are reported.")
    stale: list[StaleListOut]
    missing: list[MissingListOut]
    basis: BasisOut


class LeadTimeOut(BaseModel):
    """Calendar days between two business dates of the group's referrals (nearest-rank percentiles)."""

    median: int | None = Field(description="Null when no referral of the group has reached the step.")
    p90: int | None


class PracticeGroupOut(BaseModel):
    """The procurement practice of the referrals referred in one group (docs/api.md)."""

    key: str | None = Field(
        default=None,
        description="Only when grouped (``by``): the month, intervention, supplier id (null: not matched) "
        "or legal basis.",
    )
    name: str | None = Field(
        default=None,
        description="Only when grouped by intervention, supplier or legal basis: the name a person reads.",
    )
    referred: int = Field(description="Referrals referred in the group (the month of their referred_on).")
    matched: int = Field(description="Of those, matched at least once.")
    agreed: int = Field(description="Of those, with a price agreed.")
    closed: int = Field(description="Of those, closed.")
    referred_to_matched: LeadTimeOut
    matched_to_agreed: LeadTimeOut
    agreed_to_start: LeadTimeOut = Field(description="Negative when the start lies before the agreement.")
    rematched_share: str | None = Field(
        description="Matched referrals matched more than once, of the matched; three decimals.",
        examples=["0.125"],
    )
    extended_share: str | None = Field(description="Agreed referrals extended at least once, of the agreed.")
    mean_extension_days: str | None = Field(
        description="Mean days an extension added (new_end − previous end), one decimal.", examples=["30.5"]
    )
    adjustments_per_referral: str | None = Field(
        description="Adjustments of the agreed referrals per agreed referral, two decimals."
    )
    above_list_share: str | None = Field(
        description="Agreed referrals whose agreed or an adjusted rate was above the list rate in force, "
        "of the agreed; three decimals."
    )
    close_reasons: dict[str, int] = Field(description="The closed referrals by close reason.")


class PracticeReportOut(BaseModel):
    from_month: MonthText = Field(alias="from")
    to_month: MonthText = Field(alias="to")
    by: Literal["month", "intervention", "supplier", "legal_basis"] | None
    weekly_intake: dict[str, int] = Field(
        description="Referrals referred per ISO week (``2026-W03``) of their referred_on, every week with "
        "a day in the period, in order (0 for none); the first and last week count only their days in "
        "the period. For the whole period, whatever ``by``.",
        examples=[{"2026-W01": 12, "2026-W02": 17}],
    )
    groups: list[PracticeGroupOut]
    basis: BasisOut
