"""The replay journal keeps FEDERATION_JOURNAL_DAYS of agreed events, no more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from nameko.containers import ServiceContainer
from nameko.testing.services import entrypoint_hook
from pymongo import MongoClient

from services.federation.repository import JOURNAL
from services.federation.service import FederationService
from shared.envelope import new_event_id

pytestmark = pytest.mark.integration


def _entry(days_ago: float) -> dict:
    made = datetime.now(UTC) - timedelta(days=days_ago)
    return {"_id": new_event_id(int(made.timestamp() * 1000)), "event_type": "x.y"}


def _service(amqp_uri, store_uri, db_prefix, days):
    config = {
        "AMQP_URI": amqp_uri,
        "MONGODB_URI": store_uri,
        "DB_PREFIX": db_prefix,
        "NODE_ID": "mrc-66023",
        "FEDERATION_JOURNAL_DAYS": days,
    }
    return ServiceContainer(FederationService, config)


def test_the_journal_forgets_what_is_older_than_its_retention(
    amqp_uri, store_uri, db_prefix
):
    journal = MongoClient(store_uri)[f"{db_prefix}federation"][JOURNAL]
    old = [_entry(31), _entry(45), _entry(400)]
    kept = [_entry(29), _entry(1), _entry(0)]
    journal.insert_many(old + kept)
    container = _service(amqp_uri, store_uri, db_prefix, 30)
    container.start()
    try:
        with entrypoint_hook(container, "prune_journal") as prune:
            assert prune() == 3
            assert prune() == 0  # nothing more to forget
    finally:
        container.stop()
    assert sorted(d["_id"] for d in journal.find()) == sorted(e["_id"] for e in kept)


def test_a_malformed_journal_retention_stops_the_service_naming_it(
    amqp_uri, store_uri, db_prefix
):
    container = _service(amqp_uri, store_uri, db_prefix, "a year")
    with pytest.raises(Exception, match="FEDERATION_JOURNAL_DAYS"):
        container.start()
    container.kill()
