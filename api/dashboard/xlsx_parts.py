"""The parts of an .xlsx file (Office Open XML) that the dashboard's workbooks need, written as
text: a workbook of sheets with inline strings, numbers and dates, bold header and total rows,
number formats, column widths, frozen panes and an autofilter.

openpyxl's time per cell, even in write-only mode, made Revisionsspor's workbook of every referral
slow; written here as one string per cell it takes a small part of that (docs/benchmarks.md,
"Figures behind choices in the code"). The file is checked by reading it back with openpyxl in the tests.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from xml.sax.saxutils import escape, quoteattr

HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
EPOCH = date(1899, 12, 30)


def column_letter(index: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class Styles:
    """The cell formats in use: (number format or None, bold, wrapped) → their index in cellXfs."""

    def __init__(self) -> None:
        self.formats: dict[str, int] = {}
        self.xfs: dict[tuple[str | None, bool, bool], int] = {(None, False, False): 0}

    def index(self, number_format: str | None, bold: bool = False, wrapped: bool = False) -> int:
        key = (number_format, bold, wrapped)
        if key not in self.xfs:
            if number_format is not None and number_format not in self.formats:
                self.formats[number_format] = 164 + len(self.formats)
            self.xfs[key] = len(self.xfs)
        return self.xfs[key]

    def xml(self) -> str:
        formats = "".join(
            f'<numFmt numFmtId="{number}" formatCode={quoteattr(code)}/>'
            for code, number in self.formats.items()
        )
        xfs = []
        for number_format, bold, wrapped in self.xfs:
            number = self.formats[number_format] if number_format is not None else 0
            attributes = f'numFmtId="{number}" fontId="{int(bold)}" fillId="0" borderId="0" xfId="0"'
            attributes += ' applyNumberFormat="1"' if number else ""
            attributes += ' applyFont="1"' if bold else ""
            alignment = '<alignment wrapText="1" vertical="top"/>' if wrapped else ""
            xfs.append(
                f'<xf {attributes} applyAlignment="1">{alignment}</xf>' if wrapped else f"<xf {attributes}/>"
            )
        number_formats = f'<numFmts count="{len(self.formats)}">{formats}</numFmts>' if formats else ""
        return (
            f'{HEAD}<styleSheet xmlns="{MAIN}">{number_formats}'
            '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
            '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>"
        )


def cell_xml(reference: str, value: object, style: int) -> str:
    """One cell: text inline (never a formula), a number, or a date as Excel's day number."""
    styled = f' s="{style}"' if style else ""
    if isinstance(value, bool):
        return f'<c r="{reference}"{styled} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | Decimal | float):
        return f'<c r="{reference}"{styled}><v>{value}</v></c>'
    if isinstance(value, datetime | date):
        day = value.date() if isinstance(value, datetime) else value
        return f'<c r="{reference}"{styled}><v>{(day - EPOCH).days}</v></c>'
    text = escape(str(value))
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'<c r="{reference}"{styled} t="inlineStr"><is><t{space}>{text}</t></is></c>'


def sheet_xml(
    rows: Sequence[Sequence[tuple[object, int] | None]],
    widths: Sequence[float],
    frozen_columns: int,
    filtered_rows: int,
) -> str:
    """A worksheet: ``rows`` of (value, style) or None for an empty cell; the first row frozen and,
    when ``filtered_rows`` > 0, filtered down to that row."""
    letters = [column_letter(index) for index in range(1, len(widths) + 1)]
    top_left = f"{letters[frozen_columns] if frozen_columns < len(letters) else 'A'}2"
    split = f' xSplit="{frozen_columns}"' if frozen_columns else ""
    pane = "bottomRight" if frozen_columns else "bottomLeft"
    out = [
        f'{HEAD}<worksheet xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}">',
        f'<sheetViews><sheetView workbookViewId="0"><pane{split} ySplit="1" topLeftCell="{top_left}" '
        f'activePane="{pane}" state="frozen"/><selection pane="{pane}"/></sheetView></sheetViews>',
        "<cols>",
        *(
            f'<col min="{index}" max="{index}" width="{width}" customWidth="1"/>'
            for index, width in enumerate(widths, start=1)
        ),
        "</cols><sheetData>",
    ]
    for number, row in enumerate(rows, start=1):
        cells = "".join(
            cell_xml(f"{letters[index]}{number}", found[0], found[1])
            for index, found in enumerate(row)
            if found is not None
        )
        out.append(f'<row r="{number}">{cells}</row>')
    out.append("</sheetData>")
    if filtered_rows > 0 and letters:
        out.append(f'<autoFilter ref="A1:{letters[-1]}{filtered_rows}"/>')
    out.append("</worksheet>")
    return "".join(out)


def package(
    titles: Sequence[str], sheets: Sequence[str], styles: Styles, filters: Sequence[str | None]
) -> bytes:
    """The .xlsx file: the sheets (XML from ``sheet_xml``) named ``titles``, their autofilters'
    ranges (``A1:H10``, or None; Excel names them ``_xlnm._FilterDatabase``) and the styles."""
    numbers = range(1, len(sheets) + 1)
    content_types = (
        f'{HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        + "".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for n in numbers
        )
        + "</Types>"
    )
    root = (
        f'{HEAD}<Relationships xmlns="{PACKAGE}"><Relationship Id="rId1" '
        f'Type="{RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    book = (
        f'{HEAD}<workbook xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}"><bookViews><workbookView/></bookViews><sheets>'
        + "".join(
            f'<sheet name={quoteattr(title)} sheetId="{n}" r:id="rId{n}"/>'
            for n, title in zip(numbers, titles, strict=True)
        )
        + "</sheets>"
        + _filter_names(titles, filters)
        + "</workbook>"
    )
    book_relationships = (
        f'{HEAD}<Relationships xmlns="{PACKAGE}">'
        + "".join(
            f'<Relationship Id="rId{n}" Type="{RELATIONSHIPS}/worksheet" Target="worksheets/sheet{n}.xml"/>'
            for n in numbers
        )
        + f'<Relationship Id="rId{len(sheets) + 1}" Type="{RELATIONSHIPS}/styles" Target="styles.xml"/>'
        "</Relationships>"
    )
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", root)
        archive.writestr("xl/workbook.xml", book)
        archive.writestr("xl/_rels/workbook.xml.rels", book_relationships)
        archive.writestr("xl/styles.xml", styles.xml())
        for n, sheet in zip(numbers, sheets, strict=True):
            archive.writestr(f"xl/worksheets/sheet{n}.xml", sheet)
    return buffer.getvalue()


def _filter_names(titles: Sequence[str], filters: Sequence[str | None]) -> str:
    names = []
    for index, (title, found) in enumerate(zip(titles, filters, strict=True)):
        if found is not None:
            first, last = found.split(":")
            absolute = "".join(f"${part}" for part in re.findall(r"[A-Z]+|\d+", first))
            absolute += ":" + "".join(f"${part}" for part in re.findall(r"[A-Z]+|\d+", last))
            quoted = title.replace("'", "''")
            reference = escape(f"'{quoted}'!{absolute}")
            names.append(
                f'<definedName name="_xlnm._FilterDatabase" localSheetId="{index}" hidden="1">'
                f"{reference}</definedName>"
            )
    joined = "".join(names)
    return f"<definedNames>{joined}</definedNames>" if names else ""
