"""The offline demo assistant: no API key needed, deterministic, same tools, same gate, same events as the agent."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Callable, Generator, Iterator
from typing import Any

from mcp_bridge.conversations import Conversations, TurnUsage
from mcp_bridge.errors import ConsoleError, SiteScopeRequired
from mcp_bridge.events import (
    AgentError,
    AgentEvent,
    OperationProposed,
    TextDelta,
    ToolFinished,
    ToolStarted,
    TurnDone,
    Usage,
)
from mcp_bridge.offline_intents import language, parse
from mcp_bridge.prompt import tool_result_block
from mcp_bridge.types import Caller, Source, ToolOutcome

MAX_PROPOSALS = 10  # per kind of change and turn: a reviewable batch
log = logging.getLogger(__name__)
LABEL = "Offline demo assistant — set ANTHROPIC_API_KEY to use Claude"
OFFLINE_MODEL = "offline"

HELP_EN = """I understand these requests (English or Chinese):
- show the 5 campaigns with the highest ACOS in the last 7 days
- which keywords have ACOS > 30%?
- lower the bid of keyword 'yoga mat' to $1.20 (or keyword #123)
- add 'free' as a negative keyword (the site's auto campaigns, or "in campaign 12")
- harvest search terms · clean up wasted spend · optimise bids · move budget between campaigns
- which products have under 7 days of supply? · pause ads of out-of-stock SKUs
- show today's orders to ship · ship ORDER-NUMBER via UPS TRACKING
- generate this week's ad report
Writes are only proposed: an approver approves them in Approvals before anything changes."""

HELP_ZH = """我能理解这些请求（中文或英文）：
- 过去7天ACOS最高的5个广告活动
- 哪些关键词的 ACOS > 30%?
- 把关键词 'yoga mat' 的出价降到 1.20
- 把 'free' 添加为否定词（默认：本站点的自动广告活动）
- 收割搜索词 · 清理浪费的花费 · 优化出价 · 调整预算分配
- 哪些产品库存不足7天? · 暂停缺货SKU的广告
- 今天待发货的订单 · 订单号 通过 UPS 运单号 发货
- 生成本周广告报告
所有修改只会提交审批：审批人批准之前不会有任何改变。"""


class Turn:
    """One offline turn: says text, calls tools through the bridge, and keeps the transcript in API shape."""

    def __init__(self, agent: OfflineAgent, caller: Caller, conversation_id: str, turn: int, site: str, text: str) -> None:
        self.agent, self.caller, self.site, self.turn = agent, caller, site, turn
        self.conversation_id = conversation_id
        self.lang = language(text)
        self.today = agent.today or dt.date.today()
        self.source = Source(kind="chat", ref=conversation_id, batch_id=f"chat-{uuid.uuid4().hex[:16]}")
        self.error_code: str | None = None
        self.proposed: list[ToolOutcome] = []
        self.refused: list[ToolOutcome] = []
        self._text: list[str] = []

    def t(self, en: str, zh: str) -> str:
        return zh if self.lang == "zh" else en

    def say(self, text: str) -> Iterator[AgentEvent]:
        self._text.append(text)
        yield TextDelta(text)

    def call(self, name: str, arguments: dict[str, Any], *, write: bool = True) -> Generator[AgentEvent, None, ToolOutcome]:
        """One tool call through the bridge, with the same events the agent yields; refused writes are kept."""
        call_id = f"toolu_offline_{uuid.uuid4().hex[:16]}"
        arguments = {"site": self.site, **arguments}
        yield ToolStarted(call_id, name, arguments)
        try:
            outcome = self.agent.bridge.call(self.caller, name, arguments, source=self.source)
        except ConsoleError as exc:
            outcome = ToolOutcome(tool=name, status="error", text=str(exc), code=exc.code)
        summary = " ".join(outcome.text.split())[:160]
        yield ToolFinished(call_id, name, outcome.status, outcome.duration_ms, summary, outcome.operation_id)
        if outcome.status == "pending" and outcome.operation_id is not None:
            self.proposed.append(outcome)
            yield OperationProposed(outcome.operation_id, outcome.batch_id or self.source.batch_id, outcome.text)
        elif outcome.status == "error" and write:
            self.refused.append(outcome)
        said, self._text = self._text, []
        content = ([{"type": "text", "text": "".join(said)}] if said else []) + [
            {"type": "tool_use", "id": call_id, "name": name, "input": arguments}]
        self.agent.conversations.append(self.conversation_id, role="assistant", content=content, turn=self.turn)
        self.agent.conversations.append(self.conversation_id, role="user", content=[tool_result_block(call_id, name, outcome)],
                                        turn=self.turn)
        return outcome

    def read(self, name: str, arguments: dict[str, Any]) -> Generator[AgentEvent, None, dict[str, Any] | None]:
        """A read whose structured result is returned (None after an error, which is said to the user)."""
        outcome = yield from self.call(name, arguments, write=False)
        if outcome.status != "ok":
            yield from self.say(self.t(f"\n{name} failed: {outcome.text}\n", f"\n{name} 调用失败：{outcome.text}\n"))
            return None
        if outcome.structured is not None:
            return outcome.structured
        try:
            return json.loads(outcome.text)
        except ValueError:
            return {}

    def report_proposals(self) -> Iterator[AgentEvent]:
        """The closing lines of every turn that proposed writes: what waits for approval, what was refused."""
        if self.proposed:
            ids = ", ".join(f"#{o.operation_id}" for o in self.proposed)
            yield from self.say(self.t(
                f"\n**{len(self.proposed)} change(s) proposed as one batch ({ids})** — pending approval; nothing changes "
                "until an approver approves them on the Approvals page.\n",
                f"\n**已提交 {len(self.proposed)} 项修改（同一批次：{ids}）** — 等待审批；审批人在审批页面批准之前不会有任何改变。\n"))
        for outcome in self.refused:
            yield from self.say(self.t(f"\nRefused: {outcome.text}\n", f"\n被拒绝：{outcome.text}\n"))

    def finish(self) -> None:
        if self._text:
            self.agent.conversations.append(self.conversation_id, role="assistant",
                                            content=[{"type": "text", "text": "".join(self._text)}], turn=self.turn)
            self._text = []


Handler = Callable[..., Iterator[AgentEvent]]


class OfflineAgent:
    """Drop-in for `Agent` when no API key is configured (clearly labelled in every answer)."""

    model = OFFLINE_MODEL

    def __init__(self, bridge: Any, conversations: Conversations, *, today: dt.date | None = None) -> None:
        self.bridge, self.conversations, self.today = bridge, conversations, today

    def run_turn(self, caller: Caller, conversation_id: str | None, text: str, *, site: str) -> Iterator[AgentEvent]:
        if not caller.may_see(site):
            raise SiteScopeRequired(f"{caller.user} has no access to site {site}")
        if conversation_id is None:
            conversation_id = self.conversations.create(user=caller.user, site=site, title=text, model=OFFLINE_MODEL).id
        else:
            self.conversations.get(conversation_id, user=caller.user)
        number = self.conversations.next_turn(conversation_id)
        self.conversations.append(conversation_id, role="user", content=[{"type": "text", "text": text}], turn=number)
        turn = Turn(self, caller, conversation_id, number, site, text)
        try:
            yield from self._answer(turn, text)
        finally:  # also when the page stops listening half way
            turn.finish()
            self.conversations.record_turn(conversation_id, turn=number, model=OFFLINE_MODEL, rounds=0, usage=TurnUsage(),
                                           error_code=turn.error_code)
        yield Usage(0, 0, 0, 0, 0.0)
        yield TurnDone(conversation_id)

    def _answer(self, turn: Turn, text: str) -> Iterator[AgentEvent]:
        from mcp_bridge.offline_playbooks import HANDLERS

        yield from turn.say(f"*{LABEL}*" + turn.t("", "（离线演示助手）") + "\n\n")
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


def help_text(turn: Turn, **_: Any) -> Iterator[AgentEvent]:
    yield from turn.say(turn.t(HELP_EN, HELP_ZH))


# -- formatting shared by the playbooks ---------------------------------------------------------------


def table(headers: list[str], rows: list[list[Any]]) -> str:
    def cell(v: Any) -> str:
        return "—" if v is None else str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def pct(value: float | None) -> str | None:
    return None if value is None else f"{value * 100:.1f}%"


def num(value: float | None) -> str | None:
    return None if value is None else f"{value:,.2f}"


def window(turn: Turn, days: int) -> dict[str, str]:
    """The last `days` full days before the market's today."""
    end = turn.today - dt.timedelta(days=1)
    return {"start_date": (end - dt.timedelta(days=days - 1)).isoformat(), "end_date": end.isoformat()}
