"""The Gateway page's tables and help: groups, API keys, monitoring figures (flagged rows highlighted), connecting."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from console import formatting
from console.gateway.groups import Group
from console.gateway.keys import STALE_DAYS, KeyInfo
from console.gateway.monitoring import ERROR_RATE_LIMIT, MIN_CALLS, NO_GROUP, P95_LIMIT_MS, Report, Stats, flag_text
from console.i18n import N_, _
from pages.components import empty_state, relative_time

FLAGGED_STYLE = "background-color: rgba(255, 75, 75, 0.18)"
STATE_LABELS = {"active": N_("active"), "revoked": N_("revoked"), "expired": N_("expired")}
# The frames keep these column names (the code reads columns by them); people read them through `headers`.
HEADERS = {
    "Code": N_("Code"), "Name": N_("Name"), "State": N_("State"), "Tools on": N_("Tools on"), "Sites": N_("Sites"),
    "Writes": N_("Writes"), "Active keys": N_("Active keys"), "Created by": N_("Created by"), "Changed": N_("Changed"),
    "Group": N_("Group"), "Label": N_("Label"), "Key": N_("Key"), "Created": N_("Created"),
    "Last used": N_("Last used"), "Expires": N_("Expires"), "Rotate": N_("Rotate"), "Tool": N_("Tool"),
    "Calls": N_("Calls"), "Errors": N_("Errors"), "Error rate": N_("Error rate"), "Flag": N_("Flag"),
}


def headers(frame: pd.DataFrame) -> dict[str, Any]:
    """Column headers in the reader's language for a frame of this page."""
    return {name: st.column_config.Column(_(HEADERS[name])) for name in frame.columns if name in HEADERS}


def when(value: dt.datetime | None) -> str:
    return _("{time} UTC").format(time=f"{value:%Y-%m-%d %H:%M}") if value else "—"


def groups_frame(groups: Sequence[Group], keys: Sequence[KeyInfo]) -> pd.DataFrame:
    active = {g.code: sum(k.group == g.code and k.state() == "active" for k in keys) for g in groups}
    return pd.DataFrame([{
        "Code": g.code, "Name": g.name, "State": _("on") if g.enabled else _("off"),
        "Tools on": _("{on} of {all}").format(on=len(g.enabled_tools), all=len(g.tools)),
        "Sites": ", ".join(s.upper() for s in g.sites), "Writes": _("may propose") if g.writes else _("read only"),
        "Active keys": formatting.count(active[g.code]), "Created by": g.created_by or "—",
        "Changed": relative_time(g.updated_at or g.created_at),
    } for g in groups])


def keys_frame(keys: Sequence[KeyInfo]) -> pd.DataFrame:
    return pd.DataFrame([{
        "#": k.id, "Group": k.group, "Label": k.label, "Key": f"{k.shown}…", "Created by": k.created_by,
        "Created": when(k.created_at), "Last used": relative_time(k.last_used_at) if k.last_used_at else _("never"),
        "Expires": when(k.expires_at), "State": _(STATE_LABELS[k.state()]) if k.state() in STATE_LABELS else k.state(),
        "Rotate": _("rotate now — {days} days old").format(days=f"{k.age_days():,.0f}") if k.stale() else "",
    } for k in keys])


def stats_frame(stats: Sequence[Stats], first: str) -> pd.DataFrame:
    def name(s: Stats) -> str:
        if s.kind == "key":
            return f"#{s.name} {s.label}".strip()
        return _("/mcp (signed in, no group)") if s.kind == "group" and s.name == NO_GROUP else s.name

    return pd.DataFrame([{
        first: name(s), "Calls": formatting.count(s.calls), "Errors": formatting.count(s.errors),
        "Error rate": formatting.percent(s.error_rate),
        "p50": formatting.duration_ms(s.p50_ms) if s.p50_ms is not None else "—",
        "p95": formatting.duration_ms(s.p95_ms) if s.p95_ms is not None else "—",
        "Flag": " · ".join(b[0] for b in s.breaches()),
    } for s in stats], columns=[first, "Calls", "Errors", "Error rate", "p50", "p95", "Flag"])


