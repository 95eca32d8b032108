"""The one session-state object, the process-wide runtime, who is signed in and the active site — shared by every
page."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from console.auth import Account
from console.chat_service import ChatService
from console.i18n import _, language_from_accept, use
from console.runtime import Runtime, process_runtime
from console.settings import Settings
from mcp_bridge.types import Caller

STATE_KEY = "console"
COOKIE_TEXT = re.compile(r"^[A-Za-z0-9._-]*$")  # nothing to escape in a cookie or in the script that writes it
SHELL_KEY = "console_shell"  # set by app.py while it runs the chosen page


@dataclass
class ConsoleState:
    """Everything a session remembers, under st.session_state["console"]."""

    account: Account | None = None
    mode: str | None = None  # "oidc" | "demo"
    site: str | None = None
    conversation_id: str | None = None
    tool_durations: dict[str, float] = field(default_factory=dict)  # call id → ms, for steps of past turns
    chat_error: str | None = None  # the last turn's error, shown under the transcript
    turn_running: bool = False  # set while a chat turn streams; still set on the next run = it was stopped
    turn_done: threading.Event | None = None  # set once the streaming run has let go of its turn (saved it)
    flash: str | None = None  # a one-shot success message shown after a rerun
    cookie: str | None = None  # the demo sign-in cookie the browser keeps while signed in (written each run)
    # The cookies this session was opened with (st.context.cookies) are read once: after a sign-out they are stale.
    cookies_read: bool = False
    next_page_read: bool = False  # the page a link asked for before the identity provider's round trip, once
    forget_cookies: tuple[str, ...] = ()  # cookies the browser drops on the next run (signed out; a page link used)
    language: str | None = None  # chosen in the sidebar or the profile; None: the browser's Accept-Language


def console_state() -> ConsoleState:
    state = st.session_state.get(STATE_KEY)
    if not isinstance(state, ConsoleState):
        state = ConsoleState()
        st.session_state[STATE_KEY] = state
    return state


def speak() -> str:
    """Translate this run (or fragment run) into the session's language: the one chosen, else the browser's."""
    chosen = console_state().language
    return use(chosen or language_from_accept(st.context.headers.get("Accept-Language")))


@st.cache_resource(show_spinner="Starting the console…")
def get_runtime() -> Runtime:
    """One runtime per process (database engine, MCP sessions): the one `python -m console serve` made while the
    server started, else made now; shared by all users, never mutated."""
    return process_runtime(Settings())


def current_caller(role: str | tuple[str, ...] | None = None, *, channel: str = "ui") -> Caller:
    """The signed-in person as a bridge `Caller` (re-read from the database); stops a page they may not see.

    Pages only run inside app.py's shell. With a `pages/` folder next to app.py, Streamlit runs a requested
    page file directly (its old pages-directory mode) until the first st.navigation call of the process;
    such a run has no signed-in shell around it. It leaves that mode as st.navigation does and runs again:
    app.py then opens this same page (a page is known by its URL path), so a link keeps its page.
    """
    if not st.session_state.get(SHELL_KEY):
        PagesManager.uses_pages_directory = False
        st.rerun()
    state = console_state()
    if state.account is None:
        st.stop()
    caller = get_runtime().users.caller(state.account.email, channel)
    roles = (role,) if isinstance(role, str) else role
    if roles and not any(caller.has(r) for r in roles):
        st.error(_("This page needs the {roles} role. Ask an admin to grant it on the Admin page.").format(
            roles=_(" or ").join(roles)), icon=":material/lock:")
        st.stop()
    # Roles are per site: a page for approvers works on the sites where the person approves, and only those.
    return replace(caller, sites=caller.sites_with(*roles)) if roles else caller


def active_site() -> str | None:
    """The one active site, shared by the sidebar and every page's own site picker."""
    return console_state().site


def site_select(sites: list[str], *, key: str, label: str | None = None, where: Any = None,
                format_func: Callable[[str], str] = str.upper, **kwargs: Any) -> str:
    """A site picker bound to the active site: it shows the active site (when listed) and choosing makes it active."""
    state = console_state()
    current = state.site if state.site in sites else sites[0]
    state.site = current
    if st.session_state.get(key) != current:  # set before the widget exists: how a widget is moved by code
        st.session_state[key] = current

    def chosen() -> None:  # runs before the rerun, so everything drawn next (the sidebar first) shows the choice
        console_state().site = st.session_state[key]

    return (where or st).selectbox(label or _("Site"), sites, key=key, on_change=chosen, format_func=format_func,
                                   **kwargs)


def read_cookie(name: str) -> str | None:
    """A cookie the browser sent when this session opened (None: not sent, or no browser, as under AppTest)."""
    try:
        value = st.context.cookies.get(name)
    except Exception:  # no client behind this session
        return None
    return value if isinstance(value, str) else None


def write_cookie(name: str, value: str | None, *, max_age_s: int = 0) -> None:
    """Have the browser keep (None: drop) a cookie of the console; the next session reads it in st.context.cookies.

    Streamlit sets no cookie of its own for an app, so a line of script on the page does it.
    """
    if not COOKIE_TEXT.match(name) or not COOKIE_TEXT.match(value or ""):
        raise ValueError("a console cookie is letters, digits, '.', '_' and '-' only")
    text = f"{name}={value or ''}; Max-Age={max_age_s if value else 0}; Path=/; SameSite=Lax"
    script = f"document.cookie = {json.dumps(text)} + (location.protocol === 'https:' ? '; Secure' : '');"
    st.html(f"<script>{script}</script>", unsafe_allow_javascript=True, width=1)


def flash(message: str) -> None:
    """Show `message` once, after the next rerun (st.toast survives st.rerun only this way)."""
    console_state().flash = message


@st.cache_resource(show_spinner=False)
def get_chat() -> ChatService:
    """The process's chat service (agent + conversation store); built once from the runtime's settings."""
    return ChatService(get_runtime())
