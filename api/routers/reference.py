"""The shipped reference tables: legal bases, intervention types and municipalities."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from api.auth import Principal, require
from api.problems import responses
from domain.reference import load_reference

router = APIRouter(prefix="/reference", tags=["reference"])
ReadsReference = Annotated[Principal, Depends(require("reference:read"))]
ERRORS = responses(401, 503)


class LegalBasisOut(BaseModel):
    code: str
    law: str
    section: str
    subsection: str
    number: str
    title_da: str
    title_en: str
    valid_from: date
    valid_to: date | None
    successor: str | None


class InterventionOut(BaseModel):
    code: str
    name_da: str
    name_en: str
    unit: str
    legal_bases: list[str]


class MunicipalityOut(BaseModel):
    code: str
    name: str


@router.get("/legal-bases", response_model=list[LegalBasisOut], responses=ERRORS)
def legal_bases(principal: ReadsReference) -> list[dict[str, Any]]:
    """Every legal basis a referral may be granted under, with its validity and successor."""
    return [asdict(basis) for basis in load_reference().legal_bases.values()]


@router.get("/interventions", response_model=list[InterventionOut], responses=ERRORS)
def interventions(principal: ReadsReference) -> list[dict[str, Any]]:
    """Every intervention type, its usual unit and the legal bases that allow it."""
    return [
        {**asdict(kind), "legal_bases": sorted(kind.legal_bases)}
        for kind in load_reference().interventions.values()
    ]


@router.get("/municipalities", response_model=list[MunicipalityOut], responses=ERRORS)
def municipalities(principal: ReadsReference) -> list[dict[str, Any]]:
    """Denmark's 98 municipalities: kommunekode and name."""
    return [asdict(municipality) for municipality in load_reference().municipalities.values()]
