"""Excel workbooks (.xlsx) of what a dashboard page shows, for Danish Excel.

A real workbook rather than a CSV file: Danish Excel opens a CSV by double-click with the
locale's separators, so a comma-separated file with dot decimals lands in one column, and without a
BOM "Børn" is garbled. In a workbook an amount is a number cell with a ``kr.`` number format: Excel
shows it as ``1.234,50 kr.`` under a Danish locale and ``1,234.50 kr.`` under an English one, and
it sums, sorts and filters as a number. Amounts are written from the API's exact decimal strings,
so every cell equals the page and the API to the øre.

Text is always stored as text: a supplier named ``=HYPERLINK(...)`` stays a name and never
becomes a formula. The file itself is written by ``xlsx_parts``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi.responses import Response
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]

from api.dashboard.xlsx_parts import Styles, column_letter, package, sheet_xml

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


def _cells(
    columns: Sequence[Column], values: Sequence[Any], styles: Sequence[int]
) -> list[tuple[Any, int] | None]:
    """One row's cells as (value, style); an empty cell stays empty (None)."""
    cells: list[tuple[Any, int] | None] = []
    for column, style, value in zip(columns, styles, values, strict=True):
        stored = cell_value(value, column.kind)
        cells.append(None if stored is None else (stored, style))
    return cells


def _sheet(table: Sheet, styles: Styles) -> str:
    formats = [
        column.number_format or FORMATS[column.kind] if column.kind in FORMATS else None
        for column in table.columns
    ]
    plain = [styles.index(number_format) for number_format in formats]
    bold = [styles.index(number_format, bold=True) for number_format in formats]
    header = styles.index(None, bold=True, wrapped=True)
    rows: list[list[tuple[Any, int] | None]] = [[(column.header, header) for column in table.columns]]
    rows += [_cells(table.columns, row, plain) for row in table.rows]
    if table.footer is not None:
        rows.append(_cells(table.columns, table.footer, bold))
    widths = [
        column.width or max(WIDTHS[column.kind], min(MAX_WIDTH, len(column.header) + 2))
        for column in table.columns
    ]
    return sheet_xml(rows, widths, table.frozen_columns, len(table.rows) + 1 if table.rows else 0)


def workbook(sheets: Sequence[Sheet], about: Sequence[tuple[str, str]]) -> bytes:
    """The sheets, then a sheet "Om udtrækket" saying what was exported, for whom and when."""
    tables = [*sheets, Sheet("Om udtrækket", [Column("Felt", width=22), Column("Værdi", width=70)], [*about])]
    styles = Styles()
    written = [_sheet(table, styles) for table in tables]
    filters = [
        f"A1:{column_letter(len(table.columns))}{len(table.rows) + 1}" if table.rows else None
        for table in tables
    ]
    return package([table.title[:31] for table in tables], written, styles, filters)


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
