"""Hostile and broken input: always a 4xx problem+json, never a 500, and nothing written."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api import bodies
from tests.api.bodies import PROBLEM_JSON, assert_problem, last_position

JSON = {"content-type": "application/json"}
MIB = 1024 * 1024


class Targets:
    """An existing supplier and referrals in each state, made once per module and storage."""

    def __init__(self, client: TestClient) -> None:
        self.supplier_id = bodies.supplier_with_prices(client)
        self.other_supplier_id = bodies.register_supplier(client)
        self.referred_id = bodies.referred(client)
        self.matched_id, _ = bodies.matched(client, self.supplier_id)
        self.active_id = bodies.active(client)

    def routes(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """Every POST route with a body it would accept."""
        return {
            "register-supplier": ("/suppliers", bodies.supplier()),
            "supplier-details": (f"/suppliers/{self.supplier_id}/details", {"name": "Nyt navn ApS"}),
            "price-list": (f"/suppliers/{self.supplier_id}/price-lists", bodies.price_list()),
            "refer": ("/referrals", bodies.referral()),
            "match": (
                f"/referrals/{self.referred_id}/match",
                bodies.match(self.supplier_id, [bodies.candidate(self.other_supplier_id)]),
            ),
            "price-agreement": (f"/referrals/{self.matched_id}/price-agreement", bodies.hourly_agreement()),
            "extension": (f"/referrals/{self.active_id}/extension", bodies.extension()),
            "adjustment": (f"/referrals/{self.active_id}/adjustment", bodies.adjustment("2026-02-01")),
            "closure": (f"/referrals/{self.active_id}/closure", bodies.closure()),
            "events": (
                "/events",
                {"events": [{"event_id": "h-1", "type": "referral.referred", "data": bodies.referral()}]},
            ),
        }


ROUTES = [
    "register-supplier",
    "supplier-details",
    "price-list",
    "refer",
    "match",
    "price-agreement",
    "extension",
    "adjustment",
    "closure",
    "events",
]


@pytest.fixture(scope="module")
def targets(shared_client: TestClient) -> Targets:
    return Targets(shared_client)


@pytest.fixture
def unchanged(shared_client: TestClient) -> Iterator[None]:
    """The test must not write anything."""
    before = last_position(shared_client)
    yield
    assert last_position(shared_client) == before, "hostile input must write nothing"


def post_raw(client: TestClient, path: str, text: str | bytes, headers: dict[str, str] | None = None) -> Any:
    content = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return client.post(path, content=content, headers=JSON if headers is None else headers)


def with_raw_value(body: dict[str, Any], field: str, raw: str) -> str:
    """``body`` as JSON text with ``field`` set to the literal JSON ``raw`` (which json.dumps cannot write)."""
    marker = f"@@{uuid.uuid4().hex}@@"
    return json.dumps(body | {field: marker}).replace(f'"{marker}"', raw)


# -- not JSON, or not an object ----------------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "text",
    ['{"name": ', "{'single': 'quotes'}", "{,}", '{"a": 1,}', "not json at all", '{"a": tru}', "\x00\x01"],
    ids=["truncated", "single-quotes", "lone-comma", "trailing-comma", "prose", "bad-literal", "binary"],
)
def test_malformed_json_is_rejected_with_400(
    shared_client: TestClient, targets: Targets, unchanged: None, route: str, text: str
) -> None:
    path, _ = targets.routes()[route]
    assert_problem(post_raw(shared_client, path, text), 400, "malformed-json")


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000])
def test_absurdly_deep_json_is_rejected_with_400(
    shared_client: TestClient, unchanged: None, text: str
) -> None:
    assert_problem(post_raw(shared_client, "/referrals", text), 400, "malformed-json")


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("text", ["[]", "[{}]", "null", '"a string"', "42", "true", ""], ids=repr)
def test_a_body_that_is_not_an_object_is_rejected_with_422(
    shared_client: TestClient, targets: Targets, unchanged: None, route: str, text: str
) -> None:
    path, _ = targets.routes()[route]
    assert_problem(post_raw(shared_client, path, text), 422, "invalid-input")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_json_body_without_a_json_content_type_is_not_accepted(
    shared_client: TestClient, unchanged: None, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = post_raw(shared_client, "/referrals", json.dumps(bodies.referral()), headers)
    assert_problem(response, 422)


# -- wrong types and unknown fields ----------------------------------------------------------------

WRONG_TYPES = [
    ("municipality", 461),
    ("municipality", "4610"),
    ("citizen_ref", 123),
    ("citizen_ref", ["B-1"]),
    ("purpose", None),
    ("purpose", {"text": "x"}),
    ("requested_hours_per_week", True),
    ("requested_hours_per_week", [3]),
    ("requested_hours_per_week", "three"),
    ("requested_hours_per_week", "3,50"),
    ("requested_start", 20260115),
    ("actor", "sw-17"),
    ("actor", {"name": "no id"}),
    ("id", "not-a-uuid"),
    ("id", 12345),
    ("purpose", "x" * 10_001),
    ("citizen_ref", "x" * 201),
    ("citizen_ref", ""),
]


@pytest.mark.parametrize(("field", "value"), WRONG_TYPES, ids=[f"{f}-{v!r:.20}" for f, v in WRONG_TYPES])
def test_a_field_of_the_wrong_type_or_size_is_rejected_with_422(
    shared_client: TestClient, unchanged: None, field: str, value: Any
) -> None:
    problem = assert_problem(shared_client.post("/referrals", json=bodies.referral(**{field: value})), 422)
    assert problem["type"] == "/problems/invalid-input"
    assert ["body", field] == problem["errors"][0]["loc"][:2]


@pytest.mark.parametrize(
    ("route", "field", "value"),
    [
        ("match", "criteria", "one criterion"),
        ("match", "criteria", ["ok"] * 51),
        ("match", "candidates", [{"supplier_id": "x", "reason": "y"}]),
        ("price-agreement", "package", "Forløb 20 timer"),
        ("price-agreement", "start", "2026-02-30"),
        ("closure", "reason", ["goal_achieved"]),
        ("price-list", "rates", {"intervention": "x"}),
        ("price-list", "rates", [{"intervention": "family-treatment", "unit": "week", "rate": "1"}]),
        ("register-supplier", "contact", "Hanne, 66131372"),
        ("register-supplier", "target_groups", [None]),
        ("events", "events", {"event_id": "x"}),
    ],
)
def test_nested_fields_of_the_wrong_shape_are_rejected_with_422(
    shared_client: TestClient, targets: Targets, unchanged: None, route: str, field: str, value: Any
) -> None:
    path, body = targets.routes()[route]
    problem = assert_problem(shared_client.post(path, json=body | {field: value}), 422, "invalid-input")
    assert problem["errors"]


@pytest.mark.parametrize("event_id", ["a\x00b", "\x00", "yv\x00\udbbc\ude44"], ids=repr)
def test_an_event_id_holding_a_nul_is_rejected_alone_and_nothing_is_written(
    shared_client: TestClient, unchanged: None, event_id: str
) -> None:
    """PostgreSQL's text cannot hold NUL: the batch's claim look-up before the checks answered 500
    (found by schemathesis once the items were typed in the document)."""
    on_unknown = {"event_id": event_id, "type": "referral.closed", "referral_id": str(uuid4()), "data": {}}
    valid = {"event_id": event_id, "type": "referral.referred", "data": bodies.referral()}
    body = json.dumps({"events": [on_unknown, valid]})  # ASCII, with escapes (a lone surrogate too)
    response = shared_client.post("/events", content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 200, response.text
    assert [result["status"] for result in response.json()["results"]] == ["rejected", "rejected"]
    assert [result["problem"]["status"] for result in response.json()["results"]] == [422, 422]


def test_batch_items_that_are_not_objects_are_each_rejected_and_nothing_is_written(
    shared_client: TestClient, unchanged: None
) -> None:
    response = shared_client.post("/events", json={"events": [1, "two", None]})

    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["rejected"] * 3
    assert {r["problem"]["status"] for r in response.json()["results"]} == {422}


@pytest.mark.parametrize("route", ROUTES)
def test_an_unknown_top_level_field_is_rejected_with_422(
    shared_client: TestClient, targets: Targets, unchanged: None, route: str
) -> None:
    path, body = targets.routes()[route]
    problem = assert_problem(
        shared_client.post(path, json=body | {"priority": "urgent"}), 422, "invalid-input"
    )
    assert ["body", "priority"] in [error["loc"] for error in problem["errors"]]


@pytest.mark.parametrize(
    ("route", "path_to_dict"),
    [
        ("refer", ("actor",)),
        ("register-supplier", ("contact",)),
        ("match", ("candidates", 0)),
        ("price-list", ("rates", 0)),
        ("price-list", ("packages", 0)),
    ],
)
def test_an_unknown_nested_field_is_rejected_with_422(
    shared_client: TestClient, targets: Targets, unchanged: None, route: str, path_to_dict: tuple[Any, ...]
) -> None:
    path, body = targets.routes()[route]
    nested: Any = body
    for step in path_to_dict:
        nested = nested[step]
    nested["role"] = "admin"
    assert_problem(shared_client.post(path, json=body), 422, "invalid-input", "extra")


# -- numbers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "850.005",
        '"850.005"',
        "1e400",
        "-1e400",
        "NaN",
        "Infinity",
        str(10**30),
        f'"{10**30}"',
        "1e-400",
        '"850,00"',
        '"0x352"',
        '"850.00 DKK"',
        "true",
        "null",
    ],
)
def test_a_hostile_amount_is_rejected_with_422(
    shared_client: TestClient, targets: Targets, unchanged: None, raw: str
) -> None:
    path, body = targets.routes()["price-agreement"]
    response = post_raw(shared_client, path, with_raw_value(body, "hourly_rate", raw))
    if raw == "null":
        assert_problem(response, 422, "incomplete-hourly-pricing")
    elif raw == "1e-400":
        assert_problem(response, 422, "not-positive")
    else:
        assert_problem(response, 422, "invalid-input", "hourly_rate")


def test_an_integer_too_long_to_parse_is_rejected_with_400(
    shared_client: TestClient, unchanged: None
) -> None:
    text = with_raw_value(bodies.referral(), "requested_hours_per_week", "1" + "0" * 5000)
    assert_problem(post_raw(shared_client, "/referrals", text), 400, "malformed-json")


def test_a_huge_expected_version_in_a_batch_is_a_version_mismatch(
    shared_client: TestClient, targets: Targets, unchanged: None
) -> None:
    item = {
        "event_id": f"huge-{uuid.uuid4()}",
        "type": "referral.closed",
        "referral_id": targets.active_id,
        "expected_version": 10**30,
        "data": bodies.closure(),
    }
    response = shared_client.post("/events", json={"events": [item]})
    assert response.status_code == 200
    assert response.json()["results"][0]["problem"]["status"] == 412


# -- dates and instants -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "2026-13-45",
        "2026-02-30",
        "20260101",
        "2026-1-5",
        "15-01-2026",
        "2026-01-15T00:00:00Z",
        " 2026-01-15",
        "",
        1700000000,
        None,
        "0000-01-01",
        "0001-01-01",
        "9999-12-31",
    ],
)
def test_a_date_that_is_not_a_plausible_yyyy_mm_dd_is_rejected_with_422(
    shared_client: TestClient, unchanged: None, value: Any
) -> None:
    response = shared_client.post("/referrals", json=bodies.referral(referred_on=value))
    problem = assert_problem(response, 422)
    assert problem["type"] in ("/problems/invalid-input", "/problems/date-out-of-range")
    assert "referred_on" in problem["detail"]


@pytest.mark.parametrize(
    "as_of",
    [
        "2026-01-01T00:00:00",
        "2026-01-01",
        "yesterday",
        "1700000000",
        "2026-01-01T00:00:00+25:00",
        "2026-13-01T00:00:00Z",
        "",
    ],
)
def test_as_of_that_is_not_an_instant_with_offset_is_rejected_with_422(
    shared_client: TestClient, targets: Targets, as_of: str
) -> None:
    response = shared_client.get(f"/referrals/{targets.active_id}", params={"as_of": as_of})
    assert_problem(response, 422, "invalid-input", "as_of")


@pytest.mark.parametrize(
    ("as_of", "status"),
    [("0001-01-01T00:00:00+01:00", 404), ("9999-12-31T23:59:59-01:00", 200), ("2026-01-01T00:00:00.5Z", 404)],
)
def test_as_of_at_the_edges_of_time_answers_without_error(
    shared_client: TestClient, targets: Targets, as_of: str, status: int
) -> None:
    response = shared_client.get(f"/referrals/{targets.active_id}", params={"as_of": as_of})
    assert response.status_code == status, response.text


@pytest.mark.parametrize("version", ["0", "-1", "abc", "1.5", ""])
def test_a_version_that_is_not_a_positive_integer_is_rejected_with_422(
    shared_client: TestClient, targets: Targets, version: str
) -> None:
    response = shared_client.get(f"/referrals/{targets.active_id}", params={"version": version})
    assert_problem(response, 422, "invalid-input", "version")


@pytest.mark.parametrize("version", ["4", str(10**30)])
def test_a_version_beyond_the_latest_answers_404(
    shared_client: TestClient, targets: Targets, version: str
) -> None:
    response = shared_client.get(f"/referrals/{targets.active_id}", params={"version": version})
    assert_problem(response, 404, "version-not-found")


# -- ids in paths, headers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "segment", ["not-a-uuid", "1", "00000000-0000-0000-0000-00000000000g", "%00", "..%2f.."]
)
@pytest.mark.parametrize(
    "path", ["/referrals/{}", "/referrals/{}/events", "/suppliers/{}", "/suppliers/{}/events"]
)
def test_a_non_uuid_id_in_a_read_path_is_rejected_with_4xx(
    shared_client: TestClient, path: str, segment: str
) -> None:
    response = shared_client.get(path.format(segment))
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)


@pytest.mark.parametrize("command", ["match", "price-agreement", "extension", "adjustment", "closure"])
@pytest.mark.parametrize("segment", ["not-a-uuid", str(uuid.UUID(int=0))])
def test_a_command_on_a_bad_or_unknown_referral_id_is_rejected(
    shared_client: TestClient, targets: Targets, unchanged: None, command: str, segment: str
) -> None:
    _, body = targets.routes()[command]
    response = shared_client.post(f"/referrals/{segment}/{command}", json=body)
    if segment == "not-a-uuid":
        problem = assert_problem(response, 422, "invalid-input")
        assert ["path", "referral_id"] in [error["loc"] for error in problem["errors"]]
    else:
        assert_problem(response, 404, "referral-not-found")


@pytest.mark.parametrize("if_match", ["garbage", '"3", "4"', '"' + "9" * 30 + '"', "", '"-1"', '"1.0"'])
def test_an_unreadable_if_match_is_rejected_with_422(
    shared_client: TestClient, targets: Targets, unchanged: None, if_match: str
) -> None:
    path, body = targets.routes()["adjustment"]
    response = shared_client.post(path, json=body, headers={"If-Match": if_match})
    problem = assert_problem(response, 422, "invalid-if-match")
    assert problem["errors"] == [{"loc": ["header", "If-Match"], "msg": problem["detail"]}]


def test_unknown_routes_and_methods_answer_problems(shared_client: TestClient) -> None:
    assert_problem(shared_client.get("/no/such/route"), 404, "no-such-route")
    assert_problem(shared_client.put("/referrals", json={}), 405, "method-not-allowed")
    assert_problem(shared_client.delete(f"/referrals/{uuid.uuid4()}"), 405, "method-not-allowed")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/referrals", "GET, POST"),
        ("OPTIONS", "/referrals", "GET, POST"),
        ("DELETE", f"/referrals/{uuid.UUID(int=1)}", "GET"),
        ("GET", f"/referrals/{uuid.UUID(int=1)}/closure", "POST"),
    ],
)
def test_a_405_names_every_method_the_path_answers_to(
    shared_client: TestClient, method: str, path: str, allowed: str
) -> None:
    response = shared_client.request(method, path)
    assert_problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == allowed


@pytest.mark.parametrize("after", [str(2**63), str(10**30)])
def test_a_feed_position_beyond_any_database_is_rejected_with_422(
    shared_client: TestClient, after: str
) -> None:
    assert_problem(shared_client.get("/feed", params={"after": after}), 422, "invalid-input", "after")
    assert shared_client.get("/feed", params={"after": str(2**63 - 1)}).json() == []


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/referrals", "intervention"),
        ("/referrals", "legal_basis"),
        ("/audit/decisions", "actor"),
        ("/reports/spending", "intervention"),
        ("/reports/spending", "legal_basis"),
        ("/reports/price-benchmarks", "intervention"),
    ],
)
@pytest.mark.parametrize("value", ["\x00", "family\x00treatment", "line\nbreak", "x" * 201])
def test_a_text_filter_with_a_control_character_or_too_long_is_rejected_with_422(
    shared_client: TestClient, path: str, name: str, value: str
) -> None:
    assert_problem(shared_client.get(path, params={name: value}), 422, "invalid-input", name)


@pytest.mark.parametrize(
    "query", ["intervention=%ED%A0%80", "intervention=%FF%FE", "legal_basis=%F0%9F%98%80"]
)
def test_a_text_filter_of_broken_or_unusual_utf8_answers_without_error(
    shared_client: TestClient, query: str
) -> None:
    response = shared_client.get(f"/referrals?{query}")
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []


@pytest.mark.parametrize(
    ("path", "name", "largest"),
    [("/referrals", "page_size", 500), ("/audit/decisions", "page_size", 500), ("/feed", "limit", 1000)],
)
def test_a_page_size_above_the_maximum_is_rejected_with_422(
    shared_client: TestClient, path: str, name: str, largest: int
) -> None:
    assert shared_client.get(path, params={name: largest}).status_code == 200
    for value in (largest + 1, 10**30, 0, -1):
        assert_problem(shared_client.get(path, params={name: value}), 422, "invalid-input", name)


@pytest.mark.parametrize("route", ["register-supplier", "refer", "closure"])
def test_without_a_token_a_write_is_refused_with_401_before_its_headers_are_read(
    shared_client: TestClient, targets: Targets, unchanged: None, route: str
) -> None:
    path, body = targets.routes()[route]
    response = shared_client.post(path, json=body, headers={"Authorization": "", "If-Match": "garbage"})
    assert_problem(response, 401, "missing-token")


# -- text ---------------------------------------------------------------------------------------------


def test_a_cpr_number_in_the_purpose_is_rejected_with_422(shared_client: TestClient, unchanged: None) -> None:
    body = bodies.referral(purpose="Barnet (cpr 010203-1234) har brug for støtte")
    assert_problem(shared_client.post("/referrals", json=body), 422, "cpr-number-in-text")


@pytest.mark.parametrize("route", ["refer", "register-supplier", "events"])
def test_text_with_a_lone_surrogate_is_rejected_with_4xx(
    shared_client: TestClient, targets: Targets, unchanged: None, route: str
) -> None:
    path, body = targets.routes()[route]
    field = {"refer": "purpose", "register-supplier": "name", "events": "source_system"}[route]
    response = post_raw(shared_client, path, with_raw_value(body, field, '"\\ud800 broken"'))
    assert_problem(response, 422, "invalid-input")


def test_a_batch_item_with_a_lone_surrogate_is_rejected_alone(
    shared_client: TestClient, unchanged: None
) -> None:
    text = json.dumps({"events": [{"event_id": "@@", "type": "referral.closed", "data": {}}]}).replace(
        '"@@"', '"\\udc80"'
    )
    response = post_raw(shared_client, "/events", text)
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    assert result["status"] == "rejected"
    assert result["problem"]["status"] == 422


def test_a_lone_surrogate_as_a_field_name_is_rejected_with_422(
    shared_client: TestClient, unchanged: None
) -> None:
    text = with_raw_value(bodies.referral(), "@@key@@", "1").replace('"@@key@@"', '"\\ud800"')
    assert_problem(post_raw(shared_client, "/referrals", text), 422, "invalid-input")


# -- size -----------------------------------------------------------------------------------------------


def test_a_body_over_the_size_limit_is_rejected_with_413(shared_client: TestClient, unchanged: None) -> None:
    limit = shared_client.app.state.settings.max_body_bytes  # type: ignore[attr-defined]
    assert limit == 5 * MIB
    body = bodies.referral(purpose="x" * (limit + 1))
    assert_problem(shared_client.post("/referrals", json=body), 413, "body-too-large")


def test_a_streamed_body_over_the_size_limit_is_rejected_with_413(
    shared_client: TestClient, unchanged: None
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"purpose": "'
        for _ in range(6):
            yield b"x" * MIB
        yield b'"}'

    response = shared_client.post("/referrals", content=chunks(), headers=JSON)
    assert_problem(response, 413, "body-too-large")


def test_a_batch_over_the_size_limit_is_rejected_with_413(shared_client: TestClient, unchanged: None) -> None:
    item = {"event_id": "x", "type": "referral.referred", "data": bodies.referral(purpose="p" * 9_000)}
    response = shared_client.post("/events", json={"events": [item] * 700})
    assert_problem(response, 413, "body-too-large")


def test_a_body_just_under_the_size_limit_is_parsed(shared_client: TestClient, unchanged: None) -> None:
    body = bodies.referral()
    text = json.dumps(body)
    padded = text[:-1] + " " * (5 * MIB - len(text) - 10) + "}"
    assert len(padded.encode()) < 5 * MIB
    response = post_raw(shared_client, "/referrals", padded.replace('"B-7f3a9c"', '"150385-1234"'))
    assert_problem(response, 422, "cpr-number-in-text")


# -- random bodies (hypothesis) ----------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["2026-01-15", "850.005", "150385-1234", "461", "hour", str(uuid.uuid4()), ""]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value nested in ``value`` (keys and list indexes)."""
    if prefix:
        yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


