"""The outbox relay and the idempotent consumer against the real broker and store."""

from __future__ import annotations

import time

import pytest
from nameko.containers import ServiceContainer
from nameko.rpc import rpc
from pymongo import MongoClient

from shared.consumer import consume
from shared.outbox import Outbox
from shared.store import Store

pytestmark = pytest.mark.integration


class Producer:
    name = "producer"
    store = Store()
    outbox = Outbox()

    @rpc
    def emit(self, n: int) -> None:
        with self.store.transaction() as session:
            for i in range(n):
                self.store.db.things.insert_one({"i": i}, session=session)
                self.outbox.add("producer.thing_made", {"i": i}, session=session)


class Counter:
    name = "counter"
    store = Store()

    @consume("producer.thing_made")
    def count(self, envelope, session):
        self.store.db.counts.update_one(
            {"_id": envelope.payload["i"]},
            {"$inc": {"n": 1}},
            upsert=True,
            session=session,
        )


def _config(amqp_uri: str, store_uri: str, prefix: str) -> dict:
    return {"AMQP_URI": amqp_uri, "MONGODB_URI": store_uri, "DB_PREFIX": prefix}


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_events_written_with_the_state_change_reach_the_consumer_once(
    amqp_uri, store_uri, db_prefix
):
    config = _config(amqp_uri, store_uri, db_prefix)
    counter = ServiceContainer(Counter, config)
    counter.start()
    producer = ServiceContainer(Producer, config)
    producer.start()
    try:
        from nameko.standalone.rpc import ServiceRpcProxy

        with ServiceRpcProxy("producer", config) as proxy:
            proxy.emit(300)
        client = MongoClient(store_uri)
        counts = client[f"{db_prefix}counter"].counts
        assert wait_for(lambda: counts.count_documents({}) == 300)
        assert sorted(doc["n"] for doc in counts.find()) == [1] * 300
        outbox = client[f"{db_prefix}producer"].outbox
        assert wait_for(lambda: outbox.count_documents({"sent": False}) == 0)
    finally:
        producer.stop()
        counter.stop()
