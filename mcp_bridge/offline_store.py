"""The offline assistant's store playbooks: days of supply, ads of out-of-stock SKUs, orders to ship."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from mcp_bridge.events import AgentEvent
from mcp_bridge.offline import MAX_PROPOSALS, Turn, num, table


def low_stock(turn: Turn, *, days: int) -> Iterator[AgentEvent]:
    data = yield from turn.read("analytics__get_inventory_alerts", {"days_threshold": days, "limit": 50})
    if data is None:
        return
    items = data.get("items", [])
    yield from turn.say(turn.t(f"{data.get('total', len(items))} SKUs on {turn.site} have under {days} days of supply "
                               "(reorder quantity covers lead time plus safety stock):\n\n",
                               f"{turn.site} 站点有 {data.get('total', len(items))} 个 SKU 库存不足 {days} 天（建议补货量覆盖交货期和安全库存）：\n\n"))
    yield from turn.say(table(["SKU", turn.t("product", "产品"), turn.t("available", "可售"), turn.t("inbound", "在途"),
                               turn.t("sold/day", "日销量"), turn.t("days of supply", "可售天数"), turn.t("reorder", "建议补货"),
                               turn.t("live ads", "在投广告")],
                              [[v["sku"], v["title"][:40], v["available"], v["inbound"], f"{v['velocity_per_day']:.1f}",
                                v["days_of_supply"], v["reorder_quantity"], v["live_ads"]] for v in items]))
    if any(v["out_of_stock"] and v["live_ads"] for v in items):
        yield from turn.say(turn.t("\nSome are out of stock with ads still running: say \"pause ads of out-of-stock SKUs\".\n",
                                   "\n部分 SKU 已缺货但广告仍在投放：说\"暂停缺货SKU的广告\"。\n"))


def pause_out_of_stock_ads(turn: Turn, **_: Any) -> Iterator[AgentEvent]:
    data = yield from turn.read("analytics__get_inventory_alerts", {"only_out_of_stock_with_ads": True, "limit": 100})
    if data is None:
        return
    skus = list(dict.fromkeys(v["sku"] for v in data.get("items", [])))
    yield from turn.say(turn.t(f"{len(skus)} out-of-stock SKUs on {turn.site} still have live ads: {', '.join(skus) or 'none'}.\n",
                               f"{turn.site} 站点有 {len(skus)} 个缺货 SKU 仍在投放广告：{', '.join(skus) or '无'}。\n"))
    for sku in skus[:MAX_PROPOSALS * 2]:
        yield from turn.call("ads__pause_product_ads", {"sku": sku})


def ship_orders(turn: Turn, *, shipments: list[dict[str, str]]) -> Iterator[AgentEvent]:
    span = {"start_date": (turn.today - dt.timedelta(days=3)).isoformat(), "end_date": turn.today.isoformat()}
    data = yield from turn.read("commerce__list_orders", {**span, "status": "paid", "sort_by": "placed_at", "limit": 200})
    if data is None:
        return
    orders = data.get("orders", [])
    if not shipments:
        yield from turn.say(turn.t(f"{len(orders)} paid orders on {turn.site} wait to be shipped (placed since {span['start_date']}):\n\n",
                                   f"{turn.site} 站点有 {len(orders)} 个已付款订单待发货（{span['start_date']} 起）：\n\n"))
        yield from turn.say(table(["id", turn.t("order", "订单号"), turn.t("placed", "下单时间"), turn.t("items", "件数"),
                                   turn.t("total", "金额")],
                                  [[o["id"], o["number"], str(o["placed_at"])[:16], o["item_count"], num(o["total"])] for o in orders]))
        example = orders[0]["number"] if orders else "US261120-0000001"
        yield from turn.say(turn.t(f"\nMarking an order shipped needs its carrier and tracking number, e.g. "
                                   f"\"ship {example} via UPS 1Z999AA10123456784\" (one per line for several).\n",
                                   f"\n标记发货需要承运商和运单号，例如：\"{example} 通过 UPS 1Z999AA10123456784 发货\"（多个订单每行一个）。\n"))
        return
    by_key = {o["number"].lower(): o for o in orders} | {str(o["id"]): o for o in orders}
    for shipment in shipments[:MAX_PROPOSALS * 5]:
        order = by_key.get(shipment["order"].lower())
        if order is None:
            yield from turn.say(turn.t(f"Order {shipment['order']} is not a paid order of the last days on {turn.site}; skipped.\n",
                                       f"订单 {shipment['order']} 不是 {turn.site} 站点近期的已付款订单，已跳过。\n"))
            continue
        yield from turn.call("commerce__mark_order_shipped", {"order_id": order["id"], "carrier": shipment["carrier"],
                                                              "tracking_number": shipment["tracking_number"]})
