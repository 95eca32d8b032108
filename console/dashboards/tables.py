"""The dashboards' tables as people read them: which columns come first, which wait behind "more columns", their kinds."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from console import formatting
from console.i18n import N_, _, current

# Metrics in the order an ad console shows them: what it cost, what it brought, how efficient.
AD_METRICS = {"spend": "money", "sales": "money", "acos": "ratio", "roas": "multiple", "orders": "count",
              "ctr": "ratio", "cvr": "ratio", "cpc": "money"}
AD_VOLUME = {"impressions": "count", "clicks": "count"}


@dataclass(frozen=True)
class Layout:
    """A table's columns: their kinds (formatting.KINDS), the ones shown first, the rest, headers and widths."""

    kinds: dict[str, str]
    main: tuple[str, ...]
    headers: dict[str, str] = field(default_factory=dict)  # marked with N_(): read them through `header()`
    widths: dict[str, int] = field(default_factory=dict)  # pixels, for the text columns that need room
    per_row_currency: bool = False  # rows of several sites: each amount in its own row's currency, as text

    @property
    def more(self) -> tuple[str, ...]:
        """The columns behind "more columns", in their own order."""
        return tuple(c for c in self.kinds if c not in self.main)

    def columns(self, frame: pd.DataFrame, *, more: bool = False) -> list[str]:
        """The columns to show of `frame`: the main ones, then (with `more`) the rest."""
        wanted = [*self.main, *(self.more if more else ())]
        return [c for c in wanted if c in frame.columns]

    def header(self, column: str) -> str:
        """The column's header in the reader's language: the layout's own, else the formatting layer's."""
        return _(self.headers[column]) if column in self.headers else formatting.header(column)


CAMPAIGNS = Layout(
    {"name": "text", "state": "label", **AD_METRICS, "platform": "label", "campaign_type": "label",
     "targeting": "label", "daily_budget": "money", **AD_VOLUME},
    ("name", "state", *AD_METRICS), headers={"name": N_("Campaign")}, widths={"name": 240})
AD_GROUPS = Layout({"name": "text", "state": "label", "bid": "money", **AD_METRICS, **AD_VOLUME},
                   ("name", "state", "bid", "spend", "sales", "acos", "orders", "cvr", "cpc"),
                   headers={"name": N_("Ad group"), "bid": N_("Default bid")}, widths={"name": 220})
KEYWORDS = Layout({"name": "text", "detail": "label", "state": "label", "bid": "money", **AD_METRICS, **AD_VOLUME},
                  ("name", "detail", "state", "bid", "spend", "sales", "acos", "orders", "cvr", "cpc"),
                  headers={"name": N_("Keyword"), "detail": N_("Match")}, widths={"name": 220})
SEARCH_TERMS = Layout({"name": "text", **AD_METRICS, **AD_VOLUME},
                      ("name", "spend", "sales", "acos", "orders", "cvr", "cpc", "clicks"),
                      headers={"name": N_("Search term")}, widths={"name": 260})
KEYWORD_MATCHES = Layout(
    {"text": "text", "match_type": "label", "campaign_name": "text", "state": "label", "bid": "money", **AD_METRICS,
     **AD_VOLUME}, ("text", "match_type", "campaign_name", "state", "bid", "spend", "sales", "acos", "orders"),
    widths={"text": 200, "campaign_name": 220})
PRODUCT_ADS = Layout({"sku": "text", "asin": "text", "title": "text", "campaign_name": "text", "state": "label",
                      "available": "count"}, ("sku", "asin", "title", "campaign_name", "state", "available"),
                     headers={"title": N_("Product")}, widths={"title": 220, "campaign_name": 220, "sku": 150})
PLATFORMS = Layout({"platform": "label", "campaigns": "count", "spend": "money", "sales": "money", "acos": "ratio",
                    "roas": "multiple", "orders": "count", "cpc": "money", **AD_VOLUME},
                   ("platform", "campaigns", "spend", "sales", "acos", "roas", "orders", "cpc"))
PACING = Layout(
    {"campaign_name": "text", "status": "label", "daily_budget": "money", "avg_spend": "money",
     "utilisation": "ratio", "typical_ran_out_at": "text", "days_exhausted_early": "count",
     "suggested_budget": "money", "platform": "label", "state": "label", "days_exhausted": "count"},
    ("campaign_name", "status", "daily_budget", "avg_spend", "utilisation", "typical_ran_out_at",
     "days_exhausted_early", "suggested_budget"),
    headers={"avg_spend": N_("Avg spend / day"), "typical_ran_out_at": N_("Ran out at"),
             "days_exhausted_early": N_("Days out early"), "suggested_budget": N_("Suggested budget")}, widths={"campaign_name": 240})
