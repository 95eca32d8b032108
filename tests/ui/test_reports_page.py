"""The Reports page: an empty state first, a run started from the page, the report shown and downloadable."""

from __future__ import annotations

from tests.support.dashboards import dashboard_app, page_text  # noqa: F401 - the fixture


def test_reports_page_runs_a_daily_report_and_shows_it(dashboard_app):  # noqa: F811
    at = dashboard_app("admin@demo.local", "reports")
    text = page_text(at)
    assert "No reports yet" in text or at.dataframe  # another test of this module may have run one
    at.selectbox(key="rep-site").set_value("us").run()
    at.button(key="rep-run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "operations filed as batch" in at.success[0].value
    text = page_text(at)
    assert "# Daily operations" in text or "Daily operations —" in text
    assert "Proposed fixes" in text
    download = at.get("download_button")[0]
    assert download.proto.label == "Download Markdown"
    assert at.dataframe[0].value.iloc[0]["status"] == "succeeded"


def test_weekly_report_by_a_manager(dashboard_app):  # noqa: F811
    at = dashboard_app("manager@demo.local", "reports")
    assert at.toggle(key="rep-propose").proto.disabled  # no seller role: no fixes to file
    at.selectbox(key="rep-kind").set_value("weekly").run()
    at.selectbox(key="rep-site").set_value("de").run()
    at.button(key="rep-run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Weekly ads report" in page_text(at)
    runs = at.dataframe[0].value
    assert list(runs["report"])[0] == "weekly" and list(runs["site"])[0] == "DE"
