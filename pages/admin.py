"""Admin: users, roles and site scopes; MCP servers and their pinned tool catalog; per-site safety limits."""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from console.approvals import POLICY_FIELDS, site_policy, update_site_policy
from console.models import ROLES
from pages.components import SITE_CURRENCY, empty_state, page_header, render_error
from pages.state import console_state, current_caller, flash, get_runtime

runtime = get_runtime()
users = runtime.users
caller = current_caller("admin")
POLICY_LABELS = {
    "max_bid_change_abs": "Largest bid change per operation ({currency})",
    "max_bid_change_pct": "Largest bid change per operation (%)",
    "max_bid_change_daily_total": "Total bid increases per day ({currency})",
    "max_budget_increase_pct": "Largest budget increase per operation (%)",
    "max_budget_increase_abs": "Largest budget increase per operation ({currency})",
    "price_change_min_pct": "Price change, lower bound (%)",
    "price_change_max_pct": "Price change, upper bound (%)",
    "expiry_hours": "Pending operations expire after (hours)",
    "allow_self_approval": "Proposers may approve their own operations",
}
page_header("Admin", "Every change here is written to the audit log under your name.")
if console_state().flash:
    st.success(console_state().flash, icon=":material/check_circle:")
    console_state().flash = None


def act(action, done: str, *args, **kwargs) -> None:
    try:
        action(*args, **kwargs)
    except Exception as exc:
        render_error(exc)
        return
    flash(done)
    st.rerun()


users_tab, servers_tab, catalog_tab, limits_tab = st.tabs(["Users", "MCP servers", "Tool catalog", "Safety limits"])

with users_tab:
    people = users.list()
    st.dataframe(pd.DataFrame([{
        "Email": u.email, "Name": u.name, "Roles": ", ".join(sorted(u.roles)) or "— no access —",
        "Sites": ", ".join(s.upper() for s in sorted(u.sites)) or "—", "Active": "yes" if u.active else "no",
    } for u in people]), hide_index=True, width="stretch")
    waiting = [u.email for u in people if not u.roles or not u.sites]
    if waiting:
        st.warning(f"Waiting for access: {', '.join(waiting)} — grant a role and a site below.", icon=":material/lock:")
    st.subheader("Grant or revoke")
    sites = users.sites()
    with st.form("grant"):
        who, role, site = st.columns(3)
        email = who.selectbox("User", [u.email for u in people], key="grant-user")
        chosen_role = role.selectbox("Role", ["(none)", *ROLES], key="grant-role")
        chosen_site = site.selectbox("Site", ["(none)", *sites], key="grant-site",
                                     format_func=lambda s: s if s == "(none)" else s.upper())
        grant, revoke = st.columns(2)
        granted = grant.form_submit_button("Grant", type="primary", width="stretch")
        revoked = revoke.form_submit_button("Revoke", width="stretch")
    kwargs = {"role": None if chosen_role == "(none)" else chosen_role,
              "site": None if chosen_site == "(none)" else chosen_site, "actor": caller.user, "channel": "ui"}
    if granted:
        act(users.grant, f"Granted {kwargs['role'] or ''} {kwargs['site'] or ''} to {email}.", email, **kwargs)
    if revoked:
        act(users.revoke, f"Revoked {kwargs['role'] or ''} {kwargs['site'] or ''} from {email}.", email, **kwargs)
    with st.expander("Add a user", icon=":material/person_add:"), st.form("add-user", border=False):
        new_email = st.text_input("Email")
        new_name = st.text_input("Name")
        if st.form_submit_button("Add (no access until granted)"):
            act(users.create, f"Added {new_email}.", new_email, name=new_name, actor=caller.user, channel="ui")

