"""Words for stored values and column names: one table each, so they read well and can be translated in one place.

Both tables hold English marked with `N_()`; `label()` and `header()` translate at lookup time, into the language of
the run (console.i18n), so the same table serves an English and a Chinese reader. Acronyms (ACOS, SKU…) stay as
they are in every language and are not marked.
"""

from __future__ import annotations

from typing import Any

from console.formatting.numbers import NONE, missing
from console.i18n import N_, _

# Stored value → what people read. Keys are the values as the servers and the console database keep them.
LABELS: dict[str, str] = {
    # operations and their audit events
    "proposed": N_("Waiting for approval"), "edited": N_("Edited"), "approved": N_("Approved"),
    "executing": N_("Running"), "executed": N_("Executed"), "succeeded": N_("Succeeded"), "failed": N_("Failed"),
    "unknown": N_("Outcome unknown"), "rejected": N_("Rejected"), "expired": N_("Expired"),
    "proposal_deduplicated": N_("Already waiting"), "running": N_("Running"),
    # where a call or an operation came from
    "chat": N_("Chat"), "ui": N_("Console page"), "daily": N_("Daily run"), "weekly": N_("Weekly run"),
    "alert": N_("Alert"), "schedule": N_("Scheduled run"), "cli": N_("Command line"), "gateway": N_("Gateway"),
    "bench": N_("Benchmark"),
    # filters: the option that filters nothing
    "all": N_("All"),
    # ads
    "enabled": N_("Enabled"), "paused": N_("Paused"), "archived": N_("Archived"), "exact": N_("Exact"),
    "phrase": N_("Phrase"), "broad": N_("Broad"), "negative_exact": N_("Negative exact"),
    "negative_phrase": N_("Negative phrase"),
    "SP": N_("Sponsored Products"), "SB": N_("Sponsored Brands"), "SD": N_("Sponsored Display"),
    "amazon": N_("Amazon"), "meta": N_("Meta"), "google": N_("Google"),
    "exhausted_early": N_("Out of budget early"), "exhausted": N_("Out of budget early"),
    "under_utilised": N_("Under-utilised"), "ok": N_("On track"),
    "lower_bid": N_("Lower bid"), "raise_bid": N_("Raise bid"), "review": N_("Review"), "pause": N_("Pause"),
    "cut_bid": N_("Cut bid"), "negative": N_("Add negative"), "no_orders": N_("No orders"),
    "acos_over_max": N_("ACOS over the maximum"), "exact_keyword": N_("Exact keyword"),
    "product_target": N_("Product target"), "keyword": N_("Keyword"), "search_term": N_("Search term"),
    "campaign": N_("Campaign"), "over": N_("Over target"), "under": N_("Well under target"),
    "spike": N_("Spike"), "drop": N_("Drop"), "flat": N_("Flat"),
    # store
    "active": N_("Active"), "draft": N_("Draft"), "inactive": N_("Inactive"), "disabled": N_("Disabled"),
    "ended": N_("Ended"), "committed": N_("Committed"), "pending": N_("Pending"), "paid": N_("Paid"),
    "shipped": N_("Shipped"), "delivered": N_("Delivered"), "cancelled": N_("Cancelled"), "returned": N_("Returned"),
    "requested": N_("Requested"), "confirmed": N_("Confirmed"), "refunded": N_("Refunded"), "percent": N_("Percent"),
    "fixed": N_("Fixed amount"), "pause_ads_and_reorder": N_("Pause ads and reorder"), "reorder": N_("Reorder"),
    "watch": N_("Watch"),
    # people
    "seller": N_("Seller"), "manager": N_("Manager"), "approver": N_("Approver"), "admin": N_("Admin"),
}
BOOLEANS = {True: N_("Yes"), False: N_("No")}

