"""Words for stored values and column names: one table each, so they read well and can be translated in one place."""

from __future__ import annotations

from typing import Any

from console.formatting.numbers import NONE, missing

# Stored value → what people read. Keys are the values as the servers and the console database keep them.
LABELS: dict[str, str] = {
    # operations and their audit events
    "proposed": "Waiting for approval", "edited": "Edited", "approved": "Approved", "executing": "Running",
    "executed": "Executed", "succeeded": "Succeeded", "failed": "Failed", "unknown": "Outcome unknown",
    "rejected": "Rejected", "expired": "Expired", "proposal_deduplicated": "Already waiting", "running": "Running",
    # where a call or an operation came from
    "chat": "Chat", "ui": "Console page", "daily": "Daily run", "weekly": "Weekly run", "alert": "Alert",
    "schedule": "Scheduled run", "cli": "Command line", "gateway": "Gateway", "bench": "Benchmark",
    # ads
    "enabled": "Enabled", "paused": "Paused", "archived": "Archived", "exact": "Exact", "phrase": "Phrase",
    "broad": "Broad", "negative_exact": "Negative exact", "negative_phrase": "Negative phrase",
    "SP": "Sponsored Products", "SB": "Sponsored Brands", "SD": "Sponsored Display",
    "amazon": "Amazon", "meta": "Meta", "google": "Google",
    "exhausted_early": "Out of budget early", "exhausted": "Out of budget early", "under_utilised": "Under-utilised", "ok": "On track",
    "lower_bid": "Lower bid", "raise_bid": "Raise bid", "review": "Review", "pause": "Pause", "cut_bid": "Cut bid",
    "negative": "Add negative", "no_orders": "No orders", "acos_over_max": "ACOS over the maximum",
    "exact_keyword": "Exact keyword", "product_target": "Product target", "keyword": "Keyword",
    "search_term": "Search term", "campaign": "Campaign", "over": "Over target", "under": "Well under target",
    "spike": "Spike", "drop": "Drop", "flat": "Flat",
    # store
    "active": "Active", "draft": "Draft", "inactive": "Inactive", "disabled": "Disabled", "ended": "Ended",
    "committed": "Committed", "pending": "Pending", "paid": "Paid", "shipped": "Shipped", "delivered": "Delivered",
    "cancelled": "Cancelled", "returned": "Returned", "requested": "Requested", "confirmed": "Confirmed",
    "refunded": "Refunded", "percent": "Percent", "fixed": "Fixed amount",
    "pause_ads_and_reorder": "Pause ads and reorder", "reorder": "Reorder", "watch": "Watch",
    # people
    "seller": "Seller", "manager": "Manager", "approver": "Approver", "admin": "Admin",
}
BOOLEANS = {True: "Yes", False: "No"}

# Column name → header. Names not here read as their words ("campaign_name" → "Campaign name").
HEADERS: dict[str, str] = {
    "acos": "ACOS", "roas": "ROAS", "tacos": "TACoS", "ctr": "CTR", "cvr": "CVR", "cpc": "CPC",
    "avg_cpc": "Avg CPC", "asin": "ASIN", "sku": "SKU", "id": "ID", "text": "Keyword", "campaign_name": "Campaign",
    "daily_budget": "Daily budget", "days_of_supply": "Days of supply", "week_ago": "A week earlier",
    "daily_savings": "Saves / day", "applied_at": "Applied", "executed_at": "Executed", "created_at": "Created",
    "match_type": "Match", "campaign_type": "Type", "utilisation": "Utilisation",
}


def label(value: Any) -> str:
    """What a stored value reads as: `under_utilised` → `Under-utilised`, None → `—`, unknown codes as words."""
    if isinstance(value, bool):
        return BOOLEANS[value]
    if missing(value):
        return NONE
    text = str(value)
    if text in LABELS:
        return LABELS[text]
    if text.lower() in LABELS:
        return LABELS[text.lower()]
    if not text or text.lower() in ("none", "null", "nan"):
        return NONE
    return words(text) if "_" in text else text


def words(name: str) -> str:
    """`campaign_name` → `Campaign name`: a snake_case name as a sentence-case phrase."""
    spaced = name.replace("_", " ").strip()
    return spaced[:1].upper() + spaced[1:]


def header(column: str, *, currency: str | None = None) -> str:
    """A column's header; with a currency, money columns say it: `Spend (EUR)`."""
    text = HEADERS.get(column, words(column))
    return f"{text} ({currency})" if currency else text
