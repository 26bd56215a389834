"""Revisionsspor's search by case number over HTTP (no browser), on SQLite and PostgreSQL: the list
narrowed to the referrals ``GET /audit/decisions?case_ref=`` finds, kept in the address (links,
sorting, the workbook), never in the access log, nothing once erased, and only for a token that may
read case numbers."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlsplit

import openpyxl
import pytest
from fastapi.testclient import TestClient

from application import token_roles
from tests.api import bodies
from tests.api.dashboard.test_pages import browse

CASE = "SAG-2026-8801"
COPENHAGEN = "101"


def listed(page: str) -> set[str]:
    return set(re.findall(r'<tr data-referral="([^"]+)"', page))


def links(page: str) -> list[str]:
    """The page's links back to the list (sorting, paging) and its workbook, unescaped."""
    found = re.findall(r'href="(\?[^"]*|/dashboard/revisionsspor\.xlsx[^"]*)"', page)
    return [link.replace("&amp;", "&") for link in found]


def api_finds(client: TestClient, case_ref: str, municipality: str) -> set[str]:
    response = client.get("/audit/decisions", params={"case_ref": case_ref, "municipality": municipality})
    assert response.status_code == 200, response.text
    return {item["referral_id"] for item in response.json()["items"]}


def referrals(client: TestClient) -> tuple[str, str, str]:
    """The case number's referral in Odense, another case there, and the same number in Copenhagen."""
    wanted, _ = bodies.matched(client, case_ref=CASE, citizen_ref="B-2001")
    other, _ = bodies.matched(client, case_ref="SAG-2026-8802", citizen_ref="B-2002")
    elsewhere = bodies.referred(client, case_ref=CASE, citizen_ref="B-2003", municipality=COPENHAGEN)
    client.get("/reports/spending", params={"min_position": bodies.last_position(client)})  # listed
    return wanted, other, elsewhere


def test_the_case_number_narrows_the_list_to_what_the_api_finds_and_stays_in_the_address(
    client: TestClient,
) -> None:
    wanted, other, _ = referrals(client)
    browser, _ = browse(client, "auditor", bodies.ODENSE)

    page = browser.get("/dashboard/revisionsspor", params={"case_ref": f" {CASE} "})

    assert page.status_code == 200, page.text
    assert listed(page.text) == {wanted} == api_finds(client, CASE, bodies.ODENSE)
    assert re.search(rf'name="case_ref" value="{CASE}"', page.text)
    assert listed(browser.get("/dashboard/revisionsspor").text) == {wanted, other}
    for link in links(page.text):
        assert parse_qs(urlsplit(link).query)["case_ref"] == [CASE], link
    sorted_by_status = browser.get("/dashboard/revisionsspor", params={"case_ref": CASE, "sort": "status"})
    assert listed(sorted_by_status.text) == {wanted}
    with_filter = browser.get("/dashboard/revisionsspor", params={"case_ref": CASE, "status": "referred"})
    assert listed(with_filter.text) == set()
    assert 'data-testid="no-case"' in with_filter.text

    export = next(link for link in links(page.text) if ".xlsx" in link)
    book = openpyxl.load_workbook(io.BytesIO(browser.get(export).content))
    ids = [row[-1] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert ids == [wanted]


def test_a_number_no_referral_has_or_a_prefix_finds_nothing(client: TestClient) -> None:
    referrals(client)
    browser, _ = browse(client, "auditor", bodies.ODENSE)

    for searched in ("SAG-2026-9999", "SAG-2026-88", CASE.lower()):
        page = browser.get("/dashboard/revisionsspor", params={"case_ref": searched}).text
        assert listed(page) == set(), searched
        assert "Ingen indstillinger med sagsnummeret" in page


def test_an_all_municipalities_token_finds_the_number_in_the_municipality_looked_at(
    client: TestClient,
) -> None:
    wanted, _, elsewhere = referrals(client)
    browser, _ = browse(client, "auditor", "*")

    everywhere = browser.get("/dashboard/revisionsspor", params={"case_ref": CASE}).text
    in_copenhagen = browser.get(
        "/dashboard/revisionsspor", params={"case_ref": CASE, "municipality": COPENHAGEN}
    ).text

    assert listed(everywhere) == {wanted, elsewhere}
    assert listed(in_copenhagen) == {elsewhere} == api_finds(client, CASE, COPENHAGEN)


def test_after_erasure_the_number_finds_nothing(client: TestClient) -> None:
    wanted, _, _ = referrals(client)
    browser, _ = browse(client, "auditor", bodies.ODENSE)
    assert listed(browser.get("/dashboard/revisionsspor", params={"case_ref": CASE}).text) == {wanted}

    body = {"citizen_ref": "B-2001", "reason": "Borgerens anmodning", "municipality": bodies.ODENSE}
    assert client.post("/admin/erasures", json=body).status_code in (200, 201)

    assert listed(browser.get("/dashboard/revisionsspor", params={"case_ref": CASE}).text) == set()


def test_the_access_log_records_the_search_without_the_number(client: TestClient) -> None:
    referrals(client)
    browser, _ = browse(client, "auditor", bodies.ODENSE)
    browser.get("/dashboard/revisionsspor", params={"case_ref": CASE, "status": "matched"})

    response = client.get("/audit/access-log", params={"action": "dashboard.revisionsspor"})

    [entry] = response.json()["items"]
    assert entry["query"]["case_ref"] == "[redacted]"
    assert entry["query"]["status"] == "matched"
    assert CASE not in response.text


def test_a_token_that_may_not_read_case_numbers_has_no_search(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No shipped role reads the trail without reading referrals; one that did would get no box,
    and a case number in its address would be ignored (not a way to test numbers)."""
    wanted, other, _ = referrals(client)
    rights = token_roles.RIGHTS["auditor"] - {"referral:read"}
    monkeypatch.setitem(token_roles.RIGHTS, "auditor", rights)
    browser, _ = browse(client, "auditor", bodies.ODENSE)

    page = browser.get("/dashboard/revisionsspor", params={"case_ref": CASE}).text

    assert 'name="case_ref"' not in page
    assert listed(page) == {wanted, other}
    assert all("case_ref" not in link for link in links(page))
