"""The Ads page on the demo seed: filters, KPI tiles, trend, ranked campaigns with drill-down, pacing, platforms,
alert panels whose "Propose fix" files one batch."""

from __future__ import annotations

from tests.support.dashboards import dashboard_app, page_text  # noqa: F401 - the fixture


def test_manager_sees_kpis_trend_campaigns_pacing_and_platforms(dashboard_app):  # noqa: F811
    at = dashboard_app("manager@demo.local", "ads")
    assert at.selectbox(key="ads-site").options == ["DE", "JP", "US"]  # the manager's sites, formatted
    at.selectbox(key="ads-site").set_value("us").run()
    text = page_text(at)
    assert "Ads" in [t.value for t in at.title]
    labels = [m.label for m in at.metric]
    assert labels == ["Spend", "Sales", "ACOS", "ROAS", "TACoS", "CTR", "CVR", "CPC", "Orders"]
    spend = at.metric[0]
    assert spend.value.startswith("$") and spend.delta.endswith("%")
    assert at.metric[2].value.endswith("%")
    assert "vs the 30 days before" in text
    charts = at.get("plotly_chart")
    assert len(charts) >= 3  # trend, pacing, platforms
    assert [t.label for t in at.tabs] == ["Trend", "Campaigns", "Budget pacing", "Platforms", "Alerts"]
    downloads = at.get("download_button")
    assert downloads, "the campaign table has a CSV download"
    # the alert panels are there, but a manager (no seller role) is told fixes need the seller role
    assert "ACOS over target" in str([e.label for e in at.expander])
    assert "Proposing fixes needs the seller role" in text
    assert not [b for b in at.button if b.key and b.key.startswith("fix-")]


def test_filters_and_drill_down(dashboard_app):  # noqa: F811
    at = dashboard_app("manager@demo.local", "ads")
    at.selectbox(key="ads-site").set_value("us").run()
    at.selectbox(key="ads-platform").set_value("meta").run()
    assert not at.exception
    campaign_names = at.selectbox(key="ads-drill").options
    assert len(campaign_names) >= 2 and campaign_names[0] == "—"
    at.selectbox(key="ads-drill").set_value(campaign_names[1]).run()
    assert not at.exception
    text = page_text(at)
    assert "**Ad groups**" in text and "**Keywords**" in text and "**Search terms**" in text
    at.selectbox(key="ads-rank").set_value("acos").run()
    assert "by acos" in page_text(at)


def test_admin_proposes_a_fix_and_it_lands_in_the_approval_queue(dashboard_app):  # noqa: F811
    at = dashboard_app("admin@demo.local", "ads")
    at.selectbox(key="ads-site").set_value("us").run()
    fix = [b for b in at.button if b.key == "fix-acos_over_target"]
    assert fix, [b.key for b in at.button]
    fix[0].click().run()
    assert not at.exception
    done = [s.value for s in at.success]
    assert done and "operations filed as batch" in done[0]
    assert "Open Approvals" in str([p.proto.label for p in at.get("page_link")])
