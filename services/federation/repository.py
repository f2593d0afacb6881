"""Store access of the federation service: received events and rejections.

A received event is stored once under ``<origin>:<event_id>``; the unique ``_id``
is the de-duplication, so a redelivery after a cut has no second effect::

    {"_id": "mrc-66023:01JD3Q8Z6W4K1T7X2M9R5B0C3E", "peer": "mrc-66023",
     "agreement_id": "in-mrc-66023", "event_type": "indicators.values_approved",
     "received_at": datetime, "envelope": {...signed wire form...}}

Rejections are kept with their reason for the audit (never silently dropped).

The journal keeps each local event of a type an outgoing agreement names, as it
was published locally (before projection), for ``replay``::

    {"_id": "01JD3Q8Z6W4K1T7X2M9R5B0C3E", "event_type": "indicators.values_approved",
     "journaled_at": datetime, "envelope": {...local envelope...}}
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

RECEIVED = "received"
REJECTED = "rejected"
JOURNAL = "journal"  # local events an agreement names, by event_id, for replay

INDEXES = {
    RECEIVED: [[("peer", ASCENDING), ("received_at", ASCENDING)]],
    REJECTED: [[("reason", ASCENDING), ("at", ASCENDING)]],
}


class FederationRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def ensure_indexes(self) -> None:
        for collection, specs in INDEXES.items():
            for keys in specs:
                self.db[collection].create_index(keys)

    def add_received(
        self,
        peer: str,
        agreement_id: str,
        data: dict[str, Any],
        at: datetime,
        session: ClientSession | None = None,
    ) -> bool:
        """False if this event was already received (nothing is written)."""
        doc = {
            "_id": f"{peer}:{data['event_id']}",
            "peer": peer,
            "agreement_id": agreement_id,
            "event_type": data["event_type"],
            "received_at": at,
            "envelope": data,
        }
        try:
            self.db[RECEIVED].insert_one(doc, session=session)
        except DuplicateKeyError:
            return False
        return True

    def add_rejection(
        self,
        reason: str,
        peer: str | None,
        detail: str,
        raw: str,
        at: datetime,
        session: ClientSession | None = None,
    ) -> None:
        self.db[REJECTED].insert_one(
            {
                "reason": reason,
                "peer": peer,
                "detail": detail,
                "raw": raw[:10_000],
                "at": at,
            },
            session=session,
        )

    def received(self, peer: str | None = None) -> list[dict[str, Any]]:
        query = {} if peer is None else {"peer": peer}
        return list(self.db[RECEIVED].find(query).sort("_id", ASCENDING))

    def count_received(self, peer: str | None = None) -> int:
        query = {} if peer is None else {"peer": peer}
        return self.db[RECEIVED].count_documents(query)

    def rejections(self) -> list[dict[str, Any]]:
        return list(self.db[REJECTED].find().sort("at", ASCENDING))
