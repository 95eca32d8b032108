"""Gateway: the tool groups outside MCP clients reach at /mcp/<code>, their API keys, how their calls go, connecting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from console.gateway import monitoring
from console.gateway.groups import MAX_TIMEOUT_S, MIN_TIMEOUT_S, ToolGroups
from console.gateway.keys import DEFAULT_EXPIRY_DAYS, DEFAULT_GRACE_HOURS, ApiKeys, NewKey
from console.i18n import N_, _, pgettext
from pages.components import empty_state, page_header, render_error
from pages.gateway_kit import connect_help, groups_frame, headers, keys_frame, monitoring_tab
from pages.state import console_state, current_caller, flash, get_runtime

NEW_KEY = "gateway_new_key"  # a key just created or rotated: its secret lives here until dismissed, never stored
CONNECT_HINT = N_("To connect a client: create a tool group and an API key, run `python -m console gateway --host H "
                  "--port P`, and point the client at `http://H:P/mcp/<code>` with the header `Authorization: Bearer "
                  "<key>` (see the Connect tab).")
WINDOWS = {"hour": N_("Last hour"), "day": N_("Last day")}
runtime = get_runtime()
caller = current_caller("admin")
groups, keys = ToolGroups(runtime.engine, runtime.bridge.audit), ApiKeys(runtime.engine, runtime.bridge.audit)
page_header(pgettext("page", "Gateway"), _("Outside agents (Claude Desktop, Dify, scripts) use the console's tools over MCP: at "
                            "/mcp/<code> with a tool group's API key, or at /mcp after signing in. Their writes wait "
                            "for approval like any other; every change here is audited under your name."))
if console_state().flash:
    st.success(console_state().flash, icon=":material/check_circle:")
    console_state().flash = None


def act(action: Callable[..., Any], done: str, *args: Any, **kwargs: Any) -> None:
    """Run an admin action as the signed-in admin; a new key's secret is kept to be shown once."""
    try:
        result = action(*args, **kwargs, actor=caller.user, channel="ui")
    except Exception as exc:
        render_error(exc)
        return
    if isinstance(result, NewKey):
        st.session_state[NEW_KEY] = {"group": result.info.group, "label": result.info.label, "secret": result.secret}
    flash(done)
    st.rerun()


def save_tools(code: str, changes: list[tuple[str, bool, float | None]], *, actor: str, channel: str) -> None:
    for tool, enabled, timeout in changes:
        groups.set_tool(code, tool, actor=actor, channel=channel, enabled=enabled, timeout_s=timeout,
                        clear_timeout=timeout is None, known=known)


shown = st.session_state.get(NEW_KEY)
if shown:
    with st.container(border=True):
        st.warning(_("Copy the API key **{label}** of group **{group}** now: it is shown only this once, and the "
                     "console keeps only its hash.").format(label=shown["label"], group=shown["group"]),
                   icon=":material/key:")
        st.code(shown["secret"], language="text")
        if st.button(_("I have stored the key — hide it"), key="gateway-hide-key", type="primary"):
            del st.session_state[NEW_KEY]
            st.rerun()

try:
    all_groups, all_keys = groups.list(), keys.list()
except Exception as exc:
    render_error(exc)
    st.stop()
try:  # the catalog's tools and which are writes: what a group may hold
    known: dict[str, bool] | None = {s.name: s.is_write for s in runtime.bridge.catalog.specs()}
except Exception as exc:  # groups and keys stay manageable while the tool servers are down
    render_error(exc)
    known = None
codes = [g.code for g in all_groups]
groups_tab, keys_tab, monitor_tab, connect_tab = st.tabs([_("Groups"), _("API keys"), _("Monitoring"), _("Connect")])

