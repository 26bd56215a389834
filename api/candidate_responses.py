"""Response body of ``GET /referrals/{id}/candidates``: the ranked suppliers, with their figures
and the reasons for their score."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.fields import DayText


class CandidateLabelsOut(BaseModel):
    matched: list[str] = Field(description="Asked for and offered by the supplier.")
    missing: list[str] = Field(description="Asked for and not offered.")


class CandidateFitOut(BaseModel):
    target_groups: CandidateLabelsOut
    competencies: CandidateLabelsOut
    education_levels: CandidateLabelsOut


class CandidatePackageOut(BaseModel):
    name: str
    price: str
    hours: str


class CandidatePriceOut(BaseModel):
    unit: str | None = Field(
        description="The rate's unit (`hour` or `day`); null when only a package is offered."
    )
    rate: str | None = Field(description="The list rate in force, DKK with two decimals.")
    package: CandidatePackageOut | None = Field(
        description="A package for the intervention in force, if any."
    )
    list_negotiated_on: DayText | None
    vs_median_pct: str | None = Field(
        description="(rate − median) / median in per cent, one decimal, half up; the median of the list "
        "rates in force in the municipality for the intervention and unit.",
        examples=["-5.9"],
    )


class CandidateLoadOut(BaseModel):
    active_referrals: int = Field(
        description="Active referrals (price agreed, not closed), every municipality."
    )
    active_hours_per_week: str = Field(description="Hours a week in force today in them.")
    capacity_hours_per_week: str | None = Field(description="The capacity the supplier states (advisory).")


class CandidateRecordOut(BaseModel):
    closed: int = Field(description="Referrals in the municipality that ended with the supplier.")
    goal_achieved_share: str = Field(examples=["0.75"])
    rematched_share: str = Field(examples=["0.25"])
    supplier_terminated_share: str = Field(examples=["0.00"])
    median_days: int | None = Field(description="Days the ended measures ran (lower median).")


class CandidateOut(BaseModel):
    supplier_id: str
    name: str
    cvr: str
    score: str = Field(description="0–100, one decimal (docs/decision-support.md).", examples=["72.5"])
    fit: CandidateFitOut
    price: CandidatePriceOut
    load: CandidateLoadOut
    record: CandidateRecordOut
    reasons: list[str] = Field(description="The score explained in words, part by part.")
