"""Access control: every role × a representative of every right × own and another municipality.

All role tokens here are scoped to Odense (461); "other" is Assens (101). A right the role lacks
answers 403 whatever the municipality; with the right, a referral of another municipality answers
404 (its existence is not revealed) and a body or query naming another municipality 403.
"""

from __future__ import annotations

import hashlib
import itertools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.api import bodies
from tests.api.bodies import ODENSE, assert_problem
from tests.conftest import STORAGES
from tests.storage import database_url, run_sql
from tests.tokens import authorize, bearer, new_token, token_store

OTHER = "101"
ROLES = ("case_system", "caseworker", "matcher", "auditor", "reporter", "admin")
SECRET_REFS = ("citizen_ref", "case_ref", "B-7f3a9c", "SAG-2026-0042")


@dataclass
class World:
    """One app per storage, an admin ``*`` client, a supplier and a referral in each municipality."""

    client: TestClient
    url: str
    supplier: str
    referrals: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)

    def referral(self, municipality: str, state: str = "referred") -> str:
        """A referral in ``municipality``; a fresh one in the wanted state for the token's own."""
        if municipality != ODENSE:
            return self.referrals[municipality]
        if state == "referred":
            return bodies.referred(self.client)
        if state == "matched":
            return bodies.matched(self.client, supplier_id=self.supplier)[0]
        referral_id, _ = bodies.matched(self.client, supplier_id=self.supplier)
        bodies.created(
            self.client.post(f"/referrals/{referral_id}/price-agreement", json=bodies.hourly_agreement()),
            200,
        )
        return referral_id


@pytest.fixture(scope="module", params=STORAGES)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with (
        database_url(request.param, tmp_path_factory.mktemp("auth")) as url,
        TestClient(create_app(Settings(database_url=url))) as client,
    ):
        authorize(client)
        supplier = bodies.supplier_with_prices(client)
        bodies.created(
            client.post(f"/suppliers/{supplier}/price-lists", json=bodies.price_list(municipality=OTHER)),
            200,
        )
        referrals = {}
        for municipality in (ODENSE, OTHER):
            referral_id, _ = bodies.matched(client, supplier_id=supplier, municipality=municipality)
            bodies.created(
                client.post(f"/referrals/{referral_id}/price-agreement", json=bodies.hourly_agreement()),
                200,
            )
            referrals[municipality] = referral_id
        last = bodies.last_position(client)
        assert client.get("/reports/spending", params={"min_position": last}).status_code == 200
        found = World(client, url, supplier, referrals)
        for role in ROLES:
            found.tokens[role] = new_token(client, role, ODENSE, name=f"{role}-461")
        yield found


Prepare = Callable[[World, str], str]
Send = Callable[[World, str, str, dict[str, str]], Any]


@dataclass(frozen=True)
class Case:
    """One endpoint: who holds its right, and what another municipality gets (None: not scoped).

    ``prepare`` makes what the request needs (as the admin) and gives its target id; ``send`` makes
    the request with the role's token."""

    roles: frozenset[str]
    send: Send
    prepare: Prepare = lambda w, m: ""
    ok: int = 200
    other: int | None = 404


def _state(state: str) -> Prepare:
    return lambda w, m: w.referral(m, state)


def _referral_write(action: str, body: Callable[[World], dict[str, Any]]) -> Send:
    return lambda w, target, m, h: w.client.post(f"/referrals/{target}/{action}", json=body(w), headers=h)


def _batch(w: World, target: str, municipality: str, headers: dict[str, str]) -> Any:
    item = {
        "event_id": f"auth-{uuid.uuid4()}",
        "type": "referral.referred",
        "data": bodies.referral(municipality=municipality),
    }
    return w.client.post("/events", json={"events": [item]}, headers=headers)


