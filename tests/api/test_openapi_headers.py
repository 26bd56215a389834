"""The headers the server really sends are the ones /openapi.json declares: each test provokes an
answer (401 without a token, 201 create, 200 read, 412 stale If-Match, a replay, 503 while SQLite's
write lock is held elsewhere) and checks every header of interest it carried against the live
document's declaration for that operation and status. Also: dates and instants declare their
format, and there is no /redoc (it would load assets from a CDN)."""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.api import bodies
from tests.api.bodies import created
from tests.tokens import authorize

TRACKED = {"etag", "retry-after", "www-authenticate", "location", "idempotent-replayed"}
CHECKED = re.compile(r"^(2\d\d|401|412|503)$")
OPEN = {"/healthz", "/readyz", "/metrics"}
"""The operations that need no token."""


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def undeclared(document: dict[str, Any], method: str, path: str, answer: httpx.Response) -> set[str]:
    """The tracked headers ``answer`` carried that the document does not declare for its status
    (asserting on the way that its status and media type are declared)."""
    status = str(answer.status_code)
    assert CHECKED.match(status), (method, path, status, answer.text)
    declared = document["paths"][path][method]["responses"].get(status)
    assert declared is not None, f"{method.upper()} {path} answered {status}, which is not declared"
    media_type = answer.headers.get("content-type", "").split(";")[0]
    if media_type and declared.get("content"):
        assert media_type in declared["content"], (method, path, status, media_type)
    sent = {name.lower() for name in answer.headers} & TRACKED
    return sent - {name.lower() for name in declared.get("headers", {})}


def url(path: str, ids: dict[str, str]) -> str:
    """``path`` with its parameters filled: known ids where given, else a fresh UUID."""
    return re.sub(r"\{(\w+)\}", lambda found: ids.get(found.group(1), str(uuid.uuid4())), path)


def test_every_401_sent_carries_only_declared_headers(shared_client: TestClient) -> None:
    """Every operation that needs a token, asked without one and with an unknown one."""
    document = shared_client.get("/openapi.json").json()
    token = shared_client.headers.pop("Authorization")
    asked = 0
    try:
        for method, path, _operation in operations(document):
            if path in OPEN:
                continue
            for headers in ({}, {"Authorization": "Bearer not-a-token"}):
                body = {} if method == "post" else None
                answer = shared_client.request(method, url(path, {}), json=body, headers=headers)
                assert answer.status_code == 401, (method, path, answer.text)
                assert answer.headers["WWW-Authenticate"].startswith("Bearer")
                assert not undeclared(document, method, path, answer), (method, path)
                asked += 1
    finally:
        shared_client.headers["Authorization"] = token
    assert asked >= 50


def test_creates_writes_replays_and_reads_carry_only_declared_headers(shared_client: TestClient) -> None:
    document = shared_client.get("/openapi.json").json()
    answers: list[tuple[str, str, httpx.Response]] = []

    def created_and_replayed(path: str, body: dict[str, Any]) -> str:
        """POST ``body`` twice with one ``Idempotency-Key``: the first creates (its ``Location`` says
        where), the second is a replay; the new id."""
        key = {"Idempotency-Key": f"oa-{uuid.uuid4()}"}
        first, replay = (shared_client.post(path, json=body, headers=key) for _ in range(2))
        assert replay.headers["Idempotent-Replayed"] == "true"
        answers.extend([("post", path, first), ("post", path, replay)])
        new_id = str(created(first)["id"])
        assert first.headers["Location"] == f"{path}/{new_id}"
        return new_id

    supplier_id = created_and_replayed("/suppliers", bodies.supplier())
    price_list = shared_client.post(f"/suppliers/{supplier_id}/price-lists", json=bodies.price_list())
    answers.append(("post", "/suppliers/{supplier_id}/price-lists", price_list))

    referral_id = created_and_replayed("/referrals", bodies.referral())
    match = shared_client.post(f"/referrals/{referral_id}/match", json=bodies.match(supplier_id))
    answers.append(("post", "/referrals/{referral_id}/match", match))
    stale = shared_client.post(
        f"/referrals/{referral_id}/closure", json=bodies.closure(), headers={"If-Match": '"1"'}
    )
    assert stale.status_code == 412, stale.text
    answers.append(("post", "/referrals/{referral_id}/closure", stale))

    ids = {"referral_id": referral_id, "supplier_id": supplier_id}
    for method, path, _operation in operations(document):
        if method == "get":
            answers.append((method, path, shared_client.get(url(path, ids))))

    for method, path, answer in answers:
        if answer.status_code == 422:
            continue  # a query a GET needs and was not given; not a header of interest
        assert not undeclared(document, method, path, answer), (method, path, answer.status_code)
    read = {path: answer for method, path, answer in answers if method == "get"}
    for path in ("/referrals/{referral_id}", "/suppliers/{supplier_id}"):
        assert read[path].status_code == 200 and read[path].headers["ETag"], path


