"""A municipality's own costs: what it would pay to deliver an intervention itself (reference for
price negotiation, never used in spending)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse

from api.auth import Principal, check_municipality, require
from api.commands import COMMANDS
from api.dependencies import Creating, Ledger, written
from api.fields import Day, Municipality
from api.own_cost_schemas import OwnCostIn, OwnCostItemIn, OwnCostsOut
from api.problems import responses
from api.responses import WriteResultOut
from api.routers.writes import CREATE_ERRORS
from domain.errors import InvalidInput, NotFound
from domain.own_cost import OwnCost, OwnCosts, municipality_in_reference

RECORDED = "own_cost.recorded"
router = APIRouter(prefix="/municipalities", tags=["own costs"])
Code = Annotated[Municipality, Path(description="The municipality's code (kommunekode).")]
Records = Annotated[Principal, Depends(require(COMMANDS[RECORDED].declared.right))]
Reads = Annotated[Principal, Depends(require("own_cost:read"))]


def _view(record: OwnCost) -> dict[str, Any]:
    return {
        "intervention": record.intervention,
        "unit": record.unit,
        "rate": f"{record.rate:.2f}",
        "valid_from": record.valid_from.isoformat(),
        "rationale": record.rationale,
        "actor": dict(record.actor),
        "version": record.version,
    }


def _known(code: str) -> str:
    """A municipality of the reference data; another code names nothing here (404)."""
    try:
        return municipality_in_reference(code)
    except InvalidInput as error:
        raise NotFound("municipality-not-found", error.detail) from None


@router.post("/{code}/own-costs", status_code=201, response_model=WriteResultOut, responses=CREATE_ERRORS)
def record_own_cost(
    code: Code, body: OwnCostIn, ledger: Ledger, principal: Records, writing: Creating
) -> JSONResponse:
    """Record what an intervention would cost the municipality per unit if it delivered it itself,
        from ``valid_from``. A record for an intervention, unit and date already recorded replaces it (a
        correction; the same rate again is 409). The token must cover the municipality (else 403); a code
    that is none of the 98 municipalities' is 404."""
    check_municipality(principal, code, field=None)
    item = OwnCostItemIn(**body.model_dump(), municipality=_known(code))
    answer = written(COMMANDS[RECORDED].run(ledger, None, item, writing.context(item)), status_code=201)
    answer.headers["Location"] = f"/municipalities/{code}/own-costs"
    return answer


@router.get("/{code}/own-costs", response_model=OwnCostsOut, responses=responses(401, 403, 404, 422, 503))
def get_own_costs(
    code: Code,
    ledger: Ledger,
    principal: Reads,
    as_of: Annotated[
        Day | None, Query(description="The day the costs in force are for (default: today).")
    ] = None,
) -> dict[str, Any]:
    """The own costs in force (per intervention and unit, the latest ``valid_from`` not after
    ``as_of``) and every record made, oldest first. The token must cover the municipality (else 403)."""
    check_municipality(principal, code, field=None)
    _known(code)
    day: date = as_of or ledger.today()
    try:
        own_costs: OwnCosts | None = ledger.writes.load(OwnCosts, OwnCosts.id_for(code))
    except NotFound:
        own_costs = None
    if own_costs is None:
        return {"municipality": code, "as_of": day.isoformat(), "version": 0, "in_force": [], "history": []}
    replaced = own_costs.replaced()
    return {
        "municipality": code,
        "as_of": day.isoformat(),
        "version": own_costs.version,
        "in_force": [_view(record) for record in own_costs.in_force(day)],
        "history": [{**_view(r), "replaced": r.version in replaced} for r in own_costs.records],
    }
