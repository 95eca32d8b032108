"""Building blocks every page uses: the one error renderer, headers, KPI tiles, empty states, operation cards."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from typing import Any

import pandas as pd
import streamlit as st

from console.approvals import operations
from console.approvals.evidence import evidence_summary, evidence_view
from console.approvals.operations import SITE_CURRENCY, edit_line, field_value, impact_text, source_label
from console.errors import ConsoleError
from console.i18n import N_, _

log = logging.getLogger("console.ui")

# What a person can do about each error code (DESIGN.md §3 codes).
HOW_TO_FIX: dict[str, str] = {  # translated where shown (render_error)
    "AUTH_REQUIRED": N_("Your session has ended. Sign out from the sidebar and sign in again."),
    "PERMISSION_DENIED": N_("Your roles do not allow this. Ask an admin to grant the role on the Admin page."),
    "SITE_SCOPE_REQUIRED": N_("That site is outside your scope. Switch the active site in the sidebar, or ask an "
                              "admin to add the site to your scope."),
    "NOT_FOUND": N_("It may have been removed or already handled by someone else. Refresh the page."),
    "VALIDATION_FAILED": N_("Check the values and try again; the message above says which one is off."),
    "CONFIRMATION_REQUIRED": N_("Changes need an approval: propose it from Chat or a dashboard and ask an approver."),
    "CONFLICT": N_("Someone changed this in the meantime or it was already handled. Refresh to see the current "
                   "state."),
    "UPSTREAM_ERROR": N_("A tool server did not answer in time. Check Admin → MCP servers, then try again."),
}

STATUS_BADGES: dict[str, tuple[str, str]] = {  # labels translated where shown: _(label)
    "pending": (N_("Waiting for approval"), "orange"),
    "proposed": (N_("Waiting for approval"), "orange"),
    "approved": (N_("Approved"), "blue"),
    "executing": (N_("Executing"), "blue"),
    "succeeded": (N_("Executed"), "green"),
    "executed": (N_("Executed"), "green"),
    "failed": (N_("Failed"), "red"),
    "rejected": (N_("Rejected"), "red"),
    "expired": (N_("Expired"), "gray"),
    "unknown": (N_("Outcome unknown — reconcile"), "violet"),
}
DECISION_OUTCOMES = {"executing": N_("executing now"), "succeeded": N_("executed"), "failed": N_("the write failed"),
                     "unknown": N_("outcome unknown until reconciled")}
# A decision on a card: `Approved by **approver@demo.local** 5 min ago`.
DECIDED_BY = {"approved": N_("Approved by **{person}** {when}"), "rejected": N_("Rejected by **{person}** {when}"),
              "expired": N_("Expired by **{person}** {when}")}
# The diff table's column headers; the frame keeps these names (code and tests read its columns by them).
CHANGE_HEADERS = {"Field": N_("Field"), "Before": N_("Before"), "After": N_("After")}
__all__ = ["SITE_CURRENCY"]  # app.py and the Admin page take it from here
# The approvals queue's columns and their widths: together they fit the page at 1440 px beside the sidebar (1,108 px
# with the page's 1rem sides, less the selection column); console.approvals.queue.TARGET_UNITS is what 336 px of Target
# holds. The operation's id stays in the data (a selection maps to it), not on screen: its card shows it.
QUEUE_COLUMN_PX = {"Site": 40, "Target": 336, "Change": 154, "Impact": 88, "Evidence": 200, "From": 186, "Age": 56}


def render_error(exc: BaseException) -> None:
    """The one place errors are shown: the code, the message, and what to do about it."""
    code = getattr(exc, "code", None)
    if isinstance(exc, ConsoleError) or code in HOW_TO_FIX:
        message = getattr(exc, "message", None) or str(exc)
        fix = _(HOW_TO_FIX[code]) if code in HOW_TO_FIX else ""
        st.error(f"**{code}** — {message}\n\n{fix}", icon=":material/error:")
        return
    log.exception("unexpected error in a page", exc_info=exc)
    st.error(
        _("Something went wrong ({error}). It has been logged; try again, and tell an admin if it keeps "
          "happening.").format(error=type(exc).__name__),
        icon=":material/error:",
    )


def wide_page() -> None:
    """Give this page the window's width (Streamlit's wide layout keeps 5rem each side) for a wide table.

    A style-only st.html takes no room, and goes away with the page.
    """
    st.html('<style>[data-testid="stMainBlockContainer"]{padding-left:1rem;padding-right:1rem;padding-top:3.5rem}'
            '</style>')


def page_header(title: str, caption: str | None = None) -> None:
    st.title(title)
    if caption:
        st.caption(caption)


CENTS_OF_THOUSANDS = re.compile(r"^(-?\D*\d{1,3}(?:,\d{3})+)\.\d+$")


def kpi_tile(label: str, value: str, delta: str | None = None, *, help: str | None = None, inverse: bool = False) -> None:
    """A bordered metric; `delta` is pre-formatted (formatting.delta), `inverse` for costs (down is good).

    Amounts of a thousand and more drop their cents so that five tiles in a row do not cut the number
    off; the exact value is in the tooltip.
    """
    short = CENTS_OF_THOUSANDS.sub(r"\1", value)
    if short != value:
        help = f"{value}" + (f" — {help}" if help else "")
    st.metric(label, short, delta=delta, delta_color="inverse" if inverse else "normal", help=help, border=True)


def empty_state(text: str, hint: str | None = None) -> None:
    """Say there is nothing here and what to do about it."""
    st.info(f"**{text}**" + (f"\n\n{hint}" if hint else ""), icon=":material/inbox:")


def status_badge(status: str) -> None:
    label, color = STATUS_BADGES.get(status, (status.title(), "gray"))
    st.badge(_(label) if status in STATUS_BADGES else label, color=color)


def relative_time(when: dt.datetime | str | None, *, now: dt.datetime | None = None) -> str:
    """`5 min ago` / `in 23 h 10 min` for a timestamp (naive values are UTC)."""
    if when is None:
        return "—"
    if isinstance(when, str):
        when = dt.datetime.fromisoformat(when)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    seconds = int((when - now).total_seconds())
    span = abs(seconds)
    if not span:
        return _("now")
    if span < 60:
        text = _("under a minute")
    elif span < 3600:
        text = _("{count} min").format(count=span // 60)
    elif span < 86400:
        text = _("{hours} h {minutes} min").format(hours=span // 3600, minutes=span % 3600 // 60)
    else:
        text = _("{days} d {hours} h").format(days=span // 86400, hours=span % 86400 // 3600)
    return (_("in {time}") if seconds > 0 else _("{time} ago")).format(time=text)


format_value = field_value  # a before/after value for people (console.approvals.operations)
format_impact = impact_text  # `Daily spend: -$4.20 · …` (console.approvals.operations)


_get = operations.get


def field_name(field: str) -> str:
    """A changed field for people: a plain word (bid, price) in the reader's language; other names as they are."""
    return _(operations.FIELD_NAMES[field]) if operations.FIELD_NAMES.get(field) == field else field


