"""Every business rule of docs/domain.md, broken over HTTP: a clear problem+json, and nothing written.

Status conventions: 422 for input that is wrong whatever the state, 409 for a rule or the current
state, 404 for unknown ids, 412 for a stale If-Match. Each case checks that the global position
(and the referral's event list) did not move.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api import bodies
from tests.api.bodies import assert_problem, created, last_position


def refused(
    client: TestClient,
    path: str,
    body: Any,
    status: int,
    slug: str | None,
    mentions: str | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST ``body``; expect the problem, and no event anywhere (nor on the referral in the path)."""
    referral_id = path.split("/")[2] if path.startswith("/referrals/") else None
    history = client.get(f"/referrals/{referral_id}/events").json() if referral_id else None
    before = last_position(client)
    problem = assert_problem(client.post(path, json=body, headers=headers), status, slug, mentions)
    assert last_position(client) == before, "a rejected request must write nothing"
    if referral_id:
        assert client.get(f"/referrals/{referral_id}/events").json() == history
    return problem


# -- states to start from ------------------------------------------------------------------------


def referred(client: TestClient) -> str:
    return bodies.referred(client)


def matched(client: TestClient) -> str:
    return bodies.matched(client)[0]


def active(client: TestClient) -> str:
    return bodies.active(client)


def closed(client: TestClient) -> str:
    return bodies.closed(client)


STATES: dict[str, Callable[[TestClient], str]] = {
    "referred": referred,
    "matched": matched,
    "active": active,
    "closed": closed,
}


def a_registered_supplier(client: TestClient) -> str:
    return bodies.supplier_with_prices(client)


# -- rule 1: lifecycle order ---------------------------------------------------------------------

COMMAND_BODIES: dict[str, Callable[[TestClient], dict[str, Any]]] = {
    "match": lambda c: bodies.match(a_registered_supplier(c)),
    "price-agreement": lambda c: bodies.hourly_agreement(),
    "extension": lambda c: bodies.extension(),
    "adjustment": lambda c: bodies.adjustment("2026-02-01"),
    "closure": lambda c: bodies.closure(),
}

FORBIDDEN = [
    ("active", "match"),
    ("closed", "match"),
    ("referred", "price-agreement"),
    ("active", "price-agreement"),
    ("closed", "price-agreement"),
    ("referred", "extension"),
    ("matched", "extension"),
    ("closed", "extension"),
    ("referred", "adjustment"),
    ("matched", "adjustment"),
    ("closed", "adjustment"),
    ("closed", "closure"),
]


@pytest.mark.parametrize(("status", "command"), FORBIDDEN, ids=[f"{c}-when-{s}" for s, c in FORBIDDEN])
def test_a_command_out_of_lifecycle_order_is_rejected_with_409(
    shared_client: TestClient, status: str, command: str
) -> None:
    referral_id = STATES[status](shared_client)
    body = COMMAND_BODIES[command](shared_client)
    problem = refused(shared_client, f"/referrals/{referral_id}/{command}", body, 409, "invalid-state")
    assert status in problem["detail"]


def test_nothing_changes_a_closed_referral(shared_client: TestClient) -> None:
    referral_id = closed(shared_client)
    for command, body in COMMAND_BODIES.items():
        refused(
            shared_client, f"/referrals/{referral_id}/{command}", body(shared_client), 409, "invalid-state"
        )
    assert shared_client.get(f"/referrals/{referral_id}").json()["status"] == "closed"


# -- rule 2: dates ------------------------------------------------------------------------------


def test_a_referral_whose_expected_end_is_before_its_requested_start_is_rejected_with_422(
    shared_client: TestClient,
) -> None:
    body = bodies.referral(requested_start="2026-03-01", expected_end="2026-02-28")
    problem = refused(shared_client, "/referrals", body, 422, "dates-out-of-order", "expected_end")
    assert problem["errors"][0]["loc"] == ["body", "expected_end"]


def test_a_referral_starting_and_ending_on_the_same_day_is_accepted(shared_client: TestClient) -> None:
    created(shared_client.post("/referrals", json=bodies.referral(expected_end="2026-01-15")))


