"""A Forbrug cell's lineage (issue 25 item 3) over HTTP, on SQLite and PostgreSQL: the page and its
workbook list the indstillinger and events that add up to the cell, as ``GET
/reports/spending/lineage`` does; each leads to its Revisionsspor trail; another municipality's
token is refused; every read is in the access log."""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from api.dashboard import forbrug_celle
from tests.api import bodies
from tests.api.dashboard.support import spending_cells
from tests.api.dashboard.test_exports import ore, table, workbook
from tests.api.dashboard.test_pages import browse, logged_in
from tests.tokens import bearer, new_token

MONTH = "2026-02"
PERIOD = {"from": "2026-01", "to": "2026-03", "by": "supplier"}


def two_referrals(client: TestClient) -> tuple[str, list[str]]:
    """One supplier with two priced referrals in Odense (461), projected."""
    supplier_id, first, _ = bodies.agreed(client)
    _, second, position = bodies.agreed(client, supplier_id=supplier_id)
    client.get("/reports/spending", params={"min_position": position})
    return supplier_id, [first, second]


def cell_page(html: str) -> tuple[str, dict[str, str], dict[str, list[str]]]:
    """The cell's amount, each referral's amount and its events' changes, as the page shows them."""
    amount = re.search(r'data-testid="cell-amount" data-amount="([^"]+)"', html)
    assert amount is not None, html
    referrals: dict[str, str] = {}
    changes: dict[str, list[str]] = {}
    for referral_id, row in re.findall(r'<tr data-referral="([^"]+)">(.*?)</tr>', html, re.S):
        found = re.search(r'<td class="num" data-amount="([^"]+)"', row)
        assert found is not None
        referrals[referral_id] = found.group(1)
        changes[referral_id] = re.findall(r'data-change="([^"]+)"', row)
    return amount.group(1), referrals, changes


def test_a_cell_lists_the_referrals_and_events_that_add_up_to_it(client: TestClient) -> None:
    supplier_id, referral_ids = two_referrals(client)
    browser, _ = browse(client, "admin", "*")
    cell = {"month": MONTH, "by": "supplier", "key": supplier_id}

    forbrug = browser.get("/dashboard/forbrug", params=PERIOD).text
    shown, _ = spending_cells(forbrug)[(supplier_id, MONTH)]
    page = browser.get("/dashboard/forbrug/celle", params={**PERIOD, **cell})
    api = client.get("/reports/spending/lineage", params=cell).json()
    amount, referrals, changes = cell_page(page.text)

    assert page.status_code == 200
    assert 'data-cell-link="/dashboard/forbrug/celle?from=2026-01&amp;to=2026-03&amp;by=supplier"' in forbrug
    assert shown == amount == api["amount"]
    assert sorted(referrals) == sorted(referral_ids)
    assert referrals == {r["referral_id"]: r["amount"] for r in api["referrals"]}
    assert sum(Decimal(a) for a in referrals.values()) == Decimal(amount) > 0
    for referral_id, moved in changes.items():
        assert moved and sum(Decimal(c) for c in moved) == Decimal(referrals[referral_id])
        assert f'href="/dashboard/revisionsspor?referral={referral_id}"' in page.text
    assert 'href="/dashboard/forbrug?from=2026-01&amp;to=2026-03&amp;by=supplier"' in page.text

    trail = browser.get("/dashboard/revisionsspor", params={"referral": referral_ids[0]})
    assert trail.status_code == 200 and referral_ids[0] in trail.text

    header, rows = table(workbook(browser.get("/dashboard/forbrug/celle.xlsx", params=cell)))
    assert header[:2] == ["Indstilling", "Beløb"]
    *parts, footer = rows
    assert {r[0]: ore(r[1]) for r in parts if r[1] is not None} == {
        k: Decimal(v) for k, v in referrals.items()
    }
    assert sum(ore(r[5]) for r in parts) == ore(footer[1]) == Decimal(amount)


def test_the_cell_of_a_month_without_grouping_is_the_months_total(client: TestClient) -> None:
    two_referrals(client)
    browser, _ = browse(client, "reporter", bodies.ODENSE)
    forbrug = browser.get("/dashboard/forbrug", params={**PERIOD, "by": ""}).text
    ((_, (shown, _)),) = [(k, c) for k, c in spending_cells(forbrug).items() if k[1] == MONTH]
    link = re.search(r'data-cell-link="([^"]+)"', forbrug)
    assert link is not None and link.group(1).endswith("&amp;by=")
    page = browser.get(link.group(1).replace("&amp;", "&") + f"&month={MONTH}").text
    amount, referrals, _ = cell_page(page)

    assert shown == amount
    assert sum(Decimal(a) for a in referrals.values()) == Decimal(amount)
    assert (
        "/dashboard/revisionsspor?referral="
        not in browser.get("/dashboard/forbrug/celle", params={"month": MONTH}).text
    ), "a reporter, who may not open Revisionsspor, gets no link to it"


