"""A per-subscription token bucket for ARM writes, so a storm of fixes stays under the limits.

ARM throttles writes per subscription and principal with a bucket of 200 refilled at 10/s
(reference/arm/06). The bot shares that budget with people and pipelines, so its own default
is half of it. Tokens are reserved under the lock and the wait happens outside it, so
concurrent callers queue fairly without holding each other up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


class WriteBudgetExceeded(RuntimeError):
    """The wait for a write token would exceed the caller's limit."""


@dataclass
class _Bucket:
    tokens: float
    updated: float


class WriteBudget:
    def __init__(
        self,
        capacity: float = 100,
        refill_per_second: float = 5,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if capacity < 1 or refill_per_second <= 0:
            raise ValueError("capacity must be >= 1 and refill_per_second > 0")
        self.capacity = float(capacity)
        self.refill_per_second = float(refill_per_second)
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def _bucket(self, subscription_id: str, now: float) -> _Bucket:
        bucket = self._buckets.setdefault(subscription_id.lower(), _Bucket(self.capacity, now))
        elapsed = max(now - bucket.updated, 0.0)
        bucket.tokens = min(self.capacity, bucket.tokens + elapsed * self.refill_per_second)
        bucket.updated = now
        return bucket

    def reserve(self, subscription_id: str, cost: float = 1.0) -> float:
        """Take `cost` tokens now (possibly going into debt); returns seconds to wait first."""
        if cost > self.capacity:
            raise ValueError(f"cost {cost} exceeds the bucket capacity {self.capacity}")
        with self._lock:
            bucket = self._bucket(subscription_id, self._clock())
            bucket.tokens -= cost
            return max(0.0, -bucket.tokens / self.refill_per_second)

    def acquire(
        self, subscription_id: str, cost: float = 1.0, *, max_wait: float | None = None
    ) -> float:
        """Block until the write may go; returns how long it waited."""
        if max_wait is not None:
            with self._lock:
                bucket = self._bucket(subscription_id, self._clock())
                needed = (cost - bucket.tokens) / self.refill_per_second
            if needed > max_wait:
                raise WriteBudgetExceeded(
                    f"subscription {subscription_id}: next write in {needed:.1f}s "
                    f"exceeds {max_wait:.1f}s"
                )
        wait = self.reserve(subscription_id, cost)
        if wait > 0:
            self._sleep(wait)
        return wait

    def available(self, subscription_id: str) -> float:
        with self._lock:
            return self._bucket(subscription_id, self._clock()).tokens
