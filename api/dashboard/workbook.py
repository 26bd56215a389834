"""Excel workbooks (.xlsx) of what a dashboard page shows, for Danish Excel.

A real workbook rather than a CSV file: Danish Excel opens a CSV by double-click with the
locale's separators, so a comma-separated file with dot decimals lands in one column, and without a
BOM "Børn" is garbled. In a workbook an amount is a number cell with a ``kr.`` number format: Excel
shows it as ``1.234,50 kr.`` under a Danish locale and ``1,234.50 kr.`` under an English one, and
it sums, sorts and filters as a number. Amounts are written from the API's exact decimal strings,
so every cell equals the page and the API to the øre.

Text is always stored as text: a supplier named ``=HYPERLINK(...)`` stays a name and never
becomes a formula.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from io import BytesIO
from typing import Any

from fastapi.responses import Response
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Font  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Number formats are stored locale-free ("," groups, "." decimals); Excel shows them the Danish way.
FORMATS = {"money": '#,##0.00 "kr."', "count": "#,##0", "date": "dd.mm.yyyy", "number": "#,##0.00"}
WIDTHS = {"money": 16, "count": 10, "date": 12, "number": 12, "text": 24}
MAX_WIDTH = 60


@dataclass(frozen=True)
class Column:
    """A column: its Danish header and what its cells hold (text, money, count, date or number)."""

    header: str
    kind: str = "text"
    width: int | None = None
    number_format: str | None = None


@dataclass
class Sheet:
    """One table as the page shows it: columns, rows and an optional total row set in bold."""

    title: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[Any]] = ()
    footer: Sequence[Any] | None = None
    frozen_columns: int = 0


def cell_value(value: Any, kind: str) -> Any:
    """``value`` as the cell stores it: Decimal for money and numbers, int for counts, a date, or text."""
    if value is None or value == "":
        return None
    if kind in ("money", "number"):
        return Decimal(str(value))
    if kind == "count":
        return int(value)
    if kind == "date":
        return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _row(
    sheet: Any, columns: Sequence[Column], values: Sequence[Any], font: Any, formats: Sequence[str | None]
) -> list[Any]:
    """The cells of one row; an empty cell stays empty (no cell written)."""
    cells: list[Any] = []
    for column, number_format, value in zip(columns, formats, values, strict=True):
        stored = cell_value(value, column.kind)
        if stored is None:
            cells.append(None)
            continue
        cell = WriteOnlyCell(sheet, stored)
        if column.kind == "text":
            cell.data_type = "s"  # never a formula, whatever the text begins with
        elif number_format is not None:
            cell.number_format = number_format
        if font is not None:
            cell.font = font
        cells.append(cell)
    return cells


def _add_sheet(book: Any, table: Sheet) -> None:
    # Written row by row (openpyxl's write-only mode): Forbrug by supplier over 60 months is 10,800
    # cells, which the in-memory worksheet took about a second to build and save.
    sheet = book.create_sheet(table.title[:31])
    bold = Font(bold=True)
    for index, column in enumerate(table.columns, start=1):
        width = column.width or max(WIDTHS[column.kind], min(MAX_WIDTH, len(column.header) + 2))
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = f"{get_column_letter(table.frozen_columns + 1)}2"
    last = len(table.rows) + 1
    if table.rows:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(table.columns))}{last}"
    headers = []
    for column in table.columns:
        cell = WriteOnlyCell(sheet, column.header)
        cell.data_type = "s"
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        headers.append(cell)
    sheet.append(headers)
    formats = [
        column.number_format or FORMATS[column.kind] if column.kind in FORMATS else None
        for column in table.columns
    ]
    for row in table.rows:
        sheet.append(_row(sheet, table.columns, row, None, formats))
    if table.footer is not None:
        sheet.append(_row(sheet, table.columns, table.footer, bold, formats))


def workbook(sheets: Sequence[Sheet], about: Sequence[tuple[str, str]]) -> bytes:
    """The sheets, then a sheet "Om udtrækket" saying what was exported, for whom and when."""
    book = Workbook(write_only=True)
    for table in sheets:
        _add_sheet(book, table)
    _add_sheet(book, Sheet("Om udtrækket", [Column("Felt", width=22), Column("Værdi", width=70)], [*about]))
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def workbook_response(sheets: Sequence[Sheet], about: Sequence[tuple[str, str]], filename: str) -> Response:
    """The workbook as a download named ``filename.xlsx``."""
    return Response(
        workbook(sheets, about),
        media_type=XLSX,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}.xlsx"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
