"""Audit: every tool call, proposal, decision, login and admin change — filter, search, inspect, export, verify."""

from __future__ import annotations

import datetime as dt
import io
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st

from console import audit_view, formatting
from console.i18n import N_, _
from mcp_bridge.audit.rows import READ_EVENTS
from pages.components import empty_state, page_header, render_error
from pages.state import current_caller, get_runtime

runtime = get_runtime()
audit = runtime.bridge.audit
caller = current_caller("approver")
NO_MATCH = {"rows": N_("No rows match these filters."), "decisions": N_("No decisions match these filters.")}


def any_value(value: str) -> str:
    """An event or outcome filter's option: the audit's own codes as they are, "any" in the reader's language."""
    return _("any") if value == "any" else value


def _export(fmt: str, filters: dict[str, Any]) -> str:
    """Every row the filters match (not only this page), made when the button is clicked."""
    buffer = io.StringIO()
    audit.export(fmt, buffer, **{k: v for k, v in filters.items() if v is not None})
    return buffer.getvalue()


page_header(_("Audit log"), _("Append-only, chained by a keyed MAC and anchored outside the database: any edit, "
                              "deletion, reordering, forged row, cut tail or wipe is caught by “Verify chain”."))

verify_col, _rest = st.columns([1, 3])
if verify_col.button(_("Verify chain"), icon=":material/verified:", type="primary"):
    with st.spinner(_("Checking every row of the chain…")):
        result = audit.verify()
    if result.ok:
        st.success(_("The chain is intact: {summary}. Every MAC matches.").format(summary=result.summary()),
                   icon=":material/verified_user:")
    else:
        broken = (_("The chain is broken at row {id}: {reason}. Export the log and investigate.")
                  if result.first_bad_id is not None
                  else _("The chain is broken: {reason}. Export the log and investigate."))
        st.error(broken.format(id=result.first_bad_id, reason=result.reason), icon=":material/gpp_bad:")
        st.markdown("\n".join(f"- **{p.kind}**: {p.reason}" for p in result.problems))
        st.caption(result.summary())

today = dt.datetime.now(dt.UTC).date()
c1, c2, c3, c4 = st.columns(4)
period = c1.date_input(_("Time range (UTC)"), (today - dt.timedelta(days=7), today), max_value=today,
                       key="audit-period")
actor = c2.text_input(_("User"), key="audit-user", placeholder=_("email"))
tool = c3.text_input(_("Tool"), key="audit-tool", placeholder=_("e.g. ads__update_bid"))
site = c4.selectbox(_("Site"), ["all", *sorted(caller.sites)], key="audit-site",
                    format_func=lambda s: _("ALL") if s == "all" else s.upper())
c5, c6, c7 = st.columns([1, 1, 2])
event = c5.selectbox(_("Event"), ["any", "tool_call", "tool_result", "proposed", "edited", "approved", "rejected", "expired",
                               "executed", "login", "logout", "user_created", "user_granted", "user_revoked",
                               "policy_changed", "tool_pinned", "tool_definition_changed", "tool_pin_accepted",
                               "audit_archived"], key="audit-event", format_func=any_value)
outcome = c6.selectbox(_("Outcome"), ["any", "requested", "ok", "error", "pending", "succeeded", "failed", "unknown",
                                      "rejected", "expired", "no_access"], key="audit-outcome", format_func=any_value)
text = c7.text_input(_("Search in arguments"), key="audit-text", placeholder=_("e.g. yoga mat, 1.20, keyword_id"))

start, end = (period if isinstance(period, tuple) and len(period) == 2 else (period[0], period[0])) if period else (today, today)
c8, c9, c10 = st.columns([1, 1, 2])
show_reads = c8.toggle(_("Show reads"), key="audit-reads", help=_(
    "Reads (a tool call's request and result) are most of the log; by default only decisions show: proposals, "
    "approvals, rejections, executions, edits, expiries, refused calls, sign-ins, user, key and group changes."))