with groups_tab:
    if all_groups:
        frame = groups_frame(all_groups, all_keys)
        st.dataframe(frame, hide_index=True, width="stretch", column_config=headers(frame))
    else:
        empty_state(_("No tool groups yet."), _("Create one below: its tools and sites. Then give it an API key on the "
                                                "API keys tab."))
    with st.expander(_("Create a group"), icon=":material/add:", expanded=not all_groups), \
            st.form("gateway-create-group", border=False):
        code_col, name_col = st.columns(2)
        code = code_col.text_input(_("Code"), key="group-code", placeholder=_("e.g. ads-team"),
                                   help=_("Part of the URL /mcp/<code>: a-z, 0-9 and '-'"))
        name = name_col.text_input(_("Name"), key="group-name", placeholder=_("e.g. Ads team in Dify"))
        description = st.text_input(_("Description"), key="group-description")
        tools = st.multiselect(_("Tools"), sorted(known or {}), key="group-tools",
                               format_func=lambda n: _("{tool} (write)").format(tool=n) if (known or {}).get(n) else n)
        sites = st.multiselect(_("Sites"), runtime.users.sites(), key="group-sites", format_func=str.upper)
        writes = st.checkbox(_("May propose changes (each waits for an approval here)"), key="group-writes")
        if st.form_submit_button(_("Create group"), type="primary"):
            act(groups.create, _("Created tool group {code}.").format(code=code.strip()), code.strip(), tools=tools,
                sites=sites, writes=writes, name=name.strip(), description=description.strip(), known=known)
    if all_groups:
        st.subheader(_("Change a group"))
        chosen_code = st.selectbox(_("Group"), codes, key="group-chosen")
        group = next(g for g in all_groups if g.code == chosen_code)
        about, switch = st.columns([3, 1], vertical_alignment="center")
        state = (_("**{name}** is **on** · sites {sites} · {writes}") if group.enabled
                 else _("**{name}** is **off** · sites {sites} · {writes}"))
        about.markdown(state.format(name=group.name, sites=", ".join(s.upper() for s in group.sites),
                                    writes=_("may propose changes") if group.writes else _("read only"))
                       + (f"  \n{group.description}" if group.description else ""))
        if switch.button(_("Switch off") if group.enabled else _("Switch on"), key=f"group-switch-{group.code}"):
            done = (_("Switched tool group {code} off.") if group.enabled
                    else _("Switched tool group {code} on.")).format(code=group.code)
            act(groups.set_enabled, done, group.code, not group.enabled)
        with st.form(f"group-tools-{group.code}"):
            st.caption(_("A switched-off tool is refused at once. A timeout ({low}-{high} s) replaces the console's "
                         "{default} s for that tool; empty: default.").format(
                low=f"{MIN_TIMEOUT_S:g}", high=f"{MAX_TIMEOUT_S:g}", default=f"{runtime.settings.call_timeout_s:g}"))
            wanted = []
            for setting in group.tools:
                tool_col, on_col, timeout_col = st.columns([3, 1, 2], vertical_alignment="center")
                tool_col.markdown(f"`{setting.tool}`" + (" · " + _("write") if (known or {}).get(setting.tool) else ""))
                on = on_col.toggle(_("On"), setting.enabled, key=f"tool-on-{group.code}-{setting.tool}")
                timeout = timeout_col.number_input(_("Timeout (s)"), MIN_TIMEOUT_S, MAX_TIMEOUT_S, setting.timeout_s,
                                                   step=1.0, key=f"tool-timeout-{group.code}-{setting.tool}",
                                                   placeholder=_("default"))
                if (on, timeout) != (setting.enabled, setting.timeout_s):
                    wanted.append((setting.tool, on, timeout))
            if st.form_submit_button(_("Save tools"), type="primary"):
                if wanted:
                    act(save_tools, _("Saved {count} tool setting(s) of {code}.").format(
                        count=len(wanted), code=group.code), group.code, wanted)
                else:
                    st.info(_("Nothing changed: switch a tool or set a timeout first."), icon=":material/info:")

with keys_tab:
    if not all_groups:
        empty_state(_("No tool groups yet."), _("Keys belong to a group: create one on the Groups tab first."))
    elif not all_keys:
        empty_state(_("No API keys yet."), _("Create one below and give it to the client that will use it."))
    else:
        frame = keys_frame(all_keys)
        st.dataframe(frame, hide_index=True, width="stretch", column_config=headers(frame))
        stale = [k for k in all_keys if k.stale()]
        if stale:
            st.warning(_("Rotate {keys}: older than 90 days.").format(
                keys=", ".join(f"#{k.id} {k.label}" for k in stale)), icon=":material/key:")
    if all_groups:
        with st.form("gateway-create-key"):
            group_col, label_col, days_col = st.columns(3)
            key_group = group_col.selectbox(_("Group"), codes, key="key-group")
            label = label_col.text_input(_("Label"), key="key-label", placeholder=_("e.g. dify-prod"),
                                         help=_("Who uses it: its calls are audited as group:<code>/<label>"))
            days = days_col.number_input(_("Expires in (days)"), 1, 3650, DEFAULT_EXPIRY_DAYS, key="key-days")
            if st.form_submit_button(_("Create key"), type="primary"):
                act(keys.create, _("Created the API key {label} for {group}.").format(label=label.strip(),
                                                                                     group=key_group),
                    key_group, label=label, expires_in_days=days)
    active = {k.id: k for k in all_keys if k.state() == "active"}
    if active:
        st.subheader(_("Revoke or rotate"))
        chosen = st.selectbox(_("Key"), list(active), key="key-chosen", format_func=lambda i: (
            f"#{i} {active[i].group}/{active[i].label} ({active[i].shown}…)"
            + (" — " + _("rotated, ends after its grace period") if active[i].replaced_by else "")))
        grace = st.number_input(_("Grace period (hours)"), 0.0, 720.0, DEFAULT_GRACE_HOURS, step=1.0, key="key-grace",
                                help=_("On rotation the old key keeps working this long, so clients can switch"))
        rotate, revoke = st.columns(2)
        if rotate.button(_("Rotate"), key="key-rotate", icon=":material/autorenew:", width="stretch"):
            act(keys.rotate, _("Rotated key #{id}; the old one works for {hours} more hour(s).").format(
                id=chosen, hours=f"{grace:g}"), chosen, grace_hours=grace)
        if revoke.button(_("Revoke now"), key="key-revoke", icon=":material/block:", width="stretch"):
            act(keys.revoke, _("Revoked key #{id}: it is refused from now on.").format(id=chosen), chosen)

with monitor_tab:
    window = st.radio(_("Window"), list(WINDOWS), horizontal=True, key="gateway-window",
                      format_func=lambda w: _(WINDOWS[w]))
    try:
        report = monitoring.report(runtime.engine, window)
    except Exception as exc:
        render_error(exc)
    else:
        monitoring_tab(report, _(CONNECT_HINT))

with connect_tab:
    connect_help(runtime.settings.gateway_url, codes[0] if codes else None)
