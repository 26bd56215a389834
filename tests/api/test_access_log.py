"""The access log through HTTP on both storages: who read or exported referral-level data, and who
tried to and was refused; scoped per municipality; searchable per citizen; never unlogged."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from tests.api import bodies
from tests.api.bodies import ODENSE, assert_problem
from tests.storage import run_sql
from tests.tokens import bearer, new_token

ASSENS = "101"
CSV = {"Accept": "text/csv"}


def _log(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = client.get("/audit/access-log", params={"page_size": 500, **params}, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _seen(entries: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (e["action"], e["token"], e["role"], e["referral_id"], e["query"], e["status"], e["format"])
        for e in entries
    ]


def test_the_access_log_shows_exactly_each_read_and_denied_attempt_in_order(client: TestClient) -> None:
    own = bodies.active(client)
    other = bodies.referred(client, municipality=ASSENS, citizen_ref="C-1234")
    supplier = bodies.register_supplier(client)
    worker = bearer(new_token(client, "caseworker", ODENSE, name="worker-461"))
    reporter = bearer(new_token(client, "reporter", ODENSE, name="reporter-461"))
    auditor = bearer(new_token(client, "auditor", ODENSE, name="auditor-461"))
    system = bearer(new_token(client, "case_system", ODENSE, name="system-461"))
    chief = bearer(new_token(client, "auditor", "*", name="chief-auditor"))

    assert client.get(f"/referrals/{own}", headers=worker).status_code == 200
    assert client.get(f"/referrals/{own}", params={"version": 1}, headers=worker).status_code == 200
    assert client.get(f"/referrals/{own}/events", headers=worker).status_code == 200
    assert_problem(client.get(f"/referrals/{other}", headers=worker), 404)
    assert_problem(client.get(f"/referrals/{own}", headers=reporter), 403)
    trail = client.get(f"/audit/referrals/{own}", headers={**auditor, **CSV})
    assert trail.status_code == 200 and trail.headers["content-type"].startswith("text/csv")
    assert client.get("/referrals", params={"status": "active"}, headers=auditor).status_code == 200
    assert client.get("/feed", params={"after": 0, "limit": 5}, headers=system).status_code == 200
    assert client.get("/audit/decisions", params={"actor": "sw-17"}, headers=auditor).status_code == 200
    assert_problem(client.get("/audit/access-log", headers=worker), 403)
    # Not referral-level data, not answered, or not attributable: none of these is recorded.
    assert client.get(f"/suppliers/{supplier}", headers=worker).status_code == 200
    assert client.get("/reports/spending", headers=reporter).status_code == 200
    assert client.get("/audit/verify", headers=auditor).status_code == 200
    assert client.get(f"/referrals/{own}", params={"version": 0}, headers=worker).status_code == 422
    assert client.get(f"/referrals/{own}", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert_problem(client.get("/referrals/not-an-id", headers=reporter), 403)  # refused before validation

    entries = _log(client, chief)

    first_page = {"page": "1", "page_size": "50"}  # the paging every list logs when none is asked for
    assert _seen(entries) == [
        ("referral.read", "worker-461", "caseworker", own, None, 200, "json"),
        ("referral.read", "worker-461", "caseworker", own, {"version": "1"}, 200, "json"),
        ("referral.events", "worker-461", "caseworker", own, None, 200, "json"),
        ("referral.read", "worker-461", "caseworker", other, None, 404, "json"),
        ("referral.read", "reporter-461", "reporter", own, None, 403, "json"),
        ("audit.trail", "auditor-461", "auditor", own, None, 200, "csv"),
        ("referral.list", "auditor-461", "auditor", None, {"status": "active", **first_page}, 200, "json"),
        ("feed.read", "system-461", "case_system", None, {"after": "0", "limit": "5"}, 200, "json"),
        ("audit.decisions", "auditor-461", "auditor", None, {"actor": "sw-17", **first_page}, 200, "json"),
        ("access_log.read", "worker-461", "caseworker", None, first_page, 403, "json"),
        ("referral.read", "reporter-461", "reporter", None, None, 403, "json"),
    ]
    assert [e["municipality"] for e in entries] == [ODENSE, ODENSE, ODENSE, ASSENS, *[ODENSE] * 7]
    assert {e["token_municipality"] for e in entries} == {ODENSE}
    assert all(e["at"].endswith("Z") for e in entries)
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)

    # Reading the log is itself recorded (after the read, so it never lists itself).
    again = _log(client, chief, action="access_log.read", token="chief-auditor")
    assert _seen(again) == [
        ("access_log.read", "chief-auditor", "auditor", None, {"page": "1", "page_size": "500"}, 200, "json")
    ]
    assert again[0]["municipality"] == "*"


def test_a_scoped_auditor_sees_its_municipalitys_data_and_its_own_tokens_reads_only(
    client: TestClient,
) -> None:
    own = bodies.referred(client)
    other = bodies.referred(client, municipality=ASSENS)
    odense = bearer(new_token(client, "auditor", ODENSE, name="auditor-461"))
    assens = bearer(new_token(client, "auditor", ASSENS, name="auditor-101"))
    worker = bearer(new_token(client, "caseworker", ODENSE, name="worker-461"))

    client.get(f"/referrals/{own}")  # test-admin, a '*' token, on Odense's referral
    client.get(f"/referrals/{other}")  # and on Assens' referral
    client.get(f"/referrals/{other}", headers=worker)  # an Odense token trying Assens' referral: 404

    seen_by_odense = _log(client, odense)
    assert [(e["token"], e["referral_id"], e["status"]) for e in seen_by_odense] == [
        ("test-admin", own, 200),
        ("worker-461", other, 404),
    ]
    seen_by_assens = _log(client, assens)
    assert [(e["token"], e["referral_id"], e["status"]) for e in seen_by_assens] == [
        ("test-admin", other, 200),
        ("worker-461", other, 404),
    ]
    assert_problem(client.get("/audit/access-log", params={"municipality": ASSENS}, headers=odense), 403)
    # '*' may narrow to one municipality.
    narrowed = _log(client, {}, municipality=ASSENS, action="referral.read")
    assert [(e["token"], e["referral_id"]) for e in narrowed] == [
        ("test-admin", other),
        ("worker-461", other),
    ]


def test_the_citizen_filter_returns_the_reads_of_that_citizens_referrals_and_stores_no_reference(
    client: TestClient, db_url: str
) -> None:
    first = bodies.referred(client, citizen_ref="B-1111aa")
    second = bodies.referred(client, citizen_ref="B-1111aa", municipality=ASSENS)
    someone_else = bodies.referred(client, citizen_ref="B-2222bb")
    assert client.app.state.ledger.privacy.referral_ids_of_citizen("B-1111aa") == [  # type: ignore[attr-defined]
        UUID(first),
        UUID(second),
    ]
    for referral_id in (first, someone_else, second):
        client.get(f"/referrals/{referral_id}")
    client.get(f"/audit/referrals/{first}")

    found = _log(client, {}, citizen_ref="B-1111aa")
    assert [(e["action"], e["referral_id"]) for e in found] == [
        ("referral.read", first),
        ("referral.read", second),
        ("audit.trail", first),
    ]
    odense = bearer(new_token(client, "auditor", ODENSE, name="auditor-461"))
    assert [e["referral_id"] for e in _log(client, odense, citizen_ref="B-1111aa")] == [first, first]
    assert _log(client, {}, citizen_ref="B-0000zz") == []
    assert [e["referral_id"] for e in _log(client, {}, citizen_ref="B-1111aa", referral_id=second)] == [
        second
    ]

    lookups = _log(client, {}, action="access_log.read")
    assert lookups[0]["query"]["citizen_ref"] == "[redacted]"
    stored = repr(run_sql(db_url, "SELECT * FROM caseledger_access_log"))
    assert "B-1111aa" not in stored and "B-0000zz" not in stored and "B-2222bb" not in stored


def test_the_access_log_filters_by_period_token_role_and_action_and_pages(client: TestClient) -> None:
    referral_id = bodies.referred(client)
    worker = bearer(new_token(client, "caseworker", ODENSE, name="worker-461"))
    for _ in range(3):
        client.get(f"/referrals/{referral_id}", headers=worker)
    client.get(f"/referrals/{referral_id}/events")
    today = datetime.now(ZoneInfo("Europe/Copenhagen")).date().isoformat()

    assert len(_log(client, {}, **{"from": today})) == 4
    assert len(_log(client, {}, to=today)) == 5  # and the log's own read just above
    assert _log(client, {}, **{"from": "2999-01-01"}) == []
    assert _log(client, {}, **{"from": "2000-01-01T00:00:00+02:00"})[0]["token"] == "worker-461"
    assert _log(client, {}, to="2000-01-01T00:00:00Z") == []
    assert len(_log(client, {}, token="worker-461")) == 3
    assert len(_log(client, {}, role="caseworker", action="referral.read")) == 3
    assert [e["token"] for e in _log(client, {}, action="referral.events")] == ["test-admin"]
    page = client.get("/audit/access-log", params={"action": "referral.read", "page": 2, "page_size": 2})
    assert page.json()["total"] == 3 and len(page.json()["items"]) == 1
    assert client.get("/audit/access-log", params={"from": "yesterday"}).status_code == 422
    assert client.get("/audit/access-log", params={"to": "2026-06-01T10:00:00"}).status_code == 422
    assert client.get("/audit/access-log", params={"action": "referral.write"}).status_code == 422


def test_the_access_log_answers_csv_with_its_columns(client: TestClient) -> None:
    referral_id = bodies.referred(client)
    client.get(f"/referrals/{referral_id}")

    response = client.get("/audit/access-log", headers=CSV)

    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    header, row = response.text.splitlines()
    assert header == "at,token,role,municipality,token_municipality,action,referral_id,query,status,format"
    assert f",test-admin,admin,{ODENSE},*,referral.read,{referral_id},,200,json" in row
    recorded = _log(client, {}, action="access_log.read")
    assert recorded[0]["format"] == "csv"


def test_a_read_that_cannot_be_logged_answers_503_without_the_data(client: TestClient, db_url: str) -> None:
    referral_id = bodies.referred(client)
    run_sql(db_url, "DROP TABLE caseledger_access_log")

    response = client.get(f"/referrals/{referral_id}")

    assert_problem(response, 503, "access-log-unavailable")
    assert response.headers["Retry-After"] == "5"
    assert "B-7f3a9c" not in response.text and referral_id not in response.text
    assert client.get("/reports/spending").status_code == 200  # unlogged reads are unaffected


def test_list_endpoints_refuse_a_page_size_above_their_maximum(client: TestClient) -> None:
    for path, params in [
        ("/referrals", {"page_size": 501}),
        ("/audit/decisions", {"page_size": 501}),
        ("/audit/access-log", {"page_size": 501}),
        ("/feed", {"limit": 1001}),
    ]:
        assert_problem(client.get(path, params=params), 422)
        maximum = {key: value - 1 for key, value in params.items()}
        assert client.get(path, params=maximum).status_code == 200, path
