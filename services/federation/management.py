"""The node's broker through the RabbitMQ management HTTP API: apply and status.

``maillage federation apply`` turns the plan of :mod:`topology` into idempotent
PUTs (exchanges, the inbox queue, bindings, federation upstreams, policies) and
removes the upstreams and policies of peers no longer in an agreement.
``maillage federation status`` reads the federation links and the queues to show,
per peer, the link state and the lag (messages waiting)::

    {"peer": "mrc-66023", "direction": "in", "state": "running",
     "waiting": 0, "inbox": 3, "error": ""}
"""

from __future__ import annotations

import logging
import time
from typing import Any

from services.federation.domain import NodeConfig
from services.federation.topology import (
    INBOX,
    PREFIX,
    Topology,
    incoming_exchange,
    outgoing_exchange,
    plan,
    upstream_queue_prefix,
    vhost_of,
)
from shared.rabbitadmin import BrokerAdmin, ManagementError

log = logging.getLogger(__name__)


class Management(BrokerAdmin):
    """The management API client with the calls federation's apply and status need."""

    def declare_exchange(self, vhost: str, name: str) -> None:
        self.put(
            "exchanges",
            vhost,
            name,
            body={"type": "topic", "durable": True, "auto_delete": False},
        )

    def declare_queue(self, vhost: str, name: str) -> None:
        self.put("queues", vhost, name, body={"durable": True, "auto_delete": False})

    def bind(self, vhost: str, exchange: str, queue: str, key: str) -> None:
        self._call(
            "POST",
            "bindings",
            vhost,
            "e",
            exchange,
            "q",
            queue,
            json={"routing_key": key},
        )

    def queues(self, vhost: str) -> list[dict[str, Any]]:
        return list(self.get("queues", vhost) or [])

    def federation_links(self, vhost: str) -> list[dict[str, Any]]:
        return list(self.get("federation-links", vhost) or [])


def apply(config: NodeConfig, api: Management | None = None) -> Topology:
    """Make the broker match the config; safe to run again and again."""
    api = api or Management(config.management_url)
    vhost = config.vhost
    topo = plan(config)
    for name in topo.exchanges:
        api.declare_exchange(vhost, name)
    for name in topo.queues:
        api.declare_queue(vhost, name)
    for exchange, queue, key in topo.bindings:
        api.bind(vhost, exchange, queue, key)
    for upstream in topo.upstreams:
        api.put(
            "parameters",
            "federation-upstream",
            vhost,
            upstream.name,
            body={"value": upstream.definition},
        )
    for policy in topo.policies:
        api.put(
            "policies",
            vhost,
            policy.name,
            body={
                "pattern": policy.pattern,
                "definition": policy.definition,
                "apply-to": policy.apply_to,
                "priority": policy.priority,
            },
        )
    _remove_stale(api, vhost, topo)
    log.info(
        "federation applied on %s: %d upstreams, %d policies",
        vhost,
        len(topo.upstreams),
        len(topo.policies),
    )
    return topo


def _remove_stale(api: Management, vhost: str, topo: Topology) -> None:
    wanted_policies = {p.name for p in topo.policies}
    for policy in api.get("policies", vhost) or []:
        name = policy["name"]
        if name.startswith("maillage-federation-") and name not in wanted_policies:
            api.delete("policies", vhost, name)
    wanted_upstreams = {u.name for u in topo.upstreams}
    for param in api.get("parameters", "federation-upstream", vhost) or []:
        value = param.get("value", {})
        ours = str(value.get("exchange", "")).startswith(PREFIX)
        if ours and param["name"] not in wanted_upstreams:
            api.delete("parameters", "federation-upstream", vhost, param["name"])


def status(
    config: NodeConfig, api: Management | None = None, peer_api_timeout: float = 3.0
) -> list[dict[str, Any]]:
    """One row per peer and direction: link state and messages waiting."""
    api = api or Management(config.management_url)
    vhost = config.vhost
    links = {link.get("upstream"): link for link in api.federation_links(vhost)}
    queues = api.queues(vhost)
    inbox = next((q for q in queues if q["name"] == INBOX), {})
    rows: list[dict[str, Any]] = []
    for peer_id in sorted({a.peer for a in config.agreements_for("in")}):
        link = links.get(peer_id, {})
        row: dict[str, Any] = {
            "peer": peer_id,
            "direction": "in",
            "state": link.get("status", "absent"),
            "waiting": None,
            "inbox": inbox.get("messages"),
            "error": link.get("error", ""),
        }
        peer = config.peers[peer_id]
        if peer.management_url and peer.upstream_uri:
            try:
                remote = Management(peer.management_url, timeout=peer_api_timeout)
                row["waiting"] = _waiting(
                    remote.queues(vhost_of(peer.upstream_uri)),
                    outgoing_exchange(config.node_id),
                )
            except ManagementError as exc:
                row["error"] = row["error"] or str(exc)
        rows.append(row)
    for peer_id in sorted({a.peer for a in config.agreements_for("out")}):
        waiting = _waiting(queues, outgoing_exchange(peer_id))
        rows.append(
            {
                "peer": peer_id,
                "direction": "out",
                "state": "linked" if waiting is not None else "not linked",
                "waiting": waiting,
                "inbox": None,
                "error": "",
            }
        )
    return rows


def _waiting(queues: list[dict[str, Any]], exchange: str) -> int | None:
    prefix = upstream_queue_prefix(exchange)
    found = [q for q in queues if q["name"].startswith(prefix)]
    if not found:
        return None
    return sum(int(q.get("messages", 0) or 0) for q in found)


def wait_for_links(
    config: NodeConfig, timeout: float = 30.0, api: Management | None = None
) -> None:
    """Block until every incoming link is ``running`` (tests, demo, bench)."""
    api = api or Management(config.management_url)
    wanted = {a.peer for a in config.agreements_for("in")}
    deadline = time.monotonic() + timeout
    while True:
        links = api.federation_links(config.vhost)
        running = {
            link.get("upstream")
            for link in links
            if link.get("status") == "running"
            and link.get("exchange") == incoming_exchange(link.get("upstream", ""))
        }
        if wanted <= running:
            return
        if time.monotonic() > deadline:
            raise ManagementError(f"links not running: {sorted(wanted - running)}")
        time.sleep(0.2)
