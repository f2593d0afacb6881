"""The federation service of two nodes, each a real nameko container on its own broker."""

from __future__ import annotations

import time

import pytest
import requests
from kombu import Connection, Exchange, Producer
from nameko.containers import ServiceContainer
from nameko.standalone.rpc import ServiceRpcProxy
from pymongo import MongoClient

from services.federation.events import EVENT_RECEIVED, EVENT_REJECTED
from services.federation.management import wait_for_links
from services.federation.service import FederationService
from shared.broker import BatchPublisher
from shared.envelope import Envelope
from tests.conftest import AMQP_HOST, MGMT, MGMT_AUTH
from tests.federation.helpers import (
    APPROVED,
    agreement,
    approved,
    config,
    config_dict,
    identity,
    signed_for,
    start_node,
    wait,
)

pytestmark = [pytest.mark.federation, pytest.mark.integration]


@pytest.fixture
def nodes(tmp_path, vhost, second_broker, store_uri, db_prefix):
    mrc, region = identity(tmp_path, "mrc-66023"), identity(tmp_path, "region-06")
    a_uri = f"amqp://guest:guest@{AMQP_HOST}/{vhost}"
    b_vhost = second_broker.add_vhost()
    b_uri = second_broker.amqp_uri(b_vhost)
    a = config_dict(
        mrc,
        [(region, None)],
        [agreement("region-06", "out")],
        amqp_uri=a_uri,
        vhost=vhost,
    )
    b = config_dict(
        region,
        [(mrc, a_uri)],
        [agreement("mrc-66023", "in")],
        role="coordinator",
        amqp_uri=b_uri,
        management_url=second_broker.mgmt_url,
        vhost=b_vhost,
    )
    containers = []
    for name, data, uri in (("a", a, a_uri), ("b", b, b_uri)):
        container, _ = start_node(tmp_path, name, data, uri, store_uri, db_prefix)
        containers.append(container)
    wait_for_links(config(b))
    client = MongoClient(store_uri)
    yield {
        "a_uri": a_uri,
        "b_uri": b_uri,
        "b_db": client[f"{db_prefix}b_federation"],
        "mrc": mrc,
    }
    for container in containers:
        container.stop()
    client.close()


def test_local_event_is_shared_verified_and_redispatched_once_at_the_coordinator(
    nodes,
):
    local = Envelope(
        APPROVED,
        approved(
            [
                {"org_unit": "csd:2466023", "count": 40},
                {"org_unit": "csd:2466032", "count": 2},
                {"org_unit": "csd:2466072", "count": 9},
            ],
            author="x",
        ),
        "mrc-66023",
    )
    other = Envelope("boards.minutes_adopted", {"text": "huis clos"}, "mrc-66023")
    publisher = BatchPublisher(nodes["a_uri"])
    publisher.connect()
    publisher.publish_batch([local.to_dict(), other.to_dict(), local.to_dict()])
    publisher.close()
    db = nodes["b_db"]
    assert wait(lambda: db.received.count_documents({}) == 1)
    assert wait(lambda: db.outbox.count_documents({"sent": True}) == 1)
    (received,) = db.received.find()
    assert received["envelope"]["event_id"] == local.event_id
    assert "author" not in received["envelope"]["payload"]
    cells = received["envelope"]["payload"]["cells"]
    assert [c.get("count") for c in cells] == [40, None, None]
    (out,) = db.outbox.find()
    assert out["envelope"]["event_type"] == EVENT_RECEIVED
    assert out["envelope"]["payload"]["event"]["event_id"] == local.event_id
    time.sleep(1)  # the duplicate and the unagreed event have had time to arrive
    assert db.received.count_documents({}) == 1
    assert db.rejected.count_documents({}) == 0


def test_message_forged_on_the_link_is_rejected_recorded_and_announced(nodes):
    mrc = nodes["mrc"]
    good = Envelope(
        APPROVED, approved([{"org_unit": "csd:2466023", "count": 9}]), mrc.node_id
    )
    signed = signed_for(mrc, good.to_dict(), "region-06")
    signed["payload"]["cells"][0]["count"] = 900
    with Connection(nodes["a_uri"], transport_options={"confirm_publish": True}) as c:
        Producer(c.channel()).publish(
            signed,
            exchange=Exchange(
                "maillage.federation.to.region-06", "topic", durable=True
            ),
            routing_key=APPROVED,
        )
    db = nodes["b_db"]
    assert wait(lambda: db.rejected.count_documents({}) == 1)
    assert db.rejected.find_one()["reason"] == "bad_signature"
    assert db.received.count_documents({}) == 0
    assert wait(
        lambda: (
            db.outbox.count_documents(
                {"envelope.event_type": EVENT_REJECTED, "sent": True}
            )
            == 1
        )
    )


def test_agreements_are_listed_for_the_boards(nodes, second_broker):
    b_config = {"AMQP_URI": nodes["b_uri"]}
    with ServiceRpcProxy("federation", b_config) as proxy:
        (row,) = proxy.agreements()
    assert row["peer"] == "mrc-66023" and row["direction"] == "in"
    assert row["event_types"] == [APPROVED] and row["suppression_threshold"] == 5
    with ServiceRpcProxy("federation", b_config) as proxy:
        status = proxy.status()
    assert status["node_id"] == "region-06" and status["federated"] is True
    (link,) = status["links"]
    assert (link["peer"], link["state"], link["last_seen"]) == (
        "mrc-66023",
        "running",
        None,
    )


def test_node_without_federation_config_starts_shares_nothing_and_refuses_inbox(
    amqp_uri, store_uri, db_prefix
):
    container = ServiceContainer(
        FederationService,
        {
            "AMQP_URI": amqp_uri,
            "MONGODB_URI": store_uri,
            "DB_PREFIX": db_prefix,
            "NODE_ID": "mrc-66023",
            "NODE_CONFIG": "",
        },
    )
    container.start()
    try:
        local = Envelope(
            APPROVED, approved([{"org_unit": "csd:2466023", "count": 40}]), "x"
        )
        publisher = BatchPublisher(amqp_uri)
        publisher.connect()
        publisher.publish_batch([local.to_dict()])
        publisher.close()
        with Connection(amqp_uri, transport_options={"confirm_publish": True}) as c:
            # the queue may not be declared yet by the starting consumer
            c.channel().queue_declare(
                "maillage.federation.inbox", durable=True, auto_delete=False
            )
            Producer(c.channel()).publish(
                local.to_dict(), exchange="", routing_key="maillage.federation.inbox"
            )
        db = MongoClient(store_uri)[f"{db_prefix}federation"]
        assert wait(lambda: db.rejected.count_documents({}) == 1)
        assert db.rejected.find_one()["reason"] == "unknown_peer"
        with ServiceRpcProxy("federation", {"AMQP_URI": amqp_uri}) as proxy:
            assert proxy.agreements() == [] and proxy.links() == []
        vhost = amqp_uri.rsplit("/", 1)[1]
        exchanges = requests.get(
            f"{MGMT}/exchanges/{vhost}", auth=MGMT_AUTH, timeout=10
        ).json()
        assert not [
            e for e in exchanges if e["name"].startswith("maillage.federation.to")
        ]
    finally:
        container.stop()
