"""Approvals: a compact queue of what waits on the approver's sites, one card on demand, bulk decisions, history."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from console.approvals.edits import edited_arguments, fixed_target, tool_schema, value_fields
from console.approvals.operations import change_text, currency_of, edit_line, source_label
from console.approvals.queue import (
    PAGE_SIZE,
    PENDING,
    SORTS,
    STATUSES,
    QueueFilters,
    QueueState,
    decide_each,
    decision_report,
    filter_queue,
    is_own,
    queue_choices,
    queue_page,
    queue_row,
    self_approval_allowed,
    short_batch,
    site_policy,
    sort_queue,
    status_name,
)
from console.i18n import N_, _, ngettext, pgettext
from pages.components import (
    QUEUE_COLUMN_PX,
    empty_state,
    operation_card,
    page_header,
    relative_time,
    render_error,
    value_input,
    wide_page,
)
from pages.state import current_caller, get_runtime

runtime = get_runtime()
gate = runtime.bridge.gate
caller = current_caller("approver")
ROW_PX = 35  # st.dataframe's row height: the queue shows a whole page without an inner scroll bar
# Column headers in the reader's language; the frames keep these names, which the code reads columns by.
HEADERS = {"Site": N_("Site"), "Target": N_("Target"), "Change": N_("Change"), "Impact": N_("Impact"),
           "Evidence": N_("Evidence"), "From": N_("From"), "Age": N_("Age"), "#": "#", "Status": N_("Status"),
           "Tool": N_("Tool"), "Edited": N_("Edited"), "Proposer": N_("Proposer"), "Source": N_("Source"),
           "Decided by": N_("Decided by"), "Proposed": N_("Proposed"), "Reason": N_("Reason")}
OUTCOME_NAMES = {"succeeded": N_("succeeded"), "failed": N_("failed")}


def header(name: str) -> str:
    """A column's header in the reader's language."""
    return _(HEADERS[name]) if name in HEADERS and name != "#" else name


def queue_state() -> QueueState:  # the class lives in console/: this file runs anew on every rerun
    if not isinstance(st.session_state.get("approvals"), QueueState):
        st.session_state["approvals"] = QueueState()
    return st.session_state["approvals"]


def report(lines: list[tuple[str, str]]) -> None:
    """Show what a decision came to after the rerun; the rows decided are no longer ticked."""
    state = queue_state()
    state.outcome, state.shown_key, state.shown_ids = lines, None, []
    st.rerun()


def decide(op_ids: list[int], verb: str, *, edited: bool = False, **kwargs) -> None:
    report(decision_report(decide_each(gate, op_ids, caller, **kwargs), verb, edited=edited))


def choice(column, label: str, options: list, key: str, fmt=str):
    """A filter's selectbox (`Tool: all`); a value that is gone from the queue falls back to all."""
    if st.session_state.get(key) not in [None, *options]:
        st.session_state[key] = None
    return column.selectbox(label, [None, *options], key=key, label_visibility="collapsed",
                            format_func=lambda v: _("{filter}: {value}").format(
                                filter=label, value=_("all") if v is None else fmt(v)))


def decision_controls(op) -> None:
    own = is_own(op, caller) and not self_approval_allowed(runtime, op.site)
    why = _("You proposed this; another approver has to decide it.") if own else None
    if st.button(_("Approve"), key=f"approve-{op.id}", type="primary", disabled=own, help=why):
        decide([op.id], "Approved")
    with st.expander(_("Edit & approve"), icon=":material/edit:"), st.form(f"edit-{op.id}", border=False):
        st.caption(_("Applies to {target} — fixed; for another target, propose a new change.").format(
            target=fixed_target(op)))
        fields = value_fields(op, schema=tool_schema(runtime, op), policy=site_policy(runtime, op.site))
        values = {f.name: value_input(op, f, currency_of(op)) for f in fields}
        if not fields:
            st.caption(_("This change has no values to edit."))
        if st.form_submit_button(_("Approve with these values"), disabled=own or not fields, help=why):
            edited = edited_arguments(op, values)
            decide([op.id], "Approved", edited=edited != op.arguments, arguments=edited)
    with st.expander(_("Reject"), icon=":material/block:"), st.form(f"reject-{op.id}", border=False):
        reason = st.text_input(_("Reason (the proposer sees it)"), key=f"reason-{op.id}")
        if st.form_submit_button(_("Reject")):
            if not reason.strip():
                st.error(_("Say why, so the proposer can fix it."))
            else:
                decide([op.id], "Rejected", reject_reason=reason.strip())


