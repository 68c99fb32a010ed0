"""A token bucket per client key: sustained rate plus a burst, 429 when empty."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from firstmile.clock import Clock
from firstmile.errors import RateLimited

MAX_TRACKED_KEYS = 100_000


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Allow ``rate`` requests per second per key, with bursts up to ``burst``."""

    def __init__(self, rate: float, burst: int, clock: Clock) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Take one token for ``key`` or raise :class:`~firstmile.errors.RateLimited`."""
        if self.rate <= 0:
            return
        now = self.clock.now().timestamp()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= MAX_TRACKED_KEYS:
                    self._buckets.clear()  # bounded memory; forgetting only forgives
                bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens < 1:
                retry_after = max(1, math.ceil((1 - bucket.tokens) / self.rate))
                raise RateLimited(
                    f"Too many requests for this key (limit {self.rate:g}/s); "
                    f"retry in {retry_after} s.",
                    retry_after=retry_after,
                )
            bucket.tokens -= 1
