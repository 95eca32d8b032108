"""Chat: ask in plain language; tool calls show as steps; proposed changes show as cards with live status."""

from __future__ import annotations

import threading
from collections import Counter
from contextlib import closing

import streamlit as st

from console import formatting
from console.approvals.queue import OPEN_STATUSES
from console.chat_service import QUICK_ACTIONS, Step
from mcp_bridge.agent.events import AgentError, OperationProposed, TextDelta, ToolFinished, ToolStarted, TurnDone
from mcp_bridge.errors import SiteScopeRequired
from pages.components import STATUS_BADGES, empty_state, operation_card, page_header, render_error
from pages.state import active_site, console_state, current_caller, get_chat, get_runtime

runtime = get_runtime()
chat = get_chat()
caller = current_caller("seller", channel="chat")
state = console_state()
site = active_site()
STATUS_ICONS = {"ok": ":material/check_circle:", "pending": ":material/pending_actions:", "error": ":material/error:"}
STOP_WAIT_S = 60.0  # the longest a stopped turn may take to reach its next step (a tool call in flight)

page_header("Chat", f"Working on site {site.upper()} — reads run at once; every change waits for an approver.")
if chat.offline:
    st.info("**Offline demo assistant** — no Claude API key is configured, so a built-in assistant answers the "
            "common requests (try the quick actions). Set `ANTHROPIC_API_KEY` for the server to chat with Claude.",
            icon=":material/smart_toy:")


@st.fragment(run_every=5)
def live_operations(op_ids: list[int]) -> None:
    """Cards of operations still open, re-read from the gate every few seconds until they are decided."""
    operations(op_ids)


def operations(op_ids: list[int]) -> None:
    try:
        ops = [runtime.bridge.gate.get(op_id) for op_id in op_ids]
    except Exception as exc:
        render_error(exc)
        return
    if len(ops) <= 3:
        for op in ops:
            operation_card(op, compact=True)
        return
    counts = Counter(STATUS_BADGES.get(op.status, (op.status,))[0].lower() for op in ops)
    label = f"{len(ops)} proposed changes — " + ", ".join(f"{n} {status}" for status, n in counts.most_common())
    with st.expander(label, icon=":material/pending_actions:"):
        for op in ops:
            operation_card(op, compact=True)


def step_label(step: Step) -> str:
    took = state.tool_durations.get(step.call_id)
    label = step.name + (f" · {formatting.duration_ms(took)}" if took is not None else "")
    if step.operation_id:
        label += f" · pending approval #{step.operation_id}"
    return label + (" · error" if step.status == "error" else "")


def step_body(step: Step) -> None:
    st.caption("Arguments")
    st.json(step.arguments, expanded=1)
    st.caption("Result")
    st.code(step.result[:3000] or "(no result)", language=None, wrap_lines=True)


def steps_view(steps: list[Step]) -> None:
    """Each tool call as a collapsible step; a long run of calls folds into one step listing them all."""
    if len(steps) <= 4:
        for step in steps:
            with st.expander(step_label(step), icon=STATUS_ICONS.get(step.status, ":material/build:")):
                step_body(step)
        return
    errors = sum(step.status == "error" for step in steps)
    label = f"{len(steps)} tool calls" + (f" ({errors} refused)" if errors else "")
    with st.expander(label, icon=":material/build:"):
        for step in steps:
            st.markdown(f"**{step_label(step)}**")
            step_body(step)


stopped = state.turn_running  # the last run ended inside a turn: Stop was pressed (or the person left the page)
if stopped and state.turn_done is not None and not state.turn_done.is_set():
    # Streamlit starts this run at once; the stopped one saves what was said (and its tokens) at its next step.
    with st.spinner("Stopping the answer…"):
        state.turn_done.wait(timeout=STOP_WAIT_S)
conversations = chat.list_for(caller.user)
if stopped:
    state.turn_running = False
    if state.conversation_id is None and conversations:  # a new conversation's id arrives only at the turn's end
        state.conversation_id = conversations[0].id
    st.info("Stopped. What was said so far is kept; ask again, or say \"continue\".", icon=":material/stop_circle:")
ids = [None, *[c.id for c in conversations]]
titles = {c.id: f"{c.title[:60]} · {c.updated_at:%b %d %H:%M}" for c in conversations}
if state.conversation_id not in ids:
    state.conversation_id = None