def _get(path: Callable[[World, str], str], params: bool = False) -> Send:
    def send(w: World, target: str, municipality: str, headers: dict[str, str]) -> Any:
        query = {"municipality": municipality} if params else None
        return w.client.get(path(w, municipality), params=query, headers=headers)

    return send


def _practice(w: World, target: str, municipality: str, headers: dict[str, str]) -> Any:
    query = {"from": "2026-01", "to": "2026-12", "by": "supplier", "municipality": municipality}
    return w.client.get("/reports/practice", params=query, headers=headers)


def _citizen(w: World, municipality: str) -> str:
    """A citizen with one referral in ``municipality`` (filed by the admin ``*`` client)."""
    citizen_ref = f"C-{uuid.uuid4().hex[:8]}"  # eight hex digits never read as a CPR number (ten)
    bodies.referred(w.client, municipality=municipality, citizen_ref=citizen_ref)
    return citizen_ref


def _erase(w: World, target: str, municipality: str, headers: dict[str, str]) -> Any:
    body = {"citizen_ref": target, "reason": "the citizen asked (ticket 17)"}
    return w.client.post("/admin/erasures", json=body, headers=headers)


def _own_cost(w: World, target: str, municipality: str, headers: dict[str, str]) -> Any:
    """An own cost at a rate not recorded before (the same rate again for the same date is 409)."""
    body = {"intervention": "family-treatment", "unit": "hour", "rate": f"{next(OWN_COST_RATES)}.00"}
    body |= {"valid_from": "2026-01-01", "rationale": "Own staff per hour", "actor": bodies.MATCHER}
    return w.client.post(f"/municipalities/{municipality}/own-costs", json=body, headers=headers)


OWN_COST_RATES = itertools.count(500)
WRITERS = frozenset({"case_system", "caseworker", "admin"})
MATCHERS = frozenset({"case_system", "matcher", "admin"})
SUPPLIER_WRITERS = frozenset({"matcher", "admin"})
REFERRAL_READERS = frozenset({"case_system", "caseworker", "matcher", "auditor", "admin"})
REPORT_READERS = frozenset({"reporter", "auditor", "admin"})
CANDIDATE_READERS = frozenset({"caseworker", "matcher", "admin"})
OWN_COST_READERS = CANDIDATE_READERS | REPORT_READERS
AUDITORS = frozenset({"auditor", "admin"})

