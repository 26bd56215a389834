"""Response bodies (the API's answers as the OpenAPI document describes them)."""

from __future__ import annotations

from typing import Literal, NotRequired

from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from api.fields import DayText, InstantText, MonthText
from domain.referral import Status

# The shapes below that omit a key rather than send null (an actor without a name, a contact without
# a phone) are TypedDicts: a model would add the missing key as null when FastAPI serializes it. Field
# order follows the order in which application/views.py and the projections build each dict, as the
# response model's order is the order sent.


class ValidationErrorOut(BaseModel):
    """One refused field: where (``["body", "start"]``, ``["query", "page"]``, ``["header", ...]``)."""

    loc: list[str]
    msg: str


class ProblemOut(BaseModel):
    """An RFC 9457 problem."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[ValidationErrorOut] | None = None


class ActorOut(TypedDict):
    """Who decided: an id from the municipality's directory, and a display name when given."""

    id: str
    name: NotRequired[str]


class SourceOut(TypedDict, total=False):
    """Where an integrated event came from: the case system and its own event id (at least one)."""

    system: str
    event_id: str


class ContactOut(TypedDict, total=False):
    """A supplier's contact: only the fields given."""

    name: str
    email: str
    phone: str
    address: str


class PackageTermsOut(BaseModel):
    """The package of a package agreement."""

    name: str
    price: str = Field(examples=["42000.00"])


class RateOut(BaseModel):
    """A negotiated rate (DKK per hour or day)."""

    intervention: str
    unit: Literal["hour", "day"]
    rate: str = Field(examples=["850.00"])


class PackageOut(BaseModel):
    """A negotiated package: a price for a number of hours in all."""

    name: str
    intervention: str
    price: str = Field(examples=["42000.00"])
    hours: str = Field(examples=["60.00"])


class PriceListOut(BaseModel):
    """A price list as negotiated with one municipality."""

    municipality: str
    negotiated_on: DayText
    valid_from: DayText
    valid_to: DayText | None
    rates: list[RateOut]
    packages: list[PackageOut]
    note: str | None


class RateInForceOut(RateOut):
    """A rate in force, with the dates of the list it came from."""

    negotiated_on: DayText
    valid_from: DayText
    valid_to: DayText | None


class PackageInForceOut(PackageOut):
    """A package in force, with the dates of the list it came from."""

    negotiated_on: DayText
    valid_from: DayText
    valid_to: DayText | None


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


class PricingOut(BaseModel):
    kind: Literal["hourly", "daily", "package"]
    hourly_rate: str | None
    hours_per_week: str | None
    daily_rate: str | None
    package: PackageTermsOut | None


class ReferralOut(BaseModel):
    id: str
    version: int
    status: Status
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
    rates: list[RateInForceOut]
    packages: list[PackageInForceOut]


class SupplierOut(BaseModel):
    id: str
    version: int
    name: str
    cvr: str
    contact: ContactOut
    target_groups: list[str]
    competencies: list[str]
    education_levels: list[str]
    capacity_hours_per_week: str | None = Field(
        description="Face-to-face hours a week the supplier says it can take on (advisory); null: not stated."
    )
    prices_in_force: list[PricesInForceOut]
    price_lists: list[PriceListOut]
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


class BasisOut(TypedDict):
    """What a report answer was computed from (docs/knowledge-time.md)."""

    position: int
    chain_head: str | None
    known_at: NotRequired[InstantText]
    read_model_version: int


class ReferralPageOut(BaseModel):
    items: list[ReferralListItemOut]
    page: int
    page_size: int
    total: int
    basis: BasisOut


# -- audit -------------------------------------------------------------------------------------------


# -- reports ---------------------------------------------------------------------------------------


class SupplierOverviewOut(BaseModel):
    """One supplier's row of ``GET /reports/suppliers``."""

    supplier_id: str
    name: str
    cvr: str
    contact: ContactOut
    price_lists: list[PricesInForceOut]
    active_referrals: int
    total_referrals: int
    active_hours_per_week: str | None
    committed_total: str | None
    committed_current_year: str | None


class SupplierReportOut(SupplierOverviewOut):
    """``GET /reports/suppliers/{id}``: the overview row and the supplier's referrals by status."""

    referrals_by_status: dict[str, int]
    basis: BasisOut


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
    basis: BasisOut


class ChangeEventOut(BaseModel):
    """A referral event recorded between the two knowledge times."""

    position: int
    version: int
    type: str
    recorded_at: InstantText


class SpendingChangeOut(BaseModel):
    """One month and referral whose committed amount changed after the fact."""

    month: MonthText
    referral_id: str
    before: str
    after: str
    difference: str
    events: list[ChangeEventOut]


class SpendingChangesOut(BaseModel):
    """``GET /reports/spending/changes``: the changed months per referral; ``before`` is the basis
    as known at ``since``, ``basis`` as known at ``until``."""

    before: BasisOut
    items: list[SpendingChangeOut]
    basis: BasisOut


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
    own_cost: str | None = None  # the reported municipality's own cost in force, if one is recorded


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
