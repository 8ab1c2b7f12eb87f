"""Per-key rate limits: a token bucket per write key, in events per second with a burst.

A key's bucket holds up to `burst` events and refills at `rate` events a second. A request
is let in while the bucket is not empty and then takes as many tokens as it carries events,
possibly driving the bucket into debt: a batch larger than the burst still gets through once,
and the key then waits until the debt is paid. On average a key gets `rate`, whatever its
batch size. A key in debt (or empty) is refused before its body is even read, with 429 and a
Retry-After of the seconds until its bucket is positive again.

Why not a library: `limits` keeps one list entry per unit of cost in its moving window (a
500-event batch is 500 entries) and refuses any single cost above its limit, so a batch
larger than the burst could never pass; `aiolimiter` waits for capacity instead of refusing,
which is the queueing without bound this exists to prevent. The bucket is a dozen lines.

Buckets live in this process: with several nodes behind a load balancer, each node limits
on its own (a key gets up to `rate` per node).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


class RateLimited(Exception):
    """A key is over its rate limit; answered 429 with Retry-After."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Over the rate limit; retry in {retry_after} s.")
        self.retry_after = retry_after
        self.message = (
            "This key is sending events faster than its rate limit allows; "
            f"retry in {retry_after} s."
        )


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """Token buckets by key id; a `rate` of 0 turns limiting off."""

    def __init__(
        self, rate: float, burst: float = 0.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        # No burst given: one second's worth, and never below one event.
        self.burst = max(burst if burst > 0 else rate, 1.0)
        self.clock = clock
        self.refused_requests = 0
        self._buckets: dict[str, _Bucket] = {}

    def _bucket(self, key: str) -> _Bucket:
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
        return bucket

    def check(self, key: str) -> None:
        """Refuse a key whose bucket is empty or in debt (before its body is read)."""
        self.charge(key, 0)

    def charge(self, key: str, events: int) -> None:
        """Let `events` through for `key`, or raise RateLimited when its bucket is empty."""
        if self.rate <= 0:
            return
        bucket = self._bucket(key)
        if bucket.tokens <= 0:
            self.refused_requests += 1
            # Retry-After is whole seconds: round up, so a retry on time finds tokens.
            raise RateLimited(max(1, math.ceil(-bucket.tokens / self.rate)))
        bucket.tokens -= events
