"""The transactional outbox and its relay.

A state change and the events it causes are written in one store transaction
(no dual write): the handler calls ``self.outbox.add(...)`` with the session of
its transaction. The relay, a green thread of the same service, reads the outbox
in ``event_id`` order, publishes with publisher confirms and marks as sent only
what the broker confirmed. After a crash or a broker restart it resumes from the
oldest unsent event: an event may be published twice, never lost; consumers are
idempotent (:mod:`shared.consumer`), so it is never counted twice.

Outbox document: one per transaction, holding its events in order (a store
write per transaction rather than per event, on both sides: writing the row and
marking it sent)::

    {"_id": "01JD3Q8Z6W...", "events": [{...envelope...}, ...], "sent": false,
     "created_at": datetime, "sent_at": null}

Sent rows made more than ``OUTBOX_RETENTION_DAYS`` ago (7 by default) are
deleted by the relay in its idle moments, a chunk at a time, so a node that runs
for years keeps an outbox the size of a week (enough to look into what a service
published). Unsent rows are never deleted.

One relay per service publishes at a time, however many instances of the
service run (competing consumers share its queues; two relays would publish
every event twice). The relay that holds the service's lease publishes; the
others wait. The lease is one document of the service's database::

    {"_id": "outbox-relay", "holder": "host:pid:1f3a9c2e",
     "expires_at": datetime, "renewed_at": datetime}

taken when absent or expired (an upsert whose filter matches only then; the
loser's insert meets the ``_id`` and fails), renewed by its holder every third of
``RELAY_LEASE_SECONDS`` (15 by default), and released when the service stops. A
holder that dies keeps it until it expires; then another instance's relay takes
it and resumes from the oldest unsent event. A holder stops publishing once a
renewal fails or its lease may have lapsed, measured on its own monotonic clock
from before the renewal's write. What this still allows, by design: the dead
holder's last batch, published but not yet marked sent, is published again by
the next holder (absorbed by idempotent consumers); and the instances' wall
clocks must agree to well within the lease (NTP), since ``expires_at`` is one
holder's clock read by another.

A transaction with one event stores it under ``"envelope"`` instead of
``"events"``. Events are grouped only in transactions opened through
:class:`shared.store.StoreHandle`; with any other session each event is its own
row, written at once.
"""

from __future__ import annotations

import functools
import logging
import os
import random
import socket
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import eventlet
from eventlet.event import Event
from nameko.extensions import DependencyProvider
from pymongo import ASCENDING, IndexModel
from pymongo.client_session import ClientSession
from pymongo.errors import DuplicateKeyError

from shared.broker import BatchPublisher
from shared.config import positive_int, queue_type, require
from shared.envelope import Envelope, current_version, event_id_floor, utcnow
from shared.metrics import (
    EVENTS_PUBLISHED,
    EVENTS_UNROUTABLE,
    OUTBOX_PENDING,
    RELAY_LEASE_HELD,
)
from shared.mongo import make_client
from shared.store import Store, find_store, tx_state

log = logging.getLogger(__name__)

OUTBOX_INDEXES = [IndexModel([("sent", ASCENDING), ("_id", ASCENDING)])]
LEASES = "leases"
RELAY_LEASE = "outbox-relay"


def outbox_row(envelopes: list[Envelope]) -> dict[str, Any]:
    """The outbox row of one transaction's events (see the module docstring); also
    for writers outside a running service, such as an import, whose rows the
    service's relay publishes when it runs."""
    row: dict[str, Any] = {
        "_id": envelopes[0].event_id,
        "sent": False,
        "created_at": utcnow(),
        "sent_at": None,
    }
    if len(envelopes) == 1:
        row["envelope"] = envelopes[0].to_dict()
    else:
        row["events"] = [env.to_dict() for env in envelopes]
    return row


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
        state = tx_state(session)
        if state is None:  # a session we did not open: write this event alone, now
            self._provider.write([envelope], session)
            return envelope
        pending = state.data.get("outbox")
        if pending is None:
            pending = state.data["outbox"] = []
            state.hooks.append(functools.partial(self._provider.write, pending))
        pending.append(envelope)
        return envelope


