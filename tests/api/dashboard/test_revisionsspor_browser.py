"""Revisionsspor in headless Chromium at 1440×900 and 390×844 (issue 26, item 4): a referral's price
check, its match's alternatives and criteria, its case number and Danish times, against
``/audit/referrals/{id}`` and ``/referrals/{id}``; and the list's supplier column, sorting across
pages and filters, kept in the address."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from tests.api.dashboard.support import DemoServer, kroner_text, log_in, screenshot

pytestmark = pytest.mark.browser

NBSP = "\u00a0"


def priced_above_the_list(api: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A demo referral whose price was agreed above the list rate, matched over alternatives:
    its id, its trail and its state."""
    found = api.get(
        "/audit/decisions",
        params={"type": "referral.price_agreed", "above_list_rate": "true", "page_size": 50},
    ).json()["items"]
    for decision in found:
        trail = api.get(f"/audit/referrals/{decision['referral_id']}").json()
        matched = [e for e in trail["entries"] if e["type"] == "referral.matched"]
        if matched and matched[-1]["data"]["candidates"]:
            return decision["referral_id"], trail, api.get(f"/referrals/{decision['referral_id']}").json()
    raise AssertionError(
        "the demo has no referral priced above its list rate after a match with alternatives"
    )


def test_the_trail_shows_the_price_check_the_match_and_the_case_number(
    sized: Any, demo_server: DemoServer
) -> None:
    with demo_server.api(demo_server.admin) as api:
        referral_id, trail, state = priced_above_the_list(api)
        suppliers = {
            c["supplier_id"]: api.get(f"/suppliers/{c['supplier_id']}").json()["name"]
            for e in trail["entries"]
            if e["type"] == "referral.matched"
            for c in e["data"]["candidates"]
        }
    log_in(sized, demo_server.admin, f"/dashboard/revisionsspor?referral={referral_id}")
    checks = sized.get_by_test_id("price-check").evaluate_all(
        "items => items.map(i => ({agreed: i.dataset.agreed, list: i.dataset.listRate,"
        " negotiated: i.dataset.negotiatedOn, above: i.dataset.above, text: i.innerText}))"
    )
    candidates = sized.locator("table.candidates tbody tr").evaluate_all(
        "rows => rows.map(r => [r.dataset.supplier, r.cells[0].innerText, r.dataset.rate])"
    )
    times = sized.locator("time[data-testid=recorded]").evaluate_all(
        "items => items.map(i => [i.getAttribute('datetime'), i.innerText])"
    )
    width = sized.evaluate("() => document.documentElement.scrollWidth")
    sized.locator("[data-testid=price-check].above").first.scroll_into_view_if_needed()
    screenshot(sized, f"revisionsspor-priskontrol-{sized.viewport_name}", full_page=False)

    priced = [e["data"] for e in trail["entries"] if e["type"] == "referral.price_agreed"]
    assert [(c["agreed"], c["list"], c["negotiated"]) for c in checks[: len(priced)]] == [
        (p["hourly_rate"] or p["daily_rate"], p["list_rate"], p["list_negotiated_on"]) for p in priced
    ]
    above = next(c for c in checks if c["above"] == "true")
    percent = (Decimal(above["agreed"]) / Decimal(above["list"]) - 1) * 100
    assert "over listepris" in above["text"]
    assert (
        f"Over listepris (+{percent.quantize(Decimal('0.1'), ROUND_HALF_UP):f}".replace(".", ",")
        in above["text"]
    )
    assert kroner_text(above["text"].split("Listepris i kraft")[1].strip().split("\n")[0]) == Decimal(
        above["list"]
    )
    shown = [(supplier, name, rate) for supplier, name, rate in candidates]
    expected = [
        (c["supplier_id"], suppliers[c["supplier_id"]], c["hourly_rate"] or "")
        for e in trail["entries"]
        if e["type"] == "referral.matched"
        for c in e["data"]["candidates"]
    ]
    assert shown == expected
    assert sized.get_by_test_id("case-ref").inner_text() == state["case_ref"]
    assert [iso for iso, _ in times] == [e["recorded_at"] for e in trail["entries"]]
    for iso, text in times:
        local = datetime.fromisoformat(iso).astimezone(ZoneInfo("Europe/Copenhagen"))
        assert text.replace(NBSP, " ") == local.strftime("%d.%m.%Y kl. %H:%M:%S")
    assert width <= sized.viewport_size["width"]


