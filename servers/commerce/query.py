"""Query helpers: ids kept inside their site, sorting with NULLs last, counting a filtered select."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from servers.common.errors import NotFound

Row = TypeVar("Row")


def owned(session: Session, model: type[Row], row_id: int, site: str, *, noun: str, listed_by: str) -> Row:
    """The row with this id on this site, or NOT_FOUND naming the tool that lists valid ids."""
    row = session.get(model, row_id)
    if row is None or getattr(row, "site_id", None) != site:
        raise NotFound(f"{noun} {row_id} does not exist on site {site}; {listed_by} shows the ids")
    return row


def ordered(column: ColumnElement[Any], descending: bool) -> ColumnElement[Any]:
    """Sort key with NULLs last in both directions (unknown values never lead a ranking)."""
    return (column.desc() if descending else column.asc()).nulls_last()


def count_of(session: Session, query: Select[Any]) -> int:
    """Rows the query would return without paging."""
    return session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
