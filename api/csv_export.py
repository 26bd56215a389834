"""CSV answers for report endpoints (``Accept: text/csv``): the JSON rows' columns, flattened.

Every cell is written through ``safe_cell``: text beginning with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is prefixed with ``'`` so that a spreadsheet shows it as text instead of running it
as a formula (OWASP's CSV-injection guidance); a supplier named ``=HYPERLINK(...)`` arrives as
``'=HYPERLINK(...)``. Numbers are left as they are: a number value, or text that is a plain decimal
number (``-12.50``, ``+3``), is not a formula.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.responses import Response

CSV = "text/csv"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def wants_csv(request: Request) -> bool:
    """True when the client prefers CSV over JSON."""
    accept = request.headers.get("accept", "")
    return CSV in accept and "application/json" not in accept.split(CSV)[0]


def safe_cell(value: Any) -> Any:
    """``value`` as a CSV cell a spreadsheet does not run: text that would start a formula is
    prefixed with ``'``; numbers, and text that is a plain decimal number, stay as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return "" if value is None else safe_cell(value)


def csv_response(rows: Sequence[dict[str, Any]], filename: str) -> Response:
    """The rows as CSV, one column per key (nested values as JSON)."""
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return Response(
        buffer.getvalue(),
        media_type=f"{CSV}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
    )
