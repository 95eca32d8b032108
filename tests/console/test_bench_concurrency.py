"""`bench concurrency` measures both paths end to end on a small run (figures are not asserted: machines are noisy)."""

from __future__ import annotations

import pytest

from console.bench import concurrency as bench
from console.settings import Settings


@pytest.mark.slow
def test_the_concurrency_benchmark_measures_both_paths_without_errors(market_url: str) -> None:
    settings = Settings(market_database_url=market_url, sessions_per_server=2)
    result = bench.run(settings, clients=4, seconds=0.5, rounds=1)
    assert set(result["paths"]) == {"bridge", "http"} and result["met"]["errors"]
    assert all(path["calls"] > 0 and path["p95_ms"] > 0 for path in result["paths"].values())
    assert (result["sessions_per_server"], result["sessions_open"]) == (2, 2)  # started as the app starts it
    text = bench.report(result)
    assert "bridge/http throughput" in text and "p95" in text
