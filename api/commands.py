"""Each write command once: its body model and how it calls the application.

Both the per-resource routes and batch ingestion (``POST /events``) run commands from here, so a
batch item and the equivalent single request behave identically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from api.schemas import (
    ActorIn,
    AdjustmentIn,
    Body,
    ClosureIn,
    ExtensionIn,
    MatchIn,
    PriceAgreementIn,
    PriceListIn,
    ReferralIn,
    SupplierDetailsIn,
    SupplierIn,
)
from application.caseledger import CaseLedger
from application.context import WriteContext, WriteResult
from domain.errors import InvalidInput

UNATTRIBUTED = {"id": "unattributed"}


def _actor(actor: ActorIn | None) -> dict[str, str | None]:
    return actor.model_dump() if actor else dict(UNATTRIBUTED)


def _new_id(target: UUID | None, body_id: UUID | None) -> UUID | None:
    if target is not None and body_id is not None and target != body_id:
        msg = f"the item's id {target} and the body's id {body_id} differ"
        raise InvalidInput("id-mismatch", msg, field="id")
    return target or body_id


def _existing(target: UUID | None) -> UUID:
    if target is None:
        raise InvalidInput("id-required", "this event type needs the id of an existing aggregate", field="id")
    return target


def register_supplier(
    ledger: CaseLedger, target: UUID | None, body: SupplierIn, ctx: WriteContext
) -> WriteResult:
    return ledger.register_supplier(
        supplier_id=_new_id(target, body.id),
        name=body.name,
        cvr=body.cvr,
        contact=body.contact.model_dump(),
        target_groups=body.target_groups,
        competencies=body.competencies,
        education_levels=body.education_levels,
        actor=_actor(body.actor),
        context=ctx,
    )


def update_supplier_details(
    ledger: CaseLedger, target: UUID | None, body: SupplierDetailsIn, ctx: WriteContext
) -> WriteResult:
    changes: dict[str, Any] = body.model_dump(exclude_unset=True, exclude={"actor"})
    if "contact" in changes and changes["contact"] is None:
        changes["contact"] = {}
    for labels in ("target_groups", "competencies", "education_levels"):
        if labels in changes and changes[labels] is None:
            changes[labels] = []
    if "name" in changes and changes["name"] is None:
        raise InvalidInput("blank-text", "name cannot be removed; send the new name", field="name")
    return ledger.update_supplier_details(
        _existing(target), changes=changes, actor=_actor(body.actor), context=ctx
    )


def negotiate_price_list(
    ledger: CaseLedger, target: UUID | None, body: PriceListIn, ctx: WriteContext
) -> WriteResult:
    return ledger.negotiate_price_list(
        _existing(target),
        municipality=body.municipality,
        negotiated_on=body.negotiated_on,
        valid_from=body.valid_from,
        valid_to=body.valid_to,
        rates=[rate.model_dump() for rate in body.rates],
        packages=[package.model_dump() for package in body.packages],
        note=body.note,
        actor=_actor(body.actor),
        context=ctx,
    )


def refer(ledger: CaseLedger, target: UUID | None, body: ReferralIn, ctx: WriteContext) -> WriteResult:
    return ledger.refer(
        referral_id=_new_id(target, body.id),
        municipality=body.municipality,
        citizen_ref=body.citizen_ref,
        case_ref=body.case_ref,
        legal_basis=body.legal_basis,
        intervention=body.intervention,
        purpose=body.purpose,
        requested_hours_per_week=body.requested_hours_per_week,
        requested_start=body.requested_start,
        expected_end=body.expected_end,
        referred_on=body.referred_on,
        actor=_actor(body.actor),
        context=ctx,
    )


def match_supplier(ledger: CaseLedger, target: UUID | None, body: MatchIn, ctx: WriteContext) -> WriteResult:
    return ledger.match_supplier(
        _existing(target),
        supplier_id=body.supplier_id,
        rationale=body.rationale,
        criteria=body.criteria,
        candidates=[candidate.model_dump() for candidate in body.candidates],
        matched_on=body.matched_on,
        actor=_actor(body.actor),
        context=ctx,
    )


def agree_price(
    ledger: CaseLedger, target: UUID | None, body: PriceAgreementIn, ctx: WriteContext
) -> WriteResult:
    return ledger.agree_price(
        _existing(target),
        hourly_rate=body.hourly_rate,
        hours_per_week=body.hours_per_week,
        daily_rate=body.daily_rate,
        package_name=body.package.name if body.package else None,
        package_price=body.package.price if body.package else None,
        start=body.start,
        end=body.end,
        agreed_on=body.agreed_on,
        rationale=body.rationale,
        actor=_actor(body.actor),
        context=ctx,
    )


def extend_referral(
    ledger: CaseLedger, target: UUID | None, body: ExtensionIn, ctx: WriteContext
) -> WriteResult:
    return ledger.extend_referral(
        _existing(target),
        new_end=body.new_end,
        hours_per_week=body.hours_per_week,
        package_price=body.package_price,
        rationale=body.rationale,
        decided_on=body.decided_on,
        actor=_actor(body.actor),
        context=ctx,
    )


def adjust_referral(
    ledger: CaseLedger, target: UUID | None, body: AdjustmentIn, ctx: WriteContext
) -> WriteResult:
    return ledger.adjust_referral(
        _existing(target),
        effective_from=body.effective_from,
        hours_per_week=body.hours_per_week,
        hourly_rate=body.hourly_rate,
        daily_rate=body.daily_rate,
        rationale=body.rationale,
        decided_on=body.decided_on,
        actor=_actor(body.actor),
        context=ctx,
    )


def close_referral(
    ledger: CaseLedger, target: UUID | None, body: ClosureIn, ctx: WriteContext
) -> WriteResult:
    return ledger.close_referral(
        _existing(target),
        closed_on=body.closed_on,
        reason=body.reason,
        rationale=body.rationale,
        actor=_actor(body.actor),
        context=ctx,
    )


@dataclass(frozen=True)
class Command:
    """A write command as batch ingestion sees it."""

    body: type[Body]
    target: str  # "referral_id" or "supplier_id"
    run: Callable[[CaseLedger, UUID | None, Any, WriteContext], WriteResult]


COMMANDS: dict[str, Command] = {
    "supplier.registered": Command(SupplierIn, "supplier_id", register_supplier),
    "supplier.details_updated": Command(SupplierDetailsIn, "supplier_id", update_supplier_details),
    "supplier.price_list_negotiated": Command(PriceListIn, "supplier_id", negotiate_price_list),
    "referral.referred": Command(ReferralIn, "referral_id", refer),
    "referral.matched": Command(MatchIn, "referral_id", match_supplier),
    "referral.price_agreed": Command(PriceAgreementIn, "referral_id", agree_price),
    "referral.extended": Command(ExtensionIn, "referral_id", extend_referral),
    "referral.adjusted": Command(AdjustmentIn, "referral_id", adjust_referral),
    "referral.closed": Command(ClosureIn, "referral_id", close_referral),
}
