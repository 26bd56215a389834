"""``sealed_events_upto``: many aggregates' events up to a version each, a few hundred a query, the
same events as reading each aggregate alone (``sealed_events.get(id, lte=version)``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from application.service.caseledger import CaseLedger
from application.storage import recording
from tests.domain.builders import ODENSE, a_supplier, agree_price, match, refer


def one_by_one(ledger: CaseLedger, versions: dict[UUID, int]) -> dict[UUID, list[Any]]:
    return {i: list(ledger.sealed_events.get(i, lte=v)) for i, v in versions.items()}


@pytest.mark.parametrize("chunk", [500, 2])
def test_many_aggregates_read_at_once_equal_each_read_alone(
    ledger: CaseLedger, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recording, "EVENTS_UPTO_CHUNK", chunk)
    supplier = a_supplier()
    erased_ref, kept_ref = f"PSN-{uuid4().hex[:8]}", f"PSN-{uuid4().hex[:8]}"
    referrals = [refer(citizen_ref=ref) for ref in (erased_ref, kept_ref, kept_ref, erased_ref, kept_ref)]
    for referral in referrals[:4]:
        match(referral, supplier)
    for referral in referrals[:2]:
        agree_price(referral, supplier)
    ledger.save(supplier, *referrals)
    ledger.privacy.erase_citizen(erased_ref, municipality=ODENSE, actor="test")
    versions = {
        referrals[0].id: 3,  # all of an erased citizen's referral
        referrals[1].id: 2,  # up to a version before the newest
        referrals[2].id: 2,
        referrals[3].id: 1,  # the erased citizen's other referral, its first event only
        referrals[4].id: 9,  # beyond the newest: all there is
        uuid4(): 4,  # no such aggregate: nothing
    }

    read = ledger.sealed_events_upto(versions)

    assert read == one_by_one(ledger, versions)
    assert [len(read[i]) for i in versions] == [3, 2, 2, 1, 1, 0]
    assert all(
        [e.originator_version for e in events] == list(range(1, len(events) + 1)) for events in read.values()
    )
    assert ledger.sealed_events_upto({}) == {}
