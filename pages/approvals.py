"""Approvals: pending operations on the approver's sites, grouped by batch; decide them; browse the history."""

from __future__ import annotations

import json
from itertools import groupby

import pandas as pd
import streamlit as st

from console.approvals import PENDING, STATUSES, is_own, self_approval_allowed
from pages.components import empty_state, operation_card, page_header, relative_time, render_error
from pages.state import console_state, current_caller, flash, get_runtime

runtime = get_runtime()
gate = runtime.bridge.gate
caller = current_caller("approver")
page_header("Approvals", "Every change anyone (or any agent) proposed on your sites waits here for a person.")
if console_state().flash:
    st.success(console_state().flash, icon=":material/check_circle:")
    console_state().flash = None


def decide(action, done: str, *args, **kwargs) -> None:
    try:
        action(*args, **kwargs)
    except Exception as exc:
        render_error(exc)
        return
    flash(done)
    st.rerun()


def decision_controls(op) -> None:
    own = is_own(op, caller) and not self_approval_allowed(runtime, op.site)
    why = "You proposed this; another approver has to decide it." if own else None
    approve, _ = st.columns([1, 4])
    if approve.button("Approve", key=f"approve-{op.id}", type="primary", disabled=own, help=why):
        decide(gate.approve, f"Approved #{op.id}.", op.id, caller)
    with st.expander("Edit & approve", icon=":material/edit:"), st.form(f"edit-{op.id}", border=False):
        text = st.text_area("Arguments (JSON)", json.dumps(op.arguments, indent=2), height=160, key=f"args-{op.id}")
        if st.form_submit_button("Approve with these arguments", disabled=own, help=why):
            try:
                edited = json.loads(text)
            except json.JSONDecodeError as exc:
                st.error(f"That is not valid JSON: {exc.msg} (line {exc.lineno}).")
            else:
                decide(gate.approve, f"Approved #{op.id} with edited arguments.", op.id, caller, arguments=edited)
    with st.expander("Reject", icon=":material/block:"), st.form(f"reject-{op.id}", border=False):
        reason = st.text_input("Reason (the proposer sees it)", key=f"reason-{op.id}")
        if st.form_submit_button("Reject"):
            if not reason.strip():
                st.error("Say why, so the proposer can fix it.")
            else:
                decide(gate.reject, f"Rejected #{op.id}.", op.id, caller, reason.strip())


def short_batch(batch_id: str) -> str:
    return batch_id.rsplit("-", 1)[-1][:8]


def decide_batch(action, verb: str, batch_id: str, *args) -> None:
    """Decide a whole batch; each operation is decided on its own, so report the ones that were refused."""
    try:
        items = action(batch_id, caller, *args)
    except Exception as exc:
        render_error(exc)
        return
    refused = [item for item in items if item.code]
    message = f"{verb} {len(items) - len(refused)} of {len(items)} operations of batch {short_batch(batch_id)}."
    if refused:
        message += " Not decided: " + "; ".join(f"#{i.operation_id} ({i.code}: {i.message})" for i in refused)
    flash(message)
    st.rerun()


def batch_controls(batch_id: str, ops: list) -> None:
    own = any(is_own(op, caller) for op in ops) and not all(self_approval_allowed(runtime, op.site) for op in ops)
    left, right, _ = st.columns([1, 1, 4])
    if left.button(f"Approve all {len(ops)}", key=f"approve-batch-{batch_id}", disabled=own,
                   help="You proposed some of these." if own else None):
        decide_batch(gate.approve_batch, "Approved", batch_id)
    with right.popover(f"Reject all {len(ops)}"), st.form(f"reject-batch-{batch_id}", border=False):
        reason = st.text_input("Reason", key=f"reason-batch-{batch_id}")
        if st.form_submit_button("Reject the batch") and reason.strip():
            decide_batch(gate.reject_batch, "Rejected", batch_id, reason.strip())


waiting_tab, history_tab = st.tabs(["Waiting", "History"])
with waiting_tab:
    sites = st.multiselect("Sites", sorted(caller.sites), default=sorted(caller.sites), key="approvals-sites",
                           format_func=str.upper)
    try:
        pending = gate.list(status=PENDING, sites=frozenset(sites) & caller.sites, limit=500) if sites else []
    except Exception as exc:
        render_error(exc)
        pending = []
    if not pending:
        empty_state("Nothing is waiting for approval on these sites.",
                    "Proposals from Chat, dashboards and scheduled jobs appear here as they are made.")
    pending.sort(key=lambda op: (op.batch_id or f"~{op.id}", op.id))
    for batch_id, group in groupby(pending, key=lambda op: op.batch_id or f"single-{op.id}"):
        ops = list(group)
        if len(ops) > 1:
            with st.container(border=True):
                st.markdown(f"**Batch {short_batch(batch_id)}** · {len(ops)} operations · proposed by {ops[0].proposer} "
                            f"{relative_time(ops[0].created_at)}")
                batch_controls(batch_id, ops)
                for op in ops:
                    with operation_card(op):
                        decision_controls(op)
        else:
            with operation_card(ops[0]):
                decision_controls(ops[0])

with history_tab:
    c1, c2, c3, c4 = st.columns(4)
    statuses = c1.multiselect("Status", STATUSES, key="history-status")
    site = c2.selectbox("Site", ["all", *sorted(caller.sites)], key="history-site", format_func=str.upper)
    proposer = c3.text_input("Proposer", key="history-proposer", placeholder="email")
    tool = c4.text_input("Tool", key="history-tool", placeholder="e.g. update_bid")
    try:
        history = gate.list(sites=caller.sites if site == "all" else frozenset({site}) & caller.sites,
                            proposer=proposer.strip() or None, limit=500)
    except Exception as exc:
        render_error(exc)
        history = []
    history = [op for op in history if (not statuses or op.status in statuses) and tool.strip() in op.tool]
    if not history:
        empty_state("No operations match these filters.", "Clear a filter, or widen the site.")
    else:
        frame = pd.DataFrame([{
            "#": op.id, "Status": op.status, "Site": op.site.upper(), "Tool": op.tool,
            "Change": (op.preview or {}).get("summary", ""), "Proposer": op.proposer,
            "Decided by": op.decided_by or "", "Proposed": relative_time(op.created_at),
            "Reason": op.decision_reason or "",
        } for op in history])
        st.dataframe(frame, hide_index=True, width="stretch")
        chosen = st.selectbox("Details of", [op.id for op in history], format_func=lambda i: f"#{i}",
                              key="history-detail")
        operation_card(next(op for op in history if op.id == chosen), show_arguments=True)
