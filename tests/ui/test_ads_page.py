"""The Ads page on the demo seed: filters (any range, a comparison of choice, a search), KPI tiles, trend, ranked
campaigns narrowed by the search with drill-down, pacing, platforms, alert panels whose "Propose fix" files one batch."""

from __future__ import annotations

import datetime as dt
import json

from tests.support.dashboards import dashboard_app, page_text  # noqa: F401 - the fixture


def open_tab(at, label: str):
    """Switch the page's tabs (only the open tab's content is computed)."""
    at.session_state["ads-tab"] = label
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def headers(frame) -> list[str]:
    """The headers a data grid shows, in its column order."""
    config = json.loads(frame.proto.columns)
    return [config[c]["label"] for c in frame.proto.column_order]


def test_manager_sees_kpis_trend_campaigns_pacing_and_platforms(dashboard_app):  # noqa: F811
    at = dashboard_app("manager@demo.local", "ads")
    assert at.selectbox(key="ads-site").options == ["DE", "JP", "US"]  # the manager's sites, formatted
    at.selectbox(key="ads-site").set_value("us").run()
    assert "Ads" in [t.value for t in at.title]
    assert [m.label for m in at.metric] == ["Spend", "Sales", "ACOS", "ROAS", "TACoS", "CTR", "CVR", "CPC", "Orders"]
    spend, acos = at.metric[0], at.metric[2]
    assert spend.value.startswith("$") and spend.delta.endswith("%")
    assert acos.value.endswith("%") and acos.delta.endswith(" pp")  # a ratio changes in points
    text = page_text(at)
    assert "Oct 22\u2009–\u2009Nov 20, 2026 vs the previous 30 days (Sep 22\u2009–\u2009Oct 21, 2026) · US · USD" in text
    assert [t.label for t in at.tabs] == ["Trend", "Campaigns", "Budget pacing", "Platforms", "Alerts"]
    assert len(at.get("plotly_chart")) == 1  # only the open tab is drawn

    open_tab(at, "Campaigns")
    grid = at.dataframe[0]
    assert headers(grid) == ["Campaign", "State", "Spend", "Sales", "ACOS", "ROAS", "Orders", "CTR", "CVR", "CPC"]
    assert set(grid.value["state"]) <= {"Enabled", "Paused", "Archived"}  # words, not stored codes
    assert at.get("download_button"), "the campaign table has a CSV download"
    at.toggle(key="ads-campaigns-more").set_value(True).run()
    assert headers(at.dataframe[0])[10:] == ["Platform", "Type", "Targeting", "Daily budget", "Impressions", "Clicks"]

    open_tab(at, "Budget pacing")
    assert len(at.get("plotly_chart")) == 1
    assert set(at.dataframe[0].value["status"]) <= {"Out of budget early", "Under-utilised", "On track"}
    open_tab(at, "Alerts")
    text = page_text(at)
    assert "ACOS over target" in str([e.label for e in at.expander])
    assert "not the range above" in text
    assert "(30 days): this check's own window" in text and "(14 days): this check's own window" in text


