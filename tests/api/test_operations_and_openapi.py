"""Operations (/healthz, /readyz, /metrics, 503 when storage fails) and the served OpenAPI document."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from eventsourcing.persistence import OperationalError
from fastapi.testclient import TestClient

from tests.api import bodies
from tests.api.bodies import PROBLEM_JSON, assert_problem, created, last_position

# Every endpoint of the contract, with the problems each can answer.
WRITE_PROBLEMS = {"400", "404", "409", "412", "413", "422", "503"}
CREATE_PROBLEMS = WRITE_PROBLEMS - {"412"}  # a create has no version to match
READ_PROBLEMS = {"404", "422", "503"}
ENDPOINTS: dict[tuple[str, str], set[str]] = {
    ("post", "/suppliers"): CREATE_PROBLEMS,
    ("post", "/suppliers/{supplier_id}/details"): WRITE_PROBLEMS,
    ("post", "/suppliers/{supplier_id}/price-lists"): WRITE_PROBLEMS,
    ("get", "/suppliers/{supplier_id}"): READ_PROBLEMS,
    ("get", "/suppliers/{supplier_id}/events"): READ_PROBLEMS,
    ("post", "/referrals"): CREATE_PROBLEMS,
    ("post", "/referrals/{referral_id}/match"): WRITE_PROBLEMS,
    ("post", "/referrals/{referral_id}/price-agreement"): WRITE_PROBLEMS,
    ("post", "/referrals/{referral_id}/extension"): WRITE_PROBLEMS,
    ("post", "/referrals/{referral_id}/adjustment"): WRITE_PROBLEMS,
    ("post", "/referrals/{referral_id}/closure"): WRITE_PROBLEMS,
    ("get", "/referrals/{referral_id}"): READ_PROBLEMS,
    ("get", "/audit/verify"): {"503"},
    ("get", "/audit/referrals/{referral_id}"): READ_PROBLEMS,
    ("get", "/audit/decisions"): READ_PROBLEMS,
    ("get", "/referrals"): {"422", "503"},
    ("get", "/reports/suppliers"): READ_PROBLEMS,
    ("get", "/reports/suppliers/{supplier_id}"): READ_PROBLEMS,
    ("get", "/reports/spending"): READ_PROBLEMS,
    ("get", "/reports/price-benchmarks"): READ_PROBLEMS,
    ("get", "/feed"): {"422", "503"},
    ("get", "/referrals/{referral_id}/events"): READ_PROBLEMS,
    ("post", "/events"): {"400", "413", "422", "503"},
    ("get", "/healthz"): set(),
    ("get", "/readyz"): set(),
    ("get", "/metrics"): set(),
}
REQUEST_BODIES = {
    "/suppliers": "SupplierIn",
    "/suppliers/{supplier_id}/details": "SupplierDetailsIn",
    "/suppliers/{supplier_id}/price-lists": "PriceListIn",
    "/referrals": "ReferralIn",
    "/referrals/{referral_id}/match": "MatchIn",
    "/referrals/{referral_id}/price-agreement": "PriceAgreementIn",
    "/referrals/{referral_id}/extension": "ExtensionIn",
    "/referrals/{referral_id}/adjustment": "AdjustmentIn",
    "/referrals/{referral_id}/closure": "ClosureIn",
    "/events": "BatchIn",
}
PROBLEM_SCHEMA = {"$ref": "#/components/schemas/ProblemOut"}


# -- health, readiness, metrics --------------------------------------------------------------------


def test_healthz_says_the_process_is_up(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_storage_and_the_position_of_the_newest_event(client: TestClient) -> None:
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    kind = ready.json()["storage"]["kind"]
    assert kind in ("postgresql", "sqlite")
    storage = ready.json()["storage"]
    storage.pop("free_bytes", None)  # SQLite only (tests/api/test_storage_health.py)
    assert storage == {"ok": True, "last_position": 0, "kind": kind}

    supplier = created(client.post("/suppliers", json=bodies.supplier()))
    referral = created(client.post("/referrals", json=bodies.referral()))
    assert referral["position"] > supplier["position"]
    storage = client.get("/readyz").json()["storage"]
    storage.pop("free_bytes", None)
    assert storage == {
        "ok": True,
        "last_position": referral["position"],
        "kind": kind,
    }


def _samples(text: str, name: str) -> dict[str, float]:
    """``{labels: value}`` of one metric in Prometheus text format."""
    found = {}
    for line in text.splitlines():
        if line.startswith(f"{name}{{") or line.startswith(f"{name} "):
            labels, _, value = line.rpartition(" ")
            found[labels.removeprefix(name)] = float(value)
    return found


def test_metrics_count_requests_by_route_template_and_status_in_prometheus_text(client: TestClient) -> None:
    referral_id = bodies.referred(client)
    client.get(f"/referrals/{referral_id}")
    client.get(f"/referrals/{referral_id}")
    client.get(f"/referrals/{uuid.uuid4()}")
    client.post(f"/referrals/{referral_id}/price-agreement", json=bodies.hourly_agreement())
    client.get("/healthz")
    client.get("/no/such/route")

    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "# TYPE caseledger_http_requests_total counter" in text
    requests = _samples(text, "caseledger_http_requests_total")
    assert requests['{method="POST",route="/referrals",status="201"}'] == 1
    assert requests['{method="GET",route="/referrals/{referral_id}",status="200"}'] == 2
    assert requests['{method="GET",route="/referrals/{referral_id}",status="404"}'] == 1
    assert requests['{method="POST",route="/referrals/{referral_id}/price-agreement",status="409"}'] == 1
    assert requests['{method="GET",route="/healthz",status="200"}'] == 1
    assert requests['{method="GET",route="unmatched",status="404"}'] == 1
    assert not any(referral_id in labels for labels in requests), "ids must not become label values"
    assert "# TYPE caseledger_http_request_seconds histogram" in text
    latency = _samples(text, "caseledger_http_request_seconds_count")
    assert latency['{method="GET",route="/referrals/{referral_id}"}'] == 3
    assert _samples(text, "caseledger_event_store_position") == {"": float(last_position(client))}


# -- storage unavailable -------------------------------------------------------------------------------


def _fail(*args: Any, **kwargs: Any) -> Any:
    raise OperationalError("connection refused (simulated)")


def test_readyz_answers_503_with_retry_after_when_storage_is_unreachable(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client.app.state.ledger.recorder, "max_notification_id", _fail)  # type: ignore[attr-defined]
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert response.json()["storage"]["ok"] is False
    assert client.get("/healthz").status_code == 200, "the process itself is still up"


def test_a_write_answers_503_with_retry_after_when_storage_fails(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    referral_id = bodies.referred(client)
    monkeypatch.setattr(client.app.state.ledger.recorder, "insert_events", _fail)  # type: ignore[attr-defined]
    response = client.post(f"/referrals/{referral_id}/closure", json=bodies.closure())
    problem = assert_problem(response, 503, "storage-unavailable")
    assert response.headers["retry-after"]
    assert "simulated" not in problem["detail"], "internal error text is not leaked"
    monkeypatch.undo()
    assert last_position(client) == 1
    assert client.get(f"/referrals/{referral_id}").json()["status"] == "referred"


def test_a_read_answers_503_when_storage_fails(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    referral_id = bodies.referred(client)
    monkeypatch.setattr(client.app.state.ledger.recorder, "select_events", _fail)  # type: ignore[attr-defined]
    response = client.get(f"/referrals/{referral_id}")
    assert_problem(response, 503, "storage-unavailable")
    assert response.headers["retry-after"]


# -- OpenAPI -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def openapi(sqlite_client: TestClient) -> dict[str, Any]:
    """The served document (it does not depend on the storage, so one app serves it for the module)."""
    response = sqlite_client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def test_openapi_lists_every_endpoint_of_the_contract_that_exists(openapi: dict[str, Any]) -> None:
    served = {(method, path) for path, operations in openapi["paths"].items() for method in operations}
    assert set(ENDPOINTS) <= served
    for (method, path), _ in ENDPOINTS.items():
        operation = openapi["paths"][path][method]
        assert operation.get("summary") or operation.get("description"), f"{method} {path} is undocumented"


@pytest.mark.parametrize(
    ("method", "path"), sorted(ENDPOINTS), ids=[f"{m}-{p}" for m, p in sorted(ENDPOINTS)]
)
def test_openapi_documents_every_problem_an_endpoint_can_answer_as_problem_json(
    openapi: dict[str, Any], method: str, path: str
) -> None:
    responses = openapi["paths"][path][method]["responses"]
    assert {status for status in responses if status.startswith("2")}, "a success answer is documented"
    for status in ENDPOINTS[(method, path)]:
        assert status in responses, f"{method} {path} does not document {status}"
        assert responses[status]["description"]
        assert responses[status]["content"][PROBLEM_JSON]["schema"] == PROBLEM_SCHEMA


def test_openapi_describes_the_problem_shape(openapi: dict[str, Any]) -> None:
    problem = openapi["components"]["schemas"]["ProblemOut"]
    assert {"type", "title", "status", "detail"} <= set(problem["required"])
    assert "errors" in problem["properties"]
    assert "HTTPValidationError" not in openapi["components"]["schemas"], (
        "422 is problem+json, not FastAPI's shape"
    )


@pytest.mark.parametrize(("path", "schema"), sorted(REQUEST_BODIES.items()))
def test_openapi_describes_each_write_body_and_its_headers(
    openapi: dict[str, Any], path: str, schema: str
) -> None:
    operation = openapi["paths"][path]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": f"#/components/schemas/{schema}"}
    headers = {p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"}
    if path in ("/suppliers", "/referrals"):
        assert headers == {"idempotency-key"}  # a create has no version to match
    elif path != "/events":
        assert {"idempotency-key", "if-match"} <= headers
    described = openapi["components"]["schemas"][schema]
    for form in [_resolved(openapi, member) for member in described.get("oneOf", [])] or [described]:
        assert form.get("additionalProperties") is False


def _resolved(openapi: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    name = schema["$ref"].rsplit("/", 1)[1]
    found: dict[str, Any] = openapi["components"]["schemas"][name]
    return found


def test_openapi_describes_a_price_agreement_as_one_of_three_forms_each_with_its_terms(
    openapi: dict[str, Any],
) -> None:
    forms = [_resolved(openapi, m) for m in openapi["components"]["schemas"]["PriceAgreementIn"]["oneOf"]]
    terms = [set(form["required"]) - {"start", "end", "agreed_on", "actor"} for form in forms]
    assert terms == [{"hourly_rate", "hours_per_week"}, {"daily_rate"}, {"package"}]
    for form, others in zip(
        forms, ({"daily_rate", "package"}, {"hourly_rate", "package"}, {"daily_rate"}), strict=True
    ):
        assert not others & set(form["properties"])


def test_openapi_describes_money_as_exact_strings_or_numbers(openapi: dict[str, Any]) -> None:
    rate = openapi["components"]["schemas"]["RateIn"]["properties"]["rate"]
    assert {"type": "string", "pattern": r"^-?\d+(\.\d{1,2})?$"} in rate["anyOf"]
    assert {"type": "number"} in rate["anyOf"]
    assert "two decimals" in rate["description"]
    answer = openapi["components"]["schemas"]["ReferralOut"]["properties"]["committed_total"]
    assert answer["type"] == "string"
    out = openapi["components"]["schemas"]["WriteResultOut"]
    assert set(out["required"]) == {"id", "version", "position"}


def _operations(openapi: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, operations in openapi["paths"].items()
        for method, operation in operations.items()
    ]


def test_openapi_declares_the_problems_every_operation_can_answer(openapi: dict[str, Any]) -> None:
    """Generic over the document (endpoints added later included): a token can be missing or not allowed,
    a body malformed, too large, too slow to arrive or invalid, a parameter invalid, an id unknown, storage unavailable."""
    missing = {}
    for method, path, operation in _operations(openapi):
        needed = set()
        if operation.get("security"):
            needed |= {"401", "503"}
            if not path.startswith("/reference/"):  # every role reads the reference tables
                needed.add("403")
        if "requestBody" in operation:
            needed |= {"400", "408", "413", "422"}
        locations = {parameter["in"] for parameter in operation.get("parameters", [])}
        if locations & {"query", "path"}:
            needed.add("422")
        if "path" in locations:
            needed.add("404")
        if needed - set(operation["responses"]):
            missing[f"{method} {path}"] = sorted(needed - set(operation["responses"]))
        for status in needed:
            if status in operation["responses"]:
                assert operation["responses"][status]["content"][PROBLEM_JSON]["schema"] == PROBLEM_SCHEMA
    assert not missing, f"undeclared problems: {missing}"


def test_openapi_bounds_every_page_size_and_page_of_every_endpoint(openapi: dict[str, Any]) -> None:
    paged = {}
    for method, path, operation in _operations(openapi):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and parameter["name"] in ("page", "page_size", "limit"):
                paged[f"{method} {path} {parameter['name']}"] = parameter["schema"]
    assert {"get /referrals page_size", "get /audit/decisions page_size", "get /feed limit"} <= set(paged)
    unbounded = [name for name, schema in paged.items() if "maximum" not in schema or "minimum" not in schema]
    assert not unbounded, f"page sizes without a maximum: {unbounded}"


@pytest.mark.parametrize("path", ["/referrals/{referral_id}", "/suppliers/{supplier_id}"])
def test_openapi_describes_reads_as_of_a_version_or_an_instant(openapi: dict[str, Any], path: str) -> None:
    parameters = {p["name"]: p for p in openapi["paths"][path]["get"]["parameters"]}
    assert {"version", "as_of"} <= set(parameters)
    assert all(parameters[name]["in"] == "query" for name in ("version", "as_of"))


def test_the_interactive_docs_are_served(sqlite_client: TestClient) -> None:
    response = sqlite_client.get("/docs")
    assert response.status_code == 200
    assert "openapi.json" in response.text
