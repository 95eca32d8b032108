"""The gateway's token buckets: bursts, refill, one bucket per key or person, and the wait they announce."""

from __future__ import annotations

import pytest

from console.gateway.ratelimit import RateLimiter
from mcp_bridge.errors import RateLimited


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_one_call_per_refill_and_each_caller_has_its_own_bucket() -> None:
    clock = Clock()
    limiter = RateLimiter(60, 3, clock=clock)  # one a second, bursts of three
    for _ in range(3):
        limiter.take("key:1")
    with pytest.raises(RateLimited) as refused:
        limiter.take("key:1")
    assert refused.value.code == "RATE_LIMITED" and refused.value.retry_after_s == pytest.approx(1.0)
    assert str(refused.value) == ("RATE_LIMITED: too many calls from key 1: 60 a minute with bursts of 3; "
                                  "retry after 1.0 s")
    limiter.take("user:seller@demo.local")  # another caller is not held up
    clock.now += 0.5
    with pytest.raises(RateLimited) as sooner:
        limiter.take("key:1")
    assert sooner.value.retry_after_s == pytest.approx(0.5)
    clock.now += 0.5
    limiter.take("key:1")
    clock.now += 3600  # a long pause refills to the burst, not beyond
    for _ in range(3):
        limiter.take("key:1")
    with pytest.raises(RateLimited):
        limiter.take("key:1")


@pytest.mark.parametrize(("rate", "burst"), [(0, 5), (-1, 5), (10, 0)])
def test_a_limit_that_would_refuse_everything_is_a_configuration_error(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="positive rate"):
        RateLimiter(rate, burst)
