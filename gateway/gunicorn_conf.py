"""gunicorn settings of the gateway: gthread workers (no eventlet), 127.0.0.1 by default."""

import os

from prometheus_client import multiprocess

from gateway.ratelimit import share_between_workers

bind = os.environ.get("MAILLAGE_GATEWAY_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("MAILLAGE_GATEWAY_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("MAILLAGE_GATEWAY_THREADS", "8"))
timeout = 30
graceful_timeout = 10
accesslog = None
limit_request_line = 8190
limit_request_fields = 100
# Behind a TLS proxy, trust its X-Forwarded-Proto so the session cookie gets Secure.
forwarded_allow_ips = os.environ.get("MAILLAGE_FORWARDED_ALLOW_IPS", "127.0.0.1")

# Rate-limit buckets in memory the workers share: mapped here, in the master,
# before the fork, so W workers grant a client the budget once, not W times.
share_between_workers()


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
