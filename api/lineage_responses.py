"""Response body of ``GET /reports/spending/lineage``: a spending cell and what makes it up."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.fields import DayText, InstantText
from api.responses import BasisOut


class LineageEventOut(BaseModel):
    """An event that changed the referral's committed amount in the month."""

    version: int
    type: str = Field(examples=["referral.adjusted"])
    business_date: DayText | None = Field(description="The decision's business date (e.g. effective_from).")
    recorded_at: InstantText
    change: str = Field(
        description="How much this event changed the month's amount when it was recorded (DKK, signed); "
        "the changes of a referral add up to its amount."
    )


class LineageReferralOut(BaseModel):
    """One referral's committed amount in the cell's month, and the events that moved it."""

    referral_id: str
    amount: str = Field(description="DKK with two decimals, rounded once per referral and month.")
    events: list[LineageEventOut]


class LineageOut(BaseModel):
    """The cell (the same amount `GET /reports/spending` shows for the month and key) and the
    referrals whose amounts add up to it, to the øre."""

    amount: str
    referrals: list[LineageReferralOut]
    basis: BasisOut
