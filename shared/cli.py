"""The ``maillage`` command line.

Each area of the project registers its own subcommands: a module listed in
``_COMMAND_MODULES`` exposes ``register(subparsers)`` which adds parsers whose
``func`` attribute is called with the parsed arguments and returns an exit code.

    $ maillage tally ../shared/data/pyrankvote/burlington.csv --method irv
    $ maillage offerings import ../shared/data/hsds/examples/
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

_COMMAND_MODULES = (
    "shared.node_cli",
    "services.participation.cli",
    "services.offerings.cli",
    "services.indicators.cli",
    "services.boards.cli",
    "services.federation.cli",
    "gateway.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="maillage",
        description="Maillage: gouvernance partagée locale / local shared governance",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logs")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # An area that has no CLI yet is simply absent from the command list.
            if exc.name == name:
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    return int(func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
