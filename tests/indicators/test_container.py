"""The indicators service in a real container: real broker (own vhost), real store."""

from __future__ import annotations

import json
import time

import pytest
import requests
from kombu import Connection, Queue
from nameko.containers import ServiceContainer
from nameko.standalone.rpc import ServiceRpcProxy
from pymongo import MongoClient

from services.indicators import events
from services.indicators.geo import quebec_units
from services.indicators.repository import IndicatorsRepository
from services.indicators.service import IndicatorsService
from shared.broker import BatchPublisher, events_exchange
from shared.envelope import Envelope
from tests.conftest import MGMT, MGMT_AUTH

pytestmark = pytest.mark.integration


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.fixture
def node(amqp_uri, store_uri, db_prefix, data_dir):
    config = {
        "AMQP_URI": amqp_uri,
        "MONGODB_URI": store_uri,
        "DB_PREFIX": db_prefix,
        "NODE_ID": "mrc-2437",
        "NODE_ORG_UNIT": "2437",
    }
    client = MongoClient(store_uri, tz_aware=True)
    db = client[f"{db_prefix}indicators"]
    IndicatorsRepository(db).save_org_units(quebec_units(data_dir / "quebec_geo"))
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        exchange = events_exchange()
        exchange(channel).declare()
        Queue("listener", exchange=exchange, routing_key="indicators.#")(
            channel
        ).declare()
    container = ServiceContainer(IndicatorsService, config)
    container.start()
    try:
        with ServiceRpcProxy("indicators", config) as proxy:
            yield proxy, db
    finally:
        container.stop()
        client.drop_database(db.name)
        client.close()


def queue_ready(vhost: str, name: str) -> bool:
    resp = requests.get(f"{MGMT}/queues/{vhost}/{name}", auth=MGMT_AUTH, timeout=5)
    return resp.status_code == 200


def test_events_from_the_broker_delivered_twice_count_once(node, amqp_uri, vhost):
    proxy, db = node
    assert wait_for(lambda: queue_ready(vhost, "indicators.on_waiting_list_changed"))
    payload = {
        "service_id": "6f1c2d9e-0000-4000-8000-000000000001",
        "organization_id": "6f1c2d9e-0000-4000-8000-000000000002",
        "mrc_codes": ["2437"],
        "municipality_codes": ["2437067"],
        "waiting_list_open": True,
        "waiting_list_length": 14,
        "typical_wait_days": 21,
        "capacity": 20,
        "updated_at": "2026-11-02T09:00:00+00:00",
    }
    event = Envelope(events.WAITING_LIST_CHANGED, payload, origin_node="mrc-2437")
    publisher = BatchPublisher(amqp_uri)
    try:
        publisher.publish_batch([event.to_dict(), event.to_dict()])
    finally:
        publisher.close()
    assert wait_for(lambda: db.processed_events.count_documents({}) == 1)
    time.sleep(0.3)
    query = {
        "indicator": "waiting_people",
        "org_unit": "csd:2437067",
        "period": "202611",
        "public": False,
    }
    assert proxy.evaluate(query)["value"] == 14
    assert proxy.evaluate(query | {"org_unit": "region:04"})["value"] == 14


def test_approval_publishes_suppressed_counts_through_the_outbox(node, amqp_uri):
    proxy, _ = node
    for unit, value in [("csd:2437067", 41), ("csd:2437220", 2), ("csd:2437210", 9)]:
        proxy.enter_value(
            {
                "data_element": "advocacy_actions",
                "org_unit": unit,
                "period": "202610",
                "value": value,
            }
        )
    proxy.approve({"org_unit": "cd:2437", "period": "2026Q4", "by": "coordination"})
    found = []
    with Connection(amqp_uri) as conn:
        queue = Queue("listener")(conn.channel())
        deadline = time.monotonic() + 20
        while not found and time.monotonic() < deadline:
            message = queue.get(no_ack=True)
            if message is None:
                time.sleep(0.05)
                continue
            found.append(json.loads(message.body))
    assert found and found[0]["event_type"] == events.VALUES_APPROVED
    cells = {c["org_unit"]: c["count"] for c in found[0]["payload"]["cells"]}
    assert cells["csd:2437220"] is None
    hidden_parts = [k for k, v in cells.items() if v is None and k != "cd:2437"]
    assert len(hidden_parts) >= 2, "a lone hidden part is the total minus the others"
