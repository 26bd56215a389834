"""Administration: erasure of a citizen's personal data held by one municipality (crypto-erasure of
their data key of that municipality)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from api.audit_responses import ErasureOut
from api.auth import Principal, check_municipality, require
from api.dependencies import Ledger
from api.problems import responses
from api.schemas import ErasureIn
from domain.errors import InvalidInput

router = APIRouter(prefix="/admin", tags=["admin"])
Erases = Annotated[Principal, Depends(require("citizen:erase"))]


@router.post("/erasures", response_model=ErasureOut, responses=responses(400, 401, 403, 404, 413, 422, 503))
def erase_citizen(body: ErasureIn, ledger: Ledger, principal: Erases) -> dict[str, Any]:
    """Erase what one municipality holds about a citizen: the citizen's data key of that municipality
    is destroyed, so `citizen_ref`, `case_ref` and `purpose` of every referral it filed for them read
    `"erased"` everywhere from now on (state, events, audit trail, feed, lists). Each municipality is
    its own data controller: the citizen's referrals in another municipality stay as they are, and
    the answer is the same whether or not the citizen is known elsewhere. Suppliers, prices, spending
    and every decision stay as they were, and the hash chains stay intact. Admin only.

    `municipality` is the token's own by default; an admin token for every municipality (`*`) must
    name it (422 `municipality-required`), a token of another municipality is refused (403). Erasing
    again answers the first erasure (`already_erased: true`); a citizen with no referral in the
    municipality answers 404."""
    municipality = body.municipality
    if municipality is None:
        if principal.all_municipalities:
            msg = "an admin token for every municipality must name the municipality whose data it erases"
            raise InvalidInput("municipality-required", msg, field="municipality")
        municipality = principal.municipality
    check_municipality(principal, municipality)
    return ledger.privacy.erase_citizen(
        body.citizen_ref, municipality=municipality, actor=principal.name, reason=body.reason
    )
