"""What an integrator reads in /openapi.json matches what the server does: the batch limit, the
headers of writes and reads, and where Idempotency-Key and If-Match apply."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any, get_args

from fastapi.testclient import TestClient

from api.app import create_app
from api.schemas import EventType
from api.settings import Settings
from tests.api import bodies
from tests.tokens import authorize


def test_the_batch_limit_in_the_document_is_the_one_enforced(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'c.sqlite'}", max_batch_items=3)
    with TestClient(create_app(settings)) as client:
        authorize(client)
        document = client.get("/openapi.json").json()
        assert document["components"]["schemas"]["BatchIn"]["properties"]["events"]["maxItems"] == 3
        items = [
            {"event_id": f"e-{i}", "type": "referral.referred", "data": bodies.referral()} for i in range(4)
        ]
        refused = client.post("/events", json={"events": items})
        assert refused.status_code == 422
        assert refused.json()["type"] == "/problems/batch-too-large"
        assert client.post("/events", json={"events": items[:3]}).status_code == 200


def test_a_create_answers_location_and_its_headers_are_declared(shared_client: TestClient) -> None:
    created = shared_client.post("/referrals", json=bodies.referral())
    assert created.status_code == 201
    location = created.headers["Location"]
    assert location == f"/referrals/{created.json()['id']}"
    read = shared_client.get(location)
    assert read.status_code == 200
    assert read.headers["ETag"] == created.headers["ETag"] == '"1"'
    supplier = shared_client.post("/suppliers", json=bodies.supplier())
    assert supplier.headers["Location"] == f"/suppliers/{supplier.json()['id']}"

    document = shared_client.get("/openapi.json").json()
    for path in ("/referrals", "/suppliers"):
        operation = document["paths"][path]["post"]
        assert set(operation["responses"]["201"]["headers"]) == {"ETag", "Idempotent-Replayed", "Location"}
        headers = {p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"}
        assert headers == {"idempotency-key"}, "a create has no version to match"
        assert "412" not in operation["responses"]
    match = document["paths"]["/referrals/{referral_id}/match"]["post"]
    assert set(match["responses"]["200"]["headers"]) == {"ETag", "Idempotent-Replayed"}
    assert {p["name"].lower() for p in match["parameters"] if p["in"] == "header"} == {
        "idempotency-key",
        "if-match",
    }
    for path in ("/referrals/{referral_id}", "/suppliers/{supplier_id}"):
        assert set(document["paths"][path]["get"]["responses"]["200"]["headers"]) == {"ETag"}


def test_every_401_and_503_declares_the_header_it_carries(shared_client: TestClient) -> None:
    document = shared_client.get("/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            answers = operation["responses"]
            if "401" in answers:
                assert "WWW-Authenticate" in answers["401"].get("headers", {}), (method, path)
            if "503" in answers:
                assert "Retry-After" in answers["503"].get("headers", {}), (method, path)
    refused = shared_client.get("/referrals", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_batch_item_is_documented_as_a_union_of_the_commands_keyed_by_type(
    shared_client: TestClient,
) -> None:
    """Each command's item is a model of its own (``data`` is the command's body); a client built from
    the document sends an item it describes, and the server accepts it."""
    document = shared_client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    items = schemas["BatchIn"]["properties"]["events"]["items"]
    mapping = items["discriminator"]["mapping"]
    assert items["discriminator"]["propertyName"] == "type"
    assert set(mapping) == set(get_args(EventType))
    matched = schemas["ReferralMatchedItem"]
    assert matched["properties"]["data"] == {"$ref": "#/components/schemas/MatchIn"}
    assert {"event_id", "type", "data", "referral_id"} <= set(matched["required"])
    referred = schemas["ReferralReferredItem"]
    assert "referral_id" not in referred["required"]  # a create may name its id in data
    for reference in mapping.values():
        assert reference.removeprefix("#/components/schemas/") in schemas

    item = {"event_id": "typed-1", "type": "referral.referred", "data": bodies.referral()}
    answer = shared_client.post("/events", json={"events": [item]})
    assert answer.json()["results"][0]["status"] == "accepted"


def _string_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The string alternative of a property (``X | None`` is an ``anyOf`` with null)."""
    for option in schema.get("anyOf", [schema]):
        if option.get("type") == "string":
            return option
    return {}


def test_dates_and_instants_in_answers_declare_their_format(shared_client: TestClient) -> None:
    """Every answer property named as an instant (``…_at``) is a date-time, every business date a date,
    and the values served parse as such."""
    schemas = shared_client.get("/openapi.json").json()["components"]["schemas"]
    checked = 0
    for name, schema in schemas.items():
        if not name.endswith("Out"):
            continue
        for prop, definition in schema.get("properties", {}).items():
            string = _string_schema(definition)
            if prop.endswith("_at") or prop == "at":
                assert string.get("format") == "date-time", (name, prop)
                checked += 1
            elif prop.endswith("_on") or prop in {"start", "end", "requested_start", "expected_end"}:
                assert string.get("format") == "date", (name, prop)
                checked += 1
    assert checked >= 20

    referral_id = bodies.closed(shared_client)
    state = shared_client.get(f"/referrals/{referral_id}").json()
    for prop in ("requested_start", "expected_end", "referred_on", "start", "end", "closed_on"):
        date.fromisoformat(state[prop])
    for prop in ("created_at", "modified_at"):
        datetime.fromisoformat(state[prop])
