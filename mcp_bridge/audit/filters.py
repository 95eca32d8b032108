"""The Audit page's and export's filters: one set, as SQL for the live table and as a test for archived rows."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, TypeVar

from sqlalchemy import ColumnElement, Select, String, and_, cast, func, or_

from mcp_bridge.audit.rows import PLAIN_READ_OUTCOMES, READ_EVENTS, canonical, plain_read
from mcp_bridge.store import AuditRow

Kind = Literal["decisions", "reads"]
KINDS: tuple[Kind, ...] = ("decisions", "reads")
S = TypeVar("S", bound=Select[Any])


def plain_reads() -> ColumnElement[bool]:
    """SQL for `rows.plain_read`."""
    # Reads are most rows: through the event index they would be gathered and sorted (seconds on a big table),
    # where the newest-first scan of the table finds a page of them at once. `event || ''` is not indexable.
    event = AuditRow.event.concat("")
    return or_(event == "tool_result", and_(event == "tool_call", AuditRow.outcome.in_(PLAIN_READ_OUTCOMES)))


def decisions() -> ColumnElement[bool]:
    """SQL for "not a plain read" (a NULL outcome counts as a decision, as in Python)."""
    return or_(AuditRow.event.not_in(READ_EVENTS),
               and_(AuditRow.event == "tool_call", func.coalesce(AuditRow.outcome, "").not_in(PLAIN_READ_OUTCOMES)))


def where(stmt: S, *, since: dt.datetime | None = None, until: dt.datetime | None = None, actor: str | None = None,
          tool: str | None = None, site: str | None = None, sites: frozenset[str] | None = None,
          event: str | None = None, outcome: str | None = None, text: str | None = None,
          kind: Kind | None = None) -> S:
    """`stmt` (a select over audit_log) narrowed by the filters; `text` searches inside the arguments."""
    if since is not None:
        stmt = stmt.where(AuditRow.at >= since)
    if until is not None:
        stmt = stmt.where(AuditRow.at < until)
    for column, value in ((AuditRow.actor, actor), (AuditRow.tool, tool), (AuditRow.site, site),
                          (AuditRow.event, event), (AuditRow.outcome, outcome)):
        if value:
            stmt = stmt.where(column == value)
    if sites is not None:
        stmt = stmt.where(or_(AuditRow.site.in_(sorted(sites)), AuditRow.site.is_(None)))
    if text:
        stmt = stmt.where(func.lower(cast(AuditRow.arguments, String)).contains(text.lower()))
    if kind is not None:
        stmt = stmt.where(plain_reads() if _kind(kind) == "reads" else decisions())
    return stmt


def matches(line: dict[str, Any], *, since: dt.datetime | None = None, until: dt.datetime | None = None,
            actor: str | None = None, tool: str | None = None, site: str | None = None,
            sites: frozenset[str] | None = None, event: str | None = None, outcome: str | None = None,
            text: str | None = None, kind: Kind | None = None) -> bool:
    """Whether an exported or archived row (`rows.record`) passes the filters `where` applies in SQL."""
    at = dt.datetime.fromisoformat(line["at"])
    if (since is not None and at < since) or (until is not None and at >= until):
        return False
    for name, value in (("actor", actor), ("tool", tool), ("site", site), ("event", event), ("outcome", outcome)):
        if value and line.get(name) != value:
            return False
    if sites is not None and line.get("site") is not None and line["site"] not in sites:
        return False
    if text and (line.get("arguments") is None or text.lower() not in canonical(line["arguments"]).lower()):
        return False
    return kind is None or plain_read(line["event"], line.get("outcome")) == (_kind(kind) == "reads")


def _kind(kind: str) -> Kind:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    return kind  # type: ignore[return-value]