size = c9.selectbox(_("Rows per page"), audit_view.PAGE_SIZES, index=1, key="audit-size")
filters = {
    "since": dt.datetime.combine(start, dt.time.min),
    "until": dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min),
    "actor": actor.strip().lower() or None,
    "tool": tool.strip() or None,
    "site": None if site == "all" else site,
    "sites": None if caller.has("admin") else caller.sites,
    "event": None if event == "any" else event,
    "outcome": None if outcome == "any" else outcome,
    "text": text.strip() or None,
    # Naming a read event asks for reads, whatever the switch says.
    "kind": None if show_reads or event in READ_EVENTS else "decisions",
}
what = "rows" if filters["kind"] is None else "decisions"
try:
    total = audit.count(**filters)
    page = audit_view.Page(1, size, total)
    # A new filter starts again at page 1; a page beyond the last (the rows moved on) shows the last.
    signature = repr(sorted((k, str(v)) for k, v in filters.items())) + str(size)
    if st.session_state.get("audit-seen") != signature:
        st.session_state["audit-seen"], st.session_state["audit-page"] = signature, 1
    st.session_state["audit-page"] = min(st.session_state.get("audit-page", 1), page.pages)
    number = c10.number_input(_("Page"), min_value=1, max_value=page.pages, key="audit-page")
    page = audit_view.Page(int(number), size, total)
    rows = audit.query(**filters, limit=size, offset=page.offset)
except Exception as exc:
    render_error(exc)
    st.stop()

if not rows:
    hidden = audit.count(**{**filters, "kind": "reads"}) if filters["kind"] == "decisions" else 0
    empty_state(_(NO_MATCH[what]),
                _("{count} reads do: turn on “Show reads”.").format(count=formatting.count(hidden)) if hidden
                else _("Widen the time range or clear a filter."))
    st.stop()

lines = audit_view.group_reads(rows)
groups = [line for line in lines if isinstance(line, audit_view.ReadGroup)]
st.caption(page.caption(what) + (" · " + _("the reads of {count} page loads are one line each (open them below)").format(
    count=formatting.count(len(groups))) if groups else ""))
WIDTHS = {"#": "small", "Tool": "medium", "User": "medium"}
# Headers in the reader's language; the frame keeps the records' keys as its column names.
columns = {name: (st.column_config.NumberColumn if name == "#" else st.column_config.TextColumn)(
    _(label) if name != "#" else label, width=WIDTHS.get(name)) for name, label in audit_view.HEADERS.items()}
frame = pd.DataFrame(audit_view.table(lines, rows))
st.dataframe(frame, hide_index=True, width="stretch", height=min(420, 38 + 35 * len(frame)), column_config=columns)
for group in groups:
    with st.expander(_("{reads} at {time}").format(reads=group.label(), time=f"{group.rows[-1].at:%H:%M:%S}"),
                     icon=":material/visibility:"):
        st.dataframe(pd.DataFrame(audit_view.table(group.rows, group.rows)), hide_index=True, width="stretch",
                     column_config=columns)

export_csv, export_jsonl, _rest = st.columns([1, 1, 3])
for column, fmt, mime in ((export_csv, "csv", "text/csv"), (export_jsonl, "jsonl", "application/jsonl")):
    column.download_button(_("Export {format}").format(format=fmt.upper()), partial(_export, fmt, filters),
                           file_name=f"audit-{start}-{end}.{fmt}", mime=mime, icon=":material/download:",
                           on_click="ignore")

st.subheader(_("Details"))
chosen = st.selectbox(_("Row"), [r.id for r in rows], format_func=lambda i: f"#{i}", key="audit-row")
row = next(r for r in rows if r.id == chosen)
left, right = st.columns(2)
with left:
    st.markdown(_("**{event}** by **{person}** via {channel} at {time} UTC").format(
        event=row.event, person=row.actor, channel=row.channel, time=f"{row.at:%Y-%m-%d %H:%M:%S}"))
    st.markdown(_("Site: {site} · Tool: `{tool}` · Outcome: {outcome}").format(
        site=(row.site or "—").upper(), tool=row.tool or "—", outcome=row.outcome or "—"))
    if row.event == "tool_result" and (row.detail or {}).get("call"):
        st.caption(_("Arguments: in the request, row #{id}").format(id=row.detail["call"]))
    else:
        st.caption(_("Arguments"))
        st.json(row.arguments or {}, expanded=2)
with right:
    st.caption(_("Detail"))
    st.json(row.detail or {}, expanded=2)
    st.caption(_("Row MAC `{mac}…` · previous `{previous}…` · {key}").format(
        mac=row.row_hash[:16], previous=row.prev_hash[:16],
        key=_("key `{key}`").format(key=row.key_id) if row.key_id else _("legacy SHA-256 row")))
    if row.event == "tool_result" and (row.detail or {}).get("call"):
        st.caption(_("The result of the read requested in row #{id}.").format(id=row.detail["call"]))
    elif row.event == "tool_call" and row.outcome == "requested":
        result = audit_view.results(rows).get(row.id)
        st.caption(_("Its result is row #{id}.").format(id=result.id) if result else
                   _("Its result row is not among the rows shown: widen the filters (it follows within a second, "
                     "unless the console stopped while the read was running)."))
