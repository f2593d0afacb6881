"""The local store keeps acknowledged writes across a crash; the node survives its absence."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from nameko.containers import ServiceContainer
from nameko.rpc import rpc
from pymongo import MongoClient
from werkzeug.test import Client

from gateway.api import Api
from gateway.app import Gateway
from shared.localstore import LocalStore
from shared.service import ServiceBase
from shared.store import Store

pytestmark = pytest.mark.integration


def test_acknowledged_writes_survive_kill_9_of_the_store(tmp_path):
    store = LocalStore(tmp_path / "store").start()
    try:
        client = MongoClient(store.uri)
        for i in range(50):
            client.durability.notes.insert_one({"_id": i, "text": f"note {i}"})
        with client.start_session() as session, session.start_transaction():
            client.durability.notes.insert_one({"_id": "txn"}, session=session)
        client.close()  # the client goes first; the server gets no shutdown, no flush:
        store.kill()  # SIGKILL
    finally:
        store.kill()
    reopened = LocalStore(tmp_path / "store", port=store.port).start()
    try:
        client = MongoClient(reopened.uri)
        assert client.durability.notes.count_documents({}) == 51
        assert client.durability.notes.find_one({"_id": 49})["text"] == "note 49"
    finally:
        reopened.stop()


class Notes(ServiceBase):
    name = "notes"
    store = Store()

    @rpc
    def count(self) -> int:
        return self.store.db.notes.count_documents({})


def _gateway(amqp_uri: str, store_uri: str) -> Client:
    api = Api()

    @api.route("/notes/count", action="notes.count", public=True)
    def count(ctx):
        return {"count": ctx.rpc("notes", "count")}

    config = {
        "AMQP_URI": amqp_uri,
        "MONGODB_URI": store_uri,
        "NODE_ID": "t",
        "RPC_TIMEOUT": 10,
    }
    return Client(Gateway(config, api))


def test_store_down_gives_503_json_and_the_node_recovers_without_restart(
    tmp_path, amqp_uri, db_prefix
):
    store = LocalStore(tmp_path / "store").start()
    config = {"AMQP_URI": amqp_uri, "MONGODB_URI": store.uri, "DB_PREFIX": db_prefix}
    MongoClient(store.uri)[f"{db_prefix}notes"].notes.insert_many([{"n": 1}, {"n": 2}])
    container = ServiceContainer(Notes, config)
    container.start()
    http = _gateway(amqp_uri, store.uri)
    try:
        ok = http.get("/notes/count")
        assert ok.status_code == 200 and ok.json == {"count": 2}

        store.kill()
        down = http.get("/notes/count", headers={"Accept-Language": "en"})
        assert down.status_code == 503
        assert down.json["error"]["code"] == "unavailable"
        assert "store" in down.json["error"]["message"]
        health = http.get("/health")
        assert health.status_code == 503 and health.json["store"].startswith(
            "unreachable"
        )

        store = LocalStore(tmp_path / "store", port=store.port).start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            again = http.get("/notes/count")
            if again.status_code == 200:
                break
            time.sleep(0.5)
        assert again.status_code == 200 and again.json == {"count": 2}
    finally:
        container.stop()
        store.stop()


def test_the_store_ends_when_the_process_that_started_it_is_killed(tmp_path):
    import os
    import subprocess
    import sys

    code = (
        "import sys, time; from shared.localstore import LocalStore; "
        "s = LocalStore(sys.argv[1]).start(); print(s.process.pid, flush=True); time.sleep(120)"
    )
    root = Path(__file__).resolve().parents[2]
    parent = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path / "orphan")],
        stdout=subprocess.PIPE,
        text=True,
        cwd=root,
    )
    pid = int(parent.stdout.readline())
    parent.kill()  # a test run or node runner killed without cleanup
    parent.wait()

    def running() -> bool:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            return False
        return "\tZ" not in status.split("State:", 1)[1].split("\n", 1)[0]

    deadline = time.monotonic() + 30
    while running() and time.monotonic() < deadline:
        time.sleep(0.2)
    if running():
        os.kill(pid, 9)
        pytest.fail("the store outlived the process that started it")
