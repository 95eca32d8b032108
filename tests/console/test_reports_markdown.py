"""The daily and weekly Markdown reports, the template summary, and the Claude summary with a stub client."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from pydantic import SecretStr

from console.alerts import Alert, FixResult
from console.reports import (
    SiteFindings,
    WeeklyData,
    claude_summary,
    daily_markdown,
    md_table,
    summary_counts,
    weekly_markdown,
)
from console.settings import Settings

TODAY = dt.date(2026, 11, 21)


def findings() -> list[SiteFindings]:
    us = SiteFindings("us", "USD", 0.3, [
        Alert("sales_anomaly", "us", [{"what": "Kitchen (category, week)", "revenue": 400.0, "week_ago": 1000.0, "change": -0.6}]),
        Alert("acos_over_target", "us", [{"text": "yoga | mat", "campaign_name": "Yoga", "spend": 50.0, "sales": 100.0,
                                          "acos": 0.5, "bid": 1.2}]),
        Alert("stock_out_risk", "us", [{"sku": "Y-1", "title": "Mat", "available": 30, "days_of_supply": 10.0,
                                        "reorder_quantity": 33}]),
    ])
    jp = SiteFindings("jp", "JPY", 0.25, [Alert("wasted_spend", "jp", [{"text": "猫", "spend": 3200.0, "orders": 0}])],
                      errors=["reviews check: UPSTREAM_ERROR: timeout"])
    return [us, jp]


def test_md_table_formats_money_percent_and_escapes_pipes():
    table = md_table([{"text": "a|b", "spend": 1234.5, "acos": 0.5}, {"text": "c", "spend": None, "acos": None}],
                     [("text", "Keyword", "text"), ("spend", "Spend", "money"), ("acos", "ACOS", "pct")], "USD")
    assert table.splitlines() == ["| Keyword | Spend | ACOS |", "|---|---|---|", "| a\\|b | $1,234.50 | 50.0% |",
                                  "| c | — | — |"]
    dated = md_table([{"what": "Kitchen Tools", "when": "2026-11-20T06:00:00"}],
                     [("what", "What", "text"), ("when", "Date", "text")], "USD")
    assert dated.splitlines()[-1] == "| Kitchen Tools | 2026-11-20 |"
    assert md_table([{"text": str(i)} for i in range(20)], [("text", "T", "text")], "USD", limit=3).endswith("…and 17 more.")


def test_daily_markdown_has_every_section_and_the_batch():
    fixes = FixResult(batch_id="daily-abc", proposed=3, refused=[("bid 1.00 → 0.30", "VALIDATION_FAILED: limit")])
    md = daily_markdown(findings(), fixes, run_id="daily-1", user="daily-ops@system", today=TODAY)
    assert md.startswith("# Daily operations — 2026-11-21 (US, JP)\n")
    for text in ("## Summary", "- **Sales anomaly**: 1 (US)", "- **Wasted spend**: 1 (JP)",
                 "## US (USD, ACOS target 30%)", "### ACOS over target (1)", "| yoga \\| mat | Yoga | $50.00 | $100.00 | 50.0% | $1.20 |",
                 "## JP (JPY, ACOS target 25%)", "| 猫 | — | ¥3,200 | 0 | — |", "> **Check failed**: reviews check: UPSTREAM_ERROR: timeout",
                 "### Low-star reviews (0)", "**3** operations are waiting for approval as batch `daily-abc`",
                 "- bid 1.00 → 0.30: VALIDATION_FAILED: limit", "| Y-1 | Mat | 30 | 10.0 | 33 |",
                 "_Fix_: Place the suggested reorder: add it to the SKU's inbound units."):
        assert text in md, text
    assert "| Kitchen (category, week) | $400.00 | $1,000.00 | -60.0% |" in md


def test_summary_counts():
    counts = summary_counts(findings(), FixResult("b", proposed=2, refused=[("x", "y")]))
    assert counts["sales_anomaly"] == 1 and counts["wasted_spend"] == 1 and counts["harvest"] == 0
    assert (counts["sites"], counts["errors"], counts["proposed"], counts["refused"]) == (["us", "jp"], 1, 2, 1)


def test_claude_summary_is_used_when_a_key_is_set_and_skipped_otherwise():
    seen = {}

    class Messages:
        def create(self, **kw):
            seen.update(kw)
            return SimpleNamespace(content=[SimpleNamespace(text="- Kitchen fell 60% in US")])

    def make_client(**kw):
        seen["client"] = kw
        return SimpleNamespace(messages=Messages())

    settings = Settings(env="test", anthropic_api_key=SecretStr("sk-test"), anthropic_base_url="http://stub")
    assert claude_summary(settings, "# report", make_client=make_client) == "- Kitchen fell 60% in US"
    assert seen["client"] == {"api_key": "sk-test", "base_url": "http://stub"}
    assert seen["messages"] == [{"role": "user", "content": "# report"}] and seen["model"] == settings.model
    assert claude_summary(Settings(env="test", anthropic_api_key=None), "# report", make_client=make_client) is None

    def broken(**kw):
        raise RuntimeError("network down")

    assert claude_summary(settings, "# report", make_client=broken) is None  # the report falls back to the template


def test_weekly_markdown():
    week = WeeklyData(site="us", currency="USD", acos_target=0.3, start_date="2026-11-14", end_date="2026-11-20",
                      kpis={"spend": 105.0, "sales": 305.0, "acos": 0.344, "roas": 2.9, "orders": 15, "tacos": 0.13},
                      previous={"spend": 50.0, "sales": 100.0, "acos": 0.5, "roas": 2.0, "orders": 4, "tacos": 0.1},
                      changes={"spend": 1.1, "sales": 2.05, "acos": -0.31},
                      top_keywords=[{"text": "yoga mat", "campaign_name": "Yoga", "spend": 70.0, "sales": 280.0, "orders": 14, "acos": 0.25}],
                      bottom_keywords=[], actions_taken=[{"tool": "update_bid", "summary": "bid 1.50 → 1.20",
                                                          "applied_at": "2026-11-19T10:30:00"}],
                      next_actions=["2 × wasted spend: pause (Ads page → Propose fix)"])
    md = weekly_markdown([week], run_id="weekly-1", user="manager@demo.local", today=TODAY)
    for text in ("# Weekly ads report — week to 2026-11-20 (US)", "| Spend | $105.00 | $50.00 | +110.0% |",
                 "| ROAS | 2.90× | 2.00× | — |", "| yoga mat | Yoga | $70.00 | $280.00 | 14 | 25.0% |",
                 "- update_bid: bid 1.50 → 1.20 (2026-11-19 10:30)",
                 "- 2 × wasted spend: pause (Ads page → Propose fix)"):
        assert text in md, text
