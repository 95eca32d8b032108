"""What the offline assistant understands: the DESIGN.md §6 requests, in English and Chinese, as plain patterns."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

QUOTES = "'\"“”‘’「」『』"
_Q = f"[{QUOTES}]"
_NUM = r"(\d+(?:\.\d+)?)"
_MONEY = r"[$€¥£]?\s*" + _NUM
# A bid as people write it: "$1.20", "1,20 €", "¥120", "1.20 EUR"; a decimal comma is read as one.
_BID = r"(?:[$€¥£]|usd|eur|jpy)?\s*(\d+(?:[.,]\d+)?)(?!\d)"
# "yoga mat on DE", "yoga mat on the us site": the site belongs to the request, not to the keyword's words.
_SITE_SUFFIX = re.compile(r"\s+(?:on|in|at)\s+(?:the\s+)?(?:site\s+)?[A-Za-z]{2}(?:\s+(?:site|store|marketplace))?\s*$", re.I)
CJK = re.compile(r"[\u4e00-\u9fff]")

# Words that turn a look-up into a proposal (the approval queue still decides).
ACTION_WORDS = re.compile(
    r"\b(harvest|clean(?:\s|-)?up|pause|apply|fix|propose|move|rebalance|shift|reallocate|add|lower|raise|cut|"
    r"optimi[sz]e|mark|do it)\b|收割|清理|暂停|执行|添加|调整|降低|提高|标记|转移|优化|处理",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Intent:
    kind: str
    params: dict[str, Any] = field(default_factory=dict)


def language(text: str) -> str:
    return "zh" if CJK.search(text) else "en"


def _days(text: str, default: int) -> int:
    if m := re.search(r"(?:last|past|previous)\s+(\d+)\s*days?", text, re.I) or re.search(r"(?:过去|最近|近)\s*(\d+)\s*天", text):
        return max(1, min(int(m.group(1)), 365))
    if re.search(r"last\s+week|this\s+week|past\s+week|本周|上周|这周|最近一周|过去一周", text, re.I):
        return 7
    if re.search(r"last\s+month|past\s+month|上个?月|最近一个月|过去一个月", text, re.I):
        return 30
    return default


def _count(text: str, default: int) -> int:
    m = (re.search(r"\b(?:top|show(?:\s+me)?(?:\s+the)?|the)\s+(\d+)\b", text, re.I)
         or re.search(r"\b(\d+)\s+(?:campaigns?|keywords?|products?|skus?)\b", text, re.I)
         or re.search(r"(?:前)?\s*(\d+)\s*个", text))
    return max(1, min(int(m.group(1)), 50)) if m else default


def _ratio(value: str) -> float:
    number = float(value)
    return number / 100 if number > 3 else number  # "30" and "30%" mean 0.30; "0.3" stays


def _ref(raw: str) -> int | str:
    """A keyword/campaign reference: an id (`12`, `#12`) or text (quotes stripped)."""
    raw = raw.strip().strip(QUOTES).strip()
    m = re.fullmatch(r"(?:id\s*)?#?\s*(\d+)", raw, re.I)
    return int(m.group(1)) if m else raw


def _campaign(text: str) -> int | str | None:
    m = (re.search(rf"(?:in|to|for)\s+(?:the\s+)?campaign\s+(?:#?(\d+)|{_Q}(.+?){_Q})", text, re.I)
         or re.search(rf"(?:在|到|给)\s*(?:广告)?活动\s*(?:#?(\d+)|{_Q}(.+?){_Q})", text))
    if not m:
        return None
    return int(m.group(1)) if m.group(1) else m.group(2).strip()


def _amount(raw: str) -> float:
    """`1.20`, `1,20` (decimal comma) → 1.2; `1,200` (thousands) → 1200."""
    if "," in raw:
        raw = raw.replace(",", "") if re.fullmatch(r"\d{1,3},\d{3}", raw) else raw.replace(",", ".")
    return float(raw)


def _keyword_ref(raw: str) -> int | str:
    """A keyword reference without the site the request names after it (quoted text is kept whole)."""
    raw = raw.strip()
    return _ref(raw if raw[:1] in QUOTES else _SITE_SUFFIX.sub("", raw))


def _set_bid(text: str) -> Intent | None:
    en = (re.search(rf"\b(lower|raise|increase|decrease|reduce|set|change|cut|drop|update)\s+(?:the\s+)?bid\s+"
                    rf"(?:of|for|on)\s+(?:the\s+)?(?:keyword\s+)?(.+?)\s+to\s+{_BID}", text, re.I)
          or re.search(rf"\b(lower|raise|set|change|update)\s+(?:keyword\s+)?(.+?)(?:'s)?\s+bid\s+to\s+{_BID}", text, re.I))
    if en:
        return Intent("set_bid", {"keyword": _keyword_ref(en.group(2)), "bid": _amount(en.group(3))})
    zh = re.search(rf"(?:把|将)?\s*(?:关键词|关键字)?\s*(.+?)\s*的\s*出价\s*(?:降低|降|调整|调|提高|提|改|设置|设|修改)?\s*"
                   rf"(?:到|为|至|成)\s*{_BID}", text)
    if zh:
        return Intent("set_bid", {"keyword": _keyword_ref(re.sub(r"^(?:关键词|关键字)\s*", "", zh.group(1))),
                                  "bid": _amount(zh.group(2))})
    return None


def _add_negative(text: str) -> Intent | None:
    m = (re.search(rf"\b(?:add|make|set)\s+{_Q}(.+?){_Q}\s+(?:as\s+)?(?:an?\s+)?(?:(exact|phrase)\s+)?neg(?:ative)?", text, re.I)
         or re.search(rf"\bnegate\s+{_Q}(.+?){_Q}()", text, re.I)
         or re.search(rf"(?:把|将)\s*{_Q}(.+?){_Q}\s*(?:添加|加|设置|设)\s*(?:为|成)?\s*()(?:精准|词组)?\s*否定", text))
    if not m:
        return None
    phrase = (m.group(2) or "").lower() == "phrase" or bool(re.search(r"phrase|词组", text, re.I))
    return Intent("add_negative", {"text": m.group(1).strip(), "campaign": _campaign(text),
                                   "match_type": "negative_phrase" if phrase else "negative_exact"})


def _keywords_acos(text: str) -> Intent | None:
    if not re.search(r"keywords?|关键词|关键字", text, re.I) or not re.search(r"acos", text, re.I):
        return None
    above = re.search(rf"acos\s*(?:is\s+)?(?:>|>=|≥|above|over|more than|greater than|exceeds?|higher than|大于|超过|高于)\s*{_NUM}\s*%?", text, re.I)
    below = re.search(rf"acos\s*(?:is\s+)?(?:<|<=|≤|below|under|less than|lower than|小于|低于|不到)\s*{_NUM}\s*%?", text, re.I)
    if not above and not below:
        return None
    params: dict[str, Any] = {"days": _days(text, 30), "limit": _count(text, 20)}
    if above:
        params["min_acos"] = _ratio(above.group(1))
    if below:
        params["max_acos"] = _ratio(below.group(1))
    return Intent("keywords_by_acos", params)


def _top_campaigns(text: str) -> Intent | None:
    if not re.search(r"campaigns?|广告活动|活动", text, re.I) or not re.search(r"acos", text, re.I):
        return None
    ascending = bool(re.search(r"\b(lowest|best)\b|最低|最好", text, re.I))
    return Intent("top_campaigns", {"limit": _count(text, 5), "days": _days(text, 7), "descending": not ascending})


def _low_stock(text: str) -> Intent | None:
    m = (re.search(r"(?:under|below|less than|fewer than|<)\s*(\d+)\s*days?\s+(?:of\s+)?(?:supply|stock|inventory|cover)", text, re.I)
         or re.search(r"(?:不足|少于|低于|不到|小于)\s*(\d+)\s*天", text))
    if m:
        return Intent("low_stock", {"days": int(m.group(1))})
    if re.search(r"low stock|running out|run out of stock|days of supply|reorder|库存不足|补货|可售天数|断货", text, re.I):
        return Intent("low_stock", {"days": 7})
    return None


def _ship_orders(text: str) -> Intent | None:
    if not re.search(r"\bship(?:ped|ping)?\b|发货", text, re.I):
        return None
    pairs = re.findall(r"#?([A-Z]{2}\d{6}-\d+|\d+)\s*(?:via|with|by|using|用|通过|走)\s*([A-Za-z][\w-]{1,39})\s*[,:]?\s*([A-Za-z0-9]{4,64})",
                       text, re.I)
    shipments = [{"order": p[0], "carrier": p[1], "tracking_number": p[2]} for p in pairs]
    return Intent("ship_orders", {"shipments": shipments})


RULES: list[tuple[str, re.Pattern[str]]] = [
    ("help", re.compile(r"^\s*(help|\?|what can you do|帮助|你能做什么|怎么用)\s*[?？!！。.]*\s*$", re.I)),
    ("pause_out_of_stock_ads", re.compile(r"(out[\s-]of[\s-]stock|\boos\b|缺货|无货).*(ads?\b|广告)|(ads?\b|广告).*(out[\s-]of[\s-]stock|缺货|无货)", re.I)),
    ("harvest", re.compile(r"harvest|收割|(search terms?|搜索词).*(exact|keyword|精准|关键词)", re.I)),
    ("wasted_spend", re.compile(r"wasted|waste|no orders|zero orders|clean(?:\s|-)?up|浪费|无订单|没有订单|零订单|清理", re.I)),
    ("budget_pacing", re.compile(r"budget.*(pac|run(?:s|ning)? out|exhaust|utili[sz]|allocat|early|under half|move|shift)|"
                                 r"(pac|allocat|move|shift).*budget|预算.*(耗尽|用完|分配|利用|节奏|调整|转移|不足)|(分配|调整|转移|耗尽|用完).*预算", re.I)),
    ("bid_optimisation", re.compile(r"optimi[sz]e\s+(?:the\s+|my\s+)?bids?|bid\s+optimi[sz]ation|优化出价|出价优化", re.I)),
    ("weekly_report", re.compile(r"(week|weekly|本周|这周|每周|上周).*(report|summary|报告|报表|总结)|周报", re.I)),
]


def parse(text: str) -> Intent | None:
    """The request as an Intent, or None when it is not one the offline assistant knows."""
    for finder in (_set_bid, _add_negative, _ship_orders):
        if intent := finder(text):
            return intent
    for kind, pattern in RULES:
        if pattern.search(text):
            return Intent(kind, {"act": bool(ACTION_WORDS.search(text)), "days": _days(text, 30 if kind != "weekly_report" else 7)})
    for finder in (_keywords_acos, _top_campaigns, _low_stock):
        if intent := finder(text):
            return intent
    return None
