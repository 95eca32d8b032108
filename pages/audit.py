"""Audit: every tool call, proposal, decision, login and admin change — filter, search, inspect, export, verify."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import streamlit as st

from console import formatting
from pages.components import empty_state, page_header, render_error
from pages.state import current_caller, get_runtime

runtime = get_runtime()
audit = runtime.bridge.audit
caller = current_caller("approver")
page_header("Audit log", "Append-only and hash-chained: any edit, deletion or reordering is caught by “Verify chain”.")

verify_col, _ = st.columns([1, 3])
if verify_col.button("Verify chain", icon=":material/verified:", type="primary"):
    with st.spinner("Checking every row of the chain…"):
        result = audit.verify()
    if result.ok:
        st.success(f"The chain is intact: {formatting.count(result.checked)} rows checked, every hash matches.",
                   icon=":material/verified_user:")
    else:
        st.error(f"The chain is broken at row {result.first_bad_id}: {result.reason} "
                 f"({formatting.count(result.checked)} rows were fine before it). Export the log and investigate.",
                 icon=":material/gpp_bad:")

today = dt.datetime.now(dt.UTC).date()
c1, c2, c3, c4 = st.columns(4)
period = c1.date_input("Time range (UTC)", (today - dt.timedelta(days=7), today), max_value=today, key="audit-period")
actor = c2.text_input("User", key="audit-user", placeholder="email")
tool = c3.text_input("Tool", key="audit-tool", placeholder="e.g. ads__update_bid")
site = c4.selectbox("Site", ["all", *sorted(caller.sites)], key="audit-site", format_func=str.upper)
c5, c6, c7 = st.columns([1, 1, 2])
event = c5.selectbox("Event", ["any", "tool_call", "tool_result", "proposed", "edited", "approved", "rejected", "expired",
                               "executed", "login", "logout", "user_created", "user_granted", "user_revoked",
                               "policy_changed", "tool_pinned",
                               "tool_definition_changed", "tool_pin_accepted"], key="audit-event")
outcome = c6.selectbox("Outcome", ["any", "requested", "ok", "error", "pending", "succeeded", "failed", "unknown", "rejected",
                                   "expired", "no_access"], key="audit-outcome")
text = c7.text_input("Search in arguments", key="audit-text", placeholder="e.g. yoga mat, 1.20, keyword_id")

start, end = (period if isinstance(period, tuple) and len(period) == 2 else (period[0], period[0])) if period else (today, today)
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
}
try:
    rows = audit.query(**filters, limit=1000)
except Exception as exc:
    render_error(exc)
    st.stop()

if not rows:
    empty_state("No audit rows match these filters.", "Widen the time range or clear a filter.")
    st.stop()

st.caption(f"{formatting.count(len(rows))} rows, newest first" + (" (first 1,000 shown)" if len(rows) >= 1000 else ""))
# A read is two rows: its request (written before the answer) and its result; show the result beside the request.
results = {r.detail["call"]: r for r in rows if r.event == "tool_result" and isinstance((r.detail or {}).get("call"), int)}


def _outcome(r) -> str:
    result = results.get(r.id) if r.outcome == "requested" else None
    return f"requested → {result.outcome}" if result else (r.outcome or "")


def _duration(r) -> str:
    value = r.duration_ms if r.duration_ms is not None else getattr(results.get(r.id), "duration_ms", None)
    return formatting.duration_ms(value) if value is not None else ""


frame = pd.DataFrame([{
    "#": r.id, "At (UTC)": f"{r.at:%Y-%m-%d %H:%M:%S}", "Event": r.event, "User": r.actor, "Channel": r.channel,
    "Site": (r.site or "").upper(), "Tool": r.tool or "", "Outcome": _outcome(r), "Duration": _duration(r),
} for r in rows])
st.dataframe(frame, hide_index=True, width="stretch", height=min(420, 38 + 35 * len(rows)),
             column_config={"#": st.column_config.NumberColumn(width="small"),
                            "Tool": st.column_config.TextColumn(width="medium"),
                            "User": st.column_config.TextColumn(width="medium")})

export_csv, export_jsonl, _ = st.columns([1, 1, 3])
for column, fmt, mime in ((export_csv, "csv", "text/csv"), (export_jsonl, "jsonl", "application/jsonl")):
    buffer = io.StringIO()
    audit.export(fmt, buffer, **{k: v for k, v in filters.items() if v is not None})
    column.download_button(f"Export {fmt.upper()}", buffer.getvalue(), file_name=f"audit-{start}-{end}.{fmt}",
                           mime=mime, icon=":material/download:", on_click="ignore")

st.subheader("Details")
chosen = st.selectbox("Row", [r.id for r in rows], format_func=lambda i: f"#{i}", key="audit-row")
row = next(r for r in rows if r.id == chosen)
left, right = st.columns(2)
with left:
    st.markdown(f"**{row.event}** by **{row.actor}** via {row.channel} at {row.at:%Y-%m-%d %H:%M:%S} UTC")
    st.markdown(f"Site: {(row.site or '—').upper()} · Tool: `{row.tool or '—'}` · Outcome: {row.outcome or '—'}")
    if row.event == "tool_result" and (row.detail or {}).get("call"):
        st.caption(f"Arguments: in the request, row #{row.detail['call']}")
    else:
        st.caption("Arguments")
        st.json(row.arguments or {}, expanded=2)
with right:
    st.caption("Detail")
    st.json(row.detail or {}, expanded=2)
    st.caption(f"Row hash `{row.row_hash[:16]}…` · previous `{row.prev_hash[:16]}…`")
    if row.event == "tool_result" and (row.detail or {}).get("call"):
        st.caption(f"The result of the read requested in row #{row.detail['call']}.")
    elif row.event == "tool_call" and row.outcome == "requested":
        result = results.get(row.id)
        st.caption(f"Its result is row #{result.id}." if result else
                   "Its result row is not among the rows shown: widen the filters (it follows within a second, "
                   "unless the console stopped while the read was running).")
