"""RabbitMQ topology and a publisher that confirms batches.

Every node has one durable topic exchange for domain events (``maillage.events``,
routing key = event type) and a dead-letter exchange (``maillage.dead``) for
messages a consumer cannot apply. Messages are persistent JSON with the
``event_id`` as ``message_id``.

:class:`BatchPublisher` publishes many messages and then waits once for the
broker's confirms (publisher confirms, RabbitMQ's extension): the outbox marks
an event as sent only when the broker has confirmed it, at the cost of one
round trip per batch rather than per message.

Unroutable events are kept, not dropped. RabbitMQ drops a message that no queue
is bound for; an *alternate exchange* on ``maillage.events`` receives such
messages instead and routes them to the durable queue ``maillage.unroutable``
(read it to see what no service consumed; the relay reports its depth as
``maillage_events_unroutable``). The alternate exchange is set by a policy
(:func:`apply_unroutable_policy`, through the management API), not by an
``alternate-exchange`` argument: an exchange's arguments are fixed when it is
first declared, so every broker that already holds ``maillage.events`` would
refuse a redeclaration with the argument (``PRECONDITION_FAILED``), and so would
every client still declaring it the old way. A policy applies to the existing
exchange at once, needs no client change, and can be removed or changed without
deleting the exchange and its bindings. The node applies it before its services
start (:func:`shared.node.declare_node_queues`).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

import amqp
from kombu import Connection, Exchange, Queue

from shared.config import queue_arguments
from shared.rabbitadmin import BrokerAdmin

log = logging.getLogger(__name__)

DEAD_LETTER_EXCHANGE = "maillage.dead"
#: The alternate exchange of the events exchange, and the queue it fills.
UNROUTABLE = "maillage.unroutable"
UNROUTABLE_POLICY = "maillage-unroutable"


def events_exchange(name: str = "maillage.events") -> Exchange:
    return Exchange(name, type="topic", durable=True)


def dead_letter_exchange() -> Exchange:
    return Exchange(DEAD_LETTER_EXCHANGE, type="topic", durable=True)


def unroutable_queue(queue_type: str = "classic") -> Queue:
    """The durable queue that keeps every event no other queue was bound for."""
    return Queue(
        UNROUTABLE,
        exchange=Exchange(UNROUTABLE, type="fanout", durable=True),
        routing_key="",
        durable=True,
        queue_arguments=queue_arguments(queue_type),
    )


def first_uri(amqp_uri: str) -> str:
    """The first broker of an ``AMQP_URI`` that lists several (``;``-separated)."""
    return amqp_uri.split(";")[0].strip()


def vhost_of(amqp_uri: str) -> str:
    path = urlsplit(first_uri(amqp_uri)).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def apply_unroutable_policy(
    admin: BrokerAdmin, vhost: str, exchange: str = "maillage.events"
) -> None:
    """Give ``exchange`` of ``vhost`` the alternate exchange ``maillage.unroutable``
    (idempotent; see the module docstring for why a policy)."""
    admin.put(
        "policies",
        vhost,
        UNROUTABLE_POLICY,
        body={
            "pattern": f"^{re.escape(exchange)}$",
            "definition": {"alternate-exchange": UNROUTABLE},
            "apply-to": "exchanges",
            "priority": 0,
        },
    )


def declare_unroutable(
    amqp_uri: str,
    management_url: str | None,
    exchange: str = "maillage.events",
    queue_type: str = "classic",
) -> bool:
    """Declare the unroutable exchange and queue, then the policy that routes
    ``exchange``'s unroutable events there. Return whether the policy is in place;
    without the management API it is not (logged in French and English)."""
    with Connection(amqp_uri, heartbeat=0, connect_timeout=5) as conn:
        channel = conn.channel()
        events_exchange(exchange)(channel).declare()
        unroutable_queue(queue_type)(channel).declare()
    if not management_url:
        return False
    try:
        apply_unroutable_policy(
            BrokerAdmin(management_url), vhost_of(amqp_uri), exchange
        )
    except Exception as exc:  # noqa: BLE001 - the node runs; the gap is logged
        log.warning(
            "Politique %s non posée, les événements sans file seront perdus / "
            "policy %s not set, events no queue is bound for will be dropped: %s",
            UNROUTABLE_POLICY,
            UNROUTABLE_POLICY,
            exc,
        )
        return False
    return True


def encode(envelope: dict[str, Any]) -> bytes:
    return json.dumps(envelope, separators=(",", ":"), default=str).encode()


class NotConfirmed(Exception):
    """The broker refused (nack) or did not confirm a batch in time."""


class BatchPublisher:
    """Publish JSON envelopes with publisher confirms, one wait per batch."""

    def __init__(
        self,
        amqp_uri: str,
        exchange: str = "maillage.events",
        heartbeat: int = 0,
        queue_type: str = "classic",
    ) -> None:
        self.amqp_uri = amqp_uri
        self.exchange = exchange
        self.heartbeat = heartbeat
        self.queue_type = queue_type
        self.connection: Connection | None = None
        self.channel: Any = None
        self._acked = 0
        self._nacked = False

    def connect(self) -> None:
        self.close()
        self.connection = Connection(
            self.amqp_uri, heartbeat=self.heartbeat, connect_timeout=5
        )
        self.connection.connect()
        channel = self.connection.channel()
        events_exchange(self.exchange)(channel).declare()
        dead_letter_exchange()(channel).declare()
        # The alternate exchange's target exists whenever events are published.
        unroutable_queue(self.queue_type)(channel).declare()
        channel.confirm_select()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        self.channel = channel
        self._next_tag = 1
        self._acked = 0
        self._nacked = False

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        self._acked = max(self._acked, delivery_tag)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._nacked = True

    def publish_batch(
        self, envelopes: Sequence[dict[str, Any]], timeout: float = 10.0
    ) -> None:
        """Return only when every envelope is confirmed; raise otherwise."""
        if self.channel is None:
            self.connect()
        assert self.connection is not None
        last = self._next_tag - 1
        for env in envelopes:
            message = amqp.Message(
                encode(env),
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
                message_id=env["event_id"],
                headers={"correlation_id": env.get("correlation_id") or ""},
            )
            self.channel.basic_publish(
                message, exchange=self.exchange, routing_key=env["event_type"]
            )
            last += 1
        self._next_tag = last + 1
        deadline = time.monotonic() + timeout
        while self._acked < last:
            if self._nacked:
                raise NotConfirmed("the broker refused a message (nack)")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise NotConfirmed("no confirm from the broker in time")
            try:
                self.connection.drain_events(timeout=min(remaining, 1.0))
            except TimeoutError:
                continue
        if self._nacked:
            raise NotConfirmed("the broker refused a message (nack)")

    def unroutable(self) -> int:
        """How many events wait in ``maillage.unroutable`` (a passive declare)."""
        if self.channel is None:
            self.connect()
        return int(self.channel.queue_declare(UNROUTABLE, passive=True).message_count)

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.release()
            except Exception:  # closing a dead connection is not an error worth raising
                log.debug("ignored error while closing", exc_info=True)
        self.connection = None
        self.channel = None
