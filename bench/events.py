"""Durable events per second: the project's path against plain nameko and raw kombu.

Runs in a child process (``bench/events_worker.py``) because nameko needs eventlet's
monkey patching, which the other benchmarks should not inherit. All three paths
use the same RabbitMQ (a throwaway vhost each) and the same store (a fresh local
SecantusDB with ``--sync-on-commit``, as ``make run`` starts it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run() -> list[dict]:
    count = os.environ.get("BENCH_EVENTS", "3000")
    result = subprocess.run(
        [sys.executable, "-m", "bench.events_worker", count],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])
