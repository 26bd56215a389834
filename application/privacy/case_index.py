"""Finding a referral by its case number without storing the case number in plaintext.

``case_ref`` is sealed in the events like the other personal fields (``application.privacy.envelopes``),
so no stored byte equals it. The decision search finds a referral by it through a *case index*:
HMAC-SHA256 of the municipality and the case number under a key the master key derives
(``MasterKey.case_index``). The projections are given the index of each ``referral.referred`` event
beside its sealed fields (``index_case_refs``): worked out from the case number opened with the
citizen's data key, as the events are read for them, and stored in the decision log read model
beside the sealed values. A search works out the index of the number asked for (one per
municipality it covers) and looks it up; nothing else about the number is kept.

Erasure destroys the citizen's data key, and with it every way to the index:

- the referrals found are kept only while they are still linked to a live data key
  (``Privacy.findable_by_case_ref``), so an erased (or withheld) referral is never answered, whoever
  erased it (the API or ``caseledger erase``);
- the API's erasure clears the erased referrals' indexes from the read model (a listener registered
  by the composition root);
- a rebuild cannot work the index out again: the case number no longer opens.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from application.privacy.envelopes import unseal
from application.privacy.keyring import Keyring
from application.storage.envelope_labels import is_sealed, key_id_of
from domain.referral import Referral

CASE_INDEX = "case_index"
"""The attribute of a sealed ``referral.referred`` event that holds its case index (absent without a
case number or once it cannot be opened); the decision log reads it by this name."""


def index_case_refs(keyring: Keyring, events: Sequence[Any]) -> None:
    """Give each sealed ``referral.referred`` event among ``events`` its case index (one key lookup)."""
    sealed = [
        (event, case_ref)
        for event in events
        if isinstance(event, Referral.Referred) and is_sealed(case_ref := event.__dict__.get("case_ref"))
    ]
    if not sealed:
        return
    deks = keyring.deks([(key_id_of(case_ref), str(event.originator_id)) for event, case_ref in sealed])
    for event, case_ref in sealed:
        dek = deks[key_id_of(case_ref), str(event.originator_id)]
        if dek is not None:
            number = unseal(dek, case_ref, event.originator_id, "case_ref")
            event.__dict__[CASE_INDEX] = keyring.master.case_index(number, str(event.municipality))
