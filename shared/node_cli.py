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
    node.set_defaults(func=lambda args: (node.print_help(), 2)[1])
