"""Admin: users, roles and site scopes; MCP servers and their pinned tool catalog; per-site safety limits."""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from console.approvals.queue import POLICY_FIELDS, approval_keys, site_policy, update_site_policy
from console.i18n import N_, _, pgettext
from console.models import EVERY_SITE, ROLES
from mcp_bridge.catalog.site_limits import LABELS as LIMIT_LABELS
from pages.components import empty_state, page_header, render_error
from pages.state import console_state, current_caller, flash, get_runtime, site_select

NO_ROLE = "(none)"
# The roles' names in the reader's language; the codes stay the values the forms and the users store keep.
ROLE_NAMES = {"seller": N_("seller"), "manager": N_("manager"), "approver": N_("approver"), "admin": N_("admin")}
runtime = get_runtime()
users = runtime.users
caller = current_caller("admin")
page_header(pgettext("page", "Admin"), _("Every change here is written to the audit log under your name."))
if console_state().flash:
    st.success(console_state().flash, icon=":material/check_circle:")
    console_state().flash = None


def user_row(user, sites: list[str]) -> dict[str, str]:
    """One row of the Users table: the roles held on each site ("—": outside the user's scope)."""
    row = {_("Email"): user.email, _("Name"): user.name, _("Roles"): roles_summary(user)}
    for site in sites:
        held = user.site_roles.get(site)
        row[site.upper()] = "—" if held is None else (", ".join(role_name(r) for r in sorted(held)) or _("no role"))
    row[_("All sites")] = ", ".join(role_name(r) for r in sorted(user.everywhere)) or "—"
    row[_("Active")] = _("yes") if user.active else _("no")
    return row


def role_name(role: str) -> str:
    return _(ROLE_NAMES[role]) if role in ROLE_NAMES else role


def roles_summary(user) -> str:
    """`seller` when held alike on every site of the scope, else `approver (US) · seller (DE)`."""
    if not user.sites or not any(user.site_roles.values()):
        return _("— no access —")
    parts = []
    for role in sorted(set().union(*user.site_roles.values())):
        held = [s for s in sorted(user.sites) if role in user.site_roles[s]]
        name = role_name(role)
        parts.append(name if len(held) == len(user.sites) else f"{name} ({', '.join(s.upper() for s in held)})")
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
    [_("Users"), _("MCP servers"), _("Tool catalog"), _("Safety limits"), _("Keys")])

with users_tab:
    people = users.list()
    sites = users.sites()
    st.dataframe(pd.DataFrame([user_row(u, sites) for u in people]), hide_index=True, width="stretch",
                 column_config={_("Email"): st.column_config.TextColumn(width="medium"),
                                _("Roles"): st.column_config.TextColumn(width="medium")})
    waiting = [u.email for u in people if not u.sites or not any(u.site_roles.values())]
    if waiting:
        st.warning(_("Waiting for access: {emails} — grant a role on a site below.").format(emails=", ".join(waiting)),
                   icon=":material/lock:")
    st.subheader(_("Grant or revoke"))
    st.caption(_("A role is held on one site (a user may approve on US and sell on DE), or on every site of the user's "
                 "scope (All sites; admin always is). Granting a role on a site adds the site to the scope; revoking "
                 "a site without a role takes every role held on it."))
    with st.form("grant"):
        who, role, site = st.columns(3)
        email = who.selectbox(_("User"), [u.email for u in people], key="grant-user")
        chosen_role = role.selectbox(_("Role"), [NO_ROLE, *ROLES], key="grant-role",
                                     format_func=lambda r: _("— the site only —") if r == NO_ROLE else role_name(r))
        chosen_site = site.selectbox(_("Site"), [*sites, EVERY_SITE], key="grant-site",
                                     format_func=lambda s: _("All sites") if s == EVERY_SITE else s.upper())
        grant, revoke = st.columns(2)
        granted = grant.form_submit_button(_("Grant"), type="primary", width="stretch")
        revoked = revoke.form_submit_button(_("Revoke"), width="stretch")
    kwargs = {"role": None if chosen_role == NO_ROLE else chosen_role,
              "site": None if chosen_site == EVERY_SITE else chosen_site, "actor": caller.user, "channel": "ui"}
    where = kwargs["site"].upper() if kwargs["site"] else _("every site")
    what = (_("{role} on {site}").format(role=role_name(kwargs["role"]), site=where) if kwargs["role"]
            else _("site {site}").format(site=where))
    if granted:
        act(users.grant, _("Granted {what} to {email}.").format(what=what, email=email), email, **kwargs)
    if revoked:
        act(users.revoke, _("Revoked {what} from {email}.").format(what=what, email=email), email, **kwargs)
    with st.expander(_("Add a user"), icon=":material/person_add:"), st.form("add-user", border=False):
        new_email = st.text_input(_("Email"))
        new_name = st.text_input(_("Name"))
        if st.form_submit_button(_("Add (no access until granted)")):
            act(users.create, _("Added {email}.").format(email=new_email), new_email, name=new_name, actor=caller.user,
                channel="ui")

