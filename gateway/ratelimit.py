"""Token buckets for sign-in attempts and writes, shared by the gunicorn workers.

Each key (``signin:ip:127.0.0.1``, ``signin:pair:marie|127.0.0.1``,
``signin:user:marie``, ``write:<account>``) has a bucket of ``burst`` tokens
refilled at ``rate`` per second; a request that finds it empty gets 429 with
``Retry-After``. How sign-in combines them so that nobody can lock an owner out
of an account: :func:`gateway.routes.accounts.password_sign_in`.

Under gunicorn the buckets live in shared memory that the master maps before it
forks (``share_between_workers()``, called by ``gateway/gunicorn_conf.py``), so
``W`` workers give a client the budget once, not ``W`` times, with no store round
trip: a fixed table of slots (a key's 64-bit hash, its tokens, its last update)
behind one inter-process lock, a few microseconds a request. A key looks at 8
slots from its hash; when all 8 hold other keys, the one untouched the longest
is reused (a bucket that has refilled carries no information). Outside gunicorn
(tests, ``create_app`` in one process) the buckets are a dict in memory.

Settings (environment): ``MAILLAGE_SIGNIN_BURST`` (default 10) and
``MAILLAGE_SIGNIN_PER_MINUTE`` (6), per client address and per (account, client
address); ``MAILLAGE_SIGNIN_ACCOUNT_BURST`` (30) and
``MAILLAGE_SIGNIN_ACCOUNT_PER_MINUTE`` (6), the failures an account takes from
all addresses before it is "under attack"; ``MAILLAGE_WRITE_BURST`` (60) and
``MAILLAGE_WRITE_PER_SECOND`` (5); ``MAILLAGE_SURVEY_BURST`` (20) and
``MAILLAGE_SURVEY_PER_MINUTE`` (10), anonymous questionnaire answers per
questionnaire and client address, ``MAILLAGE_SURVEY_TOTAL_BURST`` (200) and
``MAILLAGE_SURVEY_TOTAL_PER_MINUTE`` (60) per questionnaire.
"""

from __future__ import annotations

import hashlib
import math
import mmap
import multiprocessing
import struct
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from shared.errors import ConfigError, TooManyRequests

__all__ = ["RateLimiter", "SharedBuckets", "TooManyRequests", "share_between_workers"]

Bucket = tuple[float, float]  # (tokens, time of the last update)


class Buckets(Protocol):
    def update(self, key: str, change: Callable[[Bucket | None], Bucket]) -> None:
        """Replace the bucket of ``key`` by ``change(bucket)``, atomically."""


