"""``maillage node backup DIR`` and ``maillage node restore DIR``.

A backup is taken from a running node, without stopping it, and is consistent
at ONE point in time for the whole node: every collection of every database
of the node (``<DB_PREFIX>boards`` ... ``<DB_PREFIX>gateway``: the services'
state, their outboxes and ``processed_events``, the gateway's accounts and
audit log) is read inside one multi-document transaction with read concern
``snapshot``. A MongoDB transaction may read across databases, and SecantusDB
gives the same snapshot across databases (``tests/shared/test_backup.py``
checks it), so a state change and the outbox row written in its transaction
are both in the backup or both absent, and so are a consumer's effects and the
``event_id`` it recorded with them. (A snapshot *session* outside a
transaction would do on MongoDB 5+, but SecantusDB does not honour it.) On real
MongoDB a transaction lives at most ``transactionLifetimeLimitSeconds`` (60 by
default): a store too large to read in that time needs the limit raised for
the backup, or a ``mongodump --oplog`` of the replica set instead.

What is in flight at the backup point is not lost on the new machine, whose
broker is empty. An outbox row not yet sent is published by the restored
relay as usual. An event already sent but not yet processed by every service
that consumes it was in the old broker's queues: the backup lists those rows
(``in_flight``, computed inside the same snapshot) and the restore marks them
unsent again, so the restored relay publishes them once more; a consumer that
had already processed one finds its ``event_id`` in ``processed_events`` and
absorbs it. Rows sent and processed everywhere are left sent: never published
twice.

The node's files are copied too: the node config (``NODE_CONFIG``), the
Ed25519 signing key it names, the gateway's token secret (``var/secret_key``)
and the voter-key secret (``var/keys/ballot_key``, without which one ballot per
person no longer holds after a restore); keys keep mode 0600. Secrets given in
the environment instead (``BALLOT_KEY``, ``MAILLAGE_SECRET_KEY``) are not in
the backup: keep them with the backup, apart from it.

Layout of DIR::

    manifest.json
    db/maillage_boards/meetings.jsonl     one document a line, canonical
    ...                                   extended JSON (bson.json_util)
    files/node.yaml, files/signing_key, files/secret_key

``manifest.json``::

    {"format": "maillage-backup", "format_version": 1, "node_id": "mrc-2466",
     "created_at": "2026-12-14T23:30:00+00:00", "db_prefix": "maillage_",
     "consistency": "one snapshot transaction across the node's databases",
     "databases": {"boards": {"name": "maillage_boards", "collections": {
         "meetings": {"file": "db/maillage_boards/meetings.jsonl", "count": 12,
                      "sha256": "9f...", "indexes": [{"key": {...}, ...}]}}}},
     "in_flight": {"counter": [], "boards": ["01JD..."]},
     "files": {"signing_key": {"file": "files/signing_key", "sha256": "...",
                               "mode": 384}}}

Restore checks the whole backup (format, every file's presence, count and
sha256) before it writes anything, refuses a store that already holds the
node's databases unless ``force``, then loads the documents and indexes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bson import json_util
from bson.json_util import CANONICAL_JSON_OPTIONS
from pymongo import MongoClient
from pymongo.errors import OperationFailure
from pymongo.read_concern import ReadConcern

from shared.envelope import utcnow
from shared.errors import MaillageError

log = logging.getLogger(__name__)

FORMAT = "maillage-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
OUTBOX = "outbox"
PROCESSED = "processed_events"
SYSTEM_DATABASES = {"admin", "local", "config"}
BATCH = 1000
SNAPSHOT_UNAVAILABLE = 246


class BackupRefused(MaillageError):
    """A backup or a restore that cannot go on: names the file and the reason."""

    code = "backup_refused"

    def __init__(self, file: str, reason_fr: str, reason_en: str) -> None:
        super().__init__(
            f"{file} : {reason_fr}",
            f"{file}: {reason_en}",
            details={"file": file},
        )
        self.file = file


@dataclass
class NodeFiles:
    """The node's files a backup carries (None: the node has no such file)."""

    node_config: Path | None = None
    signing_key: Path | None = None
    secret_key: Path | None = None
    ballot_key: Path | None = None
    practice_key: Path | None = None

    def items(self) -> Iterator[tuple[str, Path]]:
        for name in (
            "node_config",
            "signing_key",
            "secret_key",
            "ballot_key",
            "practice_key",
        ):
            path = getattr(self, name)
            if path is not None:
                yield name, Path(path)


@dataclass
class RestoreReport:
    documents: int = 0
    databases: list[str] = field(default_factory=list)
    rearmed: int = 0
    files: dict[str, str] = field(default_factory=dict)


