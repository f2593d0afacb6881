"""The one-ballot-per-person index fails closed (issue 13, hole 8).

The unique index on ``participations(process_id, person_key)`` is what refuses a
second ballot from one person. If it cannot be built (here: duplicate rows
planted in the store, as a bug or a restore could leave), the participation
service refuses to start, with a message naming the index and the reason,
instead of running without it and accepting double votes.
"""

from __future__ import annotations

import pymongo
import pytest
from nameko.containers import ServiceContainer

from services.participation.dependencies import IndexNotBuilt
from services.participation.service import ParticipationService

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("collection", ["participations", "supports", "registry"])
def test_duplicate_rows_under_a_unique_index_stop_the_service_from_starting(
    amqp_uri: str, store_uri: str, db_prefix: str, tmp_path, collection: str
) -> None:
    client: pymongo.MongoClient = pymongo.MongoClient(store_uri)
    db = client[f"{db_prefix}participation"]
    owner = "proposal_id" if collection == "supports" else "process_id"
    twice = {owner: "p1", "person_key": "k" * 64}
    db[collection].insert_many([dict(twice), dict(twice)])
    config = {
        "AMQP_URI": amqp_uri,
        "MONGODB_URI": store_uri,
        "DB_PREFIX": db_prefix,
        "KEYS_DIR": str(tmp_path),
    }
    container = ServiceContainer(ParticipationService, config)
    try:
        with pytest.raises(IndexNotBuilt) as info:
            container.start()
        for lang in ("fr", "en"):
            message = info.value.message(lang)
            assert f"{collection}({owner}, person_key)" in message, message
        assert "dup" in info.value.message("en").lower()
        assert "ne démarre pas" in info.value.message("fr")
        assert "does not start" in info.value.message("en")
    finally:
        container.kill()
        client.drop_database(db.name)
        client.close()


def test_with_clean_rows_the_service_starts_with_its_unique_indexes(
    amqp_uri: str, store_uri: str, db_prefix: str, tmp_path
) -> None:
    config = {
        "AMQP_URI": amqp_uri,
        "MONGODB_URI": store_uri,
        "DB_PREFIX": db_prefix,
        "KEYS_DIR": str(tmp_path),
    }
    container = ServiceContainer(ParticipationService, config)
    container.start()
    client: pymongo.MongoClient = pymongo.MongoClient(store_uri)
    try:
        indexes = client[f"{db_prefix}participation"].participations.index_information()
        assert any(
            spec.get("unique")
            and [k for k, _ in spec["key"]] == ["process_id", "person_key"]
            for spec in indexes.values()
        )
    finally:
        container.stop()
        client.drop_database(f"{db_prefix}participation")
        client.close()
