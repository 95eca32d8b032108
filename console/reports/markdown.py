"""Markdown reports: the daily operations report and the weekly ads report, with an optional Claude summary."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from console.formatting import (
    change,
    count,
    date_range,
    date_text,
    datetime_text,
    delta,
    hour_text,
    label,
    money,
    multiple,
    number,
    percent,
)
from console.reports.alerts import KINDS, Alert, FixResult
from console.settings import Settings

log = logging.getLogger(__name__)
MAX_ROWS = 15
ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T")  # a timestamp cell shows its day
LANG = "en"  # reports are written in English: numbers in its symbols, amounts in each site's currency

# kind → columns: (item key, header, format); format ∈ money | pct | delta | int | multiple | label | text | days | hour
COLUMNS: dict[str, list[tuple[str, str, str]]] = {
    "sales_anomaly": [("what", "What", "text"), ("revenue", "Revenue", "money"), ("week_ago", "A week earlier", "money"),
                      ("change", "Change", "delta")],
    "acos_over_target": [("text", "Keyword", "text"), ("campaign_name", "Campaign", "text"), ("spend", "Spend", "money"),
                         ("sales", "Sales", "money"), ("acos", "ACOS", "pct"), ("bid", "Bid", "money")],
    "budget_exhausted": [("campaign_name", "Campaign", "text"), ("role", "Finding", "label"),
                         ("daily_budget", "Budget", "money"), ("exhausted_hour", "Ran out at", "hour"),
                         ("utilisation", "Utilisation", "pct")],
    "wasted_spend": [("text", "Keyword", "text"), ("campaign_name", "Campaign", "text"), ("spend", "Spend", "money"),
                     ("orders", "Orders", "int"), ("acos", "ACOS", "pct"), ("daily_savings", "Saves / day", "money")],
    "harvest": [("search_term", "Search term", "text"), ("campaign_name", "Auto campaign", "text"),
                ("orders", "Orders", "int"), ("cvr", "CVR", "pct"), ("avg_cpc", "Avg CPC", "money"),
                ("target_ad_group_name", "Into ad group", "text")],
    "stock_out_risk": [("sku", "SKU", "text"), ("title", "Product", "text"), ("available", "Available", "int"),
                       ("days_of_supply", "Days of supply", "days"), ("reorder_quantity", "Reorder", "int")],
    "oos_live_ads": [("sku", "SKU", "text"), ("title", "Product", "text"), ("live_ads", "Live ads", "int")],
    "low_star_reviews": [("rating", "Stars", "int"), ("product_title", "Product", "text"), ("title", "Review", "text"),
                         ("created_at", "Date", "text"), ("low_star_reviews_of_product", "Low-star reviews of it", "int")],
}


def cell(value: Any, fmt: str, currency: str) -> str:
    """One table cell through the formatting layer: amounts in `currency`, ratios as percentages, counts whole."""
    if value is None or value == "":
        return "—"
    text = {
        "money": lambda v: money(v, currency, lang=LANG),
        "pct": lambda v: percent(v, lang=LANG),
        "delta": lambda v: delta(v, lang=LANG),
        "int": lambda v: count(v, lang=LANG),
        "multiple": lambda v: multiple(v, lang=LANG),
        "days": lambda v: number(v, 1, lang=LANG),
        "hour": lambda v: hour_text(v, lang=LANG),
        "label": label,
    }.get(fmt, lambda v: date_text(v, lang=LANG) if isinstance(v, str) and ISO_DATETIME.match(v) else str(v))(value)
    return text.replace("|", "\\|").replace("\n", " ")


def md_table(items: list[dict[str, Any]], columns: list[tuple[str, str, str]], currency: str, *, limit: int = MAX_ROWS) -> str:
    """A Markdown table of the first `limit` rows, saying how many more there are."""
    head = "| " + " | ".join(h for _, h, _ in columns) + " |\n|" + "---|" * len(columns)
    rows = ["| " + " | ".join(cell(it.get(k), f, currency) for k, _, f in columns) + " |" for it in items[:limit]]
    more = f"\n\n…and {len(items) - limit} more." if len(items) > limit else ""
    return "\n".join([head, *rows]) + more


@dataclass
class SiteFindings:
    """Everything the daily run found on one site."""

    site: str
    currency: str
    acos_target: float
    alerts: list[Alert]
    errors: list[str] = field(default_factory=list)

    def alert(self, kind: str) -> Alert:
        return next((a for a in self.alerts if a.kind == kind), Alert(kind, self.site, []))


def summary_counts(findings: list[SiteFindings], fixes: FixResult | None) -> dict[str, Any]:
    counts: dict[str, Any] = {kind: sum(len(f.alert(kind).items) for f in findings) for kind in KINDS}
    counts["sites"] = [f.site for f in findings]
    counts["errors"] = sum(len(f.errors) for f in findings)
    counts["proposed"] = fixes.proposed if fixes else 0
    counts["refused"] = len(fixes.refused) if fixes else 0
    counts["already_waiting"] = len(fixes.already_waiting) if fixes else 0
    return counts


def template_summary(findings: list[SiteFindings], fixes: FixResult | None) -> str:
    """The plain summary used when Claude is not configured: one line per finding kind, biggest first."""
    counts = summary_counts(findings, fixes)
    lines = []
    for kind, (title, fix) in KINDS.items():
        n = counts[kind]
        if n:
            where = ", ".join(f.site.upper() for f in findings if f.alert(kind).items)
            lines.append(f"- **{title}**: {n} ({where})" + (" — fix proposed" if fix and fixes and fixes.proposed else ""))
    if not lines:
        lines.append("- Nothing needs attention today.")
    if fixes is not None:
        lines.append(f"- **Approval queue**: {fixes.proposed} operations filed as batch `{fixes.batch_id}`"
                     + (f"; {len(fixes.already_waiting)} already waiting from an earlier run" if fixes.already_waiting else "")
                     + (f"; {len(fixes.refused)} refused by policy" if fixes.refused else ""))
    return "\n".join(lines)


def claude_summary(settings: Settings, markdown: str, *, make_client: Callable[..., Any] | None = None) -> str | None:
    """A short manager-facing summary of the report from Claude; None when not configured or on any API error."""
    if not settings.claude_enabled:
        return None
    try:
        if make_client is None:
            from mcp_bridge.agent import make_client
        client = make_client(api_key=settings.anthropic_api_key.get_secret_value(), base_url=settings.anthropic_base_url)
        reply = client.messages.create(
            model=settings.model, max_tokens=600,
            system="You summarise an e-commerce daily operations report for a busy manager: five bullet points at "
                   "most, the biggest money first, name sites and numbers, say what is waiting for approval. "
                   "Markdown bullets only, no heading.",
            messages=[{"role": "user", "content": markdown[:60_000]}],
        )
        text = "".join(getattr(block, "text", "") for block in reply.content).strip()
        return text or None
    except Exception as exc:  # the report must not fail because the summary did
        log.warning("Claude summary failed, using the template: %s", exc)
        return None


def daily_markdown(findings: list[SiteFindings], fixes: FixResult | None, *, run_id: str, user: str,
                   today: dt.date, summary: str | None = None) -> str:
    """The daily operations report: summary, each site's findings, the proposed fixes, reorder suggestions."""
    sites = ", ".join(f.site.upper() for f in findings) or "no sites"
    out = [f"# Daily operations — {date_text(today, lang=LANG)} ({sites})", "",
           f"_Run `{run_id}` by {user}. Each section says which days its figures cover._", "",
           "## Summary", "", summary or template_summary(findings, fixes), ""]
    for f in findings:
        out += [f"## {f.site.upper()} ({f.currency}, ACOS target {percent(f.acos_target, 0, lang=LANG)})", ""]
        for message in f.errors:
            out += [f"> **Check failed**: {message}", ""]
        for kind in KINDS:
            alert = f.alert(kind)
            out += [f"### {alert.title} ({len(alert.items)})", ""]
            if alert.items:
                out += [md_table(alert.items, COLUMNS[kind], f.currency), ""]
                if alert.window_text:
                    out += [f"_{alert.window_text}_", ""]
                if alert.fix:
                    out += [f"_Fix_: {alert.fix}.", ""]
            else:
                out += ["Nothing found.", ""]
            if alert.note:
                out += [f"_{alert.note}_", ""]
    out += ["## Proposed fixes", ""]
    if fixes is None or (not fixes.proposed and not fixes.refused and not fixes.already_waiting):
        out += ["Nothing was filed.", ""]
    else:
        out += [f"**{fixes.proposed}** operations are waiting for approval as batch `{fixes.batch_id}` "
                "(Approvals page; approve or reject them together or one by one).", ""]
        if fixes.already_waiting:
            ids = ", ".join(f"#{i}" for i in fixes.already_waiting[:MAX_ROWS])
            out += [f"{len(fixes.already_waiting)} of today's fixes were already waiting from an earlier run and were "
                    f"not filed again: {ids}" + (" …" if len(fixes.already_waiting) > MAX_ROWS else "") + ".", ""]
        if fixes.refused:
            out += ["Refused by the site's policy (not filed):", ""]
            out += [f"- {what}: {why}" for what, why in fixes.refused[:MAX_ROWS]] + [""]
    return "\n".join(out).rstrip() + "\n"


