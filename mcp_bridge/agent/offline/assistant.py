"""The offline demo assistant: no API key needed, deterministic, same tools, same gate, same events as the agent."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

from mcp_bridge.agent.conversations import Conversations, TurnUsage
from mcp_bridge.agent.events import (
    AgentError,
    AgentEvent,
    TurnDone,
    Usage,
)
from mcp_bridge.agent.named_sites import choose_site
from mcp_bridge.agent.offline.ads_playbooks import HANDLERS
from mcp_bridge.agent.offline.help import HELP_EN, HELP_ZH
from mcp_bridge.agent.offline.intents import parse
from mcp_bridge.agent.offline.turn import Turn
from mcp_bridge.errors import SiteScopeRequired
from mcp_bridge.types import Caller

log = logging.getLogger(__name__)
LABEL = "Offline demo assistant — set ANTHROPIC_API_KEY to use Claude"
OFFLINE_MODEL = "offline"
# Said when the message names another of the caller's sites than the active one: the answer is for the named one.
NAMED_SITE = ("*Site {site}, as your message says (the active site is {active}).*\n\n",
              "*按你的消息使用 {site} 站点（当前站点为 {active}）。*\n\n")


class OfflineAgent:
    """Drop-in for `Agent` when no API key is configured (clearly labelled in every answer)."""

    model = OFFLINE_MODEL

    def __init__(self, bridge: Any, conversations: Conversations, *, today: dt.date | None = None) -> None:
        self.bridge, self.conversations, self.today = bridge, conversations, today

    def run_turn(self, caller: Caller, conversation_id: str | None, text: str, *, site: str) -> Iterator[AgentEvent]:
        if not caller.may_see(site):
            raise SiteScopeRequired(f"{caller.user} has no access to site {site}")
        choice = choose_site(text, caller, site)  # a site the message names wins; one outside the scope is refused
        if conversation_id is None:
            conversation_id = self.conversations.create(user=caller.user, site=choice.site, title=text, model=OFFLINE_MODEL).id
        else:
            self.conversations.get(conversation_id, user=caller.user)
        number = self.conversations.next_turn(conversation_id)
        self.conversations.append(conversation_id, role="user", content=[{"type": "text", "text": text}], turn=number)
        turn = Turn(self, caller, conversation_id, number, choice.site, text)
        try:
            if choice.refusal is not None:
                turn.error_code = SiteScopeRequired.code
                turn.keep(choice.refusal)  # the transcript shows it; nothing is answered for another site instead
                yield AgentError(turn.error_code, choice.refusal)
            else:
                yield from self._answer(turn, text, active=site)
        finally:  # also when the page stops listening half way
            turn.finish()
            self.conversations.record_turn(conversation_id, turn=number, model=OFFLINE_MODEL, rounds=0, usage=TurnUsage(),
                                           error_code=turn.error_code)
        yield Usage(0, 0, 0, 0, 0.0)
        yield TurnDone(conversation_id)

    def _answer(self, turn: Turn, text: str, *, active: str) -> Iterator[AgentEvent]:
        yield from turn.say(f"*{LABEL}*" + turn.t("", "（离线演示助手）") + "\n\n")
        if turn.site != active:
            yield from turn.say(turn.text(NAMED_SITE, site=turn.site.upper(), active=active.upper()))
        intent = parse(text)
        handler = HANDLERS.get(intent.kind) if intent else None
        if handler is None or intent is None:
            turn.error_code = "NOT_UNDERSTOOD"
            yield from turn.say(turn.t(
                f"I did not understand that request. I am a simple offline assistant, not Claude: I only know a few "
                f"fixed requests. Set ANTHROPIC_API_KEY (and restart the console) to chat with Claude.\n\n{HELP_EN}",
                f"抱歉，我没有理解这个请求。我是一个简单的离线助手（不是 Claude），只认识几类固定的请求。"
                f"设置 ANTHROPIC_API_KEY 并重启控制台即可与 Claude 对话。\n\n{HELP_ZH}"))
            return
        try:
            yield from handler(turn, **intent.params)
        except (KeyError, TypeError, ValueError) as exc:  # a tool answered in a shape this assistant does not know
            log.exception("offline handler %s failed", intent.kind)
            turn.error_code = "OFFLINE_FAILED"
            yield AgentError(turn.error_code, turn.t(f"The offline assistant could not read a tool's answer ({type(exc).__name__}).",
                                                     f"离线助手无法读取工具的返回（{type(exc).__name__}）。"))
        yield from turn.report_proposals()
