"""Admin: users, roles and site scopes; MCP servers and their pinned tool catalog; per-site safety limits."""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from console.approvals.queue import POLICY_FIELDS, approval_keys, site_policy, update_site_policy
from console.models import EVERY_SITE, ROLES
from pages.components import empty_state, page_header, render_error
from pages.state import console_state, current_caller, flash, get_runtime, site_select

NO_ROLE = "(none)"
runtime = get_runtime()
users = runtime.users
caller = current_caller("admin")
page_header("Admin", "Every change here is written to the audit log under your name.")
if console_state().flash:
    st.success(console_state().flash, icon=":material/check_circle:")
    console_state().flash = None


def user_row(user, sites: list[str]) -> dict[str, str]:
    """One row of the Users table: the roles held on each site ("—": outside the user's scope)."""
    row = {"Email": user.email, "Name": user.name, "Roles": roles_summary(user)}
    for site in sites:
        held = user.site_roles.get(site)
        row[site.upper()] = "—" if held is None else (", ".join(sorted(held)) or "no role")
    row["All sites"] = ", ".join(sorted(user.everywhere)) or "—"
    row["Active"] = "yes" if user.active else "no"
    return row


def roles_summary(user) -> str:
    """`seller` when held alike on every site of the scope, else `approver (US) · seller (DE)`."""
    if not user.sites or not any(user.site_roles.values()):
        return "— no access —"
    parts = []
    for role in sorted(set().union(*user.site_roles.values())):
        held = [s for s in sorted(user.sites) if role in user.site_roles[s]]
        parts.append(role if len(held) == len(user.sites) else f"{role} ({', '.join(s.upper() for s in held)})")
    return " · ".join(parts)


def act(action, done: str, *args, **kwargs) -> None:
    try:
        action(*args, **kwargs)
    except Exception as exc:
        render_error(exc)
        return
    flash(done)
    st.rerun()


users_tab, servers_tab, catalog_tab, limits_tab, keys_tab = st.tabs(
    ["Users", "MCP servers", "Tool catalog", "Safety limits", "Keys"])

with users_tab:
    people = users.list()
    sites = users.sites()
    st.dataframe(pd.DataFrame([user_row(u, sites) for u in people]), hide_index=True, width="stretch",
                 column_config={"Email": st.column_config.TextColumn(width="medium"),
                                "Roles": st.column_config.TextColumn(width="medium")})
    waiting = [u.email for u in people if not u.sites or not any(u.site_roles.values())]
    if waiting:
        st.warning(f"Waiting for access: {', '.join(waiting)} — grant a role on a site below.", icon=":material/lock:")
    st.subheader("Grant or revoke")
    st.caption("A role is held on one site (a user may approve on US and sell on DE), or on every site of the user's "
               "scope (All sites; admin always is). Granting a role on a site adds the site to the scope; revoking "
               "a site without a role takes every role held on it.")
    with st.form("grant"):
        who, role, site = st.columns(3)
        email = who.selectbox("User", [u.email for u in people], key="grant-user")
        chosen_role = role.selectbox("Role", [NO_ROLE, *ROLES], key="grant-role",
                                     format_func=lambda r: "— the site only —" if r == NO_ROLE else r)
        chosen_site = site.selectbox("Site", [*sites, EVERY_SITE], key="grant-site",
                                     format_func=lambda s: "All sites" if s == EVERY_SITE else s.upper())
        grant, revoke = st.columns(2)
        granted = grant.form_submit_button("Grant", type="primary", width="stretch")
        revoked = revoke.form_submit_button("Revoke", width="stretch")
    kwargs = {"role": None if chosen_role == NO_ROLE else chosen_role,
              "site": None if chosen_site == EVERY_SITE else chosen_site, "actor": caller.user, "channel": "ui"}
    where = kwargs["site"].upper() if kwargs["site"] else "every site"
    what = f"{kwargs['role']} on {where}" if kwargs["role"] else f"site {where}"
    if granted:
        act(users.grant, f"Granted {what} to {email}.", email, **kwargs)
    if revoked:
        act(users.revoke, f"Revoked {what} from {email}.", email, **kwargs)
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
    site = site_select(sorted(caller.sites), key="limits-site")
    policy = site_policy(runtime, site)
    st.caption(f"Amounts are in {policy.currency}. Every bid, budget, price, new campaign, new bid, coupon, discount and "
               "import price a proposal sets is checked against these, when it is proposed and again when approved.")
    refusal = st.empty()  # a refused save says why above the form, and beside each value it names
    with st.form(f"limits-{site}"):
        values, beside = {}, {}
        columns = st.columns(2)
        for i, name in enumerate(POLICY_FIELDS):
            with columns[i % 2]:
                current = getattr(policy, name)
                if isinstance(current, bool):
                    values[name] = st.checkbox(policy.label(name), current, key=f"{site}-{name}",
                                               help="Off by default: someone else must approve a change")
                else:
                    values[name] = st.number_input(policy.label(name), value=float(current), step=0.5,
                                                   key=f"{site}-{name}")
                beside[name] = st.empty()
        saved = st.form_submit_button("Save limits", type="primary")
    if saved:
        wanted = dataclasses.replace(policy, **values)
        for name, problem in wanted.problems().items():
            beside[name].error(problem, icon=":material/error:")
        try:
            update_site_policy(runtime, wanted, actor=caller)
        except Exception as exc:
            with refusal.container():
                render_error(exc)
        else:
            flash(f"Saved the safety limits of {site.upper()}.")
            st.rerun()
    else:  # limits saved before they were checked: say which make no sense, so an admin fixes them
        for name, problem in policy.problems().items():
            beside[name].warning(f"The saved value makes no sense: {problem}", icon=":material/warning:")

with keys_tab:
    st.caption("Approval tokens, PII grants and the servers' service credentials are signed with these keys (each "
               "server gets its own key derived from them). Rotate every 90 days: "
               "`python -m console secrets rotate --as YOU`; the previous keys keep verifying for a grace period.")
    keys = approval_keys(runtime)
    stale = [k for k in keys if k.stale]
    if stale:
        st.warning(f"The signing key {stale[0].kid} is "
                   + ("of unknown age" if stale[0].age_days is None else f"{stale[0].age_days:.0f} days old")
                   + ": rotate it.", icon=":material/key:")
    st.dataframe(pd.DataFrame([{
        "Key id": k.kid, "Source": "CONSOLE_APPROVAL_SECRET" if k.source == "env" else "keyring file",
        "Use": "signs new tokens" if k.signing else ("verifies until retired" if k.in_force else "retired"),
        "Created": f"{k.created:%Y-%m-%d}" if k.created else "unknown",
        "Age (days)": "—" if k.age_days is None else f"{k.age_days:,.0f}",
        "Retires": f"{k.retires:%Y-%m-%d %H:%M} UTC" if k.retires else "—",
        "Rotate": "yes — older than 90 days" if k.stale else "",
    } for k in keys]), hide_index=True, width="stretch")
