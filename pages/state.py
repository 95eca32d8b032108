"""The one session-state object, the process-wide runtime, and who is signed in — shared by every page."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import streamlit as st

from console.auth import Account
from console.chat_service import ChatService
from console.runtime import Runtime
from console.settings import Settings
from mcp_bridge.types import Caller

STATE_KEY = "console"
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


def console_state() -> ConsoleState:
    state = st.session_state.get(STATE_KEY)
    if not isinstance(state, ConsoleState):
        state = ConsoleState()
        st.session_state[STATE_KEY] = state
    return state


@st.cache_resource(show_spinner="Starting the console…")
def get_runtime() -> Runtime:
    """One runtime per process (database engine, MCP sessions); shared by all users, never mutated."""
    return Runtime.create(Settings())


def current_caller(role: str | tuple[str, ...] | None = None, *, channel: str = "ui") -> Caller:
    """The signed-in person as a bridge `Caller` (re-read from the database); stops a page they may not see.

    Pages only run inside app.py's shell. With a `pages/` folder next to app.py, Streamlit runs a requested
    page file directly (its old pages-directory mode) until the first st.navigation call of the process;
    such a run has no signed-in shell around it, so it is sent to app.py instead.
    """
    if not st.session_state.get(SHELL_KEY):
        st.switch_page("app.py")
    state = console_state()
    if state.account is None:
        st.stop()
    caller = get_runtime().users.caller(state.account.email, channel)
    roles = (role,) if isinstance(role, str) else role
    if roles and not any(caller.has(r) for r in roles):
        st.error(f"This page needs the {' or '.join(roles)} role. Ask an admin to grant it on the Admin page.",
                 icon=":material/lock:")
        st.stop()
    return caller


def active_site() -> str | None:
    return console_state().site


def flash(message: str) -> None:
    """Show `message` once, after the next rerun (st.toast survives st.rerun only this way)."""
    console_state().flash = message


@st.cache_resource(show_spinner=False)
def get_chat() -> ChatService:
    """The process's chat service (agent + conversation store); built once from the runtime's settings."""
    return ChatService(get_runtime())
