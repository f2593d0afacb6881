"""Small nameko services used by the foundation's integration tests.

``Counter`` counts each event's effect in the store; with ``CRASH_AFTER_EVENTS``
set it kills its own process with SIGKILL right after committing the batch that
crosses that count, before the broker hears the acknowledgement: the worst
moment for a consumer to die.
"""

from __future__ import annotations

import os
import signal

from nameko.rpc import rpc

from shared.consumer import EventConsumer, apply_batch
from shared.outbox import Outbox
from shared.service import ServiceBase
from shared.store import Store

THING_MADE = "producer.thing_made"
_applied = 0


class Producer(ServiceBase):
    name = "producer"
    store = Store()
    outbox = Outbox()

    @rpc
    def emit(self, start: int, count: int) -> None:
        with self.store.transaction() as session:
            for i in range(start, start + count):
                self.store.db.things.insert_one({"_id": i}, session=session)
                self.outbox.add(THING_MADE, {"i": i}, session=session)

    @rpc
    def count_things(self) -> int:
        return self.store.db.things.count_documents({})


def _count(service, envelope, session) -> None:
    service.store.db.counts.update_one(
        {"_id": envelope.payload["i"]}, {"$inc": {"n": 1}}, upsert=True, session=session
    )


class Counter(ServiceBase):
    name = "counter"
    store = Store()

    @EventConsumer.decorator((THING_MADE,), batch_size=100)
    def count(self, batch):
        global _applied
        applied = apply_batch(self, _count, batch)
        _applied += len(batch)
        crash_after = int(os.environ.get("CRASH_AFTER_EVENTS", "0"))
        if crash_after and _applied >= crash_after:
            os.kill(os.getpid(), signal.SIGKILL)  # committed, not yet acknowledged
        return applied
