"""Group commit: concurrent ``run_transaction`` calls of one process share a commit,
and each caller still gets its own outcome, on the real store."""

from __future__ import annotations

import eventlet
import pytest
from pymongo import MongoClient
from pymongo.errors import DuplicateKeyError

from shared.errors import Unavailable
from shared.localstore import free_port
from shared.store import StoreHandle, tx_state

pytestmark = pytest.mark.integration


@pytest.fixture
def handle(store_uri, db_prefix):
    client = MongoClient(store_uri)
    db = client[f"{db_prefix}group"]
    db.notes.insert_one({"_id": "seed"})  # the collection exists before any transaction
    yield StoreHandle(client, db)
    client.close()


def _burst(handle, bodies):
    """Start one call that holds its transaction open, then the others behind it."""
    outcomes = {}

    def call(key, body):
        try:
            outcomes[key] = ("ok", handle.run_transaction(body))
        except Exception as exc:  # noqa: BLE001 - recorded for the assertions
            outcomes[key] = ("error", exc)

    def slow(session):
        eventlet.sleep(0.3)  # the others queue up meanwhile
        handle.db.notes.insert_one({"_id": "slow"}, session=session)
        return tx_state(session)

    threads = [eventlet.spawn(call, "slow", slow)]
    eventlet.sleep(0.05)
    threads += [eventlet.spawn(call, key, body) for key, body in bodies.items()]
    for thread in threads:
        thread.wait()
    return outcomes


def test_calls_arriving_during_a_commit_share_the_next_one_and_each_gets_its_result(
    handle,
):
    def insert(key):
        def body(session):
            handle.db.notes.insert_one({"_id": key}, session=session)
            return key, tx_state(session)

        return body

    keys = [f"n{i}" for i in range(6)]
    outcomes = _burst(handle, {key: insert(key) for key in keys})

    assert all(outcomes[key][0] == "ok" for key in keys)
    assert [outcomes[key][1][0] for key in keys] == keys
    # the six waited behind the slow one and then committed together
    states = [outcomes[key][1][1] for key in keys]
    assert all(state is states[0] for state in states)
    assert outcomes["slow"][1] is not states[0]
    stored = sorted(doc["_id"] for doc in handle.db.notes.find())
    assert stored == sorted(["seed", "slow", *keys])


def test_a_refused_call_fails_alone_and_the_others_are_written_once(handle):
    def insert(key):
        def body(session):
            handle.db.notes.insert_one({"_id": key}, session=session)
            return key

        return body

    def refuse(session):
        handle.db.notes.insert_one({"_id": "refused"}, session=session)
        raise ValueError("phase closed")

    bodies = {"a": insert("a"), "bad": refuse, "b": insert("b")}
    outcomes = _burst(handle, bodies)

    assert outcomes["a"] == ("ok", "a") and outcomes["b"] == ("ok", "b")
    kind, error = outcomes["bad"]
    assert kind == "error" and isinstance(error, ValueError)
    stored = sorted(doc["_id"] for doc in handle.db.notes.find())
    assert stored == [
        "a",
        "b",
        "seed",
        "slow",
    ]  # nothing of the refused call, no doubles


def test_a_later_body_sees_the_earlier_ones_as_if_run_one_after_the_other(handle):
    def vote(key):
        def body(session):
            handle.db.notes.insert_one({"_id": "vote-of-ana"}, session=session)
            return key

        return body

    outcomes = _burst(handle, {"first": vote("first"), "second": vote("second")})

    assert outcomes["first"] == ("ok", "first")
    kind, error = outcomes["second"]
    assert kind == "error" and isinstance(error, DuplicateKeyError)
    assert handle.db.notes.count_documents({"_id": "vote-of-ana"}) == 1


def test_a_body_that_opens_a_transaction_itself_does_not_wait_for_itself(handle):
    def outer(session):
        inner = handle.run_transaction(
            lambda s: (
                handle.db.notes.insert_one({"_id": "inner"}, session=s) and "inner"
            )
        )
        handle.db.notes.insert_one({"_id": "outer"}, session=session)
        return inner

    with eventlet.Timeout(20):
        outcomes = _burst(handle, {"outer": outer})
    assert outcomes["outer"] == ("ok", "inner")
    assert handle.db.notes.count_documents({"_id": {"$in": ["inner", "outer"]}}) == 2


def test_with_the_store_away_every_caller_hears_it_is_unavailable():
    client = MongoClient(
        f"mongodb://127.0.0.1:{free_port()}/?directConnection=true",
        serverSelectionTimeoutMS=300,
    )
    handle = StoreHandle(client, client.group)
    outcomes = {}

    def call(key):
        try:
            handle.run_transaction(
                lambda s: client.group.notes.insert_one({}, session=s)
            )
        except Exception as exc:  # noqa: BLE001
            outcomes[key] = exc

    threads = [eventlet.spawn(call, i) for i in range(4)]
    for thread in threads:
        thread.wait()
    assert len(outcomes) == 4
    assert all(isinstance(exc, Unavailable) for exc in outcomes.values())
    client.close()
