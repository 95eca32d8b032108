"""Building blocks every page uses: the one error renderer, headers, KPI tiles, empty states, operation cards."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from console import formatting
from console.errors import ConsoleError

log = logging.getLogger("console.ui")

# What a person can do about each error code (DESIGN.md §3 codes).
HOW_TO_FIX: dict[str, str] = {
    "AUTH_REQUIRED": "Your session has ended. Sign out from the sidebar and sign in again.",
    "PERMISSION_DENIED": "Your roles do not allow this. Ask an admin to grant the role on the Admin page.",
    "SITE_SCOPE_REQUIRED": "That site is outside your scope. Switch the active site in the sidebar, or ask an admin "
    "to add the site to your scope.",
    "NOT_FOUND": "It may have been removed or already handled by someone else. Refresh the page.",
    "VALIDATION_FAILED": "Check the values and try again; the message above says which one is off.",
    "CONFIRMATION_REQUIRED": "Changes need an approval: propose it from Chat or a dashboard and ask an approver.",
    "CONFLICT": "Someone changed this in the meantime or it was already handled. Refresh to see the current state.",
    "UPSTREAM_ERROR": "A tool server did not answer in time. Check Admin → MCP servers, then try again.",
}

SITE_CURRENCY = {"us": "USD", "de": "EUR", "jp": "JPY", "uk": "GBP", "cn": "CNY"}
STATUS_BADGES: dict[str, tuple[str, str]] = {
    "pending": ("Waiting for approval", "orange"),
    "proposed": ("Waiting for approval", "orange"),
    "approved": ("Approved", "blue"),
    "executing": ("Executing", "blue"),
    "succeeded": ("Executed", "green"),
    "executed": ("Executed", "green"),
    "failed": ("Failed", "red"),
    "rejected": ("Rejected", "red"),
    "expired": ("Expired", "gray"),
    "unknown": ("Outcome unknown — reconcile", "violet"),
}
DECISION_OUTCOMES = {"executing": " · executing now", "succeeded": " · executed", "failed": " · the write failed",
                     "unknown": " · outcome unknown, reconcile by hand"}
MONEY_FIELDS = ("bid", "budget", "price", "cost", "spend", "amount", "revenue", "sales")


def render_error(exc: BaseException) -> None:
    """The one place errors are shown: the code, the message, and what to do about it."""
    code = getattr(exc, "code", None)
    if isinstance(exc, ConsoleError) or code in HOW_TO_FIX:
        message = getattr(exc, "message", None) or str(exc)
        st.error(f"**{code}** — {message}\n\n{HOW_TO_FIX.get(code or '', '')}", icon=":material/error:")
        return
    log.exception("unexpected error in a page", exc_info=exc)
    st.error(
        f"Something went wrong ({type(exc).__name__}). It has been logged; try again, and tell an admin if it "
        "keeps happening.",
        icon=":material/error:",
    )


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
    st.badge(label, color=color)


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
    if span < 60:
        text = "under a minute" if span else "now"
    elif span < 3600:
        text = f"{span // 60} min"
    elif span < 86400:
        text = f"{span // 3600} h {span % 3600 // 60} min"
    else:
        text = f"{span // 86400} d {span % 86400 // 3600} h"
    if text == "now":
        return text
    return f"in {text}" if seconds > 0 else f"{text} ago"


def format_value(field_name: str, value: Any, currency: str) -> str:
    """A before/after value for people: money for bids/budgets/prices, counts with separators."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        if any(word in field_name.lower() for word in MONEY_FIELDS):
            return formatting.money(float(value), currency)
        if "acos" in field_name.lower() or field_name.lower().endswith(("_rate", "_pct")):
            return formatting.percent(float(value))
        return formatting.count(value) if float(value).is_integer() else f"{value:,.2f}"
    return str(value)