def test_another_municipalitys_token_is_refused_and_sees_none_of_its_referrals(client: TestClient) -> None:
    supplier_id, _ = two_referrals(client)
    browser, _ = browse(client, "reporter", "101")
    cell = {"month": MONTH, "by": "supplier", "key": supplier_id}

    asked_for_461 = browser.get("/dashboard/forbrug/celle", params={**cell, "municipality": bodies.ODENSE})
    keyed_461 = browser.get(
        "/dashboard/forbrug/celle", params={"month": MONTH, "by": "municipality", "key": "461"}
    )
    workbook_461 = browser.get(
        "/dashboard/forbrug/celle.xlsx", params={**cell, "municipality": bodies.ODENSE}
    )
    own = browser.get("/dashboard/forbrug/celle", params=cell)

    assert asked_for_461.status_code == keyed_461.status_code == workbook_461.status_code == 403
    assert 'data-testid="refused"' in asked_for_461.text
    assert own.status_code == 200
    assert cell_page(own.text)[:2] == ("0.00", {})


def test_the_reads_and_the_refusals_are_in_the_access_log(client: TestClient) -> None:
    supplier_id, _ = two_referrals(client)
    name = "cell-reader"
    secret = new_token(client, "reporter", "101", name=name)
    browser = logged_in(client, secret)
    cell = {"month": MONTH, "by": "supplier", "key": supplier_id}
    browser.get("/dashboard/forbrug/celle", params=cell)
    browser.get("/dashboard/forbrug/celle.xlsx", params=cell)
    browser.get("/dashboard/forbrug/celle", params={**cell, "municipality": bodies.ODENSE})

    admin = new_token(client, "admin", "*")
    logged = client.get(
        "/audit/access-log", params={"action": "spending.lineage"}, headers=bearer(admin)
    ).json()["items"]
    mine = [(e["format"], e["status"], e["municipality"]) for e in logged if e["token"] == name]
    assert sorted(mine) == sorted([("html", 200, "101"), ("xlsx", 200, "101"), ("html", 403, "101")])
    entry = next(e for e in logged if e["token"] == name and e["format"] == "xlsx")
    assert {k: entry["query"][k] for k in ("month", "by", "key")} == cell


def test_an_address_that_names_no_cell_is_answered_as_unknown(client: TestClient) -> None:
    browser, _ = browse(client, "reporter", bodies.ODENSE)
    for params in (
        {"month": "2026-13"},
        {"month": MONTH, "by": "supplier"},
        {"month": MONTH, "by": "colour", "key": "x"},
    ):
        answer = browser.get("/dashboard/forbrug/celle", params=params)
        assert answer.status_code == 404, params
        assert "Ukendt celle" in answer.text


def test_the_list_is_paged_and_each_page_keeps_the_choices_and_the_cells_total(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(forbrug_celle, "PAGE_SIZE", 1)
    supplier_id, referral_ids = two_referrals(client)
    browser, _ = browse(client, "admin", "*")
    cell = {**PERIOD, "month": MONTH, "by": "supplier", "key": supplier_id, "amounts": "kr"}
    lineage = {"month": MONTH, "by": "supplier", "key": supplier_id}
    api = client.get("/reports/spending/lineage", params=lineage).json()

    first = browser.get("/dashboard/forbrug/celle", params=cell).text
    links = dict(re.findall(r'<a href="(/dashboard/forbrug/celle\?[^"]+)" rel="(prev|next)"', first))
    ((following, rel),) = links.items()
    second = browser.get(following.replace("&amp;", "&")).text
    back = dict(re.findall(r'<a href="(/dashboard/forbrug/celle\?[^"]+)" rel="(prev|next)"', second))
    beyond = browser.get("/dashboard/forbrug/celle", params={**cell, "page": "9"}).text
    book = table(workbook(browser.get("/dashboard/forbrug/celle.xlsx", params=cell)))[1]

    assert rel == "next" and list(back.values()) == ["prev"]
    assert parse_qs(urlsplit(following.replace("&amp;", "&")).query) == {
        **{k: [v] for k, v in cell.items()},
        "page": ["2"],
    }
    shown = [cell_page(page) for page in (first, second)]
    assert [amount for amount, _, _ in shown] == [api["amount"]] * 2, "each page states the cell's total"
    assert [list(referrals) for _, referrals, _ in shown] == [[r["referral_id"]] for r in api["referrals"]]
    assert sorted(referral_ids) == sorted(r for _, referrals, _ in shown for r in referrals)
    for page, (_, referrals, _) in zip((first, second), shown, strict=True):
        assert "Viser" in page and "af 2</span>" in page
        subtotal = re.search(r'data-testid="page-total">.*?data-amount="([^"]+)"', page, re.S)
        assert subtotal is not None and subtotal.group(1) == next(iter(referrals.values()))
    assert "Viser 2–2 af 2" in beyond, "a page beyond the last shows the last"
    assert len([row for row in book if row[1] is not None]) == 3, "the workbook: both referrals and the total"