def test_an_agreement_ending_before_it_starts_is_rejected_with_422(shared_client: TestClient) -> None:
    referral_id = matched(shared_client)
    body = bodies.hourly_agreement(start="2026-02-01", end="2026-01-31")
    refused(
        shared_client, f"/referrals/{referral_id}/price-agreement", body, 422, "dates-out-of-order", "end"
    )


def test_a_price_list_valid_to_before_valid_from_is_rejected_with_422(shared_client: TestClient) -> None:
    supplier_id = bodies.register_supplier(shared_client)
    body = bodies.price_list(valid_from="2026-01-01", valid_to="2025-12-31")
    refused(
        shared_client, f"/suppliers/{supplier_id}/price-lists", body, 422, "dates-out-of-order", "valid_to"
    )


CHANGES_BREAKING_A_RULE = [
    *(
        pytest.param(
            "extension",
            bodies.extension(new_end),
            409,
            "extension-not-later",
            "current end",
            id=f"extension-to-{new_end}",
        )
        for new_end in ("2026-03-31", "2026-03-30", "2026-01-01")  # not later than the current end
    ),
    *(
        pytest.param(
            "adjustment",
            bodies.adjustment(effective_from),
            409,
            "adjustment-outside-period",
            None,
            id=f"adjustment-from-{effective_from}",
        )
        for effective_from in ("2026-01-14", "2026-04-01", "2025-06-01")  # outside the current period
    ),
    pytest.param(
        "extension", bodies.extension(hours_per_week="-2"), 422, "not-positive", None, id="extension-hours-2"
    ),
    pytest.param(
        "adjustment",
        bodies.adjustment("2026-02-01", hourly_rate="0"),
        422,
        "not-positive",
        None,
        id="adjustment-rate-0",
    ),
    pytest.param(
        "adjustment",
        bodies.adjustment("2026-02-01", hours_per_week="-0.50"),
        422,
        "not-positive",
        None,
        id="adjustment-hours-0.50",
    ),
]


@pytest.mark.parametrize(("command", "body", "status", "slug", "mentions"), CHANGES_BREAKING_A_RULE)
def test_an_extension_or_adjustment_of_an_active_referral_breaking_a_rule_is_rejected(
    shared_client: TestClient,
    command: str,
    body: dict[str, Any],
    status: int,
    slug: str,
    mentions: str | None,
) -> None:
    """Extended to no later than the current end, adjusted outside the period, or to a non-positive amount."""
    referral_id = active(shared_client)
    refused(shared_client, f"/referrals/{referral_id}/{command}", body, status, slug, mentions)


def test_an_extension_must_be_later_than_the_end_as_already_extended(shared_client: TestClient) -> None:
    referral_id = active(shared_client)
    created(
        shared_client.post(f"/referrals/{referral_id}/extension", json=bodies.extension("2026-05-31")), 200
    )
    body = bodies.extension("2026-04-30")
    refused(
        shared_client, f"/referrals/{referral_id}/extension", body, 409, "extension-not-later", "2026-05-31"
    )


@pytest.mark.parametrize("effective_from", ["2026-01-15", "2026-03-31"])
def test_an_adjustment_on_the_first_or_last_day_of_the_period_is_accepted(
    shared_client: TestClient, effective_from: str
) -> None:
    referral_id = active(shared_client)
    created(
        shared_client.post(f"/referrals/{referral_id}/adjustment", json=bodies.adjustment(effective_from)),
        200,
    )


def test_a_decision_dated_before_the_referral_is_rejected(shared_client: TestClient) -> None:
    referral_id = referred(shared_client)
    body = bodies.match(a_registered_supplier(shared_client), matched_on="2026-01-04")
    refused(shared_client, f"/referrals/{referral_id}/match", body, 422, "dates-out-of-order", "matched_on")


# -- rule 3: exact money ---------------------------------------------------------------------------

