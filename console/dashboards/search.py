"""Search on the dashboards: a keyword, ASIN, SKU, product or campaign, matched regardless of case and accents."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

import pandas as pd

from console.dashboards.data import ToolCaller, frame, read
from mcp_bridge.types import Caller

PAGE = 500  # the list tools' largest page
MOST_ROWS = 5000  # a site with more keywords or ads than this is searched in its first rows only
# Latin diacritics only: a Japanese voicing mark (が = か + ゙) changes the word, an accent does not.
ACCENTS = re.compile("[\u0300-\u036f]")


def fold(text: Any) -> str:
    """`Café Crème` → `cafe creme`; full-width letters and digits as plain ones; None → ``."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return ""
    decomposed = ACCENTS.sub("", unicodedata.normalize("NFKD", str(text)))
    return unicodedata.normalize("NFKC", decomposed).casefold().strip()


def matches(values: Iterable[Any], query: str) -> list[bool]:
    """Which values contain the query (folded); everything matches an empty query."""
    needle = fold(query)
    return [needle in fold(v) for v in values] if needle else [True for _ in values]


def narrow(table: pd.DataFrame, query: str, columns: Iterable[str]) -> pd.DataFrame:
    """The rows of `table` with the query in any of `columns`."""
    needle = fold(query)
    if not needle or table.empty:
        return table
    hit = pd.Series(False, index=table.index)
    for column in columns:
        if column in table:
            hit |= pd.Series(matches(table[column], needle), index=table.index)
    return table[hit]


def _all_rows(bridge: ToolCaller, caller: Caller, tool: str, key: str, arguments: dict[str, Any]) -> list[dict]:
    """Every row of a paged list tool (up to MOST_ROWS)."""
    rows: list[dict] = []
    while len(rows) < MOST_ROWS:
        page = read(bridge, caller, tool, arguments | {"limit": PAGE, "offset": len(rows)})
        rows.extend(page[key])
        if not page[key] or len(rows) >= int(page.get("total", 0)):
            break
    return rows


KEYWORD_COLUMNS = ["id", "text", "match_type", "campaign_id", "campaign_name", "ad_group_id", "state", "bid",
                   "impressions", "clicks", "spend", "sales", "orders", "acos", "roas", "ctr", "cvr", "cpc"]
VARIANT_COLUMNS = ["id", "product_id", "product_title", "sku", "asin", "option", "price", "status"]
PRODUCT_AD_COLUMNS = ["id", "sku", "variant_id", "campaign_id", "campaign_name", "ad_group_id", "state", "available"]


def keywords(bridge: ToolCaller, caller: Caller, *, site: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Every keyword of the site with its metrics over the range (ads__list_keywords)."""
    rows = _all_rows(bridge, caller, "ads__list_keywords", "keywords",
                     {"site": site, "start_date": start.isoformat(), "end_date": end.isoformat()})
    return frame(rows, KEYWORD_COLUMNS)


def variants(bridge: ToolCaller, caller: Caller, *, site: str) -> pd.DataFrame:
    """Every SKU of the site with its ASIN and product (commerce__list_variants)."""
    return frame(_all_rows(bridge, caller, "commerce__list_variants", "variants", {"site": site}), VARIANT_COLUMNS)


def product_ads(bridge: ToolCaller, caller: Caller, *, site: str, skus: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every product ad of the site, with the ASIN and product of its SKU when `skus` (variants) is given."""
    ads = frame(_all_rows(bridge, caller, "ads__list_product_ads", "product_ads", {"site": site}), PRODUCT_AD_COLUMNS)
    if skus is None or skus.empty:
        return ads.assign(asin="", title="")
    named = skus[["id", "asin", "product_title"]].rename(columns={"id": "variant_id", "product_title": "title"})
    return ads.merge(named, on="variant_id", how="left")


def campaigns_matching(query: str, campaigns: pd.DataFrame, found_keywords: pd.DataFrame,
                       found_ads: pd.DataFrame) -> set[int]:
    """Campaigns whose name matches, or that hold a matching keyword or an ad of a matching SKU, ASIN or product."""
    named = narrow(campaigns, query, ["name"])
    ids = {int(i) for i in named["id"]}
    ids |= {int(i) for i in narrow(found_keywords, query, ["text"])["campaign_id"]}
    ids |= {int(i) for i in narrow(found_ads, query, ["sku", "asin", "title"])["campaign_id"]}
    return ids


def products_matching(query: str, products: pd.DataFrame, skus: pd.DataFrame) -> pd.DataFrame:
    """Products whose title or category matches, or one of whose SKUs or ASINs does."""
    if not fold(query) or products.empty:
        return products
    by_code = set(narrow(skus, query, ["sku", "asin"])["product_id"]) if not skus.empty else set()
    hit = pd.Series(matches(products["title"], query), index=products.index)
    hit |= pd.Series(matches(products["category"], query), index=products.index)
    hit |= products["product_id"].isin(by_code)
    return products[hit]
