"""``maillage gateway create-account|permissions``: the first administrator, the table.

    $ MAILLAGE_NEW_PASSWORD=... maillage gateway create-account admin \\
          --role node_admin --mrc 2466
    $ maillage gateway permissions > docs/permissions.md

Also runnable as ``python -m gateway.cli ...`` until the dispatcher lists it.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from gateway.auth import hash_password
from gateway.permissions import ROLES, markdown_table
from gateway.routes.accounts import NewAccount
from gateway.store import GatewayStore
from shared.config import settings
from shared.errors import MaillageError
from shared.mongo import make_client


def create_account(args: argparse.Namespace) -> int:
    password = os.environ.get("MAILLAGE_NEW_PASSWORD") or getpass.getpass(
        "Mot de passe / Password: "
    )
    errors = NewAccount().validate(
        {
            "username": args.username,
            "password": password,
            "role": args.role,
            "mrc": args.mrc,
            "display_name": args.name,
        }
    )
    if errors:
        for field, reasons in errors.items():
            print(f'champ « {field} » / field "{field}": {reasons}', file=sys.stderr)
        return 2
    config = settings()
    client = make_client(config["MONGODB_URI"])
    store = GatewayStore(lambda: client, f"{config['DB_PREFIX']}gateway")
    try:
        doc = store.add_account(
            {
                "username": args.username,
                "password_hash": hash_password(password),
                "role": args.role,
                "mrc": args.mrc,
                "display_name": args.name,
            }
        )
    except MaillageError as exc:
        print(f"{exc.message_fr} / {exc.message_en}", file=sys.stderr)
        return 1
    finally:
        client.close()
    print(doc["_id"])
    return 0


def print_permissions(args: argparse.Namespace) -> int:
    print(markdown_table())
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    gateway = subparsers.add_parser("gateway", help="passerelle / gateway")
    commands = gateway.add_subparsers(dest="gateway_command", metavar="COMMAND")
    create = commands.add_parser(
        "create-account",
        help="créer un compte (mot de passe: MAILLAGE_NEW_PASSWORD ou invite) / "
        "create an account (password: MAILLAGE_NEW_PASSWORD or prompt)",
    )
    create.add_argument("username")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--mrc", required=True, help="code de MRC / MRC code (2466)")
    create.add_argument("--name", default="", help="nom affiché / display name")
    create.set_defaults(func=create_account)
    table = commands.add_parser(
        "permissions", help="tableau des permissions / permission table (Markdown)"
    )
    table.set_defaults(func=print_permissions)
    gateway.set_defaults(func=lambda args: (gateway.print_help(), 2)[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="maillage")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    return 2 if func is None else int(func(args))


if __name__ == "__main__":
    sys.exit(main())
