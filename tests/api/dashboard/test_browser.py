"""The dashboard end to end in headless Chromium, on the demo data served by the real server.

Each test drives a page as a person would (log in, change a filter), reads the numbers the page
shows and compares them with the JSON report endpoints' answers for the same token, at 1440×900 and at
390×844, and saves a screenshot per size under test-artifacts/screenshots/.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import openpyxl
import pytest

from api.dashboard import formatting
from application.service.caseledger import copenhagen_today
from tests.api.dashboard.support import (
    REPORTER_MUNICIPALITY,
    DemoServer,
    chosen_month,
    count_text,
    kroner_text,
    log_in,
    pick_month,
    screenshot,
)
from tests.storage import delete_event

pytestmark = pytest.mark.browser


@pytest.fixture
def page(sized: Any) -> Any:
    """Every test here runs at the desktop and at the phone size (``sized``)."""
    return sized


PAGES = ("overblik", "forbrug", "priser", "revisionsspor")

SUPPLIER_ROWS_JS = """rows => rows.filter(r => !r.hidden).map(r => ({
    id: r.dataset.supplier,
    name: r.querySelector('td.name').textContent.trim(),
    cvr: r.querySelector('td.cvr').textContent.trim(),
    active: Number(r.querySelector('td.active').dataset.value),
    active_text: r.querySelector('td.active').textContent.trim(),
    amount: r.querySelector('td.committed').dataset.amount,
    text: r.querySelector('td.committed').textContent.trim(),
    old_lists: r.querySelectorAll('td.lists span.list.old').length,
}))"""

# A cell's month is its column header's (the cells carry only their amount).
SPENDING_CELLS_JS = """rows => rows.flatMap(r => Array.from(r.querySelectorAll('td:not(.total)'))
    .filter(c => c.dataset.amount !== undefined)
    .map(c => ({key: r.dataset.key, month: r.closest('table').tHead.rows[0].cells[c.cellIndex].dataset.month,
                amount: c.dataset.amount, text: c.textContent.trim()})))"""

BENCHMARK_ROWS_JS = """rows => rows.map(r => {
    const found = {intervention: r.dataset.intervention, unit: r.dataset.unit};
    for (const cell of r.querySelectorAll('td[data-field]')) {
        found[cell.dataset.field] = cell.dataset.amount !== undefined ? cell.dataset.amount
            : cell.dataset.amount === undefined && cell.classList.contains('count') ? cell.dataset.value
            : cell.textContent.trim();
        found[cell.dataset.field + '_text'] = cell.textContent.trim();
    }
    return found;
})"""


SPENDING_ROWS_JS = """rows => rows.map(r => ({label: r.querySelector('th').textContent.trim(),
    amounts: Array.from(r.querySelectorAll('td:not(.total)')).map(c => c.dataset.amount || null)}))"""


def money(value: Any) -> Decimal | None:
    """A workbook's number cell as kroner with øre."""
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def months_ago(today: date, months: int) -> str:
    index = today.year * 12 + today.month - 1 - months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def older_than_a_year(row: dict[str, Any], today: date) -> bool:
    cutoff = today - timedelta(days=365)
    return any(
        date.fromisoformat(item["negotiated_on"]) < cutoff
        for in_force in row["price_lists"]
        for item in [*in_force["rates"], *in_force["packages"]]
    )


def test_without_a_login_every_page_shows_the_login_form(page: Any) -> None:
    for slug in PAGES:
        response = page.goto(f"/dashboard/{slug}")

        assert response.status == 200
        assert page.url.split("?")[0].endswith("/dashboard/login")
        assert f"next=%2Fdashboard%2F{slug}" in page.url
        assert page.locator("#token").is_visible()
    screenshot(page, f"login-{page.viewport_name}")


def test_a_wrong_token_is_refused_with_a_message(page: Any) -> None:
    log_in(page, "not-a-token")

    assert page.url.split("?")[0].endswith("/dashboard/login")
    assert page.locator(".error").inner_text() == "Ukendt eller tilbagekaldt token."
    assert [c["name"] for c in page.context.cookies()] == []


