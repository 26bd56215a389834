"""Each write command's request body, and running a command from a request or a batch item.

The commands are declared once, in ``application.commands``; here each is bound to the body a
client sends for it (``api.schemas``). The per-resource routes and batch ingestion (``POST
/events``) both call ``Command.run``, so a batch item and the equivalent single request behave
identically.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from api.own_cost_schemas import OwnCostItemIn
from api.schemas import (
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
from application.commands import COMMANDS as DECLARED
from application.commands import CommandType
from application.context import WriteContext, WriteResult
from domain.errors import InvalidInput

UNATTRIBUTED = {"id": "unattributed"}

BODIES: dict[str, type[Body]] = {
    "supplier.registered": SupplierIn,
    "supplier.details_updated": SupplierDetailsIn,
    "supplier.price_list_negotiated": PriceListIn,
    "referral.referred": ReferralIn,
    "referral.matched": MatchIn,
    "referral.price_agreed": PriceAgreementIn,
    "referral.extended": ExtensionIn,
    "referral.adjusted": AdjustmentIn,
    "referral.closed": ClosureIn,
    "own_cost.recorded": OwnCostItemIn,
}


@dataclass(frozen=True)
class Command:
    """A declared command with the body that asks for it."""

    declared: CommandType
    body: type[Body]

    @property
    def target(self) -> str:
        return self.declared.target

    def run(self, ledger: CaseLedger, target: UUID | None, body: Body, context: WriteContext) -> WriteResult:
        """Run the command on ``target`` (None: a new aggregate, its id from the body or fresh)."""
        if self.declared.creates:
            target = _new_id(target, getattr(body, "id", None))
        elif target is None and self.declared.per is None:
            msg = "this event type needs the id of an existing aggregate"
            raise InvalidInput("id-required", msg, field="id")
        actor = getattr(body, "actor", None)
        return ledger.writes.execute(
            self.declared,
            target,
            body.arguments(),
            actor=actor.model_dump() if actor else dict(UNATTRIBUTED),
            context=context,
        )


def _new_id(target: UUID | None, body_id: UUID | None) -> UUID | None:
    if target is not None and body_id is not None and target != body_id:
        msg = f"the item's id {target} and the body's id {body_id} differ"
        raise InvalidInput("id-mismatch", msg, field="id")
    return target or body_id


COMMANDS: dict[str, Command] = {name: Command(declared, BODIES[name]) for name, declared in DECLARED.items()}