pick, new = st.columns([5, 1], vertical_alignment="bottom")
state.conversation_id = pick.selectbox("Conversation", ids, index=ids.index(state.conversation_id),
                                       format_func=lambda i: titles.get(i, "New conversation"))
if new.button("New", icon=":material/add:", width="stretch"):
    state.conversation_id, state.chat_error = None, None
    st.rerun()

current = next((c for c in conversations if c.id == state.conversation_id), None)
if current is not None:
    t, turns = current.totals, f"{current.turns} turn" + ("s" if current.turns != 1 else "")
    if current.model == "offline":
        st.caption(f"This conversation: {turns} with the offline assistant — no tokens, no cost.")
    else:
        st.caption(f"This conversation: {turns} · {formatting.count(t.input)} input · {formatting.count(t.output)} "
                   f"output · {formatting.count(t.cache_read)} cache-read · {formatting.count(t.cache_write)} "
                   f"cache-write tokens · cost ${t.cost_usd:,.4f} · model {current.model}")
    for message in chat.transcript(current.id, user=caller.user):
        with st.chat_message(message.role):
            run: list[Step] = []
            for part in [*message.parts, ""]:
                if isinstance(part, Step):
                    run.append(part)
                    continue
                if run:
                    steps_view(run)
                    run = []
                if part:
                    st.markdown(part)
            op_ids = [step.operation_id for step in message.steps if step.operation_id]
            if op_ids:
                still_open = any(runtime.bridge.gate.get(i).status in OPEN_STATUSES for i in op_ids)
                (live_operations if still_open else operations)(op_ids)
else:
    empty_state("Start a conversation", "Ask about campaigns, keywords, orders or stock on the active site (or name "
                "another of your sites: \"… on US\"), or pick a quick action. Changes you ask for become pending cards "
                "for an approver.")
if state.chat_error:
    st.error(state.chat_error, icon=":material/error:")

st.caption("Quick actions")
prompt = None
for column, (label, text) in zip(st.columns(len(QUICK_ACTIONS)), QUICK_ACTIONS, strict=True):
    if column.button(label, key=f"quick-{label}", width="stretch", help=text):
        prompt = text
prompt = st.chat_input("Ask about ads, orders or stock…") or prompt

if prompt:
    state.chat_error = None
    with st.chat_message("user"):
        st.markdown(prompt)
    with st.chat_message("assistant"):
        text, area, steps = "", None, {}
        # Any click re-runs the page and so ends this run at its next st.* call; the agent then keeps what was said.
        st.button("Stop", key="chat-stop", icon=":material/stop_circle:", help="Stop this answer")
        state.turn_running, done = True, threading.Event()
        state.turn_done = done
        try:
            with closing(chat.run_turn(caller, state.conversation_id, prompt, site=site)) as events:
                for event in events:
                    if isinstance(event, TextDelta):
                        area = area or st.empty()
                        text += event.text
                        area.markdown(text + "▌")
                    elif isinstance(event, ToolStarted):
                        if area is not None:
                            area.markdown(text)
                        text, area = "", None
                        steps[event.call_id] = st.status(f"{event.name}…", expanded=False)
                        steps[event.call_id].json(event.arguments, expanded=1)
                    elif isinstance(event, ToolFinished):
                        state.tool_durations[event.call_id] = event.duration_ms
                        box = steps.get(event.call_id) or st.status(event.name)
                        box.caption(event.summary)
                        box.update(label=f"{event.name} · {formatting.duration_ms(event.duration_ms)}",
                                   state="error" if event.status == "error" else "complete")
                    elif isinstance(event, OperationProposed):
                        st.caption(f"Change #{event.operation_id} is waiting for approval.")
                    elif isinstance(event, AgentError) and event.code == SiteScopeRequired.code:
                        # A site outside the scope is said here and kept in the transcript, not shown as a failure.
                        st.warning(event.message, icon=":material/block:")
                    elif isinstance(event, AgentError):
                        state.chat_error = event.message
                    elif isinstance(event, TurnDone):
                        state.conversation_id = event.conversation_id
        except Exception as exc:
            state.turn_running = False
            render_error(exc)
            st.stop()
        finally:  # also when Stop ends this run: the next run waits for this
            done.set()
        state.turn_running = False
        if area is not None:
            area.markdown(text)
    st.rerun()
