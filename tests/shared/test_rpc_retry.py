"""A call whose transaction loses a write conflict is re-run, not failed."""

from __future__ import annotations

import eventlet
import pytest
from nameko.containers import ServiceContainer
from nameko.standalone.rpc import ServiceRpcProxy
from pymongo import MongoClient

from shared.rpc import rpc
from shared.store import Store

pytestmark = pytest.mark.integration


class Tally:
    name = "tally_counter"
    store = Store()

    @rpc
    def add(self, n: int) -> int:
        with self.store.transaction() as session:
            doc = self.store.db.tally.find_one({"_id": "total"}, session=session)
            eventlet.sleep(0.01)  # widen the window for concurrent writers
            value = (doc or {}).get("value", 0) + n
            self.store.db.tally.update_one(
                {"_id": "total"},
                {"$set": {"value": value}},
                upsert=True,
                session=session,
            )
            return value


def test_concurrent_calls_that_conflict_are_retried_and_none_is_lost(
    amqp_uri, store_uri, db_prefix
):
    config = {"AMQP_URI": amqp_uri, "MONGODB_URI": store_uri, "DB_PREFIX": db_prefix}
    MongoClient(store_uri)[f"{db_prefix}tally_counter"].tally.insert_one(
        {"_id": "total", "value": 0}
    )
    container = ServiceContainer(Tally, config)
    container.start()
    try:
        with ServiceRpcProxy("tally_counter", config) as proxy:
            replies = [proxy.add.call_async(1) for _ in range(20)]
            results = [reply.result() for reply in replies]
        assert sorted(results) == list(range(1, 21))  # serialisable outcome, no error
        total = MongoClient(store_uri)[f"{db_prefix}tally_counter"].tally.find_one()
        assert total["value"] == 20
    finally:
        container.stop()
