"""RabbitMQ topology and a publisher that confirms batches.

Every node has one durable topic exchange for domain events (``maillage.events``,
routing key = event type) and a dead-letter exchange (``maillage.dead``) for
messages a consumer cannot apply. Messages are persistent JSON with the
``event_id`` as ``message_id``.

:class:`BatchPublisher` publishes many messages and then waits once for the
broker's confirms (publisher confirms, RabbitMQ's extension): the outbox marks
an event as sent only when the broker has confirmed it, at the cost of one
round trip per batch rather than per message.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from typing import Any

import amqp
from kombu import Connection, Exchange

log = logging.getLogger(__name__)

DEAD_LETTER_EXCHANGE = "maillage.dead"


def events_exchange(name: str = "maillage.events") -> Exchange:
    return Exchange(name, type="topic", durable=True)


def dead_letter_exchange() -> Exchange:
    return Exchange(DEAD_LETTER_EXCHANGE, type="topic", durable=True)


def encode(envelope: dict[str, Any]) -> bytes:
    return json.dumps(envelope, separators=(",", ":"), default=str).encode()


class NotConfirmed(Exception):
    """The broker refused (nack) or did not confirm a batch in time."""


class BatchPublisher:
    """Publish JSON envelopes with publisher confirms, one wait per batch."""

    def __init__(
        self, amqp_uri: str, exchange: str = "maillage.events", heartbeat: int = 0
    ) -> None:
        self.amqp_uri = amqp_uri
        self.exchange = exchange
        self.heartbeat = heartbeat
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

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.release()
            except Exception:  # closing a dead connection is not an error worth raising
                log.debug("ignored error while closing", exc_info=True)
        self.connection = None
        self.channel = None
