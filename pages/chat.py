"""Chat: ask in plain language; tool calls show as steps; proposed changes show as cards with live status."""

from __future__ import annotations

import threading
from collections import Counter
from contextlib import closing

import streamlit as st

from console import formatting
from console.approvals.queue import OPEN_STATUSES
from console.chat_service import QUICK_ACTIONS, Step
from console.i18n import _, ngettext, pgettext
from mcp_bridge.agent.events import AgentError, OperationProposed, TextDelta, ToolFinished, ToolStarted, TurnDone
from mcp_bridge.errors import SiteScopeRequired
from pages.components import STATUS_BADGES, empty_state, operation_card, page_header, render_error
from pages.state import active_site, console_state, current_caller, get_chat, get_runtime, speak

runtime = get_runtime()
chat = get_chat()
caller = current_caller("seller", channel="chat")
state = console_state()
site = active_site()
STATUS_ICONS = {"ok": ":material/check_circle:", "pending": ":material/pending_actions:", "error": ":material/error:"}
STOP_WAIT_S = 60.0  # the longest a stopped turn may take to reach its next step (a tool call in flight)

page_header(pgettext("page", "Chat"), _("Working on site {site} — reads run at once; every change waits for an approver.").format(
    site=site.upper()))
if chat.offline:
    st.info(_("**Offline demo assistant** — no Claude API key is configured, so a built-in assistant answers the "
              "common requests (try the quick actions). Set `ANTHROPIC_API_KEY` for the server to chat with "
              "Claude."), icon=":material/smart_toy:")


@st.fragment(run_every=5)
def live_operations(op_ids: list[int]) -> None:
    """Cards of operations still open, re-read from the gate every few seconds until they are decided."""
    speak()  # a fragment's rerun does not pass through app.py: set the reader's language first
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
    counts = Counter(_(STATUS_BADGES[op.status][0]).lower() if op.status in STATUS_BADGES else op.status
                     for op in ops)
    statuses = ", ".join(_("{count} {status}").format(count=n, status=status) for status, n in counts.most_common())
    label = ngettext("{count} proposed change — {statuses}", "{count} proposed changes — {statuses}",
                     len(ops)).format(count=len(ops), statuses=statuses)
    with st.expander(label, icon=":material/pending_actions:"):
        for op in ops:
            operation_card(op, compact=True)


def step_label(step: Step) -> str:
    took = state.tool_durations.get(step.call_id)
    label = step.name + (f" · {formatting.duration_ms(took)}" if took is not None else "")
    if step.operation_id:
        label += " · " + _("pending approval #{id}").format(id=step.operation_id)
    return label + (" · " + _("error") if step.status == "error" else "")


def step_body(step: Step) -> None:
    st.caption(_("Arguments"))
    st.json(step.arguments, expanded=1)
    st.caption(_("Result"))
    st.code(step.result[:3000] or _("(no result)"), language=None, wrap_lines=True)


def steps_view(steps: list[Step]) -> None:
    """Each tool call as a collapsible step; a long run of calls folds into one step listing them all."""
    if len(steps) <= 4:
        for step in steps:
            with st.expander(step_label(step), icon=STATUS_ICONS.get(step.status, ":material/build:")):
                step_body(step)
        return
    errors = sum(step.status == "error" for step in steps)
    label = (ngettext("{count} tool call ({errors} refused)", "{count} tool calls ({errors} refused)", len(steps))
             if errors else ngettext("{count} tool call", "{count} tool calls", len(steps))).format(
        count=len(steps), errors=errors)
    with st.expander(label, icon=":material/build:"):
        for step in steps:
            st.markdown(f"**{step_label(step)}**")
            step_body(step)


stopped = state.turn_running  # the last run ended inside a turn: Stop was pressed (or the person left the page)
if stopped and state.turn_done is not None and not state.turn_done.is_set():
    # Streamlit starts this run at once; the stopped one saves what was said (and its tokens) at its next step.
    with st.spinner(_("Stopping the answer…")):
        state.turn_done.wait(timeout=STOP_WAIT_S)
conversations = chat.list_for(caller.user)
if stopped:
    state.turn_running = False
    if state.conversation_id is None and conversations:  # a new conversation's id arrives only at the turn's end
        state.conversation_id = conversations[0].id
    st.info(_("Stopped. What was said so far is kept; ask again, or say \"continue\"."), icon=":material/stop_circle:")
ids = [None, *[c.id for c in conversations]]
titles = {c.id: f"{c.title[:60]} · {c.updated_at:%b %d %H:%M}" for c in conversations}
if state.conversation_id not in ids:
    state.conversation_id = None
pick, new = st.columns([5, 1], vertical_alignment="bottom")
state.conversation_id = pick.selectbox(_("Conversation"), ids, index=ids.index(state.conversation_id),
                                       format_func=lambda i: titles.get(i, _("New conversation")))
if new.button(_("New"), icon=":material/add:", width="stretch"):
    state.conversation_id, state.chat_error = None, None
    st.rerun()

current = next((c for c in conversations if c.id == state.conversation_id), None)
if current is not None:
    t = current.totals
    if current.model == "offline":
        st.caption(ngettext("This conversation: {count} turn with the offline assistant — no tokens, no cost.",
                            "This conversation: {count} turns with the offline assistant — no tokens, no cost.",
                            current.turns).format(count=current.turns))
    else:
        st.caption(ngettext(
            "This conversation: {count} turn · {input} input · {output} output · {cache_read} cache-read · "
            "{cache_write} cache-write tokens · cost {cost} · model {model}",
            "This conversation: {count} turns · {input} input · {output} output · {cache_read} cache-read · "
            "{cache_write} cache-write tokens · cost {cost} · model {model}", current.turns).format(
            count=current.turns, input=formatting.count(t.input), output=formatting.count(t.output),
            cache_read=formatting.count(t.cache_read), cache_write=formatting.count(t.cache_write),
            cost=f"${t.cost_usd:,.4f}", model=current.model))
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
    empty_state(_("Start a conversation"), _("Ask about campaigns, keywords, orders or stock on the active site (or "
                                             "name another of your sites: \"… on US\"), or pick a quick action. "
                                             "Changes you ask for become pending cards for an approver."))
if state.chat_error:
    st.error(state.chat_error, icon=":material/error:")

st.caption(_("Quick actions"))
prompt = None
# The label and its tooltip in the reader's language; the prompt sent stays English (the offline assistant reads it).
for column, (label, text) in zip(st.columns(len(QUICK_ACTIONS)), QUICK_ACTIONS, strict=True):
    if column.button(_(label), key=f"quick-{label}", width="stretch", help=_(text)):
        prompt = _(text)  # asked in the reader's language: both assistants understand English and Chinese
prompt = st.chat_input(_("Ask about ads, orders or stock…")) or prompt

if prompt:
    state.chat_error = None
    with st.chat_message("user"):
        st.markdown(prompt)
    with st.chat_message("assistant"):
        text, area, steps = "", None, {}
        # Any click re-runs the page and so ends this run at its next st.* call; the agent then keeps what was said.
        st.button(_("Stop"), key="chat-stop", icon=":material/stop_circle:", help=_("Stop this answer"))
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
                        st.caption(_("Change #{id} is waiting for approval.").format(id=event.operation_id))
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
