"""Tamper evidence: every stored event is chained when it is recorded, and verification names
exactly the streams and versions that were altered, deleted or moved afterwards — on SQLite and
PostgreSQL, whatever the batch size the verifier reads with.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from application.service.caseledger import CaseLedger
from domain.referral import Referral
from domain.supplier import Supplier
from tests.concurrency import run_together
from tests.domain.builders import agree_price, match, refer
from tests.storage import alter_state, delete_event, run_sql, swap_positions, swap_states

REFERRALS = 6


def given_a_store(ledger: CaseLedger) -> list[UUID]:
    """A supplier and referrals saved in one batch (several events per stream), then priced and
    closed one save at a time. Returns the referral ids (each has versions 1..4)."""
    supplier = Supplier.register(
        supplier_id=uuid4(),
        name="Familiehuset ApS",
        cvr="12345674",
        contact={"name": "Hanne Hansen"},
        target_groups=["0-17 years"],
        competencies=["family therapy"],
        education_levels=["social worker"],
        decided_by={"id": "m1"},
    )
    referrals: list[Referral] = []
    for _ in range(REFERRALS):
        referral = refer()
        match(referral, supplier)
        referrals.append(referral)
    ledger.save(supplier, *referrals)
    for referral in referrals:
        agree_price(referral, supplier)
        ledger.save(referral)
    for referral in referrals:
        referral.close(
            closed_on=date(2026, 3, 1), reason="goal_achieved", rationale="Goals met", decided_by={"id": "w"}
        )
        ledger.save(referral)
    return [r.id for r in referrals]


def verified(ledger: CaseLedger) -> dict[str, Any]:
    """Verify twice — in big batches and in batches of 3 — and insist on the same answer."""
    big = ledger.audit.verify_integrity()
    small = ledger.audit.verify_integrity(batch_size=3)
    for result in (big, small):
        result["head"].pop("computed_at")
    assert small == big
    return big


def named(result: dict[str, Any]) -> set[tuple[str, int, str]]:
    return {(p["stream_id"], p["version"], p["problem"]) for p in result["problems"]}


def test_an_untouched_store_verifies_clean(ledger: CaseLedger) -> None:
    given_a_store(ledger)
    result = verified(ledger)
    last = ledger.last_position()
    assert result["ok"] is True
    assert result["problems"] == []
    assert result["checked"] == result["chained"] == last == 1 + REFERRALS * 4
    assert result["head"]["position"] == last
    assert len(result["head"]["global_hash"]) == 64


def test_the_head_moves_with_every_write_and_is_the_same_on_every_verification(ledger: CaseLedger) -> None:
    given_a_store(ledger)
    first = verified(ledger)["head"]
    assert verified(ledger)["head"] == first
    ledger.save(refer())
    second = verified(ledger)["head"]
    assert second["position"] == first["position"] + 1
    assert second["global_hash"] != first["global_hash"]


def test_altered_state_bytes_name_that_stream_and_version_only(ledger: CaseLedger, db_url: str) -> None:
    referrals = given_a_store(ledger)
    alter_state(db_url, referrals[2], 2, lambda state: state.replace(b"Best professional", b"Cheapest"))
    result = verified(ledger)
    assert result["ok"] is False
    assert named(result) == {(str(referrals[2]), 2, "altered")}


def test_an_altered_topic_is_detected(ledger: CaseLedger, db_url: str) -> None:
    referrals = given_a_store(ledger)
    run_sql(
        db_url,
        "UPDATE stored_events SET topic=? WHERE originator_id=? AND originator_version=?",
        ["referral.adjusted", referrals[0], 3],
    )
    assert named(verified(ledger)) == {(str(referrals[0]), 3, "altered")}


def test_a_deleted_event_names_that_stream_and_version_only(ledger: CaseLedger, db_url: str) -> None:
    referrals = given_a_store(ledger)
    delete_event(db_url, referrals[1], 2)
    delete_event(db_url, referrals[4], 4)  # the newest version of its stream
    result = verified(ledger)
    assert named(result) == {(str(referrals[1]), 2, "deleted"), (str(referrals[4]), 4, "deleted")}
    assert result["checked"] == result["chained"] - 2


def test_an_event_deleted_with_its_chain_row_leaves_a_gap_that_is_named(
    ledger: CaseLedger, db_url: str
) -> None:
    referrals = given_a_store(ledger)
    [(position,)] = run_sql(
        db_url,
        "SELECT rowid FROM stored_events WHERE originator_id=? AND originator_version=?",
        [referrals[3], 2],
    )
    delete_event(db_url, referrals[3], 2)
    run_sql(db_url, "DELETE FROM caseledger_chain WHERE position=?", [position])
    found = named(verified(ledger))
    assert (str(referrals[3]), 2, "missing") in found
    # and the global link after the removed row, wherever it points, no longer follows
    rest = found - {(str(referrals[3]), 2, "missing")}
    assert [problem for _, _, problem in rest] == ["chain broken"]


def test_swapped_states_name_both_events_and_nothing_else(ledger: CaseLedger, db_url: str) -> None:
    referrals = given_a_store(ledger)
    swap_states(db_url, (referrals[0], 3), (referrals[5], 3))
    assert named(verified(ledger)) == {(str(referrals[0]), 3, "altered"), (str(referrals[5]), 3, "altered")}


def test_reordered_positions_name_both_events_and_nothing_else(ledger: CaseLedger, db_url: str) -> None:
    referrals = given_a_store(ledger)
    select = "SELECT rowid FROM stored_events WHERE originator_id=? AND originator_version=?"
    [(first,)] = run_sql(db_url, select, [referrals[1], 3])
    [(second,)] = run_sql(db_url, select, [referrals[2], 4])
    swap_positions(db_url, int(first), int(second))  # type: ignore[call-overload]
    assert named(verified(ledger)) == {(str(referrals[1]), 3, "moved"), (str(referrals[2]), 4, "moved")}


def test_a_rewritten_chain_row_breaks_the_chain_there(ledger: CaseLedger, db_url: str) -> None:
    referrals = given_a_store(ledger)
    [(position,)] = run_sql(
        db_url,
        "SELECT position FROM caseledger_chain WHERE originator_id=? AND originator_version=?",
        [referrals[2], 1],
    )
    run_sql(db_url, "UPDATE caseledger_chain SET global_hash=? WHERE position=?", ["0" * 64, position])
    found = named(verified(ledger))
    assert (str(referrals[2]), 1, "chain broken") in found
    assert len(found) == 2  # and the link after it, which no longer follows


def test_events_stored_before_the_chain_existed_are_reported_not_covered(
    ledger: CaseLedger, db_url: str
) -> None:
    given_a_store(ledger)
    run_sql(db_url, "DELETE FROM caseledger_chain")
    extra = refer()
    ledger.save(extra)
    result = verified(ledger)
    assert result["ok"] is False
    assert result["problem_count"] == ledger.last_position() - 1
    assert {p["problem"] for p in result["problems"]} == {"not covered"}
    assert (str(extra.id), 1, "not covered") not in named(result)
    assert result["head"]["position"] == ledger.last_position()


def test_problems_are_counted_in_full_but_listed_up_to_the_limit(ledger: CaseLedger, db_url: str) -> None:
    given_a_store(ledger)
    run_sql(db_url, "DELETE FROM caseledger_chain")
    result = ledger.audit.verify_integrity(batch_size=4, max_problems=5)
    assert result["problem_count"] == ledger.last_position()
    assert len(result["problems"]) == 5


def test_concurrent_writers_keep_both_chains_intact(ledger: CaseLedger) -> None:
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(10):
                referral = refer(requested_hours_per_week=Decimal("2"))
                ledger.save(referral)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    run_together(write, 6)
    assert errors == []
    result = verified(ledger)
    assert result["ok"] is True
    assert result["checked"] == 60


def test_verification_is_a_problem_free_no_op_on_an_empty_store(ledger: CaseLedger) -> None:
    result = ledger.audit.verify_integrity()
    assert result["ok"] is True
    assert result["checked"] == 0
    assert result["head"]["position"] == 0


def test_the_chain_table_has_one_row_per_event(ledger: CaseLedger, db_url: str) -> None:
    given_a_store(ledger)
    [(rows,)] = run_sql(db_url, "SELECT COUNT(*) FROM caseledger_chain")
    assert rows == ledger.last_position()
