"""The offline assistant's ads playbooks (DESIGN.md §6): reads through the bridge, writes proposed to the gate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from mcp_bridge.events import AgentEvent
from mcp_bridge.offline import MAX_PROPOSALS, Handler, Turn, help_text, num, pct, table, window
from mcp_bridge.offline_store import low_stock, pause_out_of_stock_ads, ship_orders


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
        yield from turn.say(turn.t(f"\nTo change one: \"lower the bid of keyword {rows[0]['id']} to $X\", or \"optimise bids\".\n",
                                   f"\n修改示例：\"把关键词 {rows[0]['id']} 的出价降到 X\"，或\"优化出价\"。\n"))


def set_bid(turn: Turn, *, keyword: int | str, bid: float) -> Iterator[AgentEvent]:
    keyword_id = keyword if isinstance(keyword, int) else None
    if keyword_id is None:
        data = yield from turn.read("ads__list_keywords", {"text_contains": keyword, "limit": 50})
        if data is None:
            return
        found = [k for k in data.get("keywords", []) if k["text"].lower() == str(keyword).lower() and k["state"] != "archived"]
        if len(found) != 1:
            rows = found or data.get("keywords", [])[:10]
            yield from turn.say(turn.t(
                f"{'Several' if found else 'No'} keywords on {turn.site} are exactly '{keyword}'. Say which one by id:\n\n",
                f"{turn.site} 站点{'有多个' if found else '没有'}完全匹配 '{keyword}' 的关键词，请用 id 指定：\n\n"))
            yield from turn.say(table(["id", turn.t("keyword", "关键词"), turn.t("match", "匹配"), turn.t("campaign", "广告活动"),
                                       turn.t("bid", "出价")],
                                      [[k["id"], k["text"], k["match_type"], k["campaign_name"], num(k["bid"])] for k in rows]))
            return
        keyword_id = found[0]["id"]
    outcome = yield from turn.call("ads__update_bid", {"keyword_id": keyword_id, "bid": round(bid, 2)})
    if outcome.status == "pending":
        yield from turn.say(turn.t(f"Proposed: {outcome.text}.\n", f"已提交：{outcome.text}。\n"))


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
    data = yield from turn.read("ads__get_search_terms", {**span, "targeting": "auto", "min_orders": 3,
                                                          "in_manual_campaign": False, "sort_by": "orders", "limit": 100})
    if data is None:
        return
    terms = [t for t in data.get("search_terms", []) if (t.get("cvr") or 0) > 0.10 and not t.get("negated_in_campaign")]
    yield from turn.say(turn.t(f"{len(terms)} search terms from auto campaigns convert above 10% with at least 3 orders and are "
                               f"not keywords of a manual campaign yet ({span['start_date']} to {span['end_date']}):\n\n",
                               f"自动广告活动中有 {len(terms)} 个搜索词转化率超过 10%、至少 3 个订单，且尚未加入手动广告活动：\n\n"))
    yield from turn.say(table([turn.t("search term", "搜索词"), turn.t("auto campaign", "自动广告活动"), turn.t("orders", "订单"),
                               "CVR", "CPC", turn.t("new bid (120% CPC)", "新出价（CPC 的 120%）")],
                              [[t["search_term"], t["campaign_name"], t["orders"], pct(t["cvr"]), num(t["cpc"]),
                                num(round(t["cpc"] * 1.2, 2) if t.get("cpc") else None)] for t in terms]))
    if not act or not terms:
        if terms:
            yield from turn.say(turn.t("\nSay \"harvest these search terms\" to propose them as exact keywords plus negatives.\n",
                                       "\n说\"收割这些搜索词\"即可提交（精准关键词 + 自动活动中的否定词）。\n"))
        return
    groups: dict[int, int | None] = {}
    for term in terms[:MAX_PROPOSALS]:
        if term["campaign_id"] not in groups:
            groups[term["campaign_id"]] = yield from manual_ad_group_for(turn, term["campaign_name"])
        group = groups[term["campaign_id"]]
        if group is None or not term.get("cpc"):
            yield from turn.say(turn.t(f"\nNo manual campaign found for '{term['search_term']}'; skipped.\n",
                                       f"\n没有找到 '{term['search_term']}' 对应的手动广告活动，已跳过。\n"))
            continue
        yield from turn.call("ads__create_keyword", {"ad_group_id": group, "text": term["search_term"], "match_type": "exact",
                                                     "bid": round(term["cpc"] * 1.2, 2)})
        yield from turn.call("ads__create_negative", {"campaign_id": term["campaign_id"], "text": term["search_term"],
                                                      "match_type": "negative_exact"})


def manual_ad_group_for(turn: Turn, auto_name: str) -> Iterator[AgentEvent]:
    """The best-selling ad group of the manual campaign that matches an auto campaign ("… Auto - X" → "… Manual - X")."""
    data = yield from turn.read("ads__list_campaigns", {"targeting": "manual", "state": "enabled", "limit": 500})
    campaigns = [c for c in (data or {}).get("campaigns", []) if c["platform"] == "amazon" and c["campaign_type"] == "SP"]
    wanted = auto_name.replace(" Auto ", " Manual ")
    words = set(auto_name.lower().split()) - {"auto", "sp", "-"}
    best = next((c for c in campaigns if c["name"] == wanted), None) or max(
        campaigns, key=lambda c: (len(words & set(c["name"].lower().split())), -c["id"]), default=None)
    if best is None:
        return None
    groups = yield from turn.read("ads__list_ad_groups", {"campaign_id": best["id"], "state": "enabled", "sort_by": "sales", "limit": 1})
    rows = (groups or {}).get("ad_groups", [])
    return rows[0]["id"] if rows else None


def wasted_spend(turn: Turn, *, act: bool, days: int) -> Iterator[AgentEvent]:
    span = window(turn, days)
    idle = yield from turn.read("ads__list_keywords", {**span, "min_spend": 20, "zero_orders_only": True, "state": "enabled",
                                                      "sort_by": "spend", "limit": 50})
    costly = yield from turn.read("ads__list_keywords", {**span, "min_acos": 1.0, "state": "enabled", "sort_by": "spend", "limit": 50})
    terms = yield from turn.read("ads__get_search_terms", {**span, "targeting": "auto", "min_clicks": 1, "sort_by": "spend", "limit": 200})
    idle_rows = (idle or {}).get("keywords", [])
    idle_ids = {k["id"] for k in idle_rows}
    costly_rows = [k for k in (costly or {}).get("keywords", []) if k["id"] not in idle_ids]
    term_rows = [t for t in (terms or {}).get("search_terms", [])
                 if t["orders"] == 0 and t["spend"] > 20 and not t.get("negated_in_campaign")]
    yield from turn.say(turn.t(f"Wasted spend on {turn.site}, {span['start_date']} to {span['end_date']}:\n\n",
                               f"{turn.site} 站点 {span['start_date']} 至 {span['end_date']} 的浪费花费：\n\n"))
    rows = ([[turn.t("pause", "暂停"), f"#{k['id']} {k['text']}", num(k["spend"]), 0, None] for k in idle_rows]
            + [[turn.t("bid −50%", "出价 −50%"), f"#{k['id']} {k['text']}", num(k["spend"]), k["orders"], pct(k["acos"])] for k in costly_rows]
            + [[turn.t("negative exact", "精准否定"), f"'{t['search_term']}' ({t['campaign_name']})", num(t["spend"]), 0, None]
               for t in term_rows])
    yield from turn.say(table([turn.t("fix", "处理"), turn.t("keyword / search term", "关键词 / 搜索词"), turn.t("spend", "花费"),
                               turn.t("orders", "订单"), "ACOS"], rows))
    if not act:
        if rows:
            yield from turn.say(turn.t("\nSay \"clean up wasted spend\" to propose these fixes.\n", "\n说\"清理浪费的花费\"即可提交这些修改。\n"))
        return
    for k in idle_rows[:MAX_PROPOSALS]:
        yield from turn.call("ads__pause_keyword", {"keyword_id": k["id"]})
    for k in costly_rows[:MAX_PROPOSALS]:
        yield from turn.call("ads__update_bid", {"keyword_id": k["id"], "bid": round(max(k["bid"] * 0.5, k["bid"] - 2.0, 0.02), 2)})
    for t in term_rows[:MAX_PROPOSALS]:
        yield from turn.call("ads__create_negative", {"campaign_id": t["campaign_id"], "text": t["search_term"],
                                                      "match_type": "negative_exact"})


def budget_pacing(turn: Turn, *, act: bool, days: int) -> Iterator[AgentEvent]:
    days = min(days, 14)
    span = window(turn, days)
    data = yield from turn.read("ads__list_campaigns", {**span, "state": "enabled", "sort_by": "spend", "limit": 500})
    if data is None:
        return
    rows = []
    for c in data.get("campaigns", []):
        if c["daily_budget"] > 0:
            rows.append({**c, "per_day": c["spend"] / days, "use": c["spend"] / days / c["daily_budget"]})
    full = sorted((c for c in rows if c["use"] >= 0.95), key=lambda c: -c["use"])[:MAX_PROPOSALS]
    idle = sorted((c for c in rows if c["use"] < 0.5), key=lambda c: c["use"])[:MAX_PROPOSALS]
    yield from turn.say(turn.t(f"Budget use on {turn.site} (average day, {span['start_date']} to {span['end_date']}): "
                               f"{len(full)} campaigns spend their whole budget, {len(idle)} use under half of it.\n\n",
                               f"{turn.site} 站点预算使用（日均）：{len(full)} 个广告活动花完全部预算，{len(idle)} 个使用不到一半。\n\n"))
    yield from turn.say(table(["id", turn.t("campaign", "广告活动"), turn.t("budget", "预算"), turn.t("spend/day", "日均花费"),
                               turn.t("use", "使用率"), "ACOS"],
                              [[c["id"], c["name"], num(c["daily_budget"]), num(c["per_day"]), pct(c["use"]), pct(c["acos"])]
                               for c in full + idle]))
    if not act:
        if full or idle:
            yield from turn.say(turn.t("\nSay \"move budget\" to propose the shift.\n", "\n说\"调整预算分配\"即可提交。\n"))
        return
    freed = 0.0
    for c in idle:
        new = round(max(c["per_day"] * 1.3, c["daily_budget"] * 0.5, 1.0), 2)
        if new < c["daily_budget"]:
            freed += c["daily_budget"] - new
            yield from turn.call("ads__update_campaign", {"campaign_id": c["id"], "daily_budget": new})
    for c in full:
        if freed <= 0:
            break
        raise_by = round(min(freed, c["daily_budget"] * 0.5), 2)
        freed -= raise_by
        yield from turn.call("ads__update_campaign", {"campaign_id": c["id"], "daily_budget": round(c["daily_budget"] + raise_by, 2)})


def bid_optimisation(turn: Turn, *, act: bool, days: int) -> Iterator[AgentEvent]:
    region = yield from turn.read("ads__get_regions", {})
    target = float((region or {}).get("acos_target") or 0.30)
    span = window(turn, min(days, 30))
    high = yield from turn.read("ads__list_keywords", {**span, "min_acos": round(target * 1.2, 4), "min_spend": 5, "state": "enabled",
                                                      "sort_by": "spend", "limit": MAX_PROPOSALS})
    low = yield from turn.read("ads__list_keywords", {**span, "max_acos": round(target * 0.5, 4), "min_spend": 5, "state": "enabled",
                                                     "sort_by": "sales", "limit": 5})
    changes = []
    for k in (high or {}).get("keywords", []):
        new = round(max(k["bid"] * max(target / k["acos"], 0.5), k["bid"] - 2.0, 0.02), 2)
        changes.append((k, new))
    for k in (low or {}).get("keywords", []):
        changes.append((k, round(min(k["bid"] * 1.15, k["bid"] + 0.5), 2)))
    yield from turn.say(turn.t(f"ACOS target on {turn.site} is {pct(target)}. Bid changes:\n\n",
                               f"{turn.site} 站点的 ACOS 目标为 {pct(target)}。出价调整：\n\n"))
    yield from turn.say(table(["id", turn.t("keyword", "关键词"), "ACOS", turn.t("bid", "出价"), turn.t("new bid", "新出价")],
                              [[k["id"], k["text"], pct(k["acos"]), num(k["bid"]), num(new)] for k, new in changes]))
    if not act:
        return
    for k, new in changes:
        if new != k["bid"]:
            yield from turn.call("ads__update_bid", {"keyword_id": k["id"], "bid": new})


def weekly_report(turn: Turn, **_: Any) -> Iterator[AgentEvent]:
    this, last = window(turn, 7), {
        "start_date": (turn.today - dt.timedelta(days=14)).isoformat(), "end_date": (turn.today - dt.timedelta(days=8)).isoformat()}
    now = yield from turn.read("ads__get_performance", {**this, "group_by": "week"})
    before = yield from turn.read("ads__get_performance", {**last, "group_by": "week"})
    top = yield from turn.read("ads__list_keywords", {**this, "sort_by": "sales", "limit": 5})
    bottom = yield from turn.read("ads__list_keywords", {**this, "min_spend": 5, "sort_by": "acos", "limit": 5})
    if now is None or before is None:
        return
    a, b = now["totals"], before["totals"]

    def change(key: str, ratio: bool = False) -> str:
        x, y = a.get(key), b.get(key)
        if x is None or y is None:
            return "—"
        if ratio:
            return f"{pct(x)} ({(x - y) * 100:+.1f} pt)"
        return f"{num(x)} ({((x - y) / y * 100) if y else 0:+.1f}%)"

    yield from turn.say(turn.t(f"## Weekly ad report — {turn.site}, {this['start_date']} to {this['end_date']}\n\n",
                               f"## 每周广告报告 — {turn.site}，{this['start_date']} 至 {this['end_date']}\n\n"))
    yield from turn.say(table([turn.t("metric", "指标"), turn.t("this week (vs last week)", "本周（对比上周）")],
                              [[turn.t("spend", "花费"), change("spend")], [turn.t("sales", "销售额"), change("sales")],
                               ["ACOS", change("acos", True)], ["ROAS", change("roas")], [turn.t("orders", "订单"), change("orders")]]))
    for title, rows in ((turn.t("Top keywords (sales)", "销售额最高的关键词"), (top or {}).get("keywords", [])),
                        (turn.t("Bottom keywords (ACOS)", "ACOS 最差的关键词"), (bottom or {}).get("keywords", []))):
        yield from turn.say(f"\n**{title}**\n\n" + table(["id", turn.t("keyword", "关键词"), turn.t("spend", "花费"),
                                                          turn.t("sales", "销售额"), "ACOS"],
                                                         [[k["id"], k["text"], num(k["spend"]), num(k["sales"]), pct(k["acos"])] for k in rows]))
    done = _actions_taken(turn, this["start_date"])
    yield from turn.say(turn.t(f"\n**Actions taken**: {done}\n", f"\n**已执行的操作**：{done}\n"))
    yield from turn.say(turn.t("\n**Next actions**: \"clean up wasted spend\", \"optimise bids\", \"harvest search terms\", "
                               "\"move budget\", \"which products have under 7 days of supply?\"\n",
                               "\n**下一步**：\"清理浪费的花费\"、\"优化出价\"、\"收割搜索词\"、\"调整预算分配\"、\"哪些产品库存不足7天?\"\n"))


def _actions_taken(turn: Turn, since: str) -> str:
    gate = getattr(turn.agent.bridge, "gate", None)
    if gate is None:
        return turn.t("see the Approvals history", "见审批历史")
    try:
        ops = gate.list(site=turn.site, status="succeeded", limit=100)
    except Exception:  # the report is still useful without this line
        return turn.t("see the Approvals history", "见审批历史")
    recent = [op for op in ops if str(op.decided_at or op.created_at)[:10] >= since]
    if not recent:
        return turn.t("none approved and applied this week", "本周没有已批准并执行的操作")
    return "; ".join(f"#{op.id} {op.tool} ({(op.preview or {}).get('summary', '')})" for op in recent[:10])


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
