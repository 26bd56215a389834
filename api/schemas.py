"""Request and response bodies (API.md). Unknown fields are refused everywhere."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from api.fields import (
    Code,
    Cvr,
    Day,
    DayText,
    EventId,
    Hours,
    InstantText,
    LongText,
    Money,
    MonthText,
    Municipality,
    ShortText,
)
from application.commands import COMMANDS
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
    actor: ActorIn | None = None

    def arguments(self) -> dict[str, Any]:
        """The fields sent, as ``changes``; a list or the contact sent as null is emptied."""
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


class PriceAgreementIn(Body):
    """``POST /referrals/{id}/price-agreement``: one of hourly, daily or package terms."""

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


class ProblemOut(BaseModel):
    """An RFC 9457 problem."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None


class BatchResultOut(BaseModel):
    event_id: str | None
    status: Literal["accepted", "duplicate", "rejected"]
    id: str | None = None
    version: int | None = None
    position: int | None = None
    problem: ProblemOut | None = None


class BatchOut(BaseModel):
    results: list[BatchResultOut]


# -- answers -----------------------------------------------------------------------------------------


class WriteResultOut(BaseModel):
    """The answer to every successful write."""

    id: str
    version: int
    position: int = Field(description="Global position of the write's last event; use as min_position.")


class EventOut(BaseModel):
    version: int
    type: str
    recorded_at: InstantText
    actor: dict[str, Any] | None
    source: dict[str, Any] | None = None
    data: dict[str, Any]


class PricingOut(BaseModel):
    kind: Literal["hourly", "daily", "package"]
    hourly_rate: str | None
    hours_per_week: str | None
    daily_rate: str | None
    package: dict[str, Any] | None


class ReferralOut(BaseModel):
    id: str
    version: int
    status: Literal["referred", "matched", "active", "closed"]
    municipality: str
    citizen_ref: str
    case_ref: str | None
    legal_basis: str
    intervention: str
    purpose: str
    requested_hours_per_week: str | None
    requested_start: DayText
    expected_end: DayText
    referred_on: DayText
    supplier_id: str | None
    previous_supplier_ids: list[str]
    pricing: PricingOut | None
    list_rate: str | None
    start: DayText | None
    end: DayText | None
    closed_on: DayText | None
    close_reason: str | None
    close_initiated_by: str | None = Field(
        None, description="Who ended the referral: municipality, citizen or supplier (from the reason)."
    )
    committed_total: str
    committed_by_month: dict[str, str]
    created_at: InstantText
    modified_at: InstantText


class PricesInForceOut(BaseModel):
    municipality: str
    rates: list[dict[str, Any]]
    packages: list[dict[str, Any]]


class SupplierOut(BaseModel):
    id: str
    version: int
    name: str
    cvr: str
    contact: dict[str, str]
    target_groups: list[str]
    competencies: list[str]
    education_levels: list[str]
    prices_in_force: list[PricesInForceOut]
    price_lists: list[dict[str, Any]]
    created_at: InstantText
    modified_at: InstantText


class ReferralListItemOut(BaseModel):
    id: str
    version: int
    status: str
    municipality: str
    citizen_ref: str
    case_ref: str | None
    legal_basis: str
    intervention: str
    supplier_id: str | None
    pricing_kind: str | None
    start: DayText | None
    end: DayText | None
    closed_on: DayText | None
    close_reason: str | None
    referred_on: DayText
    committed_total: str


class ReferralPageOut(BaseModel):
    items: list[ReferralListItemOut]
    page: int
    page_size: int
    total: int


# -- audit -------------------------------------------------------------------------------------------


class IntegrityProblemOut(BaseModel):
    stream_id: str
    version: int
    position: int | None
    problem: Literal["altered", "deleted", "missing", "moved", "not covered", "chain broken"]
    detail: str


class ChainHeadOut(BaseModel):
    """The newest link of the global chain: export it and keep it outside the database."""

    position: int
    global_hash: str
    computed_at: InstantText


class AnchorOut(BaseModel):
    """A chain head exported earlier (``expect=POSITION:HASH``) checked against the recomputed chain."""

    position: int
    expected_hash: str
    found_hash: str | None = Field(
        description="The recomputed global hash at that position (null: no such position)."
    )
    ok: bool


class VerificationOut(BaseModel):
    """``GET /audit/verify``: both hash chains recomputed over every stored event."""

    ok: bool
    checked: int = Field(description="Stored events checked (a scoped token: its own and the suppliers').")
    chained: int = Field(description="Chain rows checked (as `checked`).")
    problem_count: int = Field(description="All problems found (``problems`` lists the first 1000).")
    problems: list[IntegrityProblemOut]
    problems_elsewhere: int = Field(
        default=0,
        description="For a token scoped to one municipality: problems in streams outside it (another "
        "municipality's referrals, or a stream that can no longer be placed), counted but not named "
        "and not in `problem_count`; `ok` is false while there are any. Always 0 for `*`.",
    )
    head: ChainHeadOut
    anchor: AnchorOut | None = Field(
        default=None, description="Only with `expect`: the exported head checked against the chain."
    )


class TrailEntryOut(BaseModel):
    version: int
    type: str
    recorded_at: InstantText | None
    effective_date: DayText | None
    actor: dict[str, Any] | None
    rationale: str | None
    source: dict[str, Any] | None = None
    data: dict[str, Any] | None
    changes: dict[str, dict[str, Any]] | None = Field(
        description="What the decision changed: ``{field: {from, to}}``."
    )
    integrity: str = Field(description='"ok", or the problems found at this version.')


