"""The Audit page's lines: decisions by default, reads on request, a page at a time, one page load's reads as one line.

Dashboards read through the bridge like everyone else, so one person's page load leaves a request and a result row
per read: dozens of rows for one look at the Ads page. Their source carries no page-load id (a dashboard read's
source is kind "ui" with no reference), so the reads of one page load are recognised by what they share: the same
person on channel "ui", the same source reference, each within `READ_GAP_S` of the next. Such a run of two or more
reads becomes one `ReadGroup` line at the place of its newest row; grouping works within the rows of one page of the
table, so a page load that straddles two pages shows as a group on each.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from console import formatting
from console.i18n import N_, _, ngettext
from mcp_bridge.audit.rows import plain_read
from mcp_bridge.store import AuditRow

PAGE_SIZES = (100, 250, 500, 1000)
READ_GAP_S = 2.0  # a dashboard's reads follow each other within ~10–300 ms; a person's next click comes later
GROUPED_CHANNEL = "ui"
# The table's caption per kind of line shown (the Audit page's `what`): `1,234 decisions, newest first · page 2 of 5`.
# The table's columns: the records' keys, which code and tests read, and their headers in the reader's language.
HEADERS = {"#": "#", "At (UTC)": N_("At (UTC)"), "Event": N_("Event"), "User": N_("User"), "Channel": N_("Channel"),
           "Site": N_("Site"), "Tool": N_("Tool"), "Outcome": N_("Outcome"), "Duration": N_("Duration")}
CAPTIONS = {"rows": N_("{total} rows, newest first · page {page} of {pages} ({shown})"),
            "decisions": N_("{total} decisions, newest first · page {page} of {pages} ({shown})")}


@dataclass
class ReadGroup:
    """The plain reads of one page load: one person, channel "ui", one source reference; newest row first."""

    actor: str
    source_ref: str | None
    rows: list[AuditRow] = field(default_factory=list)

    @property
    def requests(self) -> list[AuditRow]:
        return [r for r in self.rows if r.event == "tool_call"]

    @property
    def reads(self) -> int:
        """How many reads: their requests, or their results when the requests fell on another page."""
        return len(self.requests) or len(self.rows)

    @property
    def tools(self) -> list[str]:
        return list(dict.fromkeys(r.tool or "" for r in reversed(self.rows)))

    def label(self) -> str:
        """`12 reads by manager@demo.local (Ads page)`; without a source reference, the tools it read."""
        if self.source_ref:
            where = _("{page} page").format(page=self.source_ref)
        else:
            names = [t.split("__", 1)[-1] for t in self.tools]
            where = ", ".join(names[:2]) + (f" +{len(names) - 2}" if len(names) > 2 else "")
        return ngettext("{count} read by {person} ({where})", "{count} reads by {person} ({where})",
                        self.reads).format(count=self.reads, person=self.actor, where=where)

    def outcome(self) -> str:
        """The reads' outcomes by count, from their result rows: `11 ok, 1 NOT_FOUND`."""
        counts: dict[str, int] = {}
        for r in self.rows:
            if r.event == "tool_result":
                counts[r.outcome or "?"] = counts.get(r.outcome or "?", 0) + 1
        return ", ".join(f"{n} {what}" for what, n in sorted(counts.items(), key=lambda kv: -kv[1])) or "requested"

    def span_ms(self) -> float:
        return (self.rows[0].at - self.rows[-1].at).total_seconds() * 1000


Line = AuditRow | ReadGroup


def source_ref(row: AuditRow) -> str | None:
    ref = (row.detail or {}).get("source_ref")
    return ref if isinstance(ref, str) else None


def group_reads(rows: Sequence[AuditRow], *, gap_s: float = READ_GAP_S) -> list[Line]:
    """Rows (newest first) as lines: each page load's plain reads on channel "ui" as one `ReadGroup`, the rest as is."""
    lines: list[Line] = []
    open_groups: dict[tuple[str, str | None], ReadGroup] = {}
    gap = dt.timedelta(seconds=gap_s)
    for row in rows:
        if row.channel != GROUPED_CHANNEL or not plain_read(row.event, row.outcome):
            lines.append(row)
            continue
        key = (row.actor, source_ref(row))
        group = open_groups.get(key)
        if group is None or group.rows[-1].at - row.at > gap:
            group = open_groups[key] = ReadGroup(row.actor, key[1])
            lines.append(group)
        group.rows.append(row)
    # One read alone is its request and its result: shown as rows, as every other read is.
    return [part for line in lines for part in (line.rows if isinstance(line, ReadGroup) and line.reads < 2
                                                else [line])]


def lines_shown(rows: Sequence[AuditRow]) -> int:
    """How many lines the Audit page shows for these rows with reads shown (what people have to read through)."""
    return len(group_reads(rows))


@dataclass(frozen=True)
class Page:
    """One page of the table: which rows, of how many."""

    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def offset(self) -> int:
        return (min(self.number, self.pages) - 1) * self.size

    def caption(self, what: str) -> str:
        """`1,234 decisions, newest first · page 2 of 5 (rows 251–500)`; `what` is "rows" or "decisions"."""
        shown = _("rows {first}–{last}").format(first=formatting.count(self.offset + 1),
                                                last=formatting.count(min(self.offset + self.size, self.total)))
        return _(CAPTIONS[what]).format(total=formatting.count(self.total), page=min(self.number, self.pages),
                                        pages=formatting.count(self.pages), shown=shown)


def results(rows: Sequence[AuditRow]) -> dict[int, AuditRow]:
    """The result rows among `rows`, by the id of the request row they answer (a read is two rows)."""
    return {r.detail["call"]: r for r in rows
            if r.event == "tool_result" and isinstance((r.detail or {}).get("call"), int)}


def table(lines: Sequence[Line], rows: Sequence[AuditRow]) -> list[dict[str, Any]]:
    """The table's records: a read's request shows its result's outcome and duration; a group is one record."""
    answered = results(rows)
    return [_group_record(line) if isinstance(line, ReadGroup) else _row_record(line, answered) for line in lines]


def _row_record(r: AuditRow, results: dict[int, AuditRow]) -> dict[str, Any]:
    result = results.get(r.id) if r.outcome == "requested" else None
    duration = r.duration_ms if r.duration_ms is not None else getattr(result, "duration_ms", None)
    return {"#": r.id, "At (UTC)": f"{r.at:%Y-%m-%d %H:%M:%S}", "Event": r.event, "User": r.actor,
            "Channel": r.channel, "Site": (r.site or "").upper(), "Tool": r.tool or "",
            "Outcome": f"requested → {result.outcome}" if result else (r.outcome or ""),
            "Duration": formatting.duration_ms(duration) if duration is not None else ""}


def _group_record(group: ReadGroup) -> dict[str, Any]:
    tools = group.tools
    sites = sorted({(r.site or "").upper() for r in group.rows} - {""})
    return {"#": group.rows[0].id, "At (UTC)": f"{group.rows[-1].at:%Y-%m-%d %H:%M:%S}",
            "Event": ngettext("{count} read", "{count} reads", group.reads).format(count=group.reads),
            "User": group.actor, "Channel": group.rows[0].channel, "Site": ", ".join(sites),
            "Tool": tools[0] + (f" +{len(tools) - 1}" if len(tools) > 1 else ""), "Outcome": group.outcome(),
            "Duration": formatting.duration_ms(group.span_ms())}
