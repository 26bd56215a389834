"""Revisionsspor over HTTP (no browser), on SQLite and PostgreSQL: what an auditor came for (issue 26,
item 4) — the price check, the match's alternatives and criteria, the case number, Danish time,
changes in a fixed order, legal bases by name — against ``/audit/referrals/{id}`` and
``/referrals/{id}``."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from domain.reference import load_reference
from tests.api import bodies
from tests.api.dashboard.test_pages import browse, visible_text

NBSP = "\u00a0"


def plain(text: str) -> str:
    """The visible text with its spaces (non-breaking ones too) made single ordinary spaces."""
    return re.sub(r"\s+", " ", visible_text(text).replace(NBSP, " "))


def element(page: str, testid: str) -> str:
    """The markup of the first element with ``data-testid=testid`` up to its closing tag."""
    found = re.search(rf'<(\w+)[^>]*data-testid="{testid}"[^>]*>(.*?)</\1>', page, flags=re.DOTALL)
    assert found, f"no {testid} on the page"
    return found.group(0)


def audited_referral(client: TestClient) -> tuple[str, str, str]:
    """A referral matched to one supplier over another, priced above the list rate, and its rate
    adjusted below it: ``(referral_id, chosen supplier_id, passed-over supplier_id)``."""
    chosen = bodies.supplier_with_prices(client)
    other = bodies.supplier_with_prices(client, name="Ungeindsatsen Odense ApS")
    referral_id = bodies.referred(client, legal_basis="BL-32-1-5")
    match = bodies.match(chosen, [bodies.candidate(other, reason="Ingen ledig kapacitet")])
    bodies.created(client.post(f"/referrals/{referral_id}/match", json=match), 200)
    agreement = bodies.hourly_agreement("935.00", rationale="Særlig erfaring med små børn")
    bodies.created(client.post(f"/referrals/{referral_id}/price-agreement", json=agreement), 200)
    adjustment = bodies.adjustment("2026-02-01", hours_per_week=None, hourly_rate="807.50")
    bodies.created(client.post(f"/referrals/{referral_id}/adjustment", json=adjustment), 200)
    client.get("/reports/spending", params={"min_position": bodies.last_position(client)})  # listed
    return referral_id, chosen, other


def test_the_price_check_shows_agreed_against_list_rate_and_the_lists_date(client: TestClient) -> None:
    referral_id, _, _ = audited_referral(client)
    trail = client.get(f"/audit/referrals/{referral_id}").json()
    browser, _ = browse(client, "auditor", "461")

    page = browser.get("/dashboard/revisionsspor", params={"referral": referral_id}).text

    checks = re.findall(
        r'data-testid="price-check" data-agreed="([^"]*)" data-list-rate="([^"]*)" '
        r'data-negotiated-on="([^"]*)" data-above="(\w+)"',
        page,
    )
    priced = next(e["data"] for e in trail["entries"] if e["type"] == "referral.price_agreed")
    adjusted = next(e["data"] for e in trail["entries"] if e["type"] == "referral.adjusted")
    assert checks == [
        (priced["hourly_rate"], priced["list_rate"], priced["list_negotiated_on"], "true"),
        (adjusted["hourly_rate"], adjusted["list_rate"], priced["list_negotiated_on"], "false"),
    ]
    assert priced["above_list_rate"] is True and adjusted["above_list_rate"] is False
    text = plain(page)
    over = (Decimal(priced["hourly_rate"]) / Decimal(priced["list_rate"]) - 1) * 100
    assert over == Decimal("10")
    assert "Priskontrol over listepris" in text
    assert "Over listepris (+10,0 %)" in text and "Under listepris (-5,0 %)" in text
    assert "Aftalt timetakst 935,00 kr. Listepris i kraft 850,00 kr. Prisliste forhandlet 01.12.2025" in text


def test_the_match_shows_the_passed_over_suppliers_by_name_and_the_criteria(client: TestClient) -> None:
    referral_id, _, other = audited_referral(client)
    matched = next(
        e["data"]
        for e in client.get(f"/audit/referrals/{referral_id}").json()["entries"]
        if e["type"] == "referral.matched"
    )
    browser, _ = browse(client, "auditor", "461")

    page = browser.get("/dashboard/revisionsspor", params={"referral": referral_id}).text

    match = plain(element(page, "match"))
    rows = re.findall(r'<tr data-supplier="([^"]*)" data-rate="([^"]*)">', page)
    assert (
        rows == [(c["supplier_id"], c["hourly_rate"]) for c in matched["candidates"]] == [(other, "910.00")]
    )
    assert client.get(f"/suppliers/{other}").json()["name"] in match
    assert "Ungeindsatsen Odense ApS 910,00 kr. Ingen ledig kapacitet" in match
    assert "Valg af leverandør: Familiehuset Fyn ApS" in match
    assert all(criterion in match for criterion in matched["criteria"])


def test_the_case_number_is_shown_to_a_token_that_may_read_the_referral(client: TestClient) -> None:
    referral_id, _, _ = audited_referral(client)
    state = client.get(f"/referrals/{referral_id}").json()
    auditor, _ = browse(client, "auditor", "461")

    page = auditor.get("/dashboard/revisionsspor", params={"referral": referral_id}).text

    assert state["case_ref"] == "SAG-2026-0042"
    assert f'data-testid="case-ref">{state["case_ref"]}</dd>' in page
    assert "Sagsnummer" in plain(page)


def test_times_are_danish_time_and_changes_keep_a_fixed_order(client: TestClient) -> None:
    referral_id, _, _ = audited_referral(client)
    trail = client.get(f"/audit/referrals/{referral_id}").json()
    browser, _ = browse(client, "auditor", "461")

    page = browser.get("/dashboard/revisionsspor", params={"referral": referral_id}).text

    shown = re.findall(r'<time datetime="([^"]+)" data-testid="recorded">([^<]+)</time>', page)
    assert [iso for iso, _ in shown] == [e["recorded_at"] for e in trail["entries"]]
    for iso, text in shown:
        local = datetime.fromisoformat(iso).astimezone(ZoneInfo("Europe/Copenhagen"))
        assert text.replace(NBSP, " ") == local.strftime("%d.%m.%Y kl. %H:%M:%S")
    assert "UTC" not in plain(element(page, "timeline"))
    priced = re.search(r'data-type="referral.price_agreed".*?</li>', page, flags=re.DOTALL)
    assert priced
    fields = re.findall(r"<tr><th>([^<]+)</th>", priced.group(0))
    assert fields == ["Status", "Prisform", "Start", "Slut", "Timer pr. uge", "Timetakst"]


def test_legal_bases_are_shown_by_name_in_the_trail_and_the_list(client: TestClient) -> None:
    referral_id, _, _ = audited_referral(client)
    listed = client.get("/referrals", params={"page_size": 100}).json()["items"]
    browser, _ = browse(client, "auditor", "461")

    trail = browser.get("/dashboard/revisionsspor", params={"referral": referral_id}).text
    listing = browser.get("/dashboard/revisionsspor").text

    assert [r["legal_basis"] for r in listed if r["id"] == referral_id] == ["BL-32-1-5"]
    title = load_reference().legal_bases["BL-32-1-5"].title_da
    assert plain(element(trail, "legal-basis")).strip() == f"Barnets lov § 32, stk. 1, nr. 5 ({title})"
    assert "BL-32-1-5" not in plain(trail) and "BL-32-1-5" not in plain(listing)
    assert "Barnets lov § 32, stk. 1, nr. 5" in plain(listing)


def many_referrals(client: TestClient) -> dict[str, str]:
    """28 referrals in 461 (two pages of the list): four priced at different rates with three
    suppliers, one matched only, the rest referred; ``{supplier_id: name}``."""
    names = {bodies.supplier_with_prices(client, name=name): name for name in ("Bravo", "alfa", "Charlie")}
    ids = list(names)
    for supplier_id, rate, intervention in (
        (ids[0], "850.00", "family-treatment"),
        (ids[1], "700.00", "family-treatment"),
        (ids[2], "820.00", "family-treatment"),
        (ids[1], "640.50", "home-support"),
    ):
        basis = "BL-32-1-2" if intervention == "home-support" else "BL-32-1-5"
        referral_id, _ = bodies.matched(client, supplier_id, intervention=intervention, legal_basis=basis)
        agreement = bodies.hourly_agreement(rate)
        bodies.created(client.post(f"/referrals/{referral_id}/price-agreement", json=agreement), 200)
    bodies.matched(client, ids[2])
    for day in range(23):
        bodies.referred(client, referred_on=f"2026-01-{day + 1:02d}", requested_start="2026-01-25")
    client.get("/reports/spending", params={"min_position": bodies.last_position(client)})
    return names


def listed_ids(browser: TestClient, **query: str) -> list[str]:
    """The referral ids of every page of the list, in the page's order, following "Næste"."""
    found: list[str] = []
    address = "/dashboard/revisionsspor?" + "&".join(f"{k}={v}" for k, v in query.items())
    while address:
        page = browser.get(address)
        assert page.status_code == 200
        found += re.findall(r'<tr data-referral="([^"]+)"', page.text)
        following = re.search(r'<a href="(\?[^"]*)">Næste</a>', page.text)
        address = "/dashboard/revisionsspor" + following.group(1).replace("&amp;", "&") if following else ""
    return found


