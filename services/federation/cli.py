"""``maillage federation ...``: the node's key, and its broker's federation.

$ maillage federation init-key --node-id mrc-66023 --key var/keys/mrc-66023.ed25519
$ maillage federation show-key --config node.yaml
$ maillage federation check --config node.yaml
$ maillage federation apply --config node.yaml
$ maillage federation status --config node.yaml [--json]
$ maillage federation replay --peer region-06 --since 2026-01-01 [--until 2026-06-30]

``replay`` asks the node's running federation service (nameko RPC on the node's
broker, ``broker.amqp_uri`` of the config or ``--amqp-uri``) to send its journal
again to one peer; it prints how many events were sent and withheld.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from services.federation.domain import check_replay_peer, parse_moment
from services.federation.identity import KeyFileError, init_identity, load_identity
from services.federation.management import ManagementError, apply, status
from services.federation.schemas import ConfigError, load_config
from services.federation.topology import TopologyError
from shared.errors import Invalid

DEFAULT_CONFIG = os.environ.get("MAILLAGE_NODE_CONFIG", "node.yaml")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "federation", help="fédération entre nœuds / federation between nodes"
    )
    sub = parser.add_subparsers(dest="federation_command", metavar="ACTION")

    init = sub.add_parser("init-key", help="créer la clé Ed25519 / create the key")
    init.add_argument("--node-id", required=True)
    init.add_argument("--key", required=True, type=Path, help="private key file")
    init.add_argument("--force", action="store_true", help="replace an existing key")
    init.set_defaults(func=_init_key)

    show = sub.add_parser("show-key", help="clé publique / public key for peers")
    show.add_argument("--config", default=DEFAULT_CONFIG)
    show.set_defaults(func=_show_key)

    for name, func, text in (
        ("check", _check, "valider la config / validate the config"),
        ("apply", _apply, "configurer le courtier / configure the broker"),
        ("status", _status, "état des liens / link states and lag"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("--config", default=DEFAULT_CONFIG)
        if name == "status":
            command.add_argument("--json", action="store_true")
        command.set_defaults(func=func)

    replay = sub.add_parser(
        "replay", help="renvoyer l'historique à un pair / send history to a peer"
    )
    replay.add_argument("--config", default=DEFAULT_CONFIG)
    replay.add_argument("--peer", required=True)
    replay.add_argument("--since", required=True, help="AAAA-MM-JJ / YYYY-MM-DD")
    replay.add_argument("--until", help="dernier jour inclus / last day included")
    replay.add_argument("--amqp-uri", help="default: broker.amqp_uri of the config")
    replay.add_argument("--timeout", type=float, default=3600.0)
    replay.set_defaults(func=_replay)

    demo = sub.add_parser("demo", help="démo à 4 nœuds / 4-node demo")
    demo.set_defaults(func=_demo)


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


def _init_key(args: argparse.Namespace) -> int:
    try:
        identity = init_identity(args.node_id, args.key, overwrite=args.force)
    except KeyFileError as exc:
        return _fail(str(exc))
    print(f"key_id: {identity.key_id}")
    print(f"public_key: {identity.public_key_b64}")
    return 0


def _show_key(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        identity = load_identity(config.node_id, Path(config.key_path))
    except (ConfigError, KeyFileError) as exc:
        return _fail(str(exc))
    print(f"node: {config.node_id}")
    print(f"key_id: {identity.key_id}")
    print(f"public_key: {identity.public_key_b64}")
    return 0


def _check(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        return _fail(str(exc))
    print(
        f"{args.config}: OK, {len(config.peers)} pairs / peers, "
        f"{len(config.agreements)} accords / agreements"
    )
    return 0


def _apply(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        topo = apply(config)
    except (ConfigError, TopologyError, ManagementError) as exc:
        return _fail(str(exc))
    print(
        f"{config.node_id}: {len(topo.exchanges)} échanges / exchanges, "
        f"{len(topo.upstreams)} amonts / upstreams, "
        f"{len(topo.policies)} politiques / policies"
    )
    return 0


def _status(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        rows = status(config)
    except (ConfigError, ManagementError) as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    columns = ("peer", "direction", "state", "waiting", "inbox", "error")
    table = [[("" if r[c] is None else str(r[c])) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(t[i]) for t in table]) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for line in table:
        print("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)))
    return 0 if all(r["state"] in ("running", "linked") for r in rows) else 3


def _replay(args: argparse.Namespace) -> int:
    from nameko.exceptions import RemoteError
    from nameko.standalone.rpc import ServiceRpcProxy

    try:
        config = load_config(args.config)
        # Checked here too, so that the person reads both languages.
        check_replay_peer(config, args.peer)
        parse_moment("since", args.since)
        if args.until is not None:
            parse_moment("until", args.until, end_of_day=True)
    except ConfigError as exc:
        return _fail(str(exc))
    except Invalid as exc:
        return _fail(f"{exc.message_fr}\n{exc.message_en}")
    uri = args.amqp_uri or config.amqp_uri
    try:
        with ServiceRpcProxy(
            "federation", {"AMQP_URI": uri}, timeout=args.timeout
        ) as proxy:
            counts = proxy.replay(args.peer, args.since, args.until)
    except RemoteError as exc:
        return _fail(f"{exc.exc_type}: {exc.value}")
    except Exception as exc:  # noqa: BLE001 - broker away, timeout: say so, no trace
        return _fail(
            f"service de fédération injoignable ({type(exc).__name__}: {exc}) / "
            f"federation service unreachable ({type(exc).__name__}: {exc})"
        )
    print(
        f"{args.peer}: {counts['sent']} envoyés / sent, "
        f"{counts['withheld']} retenus / withheld"
    )
    return 0


def _demo(args: argparse.Namespace) -> int:
    from services.federation.demo import main

    return main()
