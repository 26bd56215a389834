"""Request and response bodies (docs/api.md). Unknown fields are refused everywhere."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from api.fields import (
    Code,
    Cvr,
    Day,
    EventId,
    Hours,
    LongText,
    Money,
    Municipality,
    ShortText,
)
from application.service.commands import COMMANDS
from domain.errors import InvalidInput
from domain.referral import CLOSE_REASONS


class Body(BaseModel):
    """Base of every request body: unknown fields are an error, not ignored."""

    model_config = ConfigDict(extra="forbid")

    def arguments(self) -> dict[str, Any]:
        """The command's arguments from this body: its fields but the id and the actor, which the
        write path takes on their own."""
        return self.model_dump(exclude={"id", "actor"})


class ActorIn(Body):
    """Who decided."""

    id: ShortText
    name: ShortText | None = None


# -- suppliers ---------------------------------------------------------------------------------------


class ContactIn(Body):
    name: ShortText | None = None
    email: ShortText | None = None
    phone: ShortText | None = None
    address: LongText | None = None


class SupplierIn(Body):
    """``POST /suppliers``."""

    id: UUID | None = None
    name: ShortText
    cvr: Cvr
    contact: ContactIn = Field(default_factory=ContactIn)
    target_groups: list[ShortText] = Field(default_factory=list, max_length=100)
    competencies: list[ShortText] = Field(default_factory=list, max_length=100)
    education_levels: list[ShortText] = Field(default_factory=list, max_length=100)
    actor: ActorIn | None = None


class SupplierDetailsIn(Body):
    """``POST /suppliers/{id}/details``: any registered field but ``cvr``."""

    name: ShortText | None = None
    contact: ContactIn | None = Field(
        default=None, description="Replaces the whole contact: send every field you want to keep."
    )
    target_groups: list[ShortText] | None = Field(default=None, max_length=100)
    competencies: list[ShortText] | None = Field(default=None, max_length=100)
    education_levels: list[ShortText] | None = Field(default=None, max_length=100)
    capacity_hours_per_week: Hours | None = Field(
        default=None,
        description="Face-to-face hours a week the supplier can take on (advisory); null removes it.",
    )
    actor: ActorIn | None = None

    def arguments(self) -> dict[str, Any]:
        """The fields sent, as ``changes``; a list or the contact sent as null is emptied, a capacity
        sent as null is removed."""
        changes: dict[str, Any] = self.model_dump(exclude_unset=True, exclude={"actor"})
        if "contact" in changes and changes["contact"] is None:
            changes["contact"] = {}
        for labels in ("target_groups", "competencies", "education_levels"):
            if labels in changes and changes[labels] is None:
                changes[labels] = []
        if "name" in changes and changes["name"] is None:
            raise InvalidInput("blank-text", "name cannot be removed; send the new name", field="name")
        return {"changes": changes}


class RateIn(Body):
    intervention: Code
    unit: Literal["hour", "day"]
    rate: Money


class PackageIn(Body):
    name: ShortText
    intervention: Code
    price: Money
    hours: Hours


class PriceListIn(Body):
    """``POST /suppliers/{id}/price-lists``."""

    municipality: Municipality
    negotiated_on: Day
    valid_from: Day
    valid_to: Day | None = None
    rates: list[RateIn] = Field(default_factory=list, max_length=500)
    packages: list[PackageIn] = Field(default_factory=list, max_length=500)
    actor: ActorIn | None = Field(default=None, description="Without it, the token's name is recorded.")
    note: LongText | None = None


# -- referrals ---------------------------------------------------------------------------------------


class ReferralIn(Body):
    """``POST /referrals``."""

    id: UUID | None = None
    municipality: Municipality
    citizen_ref: ShortText
    case_ref: ShortText | None = None
    legal_basis: Code
    intervention: Code
    purpose: LongText
    requested_hours_per_week: Hours | None = None
    requested_start: Day
    expected_end: Day
    referred_on: Day
    actor: ActorIn


class CandidateIn(Body):
    supplier_id: UUID
    hourly_rate: Money | None = None
    reason: LongText


class MatchIn(Body):
    """``POST /referrals/{id}/match``."""

    supplier_id: UUID
    rationale: LongText
    criteria: list[LongText] = Field(default_factory=list, max_length=50)
    candidates: list[CandidateIn] = Field(default_factory=list, max_length=50)
    matched_on: Day
    actor: ActorIn


class PackageTermsIn(Body):
    name: ShortText
    price: Money


class _AgreementPeriod(Body):
    start: Day
    end: Day
    agreed_on: Day
    actor: ActorIn
    rationale: LongText | None = None


class HourlyPriceAgreementIn(_AgreementPeriod):
    """Hourly terms: a rate per face-to-face hour and the hours per week."""

    hourly_rate: Money
    hours_per_week: Hours


class DailyPriceAgreementIn(_AgreementPeriod):
    """Daily terms: a rate per calendar day."""

    daily_rate: Money


class PackagePriceAgreementIn(_AgreementPeriod):
    """Package terms: one named package at a fixed price for the whole period."""

    package: PackageTermsIn


AGREEMENT_FORMS = (HourlyPriceAgreementIn, DailyPriceAgreementIn, PackagePriceAgreementIn)


class PriceAgreementIn(Body):
    """``POST /referrals/{id}/price-agreement``: one of hourly, daily or package terms.

    The document describes it as ``oneOf`` the three forms (``api.openapi``): what a valid request
    is. The server takes the fields side by side and answers a request with none or two of the
    forms, or half of one, with the domain's own 422 (``one-pricing-required``,
    ``incomplete-…-pricing``).
    The fields' order here is part of a batch item's fingerprint: keep it."""

    hourly_rate: Money | None = None
    hours_per_week: Hours | None = None
    daily_rate: Money | None = None
    package: PackageTermsIn | None = None
    start: Day
    end: Day
    agreed_on: Day
    actor: ActorIn
    rationale: LongText | None = None

    def arguments(self) -> dict[str, Any]:
        arguments = self.model_dump(exclude={"actor", "package"})
        arguments["package_name"] = self.package.name if self.package else None
        arguments["package_price"] = self.package.price if self.package else None
        return arguments


class ExtensionIn(Body):
    """``POST /referrals/{id}/extension``."""

    new_end: Day
    hours_per_week: Hours | None = None
    package_price: Money | None = None
    rationale: LongText
    decided_on: Day
    actor: ActorIn


class AdjustmentIn(Body):
    """``POST /referrals/{id}/adjustment``."""

    effective_from: Day
    hours_per_week: Hours | None = None
    hourly_rate: Money | None = None
    daily_rate: Money | None = None
    rationale: LongText
    decided_on: Day
    actor: ActorIn


if TYPE_CHECKING:  # the checker sees text; pydantic and the OpenAPI document see the enumeration
    CloseReason = str
    EventType = str
else:
    CloseReason = Literal[CLOSE_REASONS]
    EventType = Literal[tuple(COMMANDS)]


class ClosureIn(Body):
    """``POST /referrals/{id}/closure``."""

    closed_on: Day
    reason: CloseReason
    rationale: LongText
    actor: ActorIn


# -- batch ingestion ---------------------------------------------------------------------------------


class BatchItemIn(Body):
    """One item of ``POST /events``; ``data`` is the body of the matching command."""

    event_id: EventId
    type: EventType
    referral_id: UUID | None = None
    supplier_id: UUID | None = None
    expected_version: int | None = Field(default=None, ge=1)
    data: dict[str, Any]


class BatchIn(BaseModel):
    """``POST /events``. Items are checked and applied one by one, in order."""

    model_config = ConfigDict(extra="forbid")

    # Bounded by CASELEDGER_MAX_BATCH_ITEMS (checked by the route, and the document's maxItems).
    events: list[Any]
    source_system: ShortText | None = None


# -- personal data -----------------------------------------------------------------------------------


class ErasureIn(Body):
    """``POST /admin/erasures``: whose personal data to erase (in the body, never in a URL), held by
    which municipality, and why.

    The reason is kept with the erasure record: it must not contain the ``citizen_ref``."""

    citizen_ref: ShortText
    reason: LongText
    municipality: Municipality | None = Field(
        None,
        description="The municipality whose data of the citizen is erased: the token's own by default; "
        "required with an admin token for every municipality ('*').",
    )