@dataclass
class WeeklyData:
    """One site's weekly ads figures: this week vs last, top and bottom keywords, actions taken, next actions."""

    site: str
    currency: str
    acos_target: float
    start_date: str
    end_date: str
    kpis: dict[str, Any]
    previous: dict[str, Any]
    changes: dict[str, float | None]
    top_keywords: list[dict[str, Any]]
    bottom_keywords: list[dict[str, Any]]
    actions_taken: list[dict[str, Any]]
    next_actions: list[str]
    # When the listed operations ran (the console's clock, UTC); None when they come from the server's ledger.
    actions_window: tuple[dt.datetime, dt.datetime] | None = None


KEYWORD_COLUMNS = [("text", "Keyword", "text"), ("campaign_name", "Campaign", "text"), ("spend", "Spend", "money"),
                   ("sales", "Sales", "money"), ("orders", "Orders", "int"), ("acos", "ACOS", "pct")]
BOTTOM_COLUMNS = [*KEYWORD_COLUMNS[:-1], ("acos_text", "ACOS", "text")]
KPI_ROWS = (("spend", "Spend", "money"), ("sales", "Sales", "money"), ("acos", "ACOS", "pct"),
            ("roas", "ROAS", "multiple"), ("orders", "Orders", "int"), ("tacos", "TACoS", "pct"))