def node_files(env: Mapping[str, str], data_dir: Path) -> NodeFiles:
    """Where a node keeps its files: ``NODE_CONFIG`` and the key it names, and
    the gateway's token secret in the data directory."""
    files = NodeFiles()
    config = env.get("NODE_CONFIG")
    if config:
        files.node_config = Path(config)
        from services.federation.schemas import load_config

        files.signing_key = Path(load_config(config).key_path)
    secret = data_dir / "secret_key"
    if secret.exists():
        files.secret_key = secret
    # The participation service's voter-key secret when made locally (BALLOT_KEY
    # given in the environment is the operator's to keep, like any env secret).
    # ... and the indicators service's practitioners'-report key, for the same
    # reason: without it a practitioner could report twice in one quarter.
    keys = Path(env.get("MAILLAGE_KEYS_DIR") or data_dir / "keys")
    if (keys / "ballot_key").exists():
        files.ballot_key = keys / "ballot_key"
    if (keys / "practice_key").exists():
        files.practice_key = keys / "practice_key"
    return files


def consumer_map(
    service_classes: Iterable[type], node_config: Path | None = None
) -> dict[str, list[str]]:
    """``{event_type: [service, ...]}``: which services of the node consume what.

    Read from the services' ``@consume`` entrypoints; the federation service
    binds the types of the node's outgoing agreements, read from its config.
    """
    from shared.consumer import EventConsumer

    consumers: dict[str, set[str]] = {}
    for cls in service_classes:
        service = str(cls.name)  # type: ignore[attr-defined]
        for member in vars(cls).values():
            for entrypoint in getattr(member, "nameko_entrypoints", ()):
                if not isinstance(entrypoint, EventConsumer):
                    continue
                types = set(entrypoint.event_types)
                if not types and node_config is not None:
                    from services.federation.schemas import load_config

                    for agreement in load_config(node_config).agreements_for("out"):
                        types.update(agreement.rules)
                for event_type in types - {"#"}:
                    consumers.setdefault(event_type, set()).add(service)
    return {key: sorted(value) for key, value in consumers.items()}


def node_service_classes() -> list[type]:
    import importlib

    from shared.node import SERVICES, service_class_name

    classes = []
    for name in SERVICES:
        module = f"services.{name}.service"
        classes.append(
            getattr(importlib.import_module(module), service_class_name(module))
        )
    return classes


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _node_databases(client: MongoClient[dict[str, Any]], prefix: str) -> list[str]:
    return sorted(
        name
        for name in client.list_database_names()
        if name.startswith(prefix) and name not in SYSTEM_DATABASES
    )


def _collections(client: MongoClient[dict[str, Any]], db_name: str) -> list[str]:
    return sorted(
        name
        for name in client[db_name].list_collection_names()
        if not name.startswith("system.")
    )


def _index_specs(
    client: MongoClient[dict[str, Any]], db_name: str, collection: str
) -> list[dict[str, Any]]:
    specs = []
    for index in client[db_name][collection].list_indexes():
        spec = dict(index)
        if spec.get("name") == "_id_":
            continue
        spec.pop("v", None)
        spec.pop("ns", None)
        spec["key"] = list(dict(spec["key"]).items())
        specs.append(json.loads(json_util.dumps(spec)))
    return specs


def _in_flight(
    client: MongoClient[dict[str, Any]],
    session: Any,
    prefix: str,
    databases: list[str],
    consumers: Mapping[str, list[str]],
) -> dict[str, list[Any]]:
    """Outbox rows sent but not yet processed by every consumer (in the snapshot)."""
    result: dict[str, list[Any]] = {}
    for db_name in databases:
        rows: list[Any] = []
        outbox = client[db_name][OUTBOX]
        for row in outbox.find({"sent": True}, session=session).sort("_id", 1):
            events = row["events"] if "events" in row else [row.get("envelope", {})]
            wanted: dict[str, set[str]] = {}
            for event in events:
                for service in consumers.get(event.get("event_type", ""), []):
                    wanted.setdefault(service, set()).add(event.get("event_id"))
            for service, ids in wanted.items():
                seen = client[f"{prefix}{service}"][PROCESSED].count_documents(
                    {"_id": {"$in": sorted(ids)}}, session=session
                )
                if seen < len(ids):
                    rows.append(row["_id"])
                    break
        result[db_name[len(prefix) :]] = rows
    return result


def backup(
    store_uri: str,
    directory: Path,
    *,
    db_prefix: str = "maillage_",
    node_id: str = "local",
    files: NodeFiles | None = None,
    consumers: Mapping[str, list[str]] | None = None,
) -> dict[str, Any]:
    """Write a backup of the node to ``directory`` (empty or new); return the manifest."""
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise BackupRefused(
            str(directory),
            "le dossier de sauvegarde n'est pas vide ; choisissez-en un nouveau",
            "the backup folder is not empty; choose a new one",
        )
    directory.mkdir(parents=True, exist_ok=True)
    client: MongoClient[dict[str, Any]] = MongoClient(store_uri, tz_aware=True)
    try:
        manifest = _dump(client, directory, db_prefix, node_id, consumers or {})
    finally:
        client.close()
    manifest["files"] = _copy_files(files or NodeFiles(), directory)
    (directory / MANIFEST).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return manifest


