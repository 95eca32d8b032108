"""The daily operations run and the weekly report on the demo seed, through the real bridge and servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from console.reports.alerts import KINDS
from console.reports.daily_ops import JOB_USER, job_caller, run_daily_ops
from console.reports.runs import ReportRuns
from console.reports.weekly import run_weekly_report
from console.runtime import Runtime
from console.settings import PROJECT_ROOT, Settings
from tests.support.console_db import SECRET, market_value, servers_document
from tests.support.market import TODAY

SERVERS = ("ads", "commerce", "analytics")
EVIDENCE_KEYS = {"kind", "label", "window", "metrics", "rule", "rule_text", "currency"}
SHARES = ("SELECT count(*) FROM product_ads t JOIN product_ads s ON s.variant_id = t.variant_id "
          "JOIN campaigns c ON c.id = s.campaign_id AND c.targeting = 'auto' "
          "JOIN search_term_daily_metrics m ON m.campaign_id = c.id AND lower(m.search_term) = :term "
          "WHERE t.ad_group_id = :group")


def ops_settings(console_url: str, market_url: str) -> Settings:
    env = {"MARKET_DATABASE_URL": market_url, "CONSOLE_APPROVAL_SECRET": SECRET, "CONSOLE_ENV": "test",
           "MARKET_TODAY": TODAY.isoformat()}
    return Settings(env="test", database_url=console_url, market_database_url=market_url,
                    approval_secret=SecretStr(SECRET), mcp_servers=json.dumps(servers_document(SERVERS, env)),
                    anthropic_api_key=None, call_timeout_s=60.0)


@pytest.fixture
def ops_runtime(tmp_path: Path, market_url: str) -> Iterator[Runtime]:
    rt = Runtime.create(ops_settings(f"sqlite:///{tmp_path / 'console.db'}", market_url))
    rt.users.seed_demo()
    try:
        yield rt
    finally:
        rt.close()


def test_daily_run_finds_every_category_and_files_a_batch_an_approver_can_approve(ops_runtime, market_url, tmp_path):
    caller = job_caller(ops_runtime)
    assert (caller.user, caller.channel) == (JOB_USER, "job")
    assert caller.sites == frozenset({"us", "de", "jp"}) and caller.has("seller")

    result = run_daily_ops(ops_runtime, caller, output_dir=tmp_path / "reports")

    run = ReportRuns(ops_runtime.engine).get(result.run.id)
    assert run.status == "succeeded" and run.kind == "daily" and run.site is None
    assert run.summary["errors"] == 0, [f.errors for f in result.findings]
    assert {k: run.summary[k] > 0 for k in KINDS} == dict.fromkeys(KINDS, True)
    assert run.summary["sites"] == ["de", "jp", "us"] and run.summary["summarised_by"] == "template"
    assert result.path == tmp_path / "reports" / run.filename and result.path.read_text() == run.markdown
    assert "## Proposed fixes" in run.markdown and f"batch `{run.batch_id}`" in run.markdown
    assert "_Fix_: Place the suggested reorder: add it to the SKU's inbound units." in run.markdown

    pending = ops_runtime.bridge.gate.list(batch_id=run.batch_id, limit=1000)
    assert len(pending) == run.summary["proposed"] > 0
    assert {op.status for op in pending} == {"proposed"}
    assert {op.source_kind for op in pending} == {"job"} and {op.source_ref for op in pending} == {run.id}
    assert {op.tool for op in pending} >= {"update_bid", "pause_keyword", "create_keyword", "create_negative",
                                           "update_campaign", "pause_product_ads", "update_inventory"}
    assert all(op.preview["before"] is not None and op.reason for op in pending)
    # Each operation carries the evidence of its target, over the window of the rule that fired.
    assert all(set(op.evidence) == EVIDENCE_KEYS and op.evidence["rule_text"] and op.evidence["window"]["days"] > 0
               for op in pending)
    assert {op.evidence["kind"] for op in pending} >= {"keyword", "search_term", "campaign", "sku", "product"}
    # A harvested term goes into an ad group advertising a product of the auto campaign it came from.
    harvested = [op for op in pending if op.tool in ("create_keyword", "create_product_target")]
    assert harvested and all(market_value(market_url, SHARES, group=op.arguments["ad_group_id"],
                                          term=op.arguments.get("text") or op.arguments["asin"].lower())[0][0] > 0
                             for op in harvested)
    # "Saves / day" in the row is the approval card's projection, negated.
    wasted = [op for op in pending if op.evidence["rule"] == "wasted_spend" and op.tool != "create_negative"]
    assert wasted and all(f"saves {-op.preview['impact']['daily_spend_delta']:.2f}/day" in op.reason for op in wasted)
    assert any(op.tool == "pause_product_ads" and "low-star reviews of" in op.reason for op in pending)

    approver = ops_runtime.users.caller("approver@demo.local", "ui")
    decided = ops_runtime.bridge.gate.approve_batch(run.batch_id, approver)
    assert len(decided) == len(pending)
    assert {item.status for item in decided} == {"succeeded"}, [i for i in decided if i.status != "succeeded"][:3]
    paused = [op.arguments["sku"] for op in pending if op.tool == "pause_product_ads"]
    states = market_value(market_url, "SELECT DISTINCT state FROM product_ads WHERE sku = :sku", sku=paused[0])
    assert states == [("paused",)]
    reorder = next(op for op in pending if op.tool == "update_inventory")
    inbound = market_value(market_url, "SELECT inbound FROM inventory_levels WHERE variant_id = :v",
                           v=reorder.arguments["variant_id"])
    assert inbound == [(reorder.preview["after"]["inbound"],)]
    assert reorder.preview["after"]["inbound"] - reorder.preview["before"]["inbound"] == reorder.arguments["add_inbound"]


def test_one_site_without_proposals(ops_runtime):
    manager = ops_runtime.users.caller("manager@demo.local", "ui")
    result = run_daily_ops(ops_runtime, manager, sites=["jp"], propose=False)
    assert result.run.site == "jp" and result.run.batch_id is None and result.fixes is None
    assert "# Daily operations — " in result.run.markdown and "(JP)" in result.run.markdown
    assert ops_runtime.bridge.gate.list(limit=10) == []


def test_a_site_outside_the_callers_scope_fails_the_run_and_records_it(ops_runtime):
    seller = ops_runtime.users.caller("seller-jp@demo.local", "ui")
    with pytest.raises(Exception, match="may not see site 'us'"):
        run_daily_ops(ops_runtime, seller, sites=["us"])
    failed = ReportRuns(ops_runtime.engine).list(kind="daily")[0]
    assert failed.status == "failed" and "may not see site 'us'" in failed.error


def test_weekly_report(ops_runtime):
    manager = ops_runtime.users.caller("manager@demo.local", "ui")
    run = run_weekly_report(ops_runtime, manager, sites=["us", "de"])
    assert run.status == "succeeded" and run.kind == "weekly"
    for text in ("# Weekly ads report — week to", "## DE —", "## US —", "| Spend |", "### Top keywords (by sales)",
                 "### Bottom keywords (by ACOS)", "### Actions taken", "### Next actions"):
        assert text in run.markdown, text
    assert ReportRuns(ops_runtime.engine).list(kind="weekly", sites=frozenset({"us", "de"}))[0].id == run.id
    assert ReportRuns(ops_runtime.engine).list(kind="weekly", sites=frozenset({"jp"})) == []


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CONSOLE_ENV": "test", "CONSOLE_DATABASE_URL": settings.database_url,
           "MARKET_DATABASE_URL": settings.market_database_url, "CONSOLE_APPROVAL_SECRET": SECRET,
           "CONSOLE_MCP_SERVERS": settings.mcp_servers or "", "PYTHONPATH": str(PROJECT_ROOT)}
    env.pop("ANTHROPIC_API_KEY", None)
    return subprocess.run([sys.executable, "-m", "console", *args], env=env, cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.slow
def test_cli_daily_ops_and_weekly_are_cron_friendly(ops_runtime, tmp_path):
    settings = ops_runtime.settings
    done = cli(settings, "daily-ops", "--site", "us", "--output", str(tmp_path))
    assert done.returncode == 0, done.stderr
    report = Path(done.stdout.strip())
    assert report.parent == tmp_path and report.read_text().startswith("# Daily operations")
    assert "daily-ops daily-" in done.stderr and "proposed" in done.stderr

    weekly = cli(settings, "reports", "weekly", "--site", "de", "--output", str(tmp_path))
    assert weekly.returncode == 0, weekly.stderr
    assert Path(weekly.stdout.strip()).read_text().startswith("# Weekly ads report")

    listed = cli(settings, "reports", "list")
    assert listed.returncode == 0 and "daily" in listed.stdout and "weekly" in listed.stdout

    failed = cli(settings, "daily-ops", "--as", "nobody@example.com")
    assert failed.returncode == 1
    assert "daily-ops failed: NotFound" in failed.stderr and "Traceback" not in failed.stderr