with servers_tab:
    try:
        statuses = runtime.bridge.pool.status()
    except Exception as exc:
        render_error(exc)
        statuses = None
    if statuses == []:
        empty_state(_("No MCP servers are configured."), _("Set CONSOLE_MCP_SERVERS to an mcpServers JSON document."))
    elif statuses:
        st.dataframe(pd.DataFrame([{
            _("Server"): s.name, _("Transport"): s.transport, _("State"): s.state, "PID": str(s.pid or "—"),
            _("Calls"): s.calls, _("Restarts"): s.restarts, _("Last error"): s.last_error or "",
        } for s in statuses]), hide_index=True, width="stretch",
            column_config={_("Calls"): st.column_config.NumberColumn(format="localized"),
                           _("Restarts"): st.column_config.NumberColumn(format="localized")})

with catalog_tab:
    st.caption(_("Each tool's name, description and schema are pinned when first seen; a server that changes one is "
                 "blocked on that tool until an admin accepts the new definition here."))
    if st.button(_("Check the servers for changed tools"), key="catalog-refresh", icon=":material/sync:"):
        with st.spinner(_("Listing the tools of every server…")):
            act(runtime.bridge.catalog.refresh, _("Listed the tools of every server again."))
    try:
        specs = runtime.bridge.catalog.specs()
        for server, message in getattr(runtime.bridge.catalog, "errors", {}).items():
            st.warning(_("Tools of **{server}** are unavailable: {message}").format(server=server, message=message),
                       icon=":material/cloud_off:")
    except Exception as exc:
        render_error(exc)
        specs = None
    changed = [s for s in specs or [] if not s.pinned_ok]
    if changed:
        st.error(_("{count} tool definition(s) changed since they were pinned and are blocked until accepted.").format(
            count=len(changed)), icon=":material/gpp_maybe:")
        for spec in changed:
            pin = runtime.bridge.catalog.pins.get(spec.name)
            with st.container(border=True):
                st.markdown(_("**{tool}** — pinned by {who}; the server now reports a different definition. Read both "
                              "before accepting.").format(tool=spec.name, who=pin.pinned_by if pin else "—"))
                pinned, now = st.columns(2)
                pinned.caption(_("Pinned definition"))
                pinned.json(pin.definition if pin else {}, expanded=2)
                now.caption(_("Definition the server reports now"))
                now.json((pin.changed_definition if pin else None) or {"description": spec.description,
                                                                       "input_schema": spec.input_schema}, expanded=2)
                if st.button(_("Accept the new definition of {tool}").format(tool=spec.name), key=f"accept-{spec.name}"):
                    act(runtime.bridge.catalog.accept, _("Accepted {tool}.").format(tool=spec.name), spec.name,
                        by=caller.user)
    if specs:
        st.caption(_("{count} tools; a write tool never runs without an approval.").format(count=len(specs)))
        st.dataframe(pd.DataFrame([{
            _("Tool"): s.name, _("Server"): s.server, _("Kind"): _("write (needs approval)") if s.is_write else _("read"),
            _("Pinned"): _("ok") if s.pinned_ok else _("CHANGED — blocked"), _("Description"): s.description,
        } for s in specs]), hide_index=True, width="stretch", height=560,
            column_config={_("Tool"): st.column_config.TextColumn(width="medium"),
                           _("Server"): st.column_config.TextColumn(width="small"),
                           _("Kind"): st.column_config.TextColumn(width="medium"),
                           _("Pinned"): st.column_config.TextColumn(width="small"),
                           _("Description"): st.column_config.TextColumn(width="large")})
    elif specs == []:
        empty_state(_("No tools yet."), _("Start the MCP servers (see the MCP servers tab)."))