CASES: dict[str, Case] = {
    "POST /referrals": Case(
        WRITERS,
        lambda w, t, m, h: w.client.post("/referrals", json=bodies.referral(municipality=m), headers=h),
        ok=201,
        other=403,
    ),
    "POST /referrals/{id}/match": Case(
        MATCHERS, _referral_write("match", lambda w: bodies.match(w.supplier)), _state("referred")
    ),
    "POST /referrals/{id}/price-agreement": Case(
        MATCHERS,
        _referral_write("price-agreement", lambda w: bodies.hourly_agreement()),
        _state("matched"),
    ),
    "POST /referrals/{id}/extension": Case(
        WRITERS, _referral_write("extension", lambda w: bodies.extension()), _state("active")
    ),
    "POST /referrals/{id}/adjustment": Case(
        WRITERS,
        _referral_write("adjustment", lambda w: bodies.adjustment("2026-03-01", decided_on="2026-02-25")),
        _state("active"),
    ),
    "POST /referrals/{id}/closure": Case(
        WRITERS, _referral_write("closure", lambda w: bodies.closure()), _state("active")
    ),
    "POST /events": Case(frozenset({"case_system", "admin"}), _batch, other=403),
    "POST /suppliers": Case(
        SUPPLIER_WRITERS,
        lambda w, t, m, h: w.client.post("/suppliers", json=bodies.supplier(), headers=h),
        ok=201,
        other=None,
    ),
    "POST /suppliers/{id}/details": Case(
        SUPPLIER_WRITERS,
        lambda w, t, m, h: w.client.post(
            f"/suppliers/{w.supplier}/details", json={"competencies": ["family therapy"]}, headers=h
        ),
        other=None,
    ),
    "POST /suppliers/{id}/price-lists": Case(
        SUPPLIER_WRITERS,
        lambda w, t, m, h: w.client.post(
            f"/suppliers/{w.supplier}/price-lists", json=bodies.price_list(municipality=m), headers=h
        ),
        other=403,
    ),
    "POST /municipalities/{code}/own-costs": Case(SUPPLIER_WRITERS, _own_cost, ok=201, other=403),
    "GET /municipalities/{code}/own-costs": Case(
        OWN_COST_READERS, _get(lambda w, m: f"/municipalities/{m}/own-costs"), other=403
    ),
    "GET /suppliers/{id}": Case(frozenset(ROLES), _get(lambda w, m: f"/suppliers/{w.supplier}"), other=None),
    "GET /suppliers/{id}/events": Case(
        frozenset(ROLES), _get(lambda w, m: f"/suppliers/{w.supplier}/events"), other=None
    ),
    "GET /referrals/{id}": Case(REFERRAL_READERS, _get(lambda w, m: f"/referrals/{w.referrals[m]}")),
    "GET /referrals/{id}/events": Case(
        REFERRAL_READERS, _get(lambda w, m: f"/referrals/{w.referrals[m]}/events")
    ),
    "GET /referrals/{id}/candidates": Case(
        CANDIDATE_READERS, _get(lambda w, m: f"/referrals/{w.referrals[m]}/candidates")
    ),
    "GET /referrals": Case(REFERRAL_READERS, _get(lambda w, m: "/referrals", params=True), other=403),
    "GET /reports/suppliers": Case(
        REPORT_READERS, _get(lambda w, m: "/reports/suppliers", params=True), other=403
    ),
    "GET /reports/suppliers/{id}": Case(
        REPORT_READERS, _get(lambda w, m: f"/reports/suppliers/{w.supplier}", params=True), other=403
    ),
    "GET /reports/spending": Case(
        REPORT_READERS, _get(lambda w, m: "/reports/spending", params=True), other=403
    ),
    "GET /reports/price-benchmarks": Case(
        REPORT_READERS, _get(lambda w, m: "/reports/price-benchmarks", params=True), other=403
    ),
    "GET /reports/practice": Case(REPORT_READERS, _practice, other=403),
    "GET /reports/price-exceptions": Case(
        REPORT_READERS, _get(lambda w, m: "/reports/price-exceptions", params=True), other=403
    ),
    "GET /reports/price-lists": Case(
        REPORT_READERS, _get(lambda w, m: "/reports/price-lists", params=True), other=403
    ),
    "GET /audit/referrals/{id}": Case(AUDITORS, _get(lambda w, m: f"/audit/referrals/{w.referrals[m]}")),
    "GET /audit/verify": Case(AUDITORS, _get(lambda w, m: "/audit/verify"), other=None),
    "GET /audit/decisions": Case(AUDITORS, _get(lambda w, m: "/audit/decisions", params=True), other=403),
    "GET /feed": Case(frozenset({"case_system", "auditor", "admin"}), _get(lambda w, m: "/feed"), other=None),
    "GET /audit/access-log": Case(AUDITORS, _get(lambda w, m: "/audit/access-log", params=True), other=403),
    "POST /admin/erasures": Case(frozenset({"admin"}), _erase, _citizen),
    "GET /audit/erasures": Case(AUDITORS, _get(lambda w, m: "/audit/erasures"), other=None),
}


def _status(endpoint: str, response: Any) -> int:
    """The answer's status; for a batch, the status its one item got (200 when accepted)."""
    if endpoint == "POST /events" and response.status_code == 200:
        [result] = response.json()["results"]
        return 200 if result["status"] == "accepted" else int(result["problem"]["status"])
    return int(response.status_code)


def _expected(case: Case, role: str, municipality: str) -> int:
    if role not in case.roles:
        return 403
    if municipality == ODENSE or case.other is None:
        return case.ok
    return case.other