# Column name → header. Every column the dashboards' tables, grids and downloads show is here, so each header is
# translated; a name not here still reads as its words ("campaign_name" → "Campaign name"), in English. "key" and
# "by" are left to their tables' own headers (Category, Proposer): the bare words mean other things elsewhere.
HEADERS: dict[str, str] = {
    # acronyms: the same in every language
    "acos": "ACOS", "roas": "ROAS", "tacos": "TACoS", "ctr": "CTR", "cvr": "CVR", "cpc": "CPC", "asin": "ASIN",
    "sku": "SKU", "id": "ID",
    # ads
    "avg_cpc": N_("Avg CPC"), "text": N_("Keyword"), "campaign_name": N_("Campaign"),
    "daily_budget": N_("Daily budget"), "match_type": N_("Match"), "campaign_type": N_("Type"), "utilisation": N_("Utilisation"), "name": N_("Name"),
    "state": N_("State"), "spend": N_("Spend"), "sales": N_("Sales"), "orders": N_("Orders"),
    "platform": N_("Platform"), "targeting": N_("Targeting"), "impressions": N_("Impressions"), "clicks": N_("Clicks"),
    "bid": N_("Bid"), "detail": N_("Detail"), "campaigns": N_("Campaigns"), "status": N_("Status"),
    "avg_spend": N_("Avg spend"), "typical_ran_out_at": N_("Typical ran out at"),
    "days_exhausted_early": N_("Days exhausted early"), "days_exhausted": N_("Days exhausted"),
    "suggested_budget": N_("Suggested budget"), "week_ago": N_("A week earlier"), "daily_savings": N_("Saves / day"),
    # sales
    "title": N_("Title"), "category": N_("Category"), "revenue": N_("Revenue"), "units": N_("Units"),
    "returned_units": N_("Returned units"), "returns_rate": N_("Returns rate"), "share": N_("Share"),
    "week_revenue": N_("Week revenue"), "previous_week_revenue": N_("Previous week revenue"), "change": N_("Change"),
    "lines": N_("Lines"), "site": N_("Site"), "aov": N_("AOV"), "revenue_change": N_("Revenue change"),
    "orders_change": N_("Orders change"), "period": N_("Period"), "anomaly": N_("Anomaly"), "partial": N_("Partial"),
    "product_id": N_("Product id"), "option": N_("Option"), "price": N_("Price"),
    # inventory
    "days_of_supply": N_("Days of supply"), "available": N_("Available"), "reorder_quantity": N_("Reorder quantity"),
    "velocity_per_day": N_("Velocity per day"), "sold_7d": N_("Sold 7d"), "sold_30d": N_("Sold 30d"),
    "pace_change": N_("Pace change"), "on_hand": N_("On hand"), "reserved": N_("Reserved"), "inbound": N_("Inbound"),
    "lead_time_days": N_("Lead time days"), "at_risk": N_("At risk"), "out_of_stock": N_("Out of stock"),
    "live_ads": N_("Live ads"), "variant_id": N_("Variant id"),
    # operations
    "when": N_("When"), "target": N_("Target"), "applied_at": N_("Applied"),
    "executed_at": N_("Executed"), "created_at": N_("Created"),
}


def label(value: Any) -> str:
    """What a stored value reads as: `under_utilised` → `Under-utilised`, None → `—`, unknown codes as words."""
    if isinstance(value, bool):
        return _(BOOLEANS[value])
    if missing(value):
        return NONE
    text = str(value)
    if text in LABELS:
        return _(LABELS[text])
    if text.lower() in LABELS:
        return _(LABELS[text.lower()])
    if not text or text.lower() in ("none", "null", "nan"):
        return NONE
    return words(text) if "_" in text else text


def words(name: str) -> str:
    """`campaign_name` → `Campaign name`: a snake_case name as a sentence-case phrase."""
    spaced = name.replace("_", " ").strip()
    return spaced[:1].upper() + spaced[1:]


def header(column: str, *, currency: str | None = None) -> str:
    """A column's header; with a currency, money columns say it: `Spend (EUR)`."""
    text = _(HEADERS[column]) if column in HEADERS else words(column)
    return _("{header} ({currency})").format(header=text, currency=currency) if currency else text
