"""The operator console in the browser: sign-in, navigation built per role, the sidebar."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import streamlit as st
from pydantic import ValidationError

from console.auth import (
    DEMO_COOKIE,
    DEMO_COOKIE_TTL_S,
    EmailNotVerified,
    SignInMisconfigured,
    SignInMode,
    demo_accounts,
    demo_cookie,
    restore_demo_sign_in,
    sign_in,
    sign_in_mode,
    sign_out,
)
from console.errors import AuthRequired, ConsoleError
from console.i18n import LANGUAGES, N_, NC_, PAGE, _, current, pgettext
from console.logs import configure_logging
from console.settings import Settings
from mcp_bridge.types import Caller
from pages.components import SITE_CURRENCY, render_error
from pages.state import (
    SHELL_KEY,
    ConsoleState,
    console_state,
    get_runtime,
    read_cookie,
    site_select,
    speak,
    write_cookie,
)

st.set_page_config(page_title="Operator Console", page_icon=":material/storefront:", layout="wide")

HERE = Path(__file__).parent
ROLE_LABELS = {"seller": N_("Seller"), "manager": N_("Manager"), "approver": N_("Approver"), "admin": N_("Admin")}
NEXT_COOKIE = "console_next_page"  # the page a link asked for, across the identity provider's round trip
NEXT_COOKIE_TTL_S = 600
# Every page: its file in pages/ (also its URL path), title, icon, section, and the roles that open it (admin holds
# every role). Managers live on the dashboards; sellers act from them (their alert panels propose fixes).
PAGES: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("home", NC_("page", "Home"), ":material/home:", N_("Work"), ()),
    ("chat", NC_("page", "Chat"), ":material/forum:", N_("Work"), ("seller",)),
    ("my_requests", NC_("page", "My requests"), ":material/outbox:", N_("Work"), ("seller",)),
    ("approvals", NC_("page", "Approvals"), ":material/task_alt:", N_("Work"), ("approver",)),
    ("ads", NC_("page", "Ads"), ":material/campaign:", N_("Dashboards"), ("manager", "seller")),
    ("inventory", NC_("page", "Inventory"), ":material/inventory_2:", N_("Dashboards"), ("manager", "seller")),
    ("sales", NC_("page", "Sales"), ":material/payments:", N_("Dashboards"), ("manager", "seller")),
    ("reports", NC_("page", "Reports"), ":material/summarize:", N_("Dashboards"), ("manager", "seller")),
    ("audit", NC_("page", "Audit"), ":material/policy:", N_("Control"), ("approver", "admin")),
    ("admin", NC_("page", "Admin"), ":material/admin_panel_settings:", N_("Control"), ("admin",)),
    ("gateway", NC_("page", "Gateway"), ":material/hub:", N_("Control"), ("admin",)),
)
SECTIONS = (N_("Work"), N_("Dashboards"), N_("Control"))
PAGE_ROLES = {name: roles for name, _, _, _, roles in PAGES}


def navigation_for(caller) -> dict[str, list[st.Page]]:
    """What each role sees (see docs in pages/home.py); a page only when its file is in this build."""
    sections: dict[str, list[st.Page]] = {_(section): [] for section in SECTIONS}
    for name, title, icon, section, roles in PAGES:
        if (not roles or any(caller.has(r) for r in roles)) and (HERE / "pages" / f"{name}.py").exists():
            sections[_(section)].append(st.Page(f"pages/{name}.py", title=pgettext(PAGE, title), icon=icon, url_path=name,
                                                default=name == "home"))
    return {name: pages for name, pages in sections.items() if pages}


def at_every_path(render, title: str) -> list[st.Page]:
    """`render` at the root and at every page's URL, so a link to /approvals keeps its URL through the sign-in and
    the page opens once signed in (a page's identity is its URL path)."""
    return [st.Page(render, title=title, url_path=name, default=name == "home") for name, *_ in PAGES]


def read_secrets() -> dict:
    try:
        return st.secrets.to_dict()
    except Exception:  # no secrets.toml at all: the demo sign-in
        return {}


def only_page(render, title: str, *, remember_path: bool = False) -> None:
    """Show one page, whatever the URL, without the role navigation (sign-in, no access); st.navigation keeps pages/
    out of the menu. `remember_path`: the browser keeps the URL's page for after the identity provider's round trip."""
    current = st.navigation(at_every_path(render, title), position="hidden")
    if remember_path and current.url_path:
        write_cookie(NEXT_COOKIE, current.url_path, max_age_s=NEXT_COOKIE_TTL_S)
    current.run()


def startup_refused(exc: Exception) -> None:
    st.title(_("The console cannot start"))
    if isinstance(exc, ValidationError):
        st.error(_("Settings are invalid: {problem}").format(problem=exc.errors()[0]["msg"]), icon=":material/error:")
    else:
        render_error(exc)
    st.stop()


def oidc_sign_in_page() -> None:
    st.title(_("Operator Console"))
    st.write(_("Sign in with your company account to continue."))
    if st.button(_("Sign in"), type="primary", icon=":material/login:"):
        st.login()


def sign_in_refused_page(exc: EmailNotVerified) -> None:
    # Not render_error: its AUTH_REQUIRED advice (sign out from the sidebar, sign in again) cannot help here.
    st.title(_("Sign-in refused"))
    st.error(f"**{exc.code}** — {exc.message}", icon=":material/gpp_bad:")
    if st.button(_("Sign in with another account"), type="primary", icon=":material/logout:"):
        st.logout()  # clears the identity cookie, so the provider asks again


def demo_sign_in_page() -> None:
    runtime = get_runtime()
    st.title(_("Operator Console"))
    st.warning(
        _("**Demo sign-in — configure [auth] for real sign-in.** Anyone who can open this page can act as any demo "
          "user. Copy `.streamlit/secrets.toml.example` to `.streamlit/secrets.toml` to use Google or another OIDC "
          "provider."),
        icon=":material/warning:",
    )
    st.subheader(_("Pick a demo user"))
    for account in demo_accounts(runtime):
        with st.container(border=True):
            who, roles, sites, action = st.columns([3, 2, 2, 1], vertical_alignment="center")
            who.markdown(f"**{account.name}**  \n`{account.email}`")
            roles.markdown(roles_text(Caller.of(account.email, account.site_roles)) if account.site_roles
                           else _(", ").join(_(ROLE_LABELS.get(r, r)) for r in sorted(account.roles))
                           or _("no roles"))
            sites.markdown(_("Sites: {sites}").format(
                sites=", ".join(s.upper() for s in sorted(account.sites)) or _("none")))
            if action.button(_("Sign in"), key=f"demo-{account.email}", type="primary"):
                state = console_state()
                state.account = sign_in(runtime, email=account.email, name=account.name, mode=SignInMode.DEMO)
                state.mode = SignInMode.DEMO.value
                state.cookie = demo_cookie(runtime.settings, account.email)
                state.forget_cookies = tuple(c for c in state.forget_cookies if c != DEMO_COOKIE)
                st.rerun()


def no_access_page() -> None:
    account = console_state().account
    st.title(_("No access yet"))
    st.info(
        _("You are signed in as **{email}**, but no role or site has been granted to you yet. "
          "Ask an admin to grant you a role (seller, manager, approver or admin) and the sites you work on "
          "(Admin page → Users, or `python -m console users grant`). Then reload this page.").format(
            email=account.email),
        icon=":material/lock:",
    )


def roles_text(caller) -> str:
    """`Approver, Seller` — or, when the roles differ between sites, `Approver (US) · Seller (DE)`."""
    parts = []
    for role in sorted(caller.roles):
        held = sorted(s for s in caller.sites if role in caller.roles_on(s))
        where = "" if set(held) == set(caller.sites) else f" ({', '.join(s.upper() for s in held)})"
        parts.append(_(ROLE_LABELS.get(role, role)) + where)
    return (" · " if any("(" in p for p in parts) else _(", ")).join(parts) or _("none")


def page_sites(caller, page: st.Page) -> list[str]:
    """The sites the page works on: those where the caller holds one of the roles that open it."""
    roles = PAGE_ROLES.get(page.url_path or "home", ())
    return sorted(caller.sites_with(*roles) if roles else caller.sites)


def browser_cookies(state: ConsoleState) -> None:
    """What the browser should keep (the demo sign-in) and forget (after a sign-out, a used link)."""
    if state.cookie and state.mode == SignInMode.DEMO.value:
        write_cookie(DEMO_COOKIE, state.cookie, max_age_s=DEMO_COOKIE_TTL_S)
    for name in state.forget_cookies:
        write_cookie(name, None)


def language_select(runtime, state: ConsoleState) -> None:
    """English or 中文 for this person: kept in their profile, so every session and device opens in it."""

    def chosen() -> None:
        state.language = st.session_state["ui_language"]
        try:
            runtime.users.set_language(state.account.email, state.language, actor=state.account.email)
        except ConsoleError as exc:  # the choice still holds for this session
            render_error(exc)

    st.selectbox("Language · 语言", list(LANGUAGES), index=list(LANGUAGES).index(current()),
                 format_func=LANGUAGES.get, key="ui_language", on_change=chosen)


def sidebar(runtime, caller, state: ConsoleState, page: st.Page) -> None:
    account = state.account
    with st.sidebar:
        st.markdown(f"**{account.name}**  \n{account.email}")
        st.caption(_("Roles: {roles}").format(roles=roles_text(caller)))
        sites = page_sites(caller, page)
        if sites:
            site_select(sites, key="active_site", label=_("Active site"),
                        format_func=lambda s: f"{s.upper()} ({SITE_CURRENCY.get(s, '')})",
                        help=_("Chat and dashboards work on this site. Listed: the sites of your scope where your "
                               "roles open this page."))
        if caller.has("approver") and caller.sites_with("approver"):
            try:
                waiting = runtime.bridge.gate.pending_count(caller)
            except Exception as exc:  # the sidebar must not take the page down
                render_error(exc)
            else:
                st.page_link(
                    "pages/approvals.py",
                    label=_("Waiting for approval: {count}").format(count=waiting),
                    icon=":material/pending_actions:",
                )
        if state.mode == SignInMode.DEMO.value:
            st.caption(":orange[{label}]".format(label=_("Demo sign-in")))
        language_select(runtime, state)
        if st.button(_("Sign out"), icon=":material/logout:"):
            sign_out(runtime, email=account.email, mode=SignInMode(state.mode))
            mode = state.mode
            st.session_state.clear()
            if mode == SignInMode.OIDC.value:
                st.logout()  # clears the identity cookie and redirects; nothing more to draw
                st.stop()
            after = console_state()
            after.cookies_read = True  # this session's cookies still hold the sign-in just ended
            after.forget_cookies = (DEMO_COOKIE,)
            st.rerun()
        browser_cookies(state)


def landing_page(state: ConsoleState, navigation: dict[str, list[st.Page]], current: st.Page) -> st.Page | None:
    """The page a link asked for before the identity provider's round trip (which lands on the root), once."""
    if state.next_page_read:
        return None
    state.next_page_read = True
    wanted = read_cookie(NEXT_COOKIE)
    if not wanted:
        return None
    state.forget_cookies = (*state.forget_cookies, NEXT_COOKIE)
    pages = {p.url_path: p for section in navigation.values() for p in section}
    return pages.get(wanted) if current.url_path == "" else None


def main() -> None:
    configure_logging()
    speak()  # the browser's language until the person (and their profile's choice) is known
    try:
        mode = sign_in_mode(Settings(), read_secrets())
        runtime = get_runtime()
    except (SignInMisconfigured, ValidationError) as exc:
        startup_refused(exc)
        return
    state = console_state()
    if mode is SignInMode.OIDC:
        if not st.user.is_logged_in:
            only_page(oidc_sign_in_page, _("Sign in"), remember_path=True)
            return
        email = str(st.user.get("email") or "").strip().lower()
        if state.account is None or state.account.email != email:
            try:
                if "@" not in email:
                    raise AuthRequired(_("the identity provider sent no email address; add the `email` scope to "
                                         "the OIDC client (client_kwargs in [auth]) and sign in again"))
                state.account = sign_in(runtime, email=email, name=st.user.get("name"), mode=mode,
                                        email_verified=st.user.get("email_verified"))
            except EmailNotVerified as exc:
                only_page(partial(sign_in_refused_page, exc), _("Sign-in refused"))
                return
            except ConsoleError as exc:
                only_page(partial(render_error, exc), _("Sign-in failed"))
                return
            state.mode = mode.value
    elif state.account is None:
        if not state.cookies_read:  # a reload or a link opens a new session: the browser's cookie signs in again
            state.cookies_read = True
            value = read_cookie(DEMO_COOKIE)
            try:
                state.account = restore_demo_sign_in(runtime, value)
            except ConsoleError:
                state.account = None
            if state.account is not None:
                state.mode, state.cookie = SignInMode.DEMO.value, value
        if state.account is None:
            browser_cookies(state)
            only_page(demo_sign_in_page, _("Sign in"))
            return
    if state.language is None and state.account.language:
        state.language = state.account.language
        speak()
    caller = runtime.users.caller(state.account.email, "ui")
    if not caller.roles or not caller.sites:
        navigation = {"": at_every_path(no_access_page, _("No access"))}
        current = st.navigation(navigation, position="hidden")
    else:
        navigation = navigation_for(caller)
        current = st.navigation(navigation)
        if mode is SignInMode.OIDC and (target := landing_page(state, navigation, current)) is not None:
            st.switch_page(target)
    sidebar(runtime, caller, state, current)  # its site picker moves the active site to where this page works
    st.session_state[SHELL_KEY] = True
    try:
        current.run()
    finally:
        st.session_state[SHELL_KEY] = False


main()
