"""The offerings service in a real nameko container on a throwaway vhost: RPC
over RabbitMQ, the outbox relay publishing to the events exchange."""

from __future__ import annotations

import time

import pytest
from kombu import Connection, Exchange, Queue
from nameko.containers import ServiceContainer
from nameko.standalone.rpc import ServiceRpcProxy

from services.offerings.events import SERVICE_PUBLISHED, WAITING_LIST_CHANGED
from services.offerings.service import OfferingsService

pytestmark = pytest.mark.integration


def test_published_service_events_reach_the_broker(
    amqp_uri, store_uri, db_prefix, data_dir
):
    config = {
        "AMQP_URI": amqp_uri,
        "MONGODB_URI": store_uri,
        "DB_PREFIX": db_prefix,
        "QUEBEC_GEO_DIR": str(data_dir / "quebec_geo"),
    }
    exchange = Exchange("maillage.events", type="topic", durable=True)
    queue = Queue(
        "probe",
        exchange=exchange,
        routing_key="offerings.#",
        durable=False,
        auto_delete=False,
    )
    with Connection(amqp_uri) as conn:
        queue(conn.channel()).declare()
    container = ServiceContainer(OfferingsService, config)
    container.start()
    try:
        with ServiceRpcProxy("offerings", config) as offerings:
            org = offerings.create_organization(
                {"name": "CAB", "description": "Entraide"}
            )
            place = offerings.create_location(
                {"name": "Local", "mrc_code": "2466", "municipality_code": "2466023"}
            )
            created = offerings.create_service(
                {
                    "organization_id": org["id"],
                    "name": "Popote roulante",
                    "location_ids": [place["id"]],
                    "waiting_list_open": False,
                }
            )
            offerings.publish_organization(org["id"])
            offerings.publish_service(created["id"], user={"id": "ana"})
            page = offerings.search({"search": "popote", "mrc": "2466"})
            assert [s["id"] for s in page["contents"]] == [created["id"]]
        received: list[dict] = []
        deadline = time.monotonic() + 30
        with Connection(amqp_uri) as conn:
            simple = conn.SimpleQueue(queue)
            while len(received) < 2 and time.monotonic() < deadline:
                try:
                    message = simple.get(timeout=1)
                except simple.Empty:
                    continue
                received.append(message.payload)
                message.ack()
            simple.close()
        assert [m["event_type"] for m in received] == [
            SERVICE_PUBLISHED,
            WAITING_LIST_CHANGED,
        ]
        assert received[0]["payload"]["service_id"] == created["id"]
        assert received[0]["payload"]["mrc_codes"] == ["2466"]
    finally:
        container.stop()
