"""The daily and weekly Markdown reports, the template summary, and the Claude summary with a stub client."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from pydantic import SecretStr

from console.reports.alerts import Alert, FixResult
from console.reports.markdown import (
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
    assert dated.splitlines()[-1] == "| Kitchen Tools | Nov 20, 2026 |"
    assert md_table([{"text": str(i)} for i in range(20)], [("text", "T", "text")], "USD", limit=3).endswith("…and 17 more.")


def test_daily_markdown_has_every_section_and_the_batch():
    fixes = FixResult(batch_id="daily-abc", proposed=3, refused=[("bid 1.00 → 0.30", "VALIDATION_FAILED: limit")])
    md = daily_markdown(findings(), fixes, run_id="daily-1", user="daily-ops@system", today=TODAY)
    assert md.startswith("# Daily operations — Nov 21, 2026 (US, JP)\n")
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


THIN, NNB = "\u2009", "\u202f"  # CLDR's thin space in a date range, narrow no-break space before AM/PM


def week(**over) -> WeeklyData:
    fields = dict(site="us", currency="USD", acos_target=0.3, start_date="2026-11-14", end_date="2026-11-20",
                  kpis={"spend": 105.0, "sales": 305.0, "acos": 0.397, "roas": 2.9, "orders": 259.0, "tacos": 0.13},
                  previous={"spend": 50.0, "sales": 100.0, "acos": 0.3, "roas": 2.0, "orders": 259.0},
                  changes={"spend": 1.1, "sales": 2.05, "acos": 0.323},
                  top_keywords=[{"text": "yoga mat", "campaign_name": "Yoga", "spend": 70.0, "sales": 280.0,
                                 "orders": 14.0, "acos": 0.25}],
                  bottom_keywords=[{"text": "mat", "campaign_name": "Yoga", "spend": 32.0, "sales": 0.0, "orders": 0,
                                    "acos": None},
                                   {"text": "pad", "campaign_name": "Yoga", "spend": 20.0, "sales": 10.0, "orders": 1,
                                    "acos": 2.0}],
                  actions_taken=[{"id": 7, "tool": "update_bid", "summary": "bid 1.50 → 1.20",
                                  "applied_at": "2026-11-19T10:30:00"}],
                  next_actions=["2 × wasted spend: pause (Ads page → Propose fix)"],
                  actions_window=(dt.datetime(2026, 11, 13), dt.datetime(2026, 11, 21, 8)))
    return WeeklyData(**{**fields, **over})


def test_weekly_markdown():
    md = weekly_markdown([week()], run_id="weekly-1", user="manager@demo.local", today=TODAY)
    for text in ("# Weekly ads report — week to Nov 20, 2026 (US)", f"## US — Nov 14{THIN}–{THIN}20, 2026 (USD)",
                 "| Spend | $105.00 | $50.00 | +110.0% |",
                 "| ACOS | 39.7% | 30.0% | +9.7 pp |",  # a ratio changes in points, not "+32.3%"
                 "| ROAS | 2.90× | 2.00× | +45.0% |",
                 "| Orders | 259 | 259 | 0.0% |",  # whole orders, and no change reads as none
                 "| TACoS | 13.0% | — | — |",
                 "| yoga mat | Yoga | $70.00 | $280.00 | 14 | 25.0% |",
                 "| mat | Yoga | $32.00 | $0.00 | 0 | no sales |\n| pad | Yoga | $20.00 | $10.00 | 1 | 200.0% |",
                 "### Actions taken (1)",
                 f"_Operations executed Nov 13{THIN}–{THIN}21, 2026 (UTC), up to Nov 21, 2026, 8:00{NNB}AM._",
                 f"- #7 Update bid: bid 1.50 → 1.20 (Nov 19, 2026, 10:30{NNB}AM)",
                 "- 2 × wasted spend: pause (Ads page → Propose fix)"):
        assert text in md, text


def test_weekly_markdown_in_the_sites_currency_and_with_nothing_done():
    md = weekly_markdown([week(site="jp", currency="JPY", actions_taken=[], actions_window=None, next_actions=[])],
                         run_id="weekly-2", user="m", today=TODAY)
    for text in ("| Spend | ¥105 | ¥50 | +110.0% |", "| yoga mat | Yoga | ¥70 | ¥280 | 14 | 25.0% |",
                 "### Actions taken (0)", "- No approved change ran in this period.", "- Nothing stands out."):
        assert text in md, text
    assert "_Operations executed" not in md


def test_many_actions_are_cut_with_a_count():
    actions = [{"id": i, "tool": "pause_keyword", "summary": "paused", "applied_at": "2026-11-19T10:30:00"}
               for i in range(1, 21)]
    md = weekly_markdown([week(actions_taken=actions)], run_id="weekly-3", user="m", today=TODAY)
    assert "### Actions taken (20)" in md and "- …and 5 more (Approvals page → History)." in md
    assert md.count("- #") == 15 and "- #1 Pause keyword: paused" in md
