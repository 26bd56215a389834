"""``GET /audit/decisions?case_ref=``: a referral found by its case number, which is stored nowhere in
plaintext and cannot be found once the citizen's data is erased."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import cli
from projections.read_models import live_generation
from tests.api import bodies
from tests.api.bodies import created
from tests.tokens import bearer, new_token

COPENHAGEN = "101"
CASE = "SAG-2026-7731"


def search(client: TestClient, headers: dict[str, str] | None = None, **params: Any) -> dict[str, Any]:
    params.setdefault("min_position", bodies.last_position(client))
    response = client.get("/audit/decisions", params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def referrals_found(client: TestClient, case_ref: str, headers: dict[str, str] | None = None) -> set[str]:
    return {item["referral_id"] for item in search(client, headers, case_ref=case_ref)["items"]}


def erase(client: TestClient, citizen_ref: str, municipality: str = bodies.ODENSE) -> dict[str, Any]:
    body = {"citizen_ref": citizen_ref, "reason": "Borgerens anmodning", "municipality": municipality}
    return created_erasure(client.post("/admin/erasures", json=body))


def created_erasure(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    erased: dict[str, Any] = response.json()
    return erased


def read_model_rows(client: TestClient) -> list[dict[str, Any]]:
    """Every row of the live decision log, read from its table."""
    db = client.app.state.reports.db  # type: ignore[attr-defined]
    with db.reading() as cur:
        generation, _ = live_generation(cur)
        cur.run(f"SELECT * FROM cl_decisions_g{generation}")
        rows: list[dict[str, Any]] = cur.rows()
        cur.run(f"SELECT * FROM cl_referrals_g{generation}")
        return rows + cur.rows()


def test_the_case_number_finds_exactly_its_referrals_decisions(client: TestClient) -> None:
    wanted, _ = bodies.matched(client, case_ref=CASE, citizen_ref="B-1001")
    other, _ = bodies.matched(client, case_ref="SAG-2026-7732", citizen_ref="B-1002")

    found = search(client, case_ref=CASE)

    assert {item["referral_id"] for item in found["items"]} == {wanted}
    assert [item["type"] for item in found["items"]] == ["referral.matched", "referral.referred"]
    assert found["total"] == 2
    assert referrals_found(client, "SAG-2026-7732") == {other}
    # Combined with the other filters, and exact: no prefix, no other case, no case in the wrong place.
    assert [i["type"] for i in search(client, case_ref=CASE, type="referral.matched")["items"]] == [
        "referral.matched"
    ]
    assert referrals_found(client, "SAG-2026-773") == set()
    assert referrals_found(client, "SAG-2026-9999") == set()
    assert search(client, case_ref=CASE, municipality=COPENHAGEN)["total"] == 0


def test_the_case_number_is_nowhere_in_the_read_model_in_plaintext(client: TestClient) -> None:
    referral_id, _ = bodies.matched(client, case_ref=CASE, citizen_ref="B-1003")
    bodies.last_position(client)
    search(client, case_ref=CASE)  # the read model has caught up

    rows = read_model_rows(client)

    assert rows
    assert not [row for row in rows if any(CASE in str(value) for value in row.values())]
    indexes = [row["case_index"] for row in rows if row.get("case_index")]
    assert len(indexes) == 1  # on the referral's first decision only
    assert next(r for r in rows if r.get("case_index"))["referral_id"] == referral_id


def test_after_erasure_the_case_number_finds_nothing(client: TestClient) -> None:
    erased, _ = bodies.matched(client, case_ref=CASE, citizen_ref="B-1004")
    kept, _ = bodies.matched(client, case_ref="SAG-2026-7740", citizen_ref="B-1005")
    assert referrals_found(client, CASE) == {erased}

    record = erase(client, "B-1004")

    assert record["referral_ids"] == [erased]
    assert referrals_found(client, CASE) == set()
    assert referrals_found(client, "SAG-2026-7740") == {kept}
    # The erased referral's decisions are still there, found otherwise, without its case index.
    assert search(client, type="referral.matched")["total"] == 2
    assert [r["referral_id"] for r in read_model_rows(client) if r.get("case_index")] == [kept]


def test_erasure_by_the_cli_clears_the_case_hash_at_once(client: TestClient, db_url: str) -> None:
    erased, _ = bodies.matched(client, case_ref=CASE, citizen_ref="B-1009")
    kept, _ = bodies.matched(client, case_ref="SAG-2026-7741", citizen_ref="B-1010")
    assert referrals_found(client, CASE) == {erased}
    indexed = {row["referral_id"] for row in read_model_rows(client) if row.get("case_index")}
    assert indexed == {erased, kept}

    command = ["erase", "B-1009", "--municipality", bodies.ODENSE, "--yes", "--reason", "art. 17"]
    result = CliRunner().invoke(cli, command, env={"CASELEDGER_DATABASE_URL": db_url})

    assert result.exit_code == 0, result.output
    assert erased in result.output
    # No write follows the erasure: the hash is gone from the read model without a fold of any event.
    assert [r["referral_id"] for r in read_model_rows(client) if r.get("case_index")] == [kept]
    assert referrals_found(client, CASE) == set()
    assert referrals_found(client, "SAG-2026-7741") == {kept}


def test_a_municipality_bound_token_cannot_find_another_municipalitys_referral(client: TestClient) -> None:
    odense_case, _ = bodies.matched(client, case_ref=CASE, citizen_ref="B-1006")
    copenhagen_case = bodies.referred(client, case_ref=CASE, citizen_ref="B-1006", municipality=COPENHAGEN)
    odense = bearer(new_token(client, "auditor", bodies.ODENSE))
    copenhagen = bearer(new_token(client, "auditor", COPENHAGEN))

    assert referrals_found(client, CASE, odense) == {odense_case}
    assert referrals_found(client, CASE, copenhagen) == {copenhagen_case}
    assert referrals_found(client, CASE) == {odense_case, copenhagen_case}
    response = client.get(
        "/audit/decisions", params={"case_ref": CASE, "municipality": COPENHAGEN}, headers=odense
    )
    assert response.status_code == 403, response.text
    # Erased in Odense: still found in Copenhagen (another data controller, another key).
    erase(client, "B-1006")
    assert referrals_found(client, CASE) == {copenhagen_case}


def test_the_access_log_records_the_search_without_the_case_number(client: TestClient) -> None:
    bodies.matched(client, case_ref=CASE, citizen_ref="B-1007")
    auditor = bearer(new_token(client, "auditor", bodies.ODENSE, name="revisor"))
    search(client, auditor, case_ref=CASE)

    entries = search_log(client)

    assert [entry["query"]["case_ref"] for entry in entries] == ["[redacted]"]
    assert CASE not in str(entries)


def search_log(client: TestClient) -> list[dict[str, Any]]:
    response = client.get("/audit/access-log", params={"action": "audit.decisions", "token": "revisor"})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_a_blank_or_overlong_case_number_is_422(client: TestClient) -> None:
    for case_ref in ("", "x" * 201, "SAG\x00"):
        response = client.get("/audit/decisions", params={"case_ref": case_ref})
        bodies.assert_problem(response, 422)


def test_a_referral_filed_without_a_case_number_has_no_case_index(client: TestClient) -> None:
    body = bodies.referral(citizen_ref="B-1008")
    del body["case_ref"]
    referral_id = str(created(client.post("/referrals", json=body))["id"])
    with_case = bodies.referred(client, case_ref=CASE, citizen_ref="B-1008")
    assert referrals_found(client, CASE) == {with_case}

    indexed = {row["referral_id"] for row in read_model_rows(client) if row.get("case_index")}

    assert indexed == {with_case}
    assert referral_id not in indexed