class LocalBuckets:
    """One process's buckets: a dict behind a thread lock."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._buckets: dict[str, Bucket] = {}
        self._lock = threading.Lock()

    def update(self, key: str, change: Callable[[Bucket | None], Bucket]) -> None:
        with self._lock:
            self._buckets[key] = change(self._buckets.get(key))
            if len(self._buckets) > self.max_keys:  # keep the freshest half
                ordered = sorted(self._buckets.items(), key=lambda kv: kv[1][1])
                self._buckets = dict(ordered[len(ordered) // 2 :])


class SharedBuckets:
    """Buckets in an anonymous shared mapping: make it BEFORE the workers fork."""

    SLOT = struct.Struct("<Qdd")  # key hash (0 = free), tokens, last update
    PROBES = 8

    def __init__(self, slots: int = 65_536) -> None:
        self.slots = slots
        self._map = mmap.mmap(-1, slots * self.SLOT.size)  # MAP_SHARED
        self._lock = multiprocessing.get_context("fork").Lock()

    @staticmethod
    def _hash(key: str) -> int:
        digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "little") or 1

    def update(self, key: str, change: Callable[[Bucket | None], Bucket]) -> None:
        wanted = self._hash(key)
        size = self.SLOT.size
        with self._lock:
            oldest_at, oldest_last = -1, math.inf
            found: Bucket | None = None
            offset = -1
            for i in range(self.PROBES):
                at = ((wanted + i) % self.slots) * size
                owner, tokens, last = self.SLOT.unpack_from(self._map, at)
                if owner == wanted:
                    offset, found = at, (tokens, last)
                    break
                if owner == 0:
                    offset = at
                    break
                if last < oldest_last:
                    oldest_at, oldest_last = at, last
            if offset < 0:
                offset = oldest_at  # all taken: reuse the least recently touched
            tokens, last = change(found)
            self.SLOT.pack_into(self._map, offset, wanted, tokens, last)


_SHARED: dict[str, SharedBuckets] = {}


def share_between_workers(slots: int = 65_536) -> None:
    """Map the tables every worker forked after this call will use (gunicorn master)."""
    for name in ("signin", "signin_account", "write", "survey", "survey_total"):
        _SHARED.setdefault(name, SharedBuckets(slots))


class RateLimiter:
    def __init__(
        self,
        burst: float,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        buckets: Buckets | None = None,
    ) -> None:
        self.burst = float(burst)
        self.rate = float(rate)
        self.clock = clock  # time.monotonic is one clock for every process
        self.buckets: Buckets = buckets if buckets is not None else LocalBuckets()

    def take(self, key: str) -> None:
        """Spend one token of ``key`` or raise :class:`TooManyRequests`."""
        now = self.clock()
        refused: list[float] = []

        def spend(bucket: Bucket | None) -> Bucket:
            tokens, last = bucket if bucket is not None else (self.burst, now)
            tokens = min(self.burst, tokens + max(0.0, now - last) * self.rate)
            if tokens < 1.0:
                refused.append(tokens)
                return tokens, now
            return tokens - 1.0, now

        self.buckets.update(key, spend)
        if refused:
            raise TooManyRequests(self.wait(refused[0]))

    def level(self, key: str) -> float:
        """The tokens ``key`` has now, spending none."""
        now = self.clock()
        seen: list[float] = []

        def look(bucket: Bucket | None) -> Bucket:
            tokens, last = bucket if bucket is not None else (self.burst, now)
            tokens = min(self.burst, tokens + max(0.0, now - last) * self.rate)
            seen.append(tokens)
            return tokens, now

        self.buckets.update(key, look)
        return seen[0]

    def charge(self, key: str) -> None:
        """Spend one token of ``key`` if it has one; never refuses (a failure
        that already happened is counted, not answered)."""
        now = self.clock()

        def spend(bucket: Bucket | None) -> Bucket:
            tokens, last = bucket if bucket is not None else (self.burst, now)
            tokens = min(self.burst, tokens + max(0.0, now - last) * self.rate)
            return max(0.0, tokens - 1.0), now

        self.buckets.update(key, spend)

    def wait(self, tokens: float, wanted: float = 1.0) -> int:
        """Whole seconds (at least 1) until a bucket at ``tokens`` has ``wanted``."""
        missing = max(0.0, wanted - tokens)
        seconds = missing / self.rate if self.rate > 0 else 3600
        return max(1, math.ceil(seconds))


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    """A positive finite number, else a :class:`ConfigError` naming the setting
    (a typo must not silently give another limit, nor 0 lock everyone out)."""
    raw = env.get(name, default)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(
            f"Paramètre {name} mal formé : nombre positif attendu, reçu « {raw} ».",
            f"Malformed setting {name}: positive number expected, got '{raw}'.",
        )
    return value


def from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """The limiters, on the shared tables when the master made them."""
    return {
        "signin": RateLimiter(
            _number(env, "MAILLAGE_SIGNIN_BURST", 10),
            _number(env, "MAILLAGE_SIGNIN_PER_MINUTE", 6) / 60.0,
            buckets=_SHARED.get("signin"),
        ),
        "signin_account": RateLimiter(
            _number(env, "MAILLAGE_SIGNIN_ACCOUNT_BURST", 30),
            _number(env, "MAILLAGE_SIGNIN_ACCOUNT_PER_MINUTE", 6) / 60.0,
            buckets=_SHARED.get("signin_account"),
        ),
        "write": RateLimiter(
            _number(env, "MAILLAGE_WRITE_BURST", 60),
            _number(env, "MAILLAGE_WRITE_PER_SECOND", 5),
            buckets=_SHARED.get("write"),
        ),
        # anonymous questionnaire answers: per questionnaire and client address
        # (a kiosk is one address, hence a generous budget), and per
        # questionnaire; buckets live in memory only, never in the store
        "survey": RateLimiter(
            _number(env, "MAILLAGE_SURVEY_BURST", 20),
            _number(env, "MAILLAGE_SURVEY_PER_MINUTE", 10) / 60.0,
            buckets=_SHARED.get("survey"),
        ),
        "survey_total": RateLimiter(
            _number(env, "MAILLAGE_SURVEY_TOTAL_BURST", 200),
            _number(env, "MAILLAGE_SURVEY_TOTAL_PER_MINUTE", 60) / 60.0,
            buckets=_SHARED.get("survey_total"),
        ),
    }
