"""``maillage offerings import PATH`` and ``maillage offerings export DIR``.

    $ maillage offerings import ../shared/data/hsds/examples/csv/
    $ maillage offerings import ../shared/data/hsds_1.1_sample/all_resources/
    $ maillage offerings export /tmp/annuaire --format csv

Each chunk of ``--chunk-size`` services is one transaction with its events in
the offerings outbox; the offerings service's relay publishes them when it
runs. Importing the same file again writes and emits nothing new.

The store is ``--store-uri`` (default: ``MAILLAGE_STORE_URI``, then
``MAILLAGE_MONGODB_URI`` / ``MONGODB_URI``); the database is
``<prefix>offerings`` as for the running service. Exit codes: 0 imported,
1 refused (the directory is unchanged; the rejected rows are listed), 2 usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

DEFAULT_URI = "mongodb://127.0.0.1:27017/?directConnection=true"
DEFAULT_GEO = Path(__file__).resolve().parents[3] / "shared" / "data" / "quebec_geo"


def _env_uri() -> str:
    for name in ("MAILLAGE_STORE_URI", "MAILLAGE_MONGODB_URI", "MONGODB_URI"):
        if os.environ.get(name):
            return os.environ[name]
    return DEFAULT_URI


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "offerings", help="répertoire des services / service directory (HSDS 3.0)"
    )
    commands = parser.add_subparsers(dest="offerings_command", metavar="ACTION")

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--store-uri",
            default=None,
            help="mongodb:// URI (default: $MAILLAGE_STORE_URI)",
        )
        sub.add_argument(
            "--db-prefix", default=os.environ.get("MAILLAGE_DB_PREFIX", "maillage_")
        )

    imp = commands.add_parser(
        "import", help="importer HSDS 3.0 JSON/CSV ou 1.1 / import HSDS files"
    )
    imp.add_argument("path", type=Path)
    imp.add_argument(
        "--user",
        default=os.environ.get("USER", "cli"),
        help="recorded as updated_by in metadata",
    )
    imp.add_argument("--report", type=Path, help="write the JSON report here")
    imp.add_argument(
        "--geo-dir",
        type=Path,
        default=DEFAULT_GEO,
        help="quebec_geo/ folder used to check MRC codes",
    )
    imp.add_argument(
        "--node-id",
        default=None,
        help="origin_node of the events (default: $NODE_ID, as the service)",
    )
    imp.add_argument(
        "--chunk-size",
        type=int,
        default=200,
        help="services per transaction (each with its records and events)",
    )
    imp.add_argument("--no-progress", action="store_true")
    common(imp)
    imp.set_defaults(func=run_import)

    exp = commands.add_parser("export", help="exporter en HSDS 3.0 / export")
    exp.add_argument("directory", type=Path)
    exp.add_argument("--format", choices=("json", "csv"), default="json")
    exp.add_argument(
        "--include-confidential",
        action="store_true",
        help="keep confidential addresses (non-public copies only)",
    )
    common(exp)
    exp.set_defaults(func=run_export)
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])


def _db(args: argparse.Namespace) -> Any:
    from pymongo import MongoClient

    client: MongoClient[dict[str, Any]] = MongoClient(
        args.store_uri or _env_uri(), serverSelectionTimeoutMS=5000, tz_aware=True
    )
    return client, client[f"{args.db_prefix}offerings"]


def run_import(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from services.offerings.formats import detect
    from services.offerings.imports import import_path, load_geo
    from shared.config import settings

    path: Path = args.path
    kind = detect(path)
    total = (
        len(list(path.glob("*.json" if kind == "json" else "*.csv")))
        if path.is_dir()
        else 1
    )
    client, db = _db(args)
    try:
        with tqdm(
            total=total,
            unit="fichier",
            disable=args.no_progress,
            file=sys.stderr,
            desc="import",
        ) as bar:
            report = import_path(
                path,
                db,
                args.user,
                load_geo(args.geo_dir),
                progress=bar.update,
                node_id=args.node_id or settings()["NODE_ID"],
                chunk_size=max(1, args.chunk_size),
            )
    finally:
        client.close()
    if args.report:
        args.report.write_text(
            json.dumps(report.as_dict(), indent=2, ensure_ascii=False), encoding="utf-8"
        )
    for warning in report.warnings:
        print(f"avertissement / warning: {warning}", file=sys.stderr)
    if not report.ok:
        print(
            f"Import refusé, rien n'a été écrit ({len(report.problems)} "
            f"problème(s)) / Import refused, nothing was written "
            f"({len(report.problems)} problem(s)):",
            file=sys.stderr,
        )
        for problem in report.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    merged = len(report.merged_organizations)
    events = sum(report.events.values())
    print(
        f"Importé / imported: {report.written} ; organisations fusionnées / "
        f"merged organizations: {merged} ; événements / events: {events} "
        f"({report.transactions} transaction(s))"
    )
    return 0


def run_export(args: argparse.Namespace) -> int:
    from services.offerings.imports import export_directory

    client, db = _db(args)
    try:
        files = export_directory(
            db, args.directory, args.format, args.include_confidential
        )
    finally:
        client.close()
    print(f"{len(files)} fichier(s) écrit(s) / file(s) written in {args.directory}")
    return 0