def test_custom_range_and_a_comparison_of_choice(dashboard_app):  # noqa: F811
    at = dashboard_app("manager@demo.local", "ads")
    at.selectbox(key="ads-site").set_value("jp").run()
    at.selectbox(key="ads-range").set_value("Custom range").run()
    at.date_input(key="ads-dates").set_value((dt.date(2026, 11, 1), dt.date(2026, 11, 14))).run()
    assert not at.exception
    text = page_text(at)
    assert "Nov 1\u2009–\u200914, 2026 vs the previous 14 days (Oct 18\u2009–\u200931, 2026) · JP · JPY" in text
    assert all(m.delta for m in at.metric)
    at.selectbox(key="ads-compare").set_value("custom").run()
    at.date_input(key="ads-compare-dates").set_value((dt.date(2026, 10, 1), dt.date(2026, 10, 7))).run()
    assert "vs 7 days picked (Oct 1\u2009–\u20097, 2026)" in page_text(at)
    at.selectbox(key="ads-compare").set_value("last_year").run()
    text = page_text(at)
    assert "vs the same days last year (Nov 1\u2009–\u200914, 2025)" in text
    assert not any(m.delta for m in at.metric)  # nothing was spent a year earlier: no "↑ —"
    assert "No change to show: the comparison period has no figures" in text
    assert "nothing to compare with in Nov 1\u2009–\u200914, 2025" in at.metric[0].help
    assert all(len(m.value) <= 9 and m.help.startswith(("¥", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"))
               for m in at.metric)  # what fits a tile (¥2.2M), the whole value on hover


def test_search_narrows_campaigns_and_the_drill_down(dashboard_app):  # noqa: F811
    at = dashboard_app("manager@demo.local", "ads")
    at.selectbox(key="ads-site").set_value("us").run()
    open_tab(at, "Campaigns")
    everything = len(at.dataframe[0].value)
    at.text_input(key="ads-search").input("YOGA").run()
    names = at.dataframe[0].value["name"].tolist()
    assert 0 < len(names) < everything and f"{len(names)} of 20 campaigns match “YOGA”" in page_text(at)
    ads = next(d.value for d in at.dataframe if "asin" in d.value.columns)  # product ads of yoga products
    sku, asin = ads["sku"].iloc[0], ads["asin"].iloc[0]
    at.text_input(key="ads-search").input(sku.lower()).run()
    assert "**Product ads matching" in page_text(at)
    assert set(next(d.value for d in at.dataframe if "asin" in d.value.columns)["sku"]) == {sku}
    at.text_input(key="ads-search").input(asin).run()
    assert asin in set(next(d.value for d in at.dataframe if "asin" in d.value.columns)["asin"])

    at.text_input(key="ads-search").input("yoga mat").run()  # a keyword: it narrows the drill-down's lists too
    assert "**Keywords matching “yoga mat”**" in page_text(at)
    found = next(d.value for d in at.dataframe if "match_type" in d.value.columns)  # keywords, with their campaign
    assert at.selectbox(key="ads-drill").options[0] == "—"
    at.selectbox(key="ads-drill").set_value(int(found["campaign_id"].iloc[0])).run()
    text = page_text(at)
    assert "**Ad groups**" in text and "**Keywords**" in text and "**Search terms**" in text
    assert "Keywords and search terms narrowed to “yoga mat”" in text and "**Change history** (0)" in text
    keywords = next(d.value for d in at.dataframe if "detail" in d.value.columns and
                    set(d.value["detail"]) <= {"Exact", "Phrase", "Broad", "Auto"})  # not the ad groups
    assert len(keywords) and all("yoga mat" in k.lower() for k in keywords["name"])
    at.selectbox(key="ads-drill-keyword").set_value(int(keywords["id"].iloc[0])).run()
    assert not at.exception

    at.text_input(key="ads-search").input("no such thing").run()
    assert "No campaigns match “no such thing”" in page_text(at)
    at.selectbox(key="ads-rank").set_value("acos").run()
    at.text_input(key="ads-search").input("").run()
    assert "campaigns by ACOS" in page_text(at)


def test_admin_proposes_a_fix_and_it_lands_in_the_approval_queue(dashboard_app):  # noqa: F811
    at = dashboard_app("admin@demo.local", "ads")
    at.selectbox(key="ads-site").set_value("us").run()
    open_tab(at, "Alerts")
    fix = [b for b in at.button if b.key == "fix-acos_over_target"]
    assert fix, [b.key for b in at.button]
    fix[0].click().run()
    assert not at.exception
    done = [s.value for s in at.success]
    assert done and "operations filed as batch" in done[0]
    assert "Open Approvals" in str([p.proto.label for p in at.get("page_link")])