def test_overblik_shows_the_supplier_report_for_the_tokens_municipality(
    page: Any, demo_server: DemoServer
) -> None:
    with demo_server.api(demo_server.reporter) as api:
        expected = api.get("/reports/suppliers").json()
    by_id = {row["supplier_id"]: row for row in expected}

    log_in(page, demo_server.reporter, "/dashboard/overblik")
    shown = page.locator("#suppliers tbody tr").evaluate_all(SUPPLIER_ROWS_JS)
    screenshot(page, f"overblik-{page.viewport_name}", full_page=False)

    assert page.url.endswith("/dashboard/overblik")
    assert f"kommune {REPORTER_MUNICIPALITY}" in page.get_by_test_id("who").inner_text()
    assert len(expected) > 10
    assert sorted(row["id"] for row in shown) == sorted(by_id)
    today = copenhagen_today()
    for row in shown:
        report = by_id[row["id"]]
        assert (row["name"], row["cvr"]) == (report["name"], report["cvr"])
        assert row["active"] == report["active_referrals"] == count_text(row["active_text"])
        assert row["amount"] == report["committed_total"]
        assert kroner_text(row["text"]) == Decimal(report["committed_total"])
        assert (row["old_lists"] > 0) == older_than_a_year(report, today)
    total = sum(Decimal(row["committed_total"]) for row in expected)
    assert kroner_text(page.locator("#shown-committed").inner_text()) == total
    assert count_text(page.locator("#shown-active").inner_text()) == sum(
        r["active_referrals"] for r in expected
    )


def test_overblik_filters_and_sorts_in_the_page(page: Any, demo_server: DemoServer) -> None:
    with demo_server.api(demo_server.reporter) as api:
        expected = api.get("/reports/suppliers").json()
    word = expected[0]["name"].split()[0].lower()
    matching = [row for row in expected if word in f"{row['name']} {row['cvr']}".lower()]
    today = copenhagen_today()
    old = [row for row in expected if older_than_a_year(row, today)]
    log_in(page, demo_server.reporter, "/dashboard/overblik")

    page.fill("#filter-text", word)
    filtered = page.locator("#suppliers tbody tr").evaluate_all(SUPPLIER_ROWS_JS)
    screenshot(page, f"overblik-filtered-{page.viewport_name}", full_page=False)

    assert 0 < len(matching) < len(expected)
    assert sorted(row["id"] for row in filtered) == sorted(row["supplier_id"] for row in matching)
    assert count_text(page.locator("#shown-count").inner_text()) == len(matching)
    assert page.locator("#shown-committed").get_attribute("data-amount") == str(
        sum((Decimal(row["committed_total"]) for row in matching), Decimal(0))
    )

    page.fill("#filter-text", "")
    page.check("#filter-old")
    only_old = page.locator("#suppliers tbody tr").evaluate_all(SUPPLIER_ROWS_JS)

    assert old, "the demo has price lists older than a year"
    assert sorted(row["id"] for row in only_old) == sorted(row["supplier_id"] for row in old)
    assert count_text(page.locator("#shown-count").inner_text()) == len(old)

    page.uncheck("#filter-old")
    page.get_by_role("columnheader", name="Bevilget forbrug").click()
    ascending = page.locator("#suppliers tbody tr").evaluate_all(SUPPLIER_ROWS_JS)
    page.get_by_role("columnheader", name="Bevilget forbrug").click()
    descending = page.locator("#suppliers tbody tr").evaluate_all(SUPPLIER_ROWS_JS)

    amounts = [Decimal(row["amount"]) for row in ascending]
    assert amounts == sorted(amounts)
    assert [Decimal(row["amount"]) for row in descending] == sorted(amounts, reverse=True)


def spending_shown(page: Any) -> tuple[dict[tuple[str | None, str], str], dict[str, str], str]:
    """The table's cells ``{(key, month): amount}``, the monthly totals and the total."""
    cells = page.locator("#spending tbody tr").evaluate_all(SPENDING_CELLS_JS)
    for cell in cells:
        assert kroner_text(cell["text"]) == Decimal(cell["amount"])
    footer = page.locator("#spending tfoot td[data-month]").evaluate_all(
        "cells => cells.map(c => [c.dataset.month, c.dataset.amount])"
    )
    return (
        {(cell["key"] or None, cell["month"]): cell["amount"] for cell in cells},
        dict(footer),
        page.get_by_test_id("total").get_attribute("data-amount"),
    )


def expected_spending(api: Any, params: dict[str, str]) -> tuple[dict[tuple[str | None, str], str], str]:
    report = api.get("/reports/spending", params=params).json()
    return {(row.get("key"), row["month"]): row["amount"] for row in report["rows"]}, report["total"]