def doubt_controls(op) -> None:
    """An operation whose write was sent without a recorded answer: ask the server's ledger, or (admin) decide."""
    check, _rest = st.columns([2, 3])
    if check.button(_("Check with the server"), key=f"reconcile-{op.id}", icon=":material/sync:"):
        with st.spinner(_("Asking the server's ledger…")):
            try:
                gate.reconcile(op.id, actor=caller.user, channel="ui")
            except Exception as exc:
                render_error(exc)
            else:
                report([("success", _("Checked #{id} with its server.").format(id=op.id))])
    if caller.has("admin"):
        with st.expander(_("Resolve by hand"), icon=":material/gavel:"), st.form(f"resolve-{op.id}", border=False):
            outcome = st.radio(_("What happened"), list(OUTCOME_NAMES), horizontal=True, key=f"resolve-as-{op.id}",
                               format_func=lambda o: _(OUTCOME_NAMES[o]))
            how = st.text_input(_("How you know (audited)"), key=f"resolve-why-{op.id}",
                                placeholder=_("checked in Seller Central: budget is 80"))
            if st.form_submit_button(_("Record")):
                try:
                    gate.resolve(op.id, caller, status=outcome, reason=how)
                except Exception as exc:
                    render_error(exc)
                else:
                    report([("success", _("Recorded #{id} as {outcome}.").format(
                        id=op.id, outcome=_(OUTCOME_NAMES[outcome])))])


def waiting_queue() -> None:
    state = queue_state()
    f_site, f_tool, f_who, f_source, f_batch, f_search = st.columns([5, 3, 3, 3, 3, 4])
    sites = f_site.multiselect(_("Sites"), sorted(caller.sites), default=sorted(caller.sites), key="approvals-sites",
                               format_func=str.upper, label_visibility="collapsed", placeholder=_("Sites: none"))
    try:
        ops = gate.list(status=PENDING, sites=frozenset(sites) & caller.sites, limit=2000) if sites else []
    except Exception as exc:
        render_error(exc)
        ops = []
    options = queue_choices(ops)
    batch_sizes = {b: sum(op.batch_id == b for op in ops) for b in options["batch"]}
    filters = QueueFilters(
        tool=choice(f_tool, _("Tool"), options["tool"], "queue-tool"),
        proposer=choice(f_who, _("Proposer"), options["proposer"], "queue-proposer"),
        source=choice(f_source, _("Source"), options["source"], "queue-source"),
        batch=choice(f_batch, _("Batch"), options["batch"], "queue-batch",
                     lambda b: f"{short_batch(b)} ({batch_sizes.get(b, 0)})"),
        search=f_search.text_input(_("Search"), key="queue-search", placeholder=_("Search a target: yoga mat, #42…"),
                                   label_visibility="collapsed"),
    )
    matching = filter_queue(ops, filters)
    approve_col, reject_col, all_col, info_col, sort_col, page_col = st.columns([2, 2, 2, 3, 2, 1],
                                                                                vertical_alignment="bottom")
    sort = sort_col.selectbox(_("Sort"), list(SORTS), format_func=lambda s: _(SORTS[s]), key="queue-sort",
                              label_visibility="collapsed")
    size = max(len(matching), 1) if filters.batch else PAGE_SIZE  # a batch is shown whole, so it is selected whole
    pages = queue_page(matching, 1, size).pages
    if st.session_state.get("queue-page", 1) > pages:
        st.session_state["queue-page"] = 1
    page = queue_page(sort_queue(matching, sort), page_col.selectbox(
        _("Page"), list(range(1, pages + 1)), key="queue-page", label_visibility="collapsed",
        format_func=lambda p: f"{p}/{pages}"), size)
    ids = [op.id for op in page.items]
    key = "queue-" + hashlib.sha1(",".join(map(str, ids)).encode()).hexdigest()[:12]
    previous = st.session_state.get(state.shown_key) if state.shown_key else None
    # A selection is positions in the table as the person saw it on the last run: a decision acts on those
    # operations even when the queue has moved since (one decided meanwhile answers who decided it).
    selected = [state.shown_ids[i] for i in (previous or {}).get("selection", {}).get("rows", [])
                if 0 <= i < len(state.shown_ids)]
    ticked = selected
    if key != state.shown_key:  # other rows now: the ticks stay on the operations still shown, never on positions
        ticked = [i for i in selected if i in ids]
        st.session_state[key] = {"selection": {"rows": [ids.index(i) for i in ticked]}}
    if all_col.button(_("Select all {count}").format(count=len(ids)), key="queue-select-all", disabled=not ids,
                      width="stretch"):
        st.session_state[key] = {"selection": {"rows": list(range(len(ids)))}}
        selected = ticked = ids
    # The buttons count what the person ticked as they saw it, so a click that races another approver's (in another
    # replica, say) still reaches the gate and answers who decided first, rather than meeting a disabled button.
    if approve_col.button(_("Approve selected ({count})").format(count=len(selected)), key="queue-approve",
                          type="primary", disabled=not selected, width="stretch"):
        decide(selected, "Approved")
    with reject_col.popover(_("Reject selected ({count})").format(count=len(selected)), disabled=not selected,
                            width="stretch"), st.form("queue-reject", border=False):
        reason = st.text_input(_("Reason (every proposer sees it)"), key="queue-reject-reason")
        if st.form_submit_button(_("Reject them")):
            if not reason.strip():
                st.error(_("Say why, so the proposers can fix it."))
            else:
                decide(selected, "Rejected", reject_reason=reason.strip())
    if page.items:
        shown = (_("{first}–{last} of {total} waiting (of {all}) · tick one row to open its card")
                 if filters != QueueFilters() else _("{first}–{last} of {total} waiting · tick one row to open its card"))
        info_col.caption(shown.format(first=page.first, last=page.last, total=page.total, all=len(ops)))
    chosen: list[int] = []
    if page.items:
        frame = pd.DataFrame([queue_row(op) for op in page.items])
        event = st.dataframe(frame, key=key, on_select="rerun", selection_mode="multi-row", hide_index=True,
                             width="stretch", height=(len(frame) + 1) * ROW_PX + 3,
                             column_order=list(QUEUE_COLUMN_PX),
                             column_config={name: st.column_config.TextColumn(header(name), width=px)
                                            for name, px in QUEUE_COLUMN_PX.items()})
        state.shown_key, state.shown_ids = key, ids
        chosen = [ids[i] for i in event.selection.rows if 0 <= i < len(ids)]
    else:
        if ops:
            empty_state(_("No waiting operation matches."), _("Clear a filter or the search."))
        else:
            empty_state(_("Nothing is waiting for approval on these sites."),
                        _("Proposals from Chat, dashboards and scheduled jobs appear here as they are made."))
        state.shown_key, state.shown_ids = None, []
    if len(chosen) == 1:
        card = next(op for op in page.items if op.id == chosen[0])
    elif len(selected) == 1 and selected[0] not in ids:  # its card was open when someone else decided it
        card = gate.get(selected[0])
    else:
        return
    with operation_card(card):
        decision_controls(card)