def test_the_list_sorts_across_pages_filters_and_keeps_it_on_reload(
    sized: Any, demo_server: DemoServer
) -> None:
    log_in(sized, demo_server.admin, "/dashboard/revisionsspor")
    with sized.expect_navigation():
        sized.get_by_role("link", name="Bevilget", exact=True).click()
    first = sized.locator("#referrals tbody tr").evaluate_all(
        "rows => rows.map(r => [r.dataset.referral, r.dataset.amount])"
    )
    sort_state = sized.locator("#referrals th[aria-sort]").evaluate_all(
        "hs => hs.map(h => [h.innerText, h.getAttribute('aria-sort')])"
    )
    with sized.expect_navigation():
        sized.get_by_role("link", name="Næste", exact=True).click()
    second = sized.locator("#referrals tbody tr").evaluate_all("rows => rows.map(r => r.dataset.amount)")
    supplier_id = sized.locator(
        "#referrals tbody tr[data-supplier]:not([data-supplier=''])"
    ).first.get_attribute("data-supplier")
    with sized.expect_navigation():
        sized.select_option("select[name=supplier]", supplier_id)
    asked = parse_qs(urlsplit(sized.url).query)
    sized.reload()
    rows = sized.locator("#referrals tbody tr").evaluate_all(
        "rows => rows.map(r => [r.dataset.supplier, r.cells[1].innerText])"
    )
    total_text = sized.locator("p.pager").inner_text()
    screenshot(sized, f"revisionsspor-liste-{sized.viewport_name}", full_page=False)
    width = sized.evaluate("() => document.documentElement.scrollWidth")

    with demo_server.api(demo_server.admin) as api:
        top = api.get(f"/referrals/{first[0][0]}").json()
        listed = api.get("/referrals", params={"supplier_id": supplier_id, "page_size": 1}).json()
        name = api.get(f"/suppliers/{supplier_id}").json()["name"]
    amounts = [Decimal(a) for _, a in first] + [Decimal(a) for a in second]
    assert amounts == sorted(amounts, reverse=True) and len(first) == 25
    assert Decimal(top["committed_total"]) == amounts[0]
    assert sort_state == [["Bevilget ▼", "descending"]]
    assert asked["sort"] == ["committed"] and asked["supplier"] == [supplier_id]
    assert {supplier for supplier, _ in rows} == {supplier_id}
    assert {text for _, text in rows} == {name}
    assert f"({listed['total']:,}".replace(",", ".") in total_text
    assert sized.locator("#referrals th[aria-sort]").get_attribute("aria-sort") == "descending"
    assert width <= sized.viewport_size["width"]


def test_the_case_number_search_finds_the_referral_and_stays_on_reload_and_sorting(
    sized: Any, demo_server: DemoServer
) -> None:
    with demo_server.api(demo_server.admin) as api:
        some = api.get("/referrals", params={"status": "active", "page_size": 1}).json()["items"][0]
        case_ref = api.get(f"/referrals/{some['id']}").json()["case_ref"]
        found = api.get("/audit/decisions", params={"case_ref": case_ref, "page_size": 500}).json()
    expected = {item["referral_id"] for item in found["items"]}
    assert some["id"] in expected
    log_in(sized, demo_server.admin, "/dashboard/revisionsspor")

    sized.get_by_label("Sagsnummer").fill(case_ref)
    with sized.expect_navigation():
        sized.get_by_label("Sagsnummer").press("Enter")
    shown = sized.locator("#referrals tbody tr").evaluate_all("rows => rows.map(r => r.dataset.referral)")
    asked = parse_qs(urlsplit(sized.url).query)
    sized.reload()
    again = sized.locator("#referrals tbody tr").evaluate_all("rows => rows.map(r => r.dataset.referral)")
    kept = sized.get_by_label("Sagsnummer").input_value()
    with sized.expect_navigation():
        sized.get_by_role("link", name="Bevilget", exact=True).click()
    sorted_asked = parse_qs(urlsplit(sized.url).query)
    after_sort = sized.locator("#referrals tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.referral)"
    )
    width = sized.evaluate("() => document.documentElement.scrollWidth")
    screenshot(sized, f"revisionsspor-sagsnummer-{sized.viewport_name}", full_page=False)

    assert set(shown) == expected
    assert asked["case_ref"] == [case_ref]
    assert (again, kept) == (shown, case_ref)
    assert sorted_asked["case_ref"] == [case_ref] and sorted_asked["sort"] == ["committed"]
    assert set(after_sort) == expected
    assert width <= sized.viewport_size["width"]
