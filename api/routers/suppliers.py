"""Suppliers: registration, details, price lists, state and events."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse

from api.auth import Principal, attributed, require
from api.dependencies import Creating, Ledger, etag, versioned
from api.event_responses import EventOut
from api.fields import Instant
from api.problems import responses
from api.responses import SupplierOut, WriteResultOut
from api.routers.writes import CREATE_ERRORS, add_command_routes, created
from api.schemas import SupplierIn
from application.views import event_view, supplier_view

router = APIRouter(prefix="/suppliers", tags=["suppliers"])
READ_ERRORS = responses(401, 403, 404, 422, 503)
WritesSupplier = Annotated[Principal, Depends(require("supplier:write"))]
ReadsSupplier = Annotated[Principal, Depends(require("supplier:read"))]


@router.post("", status_code=201, response_model=WriteResultOut, responses=CREATE_ERRORS)
def register_supplier(
    body: SupplierIn, ledger: Ledger, principal: WritesSupplier, writing: Creating
) -> JSONResponse:
    """Register a supplier (one per CVR number; 409 if the CVR is registered). Without an ``actor``
    the token's name is recorded as the actor."""
    body = attributed(body, principal)
    return created("supplier.registered", ledger, body, writing, "/suppliers")


add_command_routes(router, "supplier")


@router.get("/{supplier_id}", response_model=SupplierOut, responses=READ_ERRORS | versioned())
def get_supplier(
    supplier_id: UUID,
    ledger: Ledger,
    _principal: ReadsSupplier,
    response: Response,
    version: Annotated[int | None, Query(ge=1, description="The supplier as it was at this version.")] = None,
    as_of: Annotated[Instant | None, Query(description="The supplier as it was at this instant.")] = None,
) -> dict[str, Any]:
    """The supplier with the prices in force today per municipality, and every negotiated list."""
    supplier = ledger.get_supplier(supplier_id, version=version, as_of=as_of)
    response.headers.update(etag(supplier.version))
    return supplier_view(supplier, ledger.today())


@router.get("/{supplier_id}/events", response_model=list[EventOut], responses=READ_ERRORS)
def supplier_events(supplier_id: UUID, ledger: Ledger, _principal: ReadsSupplier) -> list[dict[str, Any]]:
    """The supplier's events, oldest first."""
    return [event_view(e) for e in ledger.supplier_events(supplier_id)]