BOTTOM_RULE = ("_The biggest spenders over the ACOS target or without sales, worst ACOS first; spend without sales "
               "has no ACOS and counts as the worst._")


def kpi_table(w: WeeklyData) -> list[str]:
    """This week, last week and the change of each KPI: ratios change in points, the rest relative to last week."""
    out = ["| Metric | This week | Last week | Change |", "|---|---|---|---|"]
    for key, title, fmt in KPI_ROWS:
        now, before = w.kpis.get(key), w.previous.get(key)
        moved = change(key, now, before, lang=LANG).text
        out.append(f"| {title} | {cell(now, fmt, w.currency)} | {cell(before, fmt, w.currency)} | {moved} |")
    return [*out, "", "_Change: ACOS and TACoS in percentage points (pp), the others relative to last week._"]


def bottom_rows(keywords: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bottom keywords with an ACOS people can read: `no sales` where there were none."""
    return [{**k, "acos_text": "no sales" if not k.get("sales") else percent(k.get("acos"), lang=LANG)} for k in keywords]


def actions_section(w: WeeklyData) -> list[str]:
    """What ran: the operations executed in the report's week, oldest first, or that none did."""
    out = [f"### Actions taken ({count(len(w.actions_taken), lang=LANG)})", ""]
    if w.actions_window:
        start, end = w.actions_window
        out += [f"_Operations executed {date_range(start, end, lang=LANG)} (UTC), up to "
                f"{datetime_text(end, lang=LANG)}._", ""]
    for a in w.actions_taken[:MAX_ROWS]:
        ref = f"#{a['id']} " if a.get("id") not in (None, "") else ""
        out.append(f"- {ref}{label(a['tool'])}: {a['summary'] or '—'} ({datetime_text(a.get('applied_at'), lang=LANG)})")
    if len(w.actions_taken) > MAX_ROWS:
        out.append(f"- …and {count(len(w.actions_taken) - MAX_ROWS, lang=LANG)} more (Approvals page → History).")
    if not w.actions_taken:
        out.append("- No approved change ran in this period.")
    return out


def weekly_markdown(weeks: list[WeeklyData], *, run_id: str, user: str, today: dt.date, summary: str | None = None) -> str:
    """The weekly ads report: per site its KPIs against last week, top and bottom keywords, actions, next actions."""
    sites = ", ".join(w.site.upper() for w in weeks) or "no sites"
    out = [f"# Weekly ads report — week to {date_text(today - dt.timedelta(days=1), lang=LANG)} ({sites})", "",
           f"_Run `{run_id}` by {user}._", ""]
    if summary:
        out += ["## Summary", "", summary, ""]
    for w in weeks:
        cur = w.currency
        out += [f"## {w.site.upper()} — {date_range(w.start_date, w.end_date, lang=LANG)} ({cur})", "", *kpi_table(w),
                "", f"ACOS target {percent(w.acos_target, 0, lang=LANG)}.", "", "### Top keywords (by sales)", "",
                md_table(w.top_keywords, KEYWORD_COLUMNS, cur, limit=10), "", "### Bottom keywords (by ACOS)", "",
                md_table(bottom_rows(w.bottom_keywords), BOTTOM_COLUMNS, cur, limit=10), "", BOTTOM_RULE, "",
                *actions_section(w)]
        out += ["", "### Next actions", ""] + [f"- {n}" for n in w.next_actions or ["Nothing stands out."]] + [""]
    return "\n".join(out).rstrip() + "\n"
