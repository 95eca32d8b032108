"""My requests: the changes a seller asked for, their status and what became of them (edits, reasons)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from console.approvals.operations import change_text, outcome_text, target_text
from console.approvals.queue import age, fit
from console.i18n import N_, _, pgettext
from pages.components import STATUS_BADGES, empty_state, operation_card, page_header, render_error, wide_page
from pages.state import current_caller, get_runtime

runtime = get_runtime()
caller = current_caller("seller")
wide_page()
page_header(pgettext("page", "My requests"), _("The changes you asked for, and what the approvers made of them."))
SHOWN = {"open": ("proposed", "approved", "executing", "unknown"), "decided": ("succeeded", "failed", "rejected", "expired")}
# The outcome is last and gets the room that is left; a long one ends in "…" and reads whole on the card.
COLUMN_PX = {"#": 56, "Site": 40, "Target": 300, "Change": 150, "Status": 140, "Asked": 64, "Outcome": None}
HEADERS = {"#": "#", "Site": N_("Site"), "Target": N_("Target"), "Change": N_("Change"), "Status": N_("Status"),
           "Asked": N_("Asked"), "Outcome": N_("Outcome")}
CHOICES = {"all": N_("All"), "open": N_("Open"), "decided": N_("Decided")}

show = st.segmented_control(_("Show"), list(CHOICES), default="all", key="my-requests-show",
                            format_func=lambda c: _(CHOICES[c]), label_visibility="collapsed") or "all"
try:
    mine = runtime.bridge.gate.list(proposer=caller.user, sites=caller.sites, limit=300)
except Exception as exc:
    render_error(exc)
    st.stop()
mine = [op for op in mine if show == "all" or op.status in SHOWN[show]]
if not mine:
    empty_state(_("No requests here yet."), _("Ask for a change in Chat, or propose a fix from a dashboard's alert "
                                              "panel; it shows here until an approver decides it, and after."))
    st.stop()
frame = pd.DataFrame([{
    "#": op.id, "Site": op.site.upper(), "Target": fit(target_text(op), 38), "Change": change_text(op),
    "Status": _(STATUS_BADGES.get(op.status, (op.status,))[0]), "Asked": age(op.created_at),
    "Outcome": fit(outcome_text(op, brief=True), 48),
} for op in mine])
event = st.dataframe(frame, key="my-requests", hide_index=True, width="stretch", on_select="rerun",
                     selection_mode="single-row", column_order=list(COLUMN_PX),
                     column_config={name: st.column_config.NumberColumn(format="%d", width=px) if name == "#"
                                    else st.column_config.TextColumn(_(HEADERS[name]), width=px)
                                    for name, px in COLUMN_PX.items()})
rows = event.selection.rows
if rows:
    operation_card(mine[rows[0]], show_arguments=True)
else:
    st.caption(_("Tick a row to see its card: the evidence, who decided, and why."))
