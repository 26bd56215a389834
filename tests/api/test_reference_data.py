"""GET /reference/*: the shipped legal bases, interventions and municipalities, for any valid token."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from application.token_roles import ROLES
from tests.api.bodies import referral
from tests.tokens import bearer, new_token

PATHS = ["/reference/legal-bases", "/reference/interventions", "/reference/municipalities"]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_every_reference_table(shared_client: TestClient, role: str) -> None:
    headers = bearer(new_token(shared_client, role=role, municipality="461"))
    for path in PATHS:
        response = shared_client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text)
        assert response.json(), path


def test_reference_tables_need_a_token(shared_client: TestClient) -> None:
    for path in PATHS:
        response = shared_client.get(path, headers={"Authorization": ""})
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"


def test_the_98_municipalities_with_their_names(shared_client: TestClient) -> None:
    rows = shared_client.get("/reference/municipalities").json()
    assert len(rows) == 98
    assert len({row["code"] for row in rows}) == 98
    names = {row["code"]: row["name"] for row in rows}
    assert names["101"] == "Københavns Kommune"
    assert names["461"] == "Odense Kommune"
    assert all(len(code) == 3 and code.isdigit() for code in names)


def test_the_listed_codes_are_the_ones_a_referral_is_checked_against(shared_client: TestClient) -> None:
    """Every intervention's legal bases are listed, and a referral built from the tables is accepted
    while one naming an unlisted code is refused as unknown."""
    bases = {row["code"]: row for row in shared_client.get("/reference/legal-bases").json()}
    kinds = shared_client.get("/reference/interventions").json()
    assert all(set(kind["legal_bases"]) <= set(bases) for kind in kinds)
    kind = kinds[0]
    basis = next(bases[code] for code in kind["legal_bases"] if bases[code]["valid_to"] is None)
    body = referral(intervention=kind["code"], legal_basis=basis["code"], requested_start="2026-03-01")
    assert shared_client.post("/referrals", json=body).status_code == 201
    unknown = referral(intervention="no-such-intervention")
    refused = shared_client.post("/referrals", json=unknown)
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("unknown-intervention")
