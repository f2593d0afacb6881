"""The transactional outbox and its relay.

A state change and the events it causes are written in one store transaction
(no dual write): the handler calls ``self.outbox.add(...)`` with the session of
its transaction. The relay, a green thread of the same service, reads the outbox
in ``event_id`` order, publishes with publisher confirms and marks as sent only
what the broker confirmed. After a crash or a broker restart it resumes from the
oldest unsent event: an event may be published twice, never lost; consumers are
idempotent (:mod:`shared.consumer`), so it is never counted twice.

Outbox document::

    {"_id": "01JD3Q8Z6W...", "envelope": {...}, "sent": false,
     "created_at": datetime, "sent_at": null}
"""

from __future__ import annotations

import logging
import random
from typing import Any

import eventlet
from eventlet.event import Event
from nameko.extensions import DependencyProvider
from pymongo import ASCENDING, IndexModel
from pymongo.client_session import ClientSession

from shared.broker import BatchPublisher
from shared.config import require
from shared.envelope import Envelope, current_version, utcnow
from shared.metrics import EVENTS_PUBLISHED, OUTBOX_PENDING
from shared.store import Store, find_store

log = logging.getLogger(__name__)

OUTBOX_INDEXES = [IndexModel([("sent", ASCENDING), ("_id", ASCENDING)])]


class OutboxHandle:
    """What a worker sees: ``add()`` an event inside the caller's transaction."""

    def __init__(self, provider: Outbox, worker_ctx: Any) -> None:
        self._provider = provider
        self._ctx = worker_ctx

    def add(
        self,
        event_type: str,
        payload: dict[str, Any],
        *,
        session: ClientSession,
        schema_version: int | None = None,
    ) -> Envelope:
        context = getattr(self._ctx, "context_data", {}) or {}
        envelope = Envelope(
            event_type=event_type,
            payload=payload,
            origin_node=self._provider.node_id,
            schema_version=schema_version or current_version(event_type),
            correlation_id=context.get("correlation_id"),
        )
        self._provider.write(envelope, session)
        self._provider.wake_soon()
        return envelope


class Outbox(DependencyProvider):
    """Outbox writer plus the relay green thread (see module docstring)."""

    def __init__(self, batch_size: int = 500, poll_interval: float = 0.5) -> None:
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self._wakeup = Event()
        self._running = False
        self._thread: Any = None
        self.publisher: BatchPublisher | None = None

    @property
    def node_id(self) -> str:
        return str(self.container.config.get("NODE_ID", "local"))

    def setup(self) -> None:
        self.store: Store = find_store(self.container)
        self.store.indexes.setdefault(Store.OUTBOX, []).extend(OUTBOX_INDEXES)
        self.publisher = BatchPublisher(
            require(self.container.config, "AMQP_URI", scheme=("amqp", "amqps")),
            exchange=self.container.config.get("EVENTS_EXCHANGE", "maillage.events"),
        )

    def start(self) -> None:
        self._running = True
        self._thread = self.container.spawn_managed_thread(self._relay)

    def stop(self) -> None:
        self._running = False
        self.wake()
        if self._thread is not None:
            self._thread.wait()
        if self.publisher is not None:
            self.publisher.close()

    def kill(self) -> None:
        self._running = False
        if self._thread is not None:
            self._thread.kill()
        if self.publisher is not None:
            self.publisher.close()

    def get_dependency(self, worker_ctx: Any) -> OutboxHandle:
        return OutboxHandle(self, worker_ctx)

    def write(self, envelope: Envelope, session: ClientSession) -> None:
        assert self.store.handle is not None
        self.store.handle.db[Store.OUTBOX].insert_one(
            {
                "_id": envelope.event_id,
                "envelope": envelope.to_dict(),
                "sent": False,
                "created_at": utcnow(),
                "sent_at": None,
            },
            session=session,
        )

    def wake(self) -> None:
        if not self._wakeup.ready():
            self._wakeup.send(True)

    def wake_soon(self) -> None:
        # Called inside the writer's transaction: give it a moment to commit.
        eventlet.spawn_after(0.005, self.wake)

    # --- relay -------------------------------------------------------------------

    def relay_once(self) -> int:
        """Publish one batch of unsent events; return how many were confirmed."""
        assert self.store.handle is not None and self.publisher is not None
        outbox = self.store.handle.db[Store.OUTBOX]
        docs = list(
            outbox.find({"sent": False}, {"envelope": 1})
            .sort("_id", ASCENDING)
            .limit(self.batch_size)
        )
        if not docs:
            return 0
        self.publisher.publish_batch([doc["envelope"] for doc in docs])
        ids = [doc["_id"] for doc in docs]
        outbox.update_many(
            {"_id": {"$in": ids}}, {"$set": {"sent": True, "sent_at": utcnow()}}
        )
        EVENTS_PUBLISHED.labels(service=self.container.service_name).inc(len(ids))
        return len(ids)

    def pending(self) -> int:
        assert self.store.handle is not None
        return self.store.handle.db[Store.OUTBOX].count_documents({"sent": False})

    def _relay(self) -> None:
        backoff = 0.1
        while self._running:
            self._wakeup = Event()
            try:
                sent = self.relay_once()
                backoff = 0.1
                if sent:
                    continue
                OUTBOX_PENDING.labels(service=self.container.service_name).set(0)
            except Exception as exc:  # broker or store away: keep events, retry later
                log.warning(
                    "outbox relay of %s paused: %s", self.container.service_name, exc
                )
                if self.publisher is not None:
                    self.publisher.close()
                eventlet.sleep(backoff + random.random() * backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            with eventlet.Timeout(self.poll_interval, False):
                self._wakeup.wait()