MONEY_CASES = [
    ("price-agreement", "hourly_rate", "850.005"),
    ("price-agreement", "hourly_rate", 850.005),
    ("price-agreement", "hours_per_week", "3.125"),
    ("referral", "requested_hours_per_week", 2.001),
    ("price-list", "rates", [bodies.rate(amount="850.001")]),
    ("price-list", "packages", [bodies.package(price="15000.999")]),
    ("candidate", "hourly_rate", "910.125"),
]


def amounts(cases: list[tuple[str, str, Any]]) -> list[Any]:
    """``(target, field, value)`` cases, each with an id that names all three."""
    return [pytest.param(*case, id="{}-{}-{!r}".format(*case)) for case in cases]


def _path_and_body(client: TestClient, target: str, field: str, value: Any) -> tuple[str, dict[str, Any]]:
    if target == "price-agreement":
        return f"/referrals/{matched(client)}/price-agreement", bodies.hourly_agreement(**{field: value})
    if target == "referral":
        return "/referrals", bodies.referral(**{field: value})
    if target == "price-list":
        return f"/suppliers/{bodies.register_supplier(client)}/price-lists", bodies.price_list(
            **{field: value}
        )
    if target == "candidate":
        supplier_id, other = a_registered_supplier(client), bodies.register_supplier(client)
        body = bodies.match(supplier_id, [bodies.candidate(other, **{field: value})])
        return f"/referrals/{referred(client)}/match", body
    raise AssertionError(target)


@pytest.mark.parametrize(("target", "field", "value"), amounts(MONEY_CASES))
def test_an_amount_with_more_than_two_decimals_is_rejected_with_422_not_rounded(
    shared_client: TestClient, target: str, field: str, value: Any
) -> None:
    path, body = _path_and_body(shared_client, target, field, value)
    problem = refused(shared_client, path, body, 422, None, "two decimals")
    assert problem["type"] in ("/problems/invalid-input", "/problems/too-many-decimals")


NON_POSITIVE = [
    ("price-agreement", "hourly_rate", "0"),
    ("price-agreement", "hourly_rate", "-850.00"),
    ("price-agreement", "hours_per_week", 0),
    ("price-agreement", "hours_per_week", "-1"),
    ("referral", "requested_hours_per_week", "0.00"),
    ("price-list", "rates", [bodies.rate(amount="0")]),
    ("price-list", "packages", [bodies.package(price="-1")]),
    ("price-list", "packages", [bodies.package(hours="0")]),
    ("candidate", "hourly_rate", "-910"),
]


@pytest.mark.parametrize(("target", "field", "value"), amounts(NON_POSITIVE))
def test_a_rate_price_or_hours_that_is_not_positive_is_rejected_with_422(
    shared_client: TestClient, target: str, field: str, value: Any
) -> None:
    path, body = _path_and_body(shared_client, target, field, value)
    refused(shared_client, path, body, 422, "not-positive", "positive")


def test_more_hours_per_week_than_a_week_has_is_rejected_with_422(shared_client: TestClient) -> None:
    referral_id = matched(shared_client)
    body = bodies.hourly_agreement(hours_per_week="168.01")
    refused(shared_client, f"/referrals/{referral_id}/price-agreement", body, 422, "out-of-range")


# -- rule 4: above the list rate -------------------------------------------------------------------


@pytest.mark.parametrize("rationale", [None, "   "], ids=["missing", "blank"])
def test_an_hourly_rate_above_the_list_rate_without_rationale_is_rejected_with_409(
    shared_client: TestClient, rationale: str | None
) -> None:
    referral_id = matched(shared_client)
    body = bodies.hourly_agreement("850.01", rationale=rationale)
    if rationale is None:
        del body["rationale"]
    problem = refused(
        shared_client,
        f"/referrals/{referral_id}/price-agreement",
        body,
        409,
        "rationale-required-above-list-rate",
    )
    assert "850.00" in problem["detail"]
    assert "2025-12-01" in problem["detail"]


