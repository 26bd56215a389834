"""Every report answer says what it was computed from: ``basis`` in JSON bodies, and the headers
``Caseledger-Position`` and ``Caseledger-Chain-Head`` on JSON and CSV, declared in /openapi.json."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from fastapi.testclient import TestClient

from tests.api import bodies

POSITION = "Caseledger-Position"
CHAIN_HEAD = "Caseledger-Chain-Head"
PRACTICE = "/reports/practice?from=2026-01&to=2026-03"
LINEAGE = "/reports/spending/lineage?month=2026-02"
WITH_BODY_BASIS = [
    "/reports/spending",
    "/referrals",
    "/audit/decisions",
    "/reports/suppliers/{supplier_id}",
    PRACTICE,
    "/reports/price-exceptions",
    "/reports/price-lists",
    LINEAGE,
]
LISTS = ["/reports/suppliers", "/reports/price-benchmarks"]
"""Answers that are JSON arrays: their basis is in the headers only."""
CSV = [
    "/reports/spending",
    "/reports/suppliers",
    "/reports/price-benchmarks",
    "/audit/decisions",
    PRACTICE,
    "/reports/price-exceptions",
    "/reports/price-lists",
    LINEAGE,
]


def head(client: TestClient) -> dict[str, Any]:
    response = client.get("/audit/verify")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()["head"]
    return found


def get(client: TestClient, path: str, **headers: str) -> Any:
    path, _, query = path.partition("?")
    params = {**dict(parse_qsl(query)), "min_position": bodies.last_position(client)}
    response = client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response


def test_json_answers_carry_the_position_and_chain_head_they_were_read_at(client: TestClient) -> None:
    supplier_id, _, _ = bodies.agreed(client)
    bodies.extended(client)
    chain = head(client)
    assert chain["position"] == bodies.last_position(client)

    for path in WITH_BODY_BASIS:
        response = get(client, path.format(supplier_id=supplier_id))
        basis = response.json()["basis"]
        assert set(basis) == {"position", "chain_head", "read_model_version"}, path
        assert basis["position"] == chain["position"], path
        assert basis["chain_head"] == chain["global_hash"], path
        assert isinstance(basis["read_model_version"], int)
        assert response.headers[POSITION] == str(chain["position"]), path
        assert response.headers[CHAIN_HEAD] == chain["global_hash"], path
    for path in LISTS:
        response = get(client, path)
        assert isinstance(response.json(), list)
        assert response.headers[POSITION] == str(chain["position"]), path
        assert response.headers[CHAIN_HEAD] == chain["global_hash"], path


def test_csv_answers_carry_the_basis_headers(client: TestClient) -> None:
    bodies.extended(client)
    chain = head(client)

    for path in CSV:
        response = get(client, path, Accept="text/csv")
        assert response.headers["content-type"].startswith("text/csv"), path
        assert response.headers[POSITION] == str(chain["position"]), path
        assert response.headers[CHAIN_HEAD] == chain["global_hash"], path


def test_an_empty_store_is_read_at_position_zero_and_the_chain_genesis(client: TestClient) -> None:
    response = client.get("/reports/spending")

    assert response.status_code == 200, response.text
    assert response.json()["basis"]["position"] == 0
    assert response.json()["basis"]["chain_head"] == "0" * 64
    assert response.headers[POSITION] == "0"


def test_the_basis_moves_with_each_write(client: TestClient) -> None:
    referral_id = bodies.active(client)
    first = get(client, "/referrals").json()["basis"]
    created = bodies.created(client.post(f"/referrals/{referral_id}/extension", json=bodies.extension()), 200)
    second = get(client, "/referrals").json()["basis"]

    assert (first["position"], second["position"]) == (created["position"] - 1, created["position"])
    assert first["chain_head"] != second["chain_head"]


def test_the_openapi_document_declares_the_basis_headers(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    for path in {*(path.split("?")[0] for path in WITH_BODY_BASIS), *LISTS, "/reports/spending/changes"}:
        declared = document["paths"][path]["get"]["responses"]["200"].get("headers", {})
        assert {POSITION, CHAIN_HEAD} <= set(declared), path
        parameters = {p["name"] for p in document["paths"][path]["get"].get("parameters", [])}
        if path != "/reports/spending/changes":
            assert {"known_at", "known_at_position"} <= parameters, path
