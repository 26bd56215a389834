"""Praksis and Match in headless Chromium on the demo, every browser test at the desktop (1440×900)
and the phone size (390×844), a screenshot of each: their numbers equal the endpoints' (``GET
/reports/practice``, ``GET /referrals/{id}/candidates``), no page is wider than the screen, and the
lead-time chart is an image with a text alternative."""

from __future__ import annotations

import re
from io import BytesIO
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook  # type: ignore[import-untyped]

from tests.api import bodies
from tests.api.dashboard.support import DemoServer, count_text, log_in, screenshot
from tests.api.dashboard.test_pages import browse, logged_in
from tests.tokens import new_token

browser = pytest.mark.browser


@pytest.fixture
def page(sized: Any) -> Any:
    """Every browser test here runs at the desktop and at the phone size (``sized``)."""
    return sized


COUNTS = ("referred", "matched", "agreed", "closed")
LEAD_TIMES = ("referred_to_matched", "matched_to_agreed", "agreed_to_start")
SHARES = ("rematched_share", "extended_share", "above_list_share")

ROWS_JS = """() => Array.from(document.querySelectorAll('#practice tbody tr')).map(tr => {
  const row = {key: tr.dataset.key, cells: {}};
  for (const td of tr.querySelectorAll('td[data-field]')) {
    row.cells[td.dataset.field] = {text: td.textContent.trim(), share: td.dataset.share ?? null,
      number: td.dataset.number ?? null};
  }
  return row;
})"""


def _practice(demo_server: DemoServer, token: str, params: dict[str, str]) -> dict[str, Any]:
    with demo_server.api(token) as api:
        response = api.get("/reports/practice", params=params)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def _days(text: str) -> int | None:
    return None if text == "–" else count_text(text)


def _percent_share(text: str) -> str:
    """``12,5 %`` → ``0.125``: the share the text writes, back in the API's form."""
    digits = text.replace("\u00a0", " ").removesuffix(" %").replace(".", "").replace(",", "")
    return f"{int(digits) / 1000:.3f}"


def _assert_page_equals_report(page: Any, report: dict[str, Any]) -> None:
    shown = {row["key"]: row["cells"] for row in page.evaluate(ROWS_JS)}
    assert list(shown) == [group.get("key") or "" for group in report["groups"]]
    assert any(group["referred"] for group in report["groups"]), "the demo has referrals in the period"
    for group in report["groups"]:
        cells = shown[group.get("key") or ""]
        for name in COUNTS:
            assert count_text(cells[name]["text"]) == group[name], (group.get("key"), name)
        for name in LEAD_TIMES:
            for which in ("median", "p90"):
                assert _days(cells[f"{name}.{which}"]["text"]) == group[name][which], (name, which)
        for name in SHARES:
            assert cells[name]["share"] == group[name]
            if group[name] is not None:
                assert _percent_share(cells[name]["text"]) == group[name]
        for name in ("mean_extension_days", "adjustments_per_referral"):
            assert cells[name]["number"] == group[name]
        for reason, number in group["close_reasons"].items():
            assert str(number) in cells["close_reasons"]["text"], reason


@browser
def test_praksis_by_month_equals_the_practice_report(page: Any, demo_server: DemoServer) -> None:
    log_in(page, demo_server.admin, "/dashboard/praksis")
    chosen = page.evaluate(
        "() => Object.fromEntries(['from', 'to'].map(n => [n,"
        " document.querySelector(`select[name=${n}_year]`).value + '-' +"
        " document.querySelector(`select[name=${n}_month]`).value]))"
    )
    report = _practice(demo_server, demo_server.admin, {**chosen, "by": "month"})

    _assert_page_equals_report(page, report)
    assert len(report["groups"]) == 12
    screenshot(page, f"praksis-by-month-{page.viewport_name}")


