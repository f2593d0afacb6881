"""The node's federation config, signing key and federated-exchange publisher.

Read once in ``setup()`` from ``NODE_CONFIG`` (the node YAML, see ``schemas.py``);
a missing or invalid config or an unsafe key stops start-up with the bilingual
message. The worker gets a :class:`FederationHandle`::

    handle.config.node_id            # "mrc-66023"
    handle.share(envelopes)          # sign and publish what agreements allow
    handle.prepare(envelope, peer)   # the signed copies for one peer (replay)
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from pathlib import Path
from typing import Any

from nameko.extensions import DependencyProvider

from services.federation import metrics
from services.federation.domain import (
    NodeConfig,
    Outgoing,
    Withheld,
    prepare_batches,
    prepare_outgoing,
)
from services.federation.identity import NodeIdentity, load_identity
from services.federation.schemas import load_config
from services.federation.transport import FederationPublisher
from shared.config import positive_int, require
from shared.envelope import Envelope, utcnow

log = logging.getLogger(__name__)


class FederationHandle:
    def __init__(
        self,
        config: NodeConfig,
        identity: NodeIdentity | None,
        publisher: FederationPublisher | None,
        journal_days: int = 400,
    ) -> None:
        self.config = config
        self.identity = identity
        self.publisher = publisher
        self.journal_days = journal_days

    def prepare(
        self,
        envelope: Envelope,
        peer: str | None = None,
        adopted: Collection[str] | None = None,
    ) -> list[Outgoing]:
        """The signed copies agreements allow (to ``peer`` only, if given), of
        the agreements the board ``adopted``; what is held back is counted."""
        if self.identity is None:
            return []  # a node without federation config shares nothing
        sent, withheld = prepare_outgoing(
            envelope, self.config, self.identity.private_key, utcnow(), peer, adopted
        )
        for item in withheld:
            _count_withheld(envelope, item)
        return sent

    def prepare_batches(
        self,
        envelopes: list[Envelope],
        peer: str | None = None,
        adopted: Collection[str] | None = None,
    ) -> list[Outgoing]:
        """As :meth:`prepare`, for many events: one signed batch message per
        peer and agreement (``shared.signing.sign_batch``)."""
        if self.identity is None:
            return []
        sent, withheld = prepare_batches(
            envelopes, self.config, self.identity.private_key, utcnow(), peer, adopted
        )
        for envelope, item in withheld:
            _count_withheld(envelope, item)
        return sent

    def share(
        self, envelopes: list[Envelope], adopted: Collection[str] | None = None
    ) -> int:
        """Publish, with confirms, what agreements allow of a batch, one signature
        per peer and agreement; return how many event copies went."""
        outgoing = self.prepare_batches(envelopes, adopted=adopted)
        if outgoing and self.publisher is not None:
            self.publisher.publish_many(outgoing)
        return sum(item.events for item in outgoing)

    def replay_publisher(self) -> FederationPublisher:
        """A publisher of its own for one replay, closed by the caller: the live
        one is used by the ``share`` worker meanwhile."""
        return FederationPublisher(self.config.amqp_uri)


def _count_withheld(envelope: Envelope, item: Withheld) -> None:
    metrics.WITHHELD.labels(item.reason.value).inc()
    if item.agreement_id is not None:
        log.info(
            "%s %s withheld under %s: %s",
            envelope.event_type,
            envelope.event_id,
            item.agreement_id,
            item.reason.value,
        )


class Federation(DependencyProvider):
    """Without ``NODE_CONFIG`` the node is not federated: it shares nothing and
    refuses (and records) anything that reaches its inbox, as from unknown peers.
    """

    def setup(self) -> None:
        path = self.container.config.get("NODE_CONFIG")
        self.journal_days = positive_int(
            self.container.config, "FEDERATION_JOURNAL_DAYS", 400
        )
        self.identity: NodeIdentity | None = None
        self.publisher: FederationPublisher | None = None
        if not path:
            log.warning("NODE_CONFIG not set: this node is not federated")
            self.node_config = NodeConfig(
                node_id=str(self.container.config.get("NODE_ID", "local")),
                role="mrc",
                territory="",
                key_path="",
                amqp_uri=require(self.container.config, "AMQP_URI"),
                management_url="",
                vhost="/",
                peers={},
            )
            return
        self.node_config = load_config(path)
        self.identity = load_identity(
            self.node_config.node_id, Path(self.node_config.key_path)
        )
        self.publisher = FederationPublisher(self.node_config.amqp_uri)

    def stop(self) -> None:
        if self.publisher is not None:
            self.publisher.close()

    kill = stop

    def get_dependency(self, worker_ctx: Any) -> FederationHandle:
        return FederationHandle(
            self.node_config, self.identity, self.publisher, self.journal_days
        )