def changes_frame(op: Any) -> pd.DataFrame:
    """The before → after table of an operation (columns Field, Before, After: show them with `change_headers`)."""
    currency = operations.currency_of(op)
    rows = [
        {
            "Field": field_name(c.get("field", "")),
            "Before": format_value(c.get("field", ""), c.get("before"), currency),
            "After": format_value(c.get("field", ""), c.get("after"), currency),
        }
        for c in operations.changes(op)
    ]
    return pd.DataFrame(rows, columns=["Field", "Before", "After"])


def change_headers() -> dict[str, Any]:
    """The diff table's headers in the reader's language (st.dataframe's column_config)."""
    return {name: st.column_config.Column(_(label)) for name, label in CHANGE_HEADERS.items()}


def operation_title(op: Any) -> str:
    preview = _get(op, "preview") or {}
    target = preview.get("target") or ""
    return f"#{_get(op, 'id')} · {_get(op, 'tool')} · {str(_get(op, 'site') or '').upper()}" + (
        f" · {target}" if target else ""
    )


def evidence_block(op: Any, *, compact: bool = False) -> None:
    """What justifies the change: the target's metrics over the window, and the rule or the request behind it."""
    view = evidence_view(_get(op, "evidence"))
    if compact or not view.metrics:
        st.caption(_("Evidence: {evidence}").format(evidence=view.missing or evidence_summary(_get(op, "evidence"))))
        if compact:  # in the chat the request is the conversation itself: only a rule's reason is kept
            view = dataclasses.replace(view, why=view.why if (_get(op, "evidence") or {}).get("rule_text") else None)
    else:
        st.caption(_("**Evidence** — {subject}").format(subject=view.subject) if view.subject else _("**Evidence**"))
        st.dataframe(pd.DataFrame([dict(view.metrics)]), hide_index=True, width="stretch")
        if view.missing:
            st.caption(view.missing)
    if view.why:
        st.caption(view.why)


