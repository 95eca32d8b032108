"""The offline assistant's understanding of requests, English and Chinese (pure parsing, no servers)."""

from __future__ import annotations

import pytest

from mcp_bridge.agent.offline.intents import Intent, language, parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("show the 5 campaigns with the highest ACOS in the last 7 days", Intent("top_campaigns", {"limit": 5, "days": 7, "descending": True})),
        ("top 3 campaigns by ACOS last 14 days", Intent("top_campaigns", {"limit": 3, "days": 14, "descending": True})),
        ("campaigns with the lowest ACOS this week", Intent("top_campaigns", {"limit": 5, "days": 7, "descending": False})),
        ("过去7天ACOS最高的5个广告活动", Intent("top_campaigns", {"limit": 5, "days": 7, "descending": True})),
        ("哪些关键词的 ACOS > 30%?", Intent("keywords_by_acos", {"days": 30, "limit": 20, "min_acos": 0.30})),
        ("哪些关键词的ACOS超过50%？", Intent("keywords_by_acos", {"days": 30, "limit": 20, "min_acos": 0.50})),
        ("which keywords have ACOS above 30%?", Intent("keywords_by_acos", {"days": 30, "limit": 20, "min_acos": 0.30})),
        ("keywords with ACOS under 10% in the last 7 days", Intent("keywords_by_acos", {"days": 7, "limit": 20, "max_acos": 0.10})),
        ("lower the bid of keyword 'yoga mat' to $1.20", Intent("set_bid", {"keyword": "yoga mat", "bid": 1.2})),
        ("lower the bid of keyword yoga mat to $1.20", Intent("set_bid", {"keyword": "yoga mat", "bid": 1.2})),
        ("set the bid of keyword 36 to 0.85", Intent("set_bid", {"keyword": 36, "bid": 0.85})),
        ("raise the bid for keyword #12 to €2", Intent("set_bid", {"keyword": 12, "bid": 2.0})),
        ("把关键词 'yoga mat' 的出价降到 1.20", Intent("set_bid", {"keyword": "yoga mat", "bid": 1.2})),
        ("把关键词 36 的出价调整为 0.9", Intent("set_bid", {"keyword": 36, "bid": 0.9})),
        ("把 'free' 添加为否定词", Intent("add_negative", {"text": "free", "campaign": None, "match_type": "negative_exact"})),
        ("把“免费”添加为词组否定词", Intent("add_negative", {"text": "免费", "campaign": None, "match_type": "negative_phrase"})),
        ("add 'free' as a negative keyword", Intent("add_negative", {"text": "free", "campaign": None, "match_type": "negative_exact"})),
        ("add 'cheap' as a phrase negative in campaign 12", Intent("add_negative", {"text": "cheap", "campaign": 12, "match_type": "negative_phrase"})),
        ("add \"used\" as negative to campaign 'US SP Auto - Camping'",
         Intent("add_negative", {"text": "used", "campaign": "US SP Auto - Camping", "match_type": "negative_exact"})),
        ("which products have under 7 days of supply?", Intent("low_stock", {"days": 7})),
        ("which SKUs have less than 10 days of stock", Intent("low_stock", {"days": 10})),
        ("哪些产品库存不足7天?", Intent("low_stock", {"days": 7})),
        ("generate this week's ad report", Intent("weekly_report", {"act": False, "days": 7})),
        ("生成本周广告报告", Intent("weekly_report", {"act": False, "days": 7})),
        ("周报", Intent("weekly_report", {"act": False, "days": 7})),
        ("harvest search terms", Intent("harvest", {"act": True, "days": 30})),
        ("Find search terms to harvest from auto campaigns into exact keywords", Intent("harvest", {"act": True, "days": 30})),
        ("收割搜索词", Intent("harvest", {"act": True, "days": 30})),
        ("clean up wasted spend", Intent("wasted_spend", {"act": True, "days": 30})),
        ("Show keywords with wasted spend (spend over $20 and no orders) in the last 30 days", Intent("wasted_spend", {"act": False, "days": 30})),
        ("清理浪费的花费", Intent("wasted_spend", {"act": True, "days": 30})),
        ("Which campaigns run out of budget early and which use under half of it?", Intent("budget_pacing", {"act": False, "days": 30})),
        ("move budget from idle campaigns to the ones that run out", Intent("budget_pacing", {"act": True, "days": 30})),
        ("调整预算分配", Intent("budget_pacing", {"act": True, "days": 30})),
        ("optimise bids", Intent("bid_optimisation", {"act": True, "days": 30})),
        ("优化出价", Intent("bid_optimisation", {"act": True, "days": 30})),
        ("pause ads of out-of-stock SKUs", Intent("pause_out_of_stock_ads", {"act": True, "days": 30})),
        ("暂停缺货SKU的广告", Intent("pause_out_of_stock_ads", {"act": True, "days": 30})),
        ("mark today's orders shipped", Intent("ship_orders", {"shipments": []})),
        ("Show today's orders that still need to be shipped", Intent("ship_orders", {"shipments": []})),
        ("把今天的订单标记为已发货", Intent("ship_orders", {"shipments": []})),
        ("ship US261120-0031234 via UPS 1Z999AA10123456784\nship US261119-0031200 via DHL 4431234567",
         Intent("ship_orders", {"shipments": [{"order": "US261120-0031234", "carrier": "UPS", "tracking_number": "1Z999AA10123456784"},
                                              {"order": "US261119-0031200", "carrier": "DHL", "tracking_number": "4431234567"}]})),
        ("订单 US261120-0031234 通过 UPS 1Z999AA10123456784 发货",
         Intent("ship_orders", {"shipments": [{"order": "US261120-0031234", "carrier": "UPS", "tracking_number": "1Z999AA10123456784"}]})),
        ("help", Intent("help", {"act": False, "days": 30})),
        ("你能做什么？", Intent("help", {"act": False, "days": 30})),
    ],
)
def test_requests_are_understood(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize("text", ["what's the weather in Berlin?", "write me a poem about yoga mats", "今天天气怎么样", "", "ACOS"])
def test_other_requests_are_not_guessed(text):
    assert parse(text) is None


def test_language_follows_the_request():
    assert language("哪些关键词的 ACOS > 30%?") == "zh"
    assert language("which keywords have ACOS > 30%?") == "en"


def test_every_quick_action_is_understood_in_both_languages() -> None:
    """The chat page sends a quick action in the reader's language: the offline assistant must know each in both."""
    from console.chat_service import QUICK_ACTIONS
    from console.i18n import _, speaking

    for _label, prompt in QUICK_ACTIONS:
        english = parse(prompt)
        with speaking("zh"):
            chinese = parse(_(prompt))
        assert english is not None and chinese is not None, prompt
        assert chinese.kind == english.kind, (prompt, chinese)