def _dump(
    client: MongoClient[dict[str, Any]],
    directory: Path,
    prefix: str,
    node_id: str,
    consumers: Mapping[str, list[str]],
) -> dict[str, Any]:
    # Names and index definitions cannot be read inside a transaction: list them
    # first, then again after the snapshot reads, until nothing new appears.
    layout: dict[str, list[str]] = {}
    databases: dict[str, Any] = {}
    created_at = utcnow()
    with client.start_session() as session:
        with session.start_transaction(read_concern=ReadConcern("snapshot")):
            while True:
                found = {
                    db: _collections(client, db)
                    for db in _node_databases(client, prefix)
                }
                new = {
                    db: [c for c in names if c not in layout.get(db, [])]
                    for db, names in found.items()
                }
                new = {db: names for db, names in new.items() if names}
                if not new:
                    break
                for db_name, names in new.items():
                    entry = databases.setdefault(
                        db_name[len(prefix) :], {"name": db_name, "collections": {}}
                    )
                    for collection in names:
                        entry["collections"][collection] = _dump_collection(
                            client, session, directory, db_name, collection
                        )
                    layout.setdefault(db_name, []).extend(names)
            in_flight = _in_flight(client, session, prefix, sorted(layout), consumers)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "node_id": node_id,
        "created_at": created_at.isoformat(),
        "db_prefix": prefix,
        "consistency": "one snapshot transaction across the node's databases",
        "consumers": dict(consumers),
        "databases": databases,
        "in_flight": in_flight,
    }


def _dump_collection(
    client: MongoClient[dict[str, Any]],
    session: Any,
    directory: Path,
    db_name: str,
    collection: str,
) -> dict[str, Any]:
    indexes = _index_specs(client, db_name, collection)
    relative = f"db/{db_name}/{collection}.jsonl"
    path = directory / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    count = 0
    with path.open("wb") as handle:
        try:
            for doc in (
                client[db_name][collection].find({}, session=session).sort("_id", 1)
            ):
                text = json_util.dumps(doc, json_options=CANONICAL_JSON_OPTIONS)
                line = (text + "\n").encode()
                handle.write(line)
                digest.update(line)
                count += 1
        except OperationFailure as exc:
            if exc.code != SNAPSHOT_UNAVAILABLE:
                raise
            # Created after the snapshot was taken: empty at the backup point.
            handle.seek(0)
            handle.truncate()
            digest, count = hashlib.sha256(), 0
    return {
        "file": relative,
        "count": count,
        "sha256": digest.hexdigest(),
        "indexes": indexes,
    }


def _copy_files(files: NodeFiles, directory: Path) -> dict[str, Any]:
    copied: dict[str, Any] = {}
    for name, source in files.items():
        if not source.is_file():
            raise BackupRefused(
                str(source), "fichier du nœud introuvable", "node file not found"
            )
        relative = f"files/{name}"
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        mode = source.stat().st_mode & 0o777
        os.chmod(target, mode)
        copied[name] = {
            "file": relative,
            "sha256": _sha256(target),
            "mode": mode,
            "source": str(source),
        }
    return copied


# --- restore -------------------------------------------------------------------


