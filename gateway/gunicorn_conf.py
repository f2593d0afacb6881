"""gunicorn settings of the gateway: gthread workers (no eventlet), 127.0.0.1 by default."""

import os

from prometheus_client import multiprocess

from gateway.http import trusted_proxies
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
# The proxies whose X-Forwarded-Proto gunicorn believes are the gateway's own
# (MAILLAGE_TRUSTED_PROXIES, default none; a bad value stops start-up), so the two
# never disagree on whether a request came over HTTPS (Secure cookie, HSTS).
forwarded_allow_ips = ",".join(str(net) for net in trusted_proxies({}, os.environ))

# Rate-limit buckets in memory the workers share: mapped here, in the master,
# before the fork, so W workers grant a client the budget once, not W times.
share_between_workers()


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