class Outbox(DependencyProvider):
    """Outbox writer plus the relay green thread (see module docstring)."""

    def __init__(
        self,
        batch_size: int = 500,
        poll_interval: float = 0.5,
        linger: float = 0.05,
        unroutable_interval: float = 15.0,
    ) -> None:
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.linger = linger
        self.unroutable_interval = unroutable_interval
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
        self.retention = timedelta(
            days=positive_int(self.container.config, "OUTBOX_RETENTION_DAYS", 7)
        )
        self._next_purge = 0.0
        self.lease_seconds = positive_int(
            self.container.config, "RELAY_LEASE_SECONDS", 15
        )
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._lease_until = 0.0  # monotonic: publish only before this
        self._lease_renew_at = 0.0
        # Its own client: the Store's is closed by a concurrent stop(), and a clean
        # stop must still hand the lease over.
        self._lease_client = make_client(
            require(
                self.container.config, "MONGODB_URI", scheme=("mongodb", "mongodb+srv")
            )
        )
        self._leases = self._lease_client[self.store.database_name][LEASES]
        self.publisher = BatchPublisher(
            require(self.container.config, "AMQP_URI", scheme=("amqp", "amqps")),
            exchange=self.container.config.get("EVENTS_EXCHANGE", "maillage.events"),
            queue_type=queue_type(self.container.config),
        )
        self._next_unroutable_check = 0.0

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
        self.release_lease()
        self._lease_client.close()

    def kill(self) -> None:
        self._running = False
        if self._thread is not None:
            self._thread.kill()
        if self.publisher is not None:
            self.publisher.close()
        self._lease_client.close()

    def get_dependency(self, worker_ctx: Any) -> OutboxHandle:
        return OutboxHandle(self, worker_ctx)

    def write(self, envelopes: list[Envelope], session: ClientSession) -> None:
        """One outbox row for the events of one transaction (called inside it)."""
        if not envelopes:
            return
        assert self.store.handle is not None
        row = outbox_row(envelopes)
        self.store.handle.db[Store.OUTBOX].insert_one(row, session=session)
        self.wake_soon()

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
        envelopes: list[dict[str, Any]] = []
        ids = []
        for doc in (
            outbox.find({"sent": False}, {"envelope": 1, "events": 1})
            .sort("_id", ASCENDING)
            .limit(self.batch_size)
        ):
            envelopes.extend(doc["events"] if "events" in doc else [doc["envelope"]])
            ids.append(doc["_id"])
            if len(envelopes) >= self.batch_size:
                break
        if not ids:
            return 0
        self.publisher.publish_batch(envelopes)
        outbox.update_many(
            {"_id": {"$in": ids}}, {"$set": {"sent": True, "sent_at": utcnow()}}
        )
        EVENTS_PUBLISHED.labels(service=self.container.service_name).inc(len(envelopes))
        return len(envelopes)

    def purge_sent(self, before: datetime, limit: int = 1000) -> int:
        """Delete up to ``limit`` rows sent and made before ``before``; return how many.

        Unsent rows are never touched, however old (the broker may be away for long).
        """
        assert self.store.handle is not None
        outbox = self.store.handle.db[Store.OUTBOX]
        old = {"sent": True, "_id": {"$lt": event_id_floor(before)}}
        ids = [doc["_id"] for doc in outbox.find(old, {"_id": 1}).limit(limit)]
        if ids:
            outbox.delete_many({"_id": {"$in": ids}, "sent": True})
        return len(ids)

    def _purge_when_due(self, chunk: int = 1000) -> None:
        """One chunk when the relay is idle; the next at once if there is more."""
        if time.monotonic() < self._next_purge:
            return
        try:
            deleted = self.purge_sent(utcnow() - self.retention, limit=chunk)
        except Exception as exc:  # the store away: next time
            log.warning(
                "outbox purge of %s put off: %s", self.container.service_name, exc
            )
            deleted = 0
        self._next_purge = time.monotonic() + (0.0 if deleted >= chunk else 60.0)

    def _count_unroutable_when_due(self) -> None:
        """Report the depth of ``maillage.unroutable`` now and then, when idle."""
        if time.monotonic() < self._next_unroutable_check or self.publisher is None:
            return
        self._next_unroutable_check = time.monotonic() + self.unroutable_interval
        EVENTS_UNROUTABLE.labels(service=self.container.service_name).set(
            self.publisher.unroutable()
        )

    # --- lease (see the module docstring) ---------------------------------------------

    def hold_lease(self) -> bool:
        """Take or renew this service's relay lease; return whether we hold it."""
        started = time.monotonic()
        now = utcnow()
        try:
            self._leases.update_one(
                {
                    "_id": RELAY_LEASE,
                    "$or": [{"holder": self.holder}, {"expires_at": {"$lt": now}}],
                },
                {
                    "$set": {
                        "holder": self.holder,
                        "expires_at": now + timedelta(seconds=self.lease_seconds),
                        "renewed_at": now,
                    }
                },
                upsert=True,
            )
        except DuplicateKeyError:  # another instance holds it
            held = False
        else:
            held = True
        if held:
            if self._lease_until <= started:
                log.info(
                    "outbox relay of %s leased by %s", self.service_name, self.holder
                )
            self._lease_until = started + self.lease_seconds
            self._lease_renew_at = started + self.lease_seconds / 3
        else:
            self._lease_until = 0.0
            self._lease_renew_at = started + min(1.0, self.lease_seconds / 3)
        RELAY_LEASE_HELD.labels(service=self.service_name).set(1 if held else 0)
        return held

    def lease_held(self) -> bool:
        """Whether we may publish now, renewing the lease when due."""
        now = time.monotonic()
        if now >= self._lease_renew_at:
            try:
                return self.hold_lease()
            except Exception:
                self._lease_until = 0.0  # cannot renew: stop publishing
                raise
        return now < self._lease_until

    def release_lease(self) -> None:
        """Let another instance take over at once (a clean stop)."""
        if self._lease_until == 0.0:
            return
        self._lease_until = 0.0
        try:
            self._leases.update_one(
                {"_id": RELAY_LEASE, "holder": self.holder},
                {"$set": {"expires_at": utcnow() - timedelta(seconds=1)}},
            )
        except Exception as exc:  # it expires by itself
            log.warning("relay lease of %s not released: %s", self.service_name, exc)
        RELAY_LEASE_HELD.labels(service=self.service_name).set(0)

    @property
    def service_name(self) -> str:
        return str(self.container.service_name)

    def pending(self) -> int:
        assert self.store.handle is not None
        return self.store.handle.db[Store.OUTBOX].count_documents({"sent": False})

    def _relay(self) -> None:
        backoff = 0.1
        while self._running:
            self._wakeup = Event()
            started = time.monotonic()
            try:
                if not self.lease_held():  # another instance's relay publishes
                    with eventlet.Timeout(self.poll_interval, False):
                        self._wakeup.wait()
                    continue
                sent = self.relay_once()
                backoff = 0.1
                if sent >= self.batch_size:  # a backlog: drain it without pause
                    continue
                if sent:
                    # Under load, more transactions are committing right now: let
                    # them gather for one pass (a find and a mark per pass, not per
                    # event). A quiet node still publishes at once on the next wake.
                    eventlet.sleep(max(0.0, self.linger - (time.monotonic() - started)))
                    continue
                OUTBOX_PENDING.labels(service=self.container.service_name).set(0)
                self._purge_when_due()
                self._count_unroutable_when_due()
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