def test_forbrug_follows_the_chosen_period_and_grouping(page: Any, demo_server: DemoServer) -> None:
    log_in(page, demo_server.reporter, "/dashboard/forbrug")
    first, last = chosen_month(page, "from"), chosen_month(page, "to")
    cells, month_totals, total = spending_shown(page)

    with demo_server.api(demo_server.reporter) as api:
        by_intervention, expected_total = expected_spending(
            api, {"from": first, "to": last, "by": "intervention"}
        )
        assert page.input_value("select[name=by]") == "intervention"
        assert cells == by_intervention
        assert total == expected_total
        monthly, _ = expected_spending(api, {"from": first, "to": last})
        assert month_totals == {month: amount for (_, month), amount in monthly.items()}
        assert page.locator("svg[data-testid=chart] rect.bar").count() > 0
        assert page.get_by_test_id("legend").locator("li").count() >= 2
        screenshot(page, f"forbrug-intervention-{page.viewport_name}")

        with page.expect_navigation():
            page.select_option("select[name=by]", "supplier")
        today = copenhagen_today()
        start, end = months_ago(today, 8), months_ago(today, 3)
        pick_month(page, "from", start)
        pick_month(page, "to", end)
        with page.expect_navigation():
            page.click("#spending-form button[type=submit]")
        cells, month_totals, total = spending_shown(page)
        by_supplier, expected_total = expected_spending(api, {"from": start, "to": end, "by": "supplier"})

        assert "by=supplier" in page.url and f"from={start}" in page.url
        assert cells == by_supplier
        assert total == expected_total
        assert sorted(month_totals) == [months_ago(today, n) for n in range(8, 2, -1)]
        legend = page.get_by_test_id("legend").locator("li").all_inner_texts()
        assert len(legend) == min(10, len({key for key, _ in by_supplier}))
        screenshot(page, f"forbrug-supplier-{page.viewport_name}")

        table_rows = page.locator("#spending tbody tr").evaluate_all(SPENDING_ROWS_JS)
        with page.expect_download() as download_info:
            page.get_by_test_id("export").click()
        downloaded = download_info.value
        header, *rows = (
            openpyxl.load_workbook(io.BytesIO(downloaded.path().read_bytes()))
            .worksheets[0]
            .iter_rows(values_only=True)
        )

    assert downloaded.suggested_filename == f"forbrug-{start}-{end}-supplier.xlsx"
    assert header[0] == "Leverandør" and header[-1] == "I alt"
    assert [h.split(" (")[0] for h in header[1:-1]] == [
        formatting.month(months_ago(today, n)) for n in range(8, 2, -1)
    ]
    *body, footer = rows
    assert [(row[0], [money(v) for v in row[1:-1]]) for row in body] == [
        (row["label"], [Decimal(a) if a else None for a in row["amounts"]]) for row in table_rows
    ]
    assert footer[0] == "I alt" and money(footer[-1]) == Decimal(total)


