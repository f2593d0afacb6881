"""Sent outbox rows older than the retention are deleted by the relay; unsent ones never."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from kombu import Connection, Queue
from nameko.containers import ServiceContainer
from pymongo import MongoClient

from shared.broker import events_exchange
from shared.envelope import Envelope, event_id_floor, new_event_id
from shared.outbox import Outbox
from shared.store import Store

pytestmark = pytest.mark.integration


def _row(days_ago: float, sent: bool, i: int) -> dict:
    made = datetime.now(UTC) - timedelta(days=days_ago)
    event_id = new_event_id(int(made.timestamp() * 1000))
    envelope = Envelope(
        event_type="producer.thing_made",
        payload={"i": i},
        origin_node="local",
        event_id=event_id,
    )
    return {
        "_id": event_id,
        "envelope": envelope.to_dict(),
        "sent": sent,
        "created_at": made,
        "sent_at": made if sent else None,
    }


class Relay:  # only the outbox relay of a producer
    name = "producer"
    store = Store()
    outbox = Outbox()


def _relay(amqp_uri, store_uri, db_prefix, retention_days):
    config = {
        "AMQP_URI": amqp_uri,
        "MONGODB_URI": store_uri,
        "DB_PREFIX": db_prefix,
        "OUTBOX_RETENTION_DAYS": retention_days,
    }
    return ServiceContainer(Relay, config)


def test_event_id_floor_orders_ids_by_the_moment_they_were_made():
    moment = datetime(2026, 11, 23, 14, 2, 11, 123000, tzinfo=UTC)
    ms = int(moment.timestamp() * 1000)
    floor = event_id_floor(moment)
    assert (
        new_event_id(ms - 1)
        < floor
        <= new_event_id(ms)
        < event_id_floor(moment + timedelta(milliseconds=1))
    )


def test_the_relay_deletes_sent_rows_past_retention_and_keeps_the_rest(
    amqp_uri, store_uri, db_prefix
):
    outbox = MongoClient(store_uri)[f"{db_prefix}producer"][Store.OUTBOX]
    rows = {
        "old_sent": [_row(10, True, i) for i in range(3)],
        "old_unsent": [_row(9, False, 100)],
        "recent_sent": [_row(2, True, i) for i in range(200, 202)],
    }
    outbox.insert_many([row for group in rows.values() for row in group])
    published = Queue(
        "retention.watch", events_exchange(), routing_key="producer.#", durable=True
    )
    with Connection(amqp_uri) as conn:
        published(conn.default_channel).declare()

    relay = _relay(amqp_uri, store_uri, db_prefix, retention_days=7)
    relay.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ids = {doc["_id"] for doc in outbox.find({}, {"_id": 1})}
            if not ids & {row["_id"] for row in rows["old_sent"]}:
                break
            time.sleep(0.2)
    finally:
        relay.stop()
    left = {doc["_id"]: doc for doc in outbox.find()}
    assert not set(left) & {row["_id"] for row in rows["old_sent"]}
    recent = {row["_id"] for row in rows["recent_sent"]}
    assert recent <= set(left), "rows inside the retention were deleted"
    # The old unsent row was published before the purge could take it (it is
    # deleted once sent, being past the retention): it reached the broker.
    with Connection(amqp_uri) as conn:
        queue = published(conn.default_channel)
        bodies = []
        while (message := queue.get(no_ack=True)) is not None:
            bodies.append(message.decode())
    assert [body["payload"]["i"] for body in bodies] == [100]


def test_a_malformed_retention_stops_the_service_with_a_clear_message(
    amqp_uri, store_uri, db_prefix
):
    container = _relay(amqp_uri, store_uri, db_prefix, retention_days="a week")
    with pytest.raises(Exception, match="OUTBOX_RETENTION_DAYS"):
        container.start()
    container.kill()
