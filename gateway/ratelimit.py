"""Token buckets in the worker's memory: sign-in attempts and writes.

Each key (``signin:ip:127.0.0.1``, ``signin:user:marie``, ``write:<account>``)
has a bucket of ``burst`` tokens refilled at ``rate`` per second; a request that
finds it empty gets 429 with ``Retry-After``. The buckets live in one gunicorn
worker process, so with ``W`` workers a client may get up to ``W`` times the
budget: good enough against password guessing and runaway scripts on one
node, and it needs no store round trip. A shared limit (in the store or a
proxy) is the step after this one.

Settings (environment): ``MAILLAGE_SIGNIN_BURST`` (default 10) and
``MAILLAGE_SIGNIN_PER_MINUTE`` (6); ``MAILLAGE_WRITE_BURST`` (60) and
``MAILLAGE_WRITE_PER_SECOND`` (5).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from shared.errors import TooManyRequests

__all__ = ["RateLimiter", "TooManyRequests"]


class RateLimiter:
    def __init__(
        self,
        burst: float,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.burst = float(burst)
        self.rate = float(rate)
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        """Spend one token of ``key`` or raise :class:`TooManyRequests`."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) / self.rate if self.rate > 0 else 3600
                raise TooManyRequests(max(1, math.ceil(wait)))
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > self.max_keys:
                self._forget_full(now)

    def _forget_full(self, now: float) -> None:
        # Buckets that have refilled carry no information: drop them.
        full_after = self.burst / self.rate if self.rate > 0 else math.inf
        self._buckets = {
            k: v for k, v in self._buckets.items() if now - v[1] < full_after
        }


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    try:
        return float(env.get(name, default))
    except ValueError:
        return default


def from_env(env: Mapping[str, str]) -> dict[str, Any]:
    return {
        "signin": RateLimiter(
            _number(env, "MAILLAGE_SIGNIN_BURST", 10),
            _number(env, "MAILLAGE_SIGNIN_PER_MINUTE", 6) / 60.0,
        ),
        "write": RateLimiter(
            _number(env, "MAILLAGE_WRITE_BURST", 60),
            _number(env, "MAILLAGE_WRITE_PER_SECOND", 5),
        ),
    }
