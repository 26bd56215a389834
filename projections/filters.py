"""What the report queries share: their filters as SQL conditions, and a page of rows with the
total that match."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from projections.database import Cursor, Row


def conditions(
    equal: Iterable[tuple[str, Any]], bounds: Iterable[tuple[str, Any]] = ()
) -> tuple[list[str], list[Any]]:
    """A report's conditions and their parameters, in order: ``column = ?`` for each ``(column,
    value)`` of ``equal`` whose value is not None, then each ``(condition, value)`` of ``bounds``
    (such as ``("month >= ?", query.from_month)``) whose value is set (neither None nor empty)."""
    where: list[str] = []
    params: list[Any] = []
    for column, value in equal:
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    for condition, value in bounds:
        if value:
            where.append(condition)
            params.append(value)
    return where, params


def counted_page(
    cur: Cursor,
    source: str,
    where: list[str],
    params: list[Any],
    *,
    columns: str,
    order: str,
    page: int,
    page_size: int,
) -> tuple[list[Row], int]:
    """Page ``page`` (from 1) of ``source``'s rows that meet ``where``, in ``order``, and how many
    rows meet it in all."""
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    cur.run(f"SELECT COUNT(*) AS n FROM {source} {clause}", params)
    counted = cur.one()
    cur.run(
        f"SELECT {columns} FROM {source} {clause} ORDER BY {order} LIMIT ? OFFSET ?",
        [*params, page_size, (page - 1) * page_size],
    )
    return cur.rows(), int(counted["n"]) if counted else 0
