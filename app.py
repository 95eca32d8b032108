"""The operator console in the browser: sign-in, navigation built per role, the sidebar."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import streamlit as st
from pydantic import ValidationError

from console.auth import SignInMisconfigured, SignInMode, demo_accounts, sign_in, sign_in_mode, sign_out
from console.errors import AuthRequired, ConsoleError
from console.settings import Settings
from pages.components import SITE_CURRENCY, render_error
from pages.state import SHELL_KEY, ConsoleState, console_state, get_runtime

st.set_page_config(page_title="Operator Console", page_icon=":material/storefront:", layout="wide")

HERE = Path(__file__).parent
ROLE_LABELS = {"seller": "Seller", "manager": "Manager", "approver": "Approver", "admin": "Admin"}


def page(name: str, title: str, icon: str, **kwargs) -> st.Page | None:
    """A page from pages/<name>.py, or None when that page is not in this build yet."""
    path = f"pages/{name}.py"
    return st.Page(path, title=title, icon=icon, url_path=name, **kwargs) if (HERE / path).exists() else None


def navigation_for(caller) -> dict[str, list[st.Page]]:
    """What each role sees (admin holds every role): see docs in pages/home.py."""
    sections: dict[str, list[st.Page | None]] = {
        "Work": [page("home", "Home", ":material/home:", default=True)],
        "Dashboards": [],
        "Control": [],
    }
    if caller.has("seller"):
        sections["Work"].append(page("chat", "Chat", ":material/forum:"))
    if caller.has("approver"):
        sections["Work"].append(page("approvals", "Approvals", ":material/task_alt:"))
    # Managers live on the dashboards; sellers act from them (their alert panels propose fixes).
    if caller.has("manager") or caller.has("seller"):
        sections["Dashboards"] += [
            page("ads", "Ads", ":material/campaign:"),
            page("inventory", "Inventory", ":material/inventory_2:"),
            page("sales", "Sales", ":material/payments:"),
            page("reports", "Reports", ":material/summarize:"),
        ]
    if caller.has("approver") or caller.has("admin"):
        sections["Control"].append(page("audit", "Audit", ":material/policy:"))
    if caller.has("admin"):
        sections["Control"].append(page("admin", "Admin", ":material/admin_panel_settings:"))
    return {name: [p for p in pages if p] for name, pages in sections.items() if any(pages)}


def read_secrets() -> dict:
    try:
        return st.secrets.to_dict()
    except Exception:  # no secrets.toml at all: the demo sign-in
        return {}


def only_page(render, title: str) -> None:
    """Show one page without the role navigation (sign-in, no access); st.navigation keeps pages/ out of the menu."""
    st.navigation([st.Page(render, title=title, url_path=title.lower().replace(" ", "-"))], position="hidden").run()


def startup_refused(exc: Exception) -> None:
    st.title("The console cannot start")
    if isinstance(exc, ValidationError):
        st.error(f"Settings are invalid: {exc.errors()[0]['msg']}", icon=":material/error:")
    else:
        render_error(exc)
    st.stop()


def oidc_sign_in_page() -> None:
    st.title("Operator Console")
    st.write("Sign in with your company account to continue.")
    if st.button("Sign in", type="primary", icon=":material/login:"):
        st.login()


def demo_sign_in_page() -> None:
    runtime = get_runtime()
    st.title("Operator Console")
    st.warning(
        "**Demo sign-in — configure [auth] for real sign-in.** Anyone who can open this page can act as any demo "
        "user. Copy `.streamlit/secrets.toml.example` to `.streamlit/secrets.toml` to use Google or another OIDC "
        "provider.",
        icon=":material/warning:",
    )
    st.subheader("Pick a demo user")
    for account in demo_accounts(runtime):
        with st.container(border=True):
            who, roles, sites, action = st.columns([3, 2, 2, 1], vertical_alignment="center")
            who.markdown(f"**{account.name}**  \n`{account.email}`")
            roles.markdown(", ".join(ROLE_LABELS.get(r, r) for r in sorted(account.roles)) or "no roles")
            sites.markdown("Sites: " + (", ".join(s.upper() for s in sorted(account.sites)) or "none"))
            if action.button("Sign in", key=f"demo-{account.email}", type="primary"):
                state = console_state()
                state.account = sign_in(runtime, email=account.email, name=account.name, mode=SignInMode.DEMO)
                state.mode = SignInMode.DEMO.value
                st.rerun()


def no_access_page() -> None:
    account = console_state().account
    st.title("No access yet")
    st.info(
        f"You are signed in as **{account.email}**, but no role or site has been granted to you yet. "
        "Ask an admin to grant you a role (seller, manager, approver or admin) and the sites you work on "
        "(Admin page → Users, or `python -m console users grant`). Then reload this page.",
        icon=":material/lock:",
    )


def sidebar(runtime, caller, state: ConsoleState) -> None:
    account = state.account
    with st.sidebar:
        st.markdown(f"**{account.name}**  \n{account.email}")
        st.caption("Roles: " + (", ".join(ROLE_LABELS.get(r, r) for r in sorted(caller.roles)) or "none"))
        sites = sorted(caller.sites)
        if sites:
            if st.session_state.get("active_site") not in sites:
                st.session_state["active_site"] = state.site if state.site in sites else sites[0]
            state.site = st.selectbox(
                "Active site",
                sites,
                key="active_site",
                format_func=lambda s: f"{s.upper()} ({SITE_CURRENCY.get(s, '')})",
                help="Chat and dashboards work on this site. Only the sites in your scope are listed.",
            )
        if caller.has("approver") and caller.sites:
            try:
                waiting = runtime.bridge.gate.pending_count(caller)
            except Exception as exc:  # the sidebar must not take the page down
                render_error(exc)
            else:
                st.page_link(
                    "pages/approvals.py",
                    label=f"Waiting for approval: {waiting}",
                    icon=":material/pending_actions:",
                )
        if state.mode == SignInMode.DEMO.value:
            st.caption(":orange[Demo sign-in]")
        if st.button("Sign out", icon=":material/logout:"):
            sign_out(runtime, email=account.email, mode=SignInMode(state.mode))
            mode = state.mode
            st.session_state.clear()
            if mode == SignInMode.OIDC.value:
                st.logout()  # clears the identity cookie and redirects; nothing more to draw
                st.stop()
            st.rerun()


def main() -> None:
    try:
        mode = sign_in_mode(Settings(), read_secrets())
        runtime = get_runtime()
    except (SignInMisconfigured, ValidationError) as exc:
        startup_refused(exc)
        return
    state = console_state()
    if mode is SignInMode.OIDC:
        if not st.user.is_logged_in:
            only_page(oidc_sign_in_page, "Sign in")
            return
        email = str(st.user.get("email") or "").strip().lower()
        if state.account is None or state.account.email != email:
            try:
                if "@" not in email:
                    raise AuthRequired("the identity provider sent no email address; add the `email` scope to "
                                       "the OIDC client (client_kwargs in [auth]) and sign in again")
                state.account = sign_in(runtime, email=email, name=st.user.get("name"), mode=mode)
            except ConsoleError as exc:
                only_page(partial(render_error, exc), "Sign-in failed")
                return
            state.mode = mode.value
    elif state.account is None:
        only_page(demo_sign_in_page, "Sign in")
        return
    caller = runtime.users.caller(state.account.email, "ui")
    if not caller.roles or not caller.sites:
        current = st.navigation([st.Page(no_access_page, title="No access", url_path="no-access")], position="hidden")
    else:
        current = st.navigation(navigation_for(caller))
    sidebar(runtime, caller, state)
    st.session_state[SHELL_KEY] = True
    try:
        current.run()
    finally:
        st.session_state[SHELL_KEY] = False


main()