def test_a_daily_rate_above_the_list_rate_without_rationale_is_rejected_with_409(
    shared_client: TestClient,
) -> None:
    respite = {"legal_basis": "BL-32-1-7", "intervention": "respite-stay"}
    referral_id, _ = bodies.matched(shared_client, **respite)
    body = bodies.daily_agreement("2400.50")
    refused(
        shared_client,
        f"/referrals/{referral_id}/price-agreement",
        body,
        409,
        "rationale-required-above-list-rate",
    )


def test_a_rate_at_the_list_rate_needs_no_rationale(shared_client: TestClient) -> None:
    referral_id = matched(shared_client)
    created(
        shared_client.post(f"/referrals/{referral_id}/price-agreement", json=bodies.hourly_agreement("850")),
        200,
    )


def test_the_list_rate_of_another_municipality_does_not_apply(shared_client: TestClient) -> None:
    supplier_id = bodies.register_supplier(shared_client)
    copenhagen = bodies.price_list(municipality="101", rates=[bodies.rate(amount="500")], packages=[])
    created(shared_client.post(f"/suppliers/{supplier_id}/price-lists", json=copenhagen), 200)
    referral_id, _ = bodies.matched(shared_client, supplier_id)
    created(
        shared_client.post(f"/referrals/{referral_id}/price-agreement", json=bodies.hourly_agreement("850")),
        200,
    )


# -- rule 5: registered supplier, legal basis --------------------------------------------------------


def test_a_match_with_an_unregistered_supplier_is_rejected_with_409(shared_client: TestClient) -> None:
    referral_id = referred(shared_client)
    body = bodies.match(str(uuid.uuid4()))
    refused(
        shared_client, f"/referrals/{referral_id}/match", body, 409, "supplier-not-registered", "supplier_id"
    )


def test_a_match_with_an_unregistered_candidate_is_rejected_with_409(shared_client: TestClient) -> None:
    referral_id = referred(shared_client)
    body = bodies.match(a_registered_supplier(shared_client), [bodies.candidate(str(uuid.uuid4()))])
    refused(
        shared_client,
        f"/referrals/{referral_id}/match",
        body,
        409,
        "supplier-not-registered",
        "candidates[0]",
    )


def test_a_match_naming_a_referral_as_its_supplier_is_rejected_with_409(shared_client: TestClient) -> None:
    referral_id = referred(shared_client)
    body = bodies.match(referred(shared_client))
    refused(shared_client, f"/referrals/{referral_id}/match", body, 409, "supplier-not-registered")


def test_a_match_listing_the_chosen_supplier_as_a_candidate_is_rejected_with_422(
    shared_client: TestClient,
) -> None:
    referral_id = referred(shared_client)
    supplier_id = a_registered_supplier(shared_client)
    body = bodies.match(supplier_id, [bodies.candidate(supplier_id)])
    refused(shared_client, f"/referrals/{referral_id}/match", body, 422, "chosen-supplier-as-candidate")


@pytest.mark.parametrize(
    ("legal_basis", "intervention"),
    [("BL-32-1-5", "respite-stay"), ("BL-30-1-1", "placement"), ("SEL-85", "family-treatment")],
)
def test_an_intervention_not_allowed_under_the_legal_basis_is_rejected_with_409(
    shared_client: TestClient, legal_basis: str, intervention: str
) -> None:
    body = bodies.referral(legal_basis=legal_basis, intervention=intervention)
    refused(shared_client, "/referrals", body, 409, "intervention-not-allowed", intervention)


def under(legal_basis: str, requested_start: str, expected_end: str, *, referred_on: str) -> dict[str, Any]:
    """A referral body under ``legal_basis`` for the period ``requested_start``..``expected_end``."""
    return bodies.referral(
        legal_basis=legal_basis,
        requested_start=requested_start,
        expected_end=expected_end,
        referred_on=referred_on,
    )


# Serviceloven sections end with 2023, Barnets lov sections begin with 2024.
OUT_OF_FORCE = [
    ("SEL-52-3-3", "2024-01-01", "2024-06-30"),
    ("SEL-52-3-3", "2026-01-15", "2026-03-31"),
    ("BL-32-1-5", "2023-12-31", "2024-03-31"),
    ("BL-32-1-5", "2023-06-01", "2023-09-30"),
]


