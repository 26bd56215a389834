"""A municipality's own costs: the request body of ``POST /municipalities/{code}/own-costs`` and
the answer of ``GET``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from api.fields import Code, Day, LongText, Money, Municipality
from api.schemas import ActorIn, Body


class OwnCostIn(Body):
    """``POST /municipalities/{code}/own-costs``: what the intervention would cost the municipality
    per unit if it delivered it itself, from ``valid_from``."""

    intervention: Code
    unit: Literal["hour", "day"]
    rate: Money
    valid_from: Day
    rationale: LongText
    actor: ActorIn


class OwnCostItemIn(OwnCostIn):
    """An ``own_cost.recorded`` batch item's ``data``: the body with the municipality it is for
    (in the path of the single request)."""

    municipality: Municipality


class OwnCostOut(BaseModel):
    """One recorded own cost."""

    intervention: str
    unit: str
    rate: str
    valid_from: str
    rationale: str
    actor: dict[str, str]
    version: int
    """The version of the municipality's own costs that recorded it."""


class RecordedOwnCostOut(OwnCostOut):
    replaced: bool
    """A later record for the same intervention, unit and ``valid_from`` corrected it."""


class OwnCostsOut(BaseModel):
    """``GET /municipalities/{code}/own-costs``."""

    municipality: str
    as_of: str
    version: int
    """The version of the municipality's own costs (0 before its first record)."""
    in_force: list[OwnCostOut]
    """Per intervention and unit, the own cost in force on ``as_of``."""
    history: list[RecordedOwnCostOut]
    """Every record, oldest first."""
