"""``maillage offerings import PATH``, ``harvest URL`` and ``export DIR``.

    $ maillage offerings import ../shared/data/hsds/examples/csv/
    $ maillage offerings harvest https://repertoire.example.org/hsds
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

    har = commands.add_parser(
        "harvest",
        help="moissonner une autre API HSDS 3.0 / harvest another HSDS 3.0 API",
    )
    har.add_argument("url", help="the source's HSDS API root (http:// or https://)")
    since = har.add_mutually_exclusive_group()
    since.add_argument(
        "--modified-after",
        default=None,
        metavar="DATE",
        help="ask only what changed since DATE (ISO 8601; default: where the "
        "last harvest of this URL stopped)",
    )
    since.add_argument(
        "--all",
        action="store_true",
        help="ask for everything, ignoring where the last harvest stopped",
    )
    har.add_argument("--per-page", type=int, default=100)
    har.add_argument(
        "--user",
        default=os.environ.get("USER", "cli"),
        help="recorded as updated_by in metadata",
    )
    har.add_argument("--report", type=Path, help="write the JSON report here")
    har.add_argument("--geo-dir", type=Path, default=DEFAULT_GEO)
    har.add_argument("--node-id", default=None)
    har.add_argument("--chunk-size", type=int, default=200)
    common(har)
    har.set_defaults(func=run_harvest)

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


def run_harvest(args: argparse.Namespace) -> int:
    from services.offerings.harvest import harvest, parse_since
    from services.offerings.imports import load_geo
    from shared.config import settings

    try:
        since = parse_since(args.modified_after) if args.modified_after else None
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    if not 1 <= args.per_page <= 1000:
        print("--per-page : entre 1 et 1000 / between 1 and 1000", file=sys.stderr)
        return 2
    client, db = _db(args)
    try:
        report = harvest(
            args.url,
            db,
            args.user,
            load_geo(args.geo_dir),
            modified_after=since,
            everything=args.all,
            per_page=args.per_page,
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
            f"Moisson de {report.source} refusée, rien n'a été écrit "
            f"({len(report.problems)} problème(s)) / Harvest of {report.source} "
            f"refused, nothing was written ({len(report.problems)} problem(s)):",
            file=sys.stderr,
        )
        for problem in report.problems:
            found = report.record_of(problem)
            record = f"[{found[0]} {found[1]}] " if found else ""
            print(f"  {record}{problem}", file=sys.stderr)
        return 1
    events = sum(report.events.values())
    print(
        f"Moissonné / harvested {report.source} (modified_after="
        f"{report.modified_after or '-'}): {report.written} ; "
        f"pages: {len(report.files)} ; événements / events: {events} ; "
        f"prochaine fois / next time modified_after={report.high_water}"
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
