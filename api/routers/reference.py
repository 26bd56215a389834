"""The shipped reference tables: legal bases, intervention types and municipalities."""

from __future__ import annotations

from dataclasses import asdict
from dataclasses import fields as dataclass_fields
from typing import Annotated, Any, get_type_hints

from fastapi import APIRouter, Depends
from pydantic import create_model

from api.auth import Principal, require
from api.problems import responses
from domain.reference import Intervention, LegalBasis, Municipality, load_reference

router = APIRouter(prefix="/reference", tags=["reference"])
ReadsReference = Annotated[Principal, Depends(require("reference:read"))]
ERRORS = responses(401, 503)


def _list_of(record: type, name: str, **overrides: Any) -> Any:
    """A list of ``name``, the response model of a domain record: its fields in order, all
    required, some retyped."""
    hints = get_type_hints(record)
    fields: dict[str, Any] = {
        f.name: (overrides.get(f.name, hints[f.name]), ...) for f in dataclass_fields(record)
    }
    return list.__class_getitem__(create_model(name, **fields))


LEGAL_BASES = _list_of(LegalBasis, "LegalBasisOut")
INTERVENTIONS = _list_of(Intervention, "InterventionOut", legal_bases=list[str])
MUNICIPALITIES = _list_of(Municipality, "MunicipalityOut")


@router.get("/legal-bases", response_model=LEGAL_BASES, responses=ERRORS)
def legal_bases(principal: ReadsReference) -> list[dict[str, Any]]:
    """Every legal basis a referral may be granted under, with its validity and successor."""
    return [asdict(basis) for basis in load_reference().legal_bases.values()]


@router.get("/interventions", response_model=INTERVENTIONS, responses=ERRORS)
def interventions(principal: ReadsReference) -> list[dict[str, Any]]:
    """Every intervention type, its usual unit and the legal bases that allow it."""
    return [
        {**asdict(kind), "legal_bases": sorted(kind.legal_bases)}
        for kind in load_reference().interventions.values()
    ]


@router.get("/municipalities", response_model=MUNICIPALITIES, responses=ERRORS)
def municipalities(principal: ReadsReference) -> list[dict[str, Any]]:
    """Denmark's 98 municipalities: kommunekode and name."""
    return [asdict(municipality) for municipality in load_reference().municipalities.values()]
