"""What every Maillage nameko service has: metrics and a ``health`` RPC.

class OfferingsService(ServiceBase):
    name = "offerings"
    store = Store(indexes=...)
    outbox = Outbox()
"""

from __future__ import annotations

from typing import Any

from shared.metrics import Metrics
from shared.rpc import rpc
from shared.store import StoreHandle


class ServiceBase:
    name: str
    metrics = Metrics()

    @rpc
    def health(self) -> dict[str, Any]:
        """Answer the gateway's ping with the state of this service's store."""
        store = next(
            (v for v in vars(self).values() if isinstance(v, StoreHandle)), None
        )
        return {
            "service": self.name,
            "status": "ok" if store is None or store.ping() else "degraded",
            "store": None
            if store is None
            else ("ok" if store.ping() else "unreachable"),
        }