@pytest.mark.parametrize(("legal_basis", "requested_start", "expected_end"), OUT_OF_FORCE)
def test_a_legal_basis_not_valid_on_the_requested_start_is_rejected_with_409(
    shared_client: TestClient, legal_basis: str, requested_start: str, expected_end: str
) -> None:
    body = under(legal_basis, requested_start, expected_end, referred_on="2023-05-01")
    refused(shared_client, "/referrals", body, 409, "legal-basis-not-valid", requested_start)


@pytest.mark.parametrize(
    ("legal_basis", "requested_start"), [("SEL-52-3-3", "2023-12-31"), ("BL-32-1-5", "2024-01-01")]
)
def test_a_legal_basis_on_the_edge_of_its_validity_is_accepted(
    shared_client: TestClient, legal_basis: str, requested_start: str
) -> None:
    body = under(legal_basis, requested_start, "2024-03-31", referred_on="2023-12-01")
    created(shared_client.post("/referrals", json=body))


@pytest.mark.parametrize(
    ("field", "value", "slug"),
    [
        ("intervention", "yoga", "unknown-intervention"),
        ("legal_basis", "BL-999", "unknown-legal-basis"),
        ("intervention", "Family-Treatment", "unknown-intervention"),
    ],
)
def test_an_unknown_intervention_or_legal_basis_code_is_rejected_with_422(
    shared_client: TestClient, field: str, value: str, slug: str
) -> None:
    refused(shared_client, "/referrals", bodies.referral(**{field: value}), 422, slug, value)


def test_a_price_list_with_an_unknown_intervention_is_rejected_with_422(shared_client: TestClient) -> None:
    supplier_id = bodies.register_supplier(shared_client)
    body = bodies.price_list(rates=[bodies.rate("yoga")])
    refused(shared_client, f"/suppliers/{supplier_id}/price-lists", body, 422, "unknown-intervention")


# -- rule 6: CVR -----------------------------------------------------------------------------------


def test_a_cvr_failing_modulus_11_is_rejected_with_422(shared_client: TestClient) -> None:
    cvr = bodies.invalid_cvr()
    assert not bodies.cvr_checksum_ok(cvr)
    refused(shared_client, "/suppliers", bodies.supplier(cvr=cvr), 422, "invalid-cvr", cvr)


@pytest.mark.parametrize("cvr", ["1234567", "123456789", "1234567A", "", "01234567", " 12345674", 12345674])
def test_a_cvr_that_is_not_eight_digits_is_rejected_with_422(shared_client: TestClient, cvr: Any) -> None:
    problem = refused(shared_client, "/suppliers", bodies.supplier(cvr=cvr), 422, None)
    assert problem["type"] in ("/problems/invalid-input", "/problems/invalid-cvr")
    assert "cvr" in problem["detail"]


def test_the_example_cvr_is_valid() -> None:
    assert bodies.cvr_checksum_ok("12345674")
    assert all(bodies.cvr_checksum_ok(bodies.new_cvr()) for _ in range(200))


def test_a_second_supplier_with_a_registered_cvr_is_rejected_with_409(shared_client: TestClient) -> None:
    cvr = bodies.new_cvr()
    first = created(shared_client.post("/suppliers", json=bodies.supplier(cvr=cvr)))["id"]
    problem = refused(
        shared_client, "/suppliers", bodies.supplier(cvr=cvr, name="Another name ApS"), 409, None
    )
    assert problem["type"] == "/problems/cvr-already-registered"
    assert cvr in problem["detail"]
    assert first in problem["detail"]


def test_the_cvr_cannot_be_changed_through_details(shared_client: TestClient) -> None:
    supplier_id = bodies.register_supplier(shared_client)
    refused(
        shared_client,
        f"/suppliers/{supplier_id}/details",
        {"cvr": bodies.new_cvr()},
        422,
        "invalid-input",
        "cvr",
    )


