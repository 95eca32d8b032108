"""The offline assistant's ads playbooks (DESIGN.md §6): reads through the bridge, writes proposed to the gate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from mcp_bridge.agent.events import AgentEvent
from mcp_bridge.agent.offline.bids import set_bid
from mcp_bridge.agent.offline.help import help_text
from mcp_bridge.agent.offline.keyword_match import amount, lower_by_tenth
from mcp_bridge.agent.offline.store_playbooks import low_stock, pause_out_of_stock_ads, ship_orders
from mcp_bridge.agent.offline.turn import MAX_PROPOSALS, Handler, Turn, num, pct, table, window

# A change the reader can send as it is: the first keyword listed, its bid 10% lower (in the site's currency).
CHANGE_ONE = ("\nTo change one, say for example \"lower the bid of keyword {id} to {bid}\", or \"optimise bids\".\n",
              "\n修改示例：\"把关键词 {id} 的出价降到 {bid}\"，或\"优化出价\"。\n")


def top_campaigns(turn: Turn, *, limit: int, days: int, descending: bool) -> Iterator[AgentEvent]:
    span = window(turn, days)
    data = yield from turn.read("ads__list_campaigns", {**span, "sort_by": "acos", "descending": descending, "limit": 100})
    if data is None:
        return
    rows = [c for c in data.get("campaigns", []) if c.get("acos") is not None][:limit]
    which = turn.t("highest" if descending else "lowest", "最高" if descending else "最低")
    yield from turn.say(turn.t(f"The {len(rows)} campaigns with the {which} ACOS on {turn.site}, {span['start_date']} to {span['end_date']}:\n\n",
                               f"{turn.site} 站点 {span['start_date']} 至 {span['end_date']} ACOS {which}的 {len(rows)} 个广告活动：\n\n"))
    yield from turn.say(table(["#", turn.t("campaign", "广告活动"), turn.t("type", "类型"), turn.t("spend", "花费"),
                               turn.t("sales", "销售额"), "ACOS", "ROAS"],
                              [[c["id"], c["name"], f"{c['campaign_type']} {c['targeting']}", num(c["spend"]), num(c["sales"]),
                                pct(c["acos"]), num(c["roas"])] for c in rows]))


def keywords_by_acos(turn: Turn, *, days: int, limit: int, min_acos: float | None = None,
                     max_acos: float | None = None) -> Iterator[AgentEvent]:
    span = window(turn, days)
    args: dict[str, Any] = {**span, "sort_by": "acos", "descending": max_acos is None, "limit": limit, "state": "enabled"}
    args |= {k: v for k, v in (("min_acos", min_acos), ("max_acos", max_acos)) if v is not None}
    data = yield from turn.read("ads__list_keywords", args)
    if data is None:
        return
    rows, total = data.get("keywords", []), data.get("total", 0)
    bound = " and ".join(x for x in (f"> {pct(min_acos)}" if min_acos is not None else "",
                                     f"< {pct(max_acos)}" if max_acos is not None else "") if x)
    yield from turn.say(turn.t(f"{total} enabled keywords on {turn.site} have ACOS {bound} ({span['start_date']} to {span['end_date']})"
                               f"{'; the first ' + str(len(rows)) if total > len(rows) else ''}:\n\n",
                               f"{turn.site} 站点有 {total} 个启用的关键词 ACOS {bound}（{span['start_date']} 至 {span['end_date']}）：\n\n"))
    yield from turn.say(table(["id", turn.t("keyword", "关键词"), turn.t("match", "匹配"), turn.t("campaign", "广告活动"),
                               turn.t("bid", "出价"), turn.t("spend", "花费"), turn.t("sales", "销售额"), "ACOS"],
                              [[k["id"], k["text"], k["match_type"], k["campaign_name"], num(k["bid"]), num(k["spend"]),
                                num(k["sales"]), pct(k["acos"])] for k in rows]))
    if rows:
        yield from turn.say(turn.text(CHANGE_ONE, id=rows[0]["id"], bid=amount(lower_by_tenth(rows[0]["bid"]))))


def add_negative(turn: Turn, *, text: str, campaign: int | str | None, match_type: str) -> Iterator[AgentEvent]:
    if isinstance(campaign, int):
        targets = [campaign]
    else:
        args = {"name_contains": campaign} if campaign else {"targeting": "auto", "state": "enabled"}
        data = yield from turn.read("ads__list_campaigns", {**args, "limit": 100})
        if data is None:
            return
        targets = [c["id"] for c in data.get("campaigns", []) if c["state"] != "archived"]
        if not targets:
            yield from turn.say(turn.t(f"No campaign on {turn.site} matches {campaign or 'auto targeting'}.\n",
                                       f"{turn.site} 站点没有匹配 {campaign or '自动投放'} 的广告活动。\n"))
            return
    where = turn.t(f"campaign {campaign}" if campaign else f"the {len(targets)} auto campaigns of {turn.site}",
                   f"广告活动 {campaign}" if campaign else f"{turn.site} 站点的 {len(targets)} 个自动广告活动")
    yield from turn.say(turn.t(f"Adding '{text}' as {match_type.replace('_', ' ')} to {where}.\n",
                               f"把 '{text}' 作为否定词（{match_type}）添加到{where}。\n"))
    for campaign_id in targets[:MAX_PROPOSALS * 2]:
        yield from turn.call("ads__create_negative", {"campaign_id": campaign_id, "text": text, "match_type": match_type})


def harvest(turn: Turn, *, act: bool, days: int) -> Iterator[AgentEvent]:
    span = window(turn, days)
    data = yield from turn.read("analytics__find_harvest_candidates", {**span, "min_cvr": 0.10, "min_orders": 3, "limit": 50})
    if data is None:
        return
    terms = [t for t in data.get("items", []) if not t.get("negative_in_auto")]
    yield from turn.say(turn.t(f"{len(terms)} search terms from auto campaigns on {turn.site} convert above 10% with at least 3 orders "
                               f"and are not keywords of a manual campaign yet ({span['start_date']} to {span['end_date']}):\n\n",
                               f"{turn.site} 站点自动广告活动中有 {len(terms)} 个搜索词转化率超过 10%、至少 3 个订单，且尚未加入手动广告活动：\n\n"))
    yield from turn.say(table([turn.t("search term", "搜索词"), turn.t("auto campaign", "自动广告活动"), turn.t("orders", "订单"),
                               "CVR", "CPC", turn.t("exact bid (120% CPC)", "精准出价（CPC 的 120%）"), turn.t("into ad group", "加入广告组")],
                              [[t["search_term"], t["campaign_name"], t["orders"], pct(t["cvr"]), num(t["avg_cpc"]),
                                num(t["suggested_bid"]), _ad_group(t)] for t in terms]))
    if not act:
        if terms:
            yield from turn.say(turn.t("\nSay \"harvest these search terms\" to propose them as exact keywords plus negatives.\n",
                                       "\n说\"收割这些搜索词\"即可提交（精准关键词 + 自动活动中的否定词）。\n"))
        return
    for term in terms[:MAX_PROPOSALS]:
        if term.get("target_ad_group_id") is None or term.get("suggested_bid") is None:
            yield from turn.say(turn.t(f"\nNo manual campaign advertises the products of '{term['search_term']}'; skipped.\n",
                                       f"\n没有手动广告活动投放 '{term['search_term']}' 对应的产品，已跳过。\n"))
            continue
        if term.get("harvest_as") == "product_target":  # an ASIN: targeted as a product, not typed as a keyword
            yield from turn.call("ads__create_product_target", {"ad_group_id": term["target_ad_group_id"],
                                                                "asin": term["search_term"].strip().upper(),
                                                                "bid": term["suggested_bid"]})
        else:
            yield from turn.call("ads__create_keyword", {"ad_group_id": term["target_ad_group_id"],
                                                         "text": term["search_term"], "match_type": "exact",
                                                         "bid": term["suggested_bid"]})
        yield from turn.call("ads__create_negative", {"campaign_id": term["campaign_id"], "text": term["search_term"],
                                                      "match_type": "negative_exact"})


def _ad_group(term: dict[str, Any]) -> str:
    if term.get("target_ad_group_id") is None:
        return "—"
    name = term.get("target_ad_group_name")
    return f"{name} (#{term['target_ad_group_id']})" if name else str(term["target_ad_group_id"])


def wasted_spend(turn: Turn, *, act: bool, days: int) -> Iterator[AgentEvent]:
    span = window(turn, days)
    rows, saved = [], {}
    for level in ("keyword", "search_term"):
        data = yield from turn.read("analytics__find_wasted_spend", {**span, "level": level, "limit": MAX_PROPOSALS})
        rows += (data or {}).get("items", [])
        saved = saved or {k: (data or {}).get(k) for k in ("savings_start_date", "savings_end_date")}
    names = {"pause": turn.t("pause", "暂停"), "cut_bid": turn.t("bid −50%", "出价 −50%"), "negative": turn.t("negative exact", "精准否定")}
    yield from turn.say(turn.t(f"Wasted spend on {turn.site}, {span['start_date']} to {span['end_date']} (spend without orders, or ACOS over 100%):\n\n",
                               f"{turn.site} 站点 {span['start_date']} 至 {span['end_date']} 的浪费花费（无订单或 ACOS 超过 100%）：\n\n"))
    yield from turn.say(table([turn.t("fix", "处理"), turn.t("keyword / search term", "关键词 / 搜索词"), turn.t("campaign", "广告活动"),
                               turn.t("spend", "花费"), turn.t("orders", "订单"), "ACOS", turn.t("saves/day", "每日节省")],
                              [[names[r["suggested_action"]], r["text"], r["campaign_name"], num(r["spend"]), r["orders"],
                                pct(r["acos"]), num(r["daily_savings"])] for r in rows]))
    if rows and saved.get("savings_start_date"):
        # The finder's projection is the one each approval card shows (same days, same formula).
        first, last = saved["savings_start_date"], saved["savings_end_date"]
        yield from turn.say(turn.t(f"\nSaves/day: the average day of {first} to {last}, as each approval card projects it.\n",
                                   f"\n每日节省：按 {first} 至 {last} 的日均花费计算，与审批卡片的预测一致。\n"))
    if not act:
        if rows:
            yield from turn.say(turn.t("\nSay \"clean up wasted spend\" to propose these fixes.\n", "\n说\"清理浪费的花费\"即可提交这些修改。\n"))
        return
    for r in rows:
        if r["suggested_action"] == "pause" and r.get("keyword_id"):
            yield from turn.call("ads__pause_keyword", {"keyword_id": r["keyword_id"]})
        elif r["suggested_action"] == "cut_bid" and r.get("keyword_id") and r.get("suggested_bid"):
            yield from turn.call("ads__update_bid", {"keyword_id": r["keyword_id"], "bid": r["suggested_bid"]})
        elif r["suggested_action"] == "negative":
            yield from turn.call("ads__create_negative", {"campaign_id": r["campaign_id"], "text": r["text"],
                                                          "match_type": "negative_exact"})


def budget_pacing(turn: Turn, *, act: bool, days: int) -> Iterator[AgentEvent]:
    span = window(turn, min(days, 14))
    data = yield from turn.read("analytics__get_budget_pacing", {**span, "limit": 100})
    if data is None:
        return
    rows = [r for r in data.get("items", []) if r["status"] != "ok"]
    full = [r for r in rows if r["status"] == "exhausted_early"][:MAX_PROPOSALS]
    idle = [r for r in rows if r["status"] == "under_utilised"][:MAX_PROPOSALS]
    yield from turn.say(turn.t(f"Budget pacing on {turn.site}, {span['start_date']} to {span['end_date']}: {len(full)} campaigns run out "
                               f"early, {len(idle)} use under half their budget.\n\n",
                               f"{turn.site} 站点预算节奏：{len(full)} 个广告活动过早耗尽预算，{len(idle)} 个使用不到一半。\n\n"))
    yield from turn.say(table(["id", turn.t("campaign", "广告活动"), turn.t("budget", "预算"), turn.t("spend/day", "日均花费"),
                               turn.t("use", "使用率"), turn.t("runs out at", "耗尽时间"), turn.t("suggested", "建议预算")],
                              [[r["campaign_id"], r["campaign_name"], num(r["daily_budget"]), num(r["avg_spend"]), pct(r["utilisation"]),
                                r["typical_ran_out_at"], num(r["suggested_budget"])] for r in full + idle]))
    if not act:
        if full or idle:
            yield from turn.say(turn.t("\nSay \"move budget\" to propose the shift.\n", "\n说\"调整预算分配\"即可提交。\n"))
        return
    for r in idle + full:
        if r.get("suggested_budget") and r["suggested_budget"] != r["daily_budget"]:
            yield from turn.call("ads__update_campaign", {"campaign_id": r["campaign_id"], "daily_budget": r["suggested_budget"]})


def bid_optimisation(turn: Turn, *, act: bool, days: int) -> Iterator[AgentEvent]:
    span = window(turn, min(days, 30))
    data = yield from turn.read("analytics__get_acos_alerts", {**span, "direction": "both", "min_spend": 5, "sort_by": "spend",
                                                               "limit": MAX_PROPOSALS})
    if data is None:
        return
    rows = [r for r in data.get("items", []) if r.get("suggested_bid") and r.get("bid") and r["suggested_bid"] != r["bid"]]
    yield from turn.say(turn.t(f"ACOS target on {turn.site} is {pct(data.get('acos_target'))}. Bid changes that bring keywords back to it:\n\n",
                               f"{turn.site} 站点的 ACOS 目标为 {pct(data.get('acos_target'))}。建议的出价调整：\n\n"))
    yield from turn.say(table(["id", turn.t("keyword", "关键词"), "ACOS", turn.t("bid", "出价"), turn.t("new bid", "新出价")],
                              [[r["id"], r["name"], pct(r["acos"]), num(r["bid"]), num(r["suggested_bid"])] for r in rows]))
    if not act:
        return
    for r in rows:
        yield from turn.call("ads__update_bid", {"keyword_id": r["id"], "bid": r["suggested_bid"]})


def weekly_report(turn: Turn, **_: Any) -> Iterator[AgentEvent]:
    data = yield from turn.read("analytics__get_weekly_report_data", {"week_end": (turn.today - dt.timedelta(days=1)).isoformat()})
    if data is None:
        return
    now, before, change = data["current"], data["previous"], data.get("changes") or {}

    def line(label: str, key: str, ratio: bool = False) -> list[Any]:
        delta = change.get(key)
        return [label, pct(before.get(key)) if ratio else num(before.get(key)), pct(now.get(key)) if ratio else num(now.get(key)),
                "—" if delta is None else f"{delta * 100:+.1f}%"]

    start, end = data["this_week"]
    yield from turn.say(turn.t(f"## Weekly ad report — {turn.site}, {start} to {end}\n\n", f"## 每周广告报告 — {turn.site}，{start} 至 {end}\n\n"))
    yield from turn.say(table([turn.t("metric", "指标"), turn.t("last week", "上周"), turn.t("this week", "本周"), turn.t("change", "变化")],
                              [line(turn.t("spend", "花费"), "spend"), line(turn.t("sales", "销售额"), "sales"),
                               line("ACOS", "acos", True), line("ROAS", "roas"), line(turn.t("orders", "订单"), "orders")]))
    for title, key in ((turn.t("Top keywords", "表现最好的关键词"), "top_keywords"), (turn.t("Bottom keywords", "表现最差的关键词"), "bottom_keywords")):
        yield from turn.say(f"\n**{title}**\n\n" + table(["id", turn.t("keyword", "关键词"), turn.t("spend", "花费"), turn.t("sales", "销售额"), "ACOS"],
                                                         [[k["keyword_id"], k["text"], num(k["spend"]), num(k["sales"]), pct(k["acos"])]
                                                          for k in data.get(key, [])]))
    actions = data.get("actions_taken") or []
    done = "; ".join(f"{a['tool']}: {a['summary']}" for a in actions[:10]) or turn.t("none this week", "本周无")
    todo = ", ".join(f"{k} {v}" for k, v in (data.get("next_actions") or {}).items() if v) or turn.t("nothing urgent", "暂无")
    yield from turn.say(turn.t(f"\n**Actions taken**: {done}\n\n**Next actions** (rows per finder): {todo}\n",
                               f"\n**已执行的操作**：{done}\n\n**下一步**（各项待处理数量）：{todo}\n"))


HANDLERS: dict[str, Handler] = {
    "help": help_text,
    "top_campaigns": top_campaigns,
    "keywords_by_acos": keywords_by_acos,
    "set_bid": set_bid,
    "add_negative": add_negative,
    "harvest": harvest,
    "wasted_spend": wasted_spend,
    "budget_pacing": budget_pacing,
    "bid_optimisation": bid_optimisation,
    "low_stock": low_stock,
    "pause_out_of_stock_ads": pause_out_of_stock_ads,
    "ship_orders": ship_orders,
    "weekly_report": weekly_report,
}
