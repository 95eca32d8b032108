"""Ads: KPI tiles against a comparison period of choice, trend against the ACOS target, ranked campaigns narrowed by a
search with drill-down, budget pacing, platforms side by side, and alert panels that propose fixes."""

from __future__ import annotations

import streamlit as st

from console import formatting
from console.dashboards import charts, search, tables, tiles
from console.formatting import label
from console.i18n import N_, _, pgettext
from pages import dashboard_drilldowns as drilldowns
from pages import dashboard_kit as kit
from pages import dashboard_loaders as loaders
from pages.components import empty_state, page_header, render_error
from pages.state import current_caller, get_runtime

TOP, ALL = 20, 500  # campaigns shown first; read (the most a page of the tool holds), so a search sees them all
# The lists a search finds besides campaigns: the heading over each (English names stay in the widget keys).
FOUND_HEADINGS = {"Keywords": N_("**Keywords matching “{query}”** ({count})"),
                  "Product ads": N_("**Product ads matching “{query}”** ({count})")}

runtime = get_runtime()
caller = current_caller(("manager", "seller"))
page_header(pgettext("page", "Ads"), _("Spend, sales and efficiency of every campaign; alerts with a one-click proposed fix."))

f = kit.filters(caller, key="ads", search=_("Search a campaign, keyword, ASIN or SKU"))
cols = st.columns(4)
platform = cols[0].selectbox(_("Platform"), ["All", "amazon", "meta", "google"], key="ads-platform", format_func=label)
ctype = cols[1].selectbox(_("Campaign type"), ["All", "SP", "SB", "SD"], key="ads-type", format_func=label)
cstate = cols[2].selectbox(_("State"), ["All", "enabled", "paused", "archived"], key="ads-state", format_func=label)
rank_by = cols[3].selectbox(_("Rank campaigns by"), ["spend", "sales", "acos", "roas", "orders", "clicks", "ctr",
                                                     "cvr", "cpc"], key="ads-rank", format_func=formatting.header)
chosen = {k: (None if v == "All" else v) for k, v in (("platform", platform), ("campaign_type", ctype), ("state", cstate))}
sites = loaders.sites_of(caller)

try:
    with st.spinner(_("Loading the ads dashboard…")):
        view = loaders.ads_view(caller.user, sites, site=f.site, start=f.period.start, end=f.period.end,
                                compare=f.compared, rank_by=rank_by, limit=ALL, **chosen)
except Exception as exc:
    render_error(exc)
    st.stop()

st.caption(f.caption(view.currency))
kit.tiles(tiles.ads_tiles(view, lang=kit.lang()))
if view.daily.empty:
    empty_state(_("No ad activity in this range"),
                _("Widen the dates, pick another site, or set the platform, type and state back to All."))
    st.stop()

trend, table, pacing, platforms, alerts = st.tabs([_("Trend"), _("Campaigns"), _("Budget pacing"),
                                                   _("Platforms"), _("Alerts")], key="ads-tab", on_change="rerun")
with trend:
    if trend.open:
        st.plotly_chart(charts.ads_trend(view.daily, currency=view.currency, acos_target=view.acos_target),
                        key="ads-trend")

with table:
    if table.open:
        campaigns, keywords, ads = view.campaigns, None, None
        if f.query:
            try:
                with st.spinner(_("Searching keywords, SKUs and ASINs…")):
                    keywords = search.narrow(loaders.keywords(caller.user, sites, site=f.site, period=f.period),
                                             f.query, ["text"])
                    ads = search.narrow(loaders.product_ads(caller.user, sites, site=f.site), f.query,
                                        ["sku", "asin", "title"])
            except Exception as exc:
                render_error(exc)
                st.stop()
            ids = search.campaigns_matching(f.query, view.campaigns, keywords, ads)
            campaigns = view.campaigns[view.campaigns["id"].isin(ids)]
            st.caption(_("{shown} of {total} campaigns match “{query}” by name, keyword, SKU or ASIN").format(
                shown=len(campaigns), total=view.total_campaigns, query=f.query))
        else:
            top = len(campaigns) <= TOP or st.toggle(_("All {total} campaigns").format(total=view.total_campaigns),
                                                     key="ads-all")
            campaigns = campaigns if top else campaigns.head(TOP)
            ranked = _("All {total} campaigns by {metric}") if top else _("Top {top} of {total} campaigns by {metric}")
            st.caption(ranked.format(top=TOP, total=view.total_campaigns, metric=formatting.header(rank_by)))
        if campaigns.empty:
            kit.no_match(f.query, "campaigns")
        else:
            kit.grid(campaigns, tables.CAMPAIGNS, currency=view.currency, key="ads-campaigns",
                     more=kit.more_columns("ads-campaigns", tables.CAMPAIGNS))
            kit.download(campaigns, f"campaigns-{f.site}-{f.period.start}-{f.period.end}.csv", key="dl-campaigns",
                         layout=tables.CAMPAIGNS, currency=view.currency)
            for heading, found, layout in (("Keywords", keywords, tables.KEYWORD_MATCHES),
                                          ("Product ads", ads, tables.PRODUCT_ADS)):
                if found is not None and not found.empty:
                    st.markdown(_(FOUND_HEADINGS[heading]).format(query=f.query, count=len(found)))
                    kit.grid(found, layout, currency=view.currency, key=f"ads-found-{heading}")
            drilldowns.campaign(caller, f, campaigns, view.currency)

with pacing:
    if pacing.open:
        kit.budget_pacing_panel(caller, f.site, view.currency, start=f.period.start, end=f.period.end)

with platforms:
    if platforms.open:
        st.plotly_chart(charts.platform_bars(view.platforms, currency=view.currency), key="ads-platforms")
        kit.grid(view.platforms, tables.PLATFORMS, currency=view.currency, key="ads-platforms-table")

with alerts:
    if alerts.open:
        st.caption(_("The checks keep their own windows (the daily run's), not the range above: each panel says "
                     "which days its figures cover."))
        kit.alert_panels(runtime, caller, f.site, f.today, kinds=("ads", "budgets"), acos_target=view.acos_target,
                         currency=view.currency)
