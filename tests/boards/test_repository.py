"""One contract for the boards repository, run against the fake and the real store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta

import pytest
from pymongo import MongoClient

from services.boards.domain import (
    AgendaItem,
    Choice,
    Meeting,
    MeetingKind,
    MeetingStatus,
)
from services.boards.repository import (
    INDEXES,
    AlreadyExists,
    BoardsRepository,
    Missing,
    MongoRepository,
    StaleWrite,
)
from tests.boards.factories import MEETING_AT, full_board, open_meeting
from tests.boards.fakes import InMemoryRepository

Unit = AbstractContextManager[BoardsRepository]


@pytest.fixture(params=["fake", "store"])
def unit(request, db_prefix) -> Iterator:
    """A factory of units of work: each ``with unit() as repo`` is one transaction."""
    if request.param == "fake":
        fake = InMemoryRepository()

        @contextmanager
        def fake_unit() -> Iterator[BoardsRepository]:
            yield fake

        yield fake_unit
        return
    client: MongoClient = MongoClient(
        request.getfixturevalue("store_uri"), tz_aware=True
    )
    db = client[f"{db_prefix}boards"]
    for collection, models in INDEXES.items():
        db[collection].create_indexes(models)

    @contextmanager
    def store_unit() -> Iterator[BoardsRepository]:
        with client.start_session() as session, session.start_transaction():
            yield MongoRepository(db, session)

    yield store_unit
    client.drop_database(db.name)
    client.close()


def test_board_saved_is_the_board_read_back(unit):
    board = full_board()
    with unit() as repo:
        repo.add_board(board)
    with unit() as repo:
        again = repo.board(board.board_id)
        assert again == board
        again.resolution_seq = 4
        repo.save_board(again)
    with unit() as repo:
        assert repo.board(board.board_id).resolution_seq == 4


def test_adding_the_same_board_twice_is_refused(unit):
    with unit() as repo:
        repo.add_board(full_board())
    with pytest.raises(AlreadyExists), unit() as repo:
        repo.add_board(full_board())


def test_unknown_documents_are_not_found(unit):
    with unit() as repo:
        for read in (repo.board, repo.meeting, repo.resolution):
            with pytest.raises(Missing):
                read("nope")


def test_meetings_come_in_date_order_and_filter_by_status(unit):
    board = full_board()
    later = Meeting("b", board.board_id, MeetingKind.PUBLIC, MEETING_AT, "Salle")
    sooner = Meeting(
        "a", board.board_id, MeetingKind.CLOSED, MEETING_AT - timedelta(days=9), "S"
    )
    other = Meeting("c", "other-board", MeetingKind.PUBLIC, MEETING_AT, "Ailleurs")
    with unit() as repo:
        for meeting in (later, sooner, other):
            repo.add_meeting(meeting)
    with unit() as repo:
        assert [m.meeting_id for m in repo.meetings(board.board_id)] == ["a", "b"]
        first = repo.meeting("a")
        first.cancel()
        repo.save_meeting(first)
    with unit() as repo:
        scheduled = repo.meetings(board.board_id, [MeetingStatus.SCHEDULED])
        assert [m.meeting_id for m in scheduled] == ["b"]


def test_an_open_meeting_with_votes_round_trips(unit):
    board = full_board()
    meeting = open_meeting(board, ["alice", "bruno", "chloe", "denis", "emma"])
    meeting.add_item(AgendaItem("i1", "Budget"))
    meeting.declare_conflict("denis", "i1", "employeur")
    motion = meeting.move(board, "i1", "Adopter", "alice", "bruno")
    meeting.cast_vote(board, motion.motion_id, "alice", Choice.FOR)
    with unit() as repo:
        repo.add_meeting(meeting)
    with unit() as repo:
        assert repo.meeting(meeting.meeting_id) == meeting


def test_resolutions_come_in_number_order_with_their_follow_up(unit):
    board = full_board()
    meeting = open_meeting(board, ["alice", "bruno", "chloe", "denis"])
    made = []
    for n in (1, 2):
        meeting.add_item(AgendaItem(f"i{n}", f"Point {n}"))
        motion = meeting.move(board, f"i{n}", "Adopter", "alice", "bruno")
        meeting.cast_vote(board, motion.motion_id, "alice", Choice.FOR)
        made.append(meeting.close_vote(board, motion.motion_id)[1])
    with unit() as repo:
        for res in reversed(made):
            repo.add_resolution(res)
    with unit() as repo:
        found = repo.resolutions(board.board_id)
        assert [r.number for r in found] == ["2026-001", "2026-002"]
        found[0].follow_up(MEETING_AT.date(), "in_progress", 10)
        repo.save_resolution(found[0])
    with unit() as repo:
        assert repo.resolution(made[0].resolution_id).progress == 10


def test_results_parked_before_any_board_are_taken_once_in_arrival_order(unit):
    with unit() as repo:
        assert repo.board_ids() == []
        for process_id in ("p2", "p1", "p2"):
            repo.park_results({"process_id": process_id, "title": process_id})
    with unit() as repo:
        taken = repo.take_parked_results()
        assert [p["process_id"] for p in taken] == ["p2", "p1"]
    with unit() as repo:
        assert repo.take_parked_results() == []
        repo.add_board(full_board())
    with unit() as repo:
        assert repo.board_ids() == ["mrc-66023"]


def test_saving_a_meeting_changed_meanwhile_is_refused(store_uri, db_prefix):
    """Two secretaries load the same meeting; the second save must not win."""
    client: MongoClient = MongoClient(store_uri, tz_aware=True)
    db = client[f"{db_prefix}boards"]
    board = full_board()
    meeting = Meeting("m", board.board_id, MeetingKind.PUBLIC, MEETING_AT, "Salle")
    with client.start_session() as s, s.start_transaction():
        MongoRepository(db, s).add_meeting(meeting)
    first, second = MongoRepository(db, None), MongoRepository(db, None)
    mine, theirs = first.meeting("m"), second.meeting("m")
    mine.add_item(AgendaItem("i1", "Mon point"))
    first.save_meeting(mine)
    theirs.add_item(AgendaItem("i2", "Son point"))
    with pytest.raises(StaleWrite):
        second.save_meeting(theirs)
    assert [i.item_id for i in first.meeting("m").agenda] == ["i1"]
    client.drop_database(db.name)
    client.close()
