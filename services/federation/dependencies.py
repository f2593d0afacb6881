"""The node's federation config, signing key and federated-exchange publisher.

Read once in ``setup()`` from ``NODE_CONFIG`` (the node YAML, see ``schemas.py``);
a missing or invalid config or an unsafe key stops start-up with the bilingual
message. The worker gets a :class:`FederationHandle`::

    handle.config.node_id            # "mrc-66023"
    handle.share(envelope)           # sign and publish what agreements allow
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from nameko.extensions import DependencyProvider

from services.federation import metrics
from services.federation.domain import NodeConfig, prepare_outgoing
from services.federation.identity import NodeIdentity, load_identity
from services.federation.schemas import load_config
from services.federation.transport import FederationPublisher
from shared.config import require
from shared.envelope import Envelope, utcnow

log = logging.getLogger(__name__)


class FederationHandle:
    def __init__(
        self, config: NodeConfig, identity: NodeIdentity, publisher: FederationPublisher
    ) -> None:
        self.config = config
        self.identity = identity
        self.publisher = publisher

    def share(self, envelope: Envelope) -> int:
        """Publish, with confirms, one signed copy per agreement; return how many."""
        sent, withheld = prepare_outgoing(
            envelope, self.config, self.identity.private_key, utcnow()
        )
        for item in withheld:
            metrics.WITHHELD.labels(item.reason.value).inc()
            if item.agreement_id is not None:
                log.info(
                    "%s %s withheld under %s: %s",
                    envelope.event_type,
                    envelope.event_id,
                    item.agreement_id,
                    item.reason.value,
                )
        for outgoing in sent:
            self.publisher.publish(outgoing)
        return len(sent)


class Federation(DependencyProvider):
    def setup(self) -> None:
        path = require(self.container.config, "NODE_CONFIG")
        self.node_config = load_config(path)
        self.identity = load_identity(
            self.node_config.node_id, Path(self.node_config.key_path)
        )
        self.publisher = FederationPublisher(self.node_config.amqp_uri)

    def stop(self) -> None:
        self.publisher.close()

    kill = stop

    def get_dependency(self, worker_ctx: Any) -> FederationHandle:
        return FederationHandle(self.node_config, self.identity, self.publisher)
