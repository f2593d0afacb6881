"""``maillage node upgrade`` on a store written in the previous release's shapes.

The shape change is a real one: commit 904a9fa (the chair's casting vote) added
``charter.casting_vote``, ``motions[].decided_by_casting_vote`` and
``resolutions.decided_by_casting_vote`` to what the boards service stores; the
release before it wrote none of them. Commit fcb19d1 added ``eligible_count``
to participation processes.
"""

from __future__ import annotations

import pytest
from pymongo import MongoClient

from services.boards.domain import AgendaItem, Choice
from services.boards.repository import MongoRepository
from shared.cli import main
from shared.migrations import RECORD, schema_version, upgrade
from tests.boards.factories import full_board, open_meeting

pytestmark = pytest.mark.integration
RESOLUTIONS = 12


class Crash(Exception):
    pass


def _previous_release_store(store_uri: str, prefix: str) -> MongoClient:
    """A board, its meeting with motions, 12 resolutions and two processes, as
    the release before 904a9fa/fcb19d1 stored them."""
    client = MongoClient(store_uri, tz_aware=True)
    db = client[f"{prefix}boards"]
    board = full_board()
    meeting = open_meeting(board, ["alice", "bruno", "chloe", "denis"])
    resolutions = []
    for n in range(1, RESOLUTIONS + 1):
        meeting.add_item(AgendaItem(f"i{n}", f"Point {n}"))
        motion = meeting.move(board, f"i{n}", "Adopter", "alice", "bruno")
        meeting.cast_vote(board, motion.motion_id, "alice", Choice.FOR)
        resolutions.append(meeting.close_vote(board, motion.motion_id)[1])
    repo = MongoRepository(db, None)
    repo.add_board(board)
    repo.add_meeting(meeting)
    for resolution in resolutions:
        repo.add_resolution(resolution)
    db.boards.update_many({}, {"$unset": {"charter.casting_vote": ""}})
    db.resolutions.update_many({}, {"$unset": {"decided_by_casting_vote": ""}})
    for doc in db.meetings.find():
        motions = [
            {k: v for k, v in m.items() if k != "decided_by_casting_vote"}
            for m in doc["motions"]
        ]
        db.meetings.update_one({"_id": doc["_id"]}, {"$set": {"motions": motions}})
    client[f"{prefix}participation"].processes.insert_many(
        [{"_id": "p1", "title": "Budget 2027"}, {"_id": "p2", "title": "Parcs"}]
    )
    return client


def _dump(client: MongoClient, prefix: str) -> dict:
    return {
        (db, name): list(client[f"{prefix}{db}"][name].find().sort("_id", 1))
        for db in ("boards", "participation")
        for name in client[f"{prefix}{db}"].list_collection_names()
        if name != RECORD
    }


def _assert_current_shapes(client: MongoClient, prefix: str) -> None:
    db = client[f"{prefix}boards"]
    assert [d["charter"]["casting_vote"] for d in db.boards.find()] == ["none"]
    motions = [m for d in db.meetings.find() for m in d["motions"]]
    assert len(motions) == RESOLUTIONS
    assert {m["decided_by_casting_vote"] for m in motions} == {False}
    resolutions = list(db.resolutions.find())
    assert len(resolutions) == RESOLUTIONS
    assert {r["decided_by_casting_vote"] for r in resolutions} == {False}
    processes = client[f"{prefix}participation"].processes.find()
    assert [p.get("eligible_count", "missing") for p in processes] == [None, None]
    # The service reads them as before.
    repo = MongoRepository(db, None)
    (board_id,) = repo.board_ids()
    assert len(repo.resolutions(board_id)) == RESOLUTIONS


def test_upgrade_brings_the_previous_release_shapes_forward_and_records_it(
    store_uri, db_prefix
):
    client = _previous_release_store(store_uri, db_prefix)
    assert schema_version(client[f"{db_prefix}boards"]) == 1
    results = upgrade(store_uri, db_prefix=db_prefix, batch_size=5)
    assert [(r.service, r.version, r.state) for r in results] == [
        ("boards", 2, "done"),
        ("participation", 2, "done"),
    ]
    assert results[0].changed == 1 + 1 + RESOLUTIONS
    _assert_current_shapes(client, db_prefix)
    assert schema_version(client[f"{db_prefix}boards"]) == 2
    record = client[f"{db_prefix}boards"][RECORD].find_one({"_id": 2})
    assert record["steps"]["resolutions"] == {
        "after": max(r["_id"] for r in client[f"{db_prefix}boards"].resolutions.find()),
        "changed": RESOLUTIONS,
        "done": True,
    }


def test_a_second_upgrade_changes_nothing(store_uri, db_prefix):
    client = _previous_release_store(store_uri, db_prefix)
    upgrade(store_uri, db_prefix=db_prefix, batch_size=5)
    before = _dump(client, db_prefix)
    assert upgrade(store_uri, db_prefix=db_prefix, batch_size=5) == []
    assert _dump(client, db_prefix) == before


def test_an_upgrade_interrupted_mid_way_resumes_after_its_last_batch(
    store_uri, db_prefix
):
    client = _previous_release_store(store_uri, db_prefix)
    boards_db = client[f"{db_prefix}boards"]
    batches = []

    def crash_after_second_resolution_batch(migration, collection, changed):
        if collection == "resolutions":
            batches.append(changed)
            if len(batches) == 2:
                raise Crash

    with pytest.raises(Crash):
        upgrade(
            store_uri,
            db_prefix=db_prefix,
            batch_size=5,
            after_batch=crash_after_second_resolution_batch,
        )
    # Half-way: ten resolutions migrated, two not, the version not reached.
    migrated = boards_db.resolutions.count_documents(
        {"decided_by_casting_vote": {"$exists": True}}
    )
    assert migrated == 10
    assert schema_version(boards_db) == 1
    assert boards_db[RECORD].find_one({"_id": 2})["state"] == "running"

    resumed = []
    results = upgrade(
        store_uri,
        db_prefix=db_prefix,
        batch_size=5,
        after_batch=lambda m, collection, n: resumed.append((collection, n)),
    )
    assert (results[0].service, results[0].changed) == ("boards", 2)  # the rest only
    # Boards and meetings were done before the crash; resolutions go on from
    # the 11th: one batch, not the three of a start from scratch.
    assert [c for c, _ in resumed if c != "processes"] == ["resolutions"]
    assert (
        boards_db[RECORD].find_one({"_id": 2})["steps"]["resolutions"]["changed"]
        == RESOLUTIONS
    )
    _assert_current_shapes(client, db_prefix)
    assert schema_version(boards_db) == 2


def test_cli_upgrade_says_what_it_did_then_up_to_date(store_uri, db_prefix, capsys):
    _previous_release_store(store_uri, db_prefix)
    args = ["node", "upgrade", "--store-uri", store_uri, "--db-prefix", db_prefix]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "boards: v2 done" in out and "participation: v2 done" in out
    assert main(args) == 0
    assert "up to date" in capsys.readouterr().out