PRODUCTS = Layout({"title": "text", "category": "text", "revenue": "money", "units": "count",
                   "returned_units": "count", "returns_rate": "ratio"},
                  ("title", "category", "revenue", "units", "returned_units", "returns_rate"),
                  headers={"title": N_("Product")}, widths={"title": 280})
CATEGORIES = Layout({"key": "text", "revenue": "money", "share": "ratio", "units": "count",
                     "week_revenue": "money", "previous_week_revenue": "money", "change": "ratio", "lines": "count"},
                    ("key", "revenue", "share", "units", "week_revenue", "previous_week_revenue", "change"),
                    headers={"key": N_("Category"), "week_revenue": N_("Last 7 days"),
                             "previous_week_revenue": N_("7 days before"), "change": N_("Week over week")}, widths={"key": 200})
SITES = Layout({"site": "text", "revenue": "money", "orders": "count", "units": "count", "aov": "money",
                "returns_rate": "ratio", "revenue_change": "ratio", "orders_change": "ratio",
                "returned_units": "count"},
               ("site", "revenue", "orders", "units", "aov", "returns_rate", "revenue_change", "orders_change"),
               headers={"aov": N_("AOV"), "revenue_change": N_("Revenue change"), "orders_change": N_("Orders change")},
               per_row_currency=True)
INVENTORY = Layout(
    {"sku": "text", "title": "text", "status": "label", "available": "count", "days_of_supply": "decimal", "reorder_quantity": "count",
     "velocity_per_day": "decimal", "sold_7d": "count", "sold_30d": "count", "pace_change": "ratio",
     "category": "text", "on_hand": "count", "reserved": "count", "inbound": "count", "lead_time_days": "count",
     "at_risk": "label", "out_of_stock": "label", "live_ads": "count"},
    ("sku", "title", "status", "available", "days_of_supply", "reorder_quantity", "velocity_per_day", "sold_30d",
     "pace_change"),
    headers={"title": N_("Product"), "velocity_per_day": N_("Units / day"), "reorder_quantity": N_("Reorder qty"),
             "sold_7d": N_("Sold 7 d"), "sold_30d": N_("Sold 30 d"), "pace_change": N_("7-day pace"),
             "lead_time_days": N_("Lead time (days)")},
    widths={"sku": 140, "title": 250})
OUT_OF_STOCK = Layout({"sku": "text", "title": "text", "available": "count", "inbound": "count", "live_ads": "count"},
                      ("sku", "title", "available", "inbound", "live_ads"), widths={"sku": 150, "title": 280})
VARIANTS = Layout({"sku": "text", "asin": "text", "option": "text", "price": "money", "status": "label"},
                  ("sku", "asin", "option", "price", "status"), headers={"option": N_("Variant")},
                  widths={"sku": 150, "option": 200})
HISTORY = Layout({"when": "datetime", "change": "text", "target": "text", "status": "label", "by": "text",
                  "id": "count"}, ("when", "change", "target", "status", "by"),
                 headers={"when": N_("Proposed"), "by": N_("Proposer"), "id": N_("Operation")},
                 widths={"change": 260, "target": 260})

# Stored codes the formatting layer's word list does not carry yet.
MORE_LABELS = {"auto": N_("Auto"), "manual": N_("Manual")}


def word(value: object) -> str:
    """A stored code as a word (formatting.label, with the dashboards' own codes)."""
    return _(MORE_LABELS[value]) if isinstance(value, str) and value in MORE_LABELS else formatting.label(value)


def readable(frame: pd.DataFrame, table: Layout) -> pd.DataFrame:
    """A copy with stored codes as words (`under_utilised` → `Under-utilised`, None → `—`); numbers stay numbers."""
    out = frame.copy()
    for column, kind in table.kinds.items():
        if column not in out:
            continue
        if kind == "label":
            out[column] = [word(v) for v in out[column]]
        elif kind == "money" and table.per_row_currency and "currency" in out:
            out[column] = [formatting.money(v, c, lang=current())
                           for v, c in zip(out[column], out["currency"], strict=True)]
    return out


def kind_shown(table: Layout, column: str) -> str:
    """The kind a grid shows a column as (per-row amounts arrive as text)."""
    kind = table.kinds.get(column, "text")
    return "text" if kind == "money" and table.per_row_currency else kind


def csv_bytes(frame: pd.DataFrame, table: Layout | None = None, *, currency: str | None = None) -> bytes:
    """A table for download: every column, rounded by kind, readable headers, UTF-8 with a BOM for spreadsheets."""
    kinds = table.kinds if table else {}
    return formatting.csv_frame(frame, kinds, currency=currency).to_csv(index=False).encode("utf-8-sig")