@st.composite
def hostile_bodies(draw: st.DrawFn, valid: dict[str, Any]) -> Any:
    """Random JSON, or the valid body with one value (at any depth) replaced, or a field removed or added."""
    kind = draw(st.sampled_from(["random", "replace", "remove", "add"]))
    if kind == "random":
        return draw(json_values)
    body = json.loads(json.dumps(valid))
    if kind == "replace":
        *parents, last = draw(st.sampled_from(list(_paths(body))))
        container = body
        for step in parents:
            container = container[step]
        container[last] = draw(json_values)
    elif kind == "remove":
        del body[draw(st.sampled_from(sorted(body)))]
    else:
        body[draw(st.text(max_size=12))] = draw(json_values)
    return body


@pytest.fixture(scope="module")
def sqlite_targets(sqlite_client: TestClient) -> Targets:
    return Targets(sqlite_client)


@pytest.mark.parametrize("route", ROUTES)
def test_random_bodies_never_cause_a_server_error(
    sqlite_client: TestClient, sqlite_targets: Targets, route: str
) -> None:
    path, valid = sqlite_targets.routes()[route]

    @settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
    @given(body=hostile_bodies(valid))
    def posts(body: Any) -> None:
        response = post_raw(sqlite_client, path, json.dumps(body))  # NaN and Infinity as JSON literals
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith(PROBLEM_JSON)
            problem = response.json()
            assert problem["status"] == response.status_code
            assert problem["type"].startswith("/problems/")

    posts()
