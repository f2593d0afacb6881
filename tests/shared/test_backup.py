"""``maillage node backup`` / ``restore`` on the real store and broker, under load."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest
from nameko.containers import ServiceContainer
from nameko.standalone.rpc import ServiceRpcProxy
from pymongo import ASCENDING, MongoClient
from pymongo.read_concern import ReadConcern

from shared.backup import (
    BackupRefused,
    NodeFiles,
    backup,
    consumer_map,
    file_targets,
    node_files,
    read_manifest,
    restore,
)
from shared.cli import main
from shared.localstore import LocalStore
from tests.conftest import AMQP_HOST, BROKER
from tests.shared.services import Counter, Producer

pytestmark = pytest.mark.integration


def wait_for(predicate, timeout=60.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def _events(row: dict) -> list[dict]:
    return row["events"] if "events" in row else [row["envelope"]]


@pytest.fixture
def fresh_store(tmp_path):
    """A second, empty store: the fresh machine a backup is restored on."""
    store = LocalStore(tmp_path / "fresh-store", sync_on_commit=False)
    store.start()
    yield store
    store.stop()


def test_one_snapshot_transaction_sees_every_database_at_the_same_point(
    store_uri, db_prefix
):
    client = MongoClient(store_uri)
    a, b = client[f"{db_prefix}a"].things, client[f"{db_prefix}b"].things
    a.insert_one({"_id": 1})
    b.insert_one({"_id": 1})
    with client.start_session() as session:
        with session.start_transaction(read_concern=ReadConcern("snapshot")):
            assert [d["_id"] for d in a.find({}, session=session)] == [1]
            a.insert_one({"_id": 2})
            b.insert_one({"_id": 2})  # after the snapshot, in another database
            assert [d["_id"] for d in b.find({}, session=session)] == [1]


def test_backup_under_write_load_restores_every_acknowledged_write_exactly_once(
    amqp_uri, store_uri, db_prefix, tmp_path, fresh_store
):
    config = {"AMQP_URI": amqp_uri, "MONGODB_URI": store_uri, "DB_PREFIX": db_prefix}
    counter = ServiceContainer(Counter, config)
    producer = ServiceContainer(Producer, config)
    counter.start()
    producer.start()
    acked: list[int] = []  # first `i` of each emit() the service acknowledged
    stop = threading.Event()

    def write() -> None:
        with ServiceRpcProxy("producer", config) as proxy:
            start = 0
            while not stop.is_set():
                proxy.emit(start, 5)  # 5 things and their 5 events, one transaction
                acked.append(start)
                start += 5

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert wait_for(lambda: len(acked) >= 40)
        acked_before = list(acked)
        manifest = backup(
            store_uri,
            tmp_path / "backup",
            db_prefix=db_prefix,
            node_id="mrc-test",
            consumers=consumer_map([Counter]),
        )
        during = len(acked) - len(acked_before)
        assert wait_for(lambda: len(acked) >= len(acked_before) + during + 10)
    finally:
        stop.set()
        writer.join(30)
        producer.stop()
        counter.stop()
    assert during > 0, "the writer kept writing while the backup ran"

    report = restore(fresh_store.uri, tmp_path / "backup", db_prefix=db_prefix)
    restored = MongoClient(fresh_store.uri)
    things = {d["_id"] for d in restored[f"{db_prefix}producer"].things.find()}
    # Every write acknowledged before the backup began is there...
    assert {s + k for s in acked_before for k in range(5)} <= things
    # ...each transaction whole or absent, and the outbox holds exactly the
    # events of the state it has: no event without its state, nor the reverse.
    assert all({s + k for k in range(5)} <= things for s in {i - i % 5 for i in things})
    outbox = restored[f"{db_prefix}producer"].outbox
    in_outbox = [e["payload"]["i"] for r in outbox.find() for e in _events(r)]
    assert sorted(in_outbox) == sorted(things)
    unsent_at_backup = {r["_id"] for r in outbox.find({"sent": False})}
    rearmed = set(manifest["in_flight"]["producer"])
    assert report.rearmed == len(rearmed) and rearmed <= unsent_at_backup
    already_sent = {r["_id"]: r["sent_at"] for r in outbox.find({"sent": True})}
    assert already_sent, "some rows were published and consumed before the backup"

    with BROKER.throwaway_vhost("restored") as vhost:
        config2 = {
            "AMQP_URI": f"amqp://guest:guest@{AMQP_HOST}/{vhost}",
            "MONGODB_URI": fresh_store.uri,
            "DB_PREFIX": db_prefix,
        }
        counter2 = ServiceContainer(Counter, config2)
        producer2 = ServiceContainer(Producer, config2)
        counter2.start()
        producer2.start()
        try:
            counts = restored[f"{db_prefix}counter"].counts
            assert wait_for(lambda: counts.count_documents({}) == len(things))
            assert wait_for(lambda: outbox.count_documents({"sent": False}) == 0)
            # Each effect once: the in-flight events were published again and
            # applied once, nothing consumed before the backup was applied twice.
            assert {d["_id"] for d in counts.find()} == things
            assert {d["n"] for d in counts.find()} == {1}
            # The relay published only what was unsent or in flight at the backup.
            for row in outbox.find({"_id": {"$in": list(already_sent)}}):
                assert row["sent_at"] == already_sent[row["_id"]]

            # If a relay must publish everything again, consumers absorb it.
            processed = restored[f"{db_prefix}counter"].processed_events
            before = processed.count_documents({})
            outbox.update_many({}, {"$set": {"sent": False}})
            assert wait_for(lambda: outbox.count_documents({"sent": False}) == 0)
            time.sleep(1.0)
            assert {d["n"] for d in counts.find()} == {1}
            assert processed.count_documents({}) == before == len(things)
        finally:
            producer2.stop()
            counter2.stop()


def _small_node(client: MongoClient, prefix: str) -> None:
    gateway = client[f"{prefix}gateway"]
    gateway.accounts.create_index([("username", ASCENDING)], unique=True)
    gateway.accounts.insert_one({"_id": "a1", "username": "marie", "role": "admin"})
    gateway.audit.insert_one({"_id": "e1", "action": "create", "actor": {"sub": "a1"}})
    client[f"{prefix}boards"].boards.insert_one({"_id": "mrc-66023", "version": 1})


def test_restore_refuses_a_backup_whose_file_was_changed_naming_the_file(
    store_uri, db_prefix, tmp_path, fresh_store
):
    _small_node(MongoClient(store_uri), db_prefix)
    manifest = backup(store_uri, tmp_path / "b", db_prefix=db_prefix)
    accounts = manifest["databases"]["gateway"]["collections"]["accounts"]["file"]
    path = tmp_path / "b" / accounts
    path.write_text(path.read_text().replace("admin", "node_admin"))
    with pytest.raises(BackupRefused) as refused:
        restore(fresh_store.uri, tmp_path / "b")
    assert refused.value.file == accounts
    assert (
        "sha256" in refused.value.message_en and "empreinte" in refused.value.message_fr
    )
    names = MongoClient(fresh_store.uri).list_database_names()
    assert not [name for name in names if name.startswith(db_prefix)]


def test_restore_refuses_an_unknown_format_version_in_both_languages(
    store_uri, db_prefix, tmp_path, fresh_store
):
    _small_node(MongoClient(store_uri), db_prefix)
    backup(store_uri, tmp_path / "b", db_prefix=db_prefix)
    manifest_path = tmp_path / "b" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["format_version"] = 99
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(BackupRefused) as refused:
        read_manifest(tmp_path / "b")
    assert refused.value.file.endswith("manifest.json")
    assert "format_version" in refused.value.message_fr
    assert "unknown format_version 99" in refused.value.message_en


def test_restore_over_node_data_is_refused_unless_forced(
    store_uri, db_prefix, tmp_path, fresh_store
):
    _small_node(MongoClient(store_uri), db_prefix)
    backup(store_uri, tmp_path / "b", db_prefix=db_prefix)
    target = MongoClient(fresh_store.uri)
    target[f"{db_prefix}boards"].boards.insert_one({"_id": "someone-else"})
    with pytest.raises(BackupRefused) as refused:
        restore(fresh_store.uri, tmp_path / "b")
    assert (
        "--force" in refused.value.message_fr and "--force" in refused.value.message_en
    )
    assert target[f"{db_prefix}boards"].boards.find_one({"_id": "someone-else"})

    restore(fresh_store.uri, tmp_path / "b", force=True)
    assert [d["_id"] for d in target[f"{db_prefix}boards"].boards.find()] == [
        "mrc-66023"
    ]


def test_gateway_accounts_audit_and_their_unique_index_come_back(
    store_uri, db_prefix, tmp_path, fresh_store
):
    _small_node(MongoClient(store_uri), db_prefix)
    backup(store_uri, tmp_path / "b", db_prefix=db_prefix)
    restore(fresh_store.uri, tmp_path / "b")
    gateway = MongoClient(fresh_store.uri)[f"{db_prefix}gateway"]
    assert gateway.accounts.find_one({"username": "marie"})["role"] == "admin"
    assert gateway.audit.find_one({"_id": "e1"})["actor"] == {"sub": "a1"}
    unique = [i for i in gateway.accounts.list_indexes() if i.get("unique")]
    assert [dict(i["key"]) for i in unique] == [{"username": 1}]


def test_node_keys_and_config_come_back_with_owner_only_keys(
    store_uri, db_prefix, tmp_path, fresh_store
):
    node_dir = tmp_path / "old" / "node"
    assert (
        main(
            [
                "node",
                "init",
                "--node-id",
                "mrc-2466",
                "--territory",
                "2466",
                "--dir",
                str(node_dir),
            ]
        )
        == 0
    )
    secret = tmp_path / "old" / "secret_key"
    secret.write_text("s3cret")
    os.chmod(secret, 0o600)
    ballot = tmp_path / "old" / "keys" / "ballot_key"
    ballot.parent.mkdir()
    ballot.write_text("b" * 64)
    os.chmod(ballot, 0o600)
    _small_node(MongoClient(store_uri), db_prefix)
    files = node_files({"NODE_CONFIG": str(node_dir / "node.yaml")}, tmp_path / "old")
    assert files == NodeFiles(
        node_dir / "node.yaml", (node_dir / "signing_key").resolve(), secret, ballot
    )
    backup(store_uri, tmp_path / "b", db_prefix=db_prefix, files=files)

    new = tmp_path / "new"
    targets = file_targets(new / "node", new)
    report = restore(fresh_store.uri, tmp_path / "b", file_targets=targets)
    assert (new / "node" / "signing_key").read_bytes() == (
        node_dir / "signing_key"
    ).read_bytes()
    assert (new / "node" / "signing_key").stat().st_mode & 0o777 == 0o600
    assert (new / "secret_key").read_text() == "s3cret"
    assert (new / "secret_key").stat().st_mode & 0o777 == 0o600
    assert (new / "keys" / "ballot_key").read_text() == "b" * 64
    assert (new / "keys" / "ballot_key").stat().st_mode & 0o777 == 0o600
    from services.federation.schemas import load_config

    config = load_config(report.files["node_config"])
    assert config.key_path == str((new / "node" / "signing_key").resolve())

    # The same files again are refused unless --force.
    with pytest.raises(BackupRefused) as refused:
        restore(fresh_store.uri, tmp_path / "b", file_targets=targets, force=False)
    assert refused.value.file


def test_cli_backup_then_restore_prints_what_it_did_and_refuses_a_used_folder(
    store_uri, db_prefix, tmp_path, fresh_store, capsys, monkeypatch
):
    monkeypatch.delenv("NODE_CONFIG", raising=False)
    _small_node(MongoClient(store_uri), db_prefix)
    common = ["--db-prefix", db_prefix]
    out = tmp_path / "b"
    args = ["node", "backup", str(out), "--store-uri", store_uri]
    assert main([*args, *common, "--data-dir", str(tmp_path)]) == 0
    assert "documents" in capsys.readouterr().out
    assert main([*args, *common, "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "n'est pas vide" in err and "not empty" in err
    restore_args = ["node", "restore", str(out), "--store-uri", fresh_store.uri]
    files = ["--files-dir", str(tmp_path / "n"), "--data-dir", str(tmp_path / "d")]
    assert main([*restore_args, *common, *files]) == 0
    assert "restored" in capsys.readouterr().out
    assert main([*restore_args, *common, *files]) == 1
    assert "--force" in capsys.readouterr().err


def test_the_practitioners_report_key_is_backed_up_beside_the_ballot_key(
    store_uri, db_prefix, tmp_path, fresh_store
):
    """Without it a practitioner could report twice in one quarter."""
    keys = tmp_path / "old" / "keys"
    keys.mkdir(parents=True)
    for name, text in (("ballot_key", "b" * 64), ("practice_key", "p" * 64)):
        (keys / name).write_text(text)
        os.chmod(keys / name, 0o600)
    _small_node(MongoClient(store_uri), db_prefix)
    files = node_files({}, tmp_path / "old")
    assert files.practice_key == keys / "practice_key"
    backup(store_uri, tmp_path / "b", db_prefix=db_prefix, files=files)
    new = tmp_path / "new"
    restore(fresh_store.uri, tmp_path / "b", file_targets=file_targets(new, new))
    restored = new / "keys" / "practice_key"
    assert restored.read_text() == "p" * 64
    assert restored.stat().st_mode & 0o777 == 0o600
