"""Forbrug's table body written in Python: one string per cell instead of a Jinja block per cell.

By supplier over 60 months the table has 10,800 cells; rendered cell by cell in the template they
took most of the page's time and size (docs/benchmarks.md, "Figures behind choices in the code").
Here each cell is one formatted string with only
what the page needs: its amount's exact value (``data-amount``, which the sort and the link to the
cell's lineage read) and the column's time class (``now`` or ``future``; past months carry none, and no cell a class
``num``: the stylesheet aligns ``#spending td`` as numbers).
The month of a cell is its column's header's ``data-month``; the row's key is the row's
``data-key``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Protocol

from markupsafe import Markup, escape


class Row(Protocol):
    """A row of the table (``forbrug.Series``)."""

    @property
    def key(self) -> str | None: ...
    @property
    def label(self) -> str: ...
    @property
    def amounts(self) -> dict[str, str]: ...
    @property
    def others(self) -> int: ...
    @property
    def total(self) -> Decimal: ...


def month_classes(months: list[str], this_month: str) -> list[str]:
    """The ``class`` attribute of each month's cells: ``now`` or ``future``, none for a past month
    (the stylesheet aligns every cell of ``#spending`` as a number)."""
    return [
        ' class="now"' if m == this_month else ' class="future"' if m > this_month else "" for m in months
    ]


def body(
    rows: Iterable[Row], months: list[str], this_month: str, money: Callable[[str | None], str]
) -> Markup:
    """The ``<tr>`` of every row: the label, an amount cell per month, the row's total."""
    classes = month_classes(months, this_month)
    out: list[str] = []
    for row in rows:
        key = escape(row.key) if row.key is not None else ""
        others = f' data-others="{row.others}" class="others"' if row.others else ""
        label = escape(row.label)
        out.append(f'<tr data-key="{key}"{others}><th scope="row" data-value="{label.lower()}">{label}</th>')
        amounts = row.amounts
        for month, attribute in zip(months, classes, strict=True):
            amount = amounts.get(month)
            if amount:
                out.append(f'<td{attribute} data-amount="{amount}">{money(amount)}</td>')
            else:
                out.append(f"<td{attribute}>–</td>")
        total = f"{row.total:.2f}"
        out.append(f'<td class="total" data-amount="{total}">{money(total)}</td></tr>\n')
    return Markup("".join(out))  # noqa: S704 - labels and keys escaped above; the rest is numbers