def highlighted(frame: pd.DataFrame) -> Styler:
    """The frame with its flagged rows tinted red."""
    return frame.style.apply(lambda row: [FLAGGED_STYLE if row["Flag"] else ""] * len(row), axis=1)


# Per window: the empty state, the flags' heading and the quiet line (whole sentences, as each language says them).
WINDOW_TEXTS = {
    "hour": (N_("No gateway calls in the last hour."), N_("{count} over a limit in the last hour:"),
             N_("{count} calls in the last hour; nothing over a limit.")),
    "day": (N_("No gateway calls in the last day."), N_("{count} over a limit in the last day:"),
            N_("{count} calls in the last day; nothing over a limit.")),
}
PER = ((N_("Per tool"), "tools", "Tool"), (N_("Per group"), "groups", "Group"), (N_("Per API key"), "keys", "Key"))


def monitoring_tab(report: Report, connect_hint: str) -> None:
    none, over, quiet = WINDOW_TEXTS["hour" if report.window == "hour" else "day"]
    if not report.calls:
        empty_state(_(none), connect_hint)
        return
    found = report.flags()
    if found:
        st.error(_(over).format(count=len(found)) + "\n\n" + "\n".join(f"- {flag_text(f)}" for f in found),
                 icon=":material/monitor_heart:")
    else:
        st.success(_(quiet).format(count=formatting.count(report.calls)), icon=":material/check_circle:")
    st.caption(_("Flagged (tinted): p95 above {p95} or more than {errors} errors, once there are {calls} calls to "
                 "judge by. A write waiting for approval is not an error. From {since} to {until} UTC.").format(
        p95=formatting.duration_ms(P95_LIMIT_MS), errors=formatting.percent(ERROR_RATE_LIMIT, 0), calls=MIN_CALLS,
        since=f"{report.since:%Y-%m-%d %H:%M}", until=f"{report.until:%H:%M}"))
    for title, attribute, first in PER:
        st.subheader(_(title))
        stats = getattr(report, attribute)
        if stats:
            frame = stats_frame(stats, first)
            st.dataframe(highlighted(frame), hide_index=True, width="stretch", column_config=headers(frame))
        else:
            st.caption(_("No calls with an API key in this window.") if first == "Key" else _("No calls."))


def connect_help(base_url: str | None, code: str | None) -> None:
    st.markdown(_("Start the gateway on a host the clients can reach (it uses this console's database and tools):"))
    host_col, port_col = st.columns(2)
    host = host_col.text_input(_("Host"), "127.0.0.1", key="gateway-host",
                               help=_("127.0.0.1 serves this machine only; 0.0.0.0 every network it is on"))
    port = int(port_col.number_input(_("Port"), 1, 65535, 8600, key="gateway-port"))
    st.code(f"python -m console gateway --host {host} --port {port}", language="bash")
    st.caption(_("Behind a proxy or TLS terminator, give the address clients use with `--url https://…` (or "
                 "CONSOLE_GATEWAY_URL): sign-in tokens are issued for that address."))
    base = (base_url or f"http://{host}:{port}").rstrip("/")
    group = code or "<code>"
    st.markdown(_("A client reaches one tool group at its URL, sending one of the group's API keys as a header:"))
    st.code(f"{base}/mcp/{group}\nAuthorization: Bearer <key>", language="text")
    st.markdown(_("People sign in from their MCP client with their console login instead: `{all}` (all their tools) "
                  "or `{one}` (that group's). A client configured with an `mcpServers` document (streamable HTTP) "
                  "looks like this:").format(all=f"{base}/mcp", one=f"{base}/mcp/{group}"))
    client = {"mcpServers": {"console": {"url": f"{base}/mcp/{group}", "headers": {"Authorization": "Bearer <key>"}}}}
    st.code(json.dumps(client, indent=2), language="json")
    st.caption(_("Keys older than {days} days are marked for rotation on the API keys tab. Changes to a group take "
                 "effect on its next call, without restarting the gateway.").format(days=STALE_DAYS))
