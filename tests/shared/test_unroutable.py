"""Events no queue is bound for are kept in ``maillage.unroutable``, and counted."""

from __future__ import annotations

import json

import pytest
from kombu import Connection, Exchange, Queue
from nameko.containers import ServiceContainer
from prometheus_client import REGISTRY
from pymongo import MongoClient

from shared.broker import UNROUTABLE, declare_unroutable
from shared.envelope import Envelope
from shared.outbox import Outbox, outbox_row
from shared.store import Store
from tests.conftest import MGMT
from tests.shared.test_outbox_consumer import _config, wait_for

pytestmark = pytest.mark.integration

NOBODY_READS = "producer.thing_nobody_reads"
SOMEBODY_READS = "producer.thing_somebody_reads"


class Relay:
    name = "unroutable_relay"
    store = Store()
    outbox = Outbox(unroutable_interval=0.2)


def _unroutable_metric() -> float | None:
    return REGISTRY.get_sample_value(
        "maillage_events_unroutable", {"service": Relay.name}
    )


def test_an_event_no_queue_is_bound_for_is_kept_in_the_unroutable_queue_and_counted(
    amqp_uri, store_uri, db_prefix
):
    old_style = Exchange("maillage.events", type="topic", durable=True)
    with Connection(amqp_uri) as conn:
        # An existing node: the exchange was declared, without any alternate
        # exchange, long before this release; one queue reads one event type.
        old_style(conn.default_channel).declare()
        Queue("reader", exchange=old_style, routing_key=SOMEBODY_READS, durable=True)(
            conn.default_channel
        ).declare()
    assert declare_unroutable(amqp_uri, MGMT) is True
    with Connection(amqp_uri) as conn:  # old clients still declare it as before
        old_style(conn.default_channel).declare()

    container = ServiceContainer(Relay, _config(amqp_uri, store_uri, db_prefix))
    container.start()
    lost = Envelope(NOBODY_READS, {"i": 1}, "test-node")
    read = Envelope(SOMEBODY_READS, {"i": 2}, "test-node")
    outbox = MongoClient(store_uri)[f"{db_prefix}{Relay.name}"][Store.OUTBOX]
    try:
        outbox.insert_many([outbox_row([lost]), outbox_row([read])])
        assert wait_for(lambda: outbox.count_documents({"sent": False}) == 0)
        assert wait_for(lambda: _unroutable_metric() == 1, timeout=20), (
            _unroutable_metric()
        )
    finally:
        container.stop()
    with Connection(amqp_uri) as conn:
        kept = Queue(UNROUTABLE, channel=conn.default_channel).get(no_ack=True)
        assert kept is not None
        assert kept.properties["message_id"] == lost.event_id
        assert json.loads(kept.body)["event_type"] == NOBODY_READS
        assert Queue(UNROUTABLE, channel=conn.default_channel).get() is None
        routed = Queue("reader", channel=conn.default_channel).get(no_ack=True)
        assert routed.properties["message_id"] == read.event_id


def test_without_the_management_api_the_unroutable_queue_exists_but_no_policy_is_set(
    amqp_uri, vhost, caplog
):
    from tests.conftest import BROKER

    assert declare_unroutable(amqp_uri, "http://127.0.0.1:9/api") is False
    assert "policy maillage-unroutable not set" in caplog.text
    assert UNROUTABLE in {q["name"] for q in BROKER.get("queues", vhost)}
    assert not BROKER.get("policies", vhost)