def format_impact(impact: Mapping[str, Any], currency: str) -> str:
    """`Daily spend: -$4.20 · Daily revenue: +$12.00` from the server's projected impact."""
    parts = []
    for key, value in impact.items():
        label = key.removesuffix("_delta").replace("_", " ").capitalize()
        if isinstance(value, int | float) and any(w in key for w in MONEY_FIELDS):
            text = ("+" if value > 0 else "") + formatting.money(float(value), currency)
        else:
            text = format_value(key, value, currency)
        parts.append(f"{label}: {text}")
    return " · ".join(parts)


def _get(op: Any, name: str, default: Any = None) -> Any:
    if isinstance(op, Mapping):
        return op.get(name, default)
    return getattr(op, name, default)


def changes_frame(op: Any) -> pd.DataFrame:
    """The before → after table of an operation."""
    preview = _get(op, "preview") or {}
    currency = SITE_CURRENCY.get(_get(op, "site") or "", "USD")
    changes = preview.get("changes") or [
        {"field": k, "before": (preview.get("before") or {}).get(k), "after": v}
        for k, v in (preview.get("after") or {}).items()
    ]
    rows = [
        {
            "Field": c.get("field", ""),
            "Before": format_value(c.get("field", ""), c.get("before"), currency),
            "After": format_value(c.get("field", ""), c.get("after"), currency),
        }
        for c in changes
    ]
    return pd.DataFrame(rows, columns=["Field", "Before", "After"])


def operation_title(op: Any) -> str:
    preview = _get(op, "preview") or {}
    target = preview.get("target") or ""
    return f"#{_get(op, 'id')} · {_get(op, 'tool')} · {str(_get(op, 'site') or '').upper()}" + (
        f" · {target}" if target else ""
    )


def operation_card(op: Any, *, now: dt.datetime | None = None, show_arguments: bool = False,
                   compact: bool = False) -> Any:
    """A bordered card: title, status, diff, impact, who/where/why, age and expiry; returns the container.

    `compact` (chat): the diff as one line instead of a table, for many cards in a conversation.
    """
    card = st.container(border=True)
    preview = _get(op, "preview") or {}
    currency = SITE_CURRENCY.get(_get(op, "site") or "", "USD")
    status = str(_get(op, "status") or "")
    with card:
        head, badge = st.columns([5, 2], vertical_alignment="center")
        head.markdown(f"**{operation_title(op)}**")
        with badge:
            status_badge(status)
        frame = changes_frame(op)
        impact = preview.get("impact") or {}
        if compact:
            line = " · ".join(f"{r.Field}: {r.Before} → {r.After}" for r in frame.itertuples()) or preview.get("summary", "")
            st.markdown(line + (f" — projected {format_impact(impact, currency).lower()}" if impact else ""))
        else:
            if preview.get("summary"):
                st.markdown(preview["summary"])
            if not frame.empty:
                st.dataframe(frame, hide_index=True, width="stretch")
            if impact:
                st.markdown(f"Projected impact — {format_impact(impact, currency)}")
        source = _get(op, "source_kind") or "—"
        if _get(op, "source_ref"):
            source += f" {str(_get(op, 'source_ref'))[:8]}"
        meta = [
            f"Proposed by **{_get(op, 'proposer')}**",
            f"via {source}",
            f"{relative_time(_get(op, 'created_at'), now=now)}",
        ]
        if status in ("pending", "proposed"):
            meta.append(f"expires {relative_time(_get(op, 'expires_at'), now=now)}")
        st.caption(" · ".join(meta))
        if _get(op, "reason"):
            st.caption(f"Reason: {_get(op, 'reason')}")
        if _get(op, "decided_by"):
            verb = {"rejected": "Rejected", "expired": "Expired"}.get(status, "Approved")
            decision = f"{verb} by **{_get(op, 'decided_by')}** {relative_time(_get(op, 'decided_at'), now=now)}"
            decision += DECISION_OUTCOMES.get(status, "")
            if _get(op, "decision_reason"):
                decision += f": “{_get(op, 'decision_reason')}”"
            st.caption(decision)
        if _get(op, "error"):
            st.caption(f":red[Error: {_get(op, 'error')}]")
        if show_arguments:
            with st.expander("Arguments"):
                st.json(_get(op, "arguments") or {})
    return card