@browser
@pytest.mark.parametrize("by", ["supplier", "intervention", "legal_basis"])
def test_praksis_for_a_municipality_equals_the_report_for_its_token(
    page: Any, demo_server: DemoServer, by: str
) -> None:
    params = {"from": "2025-01", "to": "2029-12", "by": by}
    log_in(page, demo_server.reporter, f"/dashboard/praksis?from=2025-01&to=2029-12&by={by}")
    report = _practice(demo_server, demo_server.reporter, params)
    screenshot(page, f"praksis-461-by-{by}-{page.viewport_name}", full_page=False)

    _assert_page_equals_report(page, report)
    if by == "supplier":
        names = page.locator("#practice tbody th").all_text_contents()
        assert [group["name"] or "(ingen leverandør)" for group in report["groups"]] == names


@browser
def test_the_lead_time_chart_is_an_image_with_the_medians_in_words(
    page: Any, demo_server: DemoServer
) -> None:
    log_in(page, demo_server.admin, "/dashboard/praksis?by=intervention")
    chart = page.locator("[data-testid=lead-time-chart]")
    from_, to = page.evaluate(
        "() => ['from', 'to'].map(n => document.querySelector(`select[name=${n}_year]`).value + '-' +"
        " document.querySelector(`select[name=${n}_month]`).value)"
    )
    monthly = _practice(demo_server, demo_server.admin, {"from": from_, "to": to, "by": "month"})["groups"]
    chart.scroll_into_view_if_needed()
    screenshot(page, f"praksis-chart-{page.viewport_name}", full_page=False)

    assert chart.get_attribute("role") == "img"
    described = page.locator("#lead-chart-desc").text_content() or ""
    for name in ("referred_to_matched", "matched_to_agreed"):
        medians = [group[name]["median"] for group in monthly if group[name]["median"] is not None]
        assert medians, "the demo has lead times to draw"
        assert chart.locator(f"g[data-series={name}] circle").count() == len(medians)
    first = next(group for group in monthly if group["referred_to_matched"]["median"] is not None)
    assert f"{first['referred_to_matched']['median']} dag" in described


@browser
def test_praksis_is_no_wider_than_the_screen(sized: Any, demo_server: DemoServer) -> None:
    log_in(sized, demo_server.admin, "/dashboard/praksis?by=supplier")
    width = sized.viewport_size["width"]
    screenshot(sized, f"layout-{sized.viewport_name}-praksis", full_page=False)

    assert sized.evaluate("() => document.documentElement.scrollWidth") <= width


@browser
def test_the_praksis_workbook_holds_the_reports_figures(demo_server: DemoServer) -> None:
    params = {"from": "2025-01", "to": "2029-12", "by": "intervention"}
    report = _practice(demo_server, demo_server.reporter, params)
    with httpx.Client(
        base_url=demo_server.base_url, cookies={"caseledger_dashboard": demo_server.reporter}
    ) as web:
        response = web.get("/dashboard/praksis.xlsx", params=params)

    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).worksheets[0]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(report["groups"])
    for row, group in zip(rows, report["groups"], strict=True):
        assert list(row[1:5]) == [group[name] for name in COUNTS]
        assert row[5:11] == tuple(group[name][which] for name in LEAD_TIMES for which in ("median", "p90"))
        assert [None if v is None else f"{v:.3f}" for v in row[11:14]] == [group[name] for name in SHARES]
    weekly = load_workbook(BytesIO(response.content))["Pr. uge"]
    *weeks, total = list(weekly.iter_rows(min_row=2, values_only=True))
    assert [n for _, n in weeks] == list(report["weekly_intake"].values())
    first = next(iter(report["weekly_intake"]))
    assert weeks[0][0] == f"uge {int(first[6:])}, {first[:4]}"
    assert total == ("I alt", sum(report["weekly_intake"].values()))


def _waiting_ids(demo_server: DemoServer, token: str) -> list[str]:
    with demo_server.api(token) as api:
        response = api.get("/referrals", params={"status": "referred", "page_size": 25})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