def operation_card(op: Any, *, now: dt.datetime | None = None, show_arguments: bool = False,
                   compact: bool = False) -> Any:
    """A bordered card: title, status, diff, impact, evidence, who/where/why, edits, age and expiry.

    Returns the container. `compact` (chat): the diff and the evidence as one line each, for many cards in a
    conversation.
    """
    card = st.container(border=True)
    preview = _get(op, "preview") or {}
    currency = operations.currency_of(op)
    status = str(_get(op, "status") or "")
    with card:
        head, badge = st.columns([5, 2], vertical_alignment="center")
        head.markdown(f"**{operation_title(op)}**")
        with badge:
            status_badge(status)
        frame = changes_frame(op)
        impact = preview.get("impact") or {}
        if preview.get("verified") is False:
            st.warning(_("**Unverified preview** — {reason}").format(reason=str(
                preview.get("unverified_reason")
                or _("this server does not implement the write contract; the current values are unknown."))),
                icon=":material/help:")
        decided = _get(op, "decided_at")
        stuck = decided is not None and (now or dt.datetime.now(dt.UTC).replace(tzinfo=None)) - decided > dt.timedelta(minutes=1)
        if status == "unknown" or (status == "executing" and stuck):
            st.info(_("In doubt: the change was sent, and its answer was not recorded. The console settles it from "
                      "the server's ledger (`python -m console ops reconcile`); for a server without one, an admin "
                      "resolves it (`ops resolve`)."), icon=":material/pending:")
        if compact:
            line = " · ".join(_("{label}: {value}").format(label=r.Field, value=f"{r.Before} → {r.After}")
                              for r in frame.itertuples()) or preview.get("summary", "")
            st.markdown(_("{change} — projected {impact}").format(
                change=line, impact=format_impact(impact, currency).lower()) if impact else line)
        else:
            if preview.get("summary"):
                st.markdown(preview["summary"])
            if not frame.empty:
                st.dataframe(frame, hide_index=True, width="stretch", column_config=change_headers())
            if impact:
                st.markdown(_("Projected impact — {impact}").format(impact=format_impact(impact, currency)))
        evidence_block(op, compact=compact)
        source = source_label(op) + (f" {str(_get(op, 'source_ref'))[:8]}" if _get(op, "source_ref") else "")
        meta = [
            _("Proposed by **{person}**").format(person=_get(op, "proposer")),
            _("via {source}").format(source=source),
            f"{relative_time(_get(op, 'created_at'), now=now)}",
        ]
        if status in ("pending", "proposed"):
            meta.append(_("expires {when}").format(when=relative_time(_get(op, "expires_at"), now=now)))
        st.caption(" · ".join(meta))
        if _get(op, "reason"):
            st.caption(_("Reason: {reason}").format(reason=_get(op, "reason")))
        edited = edit_line(op)
        if edited:
            st.caption(_("Edited — {edit}").format(edit=edited))
        if _get(op, "decided_by"):
            decision = _(DECIDED_BY.get(status, DECIDED_BY["approved"])).format(
                person=_get(op, "decided_by"), when=relative_time(_get(op, "decided_at"), now=now))
            if status in DECISION_OUTCOMES:
                decision += " · " + _(DECISION_OUTCOMES[status])
            if _get(op, "decision_reason"):
                decision = _("{outcome}: “{reason}”").format(outcome=decision, reason=_get(op, "decision_reason"))
            st.caption(decision)
        if _get(op, "error"):
            st.caption(_(":red[Error: {error}]").format(error=_get(op, "error")))
        if show_arguments:
            with st.expander(_("Arguments")):
                st.json(_get(op, "arguments") or {})
    return card


def value_input(op: Any, field: Any, currency: str) -> Any:
    """One typed input for an editable value (console.approvals.queue.ValueField), with the site's limits beside it."""
    key = f"edit-{_get(op, 'id')}-{field.name}"
    label = field.name.replace("_", " ")
    if field.kind in ("number", "integer") and any(w in field.name for w in operations.MONEY_FIELDS):
        label += f" ({currency})"
    box, limits = st.columns([2, 3], vertical_alignment="bottom")
    with box:
        if field.kind == "number":
            value = st.number_input(label, value=None if field.value is None else float(field.value), step=0.01,
                                    format="%.2f", key=key)
        elif field.kind == "integer":
            value = st.number_input(label, value=None if field.value is None else int(field.value), step=1, key=key)
        elif field.kind == "bool":
            value = st.checkbox(label, value=bool(field.value), key=key)
        elif field.kind == "date":
            value = st.date_input(label, value=dt.date.fromisoformat(field.value) if field.value else None, key=key)
        elif field.kind == "choice":
            options = list(field.options)
            value = st.selectbox(label, options, index=options.index(field.value) if field.value in options else 0,
                                 key=key)
        else:
            value = st.text_input(label, value="" if field.value is None else str(field.value), key=key)
    if field.limits:
        limits.caption(field.limits)
    return value
