"""``positions_of``: the positions of stored writes, many in one query (a resent batch's duplicates)."""

from __future__ import annotations

from uuid import uuid4

from application.service.caseledger import CaseLedger
from tests.domain.builders import refer


def test_the_positions_of_stored_versions_in_one_query_and_nothing_for_the_rest(ledger: CaseLedger) -> None:
    referrals = [refer(citizen_ref=f"PSN-{uuid4().hex[:8]}") for _ in range(3)]
    recordings = ledger.save(*referrals)
    stored = {
        (r.domain_event.originator_id, r.domain_event.originator_version): r.notification.id
        for r in recordings
    }
    missing = [(referrals[0].id, 2), (uuid4(), 1)]

    found = ledger.keyed_recorder.positions_of([*stored, *missing])

    assert found == stored
    assert len(set(found.values())) == 3
    assert ledger.keyed_recorder.positions_of([]) == {}
