"""Inventory: stock, days of supply, velocity and reorder suggestions; SKUs narrowed by a search with drill-down, at
risk and out of stock with live ads."""

from __future__ import annotations

import streamlit as st

from console.dashboards import charts, search, tables, tiles
from console.i18n import _, pgettext
from pages import dashboard_drilldowns as drilldowns
from pages import dashboard_kit as kit
from pages import dashboard_loaders as loaders
from pages.components import empty_state, page_header, render_error
from pages.state import current_caller, get_runtime, site_select

runtime = get_runtime()
caller = current_caller(("manager", "seller"))
page_header(pgettext("page", "Inventory"), _("How long the stock lasts at the current sales velocity, and what to reorder."))

sites = loaders.sites_of(caller)
top = st.columns(4)
site = site_select(sorted(caller.sites), key="inv-site", where=top[0])
threshold = top[1].number_input(_("At risk under (days of supply)"), 1, 120, 14, key="inv-threshold")
safety = top[2].number_input(_("Safety stock (days)"), 0, 90, 7, key="inv-safety")
only_risk = top[3].toggle(_("Only SKUs at risk"), key="inv-only-risk")
query = st.text_input(_("Search"), key="inv-search", placeholder=_("Search a SKU, ASIN, product or category"),
                      icon=":material/search:", help=_("Case and accents do not matter: “creme” finds “Crème”.")).strip()

try:
    with st.spinner(_("Loading inventory…")):
        view = loaders.inventory_view(caller.user, sites, site=site, days_threshold=float(threshold),
                                      safety_days=int(safety), only_at_risk=only_risk, limit=500)
        asins = loaders.variants(caller.user, sites, site=site)[["sku", "asin"]] if query else None
except Exception as exc:
    render_error(exc)
    st.stop()

kit.tiles(tiles.inventory_tiles(view, lang=kit.lang()), per_row=4)
st.caption(_("Reorder = velocity × (lead time + safety days) − on hand − inbound. "
             "Days of supply = (on hand − reserved) ÷ units sold per day. "
             "Sold = units on paid or later orders up to {date}; 7-day pace = the last 7 days against the "
             "velocity (a SKU selling faster than its velocity runs out sooner than its days of supply say).")
           .format(date=view.sold_through))

if view.items.empty:
    empty_state(_("No SKUs match"), _("Turn off “Only SKUs at risk” or raise the threshold to see more SKUs."))
    st.stop()
items = view.items
if query:
    items = search.narrow(items.merge(asins, on="sku", how="left"), query, ["sku", "asin", "title", "category"])
    if items.empty:
        kit.no_match(query, "SKUs")
        st.stop()

skus, supply, oos_tab, alerts = st.tabs([_("SKUs"), _("Days of supply"), _("Out of stock with live ads"),
                                         _("Alerts")], key="inv-tab", on_change="rerun")
with skus:
    if skus.open:
        counted = _("SKUs ({shown} of {total})") if query else _("SKUs ({shown})")
        st.subheader(counted.format(shown=len(items), total=view.total))
        st.caption(_("Status: out of stock, or at risk (fewer days of supply than the threshold)."))
        more = kit.more_columns("inv-skus", tables.INVENTORY)
        kit.grid(kit.paged(items, key="inv-skus"), tables.INVENTORY, key="inv-skus", more=more)
        kit.download(items, f"inventory-{site}.csv", key="dl-inventory", layout=tables.INVENTORY)
        drilldowns.sku(caller, site, items)

with supply:
    if supply.open:
        st.plotly_chart(charts.days_of_supply_bars(items, threshold=float(threshold)), key="inv-dos")

with oos_tab:
    if oos_tab.open:
        oos = items[items["out_of_stock"] & (items["live_ads"] > 0)]
        st.caption(_("These ads spend money on products nobody can buy."))
        if oos.empty:
            empty_state(_("No SKU is out of stock with live ads"), _("Nothing to pause here."))
        else:
            kit.grid(oos, tables.OUT_OF_STOCK, key="inv-oos")

with alerts:
    if alerts.open:
        st.caption(_("Stock as of now; days of supply use the 30-day sales velocity (each panel states its days)."))
        kit.alert_panels(runtime, caller, site, loaders.today(caller, site), kinds=("inventory",), acos_target=None,
                         currency="")
