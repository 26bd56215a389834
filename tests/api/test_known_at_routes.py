"""Every route that takes ``known_at`` answers, asked for an earlier position or instant, exactly what
it answered live when the log ended there — JSON and CSV, body and basis headers — however much was
recorded since (a retroactive adjustment above the list rate, another supplier and referral, a
closure). The routes are the ones /openapi.json declares with ``known_at_position``: a new one that
is not exercised here fails the first test."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api import bodies
from tests.api.bodies import created

ABOVE = "Only supplier with a psychologist free this quarter"
POSITION = "Caseledger-Position"
CHAIN_HEAD = "Caseledger-Chain-Head"


def routes(supplier_id: str) -> list[tuple[str, dict[str, Any]]]:
    """Each known-at route with parameters its answer changes under in ``later_history``."""
    return [
        ("/reports/spending", {}),
        ("/reports/spending", {"by": "supplier", "from": "2026-02", "to": "2026-03"}),
        ("/reports/suppliers", {}),
        (f"/reports/suppliers/{supplier_id}", {}),
        ("/reports/price-benchmarks", {}),
        ("/reports/practice", {"from": "2026-01", "to": "2026-02", "by": "month"}),
        ("/reports/price-exceptions", {}),
        ("/reports/price-lists", {"older_than_months": 0}),
        ("/reports/spending/lineage", {"month": "2026-02"}),
        ("/reports/spending/lineage", {"month": "2026-03", "by": "supplier", "key": supplier_id}),
        ("/referrals", {"status": "active"}),
        ("/audit/decisions", {"type": "referral.adjusted"}),
    ]


def get(client: TestClient, path: str, params: dict[str, Any], csv: bool = False) -> Any:
    response = client.get(path, params=params, headers={"Accept": "text/csv"} if csv else {})
    assert response.status_code == 200, (path, response.text)
    return response


def answer(client: TestClient, path: str, params: dict[str, Any], csv: bool) -> tuple[Any, dict[str, str]]:
    """The body (JSON, or CSV text) and the basis headers."""
    response = get(client, path, params, csv)
    body = response.text if csv else response.json()
    return body, {name: response.headers[name] for name in (POSITION, CHAIN_HEAD)}


def has_csv(path: str) -> bool:
    return path != "/referrals"


def history(client: TestClient) -> tuple[str, str, str]:
    """A supplier with the default list; a referral agreed at the list rate, one above it (adjusted
    down from March, the last event), referred in January."""
    supplier_id, referral_id, _ = bodies.agreed(client)
    _, above, _ = bodies.agreed(
        client, bodies.hourly_agreement("900.00", rationale=ABOVE), supplier_id=supplier_id
    )
    adjustment = bodies.adjustment("2026-03-01", hours_per_week="2", decided_on="2026-02-25")
    created(client.post(f"/referrals/{above}/adjustment", json=adjustment), 200)
    return supplier_id, referral_id, above


def later_history(client: TestClient, supplier_id: str, referral_id: str) -> None:
    """After the capture: an adjustment above the list rate effective in February (a past month by
    then), another referral with a new supplier, a closure."""
    raise_rate = bodies.adjustment(
        "2026-02-01", hourly_rate="905.00", rationale=ABOVE, decided_on="2026-03-28"
    )
    created(client.post(f"/referrals/{referral_id}/adjustment", json=raise_rate), 200)
    bodies.active(client)
    created(client.post(f"/referrals/{referral_id}/closure", json=bodies.closure("2026-03-15")), 200)


def test_every_route_with_known_at_is_exercised_here(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    declared = {
        path
        for path, operations in document["paths"].items()
        for operation in operations.values()
        if "known_at_position" in {p["name"] for p in operation.get("parameters", [])}
    }
    exercised = {path.replace("{supplier_id}", "x") for path, _ in routes("{supplier_id}")}

    assert {path.replace("{supplier_id}", "x") for path in declared} == exercised


def test_every_known_at_route_answers_at_a_past_position_what_it_answered_live_there(
    client: TestClient,
) -> None:
    supplier_id, referral_id, last = history(client)
    captured_at = bodies.last_position(client)
    recorded_at = bodies.events_of(client, "referrals", last)[-1]["recorded_at"]
    live = {"min_position": captured_at}
    captured = {
        (path, str(params), csv): answer(client, path, {**live, **params}, csv)
        for path, params in routes(supplier_id)
        for csv in (False, True)
        if has_csv(path) or not csv
    }

    later_history(client, supplier_id, referral_id)
    head = bodies.last_position(client)

    for (path, text, csv), (body, headers) in captured.items():
        params = next(params for p, params in routes(supplier_id) if (p, str(params)) == (path, text))
        assert headers[POSITION] == str(captured_at), path
        now, now_headers = answer(client, path, {"min_position": head, **params}, csv)
        assert now != body, (path, params, csv)  # the later history changed every answer
        assert now_headers[POSITION] == str(head)

        at_position = answer(client, path, {"known_at_position": captured_at, **params}, csv)
        assert at_position == (body, headers), (path, params, csv)

        at_instant, instant_headers = answer(client, path, {"known_at": recorded_at, **params}, csv)
        assert instant_headers == headers, (path, params, csv)
        if isinstance(at_instant, dict):  # a JSON object: its basis also names the instant
            assert at_instant["basis"].pop("known_at") == recorded_at, path
        assert at_instant == body, (path, params, csv)


def test_the_access_log_records_the_knowledge_time_of_a_lineage_read(client: TestClient) -> None:
    history(client)
    position = bodies.last_position(client)
    get(client, "/reports/spending/lineage", {"month": "2026-02", "known_at_position": position - 1})
    get(client, "/reports/spending/lineage", {"month": "2026-02", "known_at": "2026-01-01T00:00:00Z"})

    entries = get(client, "/audit/access-log", {"action": "spending.lineage"}).json()["items"]

    asked = {(entry["query"].get("known_at_position"), entry["query"].get("known_at")) for entry in entries}
    assert asked == {(str(position - 1), None), (None, "2026-01-01T00:00:00Z")}