@browser
def test_match_lists_the_referrals_waiting_for_a_supplier(page: Any, demo_server: DemoServer) -> None:
    log_in(page, demo_server.admin, "/dashboard/match")
    shown = page.eval_on_selector_all("#waiting tbody tr", "rows => rows.map(r => r.dataset.referral)")
    screenshot(page, f"match-waiting-{page.viewport_name}", full_page=False)

    waiting = _waiting_ids(demo_server, demo_server.admin)
    assert waiting, "the demo has referrals waiting for a supplier"
    assert shown == waiting


@browser
def test_match_shows_the_candidates_as_the_endpoint_ranks_them(page: Any, demo_server: DemoServer) -> None:
    log_in(page, demo_server.admin, "/dashboard/match")
    with page.expect_navigation():
        page.click("#waiting tbody tr:first-child a")
    referral_id = page.url.split("referral=")[1]
    with demo_server.api(demo_server.admin) as api:
        candidates = api.get(f"/referrals/{referral_id}/candidates").json()
    rows = page.eval_on_selector_all(
        "#candidates tbody tr",
        """rows => rows.map(r => ({
          supplier: r.dataset.supplier,
          name: r.querySelector('th a').textContent.trim(),
          link: r.querySelector('th a').getAttribute('href'),
          score: r.querySelector('[data-field=score]').dataset.number,
          rate: r.querySelector('[data-field=rate]').dataset.amount ?? null,
          vsMedian: r.querySelector('[data-field=vs_median]').dataset.number ?? null,
          active: Number(r.querySelector('[data-field=load]').dataset.active),
          hours: r.querySelector('[data-field=load]').dataset.hours,
          capacity: r.querySelector('[data-field=load]').dataset.capacity || null,
          closed: Number(r.querySelector('[data-field=record]').dataset.closed),
          reasons: Array.from(r.querySelectorAll('[data-field=reasons] li')).map(li => li.textContent),
        }))""",
    )
    screenshot(page, f"match-candidates-{page.viewport_name}")

    assert candidates, "the demo's referral has candidates"
    assert [row["supplier"] for row in rows] == [c["supplier_id"] for c in candidates]
    for row, candidate in zip(rows, candidates, strict=True):
        assert row["name"] == candidate["name"]
        assert row["score"] == candidate["score"]
        assert row["rate"] == candidate["price"]["rate"]
        assert row["vsMedian"] == candidate["price"]["vs_median_pct"]
        load = candidate["load"]
        assert (row["active"], row["hours"], row["capacity"]) == (
            load["active_referrals"],
            load["active_hours_per_week"],
            load["capacity_hours_per_week"],
        )
        assert row["closed"] == candidate["record"]["closed"]
        assert row["reasons"] == candidate["reasons"]
        assert row["link"].startswith("/dashboard/overblik?q=")
    # Ranked best first, as the endpoint ranks them.
    scores = [float(row["score"]) for row in rows]
    assert scores == sorted(scores, reverse=True)
    with demo_server.api(demo_server.admin) as api:
        logged = api.get(
            "/audit/access-log", params={"action": "dashboard.match", "referral_id": referral_id}
        )
    assert logged.status_code == 200, logged.text
    assert logged.json()["items"], "the page's read of the referral is in the access log"


@browser
def test_match_is_refused_to_a_reporter_and_says_so_for_an_unknown_referral(
    page: Any, demo_server: DemoServer
) -> None:
    log_in(page, demo_server.admin, "/dashboard/match?referral=00000000-0000-4000-8000-000000000000")
    assert page.locator("[data-testid=problem]").is_visible()
    screenshot(page, f"match-unknown-{page.viewport_name}", full_page=False)
    assert page.goto("/dashboard/match?referral=not-an-id").status == 404

    page.context.clear_cookies()
    log_in(page, demo_server.reporter, "/dashboard/match")
    assert page.goto("/dashboard/match").status == 403
    assert "Match" not in page.locator("nav").inner_text()


