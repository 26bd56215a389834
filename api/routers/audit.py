"""Audit: the decision trail of one referral and the verification of the hash chains."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request

from api.csv_export import csv_response, wants_csv
from api.dependencies import Ledger
from api.problems import responses
from api.schemas import TrailOut, VerificationOut

router = APIRouter(prefix="/audit", tags=["audit"])
CSV_AND_PROBLEMS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {}},
        "description": "JSON, or CSV (one row per entry) for `Accept: text/csv`",
    },
    **responses(404, 422, 503),
}


@router.get("/verify", response_model=VerificationOut, responses=responses(503))
def verify(ledger: Ledger) -> dict[str, Any]:
    """Recompute the per-referral and the global hash chains over every stored event; name each stream
    and version that was altered, deleted, moved or is not covered, and give the chain head to keep."""
    return ledger.verify_integrity()


@router.get("/referrals/{referral_id}", response_model=TrailOut, responses=CSV_AND_PROBLEMS)
def referral_trail(referral_id: UUID, request: Request, ledger: Ledger) -> Any:
    """Every decision on the referral: who, when (recorded and effective), why, what changed; and
    whether its stored events are intact."""
    trail = ledger.referral_trail(referral_id)
    if wants_csv(request):
        return csv_response(trail["entries"], f"referral-{referral_id}-trail")
    return trail