@pytest.mark.parametrize("kind", ["suppliers", "referrals"])
def test_a_create_with_an_id_that_exists_is_rejected_with_409(shared_client: TestClient, kind: str) -> None:
    existing = bodies.register_supplier(shared_client) if kind == "suppliers" else referred(shared_client)
    body = bodies.supplier(id=existing) if kind == "suppliers" else bodies.referral(id=existing)
    refused(shared_client, f"/{kind}", body, 409, "already-exists", existing)


def test_a_referral_cannot_take_the_id_of_a_supplier(shared_client: TestClient) -> None:
    supplier_id = bodies.register_supplier(shared_client)
    refused(shared_client, "/referrals", bodies.referral(id=supplier_id), 409, "already-exists")


def test_a_create_may_carry_its_own_new_id(shared_client: TestClient) -> None:
    own = str(uuid.uuid4())
    assert created(shared_client.post("/referrals", json=bodies.referral(id=own)))["id"] == own


# -- rule 7: no CPR numbers --------------------------------------------------------------------------

CPR_WITH_DASH = "150385-1234"
CPR_WITHOUT_DASH = "1503851234"


def _with(body: dict[str, Any], path: str, value: str) -> dict[str, Any]:
    """``body`` with the text at a dotted path (list indexes as numbers) replaced by ``value``."""
    *parents, last = path.split(".")
    target: Any = body
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[int(last) if last.isdigit() else last] = value
    return body


def _cpr_target(client: TestClient, target: str) -> tuple[str, dict[str, Any]]:
    if target == "referral":
        return "/referrals", bodies.referral()
    if target == "match":
        supplier_id, other = a_registered_supplier(client), bodies.register_supplier(client)
        return f"/referrals/{referred(client)}/match", bodies.match(supplier_id, [bodies.candidate(other)])
    if target == "agreement":
        return f"/referrals/{matched(client)}/price-agreement", bodies.hourly_agreement(rationale="ok")
    if target == "package-agreement":
        return f"/referrals/{matched(client)}/price-agreement", bodies.package_agreement()
    if target in ("extension", "adjustment", "closure"):
        body = {"extension": bodies.extension, "adjustment": bodies.adjustment, "closure": bodies.closure}[
            target
        ]()
        return f"/referrals/{active(client)}/{target}", body
    if target == "supplier":
        return "/suppliers", bodies.supplier()
    if target == "details":
        details = {key: value for key, value in bodies.supplier().items() if key != "cvr"}
        return f"/suppliers/{bodies.register_supplier(client)}/details", details
    if target == "price-list":
        return f"/suppliers/{bodies.register_supplier(client)}/price-lists", bodies.price_list()
    raise AssertionError(target)


CPR_FIELDS = [
    ("referral", "citizen_ref"),
    ("referral", "case_ref"),
    ("referral", "purpose"),
    ("referral", "actor.name"),
    ("referral", "actor.id"),
    ("match", "rationale"),
    ("match", "criteria.1"),
    ("match", "candidates.0.reason"),
    ("agreement", "rationale"),
    ("package-agreement", "package.name"),
    ("extension", "rationale"),
    ("adjustment", "rationale"),
    ("closure", "rationale"),
    ("supplier", "name"),
    ("supplier", "contact.name"),
    ("supplier", "contact.email"),
    ("supplier", "contact.phone"),
    ("supplier", "contact.address"),
    ("supplier", "target_groups.0"),
    ("supplier", "competencies.1"),
    ("supplier", "education_levels.0"),
    ("details", "name"),
    ("details", "contact.address"),
    ("price-list", "note"),
    ("price-list", "packages.0.name"),
]


