"""The bridge benchmark runs end to end on a small market and reports every path (figures are not asserted)."""

from __future__ import annotations

import pytest

from console.bench import bridge as bench


@pytest.mark.slow
def test_the_bridge_benchmark_measures_every_path(market_url: str) -> None:
    result = bench.run(market_url, n=10, spawn_n=1, rounds=2)
    assert [c["tool"] for c in result["cases"]] == ["list_profiles", "get_regions", "list_keywords"]
    for case in result["cases"]:
        assert {"bare", "pool", "bridge"} <= set(case) and case["pool"]["n"] == 10
        assert case["pool_over_bare_p50"] > 0 and case["bridge_over_bare_p50"] > 0
    assert result["spawn_per_call"]["n"] == 1
    assert result["audit_append"] is None or result["audit_append"]["chain_ok"]
    text = bench.report(result)
    assert "SessionPool.call" in text and "spawn-per-call" in text and "pool/bare at p50" in text
