"""Rate limits of the gateway: a token bucket per API key and per person (all their clients together).

Per process: each gateway replica limits what reaches it, so behind a load balancer of N replicas a caller gets at
most N times the rate; the per-replica figure is what protects the servers behind it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from mcp_bridge.errors import RateLimited

MAX_BUCKETS = 100_000  # beyond this, full buckets are dropped (a full bucket is the same as none)


@dataclass
class Bucket:
    tokens: float
    at: float


class RateLimiter:
    """`rate_per_minute` calls on average with bursts of up to `burst`; `take` refuses with RATE_LIMITED."""

    def __init__(self, rate_per_minute: float, burst: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rate_per_minute <= 0 or burst < 1:
            raise ValueError("the gateway's rate limit needs a positive rate and a burst of at least 1")
        self.per_second, self.burst, self.clock = rate_per_minute / 60.0, float(burst), clock
        self._buckets: dict[str, Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= MAX_BUCKETS:
                    self._forget_full(now)
                bucket = self._buckets[key] = Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.per_second)
            bucket.at = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return
            wait = (1 - bucket.tokens) / self.per_second
        raise RateLimited(f"too many calls from {key.split(':', 1)[0]} {key.split(':', 1)[1]!s}: "
                          f"{self.per_second * 60:g} a minute with bursts of {self.burst:g}; retry after {wait:.1f} s",
                          retry_after_s=wait)

    def _forget_full(self, now: float) -> None:
        for key in [k for k, b in self._buckets.items() if b.tokens + (now - b.at) * self.per_second >= self.burst]:
            del self._buckets[key]