with servers_tab:
    try:
        statuses = runtime.bridge.pool.status()
    except Exception as exc:
        render_error(exc)
        statuses = None
    if statuses == []:
        empty_state("No MCP servers are configured.", "Set CONSOLE_MCP_SERVERS to an mcpServers JSON document.")
    elif statuses:
        st.dataframe(pd.DataFrame([{
            "Server": s.name, "Transport": s.transport, "State": s.state, "PID": str(s.pid or "—"),
            "Calls": s.calls, "Restarts": s.restarts, "Last error": s.last_error or "",
        } for s in statuses]), hide_index=True, width="stretch",
            column_config={"Calls": st.column_config.NumberColumn(format="localized"),
                           "Restarts": st.column_config.NumberColumn(format="localized")})

with catalog_tab:
    st.caption("Each tool's name, description and schema are pinned when first seen; a server that changes one is "
               "blocked on that tool until an admin accepts the new definition here.")
    if st.button("Check the servers for changed tools", key="catalog-refresh", icon=":material/sync:"):
        with st.spinner("Listing the tools of every server…"):
            act(runtime.bridge.catalog.refresh, "Listed the tools of every server again.")
    try:
        specs = runtime.bridge.catalog.specs()
        for server, message in getattr(runtime.bridge.catalog, "errors", {}).items():
            st.warning(f"Tools of **{server}** are unavailable: {message}", icon=":material/cloud_off:")
    except Exception as exc:
        render_error(exc)
        specs = None
    changed = [s for s in specs or [] if not s.pinned_ok]
    if changed:
        st.error(f"{len(changed)} tool definition(s) changed since they were pinned and are blocked until accepted.",
                 icon=":material/gpp_maybe:")
        for spec in changed:
            pin = runtime.bridge.catalog.pins.get(spec.name)
            with st.container(border=True):
                st.markdown(f"**{spec.name}** — pinned by {pin.pinned_by if pin else '—'}; the server now reports a "
                            "different definition. Read both before accepting.")
                pinned, now = st.columns(2)
                pinned.caption("Pinned definition")
                pinned.json(pin.definition if pin else {}, expanded=2)
                now.caption("Definition the server reports now")
                now.json((pin.changed_definition if pin else None) or {"description": spec.description,
                                                                       "input_schema": spec.input_schema}, expanded=2)
                if st.button(f"Accept the new definition of {spec.name}", key=f"accept-{spec.name}"):
                    act(runtime.bridge.catalog.accept, f"Accepted {spec.name}.", spec.name, by=caller.user)
    if specs:
        st.caption(f"{len(specs)} tools; a write tool never runs without an approval.")
        st.dataframe(pd.DataFrame([{
            "Tool": s.name, "Server": s.server, "Kind": "write (needs approval)" if s.is_write else "read",
            "Pinned": "ok" if s.pinned_ok else "CHANGED — blocked", "Description": s.description,
        } for s in specs]), hide_index=True, width="stretch", height=560,
            column_config={"Tool": st.column_config.TextColumn(width="medium"),
                           "Server": st.column_config.TextColumn(width="small"),
                           "Kind": st.column_config.TextColumn(width="medium"),
                           "Pinned": st.column_config.TextColumn(width="small"),
                           "Description": st.column_config.TextColumn(width="large")})
    elif specs == []:
        empty_state("No tools yet.", "Start the MCP servers (see the MCP servers tab).")

with limits_tab:
    site = st.selectbox("Site", sorted(caller.sites), key="limits-site", format_func=str.upper)
    policy = site_policy(runtime, site)
    with st.form(f"limits-{site}"):
        values = {}
        columns = st.columns(2)
        currency = SITE_CURRENCY.get(site, "")
        for i, name in enumerate(POLICY_FIELDS):
            label = POLICY_LABELS.get(name, name.replace("_", " ").capitalize()).format(currency=currency)
            with columns[i % 2]:
                current = getattr(policy, name)
                if isinstance(current, bool):
                    values[name] = st.checkbox(label, current, key=f"{site}-{name}",
                                               help="Off by default: someone else must approve a change")
                else:
                    values[name] = st.number_input(label, value=float(current), step=0.5, key=f"{site}-{name}")
        if st.form_submit_button("Save limits", type="primary"):
            act(update_site_policy, f"Saved the safety limits of {site.upper()}.",
                runtime, dataclasses.replace(policy, **values), actor=caller)