class TrailOut(BaseModel):
    """``GET /audit/referrals/{id}``: the decision trail and the integrity of its stream."""

    referral_id: str
    entries: list[TrailEntryOut]
    integrity: VerificationOut


class AccessEntryOut(BaseModel):
    """One read of referral-level data, or a denied attempt (``status`` 403 or 404)."""

    at: InstantText = Field(description="When (UTC, RFC 3339).")
    token: str = Field(description="The token's name (the actor).")
    role: str
    municipality: str = Field(
        description="The municipality of the data read: the referral's, or the query's (`*`: all)."
    )
    token_municipality: str = Field(description="The municipality the token covers (or `*`).")
    action: str = Field(description="e.g. `referral.read`, `audit.trail`, `referral.list`.")
    referral_id: str | None = Field(description="The referral read, for reads of one referral.")
    query: dict[str, Any] | None = Field(
        description="The query's parameters (a `citizen_ref` is never stored: `[redacted]`)."
    )
    status: int = Field(description="The HTTP status answered.")
    format: str = Field(description="`json`, `csv`, or `html` for a dashboard page.")


class AccessLogPageOut(BaseModel):
    """``GET /audit/access-log``: a page of entries, oldest first."""

    items: list[AccessEntryOut]
    page: int
    page_size: int
    total: int


class DecisionOut(BaseModel):
    """One decision of ``GET /audit/decisions``."""

    position: int
    referral_id: str
    version: int
    type: str
    recorded_at: InstantText | None
    effective_date: DayText | None
    actor: dict[str, Any]
    municipality: str | None
    supplier_id: str | None
    rationale: str | None
    above_list_rate: bool | None
    agreed_rate: str | None
    list_rate: str | None


class DecisionPageOut(BaseModel):
    items: list[DecisionOut]
    page: int
    page_size: int
    total: int


# -- feed ------------------------------------------------------------------------------------------


class FeedEventOut(BaseModel):
    """One stored event in global order (``GET /feed``)."""

    position: int
    stream_id: str
    stream_type: Literal["referral", "supplier"]
    version: int
    type: str
    recorded_at: InstantText
    actor: dict[str, Any] | None
    source: dict[str, Any] | None = None
    data: dict[str, Any]


# -- reports ---------------------------------------------------------------------------------------


class SupplierOverviewOut(BaseModel):
    """One supplier's row of ``GET /reports/suppliers``."""

    supplier_id: str
    name: str
    cvr: str
    contact: dict[str, Any]
    price_lists: list[PricesInForceOut]
    active_referrals: int
    total_referrals: int
    active_hours_per_week: str | None
    committed_total: str | None
    committed_current_year: str | None


class SupplierReportOut(SupplierOverviewOut):
    """``GET /reports/suppliers/{id}``: the overview row and the supplier's referrals by status."""

    referrals_by_status: dict[str, int]


class SpendingRowOut(BaseModel):
    month: MonthText
    key: str | None = Field(default=None, description="Only when grouped (``by``).")
    name: str | None = Field(
        default=None,
        description="Only when grouped: the supplier's name, the intervention's or legal basis's Danish "
        "name, or the municipality's name.",
    )
    amount: str | None


class SpendingOut(BaseModel):
    """``GET /reports/spending``: committed spend per month (and key), and the total."""

    rows: list[SpendingRowOut]
    total: str | None


class BenchmarkOut(BaseModel):
    """One intervention and unit of ``GET /reports/price-benchmarks``: agreed rates and list rates."""

    intervention: str
    unit: str
    agreements: int
    min: str | None
    p25: str | None
    median: str | None
    p75: str | None
    max: str | None
    list_rates: int
    list_min: str | None
    list_p25: str | None
    list_median: str | None
    list_p75: str | None
    list_max: str | None


# -- operations ------------------------------------------------------------------------------------


class HealthOut(BaseModel):
    status: Literal["ok"]


class StorageStateOut(BaseModel):
    ok: bool
    last_position: int | None = None
    kind: Literal["postgresql", "sqlite"] | None = Field(
        default=None, description="The kind of store in use (never where it is or its credentials)."
    )
    free_bytes: int | None = Field(
        default=None, description="SQLite: free space on the file system that holds the store."
    )
    error: str | None = None


class ProjectionStateOut(BaseModel):
    ok: bool
    position: int | None
    lag: int | None


class ReadinessOut(BaseModel):
    """``GET /readyz``: ready (200), or unavailable (503) with only the storage's state."""

    status: Literal["ready", "unavailable"]
    storage: StorageStateOut
    projections: ProjectionStateOut | None = None


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


class ErasureOut(BaseModel):
    """An erasure: the citizen's data key of the municipality is destroyed; the personal fields of the
    municipality's referrals for them read ``erased``."""

    erasure_id: str
    key_id: str = Field(description="The destroyed data key (as named in the sealed events).")
    referral_ids: list[str] = Field(
        description="The municipality's referrals for the citizen, whose personal fields now read erased."
    )
    erased_at: InstantText
    actor: str = Field(description="The token that erased.")
    reason: str
    already_erased: bool = Field(description="True when this citizen had been erased before (a repeat).")
    purged: bool = Field(
        description="True when the key's bytes are gone from the database files too (SQLite: the "
        "write-ahead log could be truncated; PostgreSQL: always)."
    )


class ErasureRecordOut(BaseModel):
    """A recorded erasure (no personal data)."""

    erasure_id: str
    key_id: str
    referral_ids: list[str]
    erased_at: InstantText
    actor: str
    reason: str
