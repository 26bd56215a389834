"""Administration: erasure of a citizen's personal data (crypto-erasure of their data key)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends

from api.auth import Forbidden, Principal, require
from api.dependencies import Ledger
from api.problems import responses
from api.schemas import ErasureIn, ErasureOut
from domain.errors import NotFound

router = APIRouter(prefix="/admin", tags=["admin"])
Erases = Annotated[Principal, Depends(require("citizen:erase"))]


@router.post("/erasures", response_model=ErasureOut, responses=responses(400, 401, 403, 404, 413, 422, 503))
def erase_citizen(body: ErasureIn, ledger: Ledger, principal: Erases) -> dict[str, Any]:
    """Erase a citizen's personal data: their data key is destroyed, so `citizen_ref`, `case_ref` and
    `purpose` of every referral filed for them read `"erased"` everywhere from now on (state, events,
    audit trail, feed, lists). Suppliers, prices, spending and every decision stay as they were, and
    the hash chains stay intact. Admin only. Erasing again answers the first erasure
    (`already_erased: true`); a citizen with no referral answers 404. A token scoped to one
    municipality may erase only a citizen whose referrals are all its own."""

    def allow(referral_ids: list[UUID]) -> None:
        if principal.all_municipalities:
            return
        places = {ledger.referral_municipality(referral_id) for referral_id in referral_ids}
        if principal.municipality not in places:
            raise NotFound("citizen-not-found", "no referral was filed for this citizen_ref")
        if places != {principal.municipality}:
            msg = f"this citizen has referrals outside municipality {principal.municipality}; erase with a '*' admin token"
            raise Forbidden("municipality-not-allowed", msg)

    return ledger.erase_citizen(body.citizen_ref, actor=principal.name, reason=body.reason, allow=allow)
