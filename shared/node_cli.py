"""``maillage node run|init``: run a complete node, or create its identity."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from shared.node import ROOT, run


def register(subparsers: argparse._SubParsersAction) -> None:
    node = subparsers.add_parser("node", help="nœud / node")
    commands = node.add_subparsers(dest="node_command", metavar="NODE_COMMAND")
    run_parser = commands.add_parser(
        "run", help="démarrer un nœud complet / start a complete node"
    )
    run_parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("MAILLAGE_DATA_DIR", ROOT / "var")),
        help="store data, logs (default: var/)",
    )
    run_parser.add_argument(
        "--bind",
        default=os.environ.get("MAILLAGE_GATEWAY_BIND", "127.0.0.1:8000"),
        help="gateway address (default 127.0.0.1:8000)",
    )
    run_parser.set_defaults(func=lambda args: run(args.data_dir, args.bind))
    register_service_command(commands)
    node.set_defaults(func=lambda args: (node.print_help(), 2)[1])


def _run_service(args: argparse.Namespace) -> int:
    """Replace this process by ``nameko run`` of one service (used by docker compose)."""
    import sys

    from shared.node import ROOT, service_class_name

    module = f"services.{args.name}.service"
    target = f"{module}:{service_class_name(module)}"
    config = str(ROOT / "deploy" / "config.yaml")
    os.execv(
        sys.executable,
        [sys.executable, "-m", "nameko", "run", "--config", config, target],
    )
    return 0  # not reached


def register_service_command(commands: argparse._SubParsersAction) -> None:
    from shared.node import SERVICES

    service = commands.add_parser(
        "service", help="un seul service / one service (nameko run)"
    )
    service.add_argument("name", choices=SERVICES)
    service.set_defaults(func=_run_service)
