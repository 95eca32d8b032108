"""Drill-downs of the dashboards: a campaign → its ad groups, keywords and search terms; a SKU or a product → its
stock, ads and change history. Each list narrows to the search."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from console.dashboards import history, search, tables, tiles
from console.i18n import _
from pages import dashboard_kit as kit
from pages import dashboard_loaders as loaders
from pages.components import empty_state, render_error

NONE = "—"


def _pick(label: str, options: dict[Any, str], *, key: str, first: str = NONE) -> Any:
    """A selectbox of ids shown by name (names repeat: "yoga mat" exact and phrase); None for the first entry."""
    return st.selectbox(label, [None, *options], key=key, format_func=lambda o: first if o is None else options[o])


def change_history(caller, site: str, *, key: str, **entities: Any) -> None:
    """The operations filed on the entities (proposed, approved, executed…), newest first."""
    found = history.entity_history(loaders.operations(site), **entities)
    st.markdown(_("**Change history** ({count})").format(count=len(found)))
    if found.empty:
        st.caption(_("No change has been proposed for it in the console yet."))
        return
    kit.grid(found, tables.HISTORY, key=key)


def campaign(caller, f: kit.Filters, campaigns: pd.DataFrame, currency: str) -> None:
    """Pick a campaign, then an ad group and a keyword: each narrows the lists under it."""
    chosen = _pick(_("Drill into a campaign"), dict(zip(campaigns["id"], campaigns["name"], strict=True)), key="ads-drill")
    if chosen is None:
        return
    name = str(campaigns.loc[campaigns["id"] == chosen, "name"].iloc[0])
    where = {"site": f.site, "campaign_id": int(chosen), "start": f.period.start, "end": f.period.end}
    try:
        drill = loaders.drilldown(caller.user, loaders.sites_of(caller), **where)
        # A search that found the campaign by one of its keywords narrows to them; found by its name or by a
        # product it advertises, the campaign is shown whole.
        named = search.matches([name], f.query)[0]
        query = f.query if f.query and not named and not search.narrow(drill.keywords, f.query, ["name"]).empty else ""
        left, right = st.columns(2)
        with left:
            group = _pick(_("Ad group"), dict(zip(drill.ad_groups["id"], drill.ad_groups["name"], strict=True)),
                          key="ads-drill-group", first=_("All ad groups"))
        if group is not None:
            where["ad_group_id"] = int(group)
            drill = loaders.drilldown(caller.user, loaders.sites_of(caller), **where)
        keywords = search.narrow(drill.keywords, query, ["name"])
        with right:
            labels = {k: f"{n} ({d})" for k, n, d in zip(keywords["id"], keywords["name"], keywords["detail"], strict=True)}
            keyword = _pick(_("Keyword"), labels, key="ads-drill-keyword", first=_("All keywords"))
        if keyword is not None:
            drill = loaders.drilldown(caller.user, loaders.sites_of(caller), **where, keyword_id=int(keyword))
    except Exception as exc:
        render_error(exc)
        return
    if query:
        st.caption(_("Keywords and search terms narrowed to “{query}”; clear the search to see all of the campaign.")
                   .format(query=query))
    terms = search.narrow(drill.search_terms, query, ["name"])
    lists = (  # each list: its heading, what says none of it matched the search, what says it had no activity
        (drill.ad_groups, tables.AD_GROUPS, "ad-groups", _("**Ad groups** ({count})"), None,
         _("No ad groups with activity here in this range; widen the dates or pick another ad group.")),
        (keywords, tables.KEYWORDS, "keywords", _("**Keywords** ({count})"),
         _("No keywords here match “{query}”; clear the search or pick another ad group."),
         _("No keywords with activity here in this range; widen the dates or pick another ad group.")),
        (terms, tables.SEARCH_TERMS, "search-terms", _("**Search terms** ({count})"),
         _("No search terms here match “{query}”; clear the search or pick another ad group."),
         _("No search terms with activity here in this range; widen the dates or pick another ad group.")))
    for frame, layout, what, heading, unmatched, inactive in lists:
        st.markdown(heading.format(count=len(frame)))
        if frame.empty and query and unmatched:
            st.caption(unmatched.format(query=query))
        elif frame.empty:
            st.caption(inactive)
        else:
            kit.grid(frame, layout, currency=currency, key=f"ads-drill-{what}")
    change_history(caller, f.site, key="ads-drill-history", campaign_ids=[chosen], ad_group_ids=drill.ad_groups["id"],
                   keyword_ids=drill.keywords["id"])


def sku(caller, site: str, items: pd.DataFrame) -> None:
    """Pick a SKU: its stock and pace, its product ads, and the changes proposed for it."""
    options = dict(zip(items["sku"], items["sku"] + " · " + items["title"].fillna(""), strict=True))
    chosen = _pick(_("Drill into a SKU"), options, key="inv-drill")
    if chosen is None:
        return
    row = items[items["sku"] == chosen]
    kit.tiles(tiles.sku_tiles(row.iloc[0].to_dict(), site=site, lang=kit.lang()), per_row=4)
    try:
        ads = loaders.product_ads(caller.user, loaders.sites_of(caller), site=site)
    except Exception as exc:
        render_error(exc)
        return
    mine = ads[ads["sku"] == chosen]
    st.markdown(_("**Product ads** ({count})").format(count=len(mine)))
    if mine.empty:
        st.caption(_("This SKU is not advertised."))
    else:
        kit.grid(mine, tables.PRODUCT_ADS, key="inv-drill-ads")
    change_history(caller, site, key="inv-drill-history", skus=[chosen], variant_ids=row["variant_id"])


def product(caller, site: str, products: pd.DataFrame, currency: str) -> None:
    """Pick a product: its SKUs with price, stock and pace, and the changes proposed for it."""
    named = products.drop_duplicates("product_id")
    chosen = _pick(_("Drill into a product"), dict(zip(named["product_id"], named["title"], strict=True)),
                   key="sales-drill")
    if chosen is None:
        return
    try:
        skus = loaders.variants(caller.user, loaders.sites_of(caller), site=site)
        stock = loaders.inventory_view(caller.user, loaders.sites_of(caller), site=site, limit=500).items
    except Exception as exc:
        render_error(exc)
        return
    mine = skus[skus["product_id"] == chosen]
    st.markdown(_("**SKUs** ({count})").format(count=len(mine)))
    if mine.empty:
        empty_state(_("No SKUs of this product on the site"))
        return
    kit.grid(mine, tables.VARIANTS, currency=currency, key="sales-drill-skus")
    paced = stock[stock["sku"].isin(mine["sku"])]
    if not paced.empty:
        st.markdown(_("**Stock and pace**"))
        kit.grid(paced, tables.INVENTORY, key="sales-drill-stock")
    change_history(caller, site, key="sales-drill-history", product_ids=[chosen], variant_ids=mine["id"],
                   skus=mine["sku"])