@pytest.mark.parametrize("municipality", [ODENSE, OTHER], ids=["own", "other"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(CASES))
def test_each_role_gets_the_documented_status_for_its_own_and_another_municipality(
    world: World, endpoint: str, role: str, municipality: str
) -> None:
    case = CASES[endpoint]
    target = case.prepare(world, municipality)
    position = bodies.last_position(world.client)

    response = case.send(world, target, municipality, bearer(world.tokens[role]))

    expected = _expected(case, role, municipality)
    assert _status(endpoint, response) == expected, response.text
    if expected in (403, 404):
        if endpoint != "POST /events":
            assert_problem(response, expected)
        assert bodies.last_position(world.client) == position, "a refused request wrote something"


@pytest.mark.parametrize("endpoint", list(CASES))
def test_every_endpoint_without_a_token_answers_401_with_www_authenticate(
    world: World, endpoint: str
) -> None:
    case = CASES[endpoint]
    target = case.prepare(world, ODENSE)
    admin = world.client.headers.pop("Authorization")
    try:
        response = case.send(world, target, ODENSE, {})
    finally:
        world.client.headers["Authorization"] = admin

    body = assert_problem(response, 401, "missing-token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Bearer" in body["detail"]


@pytest.mark.parametrize(
    "header", ["Bearer not-a-token", "Basic dXNlcjpwYXNz", "Bearer ", "bearer x y"], ids=str
)
def test_an_unknown_or_malformed_token_answers_401(world: World, header: str) -> None:
    response = world.client.get(f"/referrals/{world.referrals[ODENSE]}", headers={"Authorization": header})

    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


BAD_IDS: dict[str, Callable[[str], str]] = {
    "not-a-uuid": lambda _: "not-a-uuid",
    # Forms Python's UUID() reads but the path's UUID field refuses.
    "hyphen-moved": lambda id_: id_[:7] + "-" + id_[7:].replace("-", "", 1),
    "plus-sign": lambda id_: "+" + id_[1:],
}


@pytest.mark.parametrize("method, action", [("POST", "/closure"), ("GET", "")])
@pytest.mark.parametrize("segment", BAD_IDS)
def test_the_token_answers_before_a_bad_referral_id_in_the_path(
    world: World, method: str, action: str, segment: str
) -> None:
    """Without a token: 401, saying nothing about the path; with one, scoped or not: 422 on
    ``referral_id``, reported once."""
    path = f"/referrals/{BAD_IDS[segment](world.referrals[ODENSE])}{action}"
    body = {} if method == "POST" else None
    admin = world.client.headers.pop("Authorization")
    try:
        assert_problem(world.client.request(method, path, json=body), 401, "missing-token")
        for headers in (bearer(world.tokens["case_system"]), {"Authorization": admin}):
            response = world.client.request(method, path, json=body, headers=headers)
            problem = assert_problem(response, 422, "invalid-input")
            assert [error["loc"] for error in problem["errors"]].count(["path", "referral_id"]) == 1
    finally:
        world.client.headers["Authorization"] = admin


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"])
def test_operations_and_documentation_stay_open(world: World, path: str) -> None:
    admin = world.client.headers.pop("Authorization")
    try:
        assert world.client.get(path).status_code == 200
    finally:
        world.client.headers["Authorization"] = admin


def test_a_revoked_token_answers_401_from_then_on(world: World) -> None:
    secret = new_token(world.client, "auditor", ODENSE, name="soon-revoked")
    assert world.client.get("/audit/verify", headers=bearer(secret)).status_code == 200

    token_store(world.client).revoke("soon-revoked")

    response = world.client.get("/audit/verify", headers=bearer(secret))
    assert_problem(response, 401, "invalid-token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_referral_is_checked_the_same_by_a_process_that_has_not_seen_it(world: World) -> None:
    """The API remembers the municipality of the referrals it filed or looked up; another API
    process on the same store (a second worker) reads it from the store, with the same answers."""
    secret = new_token(world.client, "caseworker", ODENSE, name="second-worker")
    own, other = bodies.referred(world.client), world.referrals[OTHER]
    close = bodies.closure(closed_on="2026-02-01")
    with TestClient(create_app(Settings(database_url=world.url))) as second:
        assert_problem(second.post(f"/referrals/{other}/closure", json=close, headers=bearer(secret)), 404)
        assert second.post(f"/referrals/{own}/closure", json=close, headers=bearer(secret)).status_code == 200
        # now remembered by the second process too: still 404 for the other municipality
        assert_problem(second.post(f"/referrals/{other}/closure", json=close, headers=bearer(secret)), 404)


def test_tokens_are_stored_only_as_hashes(world: World) -> None:
    secret = new_token(world.client, "matcher", ODENSE, name="hash-only")

    rows = run_sql(world.url, "SELECT * FROM caseledger_tokens")
    stored = repr(rows)
    assert secret not in stored
    assert hashlib.sha256(secret.encode()).hexdigest() in stored
    if world.url.startswith("sqlite:"):
        path = Path(world.url.removeprefix("sqlite:///"))
        for file in path.parent.glob(f"{path.name}*"):  # the database, its WAL and shared memory
            assert secret.encode() not in file.read_bytes()
    else:
        [(as_text,)] = run_sql(world.url, "SELECT string_agg(t::text, ',') FROM caseledger_tokens t")
        assert secret not in str(as_text)
        [(in_events,)] = run_sql(
            world.url,
            "SELECT count(*) FROM stored_events WHERE position(convert_to(?, 'UTF8') in state) > 0",
            [secret],
        )
        assert in_events == 0


@pytest.mark.parametrize(
    "path",
    [
        "/reports/suppliers",
        "/reports/suppliers/{supplier}",
        "/reports/spending?by=supplier",
        "/reports/spending?by=municipality",
        "/reports/price-benchmarks",
        "/reports/price-exceptions",
        "/reports/price-lists",
        "/reports/practice?from=2026-01&to=2026-12&by=supplier",
    ],
)
@pytest.mark.parametrize("accept", ["application/json", "text/csv"])
def test_a_reporters_reports_never_carry_citizen_or_case_references(
    world: World, path: str, accept: str
) -> None:
    response = world.client.get(
        path.format(supplier=world.supplier),
        headers={**bearer(world.tokens["reporter"]), "Accept": accept},
    )

    assert response.status_code == 200, response.text
    for secret in SECRET_REFS:
        assert secret not in response.text


def test_a_scoped_token_sees_only_its_own_municipality_in_lists_feeds_and_searches(world: World) -> None:
    own, other = world.referrals[ODENSE], world.referrals[OTHER]
    auditor = bearer(world.tokens["auditor"])

    listed = world.client.get("/referrals", params={"page_size": 500}, headers=auditor).json()
    assert {item["municipality"] for item in listed["items"]} == {ODENSE}
    assert own in {item["id"] for item in listed["items"]}

    feed = world.client.get("/feed", params={"limit": 1000}, headers=auditor).json()
    streams = {item["stream_id"] for item in feed}
    assert own in streams and other not in streams and world.supplier in streams

    decisions = world.client.get("/audit/decisions", params={"page_size": 500}, headers=auditor).json()
    assert {item["municipality"] for item in decisions["items"]} == {ODENSE}

    spending = world.client.get("/reports/spending", params={"by": "municipality"}, headers=auditor).json()
    assert {row["key"] for row in spending["rows"]} == {ODENSE}

    everything = world.client.get("/feed", params={"limit": 1000}).json()
    assert other in {item["stream_id"] for item in everything}


def test_a_scoped_feed_reads_on_past_other_municipalities_events(world: World) -> None:
    first_other = next(
        item["position"]
        for item in world.client.get("/feed", params={"limit": 1000}).json()
        if item["stream_id"] == world.referrals[OTHER]
    )
    feed = world.client.get(
        "/feed", params={"after": first_other - 1, "limit": 1}, headers=bearer(world.tokens["case_system"])
    ).json()

    assert len(feed) == 1 and feed[0]["stream_id"] != world.referrals[OTHER]


def test_a_batch_authorises_each_item_on_its_own(world: World) -> None:
    other_referral = world.referrals[OTHER]
    supplier_item = {
        "event_id": "auth-batch-supplier",
        "type": "supplier.registered",
        "data": bodies.supplier(),
    }
    items = [
        {"event_id": "auth-batch-own", "type": "referral.referred", "data": bodies.referral()},
        {
            "event_id": "auth-batch-other",
            "type": "referral.referred",
            "data": bodies.referral(municipality=OTHER),
        },
        {
            "event_id": "auth-batch-closure",
            "type": "referral.closed",
            "referral_id": other_referral,
            "data": bodies.closure(),
        },
        supplier_item,
    ]

    response = world.client.post(
        "/events", json={"events": items}, headers=bearer(world.tokens["case_system"])
    )

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected", "rejected", "rejected"]
    assert [r["problem"]["status"] for r in results[1:]] == [403, 404, 403]
    assert results[1]["problem"]["type"] == "/problems/municipality-not-allowed"
    assert results[3]["problem"]["type"] == "/problems/role-not-allowed"


def test_an_all_municipalities_token_reads_and_writes_any_municipality(world: World) -> None:
    secret = new_token(world.client, "caseworker", "*", name="caseworker-all")

    assert world.client.get(f"/referrals/{world.referrals[OTHER]}", headers=bearer(secret)).status_code == 200
    response = world.client.post(
        "/referrals", json=bodies.referral(municipality=OTHER), headers=bearer(secret)
    )
    assert response.status_code == 201, response.text


def test_a_supplier_write_without_an_actor_records_the_tokens_name(world: World) -> None:
    body = bodies.supplier()
    del body["actor"]

    result = bodies.created(
        world.client.post("/suppliers", json=body, headers=bearer(world.tokens["matcher"]))
    )

    events = bodies.events_of(world.client, "suppliers", result["id"])
    assert events[0]["actor"] == {"id": "matcher-461"}


def test_a_price_list_without_an_actor_records_the_tokens_name_in_a_request_and_a_batch(
    world: World,
) -> None:
    supplier_id = bodies.created(world.client.post("/suppliers", json=bodies.supplier()))["id"]
    body = bodies.price_list()
    del body["actor"]
    headers = bearer(world.tokens["matcher"])

    bodies.created(
        world.client.post(f"/suppliers/{supplier_id}/price-lists", json=body, headers=headers), 200
    )
    item = {"event_id": f"pl-{supplier_id}", "type": "supplier.price_list_negotiated"}
    batch = {"events": [{**item, "supplier_id": supplier_id, "data": body}]}
    answer = world.client.post("/events", json=batch, headers=bearer(world.tokens["admin"]))
    assert answer.json()["results"][0]["status"] == "accepted", answer.text

    events = bodies.events_of(world.client, "suppliers", supplier_id)
    assert [event["actor"] for event in events[1:]] == [{"id": "matcher-461"}, {"id": "admin-461"}]


def test_openapi_documents_the_bearer_scheme_and_401_403_on_every_protected_endpoint(world: World) -> None:
    spec = world.client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if path in ("/healthz", "/readyz", "/metrics"):
                assert "security" not in operation
                continue
            assert operation["security"] == [{"HTTPBearer": []}], (method, path)
            assert "401" in operation["responses"], (method, path)
            # Every role reads the reference tables, so only they cannot answer 403.
            refusable = not path.startswith("/reference/")
            assert ("403" in operation["responses"]) == refusable, (method, path)