@pytest.fixture
def locked_client(tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    path = tmp_path / "locked.sqlite"
    settings = Settings(
        database_url=f"sqlite:///{path}?lock_timeout=1", run_projections=False, min_position_wait=0.2
    )
    with TestClient(create_app(settings)) as client:
        yield authorize(client), path


def test_503s_sent_while_storage_is_out_of_reach_carry_only_declared_headers(
    locked_client: tuple[TestClient, Path],
) -> None:
    """SQLite's write lock held by another process: writes (and reads that must be recorded in the
    access log) answer 503 with Retry-After, which their operations declare; so do queries for a
    ``min_position`` the projections have not reached."""
    client, path = locked_client
    document = client.get("/openapi.json").json()
    supplier_id = bodies.register_supplier(client)
    referral_id = bodies.referred(client)
    samples = [
        ("post", "/referrals", bodies.referral()),
        ("post", "/suppliers", bodies.supplier()),
        ("post", "/referrals/{referral_id}/closure", bodies.closure()),
        ("post", "/suppliers/{supplier_id}/price-lists", bodies.price_list()),
        ("get", "/referrals/{referral_id}", None),
        ("get", "/referrals/{referral_id}/events", None),
        ("get", "/audit/referrals/{referral_id}", None),
    ]
    ids = {"referral_id": referral_id, "supplier_id": supplier_id}
    with closing(sqlite3.connect(path, isolation_level=None)) as other:
        other.execute("BEGIN EXCLUSIVE")
        try:
            answers = [(m, p, client.request(m, url(p, ids), json=body)) for m, p, body in samples]
        finally:
            other.execute("ROLLBACK")
    position = bodies.last_position(client)  # stored, never projected: the projections do not run
    for path_template in ("/referrals", "/reports/suppliers", "/reports/spending", "/audit/decisions"):
        behind = client.get(path_template, params={"min_position": position})
        assert behind.json()["type"] == "/problems/projections-behind", (path_template, behind.text)
        answers.append(("get", path_template, behind))
    for method, path_template, answer in answers:
        assert answer.status_code == 503, (method, path_template, answer.text)
        assert int(answer.headers["Retry-After"]) >= 1
        assert not undeclared(document, method, path_template, answer), (method, path_template)


def test_every_declared_401_and_503_names_its_header(shared_client: TestClient) -> None:
    """Walking the document: every operation that needs a token declares 401 and 503, every 401
    declares WWW-Authenticate and every 503 Retry-After (as an integer number of seconds)."""
    document = shared_client.get("/openapi.json").json()
    for method, path, operation in operations(document):
        answers = operation["responses"]
        if path not in OPEN:
            assert {"401", "503"} <= set(answers), (method, path)
        if "401" in answers:
            assert set(answers["401"].get("headers", {})) == {"WWW-Authenticate"}, (method, path)
        if "503" in answers:
            retry = answers["503"].get("headers", {}).get("Retry-After")
            assert retry is not None, (method, path)
            assert retry["schema"]["type"] == "integer", (method, path)


def test_problem_answers_are_declared_only_as_problem_json(shared_client: TestClient) -> None:
    """Every error is sent as ``application/problem+json``; none is declared as plain JSON too."""
    document = shared_client.get("/openapi.json").json()
    problems = 0
    for method, path, operation in operations(document):
        for status, answer in operation["responses"].items():
            if not status.startswith("2"):
                assert set(answer.get("content", {})) == {"application/problem+json"}, (method, path, status)
                problems += 1
    assert problems >= 150


def test_dates_and_instants_in_request_bodies_declare_their_format(shared_client: TestClient) -> None:
    """Request bodies use ``Day`` for business dates: each declares ``format: date``."""
    schemas = shared_client.get("/openapi.json").json()["components"]["schemas"]
    dates = re.compile(r"(_on|_from|_to|_end|_start)$|^(start|end)$")
    checked = 0
    for name, schema in schemas.items():
        if not name.endswith("In"):
            continue
        for prop, definition in schema.get("properties", {}).items():
            if dates.search(prop):
                options = definition.get("anyOf", [definition])
                assert {"type": "string", "format": "date"} in [
                    {k: v for k, v in option.items() if k in {"type", "format"}} for option in options
                ], (name, prop)
                checked += 1
    assert checked >= 12


def test_a_date_or_instant_query_declares_both_formats(shared_client: TestClient) -> None:
    document = shared_client.get("/openapi.json").json()
    parameters = document["paths"]["/audit/access-log"]["get"]["parameters"]
    period = {p["name"]: p["schema"] for p in parameters if p["name"] in {"from", "to"}}
    assert set(period) == {"from", "to"}
    for schema in period.values():
        (given,) = [option for option in schema["anyOf"] if option.get("type") != "null"]
        assert {option.get("format") for option in given["anyOf"]} == {"date", "date-time"}
    for value in ("2026-06-01", "2026-06-01T08:00:00Z"):
        assert shared_client.get("/audit/access-log", params={"from": value}).status_code == 200
    refused = shared_client.get("/audit/access-log", params={"from": "2026-06-01T08:00:00"})
    assert refused.status_code == 422, "an instant without an offset stays refused"


def test_there_is_no_redoc_and_the_docs_say_so(shared_client: TestClient) -> None:
    """ReDoc fetches its logo from its CDN even when its script is served locally: /docs (Swagger UI,
    served from the package's own assets) is the only rendering of the document."""
    assert shared_client.get("/redoc").status_code == 404
    assert shared_client.get("/docs").status_code == 200
    guide = (Path(__file__).parents[2] / "docs" / "api.md").read_text()
    assert "There is no `/redoc`" in guide
