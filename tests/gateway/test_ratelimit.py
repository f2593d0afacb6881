"""Rate limits: one budget per key, whichever gunicorn worker answers."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

from gateway.ratelimit import RateLimiter, SharedBuckets, TooManyRequests
from shared.localstore import free_port
from shared.node import gateway_command
from tests.conftest import AMQP_HOST

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _spend(limiter: RateLimiter, key: str, times: int) -> int:
    granted = 0
    for _ in range(times):
        try:
            limiter.take(key)
            granted += 1
        except TooManyRequests:
            pass
    return granted


@pytest.mark.parametrize("shared", [False, True], ids=["in-process", "shared"])
def test_a_bucket_grants_its_burst_then_refills_at_its_rate(shared):
    clock = Clock()
    buckets = SharedBuckets(slots=64) if shared else None
    limiter = RateLimiter(burst=3, rate=0.5, clock=clock, buckets=buckets)

    assert _spend(limiter, "signin:user:marie", 5) == 3
    with pytest.raises(TooManyRequests) as refused:
        limiter.take("signin:user:marie")
    assert refused.value.details["retry_after"] == 2  # one token at 0.5 per second
    assert _spend(limiter, "signin:user:luc", 1) == 1  # another key, its own bucket
    clock.now += 4.0  # two tokens back
    assert _spend(limiter, "signin:user:marie", 3) == 2


def test_forked_workers_share_one_budget_per_key():
    limiter = RateLimiter(burst=5, rate=0.0001, buckets=SharedBuckets(slots=256))
    children = []
    for _ in range(3):
        pid = os.fork()
        if pid == 0:  # a worker: try ten times, report what it was granted
            os._exit(_spend(limiter, "write:account-7", 10))
        children.append(pid)
    granted = sum(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children)
    assert granted == 5  # not 3 x 5
    assert _spend(limiter, "write:account-7", 1) == 0
    assert _spend(limiter, "write:account-8", 1) == 1


def test_a_full_table_reuses_the_slot_untouched_the_longest():
    clock = Clock()
    limiter = RateLimiter(
        burst=1, rate=0.001, clock=clock, buckets=SharedBuckets(slots=8)
    )
    for i in range(50):  # many more keys than slots
        clock.now += 1.0
        assert _spend(limiter, f"signin:ip:10.0.0.{i}", 2) == 1
    # the latest keys are still remembered as spent
    assert _spend(limiter, "signin:ip:10.0.0.49", 1) == 0


@pytest.mark.integration
def test_under_gunicorn_two_workers_grant_the_sign_in_budget_once(store_uri, vhost):
    port = free_port()
    env = dict(
        os.environ,
        AMQP_URI=f"amqp://guest:guest@{AMQP_HOST}/{vhost}",
        MONGODB_URI=store_uri,
        DB_PREFIX=f"rl{uuid.uuid4().hex[:8]}_",
        MAILLAGE_SECRET_KEY=uuid.uuid4().hex * 2,
        MAILLAGE_GATEWAY_BIND=f"127.0.0.1:{port}",
        MAILLAGE_GATEWAY_WORKERS="2",
        MAILLAGE_SIGNIN_BURST="4",
        MAILLAGE_SIGNIN_PER_MINUTE="0.01",
        LOG_LEVEL="WARNING",
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    gunicorn = subprocess.Popen(
        gateway_command(),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(f"{base}/openapi.json", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.3)
        statuses = []
        for _ in range(40):  # a new connection each time: both workers answer
            with requests.Session() as session:
                statuses.append(
                    session.post(
                        f"{base}/auth/token",
                        json={"username": "marie", "password": "devine"},
                        headers={"Connection": "close"},
                        timeout=10,
                    ).status_code
                )
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)
    assert statuses.count(401) == 4, statuses
    assert statuses.count(429) == 36
