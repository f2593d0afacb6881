"""A three-node RabbitMQ cluster with quorum queues loses one node to SIGKILL
mid-stream: every event arrives, none has two effects, and clients move to a
surviving node by themselves (``AMQP_URI`` lists every node, ``;``-separated)."""

from __future__ import annotations

import threading
import time

import pytest
from nameko.containers import ServiceContainer
from nameko.standalone.rpc import ServiceRpcProxy
from pymongo import MongoClient

from services.federation.localbroker import LocalCluster
from shared.outbox import Outbox
from shared.store import Store
from tests.shared.services import Counter
from tests.shared.test_outbox_consumer import _config, _outbox_rows, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    cluster = LocalCluster(tmp_path_factory.mktemp("rabbit-cluster"), size=3)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


class Relay:  # only the outbox relay of a producer
    name = "producer"
    store = Store()
    outbox = Outbox()


def test_ten_thousand_events_survive_the_sigkill_of_the_queue_leader_node_each_applied_once(
    cluster, store_uri, db_prefix
):
    vhost = cluster.add_vhost()
    config = dict(
        _config(cluster.amqp_uri(vhost), store_uri, db_prefix), QUEUE_TYPE="quorum"
    )
    total, chunk = 10_000, 250
    client = MongoClient(store_uri)
    outbox = client[f"{db_prefix}producer"][Store.OUTBOX]
    counts = client[f"{db_prefix}counter"].counts

    relay = ServiceContainer(Relay, config)
    counter = ServiceContainer(Counter, config)
    relay.start()
    counter.start()

    def produce():
        for start in range(0, total, chunk):
            outbox.insert_many(_outbox_rows(start, chunk))
            time.sleep(0.05)

    producer_thread = threading.Thread(target=produce)
    try:
        queue = cluster.admin().get("queues", vhost, "counter.count")
        assert queue["type"] == "quorum"
        assert len(queue["members"]) == 3
        producer_thread.start()
        assert wait_for(lambda: counts.count_documents({}) >= total * 0.2, timeout=120)
        leader = cluster.by_name(
            cluster.admin().get("queues", vhost, "counter.count")["leader"]
        )
        leader.kill()  # mid-stream: some events confirmed, some in flight, some unsent
        producer_thread.join()
        assert wait_for(
            lambda: counts.count_documents({}) == total, timeout=300, interval=1
        ), f"{counts.count_documents({})} of {total} applied"
        assert wait_for(
            lambda: outbox.count_documents({"sent": False}) == 0, timeout=60
        )
        applied = [doc["n"] for doc in counts.find({}, {"n": 1})]
        assert len(applied) == total
        assert set(applied) == {1}, "an effect was applied twice"
        assert (
            client[f"{db_prefix}counter"][Store.PROCESSED].count_documents({}) == total
        )
        # The queue has a new leader on a surviving node, and nameko's RPC (its
        # consumer reconnected through the same URI list) answers.
        after = cluster.admin().get("queues", vhost, "counter.count")
        assert after["leader"] != leader.node
        with ServiceRpcProxy("counter", config) as proxy:
            assert proxy.health()["service"] == "counter"
    finally:
        producer_thread.join()
        counter.stop()
        relay.stop()
