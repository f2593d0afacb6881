"""Build node configs for the federation tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from services.federation import domain
from services.federation.domain import NodeConfig, adoption_key, agreement_digest
from services.federation.identity import NodeIdentity, init_identity
from services.federation.schemas import parse_config
from shared.signing import sign_for
from tests.conftest import AMQP_HOST, MGMT

APPROVED = "indicators.values_approved"
# what each test node speaks for (mrc-66023 stands for Montréal, cd:2466)
TERRITORIES = {"mrc-66023": "cd:2466", "mrc-99999": "cd:2499"}
MONTREAL, WESTMOUNT, MONT_ROYAL = "csd:2466023", "csd:2466032", "csd:2466072"


def territory_of(node_id: str) -> str:
    """``mrc-2402`` -> ``cd:2402``, ``region-06`` / ``sante-06`` -> ``region:06``."""
    if node_id in TERRITORIES:
        return TERRITORIES[node_id]
    kind, _, code = node_id.partition("-")
    return f"cd:{code}" if kind == "mrc" else f"region:{code}"


def identity(tmp_path: Path, node_id: str) -> NodeIdentity:
    return init_identity(node_id, tmp_path / "keys" / f"{node_id}.ed25519")


def agreement(
    peer: str,
    direction: str,
    *,
    id: str | None = None,
    types: list[dict[str, Any]] | None = None,
    threshold: int = 5,
    aggregates_only: bool = True,
    valid_from: str = "2026-01-01",
    valid_until: str | None = "2027-12-31",
) -> dict[str, Any]:
    return {
        "id": id,  # None: config_dict names it <sender>-to-<receiver>, on both sides
        "peer": peer,
        "direction": direction,
        "event_types": types
        or [
            {
                "type": APPROVED,
                "fields": ["indicator", "period", "cells"],
                "cell_fields": ["org_unit", "sex"],
                "count_fields": ["count"],
            }
        ],
        "aggregates_only": aggregates_only,
        "suppression_threshold": threshold,
        "valid_from": valid_from,
        "valid_until": valid_until,
    }


def config_dict(
    me: NodeIdentity,
    peers: list[tuple[NodeIdentity, str | None]],
    agreements: list[dict[str, Any]],
    *,
    role: str = "mrc",
    amqp_uri: str = f"amqp://guest:guest@{AMQP_HOST}/%2F",
    management_url: str = f"http://guest:guest@{MGMT.split('://', 1)[1]}",
    vhost: str = "/",
    board: str | None = None,
) -> dict[str, Any]:
    """An MRC's node names its board (``board``, by default its own id, as the
    boards service names an MRC's table); a coordinator has none."""
    node = {
        "id": me.node_id,
        "role": role,
        "territory": "66023" if role == "mrc" else "06",
        "signing_key": str(me.key_path),
    }
    if role == "mrc":
        node["board"] = board or me.node_id
    return {
        "node": node,
        "broker": {
            "amqp_uri": amqp_uri,
            "management_url": management_url,
            "vhost": vhost,
        },
        "peers": [
            {
                "id": p.node_id,
                "public_key": p.public_key_b64,
                "upstream_uri": uri,
                "territory": territory_of(p.node_id),
            }
            for p, uri in peers
        ],
        "agreements": [_named(a, me.node_id) for a in agreements],
    }


def _named(agreement: dict[str, Any], me: str) -> dict[str, Any]:
    """An agreement has one id in both nodes' configs (the entente's name)."""
    if agreement.get("id") is not None:
        return agreement
    peer = agreement.get("peer")
    sender, receiver = (peer, me) if agreement.get("direction") == "in" else (me, peer)
    return dict(agreement, id=f"{sender}-to-{receiver}")


def adoptions(cfg: NodeConfig | dict[str, Any]) -> frozenset[str]:
    """Every agreement of a node as its board adopted it (``id|digest``)."""
    parsed = config(cfg) if isinstance(cfg, dict) else cfg
    return frozenset(adoption_key(a.id, agreement_digest(a)) for a in parsed.agreements)


def adopt_all(db: Any, data: dict[str, Any]) -> None:
    """Record in a federation database that the node's board adopted each of
    its agreements as written (what ``boards.resolution_adopted`` leaves)."""
    board = data["node"].get("board")
    if board is None:
        return
    for i, a in enumerate(config(data).agreements):
        key = adoption_key(a.id, agreement_digest(a))
        db.adoptions.replace_one(
            {"_id": key},
            {
                "_id": key,
                "agreement_id": a.id,
                "digest": agreement_digest(a),
                "board_id": board,
                "resolution_id": f"res-test-{i + 1}",
                "number": f"2026-{i + 1:03d}",
                "adopted_on": "2026-01-01",
            },
            upsert=True,
        )


def prepare_outgoing(envelope, cfg, private_key, now, peer=None, adopted=None):
    """:func:`domain.prepare_outgoing` under the agreements the board adopted."""
    chosen = adoptions(cfg) if adopted is None else adopted
    return domain.prepare_outgoing(envelope, cfg, private_key, now, peer, chosen)


def check_incoming(data, cfg, now, adopted=None):
    """:func:`domain.check_incoming` under the agreements the board adopted."""
    chosen = adoptions(cfg) if adopted is None else adopted
    return domain.check_incoming(data, cfg, now, chosen)


def signed_for(
    ident: NodeIdentity,
    data: dict[str, Any],
    recipient: str,
    agreement_id: str | None = None,
) -> dict[str, Any]:
    """``data`` signed by ``ident`` for ``recipient`` (under the default agreement
    id between them unless another is given), as a peer's federation sends it."""
    return sign_for(
        data,
        ident.private_key,
        ident.key_id,
        recipient=recipient,
        agreement_id=agreement_id or f"{ident.node_id}-to-{recipient}",
    )


def config(data: dict[str, Any]) -> NodeConfig:
    return parse_config(yaml.safe_dump(data, sort_keys=False), "test.yaml", env={})


def approved(cells: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"indicator": "ind-1", "period": "2026Q3", "cells": cells, **extra}


def start_node(
    tmp_path: Path,
    name: str,
    data: dict[str, Any],
    uri: str,
    store_uri: str,
    db_prefix: str,
) -> tuple[Any, Path]:
    """Write a node's YAML, apply its broker plan and start its federation service."""
    from nameko.containers import ServiceContainer

    from services.federation.management import apply
    from services.federation.service import FederationService

    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    apply(config(data))
    from pymongo import MongoClient

    with MongoClient(store_uri) as client:  # the board adopted its agreements
        adopt_all(client[f"{db_prefix}{name}_federation"], data)
    container = ServiceContainer(
        FederationService,
        {
            "AMQP_URI": uri,
            "MONGODB_URI": store_uri,
            "DB_PREFIX": f"{db_prefix}{name}_",
            "NODE_ID": data["node"]["id"],
            "NODE_CONFIG": str(path),
        },
    )
    container.start()
    return container, path


def wait(predicate: Any, timeout: float = 30.0) -> Any:
    """Poll ``predicate`` every 0.1 s until it is true or ``timeout`` passes."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()