wide_page()  # the queue's row shows every column whole at 1440 px
page_header(pgettext("page", "Approvals"), _("Every change proposed on your sites waits here for a person."))
for level, text in queue_state().outcome:
    getattr(st, level)(text, icon=":material/info:" if level == "warning" else None)
queue_state().outcome = []
doubtful = [op for op in gate.in_doubt(older_than_s=60) if caller.may_see(op.site)]
if doubtful:
    st.warning(ngettext("{count} approved change was sent without a recorded answer. The console settles it from "
                        "its server's ledger; check it now, or (admin) record what happened.",
                        "{count} approved changes were sent without a recorded answer. The console settles them "
                        "from the servers' ledgers; check one now, or (admin) record what happened.",
                        len(doubtful)).format(count=len(doubtful)), icon=":material/pending:")
    for op in doubtful:
        with operation_card(op):
            doubt_controls(op)

waiting_tab, history_tab = st.tabs([_("Waiting"), _("History")])
with waiting_tab:
    waiting_queue()

with history_tab:
    c1, c2, c3, c4 = st.columns(4)
    statuses = c1.multiselect(_("Status"), STATUSES, key="history-status", format_func=status_name)
    site = c2.selectbox(_("Site"), ["all", *sorted(caller.sites)], key="history-site",
                        format_func=lambda s: _("ALL") if s == "all" else s.upper())
    proposer = c3.text_input(_("Proposer"), key="history-proposer", placeholder=_("email"))
    tool = c4.text_input(_("Tool"), key="history-tool", placeholder=_("e.g. update_bid"))
    try:
        history = gate.list(sites=caller.sites if site == "all" else frozenset({site}) & caller.sites,
                            proposer=proposer.strip() or None, limit=500)
    except Exception as exc:
        render_error(exc)
        history = []
    history = [op for op in history if (not statuses or op.status in statuses) and tool.strip() in op.tool]
    if not history:
        empty_state(_("No operations match these filters."), _("Clear a filter, or widen the site."))
    else:
        frame = pd.DataFrame([{
            "#": op.id, "Status": status_name(op.status), "Site": op.site.upper(), "Tool": op.tool, "Change": change_text(op),
            "Edited": edit_line(op) or "", "Proposer": op.proposer, "Source": source_label(op),
            "Decided by": op.decided_by or "", "Proposed": relative_time(op.created_at),
            "Reason": op.decision_reason or "",
        } for op in history])
        st.dataframe(frame, hide_index=True, width="stretch",
                     column_config={name: st.column_config.Column(header(name)) for name in frame.columns})
        chosen = st.selectbox(_("Details of"), [op.id for op in history], format_func=lambda i: f"#{i}",
                              key="history-detail")
        operation_card(next(op for op in history if op.id == chosen), show_arguments=True)
