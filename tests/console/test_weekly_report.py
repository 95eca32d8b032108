"""The weekly ads report: bottom keywords worst first, and the actions taken are the operations executed that week."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from console.reports.daily_ops import job_caller
from console.reports.weekly import run_weekly_report, weekly_data, worst_first
from console.runtime import Runtime
from mcp_bridge.types import Source, ToolOutcome
from tests.console.test_daily_ops_demo import ops_settings
from tests.support.console_db import keyword
from tests.support.market import TODAY

NOW = dt.datetime(2026, 12, 4, 21, 0)  # the console's clock, two weeks past the demo market's fixed today


def line(text: str, spend: float, sales: float, orders: int) -> dict[str, Any]:
    return {"keyword_id": len(text), "text": text, "match_type": "exact", "campaign_name": "C", "spend": spend,
            "sales": sales, "orders": orders, "acos": spend / sales if sales else None}


# As the server answers them: the biggest spenders that miss the target, by spend.
BOTTOM = [line("big spender", 90.0, 200.0, 5), line("no sales small", 30.0, 0.0, 0), line("awful", 60.0, 20.0, 1),
          line("no sales big", 50.0, 0.0, 0), line("bad", 40.0, 50.0, 2)]


def weekly_answer(**over: Any) -> dict[str, Any]:
    totals = {"spend": 100.0, "sales": 300.0, "orders": 259.0, "acos": 0.3333, "roas": 3.0}
    return {"currency": "USD", "acos_target": 0.3, "this_week": ["2026-11-13", "2026-11-19"],
            "current": totals, "previous": {**totals, "orders": 259.0, "acos": 0.3}, "tacos": 0.1,
            "changes": {"spend": 0.0, "orders": 0.0}, "top_keywords": [], "bottom_keywords": BOTTOM,
            "actions_taken": [], "next_actions": {}, **over}


class Bridge:
    """Answers the weekly report's read as the analytics server does (it knows only the market's own days)."""

    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer, self.calls = answer, []

    def call(self, caller: Any, name: str, arguments: dict[str, Any], *, source: Source) -> ToolOutcome:
        self.calls.append((name, arguments))
        return ToolOutcome(tool=name, status="ok", text="", structured=self.answer)


def op(op_id: int, executed_at: dt.datetime, *, status: str = "succeeded", site: str = "us") -> SimpleNamespace:
    return SimpleNamespace(id=op_id, status=status, site=site, server="ads", tool="update_bid", executed_at=executed_at,
                           result={"summary": f"bid #{op_id} 1.00 → 0.80"}, preview={}, arguments={})


class Gate:
    """The approval gate's listing, over a fixed set of operations."""

    def __init__(self, ops: list[SimpleNamespace]) -> None:
        self.ops = ops

    def list(self, *, status: str | None = None, site: str | None = None, limit: int = 100, **_: Any) -> list[Any]:
        found = [o for o in self.ops if (status is None or o.status == status) and (site is None or o.site == site)]
        return sorted(found, key=lambda o: -o.id)[:limit]


CALLER = SimpleNamespace(user="manager@demo.local", channel="ui", sites=frozenset({"us"}))


def test_bottom_keywords_are_worst_acos_first_and_spend_without_sales_is_worst() -> None:
    week = weekly_data(Bridge(weekly_answer()), CALLER, "us", today=TODAY, gate=Gate([]), now=NOW)
    assert [k["text"] for k in week.bottom_keywords] == ["no sales big", "no sales small", "awful", "bad", "big spender"]
    assert worst_first([]) == []


def test_actions_taken_are_the_operations_executed_in_the_reports_week_on_the_consoles_clock() -> None:
    # The demo market's today is 2026-11-20 while the console runs on 2026-12-04: the server's ledger query over
    # the market's week finds nothing, though twenty operations ran today.
    today_ops = [op(i, NOW - dt.timedelta(hours=1, minutes=i)) for i in range(1, 21)]
    ops = [*today_ops, op(30, dt.datetime(2026, 11, 27, 0, 30)), op(31, dt.datetime(2026, 11, 26, 23, 59)),
           op(32, NOW, status="failed"), op(33, NOW, status="proposed"), op(34, NOW, site="de")]
    week = weekly_data(Bridge(weekly_answer()), CALLER, "us", today=TODAY, gate=Gate(ops), now=NOW)
    assert sorted(a["id"] for a in week.actions_taken) == [*range(1, 21), 30]
    assert week.actions_window == (dt.datetime(2026, 11, 27), NOW)
    assert week.actions_taken[0]["summary"] == "bid #30 1.00 → 0.80"  # oldest first


def test_actions_of_a_past_week_stop_at_the_end_of_its_report_day() -> None:
    ops = [op(1, dt.datetime(2026, 11, 3, 9)), op(2, dt.datetime(2026, 11, 6, 9)), op(3, dt.datetime(2026, 11, 8))]
    week = weekly_data(Bridge(weekly_answer()), CALLER, "us", today=dt.date(2026, 11, 6), gate=Gate(ops),
                       market_today=dt.date(2026, 12, 4), now=NOW)
    assert [a["id"] for a in week.actions_taken] == [1, 2]
    assert week.actions_window == (dt.datetime(2026, 10, 30), dt.datetime(2026, 11, 7))


def test_without_a_gate_the_servers_ledger_is_used() -> None:
    answer = weekly_answer(actions_taken=[{"tool": "update_bid", "summary": "bid 1 → 0.8",
                                           "applied_at": "2026-11-19T10:30:00"}])
    week = weekly_data(Bridge(answer), CALLER, "us", today=TODAY, now=NOW)
    assert [a["summary"] for a in week.actions_taken] == ["bid 1 → 0.8"] and week.actions_window is None


@pytest.fixture
def demo_runtime(tmp_path: Path, market_url: str) -> Iterator[Runtime]:
    rt = Runtime.create(ops_settings(f"sqlite:///{tmp_path / 'console.db'}", market_url))
    rt.users.seed_demo()
    try:
        yield rt
    finally:
        rt.close()


def test_the_weekly_report_lists_what_ran_today_on_the_demo(demo_runtime, market_url) -> None:
    seller = demo_runtime.users.caller("seller@demo.local", "ui")
    approver = demo_runtime.users.caller("approver@demo.local", "ui")
    for offset in range(3):
        kid, bid = keyword(market_url, "us", offset=offset)
        outcome = demo_runtime.bridge.call(seller, "ads__update_bid", {"site": "us", "keyword_id": kid,
                                                                      "bid": round(bid * 0.9, 2)},
                                           source=Source("chat", ref="conv-1"))
        assert outcome.operation_id, outcome.text
        assert demo_runtime.bridge.gate.approve(outcome.operation_id, approver).status == "succeeded"

    run = run_weekly_report(demo_runtime, job_caller(demo_runtime), sites=["us"])
    assert run.summary["actions_taken"] == 3
    section = run.markdown.split("### Actions taken", 1)[1].split("###", 1)[0]
    assert section.count("\n- ") == 3 and "No approved changes" not in section, section
