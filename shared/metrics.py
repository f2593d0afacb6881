"""Prometheus metrics of a service, and the provider that records them.

Each nameko service process serves its own ``/metrics`` on ``METRICS_PORT``
(one port per service, see ``deploy/prometheus.yml``). The gateway, under
gunicorn, uses the multiprocess mode instead (:mod:`gateway.metrics`).

Recorded per entrypoint: calls, errors and latency; per service: events
published by the outbox relay and consumed by idempotent handlers (with the
duplicates they skipped), unsent outbox events, and events that no queue was
bound for, kept in ``maillage.unroutable`` (see :mod:`shared.broker`).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from nameko.extensions import DependencyProvider
from prometheus_client import Counter, Gauge, Histogram, start_http_server

from shared import logs

log = logging.getLogger(__name__)

ENTRYPOINT_CALLS = Counter(
    "maillage_entrypoint_calls_total", "Entrypoint calls", ["service", "entrypoint"]
)
ENTRYPOINT_ERRORS = Counter(
    "maillage_entrypoint_errors_total",
    "Entrypoint calls that raised",
    ["service", "entrypoint", "error"],
)
ENTRYPOINT_LATENCY = Histogram(
    "maillage_entrypoint_seconds",
    "Entrypoint latency",
    ["service", "entrypoint"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENTS_PUBLISHED = Counter(
    "maillage_events_published_total", "Events confirmed by the broker", ["service"]
)
EVENTS_CONSUMED = Counter(
    "maillage_events_consumed_total",
    "Events applied by a handler",
    ["service", "event_type"],
)
EVENTS_DUPLICATE = Counter(
    "maillage_events_duplicate_total",
    "Redelivered events skipped",
    ["service", "event_type"],
)
EVENTS_DEAD = Counter(
    "maillage_events_dead_lettered_total",
    "Events a handler could not apply",
    ["service", "event_type"],
)
OUTBOX_PENDING = Gauge("maillage_outbox_pending", "Unsent outbox events", ["service"])
RELAY_LEASE_HELD = Gauge(
    "maillage_outbox_relay_lease_held",
    "1 while this instance's relay holds its service's lease (publishes the outbox)",
    ["service"],
)
EVENTS_UNROUTABLE = Gauge(
    "maillage_events_unroutable",
    "Events kept in the maillage.unroutable queue (no queue was bound for their type),"
    " as seen by this service's relay",
    ["service"],
)

_started_ports: set[int] = set()


class Metrics(DependencyProvider):
    """Times every entrypoint of its service; serves ``/metrics`` if ``METRICS_PORT`` is set."""

    def setup(self) -> None:
        self._started: dict[Any, float] = {}
        port = self.container.config.get("METRICS_PORT")
        if port and int(port) not in _started_ports:
            try:
                start_http_server(
                    int(port),
                    addr=self.container.config.get("METRICS_ADDR", "127.0.0.1"),
                )
            except OSError as exc:  # metrics are not worth refusing to serve people
                log.error(
                    "metrics of %s not served on :%s: %s",
                    self.container.service_name,
                    port,
                    exc,
                )
                return
            _started_ports.add(int(port))
            log.info("metrics of %s on :%s", self.container.service_name, port)

    def get_dependency(self, worker_ctx: Any) -> None:
        return None

    def worker_setup(self, worker_ctx: Any) -> None:
        self._started[worker_ctx] = time.perf_counter()
        logs.bind(
            service=self.container.service_name,
            correlation_id=worker_ctx.context_data.get("correlation_id"),
        )

    def worker_result(
        self, worker_ctx: Any, result: Any = None, exc_info: Any = None
    ) -> None:
        service = self.container.service_name
        name = worker_ctx.entrypoint.method_name
        started = self._started.pop(worker_ctx, None)
        ENTRYPOINT_CALLS.labels(service, name).inc()
        if started is not None:
            ENTRYPOINT_LATENCY.labels(service, name).observe(
                time.perf_counter() - started
            )
        if exc_info is not None:
            ENTRYPOINT_ERRORS.labels(service, name, exc_info[0].__name__).inc()

    def worker_teardown(self, worker_ctx: Any) -> None:
        logs.clear()