@pytest.mark.parametrize("cpr", [CPR_WITH_DASH, CPR_WITHOUT_DASH], ids=["dash", "no-dash"])
@pytest.mark.parametrize(("target", "field"), CPR_FIELDS, ids=[f"{t}-{f}" for t, f in CPR_FIELDS])
def test_a_cpr_number_in_any_text_field_is_rejected_with_422(
    shared_client: TestClient, target: str, field: str, cpr: str
) -> None:
    path, body = _cpr_target(shared_client, target)
    body = _with(body, field, f"Borger {cpr} i familien")
    problem = refused(shared_client, path, body, 422, "cpr-number-in-text", "CPR")
    assert cpr not in problem["detail"], "the problem must not echo the CPR number"
    assert problem["errors"][0]["loc"][1].startswith(field.split(".", maxsplit=1)[0])


@pytest.mark.parametrize("cpr", ["290200-1234", "311299 1234", "0101001234"])
def test_cpr_like_numbers_of_every_form_are_recognised(shared_client: TestClient, cpr: str) -> None:
    refused(shared_client, "/referrals", bodies.referral(citizen_ref=cpr), 422, "cpr-number-in-text")


@pytest.mark.parametrize(
    "text", ["SAG-3213851234", "tlf 66131372", "journal 150385-12345", "2026-01-15", "9999999999"]
)
def test_numbers_that_are_not_cpr_like_are_accepted(shared_client: TestClient, text: str) -> None:
    created(shared_client.post("/referrals", json=bodies.referral(case_ref=text)))


# -- text that must be there -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "field"),
    [("referral", "purpose"), ("referral", "citizen_ref"), ("match", "rationale"), ("closure", "rationale")],
)
def test_blank_required_text_is_rejected_with_422(shared_client: TestClient, target: str, field: str) -> None:
    path, body = _cpr_target(shared_client, target)
    body[field] = "   \t "
    refused(shared_client, path, body, 422, "blank-text", field)


@pytest.mark.parametrize("field", ["purpose", "citizen_ref", "actor", "requested_start", "municipality"])
def test_a_referral_without_a_required_field_is_rejected_with_422(
    shared_client: TestClient, field: str
) -> None:
    body = bodies.referral()
    del body[field]
    problem = refused(shared_client, "/referrals", body, 422, "invalid-input", field)
    assert ["body", field] in [error["loc"] for error in problem["errors"]]


# -- pricing that does not fit -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "slug"),
    [
        (bodies.hourly_agreement() | {"daily_rate": "2400"}, "one-pricing-required"),
        (
            {
                k: v
                for k, v in bodies.hourly_agreement().items()
                if k not in ("hourly_rate", "hours_per_week")
            },
            None,
        ),
        (
            {k: v for k, v in bodies.hourly_agreement().items() if k != "hours_per_week"},
            "incomplete-hourly-pricing",
        ),
    ],
    ids=["two-kinds", "no-kind", "hourly-without-hours"],
)
def test_an_agreement_without_exactly_one_complete_pricing_is_rejected_with_422(
    shared_client: TestClient, body: dict[str, Any], slug: str | None
) -> None:
    referral_id = matched(shared_client)
    refused(
        shared_client, f"/referrals/{referral_id}/price-agreement", body, 422, slug or "one-pricing-required"
    )


def test_an_adjustment_changing_nothing_is_rejected_with_422(shared_client: TestClient) -> None:
    referral_id = active(shared_client)
    body = bodies.adjustment("2026-02-01", hours_per_week=None)
    refused(shared_client, f"/referrals/{referral_id}/adjustment", body, 422, "nothing-to-adjust")


def test_a_daily_rate_adjustment_of_an_hourly_agreement_is_rejected_with_409(
    shared_client: TestClient,
) -> None:
    referral_id = active(shared_client)
    body = bodies.adjustment("2026-02-01", hours_per_week=None, daily_rate="2400")
    refused(
        shared_client, f"/referrals/{referral_id}/adjustment", body, 409, "pricing-does-not-fit", "daily_rate"
    )


def test_an_extension_of_a_package_without_its_own_package_price_is_rejected_with_409(
    shared_client: TestClient,
) -> None:
    referral_id = bodies.active(shared_client, bodies.package_agreement())
    body = bodies.extension("2026-07-31")
    refused(shared_client, f"/referrals/{referral_id}/extension", body, 409, "package-price-required")


