"""The offline assistant's bid change: the keyword found by its words on the active site, or close matches to pick."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

from mcp_bridge.agent.events import AgentEvent
from mcp_bridge.agent.offline.keyword_match import (
    KeywordQuery,
    amount,
    close_matches,
    full_matches,
    lower_by_tenth,
    parse_query,
    pick,
)
from mcp_bridge.agent.offline.turn import Turn, table

PAGE = 500  # the most keywords one read returns
SHOWN = 8  # close matches listed: enough to choose from, short enough to read

SEVERAL = ("{count} keywords on {site} have the words '{words}'. Say which one by id:\n\n",
           "{site} 站点有 {count} 个关键词包含 '{words}' 这些词，请用 id 指定：\n\n")
CLOSE = ("No keyword on {site} has all the words '{words}'. Close matches — say which one by id:\n\n",
         "{site} 站点没有同时包含 '{words}' 这些词的关键词。相近的关键词如下，请用 id 指定：\n\n")
NOTHING = ("No keyword on {site} is close to '{words}'. Check the spelling and the site, or use the keyword's id "
           "(\"which keywords have ACOS over 30%?\" lists keywords with their ids).\n",
           "{site} 站点没有与 '{words}' 相近的关键词。请检查拼写和站点，或使用关键词 id（\"哪些关键词的 ACOS > 30%?\" 会列出关键词及其 id）。\n")
# A blank line first: a line right under a Markdown table would be read as one more row of it.
MORE = ("\n…and {count} more; add a word to narrow it down.\n", "\n……还有 {count} 个；多写一个词可缩小范围。\n")
EXAMPLE = ("\nFor example: \"lower the bid of keyword {id} to {bid}\".\n", "\n例如：\"把关键词 {id} 的出价降到 {bid}\"。\n")
PROPOSED = ("Proposed: {text}.\n", "已提交：{text}。\n")
# The help's example, made from a keyword of the active site that the words find on their own.
HELP_EXAMPLE = ("\nOn {site}, for example: \"lower the bid of keyword '{text}' to {bid}\" (now {now}).\n",
                "\n例如在 {site} 站点：\"把关键词 '{text}' 的出价降到 {bid}\"（当前 {now}）。\n")


def set_bid(turn: Turn, *, keyword: int | str, bid: float) -> Iterator[AgentEvent]:
    """Propose a keyword's new bid; the keyword is an id, or words that must mean exactly one keyword of the site."""
    keyword_id = keyword if isinstance(keyword, int) else None
    if keyword_id is None:
        found = yield from find_keyword(turn, parse_query(str(keyword)))
        if found is None:
            return
        keyword_id = found["id"]
    outcome = yield from turn.call("ads__update_bid", {"keyword_id": keyword_id, "bid": round(bid, 2)})
    if outcome.status == "pending":
        yield from turn.say(turn.text(PROPOSED, text=outcome.text))


def find_keyword(turn: Turn, query: KeywordQuery) -> Generator[AgentEvent, None, dict[str, Any] | None]:
    """The one keyword of the active site the words mean; otherwise the close matches are listed and None returned."""
    if not query.words:
        yield from turn.say(turn.text(NOTHING, site=turn.site.upper(), words=""))
        return None
    data = yield from turn.read("ads__list_keywords", {"text_contains": query.search_word(), "limit": PAGE})
    if data is None:
        return None
    pool = list(data.get("keywords", []))
    if not full_matches(query, pool):
        # Another spelling (accents, ß), or a word the server's substring filter cannot see: look at the site's keywords.
        data = yield from turn.read("ads__list_keywords", {"limit": PAGE})
        if data is None:
            return None
        pool = list({k["id"]: k for k in pool + data.get("keywords", [])}.values())
    chosen = pick(query, pool)
    if chosen is None:
        yield from list_candidates(turn, query, pool)
    return chosen


def list_candidates(turn: Turn, query: KeywordQuery, pool: list[dict[str, Any]]) -> Iterator[AgentEvent]:
    """The keywords a person may have meant, compact, with their bids in the site's currency and an example."""
    every = full_matches(query, pool)
    rows, total = close_matches(query, every or pool, limit=SHOWN)
    site, words = turn.site.upper(), query.text
    if not rows:
        yield from turn.say(turn.text(NOTHING, site=site, words=words))
        return
    yield from turn.say(turn.text(SEVERAL if every else CLOSE, site=site, words=words, count=total))
    currency = yield from turn.currency()
    yield from turn.say(table(["id", turn.t("keyword", "关键词"), turn.t("match", "匹配"), turn.t("campaign", "广告活动"),
                               turn.t("bid", "出价")],
                              [[k["id"], k["text"], k["match_type"], _short(k.get("campaign_name")),
                                turn.money(k["bid"], currency)] for k in rows]))
    if total > len(rows):
        yield from turn.say(turn.text(MORE, count=total - len(rows)))
    yield from turn.say(turn.text(EXAMPLE, id=rows[0]["id"], bid=amount(lower_by_tenth(rows[0]["bid"]))))


def bid_example(turn: Turn) -> Iterator[AgentEvent]:
    """A bid change the help suggests that works on the active site: a keyword its own words find, 10% lower."""
    data = yield from turn.read("ads__list_keywords", {"sort_by": "spend", "limit": PAGE})
    if data is None:
        return
    pool = data.get("keywords", [])
    for keyword in pool:
        if keyword.get("state") == "enabled" and pick(parse_query(keyword["text"]), pool) is keyword:
            currency = yield from turn.currency()
            yield from turn.say(turn.text(HELP_EXAMPLE, site=turn.site.upper(), text=keyword["text"],
                                          bid=amount(lower_by_tenth(keyword["bid"])), now=turn.money(keyword["bid"], currency)))
            return


def _short(name: str | None, width: int = 32) -> str | None:
    return name if name is None or len(name) <= width else name[: width - 1] + "…"
