"""A relay that stops cleanly hands its lease over at once."""

from __future__ import annotations

import pytest
from nameko.containers import ServiceContainer
from pymongo import MongoClient

from shared.envelope import utcnow
from shared.outbox import LEASES, RELAY_LEASE, Outbox
from shared.store import Store
from tests.shared.test_outbox_consumer import _config, wait_for

pytestmark = pytest.mark.integration


class Relay:
    name = "lease_relay"
    store = Store()
    outbox = Outbox()


def test_a_relay_stopped_cleanly_releases_its_lease_for_the_next_instance(
    amqp_uri, store_uri, db_prefix
):
    config = dict(_config(amqp_uri, store_uri, db_prefix), RELAY_LEASE_SECONDS=600)
    leases = MongoClient(store_uri)[f"{db_prefix}{Relay.name}"][LEASES]
    first = ServiceContainer(Relay, config)
    first.start()
    assert wait_for(lambda: leases.find_one({"_id": RELAY_LEASE}) is not None)
    held_by = leases.find_one({"_id": RELAY_LEASE})["holder"]
    first.stop()
    lease = leases.find_one({"_id": RELAY_LEASE})
    assert lease["holder"] == held_by
    assert lease["expires_at"].replace(tzinfo=None) < utcnow().replace(tzinfo=None)
    second = ServiceContainer(Relay, config)
    second.start()
    try:  # well before the 600 s a dead holder's lease would last
        assert wait_for(
            lambda: leases.find_one({"_id": RELAY_LEASE})["holder"] != held_by,
            timeout=10,
        )
    finally:
        second.stop()