def read_manifest(directory: Path) -> dict[str, Any]:
    """The backup's manifest, checked against its files; refused with the file named."""
    directory = Path(directory)
    path = directory / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupRefused(
            str(path), "manifeste introuvable", "manifest not found"
        ) from None
    except ValueError as exc:
        raise BackupRefused(
            str(path),
            f"manifeste illisible (JSON invalide : {exc})",
            f"unreadable manifest (invalid JSON: {exc})",
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupRefused(
            str(path),
            f"ce n'est pas un manifeste « {FORMAT} »",
            f'this is not a "{FORMAT}" manifest',
        )
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise BackupRefused(
            str(path),
            f"format_version {version!r} inconnue (attendue : {FORMAT_VERSION})",
            f"unknown format_version {version!r} (expected {FORMAT_VERSION})",
        )
    for entry in manifest.get("databases", {}).values():
        for collection in entry["collections"].values():
            _check_file(directory, collection["file"], collection["sha256"])
            count = _count_lines(directory / collection["file"])
            if count != collection["count"]:
                raise BackupRefused(
                    collection["file"],
                    f"{count} documents au lieu des {collection['count']} du manifeste",
                    f"{count} documents instead of the manifest's {collection['count']}",
                )
    for entry in manifest.get("files", {}).values():
        _check_file(directory, entry["file"], entry["sha256"])
    return manifest


def _check_file(directory: Path, relative: str, sha256: str) -> None:
    path = directory / relative
    if not path.is_file():
        raise BackupRefused(
            relative,
            "fichier absent de la sauvegarde",
            "file missing from the backup",
        )
    if _sha256(path) != sha256:
        raise BackupRefused(
            relative,
            "empreinte sha256 différente de celle du manifeste (fichier modifié "
            "ou abîmé)",
            "sha256 differs from the manifest's (file changed or damaged)",
        )


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def restore(
    store_uri: str,
    directory: Path,
    *,
    db_prefix: str | None = None,
    file_targets: Mapping[str, Path] | None = None,
    force: bool = False,
) -> RestoreReport:
    """Load the backup in ``directory`` into the store (see the module docstring)."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    prefix = manifest["db_prefix"] if db_prefix is None else db_prefix
    report = RestoreReport()
    client: MongoClient[dict[str, Any]] = MongoClient(store_uri, tz_aware=True)
    try:
        targets = {service: f"{prefix}{service}" for service in manifest["databases"]}
        occupied = [
            name
            for name in _node_databases(client, prefix)
            if any(
                client[name][c].estimated_document_count()
                for c in _collections(client, name)
            )
        ]
        if occupied and not force:
            raise BackupRefused(
                store_uri.split("@")[-1],
                f"le magasin contient déjà des données du nœud ({', '.join(occupied)}) ;"
                " --force pour les remplacer",
                f"the store already holds node data ({', '.join(occupied)}); "
                "--force to replace it",
            )
        targets_of_files = dict(file_targets or {})
        _check_files_free(manifest, targets_of_files, force)
        for name in occupied:
            client.drop_database(name)
        for service, entry in manifest["databases"].items():
            db = client[targets[service]]
            for collection, meta in entry["collections"].items():
                report.documents += _load_collection(
                    db[collection], directory / meta["file"]
                )
                if not meta["count"]:
                    db.create_collection(collection, check_exists=False)
                for spec in meta["indexes"]:
                    spec = dict(json_util.loads(json.dumps(spec)))
                    keys = [tuple(pair) for pair in spec.pop("key")]
                    db[collection].create_index(keys, **spec)
            report.databases.append(targets[service])
        for service, ids in manifest.get("in_flight", {}).items():
            if ids:
                result = client[targets[service]][OUTBOX].update_many(
                    {"_id": {"$in": ids}}, {"$set": {"sent": False, "sent_at": None}}
                )
                report.rearmed += result.modified_count
    finally:
        client.close()
    report.files = _restore_files(manifest, directory, targets_of_files)
    return report


def _load_collection(collection: Any, path: Path) -> int:
    count = 0
    batch: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            batch.append(json_util.loads(line, json_options=CANONICAL_JSON_OPTIONS))
            if len(batch) >= BATCH:
                collection.insert_many(batch, ordered=True)
                count += len(batch)
                batch = []
    if batch:
        collection.insert_many(batch, ordered=True)
        count += len(batch)
    return count


def file_targets(files_dir: Path, data_dir: Path) -> dict[str, Path]:
    """Where a restore puts the node's files: config and key together (as
    ``maillage node init`` does), the gateway's secret in the data directory."""
    return {
        "node_config": files_dir / "node.yaml",
        "signing_key": files_dir / "signing_key",
        "secret_key": data_dir / "secret_key",
        "ballot_key": data_dir / "keys" / "ballot_key",
        "practice_key": data_dir / "keys" / "practice_key",
    }


def _check_files_free(
    manifest: dict[str, Any], targets: Mapping[str, Path], force: bool
) -> None:
    for name in manifest.get("files", {}):
        target = targets.get(name)
        if target is not None and target.exists() and not force:
            raise BackupRefused(
                str(target),
                "existe déjà ; --force pour le remplacer",
                "already exists; --force to replace it",
            )


def _restore_files(
    manifest: dict[str, Any], directory: Path, targets: Mapping[str, Path]
) -> dict[str, str]:
    """Put the node's files in place; the config then names the restored key."""
    written: dict[str, str] = {}
    for name, entry in manifest.get("files", {}).items():
        target = targets.get(name)
        if target is None:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(directory / entry["file"], target)
        os.chmod(target, int(entry["mode"]))
        written[name] = str(target)
    if "node_config" in written and "signing_key" in written:
        import yaml

        path = Path(written["node_config"])
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        config["node"]["signing_key"] = str(Path(written["signing_key"]).resolve())
        path.write_text(
            "# Restauré / restored from a Maillage backup.\n"
            + yaml.safe_dump(config, sort_keys=False, allow_unicode=True),
            encoding="utf-8",
        )
    return written
