"""Gateway metrics, correct under gunicorn's several worker processes.

``PROMETHEUS_MULTIPROC_DIR`` must name an empty directory before gunicorn
starts (the node runner does it); each worker writes its own files there and
``/metrics`` merges them with :class:`MultiProcessCollector`. Workers that exit
are marked dead by ``child_exit`` in ``gateway/gunicorn_conf.py`` so their
gauges disappear. Without the variable (tests in one process) the default
registry is served.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "maillage_http_requests_total", "HTTP requests", ["method", "route", "status"]
)
LATENCY = Histogram(
    "maillage_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def render() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
