"""The dashboard's Excel exports over HTTP, on SQLite and PostgreSQL: every page offers a workbook
(.xlsx) of the table it shows, with Danish headers, amounts as number cells in kroner that equal the
report endpoints to the øre, text that never turns into a formula, and the same access rules and
access log as the pages. The report endpoints' own CSV for machines is left as it was."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from typing import Any

import openpyxl
from fastapi.testclient import TestClient

from tests.api import bodies
from tests.api.dashboard.support import spending_cells
from tests.api.dashboard.test_pages import browse, lifecycle
from tests.tokens import new_token

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = '#,##0.00 "kr."'
FORMULA_NAME = '=HYPERLINK("https://evil.example","Klik")'


def projected(client: TestClient, position: int) -> None:
    """Wait until the reports have read up to ``position``, as the pages read them without waiting."""
    assert client.get("/reports/spending", params={"min_position": position}).status_code == 200


def workbook(response: Any) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert re.search(r'attachment; filename="[\w.-]+\.xlsx"', response.headers["content-disposition"])
    return openpyxl.load_workbook(io.BytesIO(response.content))


def table(book: Any) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The first sheet's header row and its other rows."""
    header, *rows = book.worksheets[0].iter_rows(values_only=True)
    return list(header), rows


def ore(value: Any) -> Decimal:
    """A number cell as kroner with øre."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


def export_link(page: str) -> str:
    found = re.search(r'href="([^"]+\.xlsx[^"]*)" download data-testid="export"', page)
    assert found, "the page offers no workbook"
    return found.group(1).replace("&amp;", "&")


def test_every_page_links_to_a_workbook_with_danish_headers(client: TestClient) -> None:
    _, referral_id, _ = lifecycle(client)
    browser, _ = browse(client, "auditor", "461")
    expected = {
        "/dashboard/overblik": "Leverandør",
        "/dashboard/forbrug?by=supplier": "Leverandør",
        "/dashboard/priser": "Indsats",
        "/dashboard/revisionsspor": "Indstillet",
        f"/dashboard/revisionsspor?referral={referral_id}": "Version",
    }

    for path, first_header in expected.items():
        link = export_link(browser.get(path).text)
        book = workbook(browser.get(link))
        header, rows = table(book)

        assert header[0] == first_header, path
        assert rows, path
        assert book.sheetnames[-1] == "Om udtrækket"


def test_the_spending_workbook_is_the_table_on_screen(client: TestClient) -> None:
    supplier_id, _, _ = lifecycle(client)
    browser, _ = browse(client, "reporter", "461")
    params = {"from": "2026-01", "to": "2026-03", "by": "supplier"}

    book = workbook(browser.get("/dashboard/forbrug.xlsx", params=params))
    report = client.get("/reports/spending", params=params).json()
    header, rows = table(book)

    assert [h.split(" (")[0] for h in header] == [
        "Leverandør",
        "jan. 2026",
        "feb. 2026",
        "mar. 2026",
        "I alt",
    ]
    (row, footer) = rows
    assert row[0] == "Familiehuset Fyn ApS"
    amounts = {r["month"]: Decimal(r["amount"]) for r in report["rows"] if r["key"] == supplier_id}
    assert [ore(v) for v in row[1:4]] == [amounts["2026-01"], amounts["2026-02"], amounts["2026-03"]]
    assert ore(row[4]) == ore(footer[4]) == Decimal(report["total"])
    assert footer[0] == "I alt"
    sheet = book.worksheets[0]
    assert {sheet.cell(row=2, column=c).number_format for c in range(2, 6)} == {MONEY_FORMAT}
    assert sheet.freeze_panes == "B2"


def test_the_overview_workbook_equals_the_supplier_report_and_keeps_text_as_text(client: TestClient) -> None:
    lifecycle(client)
    odd = bodies.supplier_with_prices(client, name=FORMULA_NAME)
    referral_id, _ = bodies.matched(client, supplier_id=odd)
    agreed = bodies.created(
        client.post(f"/referrals/{referral_id}/price-agreement", json=bodies.hourly_agreement()), 200
    )
    projected(client, int(agreed["position"]))
    browser, _ = browse(client, "reporter", "461")

    report = client.get("/reports/suppliers", params={"municipality": "461"}).json()
    book = workbook(browser.get("/dashboard/overblik.xlsx"))
    header, rows = table(book)
    filtered = table(workbook(browser.get("/dashboard/overblik.xlsx", params={"q": "familiehuset"})))[1]

    assert header[:2] == ["Leverandør", "CVR"]
    active, committed = header.index("Aktive indstillinger"), header.index("Bevilget forbrug")
    *suppliers, footer = rows
    by_name = {r["name"]: r for r in report}
    assert sorted(r[0] for r in suppliers) == sorted(by_name)
    for row in suppliers:
        assert row[1] == by_name[row[0]]["cvr"]
        assert row[active] == by_name[row[0]]["active_referrals"]
        assert ore(row[committed]) == Decimal(by_name[row[0]]["committed_total"])
    assert ore(footer[committed]) == sum(Decimal(r["committed_total"]) for r in report)
    formula_row = next(number for number, row in enumerate(suppliers, start=2) if row[0] == FORMULA_NAME)
    assert book.worksheets[0].cell(row=formula_row, column=1).data_type == "s"
    assert [row[0] for row in filtered[:-1]] == ["Familiehuset Fyn ApS"]


def test_the_prices_workbook_equals_the_benchmarks(client: TestClient) -> None:
    lifecycle(client)
    browser, _ = browse(client, "reporter", "461")

    report = client.get("/reports/price-benchmarks", params={"municipality": "461"}).json()
    header, rows = table(workbook(browser.get("/dashboard/priser.xlsx")))

    assert header[:6] == [
        "Indsats",
        "Enhed",
        "Aftalte takster, antal",
        "Aftalte takster, min.",
        "Aftalte takster, median",
        "Aftalte takster, maks.",
    ]
    assert len(rows) == len(report)
    fields = ("agreements", "min", "median", "max", "list_rates", "list_min", "list_median", "list_max")
    for row, expected in zip(rows, report, strict=True):
        for value, name in zip(row[2:], fields, strict=True):
            wanted = expected[name]
            if wanted is None:
                assert value is None
            elif name in ("agreements", "list_rates"):
                assert value == wanted
            else:
                assert ore(value) == Decimal(wanted), (name, value, wanted)


def test_the_trail_workbook_equals_the_trail_and_is_in_the_access_log(client: TestClient) -> None:
    _, referral_id, _ = lifecycle(client)
    auditor = browse(client, "auditor", "461")[0]
    reporter = browse(client, "reporter", "461")[0]

    trail = client.get(f"/audit/referrals/{referral_id}").json()
    header, rows = table(
        workbook(auditor.get("/dashboard/revisionsspor.xlsx", params={"referral": referral_id}))
    )
    listing = table(workbook(auditor.get("/dashboard/revisionsspor.xlsx", params={"status": "active"})))[1]
    refused = reporter.get("/dashboard/revisionsspor.xlsx", params={"referral": referral_id})

    assert header[:4] == ["Version", "Gælder fra", "Registreret (dansk tid)", "Hændelse"]
    assert [row[0] for row in rows] == [e["version"] for e in trail["entries"]]
    assert [row[header.index("Begrundelse")] for row in rows] == [e["rationale"] for e in trail["entries"]]
    assert [row[-1] for row in listing] == [referral_id]
    assert refused.status_code == 403
    log = client.get("/audit/access-log", params={"action": "dashboard.revisionsspor"}).json()["items"]
    assert {e["format"] for e in log if e["status"] == 200} == {"xlsx"}
    seen = sorted(((e["role"], e["referral_id"], e["query"], e["status"]) for e in log), key=str)
    assert seen == sorted(
        [
            ("auditor", referral_id, None, 200),
            ("auditor", None, {"status": "active", "page": "alle"}, 200),
            ("reporter", referral_id, None, 403),
        ],
        key=str,
    )


def test_without_a_login_an_export_goes_to_the_login(client: TestClient) -> None:
    anonymous = TestClient(client.app, follow_redirects=False)

    for slug in ("overblik", "forbrug", "priser", "revisionsspor"):
        response = anonymous.get(f"/dashboard/{slug}.xlsx")

        assert response.status_code == 303
        assert response.headers["location"].startswith("/dashboard/login?next=")


def test_the_report_endpoints_csv_for_machines_is_unchanged(client: TestClient) -> None:
    lifecycle(client)
    secret = new_token(client, "reporter", "461")

    response = client.get(
        "/reports/spending",
        params={"from": "2026-01", "to": "2026-03"},
        headers={"Accept": "text/csv", "Authorization": f"Bearer {secret}"},
    )

    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert not response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["month"], r["amount"]) for r in rows] == [
        ("2026-01", "6192.86"),
        ("2026-02", "10200.00"),
        ("2026-03", "11292.86"),
    ]


def three_suppliers(client: TestClient) -> list[str]:
    """Three suppliers in 461 with an hourly referral each, 1, 3 and 5 hours a week (small to big)."""
    found = []
    for name, hours in (
        ("Lille Leverandør ApS", "1"),
        ("Mellem Leverandør ApS", "3"),
        ("Stor Leverandør A/S", "5"),
    ):
        supplier_id = bodies.supplier_with_prices(client, name=name)
        referral_id, _ = bodies.matched(client, supplier_id=supplier_id)
        agreement = bodies.hourly_agreement(hours_per_week=hours)
        agreed = bodies.created(client.post(f"/referrals/{referral_id}/price-agreement", json=agreement), 200)
        projected(client, int(agreed["position"]))
        found.append(supplier_id)
    return found


def test_forbrug_by_supplier_shows_the_top_n_and_gathers_the_rest(client: TestClient) -> None:
    small, middle, big = three_suppliers(client)
    browser, _ = browse(client, "reporter", "461")
    params = {"from": "2026-01", "to": "2026-03", "by": "supplier"}

    report = client.get("/reports/spending", params={**params, "municipality": "461"}).json()
    page = browser.get("/dashboard/forbrug", params={**params, "top": "1", "amounts": "kr"}).text
    _, rows = table(
        workbook(browser.get("/dashboard/forbrug.xlsx", params={**params, "top": "1", "amounts": "tkr"}))
    )
    everything = table(workbook(browser.get("/dashboard/forbrug.xlsx", params=params)))[1]

    amounts = {(r["key"], r["month"]): Decimal(r["amount"]) for r in report["rows"]}
    rest = {m: amounts[(small, m)] + amounts[(middle, m)] for m in ("2026-01", "2026-02", "2026-03")}
    keys = re.findall(r'<tr data-key="([^"]*)"', page)
    assert keys == [big, ""]
    others = page.split('data-others="2" class="others">')[1].split("</tr>")[0]
    assert "Øvrige (2)" in others
    shown = spending_cells(page)
    for month, amount in rest.items():
        assert shown[("", month)][0] == f"{amount:.2f}"
    whole = re.findall(r'data-amount="([\d.]+)">([\d.]+)\u00a0kr\.</td>', page)
    assert whole and all(
        Decimal(text.replace(".", "")) == Decimal(amount).quantize(Decimal(1)) for amount, text in whole
    )
    (top_row, others_row, footer) = rows
    assert top_row[0] == "Stor Leverandør A/S" and others_row[0] == "Øvrige (2)"
    assert [ore(v) for v in others_row[1:4]] == list(rest.values())
    assert ore(footer[-1]) == Decimal(report["total"])
    assert len(everything) == 4  # three suppliers and "I alt": no row gathered without top
    sheet_format = (
        openpyxl.load_workbook(
            io.BytesIO(browser.get("/dashboard/forbrug.xlsx", params={**params, "amounts": "tkr"}).content)
        )
        .worksheets[0]
        .cell(row=2, column=2)
        .number_format
    )
    assert sheet_format == '#,##0, "t.kr."'


def test_forbrug_searches_the_rows_by_name(client: TestClient) -> None:
    small, middle, _ = three_suppliers(client)
    browser, _ = browse(client, "reporter", "461")
    params = {"from": "2026-01", "to": "2026-03", "by": "supplier", "q": "lille mellem leverandør"}
    either = {"from": "2026-01", "to": "2026-03", "by": "supplier", "q": "leverandør aps"}

    report = client.get(
        "/reports/spending", params={"from": "2026-01", "to": "2026-03", "by": "supplier"}
    ).json()
    nothing = browser.get("/dashboard/forbrug", params=params).text
    found = browser.get("/dashboard/forbrug", params=either).text
    _, rows = table(workbook(browser.get("/dashboard/forbrug.xlsx", params=either)))

    assert re.findall(r'<tr data-key="([^"]*)"', nothing) == []
    assert sorted(re.findall(r'<tr data-key="([^"]*)"', found)) == sorted([small, middle])
    expected = sum(Decimal(r["amount"]) for r in report["rows"] if r["key"] in (small, middle))
    assert f'data-testid="total" data-amount="{expected:.2f}"' in found
    assert 'name="q" value="leverandør aps"' in found
    assert [row[0] for row in rows] == ["Mellem Leverandør ApS", "Lille Leverandør ApS", "I alt"]
    assert ore(rows[-1][-1]) == expected
