"""Idempotent, batched consumption of domain events: the ``@consume`` entrypoint.

    class BoardsService:
        name = "boards"
        store = Store()

        @consume(RESULTS_PUBLISHED)
        def add_priorities_to_agenda(self, envelope, session):
            self.store.db.agenda_items.insert_many([...], session=session)

Each handler has its own durable queue (``<service>.<method>``) bound to the
node's events exchange by event type. Messages are taken in small batches; one
worker applies a batch in ONE store transaction: for each envelope not yet in
``processed_events`` it calls the handler with the session and records the
``event_id`` in that same transaction. The messages are acknowledged only after
the commit. Hence:

- a redelivered event (broker restart, consumer crash before the ack, a relay
  that published twice) finds its id recorded and has no second effect;
- a crash before the commit loses nothing: the messages were not acknowledged;
- one commit per batch instead of one per event is where the speed comes from.

If a batch fails, its messages are retried one by one, so one bad event cannot
block the others. A store outage is retried without limit (nothing is lost); an
event that fails ``max_attempts`` times for any other reason goes to the
dead-letter queue ``<queue>.dead`` with the reason logged, never silently.
Both queues are of the node's ``QUEUE_TYPE`` (classic, or quorum on a cluster:
replicated, so a broker node's loss loses no event). A queue already on the
broker with another type stops the service's start, naming ``QUEUE_TYPE``.
Only JSON envelopes that pass :class:`shared.envelope.EnvelopeSchema` are
applied; anything else is dead-lettered at once.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import eventlet
from amqp.exceptions import PreconditionFailed
from kombu import Connection, Consumer, Exchange, Queue, binding
from marshmallow import ValidationError
from nameko.extensions import Entrypoint
from pymongo.errors import ConnectionFailure, DuplicateKeyError, OperationFailure

from shared.broker import DEAD_LETTER_EXCHANGE, dead_letter_exchange, events_exchange
from shared.config import queue_arguments, queue_type, require
from shared.envelope import Envelope, utcnow
from shared.errors import ConfigError, Unavailable
from shared.metrics import EVENTS_CONSUMED, EVENTS_DUPLICATE
from shared.store import Store, StoreHandle, find_store

log = logging.getLogger(__name__)

Handler = Callable[[Any, Envelope, Any], None]
BatchHandler = Callable[[Any, list[Envelope], Any], None]
TRANSIENT = (Unavailable, ConnectionFailure)


class Retry(Exception):
    """Raise from a handler to have the event tried again later (e.g. an ordering gap)."""


def _store_of(service: Any) -> StoreHandle:
    for value in vars(service).values():
        if isinstance(value, StoreHandle):
            return value
    raise LookupError("a @consume handler needs a Store dependency on its service")


def apply_batch(
    service: Any,
    handler: Handler | None,
    batch: list[Envelope],
    batch_handler: BatchHandler | None = None,
) -> int:
    """Apply the events of ``batch`` not yet processed, in one transaction; return how many."""
    store = _store_of(service)
    processed = store.db[Store.PROCESSED]
    service_name = getattr(service, "name", "?")

    def body(session: Any) -> tuple[list[Envelope], list[Envelope]]:
        applied: list[Envelope] = []
        skipped: list[Envelope] = []
        ids = [env.event_id for env in batch]
        seen = {
            doc["_id"]
            for doc in processed.find(
                {"_id": {"$in": ids}}, {"_id": 1}, session=session
            )
        }
        for env in batch:
            if env.event_id in seen:
                skipped.append(env)
                continue
            seen.add(env.event_id)
            if handler is not None:
                handler(service, env, session)
            applied.append(env)
        if applied and batch_handler is not None:
            batch_handler(service, applied, session)
        if applied:
            now = utcnow()
            processed.insert_many(
                [
                    {
                        "_id": env.event_id,
                        "event_type": env.event_type,
                        "processed_at": now,
                    }
                    for env in applied
                ],
                session=session,
            )
        return applied, skipped

    applied, skipped = store.run_transaction(body)
    for env in applied:
        EVENTS_CONSUMED.labels(service_name, env.event_type).inc()
    for env in skipped:
        EVENTS_DUPLICATE.labels(service_name, env.event_type).inc()
    return len(applied)


def consumer_queue(
    queue_name: str,
    event_types: tuple[str, ...],
    exchange: Exchange,
    kind: str = "classic",
) -> Queue:
    """The durable queue of one handler: a binding per event type (kombu keeps one
    Queue per name), rejected messages to the dead-letter exchange."""
    return Queue(
        queue_name,
        bindings=[binding(exchange, routing_key=t) for t in event_types],
        durable=True,
        queue_arguments={
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
            "x-dead-letter-routing-key": queue_name,
            **queue_arguments(kind),
        },
    )


def dead_letter_queue(queue_name: str, kind: str = "classic") -> Queue:
    return Queue(
        f"{queue_name}.dead",
        exchange=dead_letter_exchange(),
        routing_key=queue_name,
        durable=True,
        queue_arguments=queue_arguments(kind),
    )


def queue_type_refused(exc: PreconditionFailed, kind: str) -> ConfigError:
    """The broker holds a queue of another type (or arguments) than QUEUE_TYPE asks."""
    return ConfigError(
        f"Paramètre QUEUE_TYPE : le courtier refuse de déclarer une file de type "
        f"« {kind} » ({exc.reply_text}). Une file existante garde son type : videz-la "
        f"et supprimez-la, ou utilisez un nouveau vhost, avant de changer QUEUE_TYPE.",
        f"Setting QUEUE_TYPE: the broker refuses to declare a queue of type "
        f"'{kind}' ({exc.reply_text}). An existing queue keeps its type: drain and "
        f"delete it, or use a new vhost, before changing QUEUE_TYPE.",
    )


def declare_consumer_queues(
    amqp_uri: str,
    services: list[type],
    exchange_name: str = "maillage.events",
    kind: str = "classic",
) -> list[str]:
    """Declare the queue of every ``@consume`` handler of ``services`` now; return
    their names.

    RabbitMQ drops an event that no queue is bound for. A node whose producers
    start before a consumer has ever run (a first ``make run``, a compose service
    started late) would lose the events of that gap: the node runner and each
    ``maillage node service`` call this for all the node's services first, so the
    events wait in durable queues for their consumers. Declaring is idempotent and
    uses the same arguments as :class:`EventConsumer`.
    """
    exchange = events_exchange(exchange_name)
    declared: list[str] = []
    try:
        _declare_all(amqp_uri, services, exchange, kind, declared)
    except PreconditionFailed as exc:
        raise queue_type_refused(exc, kind) from exc
    return declared


def _declare_all(
    amqp_uri: str, services: list[type], exchange: Exchange, kind: str, declared: list
) -> None:
    with Connection(amqp_uri, heartbeat=0, connect_timeout=5) as conn:
        channel = conn.channel()
        exchange(channel).declare()
        for cls in services:
            for attr, member in vars(cls).items():
                for entrypoint in getattr(member, "nameko_entrypoints", ()):
                    if not isinstance(entrypoint, EventConsumer):
                        continue
                    name = f"{cls.name}.{attr}"  # type: ignore[attr-defined]
                    dead_letter_queue(name, kind)(channel).declare()
                    consumer_queue(name, entrypoint.event_types, exchange, kind)(
                        channel
                    ).declare()
                    declared.append(name)


class EventConsumer(Entrypoint):
    """See the module docstring. ``batch_size`` messages or ``max_wait`` seconds per batch."""

    def __init__(
        self,
        event_types: tuple[str, ...],
        batch_size: int = 200,
        max_wait: float = 0.02,
        max_attempts: int = 5,
        **kwargs: Any,
    ) -> None:
        self.event_types = event_types
        self.batch_size = batch_size
        self.max_wait = max_wait
        self.max_attempts = max_attempts
        super().__init__(**kwargs)

    @property
    def queue_name(self) -> str:
        return f"{self.container.service_name}.{self.method_name}"

    def setup(self) -> None:
        find_store(self.container)  # fail at start-up, not at the first event
        self.amqp_uri = require(
            self.container.config, "AMQP_URI", scheme=("amqp", "amqps")
        )
        exchange_name = self.container.config.get("EVENTS_EXCHANGE", "maillage.events")
        self.exchange = events_exchange(exchange_name)
        self.queue_type = queue_type(self.container.config)
        self.dead_queue = dead_letter_queue(self.queue_name, self.queue_type)
        self._running = False
        self._done: deque[tuple[list[Any], BaseException | None]] = deque()
        self._pending: list[Any] = []
        self._unsettled: set[int] = set()  # delivery tags neither acked nor rejected
        self._retries: deque[tuple[float, list[Any]]] = deque()
        self._attempts: dict[str, int] = {}
        self._thread: Any = None
        self._in_flight = 0

    def queues(self) -> list[Queue]:
        return [
            consumer_queue(
                self.queue_name, self.event_types, self.exchange, self.queue_type
            )
        ]

    def start(self) -> None:
        self._declare()
        self._running = True
        self._thread = self.container.spawn_managed_thread(self._run)

    def _declare(self) -> None:
        """Declare the queue and its bindings before start() returns, so events
        published once the service is up are routed to it (RabbitMQ drops what no
        queue is bound for). A broker that is away now is retried by the loop."""
        try:
            with Connection(self.amqp_uri, heartbeat=0, connect_timeout=5) as conn:
                channel = conn.channel()
                self.exchange(channel).declare()
                self.dead_queue(channel).declare()
                for queue in self.queues():
                    queue(channel).declare()
        except PreconditionFailed as exc:  # retrying would not help: stop start-up
            raise queue_type_refused(exc, self.queue_type) from exc
        except Exception as exc:  # noqa: BLE001 - the consumer loop declares again
            log.warning("queue %s not declared at start: %s", self.queue_name, exc)

    def stop(self) -> None:
        self._running = False
        if self._thread is not None:
            self._thread.wait()

    def kill(self) -> None:
        self._running = False
        if self._thread is not None:
            self._thread.kill()

    # --- the consumer loop (one green thread owns the connection) --------------------

    def _run(self) -> None:
        backoff = 0.2
        while self._running:
            try:
                with Connection(self.amqp_uri, heartbeat=0, connect_timeout=5) as conn:
                    self._consume(conn)
                backoff = 0.2
            except Exception as exc:  # broker away: unacked messages come back later
                if not self._running:
                    break
                log.warning("consumer %s reconnecting after: %s", self.queue_name, exc)
                self._pending.clear()
                self._unsettled.clear()
                self._done.clear()
                self._retries.clear()
                self._in_flight = 0
                eventlet.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    def _consume(self, conn: Connection) -> None:
        channel = conn.channel()
        self.exchange(channel).declare()
        self.dead_queue(channel).declare()
        queues = self.queues()
        consumer = Consumer(
            channel, queues=queues, on_message=self._received, accept=None
        )
        consumer.qos(prefetch_count=self.batch_size * 2)
        consumer.consume()
        first_at = 0.0
        while self._running:
            try:
                conn.drain_events(timeout=self.max_wait)
            except TimeoutError:
                pass
            self._settle()
            if self._pending and not first_at:
                first_at = time.monotonic()
            if self._in_flight:
                continue  # one batch at a time per queue: events are applied in order
            if self._retries:
                not_before, messages = self._retries[0]
                if time.monotonic() >= not_before:
                    self._retries.popleft()
                    self._dispatch(messages)
                continue
            if self._pending and (
                len(self._pending) >= self.batch_size
                or time.monotonic() - first_at >= self.max_wait
            ):
                batch = self._pending[: self.batch_size]
                del self._pending[
                    : self.batch_size
                ]  # the consumer appends to this very list
                first_at = time.monotonic() if self._pending else 0.0
                self._dispatch(batch)
        # Graceful stop: let in-flight batches finish and acknowledge them.
        deadline = time.monotonic() + 10
        while self._in_flight and time.monotonic() < deadline:
            eventlet.sleep(0.01)
            self._settle()
        consumer.cancel()

    def _received(self, message: Any) -> None:
        self._unsettled.add(message.delivery_tag)
        self._pending.append(message)

    def _ack(self, messages: list[Any]) -> None:
        """Acknowledge a batch: one ``multiple`` ack when no older message is still
        unsettled (the usual case), else one ack per message."""
        tags = [message.delivery_tag for message in messages]
        self._unsettled.difference_update(tags)
        last = max(tags)
        if not self._unsettled or min(self._unsettled) > last:
            messages[0].channel.basic_ack(delivery_tag=last, multiple=True)
        else:
            for message in messages:
                message.ack()

    def _decode(self, message: Any) -> Envelope | None:
        if message.content_type != "application/json":
            self._dead(
                message, f"content type {message.content_type!r} refused (JSON only)"
            )
            return None
        try:
            body = message.body
            data = json.loads(body.decode() if isinstance(body, bytes) else body)
            return Envelope.from_dict(data)
        except (ValueError, ValidationError, TypeError) as exc:
            self._dead(message, f"not a valid envelope: {exc}")
            return None

    def _dispatch(self, messages: list[Any]) -> None:
        envelopes: list[Envelope] = []
        kept: list[Any] = []
        for message in messages:
            env = self._decode(message)
            if env is not None:
                envelopes.append(env)
                kept.append(message)
        if not kept:
            return
        self._in_flight += 1
        context = (
            {"correlation_id": envelopes[0].correlation_id}
            if envelopes[0].correlation_id
            else {}
        )
        self.container.spawn_worker(
            self,
            (envelopes,),
            {},
            context_data=context,
            handle_result=functools.partial(self._handle_result, kept),
        )

    def _handle_result(
        self, messages: list[Any], worker_ctx: Any, result: Any, exc_info: Any
    ) -> tuple[Any, Any]:
        self._done.append((messages, exc_info[1] if exc_info else None))
        return result, exc_info

    def _settle(self) -> None:
        while self._done:
            messages, exc = self._done.popleft()
            self._in_flight -= 1
            if exc is None:
                for message in messages:
                    self._attempts.pop(message.properties.get("message_id", ""), None)
                self._ack(messages)
            elif len(messages) > 1:
                log.info(
                    "batch of %d failed in %s (%s): retrying one by one",
                    len(messages),
                    self.queue_name,
                    exc,
                )
                now = time.monotonic()
                self._retries.extendleft((now, [m]) for m in reversed(messages))
            else:
                self._retry_or_dead(messages[0], exc)

    def _retry_or_dead(self, message: Any, exc: BaseException) -> None:
        key = message.properties.get("message_id") or str(message.delivery_tag)
        transient = isinstance(exc, TRANSIENT + (Retry, DuplicateKeyError)) or (
            isinstance(exc, OperationFailure)
            and exc.has_error_label("TransientTransactionError")
        )
        if transient:  # e.g. the store is down: try again later, without limit
            self._retries.appendleft((time.monotonic() + 0.5, [message]))
            return
        attempts = self._attempts.get(key, 0) + 1
        self._attempts[key] = attempts
        if attempts >= self.max_attempts:
            self._attempts.pop(key, None)
            self._dead(message, f"handler failed {attempts} times: {exc!r}")
        else:
            self._retries.appendleft((time.monotonic() + 0.05 * attempts, [message]))

    def _dead(self, message: Any, reason: str) -> None:
        log.error(
            "event dead-lettered from %s: %s",
            self.queue_name,
            reason,
            extra={"event_id": message.properties.get("message_id")},
        )
        self._unsettled.discard(message.delivery_tag)
        message.reject(requeue=False)


def consume(*event_types: str, **options: Any) -> Callable[[Handler], Any]:
    """Decorate ``handler(self, envelope, session)``; see the module docstring."""

    def decorator(handler: Handler) -> Any:
        @functools.wraps(handler)
        def run_batch(self: Any, batch: list[Envelope]) -> int:
            return apply_batch(self, handler, batch)

        return EventConsumer.decorator(tuple(event_types), **options)(run_batch)

    return decorator


def consume_batch(*event_types: str, **options: Any) -> Callable[[BatchHandler], Any]:
    """Like :func:`consume`, for ``handler(self, envelopes, session)`` that writes a whole
    batch at once (projections, counters): it receives only events not yet processed,
    in delivery order, and its writes commit with their ``event_id``s.
    """

    def decorator(handler: BatchHandler) -> Any:
        @functools.wraps(handler)
        def run_batch(self: Any, batch: list[Envelope]) -> int:
            return apply_batch(self, None, batch, batch_handler=handler)

        return EventConsumer.decorator(tuple(event_types), **options)(run_batch)

    return decorator
