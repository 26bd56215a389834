"""Each write command's request body, and running a command from a request or a batch item.

The commands are declared once, in ``application.service.commands``; here each is bound to the body a
client sends for it (``api.schemas``) and, when it acts on an existing aggregate, to its route
(``api.routers.writes`` makes the routes from ``ROUTES``). The per-resource routes and batch
ingestion (``POST /events``) both call ``Command.run``, so a batch item and the equivalent single
request behave identically.
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
from application.service.caseledger import CaseLedger
from application.service.commands import COMMANDS as DECLARED
from application.service.commands import CommandType
from application.service.context import WriteContext, WriteResult
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
class Route:
    """``POST {path}`` under the aggregate's collection, the OpenAPI operation ``name`` described by
    ``description``."""

    path: str
    name: str
    description: str


ROUTES: dict[str, Route] = {
    "supplier.details_updated": Route(
        "/{supplier_id}/details",
        "update_details",
        "Change any registered field but the CVR number. Each field sent replaces its value whole (a `contact` replaces the whole contact, a list the whole list; `null` clears it, but not the name); a field left out keeps its value.",
    ),
    "supplier.price_list_negotiated": Route(
        "/{supplier_id}/price-lists",
        "negotiate_price_list",
        "Record a price list negotiated with one municipality (rates and packages); the token must cover that municipality.",
    ),
    "referral.matched": Route(
        "/{referral_id}/match",
        "match",
        "Choose the supplier, with criteria and the candidates considered (re-matching until priced).",
    ),
    "referral.price_agreed": Route(
        "/{referral_id}/price-agreement",
        "agree_price",
        "Agree hourly, daily or package terms; a rate above the list rate needs a rationale.",
    ),
    "referral.extended": Route(
        "/{referral_id}/extension", "extend", "Extend an active referral to a later end."
    ),
    "referral.adjusted": Route(
        "/{referral_id}/adjustment",
        "adjust",
        "Change hours and/or rate of an active referral from a date on.",
    ),
    "referral.closed": Route("/{referral_id}/closure", "close", "Close a referral that is not closed yet."),
}
"""The routes of the commands on an existing aggregate; creating commands (and own costs, one
aggregate per municipality) have routes of their own, written out in their routers."""


@dataclass(frozen=True)
class Command:
    """A declared command with the body that asks for it and, if made from the registry, its route."""

    declared: CommandType
    body: type[Body]
    route: Route | None = None

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


COMMANDS: dict[str, Command] = {
    name: Command(declared, BODIES[name], ROUTES.get(name)) for name, declared in DECLARED.items()
}
