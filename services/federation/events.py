"""Events of the federation service.

``federation.event_received``: a peer's event, verified and agreed, re-dispatched
on the node's own exchange for local services (a coordinator's indicators build
regional roll-ups from them)::

    {"peer": "mrc-66023", "agreement_id": "indicateurs-des-mrc",
     "event": {"event_id": "01JD...", "event_type": "indicators.values_approved",
               "origin_node": "mrc-66023", "payload": {...},
               "signature": "...", "key_id": "mrc-66023:3f2a..."}}

``federation.event_rejected``: a refused message, for audit boards::

    {"peer": "mrc-66023", "reason": "bad_signature", "detail": "..."}
"""

from __future__ import annotations

# consumed: the board's resolution adopting an agreement, as its agenda item
# carried it ({"service": "federation", "kind": "agreement", "id", "digest"})
from services.boards.events import RESOLUTION_ADOPTED

__all__ = ["EVENT_RECEIVED", "EVENT_REJECTED", "RESOLUTION_ADOPTED"]

EVENT_RECEIVED = "federation.event_received"
EVENT_REJECTED = "federation.event_rejected"
