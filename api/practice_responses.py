"""Response bodies of the pricing-practice reports (``GET /reports/price-exceptions`` and
``GET /reports/price-lists``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.fields import DayText


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
