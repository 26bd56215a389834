"""The dashboard's own .xlsx writer (``api/dashboard/xlsx_parts.py``), read back with openpyxl: the
cells' types and formats, the bold header and total rows, the frozen panes, widths and autofilter."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal

import openpyxl

from api.dashboard.workbook import Column, Sheet, workbook

COLUMNS = [
    Column("Navn", width=30),
    Column("Beløb", "money"),
    Column("Dato", "date"),
    Column("Antal", "count"),
]


def test_a_workbook_reads_back_as_written() -> None:
    rows = [
        ["=SUM(A1)", "1234.50", "2026-03-01", 3],
        ["  med mellemrum ", "-0.05", None, None],
        ["Ærø & <Co>", None, None, 0],
    ]
    book = openpyxl.load_workbook(
        io.BytesIO(
            workbook(
                [Sheet("Forbrug's", COLUMNS, rows, ["I alt", "1234.45", None, 3], 1)], [("Side", "Forbrug")]
            )
        )
    )
    sheet, about = book.worksheets

    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert book.sheetnames == ["Forbrug's", "Om udtrækket"]
    assert values == [
        ["Navn", "Beløb", "Dato", "Antal"],
        ["=SUM(A1)", 1234.5, datetime(2026, 3, 1), 3],
        ["  med mellemrum ", -0.05, None, None],
        ["Ærø & <Co>", None, None, 0],
        ["I alt", 1234.45, None, 3],
    ]
    assert sheet["A2"].data_type == "s", "text is never a formula"
    assert Decimal(str(sheet["B2"].value)) == Decimal("1234.50")
    assert (sheet["B2"].number_format, sheet["C2"].number_format, sheet["D2"].number_format) == (
        '#,##0.00 "kr."',
        "dd.mm.yyyy",
        "#,##0",
    )
    assert [cell.font.b for cell in sheet[1]] == [True] * 4
    assert [bool(cell.font.b) for cell in sheet[5] if cell.value is not None] == [True] * 3
    assert not sheet["B2"].font.b
    assert sheet["A1"].alignment.wrap_text
    assert (sheet.freeze_panes, sheet.auto_filter.ref) == ("B2", "A1:D4")
    assert (sheet.column_dimensions["A"].width, sheet.column_dimensions["B"].width) == (30, 16)
    assert [[cell.value for cell in row] for row in about.iter_rows()] == [
        ["Felt", "Værdi"],
        ["Side", "Forbrug"],
    ]
