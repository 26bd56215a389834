"""Response bodies of the auditor's endpoints: integrity, trails, the access log, decisions, erasures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from api.event_data import by_type
from api.fields import DayText, InstantText
from api.responses import ActorOut, BasisOut, SourceOut
from domain.referral import Referral


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


# A TypedDict, as ``from`` is a keyword: a model's alias would need ``by_alias`` wherever it is
# dumped (``caseledger audit trail --json`` dumps TrailOut without it).
ChangeOut = TypedDict("ChangeOut", {"from": str | None, "to": str | None})
ChangeOut.__doc__ = 'One fact a decision changed (money and hours as ``"850.00"``, dates ISO; null: not set).'


class DecisionActorOut(BaseModel):
    """Who decided, as the decision log keeps it (``name`` null when none was given)."""

    id: str
    name: str | None


class ReceiptOut(BaseModel):
    """``GET /audit/receipt``: the global chain's head, signed (Ed25519) by the server's receipt key.
    The signature covers the canonical JSON (keys sorted, no spaces, UTF-8) of the other fields."""

    position: int = Field(description="The position of the head (the newest event covered).")
    chain_head: str = Field(description="The global hash at that position (64 hex digits).")
    recorded_at: InstantText | None = Field(
        description="When the event at that position was recorded (null: no event yet)."
    )
    issued_at: InstantText
    key_id: str = Field(description="The first 16 hex digits of sha256 of the raw public key.")
    signature: str = Field(description="The Ed25519 signature, base64.")


class PublicKeyOut(BaseModel):
    """``GET /audit/public-key``: the key receipts are checked with."""

    key_id: str
    public_key: str = Field(description="The raw 32-byte Ed25519 public key, base64.")


class UnreadTrailEntryOut(BaseModel):
    """A trail entry whose stored bytes could not be read as an event: its type as stored, no
    ``data`` and no ``changes``; ``integrity`` says why. Every other entry is typed by its ``type``."""

    version: int
    type: str
    recorded_at: InstantText | None
    effective_date: DayText | None
    actor: ActorOut | None
    rationale: str | None
    source: SourceOut | None = None
    data: None
    changes: dict[str, ChangeOut] | None = Field(
        description="What the decision changed: ``{field: {from, to}}``."
    )
    integrity: str = Field(description='"ok", or the problems found at this version.')


if TYPE_CHECKING:
    TrailEntryOut = UnreadTrailEntryOut
else:
    TrailEntryOut = by_type(
        UnreadTrailEntryOut,
        "TrailEntryOut",
        doc="One decision of a referral's trail.",
        aggregate=Referral,
        unread=True,
    )


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
    query: dict[str, str | None] | None = Field(
        description="The query's parameters (a `citizen_ref` is never stored: `[redacted]`)."
    )
    status: int = Field(description="The HTTP status answered.")
    format: str = Field(description="`json`, `csv`, `html` for a dashboard page, or `xlsx` for its workbook.")


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
    actor: DecisionActorOut
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
    basis: BasisOut


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