def test_the_list_names_the_supplier_and_sorts_across_every_page(client: TestClient) -> None:
    names = many_referrals(client)
    items = client.get("/referrals", params={"page_size": 100}).json()["items"]
    browser, _ = browse(client, "auditor", "461")

    def ordered(*keys: tuple[object, bool]) -> list[str]:
        rows = sorted(items, key=lambda r: r["id"])  # stable sorts, the last key first
        for key, descending in reversed(keys):
            rows = sorted(rows, key=key, reverse=descending)  # type: ignore[arg-type]
        return [r["id"] for r in rows]

    by_supplier = listed_ids(browser, sort="supplier")
    by_supplier_down = listed_ids(browser, sort="supplier", dir="desc")
    by_total = listed_ids(browser, sort="committed")
    by_status = listed_ids(browser, sort="status", dir="asc")
    newest = listed_ids(browser)

    assert len(items) == 28 and len(newest) == 28
    assert newest == ordered((lambda r: (r["referred_on"], r["id"]), True))
    name = lambda r: (r["supplier_id"] is None, names.get(r["supplier_id"], "").lower())  # noqa: E731
    referred_desc = (lambda r: r["referred_on"], True)
    assert by_supplier == ordered((name, False), referred_desc)
    assert (
        by_supplier_down[:6]
        == ordered((lambda r: r["supplier_id"] is None, False), (name, True), referred_desc)[:6]
    )
    assert by_total == ordered((lambda r: Decimal(r["committed_total"]), True), referred_desc)
    course = {"referred": 1, "matched": 2, "active": 3, "closed": 4}
    assert by_status == ordered((lambda r: course[r["status"]], False), referred_desc)
    first = browser.get("/dashboard/revisionsspor", params={"sort": "supplier"}).text
    shown = re.findall(
        r'data-supplier="([^"]*)"[^>]*>\s*<td>[^<]*</td>\s*<td class="supplier">([^<]*)</td>', first
    )
    assert [text for _, text in shown[:6]] == ["alfa", "alfa", "Bravo", "Charlie", "Charlie", "–"]
    assert all(names.get(i, "–") == text for i, text in shown)
    assert '<a href="?sort=supplier&amp;page=2">Næste</a>' in first


def test_the_list_filters_by_supplier_and_intervention(client: TestClient) -> None:
    names = many_referrals(client)
    alfa = next(i for i, n in names.items() if n == "alfa")
    browser, _ = browse(client, "auditor", "461")

    shown = listed_ids(browser, supplier=alfa)
    both = listed_ids(browser, supplier=alfa, intervention="home-support")
    page = browser.get("/dashboard/revisionsspor", params={"supplier": alfa, "sort": "committed"}).text

    api = client.get("/referrals", params={"supplier_id": alfa}).json()["items"]
    api_both = client.get("/referrals", params={"supplier_id": alfa, "intervention": "home-support"}).json()
    assert sorted(shown) == sorted(r["id"] for r in api) and len(shown) == 2
    assert both == [r["id"] for r in api_both["items"]] and len(both) == 1
    assert f'<option value="{alfa}" selected>alfa</option>' in page
    assert '<input type="hidden" name="sort" value="committed">' in page
    assert f"/dashboard/revisionsspor.xlsx?supplier={alfa}&amp;sort=committed" in page
