"""A second daily run, or a second click on "Propose fix", files nothing new while the first proposals wait."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from console.approvals.queue import site_policy, update_site_policy
from console.reports.alerts import propose_fixes
from console.reports.daily_ops import job_caller, run_daily_ops
from console.runtime import Runtime
from mcp_bridge.errors import ValidationFailed
from mcp_bridge.store import OperationRow
from mcp_bridge.types import Source
from tests.console.test_daily_ops_demo import ops_settings
from tests.support.console_db import keyword


@pytest.fixture
def ops_runtime(tmp_path: Path, market_url: str) -> Iterator[Runtime]:
    rt = Runtime.create(ops_settings(f"sqlite:///{tmp_path / 'console.db'}", market_url))
    rt.users.seed_demo()
    try:
        yield rt
    finally:
        rt.close()


def operations(rt: Runtime) -> list[tuple[int, str]]:
    with rt.bridge.store.read() as s:
        return [tuple(r) for r in s.execute(select(OperationRow.id, OperationRow.status).order_by(OperationRow.id))]


def test_a_second_daily_run_files_nothing_new(ops_runtime, tmp_path) -> None:
    caller = job_caller(ops_runtime)
    first = run_daily_ops(ops_runtime, caller, output_dir=tmp_path)
    filed = operations(ops_runtime)
    assert first.fixes is not None and first.fixes.proposed == len(filed) > 0
    assert {status for _, status in filed} == {"proposed"}

    second = run_daily_ops(ops_runtime, caller, output_dir=tmp_path)
    assert operations(ops_runtime) == filed  # nothing new, nothing superseded
    assert second.fixes is not None and second.fixes.proposed == 0 and second.fixes.operation_ids == []
    assert sorted(second.fixes.already_waiting) == [op_id for op_id, _ in filed]
    assert second.run.batch_id is None and second.run.summary["already_waiting"] == len(filed)
    assert f"{len(filed)} of today's fixes were already waiting from an earlier run" in second.run.markdown
    deduplicated = ops_runtime.bridge.audit.query(event="proposal_deduplicated", limit=1000)
    assert sorted(r.detail["operation_id"] for r in deduplicated) == [op_id for op_id, _ in filed]
    assert {r.detail["source_ref"] for r in deduplicated} == {second.run.id}


def test_a_double_click_on_propose_fix_files_one_batch(ops_runtime, market_url) -> None:
    seller = ops_runtime.users.caller("seller@demo.local", "ui")
    kid, bid = keyword(market_url)
    items = [{"keyword_id": kid, "bid": bid, "spend": 40.0, "orders": 1, "acos": 1.6, "suggested_action": "cut_bid"}]
    first = propose_fixes(ops_runtime, seller, "wasted_spend", "us", items)
    again = propose_fixes(ops_runtime, seller, "wasted_spend", "us", items)
    assert (first.proposed, first.refused, again.proposed, again.already_waiting) == (1, [], 0, first.operation_ids)
    assert operations(ops_runtime) == [(first.operation_ids[0], "proposed")]
    waiting = ops_runtime.bridge.gate.get(first.operation_ids[0])
    outcome = ops_runtime.bridge.call(seller, "ads__update_bid", waiting.arguments, source=Source("chat", ref="conv-9"))
    assert outcome.status == "pending"
    assert outcome.text.startswith(f"pending approval #{first.operation_ids[0]} (already waiting as "
                                   f"#{first.operation_ids[0]}: update_bid keyword #{kid} ")
    with ops_runtime.bridge.store.read() as s:
        assert s.scalar(select(func.count()).select_from(OperationRow)) == 1


@pytest.mark.parametrize(("values", "field"), [
    ({"max_bid_change_pct": -20.0}, "max_bid_change_pct"),
    ({"expiry_hours": 0.0}, "expiry_hours"),
    ({"expiry_hours": 31 * 24.0}, "expiry_hours"),
    ({"import_price_min": 50.0, "import_price_max": 10.0}, "import_price_min"),
])
def test_the_admin_cannot_save_limits_that_make_no_sense(runtime, values, field) -> None:
    admin = runtime.users.caller("admin@demo.local", "ui")
    before = site_policy(runtime, "us")
    with pytest.raises(ValidationFailed) as err:
        update_site_policy(runtime, dataclasses.replace(before, **values), actor=admin)
    assert list(err.value.context["fields"]) == [field]
    assert site_policy(runtime, "us") == before
    assert runtime.bridge.audit.query(event="policy_changed") == []
    saved = update_site_policy(runtime, dataclasses.replace(before, max_bid_change_pct=20.0, expiry_hours=48.0),
                               actor=admin)
    assert site_policy(runtime, "us") == saved
