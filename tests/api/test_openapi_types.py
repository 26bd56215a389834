"""Integrators generate clients from /openapi.json: every answer's shape is a typed schema there, and
the typed response models describe (and pass through unchanged) what the server actually sends."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import fastapi.routing
import pytest
from fastapi.encoders import jsonable_encoder
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from api.audit_responses import AccessLogPageOut, DecisionPageOut, TrailOut
from api.event_data import title
from api.event_responses import EventOut, FeedEventOut
from api.responses import (
    BatchOut,
    ProblemOut,
    ReferralOut,
    SupplierOut,
    SupplierOverviewOut,
    SupplierReportOut,
)
from application.service.commands import EVENTS
from tests.api import bodies
from tests.api.test_idempotency_and_concurrency import item, post_batch

# Free-form objects the document may keep, each with why (none today: an event's ``data`` has one
# schema per event ``type``, api/event_data.py).
FREE_FORM_ALLOWED: set[str] = set()


def _free_form(schema: Any) -> bool:
    """An object whose keys and values the document leaves open: ``{}``, or an object with neither
    properties nor a typed ``additionalProperties`` (a map ``{str: T}`` with a schema for T is typed)."""
    if not isinstance(schema, dict):
        return False
    if schema == {}:
        return True
    if schema.get("type") != "object" and "additionalProperties" not in schema:
        return False
    extra = schema.get("additionalProperties")
    return extra is True or (not schema.get("properties") and not isinstance(extra, dict))


def _free_forms(schema: Any, where: str) -> Iterator[str]:
    """Where, under ``where``, the schema holds a free-form object (named ``Model.field``)."""
    if isinstance(schema, dict):
        if _free_form(schema):
            yield where
        for key, value in schema.items():
            if key == "properties":
                for name, field in value.items():
                    yield from _free_forms(field, f"{where}.{name}")
            elif key not in ("examples", "example", "default", "const", "enum"):
                yield from _free_forms(value, where)
    elif isinstance(schema, list):
        for value in schema:
            yield from _free_forms(value, where)


def test_no_component_is_a_free_form_object_but_the_allowed(shared_client: TestClient) -> None:
    document = shared_client.get("/openapi.json").json()
    found = {
        where
        for name, schema in document["components"]["schemas"].items()
        for where in _free_forms(schema, name)
    }
    assert found - FREE_FORM_ALLOWED == set(), "free-form objects in the document"
    assert FREE_FORM_ALLOWED - found == set(), "typed now: take them off FREE_FORM_ALLOWED"


def test_the_walk_finds_each_kind_of_free_form_object() -> None:
    assert _free_form({})
    assert _free_form({"type": "object"})
    assert _free_form({"type": "object", "additionalProperties": True})
    assert _free_form({"type": "object", "properties": {"a": {}}, "additionalProperties": True})
    assert not _free_form({"type": "object", "additionalProperties": {"type": "string"}})
    assert not _free_form({"type": "object", "properties": {"a": {"type": "string"}}})
    assert not _free_form({"$ref": "#/components/schemas/ActorOut"})
    nested = {"properties": {"a": {"anyOf": [{"type": "object"}, {"type": "null"}]}}}
    assert list(_free_forms(nested, "M")) == ["M.a"]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """What each route built and what its response model made of it, as JSON text (keys sorted: the
    answer's key order is the model's whatever order the route built a mapping in)."""
    pairs: list[tuple[str, str]] = []
    original = fastapi.routing.serialize_response

    async def recording(**kwargs: Any) -> Any:
        result = await original(**kwargs)
        answered = json.loads(result) if isinstance(result, bytes | str) else result
        built = jsonable_encoder(kwargs["response_content"])
        pairs.append((json.dumps(built, sort_keys=True), json.dumps(answered, sort_keys=True)))
        return result

    monkeypatch.setattr(fastapi.routing, "serialize_response", recording)
    return pairs


def _read(client: TestClient, path: str, model: Any) -> Any:
    response = client.get(path)
    assert response.status_code == 200, response.text
    body = response.json()
    TypeAdapter(model).validate_python(body)
    return body


def _lifecycle(client: TestClient) -> tuple[str, str, str]:
    """A supplier with prices and changed details, an hourly referral run to its close, a package
    referral, an own cost, and referral events sent by a case system (with a ``source``)."""
    supplier_id = bodies.supplier_with_prices(client)
    details = {
        "contact": {"email": "ny@familiehuset.dk"},
        "capacity_hours_per_week": "40",
        "actor": {"id": "mo-9"},
    }
    bodies.created(client.post(f"/suppliers/{supplier_id}/details", json=details), 200)
    hourly = bodies.extended(client)
    bodies.created(client.post(f"/referrals/{hourly}/adjustment", json=bodies.adjustment()), 200)
    bodies.created(client.post(f"/referrals/{hourly}/closure", json=bodies.closure()), 200)
    package = bodies.active(client, bodies.package_agreement())
    own_cost = {"intervention": "family-treatment", "unit": "hour", "rate": "640.00"}
    own_cost |= {"valid_from": "2026-01-01", "rationale": "Own staff", "actor": {"id": "mo-9"}}
    bodies.created(client.post(f"/municipalities/{bodies.ODENSE}/own-costs", json=own_cost), 201)
    integrated = str(uuid.uuid4())
    results = post_batch(
        client,
        [
            item(f"r-{integrated}", "referral.referred", bodies.referral(), referral_id=integrated),
            item(f"m-{integrated}", "referral.matched", bodies.match(supplier_id), referral_id=integrated),
        ],
    )
    assert [r["status"] for r in results] == ["accepted", "accepted"]
    return supplier_id, hourly, package


def test_real_answers_fit_the_typed_models_unchanged(client: TestClient, sent: list[tuple[str, str]]) -> None:
    supplier_id, hourly, package = _lifecycle(client)
    feed = _read(client, "/feed?limit=1000", list[FeedEventOut])
    typed = TypeAdapter(list[FeedEventOut]).validate_python(feed)
    assert {event.type for event in typed} == set(EVENTS), "the lifecycle records every event type"
    for event in typed:  # each event is read as the model of its own type, its data as that type's
        assert type(event).__name__ == title(event.type, "FeedEventOut")
        assert type(event.data).__name__ == title(event.type, "Data")
    integrated = feed[-1]
    assert integrated["source"] == {"system": "DUBU", "event_id": f"m-{integrated['stream_id']}"}

    supplier = _read(client, f"/suppliers/{supplier_id}", SupplierOut)
    assert supplier["contact"] == {"email": "ny@familiehuset.dk"}
    assert supplier["capacity_hours_per_week"] == "40.00"
    assert supplier["price_lists"][0]["packages"][0]["hours"] == "20.00"
    assert supplier["prices_in_force"] == [] or supplier["prices_in_force"][0]["rates"]
    events = _read(client, f"/suppliers/{supplier_id}/events", list[EventOut])
    assert events[-1]["actor"] == {"id": "mo-9"}
    assert _read(client, f"/referrals/{package}", ReferralOut)["pricing"]["package"] == {
        "name": "Forløb 20 timer",
        "price": "15000.00",
    }
    _read(client, f"/referrals/{hourly}", ReferralOut)
    _read(client, f"/referrals/{hourly}/events", list[EventOut])
    trail = _read(client, f"/audit/referrals/{hourly}", TrailOut)
    assert any(entry["changes"] for entry in trail["entries"])
    folded = bodies.last_position(client)  # the read models' answers below include every write
    _read(client, f"/audit/decisions?page_size=200&min_position={folded}", DecisionPageOut)
    log = _read(client, "/audit/access-log?page_size=200", AccessLogPageOut)
    assert any(entry["query"] for entry in log["items"])
    overview = _read(client, f"/reports/suppliers?min_position={folded}", list[SupplierOverviewOut])
    assert any(row["contact"] for row in overview)
    _read(client, f"/reports/suppliers/{supplier_id}", SupplierReportOut)

    refused = client.post("/referrals", json=bodies.referral(requested_start="15-01-2026"))
    assert refused.status_code == 422
    assert ProblemOut.model_validate(refused.json()).errors
    batch = client.post(
        "/events",
        json={"events": [item("bad-1", "referral.referred", bodies.referral(municipality="46"))]},
    )
    assert batch.status_code == 200, batch.text
    answered = BatchOut.model_validate(batch.json())
    assert answered.results[0].problem is not None and answered.results[0].problem.errors

    # The response models pass every answer through as the route built it: nothing added, dropped
    # or reformatted.
    assert len(sent) > 10
    changed = [
        (built, answered) for built, answered in sent if _batch_defaults_dropped(built, answered) != built
    ]
    assert changed == []


def _batch_defaults_dropped(built: str, answered: str) -> str:
    """``answered`` less the null ``id``/``version``/``position``/``problem`` that BatchResultOut has
    always added to a batch result that lacks them (as it was before these models were typed)."""
    built_body, answered_body = json.loads(built), json.loads(answered)
    if not (isinstance(built_body, dict) and set(built_body) == {"results"}):
        return answered
    for made, result in zip(built_body["results"], answered_body["results"], strict=True):
        for key in ("id", "version", "position", "problem"):
            if key not in made and result.get(key, 0) is None:
                del result[key]
    return json.dumps(answered_body, sort_keys=True)


def test_the_typed_shapes_are_components_of_their_own(shared_client: TestClient) -> None:
    schemas = shared_client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("ActorOut", "SourceOut", "ContactOut", "PriceListOut", "ChangeOut", "ValidationErrorOut"):
        assert schemas[name]["type"] == "object" and schemas[name]["properties"], name
    assert schemas["ChangeOut"]["required"] == ["from", "to"]
    assert schemas["ActorOut"]["required"] == ["id"]
