"""The stdio latency helper: nearest-rank percentiles and a real (tiny) measurement."""

from __future__ import annotations

import pytest

from servers.market.bench import measure_stdio_read, percentile


@pytest.mark.parametrize(("q", "expected"), [(50, 50.0), (99, 99.0), (100, 100.0), (1, 1.0), (0, 1.0)])
def test_percentile_nearest_rank(q, expected):
    assert percentile([float(i) for i in range(100, 0, -1)], q) == expected


def test_measure_stdio_read_over_a_warm_session(market_url):
    out = measure_stdio_read(market_url, server="analytics", tool="get_daily_sales", arguments={"site": "us"},
                             n=5, warmup=1, today="2026-11-20")
    assert out["n"] == 5 and 0 < out["p50_ms"] <= out["p99_ms"] <= out["max_ms"]
    assert (out["server"], out["tool"]) == ("analytics", "get_daily_sales")