@browser
def test_match_is_no_wider_than_the_screen(sized: Any, demo_server: DemoServer) -> None:
    waiting = _waiting_ids(demo_server, demo_server.admin)
    log_in(sized, demo_server.admin, f"/dashboard/match?referral={waiting[0]}")
    width = sized.viewport_size["width"]
    screenshot(sized, f"layout-{sized.viewport_name}-match", full_page=False)

    assert sized.locator("#candidates tbody tr").count() > 0
    assert sized.evaluate("() => document.documentElement.scrollWidth") <= width


# Over HTTP, on SQLite and PostgreSQL: who opens the pages, and a referral's municipality.


def test_a_caseworker_starts_on_match_and_may_not_open_praksis(client: TestClient) -> None:
    browser = TestClient(client.app, follow_redirects=False)

    response = browser.post("/dashboard/login", data={"token": new_token(client, "caseworker", "461")})

    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/match"
    assert browser.get("/dashboard/match").status_code == 200
    assert browser.get("/dashboard/praksis").status_code == 403


def test_match_shows_a_waiting_referral_and_its_candidates_only_to_its_municipality(
    client: TestClient,
) -> None:
    bodies.supplier_with_prices(client)
    result = bodies.created(client.post("/referrals", json=bodies.referral()))
    referral_id = str(result["id"])
    candidates = client.get(
        f"/referrals/{referral_id}/candidates", params={"min_position": result["position"]}
    ).json()
    own = logged_in(client, new_token(client, "matcher", "461"))
    other, _ = browse(client, "matcher", "751")

    waiting = own.get("/dashboard/match")
    ranked = own.get("/dashboard/match", params={"referral": referral_id})
    elsewhere = other.get("/dashboard/match", params={"referral": referral_id})

    assert f'data-referral="{referral_id}"' in waiting.text
    assert referral_id not in other.get("/dashboard/match").text
    assert candidates, "the supplier with prices is a candidate"
    shown = re.findall(r'<tr data-supplier="([^"]+)"', ranked.text)
    assert shown == [candidate["supplier_id"] for candidate in candidates]
    assert elsewhere.status_code == 404
    assert 'data-supplier="' not in elsewhere.text


@browser
def test_praksis_shows_the_weekly_intake_as_the_report_counts_it(page: Any, demo_server: DemoServer) -> None:
    log_in(page, demo_server.reporter, "/dashboard/praksis?from=2026-01&to=2026-12&by=supplier")
    report = _practice(
        demo_server, demo_server.reporter, {"from": "2026-01", "to": "2026-12", "by": "supplier"}
    )
    chart = page.get_by_test_id("intake-chart")
    bars = chart.locator("rect.bar").evaluate_all(
        "rs => rs.map(r => [r.dataset.week, Number(r.dataset.count)])"
    )
    heights = chart.locator("rect.bar").evaluate_all("rs => rs.map(r => r.getBBox().height)")
    page.locator("details.intake summary").click()
    rows = page.locator("#intake tbody tr").evaluate_all(
        "rs => rs.map(r => [r.dataset.week, r.querySelector('th').textContent, r.querySelector('td').textContent])"
    )
    described = page.locator("#intake-desc").text_content() or ""
    chart.scroll_into_view_if_needed()
    screenshot(page, f"praksis-uger-{page.viewport_name}", full_page=False)

    weekly = report["weekly_intake"]
    assert len(weekly) >= 52 and sum(weekly.values()) > 0
    assert dict(bars) == weekly and [week for week, _ in bars] == list(weekly)
    assert {week: count_text(text) for week, _, text in rows} == weekly
    first = next(iter(weekly))
    assert rows[0][1] == f"uge {int(first[6:])}, {first[:4]}"
    busiest = max(weekly.values())
    assert next(h for (_, n), h in zip(bars, heights, strict=True) if n == busiest) == max(heights)
    total = sum(weekly.values())
    assert described.startswith(f"{total:,}".replace(",", ".") + " indstillinger over ")
    assert chart.get_attribute("role") == "img"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= page.viewport_size["width"]