def test_a_package_price_on_an_hourly_extension_is_rejected_with_409(shared_client: TestClient) -> None:
    referral_id = active(shared_client)
    body = bodies.extension(package_price="7500")
    refused(shared_client, f"/referrals/{referral_id}/extension", body, 409, "pricing-does-not-fit")


def test_an_unknown_close_reason_is_rejected_with_422(shared_client: TestClient) -> None:
    referral_id = active(shared_client)
    refused(
        shared_client,
        f"/referrals/{referral_id}/closure",
        bodies.closure(reason="bored"),
        422,
        "invalid-input",
    )


# -- unknown ids and stale versions ------------------------------------------------------------------


@pytest.mark.parametrize("command", list(COMMAND_BODIES))
def test_a_command_on_an_unknown_referral_is_rejected_with_404(
    shared_client: TestClient, command: str
) -> None:
    unknown = str(uuid.uuid4())
    body = COMMAND_BODIES[command](shared_client)
    refused(shared_client, f"/referrals/{unknown}/{command}", body, 404, "referral-not-found", unknown)


@pytest.mark.parametrize(
    ("path", "body"),
    [("details", {"name": "New name ApS"}), ("price-lists", bodies.price_list())],
)
def test_a_write_to_an_unknown_supplier_is_rejected_with_404(
    shared_client: TestClient, path: str, body: dict[str, Any]
) -> None:
    unknown = str(uuid.uuid4())
    refused(shared_client, f"/suppliers/{unknown}/{path}", body, 404, "supplier-not-found", unknown)


def test_a_supplier_command_on_a_referral_id_is_rejected_with_404(shared_client: TestClient) -> None:
    referral_id = referred(shared_client)
    refused(shared_client, f"/suppliers/{referral_id}/details", {"name": "x"}, 404, "supplier-not-found")


@pytest.mark.parametrize(
    "path", ["/referrals/{id}", "/referrals/{id}/events", "/suppliers/{id}", "/suppliers/{id}/events"]
)
def test_reading_an_unknown_id_answers_404(shared_client: TestClient, path: str) -> None:
    assert_problem(shared_client.get(path.format(id=uuid.uuid4())), 404)


def test_reading_a_version_that_does_not_exist_answers_404(shared_client: TestClient) -> None:
    referral_id = referred(shared_client)
    assert_problem(
        shared_client.get(f"/referrals/{referral_id}", params={"version": 2}), 404, "version-not-found"
    )


@pytest.mark.parametrize("command", ["match", "closure"])
def test_a_command_with_a_stale_if_match_is_rejected_with_412(
    shared_client: TestClient, command: str
) -> None:
    referral_id = referred(shared_client)
    body = COMMAND_BODIES[command](shared_client)
    problem = refused(
        shared_client,
        f"/referrals/{referral_id}/{command}",
        body,
        412,
        "version-mismatch",
        headers={"If-Match": '"2"'},
    )
    assert "version 1" in problem["detail"]
    result = created(
        shared_client.post(f"/referrals/{referral_id}/{command}", json=body, headers={"If-Match": '"1"'}), 200
    )
    assert result["version"] == 2


def test_a_supplier_write_with_a_stale_if_match_is_rejected_with_412(shared_client: TestClient) -> None:
    supplier_id = a_registered_supplier(shared_client)
    path = f"/suppliers/{supplier_id}/price-lists"
    refused(shared_client, path, bodies.price_list(), 412, "version-mismatch", headers={"If-Match": '"1"'})
    created(shared_client.post(path, json=bodies.price_list(), headers={"If-Match": '"2"'}), 200)


def test_the_state_check_comes_after_the_if_match_check(shared_client: TestClient) -> None:
    referral_id = closed(shared_client)
    body = bodies.closure()
    refused(
        shared_client,
        f"/referrals/{referral_id}/closure",
        body,
        412,
        "version-mismatch",
        headers={"If-Match": '"1"'},
    )
    refused(
        shared_client,
        f"/referrals/{referral_id}/closure",
        body,
        409,
        "invalid-state",
        headers={"If-Match": '"4"'},
    )
