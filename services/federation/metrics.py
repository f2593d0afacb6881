"""Prometheus counters of the federation service.

Every refused message is counted by reason, so a forged or misrouted event shows
up on the node's dashboard instead of disappearing::

    maillage_federation_rejected_total{reason="bad_signature",peer="mrc-66023"} 1.0
"""

from __future__ import annotations

from prometheus_client import Counter

REJECTED = Counter(
    "maillage_federation_rejected",
    "Federated messages refused, by reason",
    ["reason", "peer"],
)
RECEIVED = Counter(
    "maillage_federation_received",
    "Federated events verified and applied",
    ["peer", "event_type"],
)
DUPLICATES = Counter(
    "maillage_federation_duplicates",
    "Federated events received again and skipped",
    ["peer"],
)
SENT = Counter(
    "maillage_federation_sent",
    "Signed events handed to the federated exchange",
    ["peer", "event_type"],
)
WITHHELD = Counter(
    "maillage_federation_withheld",
    "Local events (or copies for a peer) that no agreement let out",
    ["reason"],
)


def peer_label(peer: str | None) -> str:
    """Unknown senders share one label: a forger must not grow the metrics."""
    return peer or "unknown"
