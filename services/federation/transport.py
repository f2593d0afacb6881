"""Publishing signed events to the federated exchange, and the inbound pipeline.

:class:`FederationPublisher` hands each :class:`Outgoing` to
``maillage.federation.to.<peer>`` on the node's own broker, persistent and with
publisher confirms; RabbitMQ federation carries it to the peer.

:class:`Inbound` is what the service does with one message of the inbox:
decode, :func:`check_incoming`, de-duplicate in the store, and hand the accepted
event to ``dispatch`` (the service re-dispatches it locally as
``federation.event_received``). A refused message is logged with its reason,
counted and stored: never silently dropped, never applied.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kombu import Connection, Exchange, Producer

from services.federation import metrics
from services.federation.domain import NodeConfig, Outgoing, Reason, check_incoming
from services.federation.repository import FederationRepository
from services.federation.topology import outgoing_exchange
from shared.broker import BatchPublisher
from shared.envelope import utcnow

log = logging.getLogger(__name__)


class FederationPublisher:
    def __init__(self, amqp_uri: str) -> None:
        self.amqp_uri = amqp_uri
        self._batch: dict[str, BatchPublisher] = {}
        self.connection = Connection(
            amqp_uri, transport_options={"confirm_publish": True}, connect_timeout=5
        )
        self._producer: Producer | None = None
        self._declared: set[str] = set()

    def _get_producer(self) -> Producer:
        if self._producer is None:
            self._producer = Producer(self.connection.channel())
        return self._producer

    def publish(self, outgoing: Outgoing) -> None:
        """Returns once the broker has confirmed the message."""
        producer = self._get_producer()
        name = outgoing_exchange(outgoing.peer)
        exchange = Exchange(name, type="topic", durable=True)
        if name not in self._declared:
            exchange(producer.channel).declare()
            self._declared.add(name)
        producer.publish(
            json.dumps(outgoing.data, separators=(",", ":")),
            exchange=exchange,
            routing_key=outgoing.data["event_type"],
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,
            message_id=outgoing.data["event_id"],
            headers={"x-maillage-agreement": outgoing.agreement_id},
            retry=True,
        )
        metrics.SENT.labels(outgoing.peer, outgoing.data["event_type"]).inc()

    def publish_many(self, items: list[Outgoing], timeout: float = 30.0) -> None:
        """Publish a batch, one confirm wait per peer (the kit's batch publisher).

        Raises if the broker does not confirm everything; the caller's batch is
        then retried and the peer de-duplicates what had already gone.
        """
        by_peer: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            by_peer.setdefault(item.peer, []).append(item.data)
        for peer, batch in by_peer.items():
            publisher = self._batch.get(peer)
            if publisher is None:
                publisher = BatchPublisher(
                    self.amqp_uri, exchange=outgoing_exchange(peer)
                )
                self._batch[peer] = publisher
            try:
                publisher.publish_batch(batch, timeout=timeout)
            except Exception:
                publisher.close()
                self._batch.pop(peer, None)
                raise
            for data in batch:
                for event in data.get("envelopes") or [data]:  # a batch holds many
                    metrics.SENT.labels(peer, event["event_type"]).inc()

    def close(self) -> None:
        for publisher in self._batch.values():
            publisher.close()
        self._batch.clear()
        self.connection.release()


@dataclass(frozen=True)
class Outcome:
    status: str  # "applied", "duplicate" or "rejected"
    reason: Reason | None = None
    peer: str | None = None
    data: dict[str, Any] | None = None


class Inbound:
    def __init__(
        self,
        config: NodeConfig,
        repository: FederationRepository,
        dispatch: Callable[[str, dict[str, Any]], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.config = config
        self.repository = repository
        self.dispatch = dispatch
        self.clock = clock

    def handle(self, body: bytes | str) -> Outcome:
        now = self.clock()
        raw = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        try:
            data = json.loads(raw)
        except ValueError:
            return self._reject(Reason.MALFORMED, None, "not JSON", raw, now)
        verdict = check_incoming(data, self.config, now)
        if not verdict.accepted:
            assert verdict.reason is not None
            return self._reject(verdict.reason, verdict.peer, verdict.detail, raw, now)
        assert verdict.peer and verdict.agreement_id
        if not self.repository.add_received(
            verdict.peer, verdict.agreement_id, data, now
        ):
            metrics.DUPLICATES.labels(verdict.peer).inc()
            log.info("duplicate %s from %s skipped", data["event_id"], verdict.peer)
            return Outcome("duplicate", peer=verdict.peer, data=data)
        metrics.RECEIVED.labels(verdict.peer, data["event_type"]).inc()
        if self.dispatch is not None:
            self.dispatch(verdict.peer, data)
        return Outcome("applied", peer=verdict.peer, data=data)

    def _reject(
        self, reason: Reason, peer: str | None, detail: str, raw: str, now: datetime
    ) -> Outcome:
        metrics.REJECTED.labels(reason.value, metrics.peer_label(peer)).inc()
        log.warning("federated message rejected: %s (%s) from %s", reason, detail, peer)
        self.repository.add_rejection(reason.value, peer, detail, raw, now)
        return Outcome("rejected", reason=reason, peer=peer)
