"""The offline assistant's store playbooks: days of supply, ads of out-of-stock SKUs, orders to ship."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from mcp_bridge.agent.events import AgentEvent
from mcp_bridge.agent.offline.turn import MAX_PROPOSALS, Turn, table


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


# Orders to ship: the ask comes first, then a short table; a day's orders never fill the screen.
SHOWN_ORDERS = 10
WAITING_DAYS = 7  # paid orders older than this are exceptions the store backend reports on its own
NEED_TRACKING = ("**To mark orders shipped I need each order's carrier and tracking number** — nothing is marked "
                 "without them.\n\n",
                 "**标记发货需要每个订单的承运商和运单号**——没有这些信息不会标记任何订单。\n\n")
WAITING = ("{total} paid orders on {site} wait to be shipped (placed {start} to {end}); the oldest first:\n\n",
           "{site} 站点有 {total} 个已付款订单待发货（{start} 至 {end} 下单），最早的在前：\n\n")
NONE_WAITING = ("No paid order on {site} waits to be shipped (placed {start} to {end}).\n",
                "{site} 站点没有待发货的已付款订单（{start} 至 {end} 下单）。\n")
MORE_ORDERS = ("\n…and {count} more.\n", "\n……还有 {count} 个。\n")  # a blank line: not a row of the table above
HOW_TO_SHIP = ("\nSay one line per order, e.g. \"ship {order} via {carrier} {tracking}\".\n",
               "\n每个订单一行，例如：\"{order} 通过 {carrier} {tracking} 发货\"。\n")
NOT_WAITING = ("Order {order} is not a paid order of the last days on {site}; skipped.\n",
               "订单 {order} 不是 {site} 站点近期的已付款订单，已跳过。\n")
# A carrier and a tracking number of the right shape for the example, by the currency the orders are paid in.
EXAMPLE_CARRIERS = {"EUR": ("DHL", "00340434161234567890"), "JPY": ("Yamato", "123456789012")}
DEFAULT_CARRIER = ("UPS", "1Z999AA10123456784")


def ship_orders(turn: Turn, *, shipments: list[dict[str, str]]) -> Iterator[AgentEvent]:
    """Propose the shipments given with carrier and tracking; without them, ask for them and list the orders waiting."""
    span = {"start_date": (turn.today - dt.timedelta(days=WAITING_DAYS - 1)).isoformat(), "end_date": turn.today.isoformat()}
    if not shipments:
        yield from orders_to_ship(turn, span)
        return
    data = yield from turn.read("commerce__list_orders", {**span, "status": "paid", "sort_by": "placed_at", "limit": 500})
    if data is None:
        return
    orders = data.get("orders", [])
    by_key = {o["number"].lower(): o for o in orders} | {str(o["id"]): o for o in orders}
    for shipment in shipments[:MAX_PROPOSALS * 5]:
        order = by_key.get(shipment["order"].lower())
        if order is None:
            yield from turn.say(turn.text(NOT_WAITING, order=shipment["order"], site=turn.site))
            continue
        yield from turn.call("commerce__mark_order_shipped", {"order_id": order["id"], "carrier": shipment["carrier"],
                                                              "tracking_number": shipment["tracking_number"]})


def orders_to_ship(turn: Turn, span: dict[str, str]) -> Iterator[AgentEvent]:
    """What marking orders shipped needs, and the orders waiting for it (oldest first, a screenful at most)."""
    data = yield from turn.read("commerce__list_orders", {**span, "status": "paid", "sort_by": "placed_at",
                                                          "descending": False, "limit": SHOWN_ORDERS})
    if data is None:
        return
    orders, total = data.get("orders", []), data.get("total", 0)
    values = {"site": turn.site.upper(), "start": span["start_date"], "end": span["end_date"]}
    if not orders:
        yield from turn.say(turn.text(NONE_WAITING, **values))
        return
    yield from turn.say(turn.text(NEED_TRACKING))
    yield from turn.say(turn.text(WAITING, total=total, **values))
    yield from turn.say(table([turn.t("order", "订单号"), turn.t("placed", "下单时间"), turn.t("items", "件数"),
                               turn.t("total", "金额")],
                              [[o["number"], str(o["placed_at"])[:16].replace("T", " "), o["item_count"],
                                turn.money(o["total"], o.get("currency"))] for o in orders]))
    if total > len(orders):
        yield from turn.say(turn.text(MORE_ORDERS, count=total - len(orders)))
    carrier, tracking = EXAMPLE_CARRIERS.get(str(orders[0].get("currency")), DEFAULT_CARRIER)
    yield from turn.say(turn.text(HOW_TO_SHIP, order=orders[0]["number"], carrier=carrier, tracking=tracking))
