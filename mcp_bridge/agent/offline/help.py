"""What the offline assistant says it understands, with a bid example that works on the active site."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mcp_bridge.agent.events import AgentEvent
from mcp_bridge.agent.offline.bids import bid_example
from mcp_bridge.agent.offline.turn import Turn

HELP_EN = """I understand these requests (English or Chinese), on your active site or on one of your sites you name ("on US"):
- show the 5 campaigns with the highest ACOS in the last 7 days
- which keywords have ACOS > 30%?
- lower the bid of keyword WORDS to AMOUNT (the keyword's words in any order, or its id: keyword #123)
- add 'free' as a negative keyword (the site's auto campaigns, or "in campaign 12")
- harvest search terms · clean up wasted spend · optimise bids · move budget between campaigns
- which products have under 7 days of supply? · pause ads of out-of-stock SKUs
- show today's orders to ship · ship ORDER-NUMBER via CARRIER TRACKING-NUMBER
- generate this week's ad report
Writes are only proposed: an approver approves them in Approvals before anything changes."""

HELP_ZH = """我能理解这些请求（中文或英文），针对当前站点，或你指定的你的站点（如"US站"）：
- 过去7天ACOS最高的5个广告活动
- 哪些关键词的 ACOS > 30%?
- 把关键词 词语 的出价降到 金额（关键词的词语顺序不限，或用 id：关键词 123）
- 把 'free' 添加为否定词（默认：本站点的自动广告活动）
- 收割搜索词 · 清理浪费的花费 · 优化出价 · 调整预算分配
- 哪些产品库存不足7天? · 暂停缺货SKU的广告
- 今天待发货的订单 · 订单号 通过 承运商 运单号 发货
- 生成本周广告报告
所有修改只会提交审批：审批人批准之前不会有任何改变。"""


def help_text(turn: Turn, **_: Any) -> Iterator[AgentEvent]:
    """The requests understood, and a bid change that works on the active site."""
    yield from turn.say(turn.t(HELP_EN, HELP_ZH))
    yield from bid_example(turn)
