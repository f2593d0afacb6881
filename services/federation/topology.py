"""What a node's broker must hold for its agreements: a pure plan.

Exchange federation, pulled by the receiving node. For an MRC ``mrc-66023``
that sends to ``region-06``::

    mrc-66023 broker                               region-06 broker
    maillage.federation.to.region-06  ==(link)==>  maillage.federation.from.mrc-66023
      `- queue "federation: ... -> ..."              `- queue maillage.federation.inbox
         (durable, on the upstream side,                (read by the federation service)
          kept while the link is down)

The receiving node declares the upstream ``mrc-66023`` (its broker's URI and
the exchange ``maillage.federation.to.region-06``, ``ack-mode: on-confirm``) and
a policy that federates its local ``maillage.federation.from.mrc-66023`` from it.
Its binding of the inbox is propagated upstream, where RabbitMQ keeps a durable
queue: events published while the link is cut wait there and arrive when it
returns. One exchange per peer means a peer can only ever pull what was
addressed to it. Messages are acknowledged upstream only once the downstream
broker has confirmed them (``on-confirm``): nothing is lost on a cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from services.federation.domain import NodeConfig

PREFIX = "maillage.federation"
INBOX = f"{PREFIX}.inbox"


def outgoing_exchange(peer: str) -> str:
    return f"{PREFIX}.to.{peer}"


def incoming_exchange(peer: str) -> str:
    return f"{PREFIX}.from.{peer}"


def upstream_queue_prefix(exchange: str) -> str:
    """RabbitMQ names the upstream queue ``federation: <exchange> -> <node>...``."""
    return f"federation: {exchange} -> "


def vhost_of(amqp_uri: str) -> str:
    path = urlsplit(amqp_uri).path
    return unquote(path[1:]) if len(path) > 1 else "/"


@dataclass(frozen=True)
class Upstream:
    name: str
    definition: dict[str, Any]


@dataclass(frozen=True)
class Policy:
    name: str
    pattern: str
    definition: dict[str, Any]
    apply_to: str = "exchanges"
    priority: int = 10


@dataclass(frozen=True)
class Topology:
    exchanges: list[str] = field(default_factory=list)
    queues: list[str] = field(default_factory=list)
    bindings: list[tuple[str, str, str]] = field(default_factory=list)
    upstreams: list[Upstream] = field(default_factory=list)
    policies: list[Policy] = field(default_factory=list)


class TopologyError(Exception):
    pass


def plan(config: NodeConfig, reconnect_delay: int = 1) -> Topology:
    """Every exchange, queue, binding, upstream and policy the agreements need."""
    topo = Topology()
    for peer in sorted({a.peer for a in config.agreements_for("out")}):
        topo.exchanges.append(outgoing_exchange(peer))
    incoming = sorted({a.peer for a in config.agreements_for("in")})
    if incoming:
        topo.queues.append(INBOX)
    for peer_id in incoming:
        peer = config.peers[peer_id]
        if not peer.upstream_uri:
            raise TopologyError(
                f"le pair {peer_id} n'a pas d'upstream_uri / "
                f"peer {peer_id} has no upstream_uri"
            )
        local = incoming_exchange(peer_id)
        topo.exchanges.append(local)
        topo.bindings.append((local, INBOX, "#"))
        topo.upstreams.append(
            Upstream(
                peer_id,
                {
                    "uri": peer.upstream_uri,
                    "exchange": outgoing_exchange(config.node_id),
                    "ack-mode": "on-confirm",
                    "trust-user-id": False,
                    "max-hops": 1,
                    "prefetch-count": 1000,
                    "reconnect-delay": reconnect_delay,
                    # Keep the upstream queue when this broker stops cleanly
                    # (honoured from RabbitMQ 3.13; see README of the service).
                    "resource-cleanup-mode": "never",
                },
            )
        )
        topo.policies.append(
            Policy(
                f"maillage-federation-from-{peer_id}",
                f"^{re.escape(local)}$",
                {"federation-upstream": peer_id},
            )
        )
    return topo