def test_priser_shows_the_benchmarks_and_filters_by_intervention(page: Any, demo_server: DemoServer) -> None:
    log_in(page, demo_server.reporter, "/dashboard/priser")
    shown = page.locator("#benchmarks tbody tr").evaluate_all(BENCHMARK_ROWS_JS)
    with demo_server.api(demo_server.reporter) as api:
        expected = api.get("/reports/price-benchmarks").json()
        family = api.get("/reports/price-benchmarks", params={"intervention": "family-treatment"}).json()
    screenshot(page, f"priser-{page.viewport_name}")

    fields = ("agreements", "min", "median", "max", "list_rates", "list_min", "list_median", "list_max")

    def comparable(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [
            (row["intervention"], row["unit"], *(str(row[f]) if row[f] is not None else "–" for f in fields))
            for row in rows
        ]

    assert len(expected) > 5
    assert comparable(shown) == comparable(expected)
    for row in shown:
        for name in ("min", "median", "max"):
            if row[name] != "–":
                assert kroner_text(row[f"{name}_text"]) == Decimal(row[name])
        for name in ("agreements", "list_rates"):
            assert count_text(row[f"{name}_text"]) == int(row[name])
    assert page.locator("td.dist svg").count() == len(expected)

    with page.expect_navigation():
        page.select_option("select[name=intervention]", "family-treatment")
    filtered = page.locator("#benchmarks tbody tr").evaluate_all(BENCHMARK_ROWS_JS)
    screenshot(page, f"priser-familiebehandling-{page.viewport_name}")

    assert "intervention=family-treatment" in page.url
    assert family and comparable(filtered) == comparable(family)


def a_long_history(api: Any) -> tuple[str, dict[str, Any]]:
    """A closed demo referral with the longest trail among the newest closed ones."""
    closed = api.get("/referrals", params={"status": "closed", "page_size": 40}).json()["items"]
    trails = [(item["id"], api.get(f"/audit/referrals/{item['id']}").json()) for item in closed]
    return max(trails, key=lambda found: len(found[1]["entries"]))


def test_revisionsspor_shows_the_trail_and_its_integrity(page: Any, demo_server: DemoServer) -> None:
    with demo_server.api(demo_server.admin) as api:
        referral_id, trail = a_long_history(api)
    log_in(page, demo_server.admin, "/dashboard/revisionsspor")
    assert page.locator("#referrals tbody tr").count() == 25

    page.fill("input[name=referral]", referral_id)
    with page.expect_navigation():
        page.get_by_role("button", name="Vis spor").click()
    entries = page.locator("ol.timeline li.entry").evaluate_all(
        "items => items.map(i => ({version: Number(i.dataset.version), type: i.dataset.type,"
        " rationale: (i.querySelector('.rationale') || {textContent: ''}).textContent.trim()}))"
    )
    screenshot(page, f"revisionsspor-{page.viewport_name}")

    assert len(trail["entries"]) >= 4
    assert [(e["version"], e["type"]) for e in entries] == [
        (e["version"], e["type"]) for e in trail["entries"]
    ]
    assert [e["rationale"] for e in entries] == [e["rationale"] or "" for e in trail["entries"]]
    integrity = page.get_by_test_id("integrity")
    assert trail["integrity"]["ok"] is True
    assert integrity.get_attribute("data-ok") == "true"
    assert "Integritetskontrol: i orden" in integrity.inner_text()
    assert count_text(page.get_by_test_id("checked").inner_text()) == trail["integrity"]["checked"]


def test_revisionsspor_shows_plainly_when_a_stored_event_was_removed(
    page: Any, demo_server: DemoServer
) -> None:
    with demo_server.api(demo_server.admin) as api:
        active = api.get("/referrals", params={"status": "active", "page_size": 1, "page": 3}).json()
        referral_id = active["items"][0]["id"]
        delete_event(demo_server.database_url, UUID(referral_id), 2)
        trail = api.get(f"/audit/referrals/{referral_id}").json()
    log_in(page, demo_server.admin, f"/dashboard/revisionsspor?referral={referral_id}")
    screenshot(page, f"revisionsspor-fejl-{page.viewport_name}")

    integrity = page.get_by_test_id("integrity")
    assert trail["integrity"]["ok"] is False
    assert integrity.get_attribute("data-ok") == "false"
    assert "Integritetskontrol: FEJL" in integrity.inner_text()
    assert (
        count_text(page.get_by_test_id("problem-count").inner_text()) == trail["integrity"]["problem_count"]
    )
    shown = integrity.locator("li[data-problem]").evaluate_all(
        "items => items.map(i => [Number(i.dataset.version), i.dataset.problem])"
    )
    assert shown == [[p["version"], p["problem"]] for p in trail["integrity"]["problems"]]
    assert [p["problem"] for p in trail["integrity"]["problems"]] == ["deleted"]
    assert "Version 2: slettet" in integrity.inner_text()
    assert page.locator("ol.timeline li.gap").evaluate_all("items => items.map(i => i.dataset.version)") == [
        "2"
    ]


def test_a_reporter_sees_no_revisionsspor(page: Any, demo_server: DemoServer) -> None:
    log_in(page, demo_server.reporter, "/dashboard/")

    menu = page.get_by_role("navigation", name="Sider").get_by_role("link").all_inner_texts()
    response = page.goto("/dashboard/revisionsspor")
    screenshot(page, f"revisionsspor-afvist-{page.viewport_name}")

    assert menu == ["Overblik", "Forbrug", "Priser", "Praksis"]
    assert response.status == 403
    assert "ikke adgang til Revisionsspor" in page.get_by_test_id("refused").inner_text()
    assert page.locator("ol.timeline, #referrals").count() == 0


def test_the_login_cookie_is_hidden_from_scripts_and_cleared_on_logout(
    page: Any, demo_server: DemoServer
) -> None:
    log_in(page, demo_server.admin, "/dashboard/")
    (cookie,) = page.context.cookies()

    assert page.url.endswith("/dashboard/overblik")
    assert (cookie["name"], cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (
        "caseledger_dashboard",
        True,
        "Strict",
        "/dashboard",
    )
    assert page.evaluate("document.cookie") == ""

    with page.expect_navigation():
        page.get_by_role("button", name="Log ud").click()

    assert page.url.endswith("/dashboard/login")
    assert page.context.cookies() == []
    page.goto("/dashboard/forbrug")
    assert page.url.split("?")[0].endswith("/dashboard/login")