with limits_tab:
    site = site_select(sorted(caller.sites), key="limits-site")
    policy = site_policy(runtime, site)
    st.caption(_("Amounts are in {currency}. Every bid, budget, price, new campaign, new bid, coupon, discount and "
                 "import price a proposal sets is checked against these, when it is proposed and again when "
                 "approved.").format(currency=policy.currency))
    refusal = st.empty()  # a refused save says why above the form, and beside each value it names
    with st.form(f"limits-{site}"):
        values, beside = {}, {}
        columns = st.columns(2)
        for i, name in enumerate(POLICY_FIELDS):
            with columns[i % 2]:
                current = getattr(policy, name)
                shown = (_(LIMIT_LABELS[name]).format(currency=policy.currency) if name in LIMIT_LABELS
                         else policy.label(name))
                if isinstance(current, bool):
                    values[name] = st.checkbox(shown, current, key=f"{site}-{name}",
                                               help=_("Off by default: someone else must approve a change"))
                else:
                    values[name] = st.number_input(shown, value=float(current), step=0.5,
                                                   key=f"{site}-{name}")
                beside[name] = st.empty()
        saved = st.form_submit_button(_("Save limits"), type="primary")
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
            flash(_("Saved the safety limits of {site}.").format(site=site.upper()))
            st.rerun()
    else:  # limits saved before they were checked: say which make no sense, so an admin fixes them
        for name, problem in policy.problems().items():
            beside[name].warning(_("The saved value makes no sense: {problem}").format(problem=problem),
                                 icon=":material/warning:")

with keys_tab:
    st.caption(_("Approval tokens, PII grants and the servers' service credentials are signed with these keys (each "
                 "server gets its own key derived from them). Rotate every 90 days: "
                 "`python -m console secrets rotate --as YOU`; the previous keys keep verifying for a grace period."))
    keys = approval_keys(runtime)
    stale = [k for k in keys if k.stale]
    if stale:
        st.warning(_("The signing key {kid} is of unknown age: rotate it.").format(kid=stale[0].kid)
                   if stale[0].age_days is None else
                   _("The signing key {kid} is {days} days old: rotate it.").format(
                       kid=stale[0].kid, days=f"{stale[0].age_days:.0f}"), icon=":material/key:")
    st.dataframe(pd.DataFrame([{
        _("Key id"): k.kid, _("Source"): "CONSOLE_APPROVAL_SECRET" if k.source == "env" else _("keyring file"),
        _("Use"): _("signs new tokens") if k.signing else (_("verifies until retired") if k.in_force else _("retired")),
        _("Created"): f"{k.created:%Y-%m-%d}" if k.created else _("unknown"),
        _("Age (days)"): "—" if k.age_days is None else f"{k.age_days:,.0f}",
        _("Retires"): f"{k.retires:%Y-%m-%d %H:%M} UTC" if k.retires else "—",
        _("Rotate"): _("yes — older than 90 days") if k.stale else "",
    } for k in keys]), hide_index=True, width="stretch")
