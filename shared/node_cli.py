"""``maillage node run|init|backup|restore|upgrade``: run a complete node, create
its identity, back it up and restore it (:mod:`shared.backup`), migrate its
stored documents forward (:mod:`shared.migrations`)."""

from __future__ import annotations

import argparse
import os
import sys
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
    register_init_command(commands)
    register_backup_commands(commands)
    node.set_defaults(func=lambda args: (node.print_help(), 2)[1])


def _run_service(args: argparse.Namespace) -> int:
    """Replace this process by ``nameko run`` of one service (used by docker compose)."""
    from shared.node import declare_node_queues, service_class_name

    declare_node_queues(
        os.environ
    )  # events of a service started first wait for the rest
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


def _init(args: argparse.Namespace) -> int:
    """Create this node's identity: an Ed25519 key (0600) and a node YAML to complete."""
    import yaml

    from services.federation.identity import KeyFileError, init_identity
    from services.federation.schemas import NodeConfigSchema

    directory: Path = args.dir
    config_path = directory / "node.yaml"
    key_path = directory / "signing_key"
    if config_path.exists() and not args.force:
        print(
            f"existe déjà / already exists: {config_path} (--force pour remplacer / to replace)",
            file=sys.stderr,
        )
        return 1
    try:
        identity = init_identity(args.node_id, key_path, overwrite=args.force)
    except KeyFileError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    node = {
        "id": args.node_id,
        "role": args.role,
        "territory": args.territory,
        "signing_key": str(key_path.resolve()),
    }
    if args.role == "mrc":  # node.board is required: its board adopts agreements
        node["board"] = args.board or args.node_id
    config = {
        "node": node,
        "peers": [],
        "agreements": [],
    }
    NodeConfigSchema().load(config)  # what we write must be what the node accepts
    config_path.write_text(
        "# Nœud Maillage / Maillage node. Ajoutez pairs et ententes / add peers and agreements.\n"
        + yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    )
    print(f"node_id: {args.node_id}")
    print(f"key_id: {identity.key_id}")
    print(f"public_key: {identity.public_key_b64}")
    print(f"export NODE_CONFIG={config_path.resolve()}")
    return 0


def register_init_command(commands: argparse._SubParsersAction) -> None:
    init = commands.add_parser(
        "init", help="identité du nœud / node identity (Ed25519)"
    )
    init.add_argument("--node-id", required=True, help="e.g. mrc-2466")
    init.add_argument(
        "--territory", required=True, help="MRC census division (e.g. 2466) or region"
    )
    init.add_argument("--role", choices=("mrc", "coordinator"), default="mrc")
    init.add_argument(
        "--board",
        help="conseil qui adopte les ententes / board adopting the agreements "
        "(role mrc; default: the node id, e.g. mrc-2466)",
    )
    init.add_argument("--dir", type=Path, default=ROOT / "var" / "node")
    init.add_argument(
        "--force", action="store_true", help="replace an existing identity"
    )
    init.set_defaults(func=_init)


def _store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store-uri",
        default=os.environ.get(
            "MONGODB_URI", "mongodb://127.0.0.1:27117/?directConnection=true"
        ),
        help="the node's store (default: MONGODB_URI, else the local store)",
    )
    parser.add_argument(
        "--db-prefix",
        default=os.environ.get("DB_PREFIX", "maillage_"),
        help="database-name prefix (default: DB_PREFIX, else maillage_)",
    )


def _data_dir() -> Path:
    return Path(os.environ.get("MAILLAGE_DATA_DIR", ROOT / "var"))


def _backup(args: argparse.Namespace) -> int:
    from shared.backup import (
        BackupRefused,
        backup,
        consumer_map,
        node_files,
        node_service_classes,
    )

    try:
        files = node_files(os.environ, args.data_dir)
        consumers = consumer_map(node_service_classes(), files.node_config)
        manifest = backup(
            args.store_uri,
            args.dir,
            db_prefix=args.db_prefix,
            node_id=os.environ.get("NODE_ID", "local"),
            files=files,
            consumers=consumers,
        )
    except BackupRefused as exc:
        print(f"{exc.message_fr}\n{exc.message_en}", file=sys.stderr)
        return 1
    total = sum(
        c["count"]
        for d in manifest["databases"].values()
        for c in d["collections"].values()
    )
    print(
        f"sauvegarde / backup: {args.dir} — {len(manifest['databases'])} bases / "
        f"databases, {total} documents, {len(manifest['files'])} fichiers / files"
    )
    return 0


def _restore(args: argparse.Namespace) -> int:
    from shared.backup import BackupRefused, file_targets, restore

    try:
        report = restore(
            args.store_uri,
            args.dir,
            db_prefix=args.db_prefix,
            file_targets=file_targets(args.files_dir, args.data_dir),
            force=args.force,
        )
    except BackupRefused as exc:
        print(f"{exc.message_fr}\n{exc.message_en}", file=sys.stderr)
        return 1
    print(
        f"restauré / restored: {report.documents} documents in "
        f"{len(report.databases)} databases; {report.rearmed} outbox rows to publish "
        "again / lignes d'outbox à republier"
    )
    if "node_config" in report.files:
        print(f"export NODE_CONFIG={report.files['node_config']}")
    return 0


def _upgrade(args: argparse.Namespace) -> int:
    from shared.migrations import MigrationError, upgrade

    try:
        results = upgrade(
            args.store_uri, db_prefix=args.db_prefix, batch_size=args.batch_size
        )
    except MigrationError as exc:
        print(f"{exc.message_fr}\n{exc.message_en}", file=sys.stderr)
        return 1
    for result in results:
        print(
            f"{result.service}: v{result.version} {result.state} "
            f"({result.changed} documents)"
        )
    if not results:
        print("à jour / up to date")
    return 0


def register_backup_commands(commands: argparse._SubParsersAction) -> None:
    backup = commands.add_parser(
        "backup", help="sauvegarder le nœud en marche / back up the running node"
    )
    backup.add_argument("dir", type=Path, help="a new, empty folder")
    _store_options(backup)
    backup.add_argument(
        "--data-dir",
        type=Path,
        default=_data_dir(),
        help="where the node keeps secret_key (default: var/)",
    )
    backup.set_defaults(func=_backup)

    restore = commands.add_parser(
        "restore", help="restaurer une sauvegarde / restore a backup"
    )
    restore.add_argument("dir", type=Path, help="a folder written by `node backup`")
    _store_options(restore)
    restore.add_argument(
        "--files-dir",
        type=Path,
        default=_data_dir() / "node",
        help="where to put node.yaml and the signing key (default: var/node)",
    )
    restore.add_argument(
        "--data-dir",
        type=Path,
        default=_data_dir(),
        help="where to put the gateway's secret_key (default: var/)",
    )
    restore.add_argument(
        "--force",
        action="store_true",
        help="replace the node data already in the store",
    )
    restore.set_defaults(func=_restore)

    upgrade = commands.add_parser(
        "upgrade",
        help="migrer les documents stockés / migrate stored documents forward",
    )
    _store_options(upgrade)
    upgrade.add_argument("--batch-size", type=int, default=500)
    upgrade.set_defaults(func=_upgrade)
