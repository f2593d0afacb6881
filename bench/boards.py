"""Boards: what the safety of a vote and of exactly-once agenda items costs.

``python -m bench boards`` starts its own SecantusDB (as the tests do) and
measures, in one run, each project path beside a baseline on the same store:

- ``vote``: the service's path (one retried transaction: load meeting and
  board, check seat, presence, recusal and quorum, versioned save of the
  meeting) against a bare ``$push`` of the vote in a transaction, no checks;
- ``results_to_agenda``: the ``participation.results_published`` handler
  applied through the kit's idempotent batch (event ids recorded, a process
  already placed is ignored) on a board with two years of held meetings,
  against a plain insert of the items per event; then the same events
  redelivered (all duplicates);
- ``public_register``: loading a board's resolutions and meetings and
  building the allow-listed register against dumping the raw documents.
"""

from __future__ import annotations

import copy
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pymongo import MongoClient

from services.boards import domain
from services.boards.repository import INDEXES, MongoRepository
from services.boards.service import BoardsService
from shared.consumer import apply_batch
from shared.envelope import Envelope
from shared.localstore import LocalStore
from shared.store import StoreHandle, ensure_indexes

SEATS = 15
VOTES = 300
EVENTS = 200
RESOLUTIONS = 400
HISTORY = 48
AT = datetime(2026, 11, 30, 18, 30, tzinfo=UTC)


def _board() -> domain.Board:
    charter = domain.Charter(
        "mrc-bench",
        "Table",
        (
            domain.SeatGroup("citizens", 5),
            domain.SeatGroup("community_organisations", 5),
            domain.SeatGroup("practitioners", 5),
        ),
    )
    board = domain.Board(charter)
    for n, seat in enumerate(charter.seat_ids()):
        board.add_member(domain.Member(f"m{n}", f"Membre {n}"))
        board.appoint(seat, f"m{n}", date(2026, 1, 1))
    return board


def _timed(func: Callable[[], Any], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return times


def _row(path: str, what: str, times: list[float], unit: int) -> dict[str, Any]:
    total = sum(times)
    return {
        "path": path,
        "measures": what,
        "n": unit * len(times),
        "ms_per_op_p50": round(statistics.median(times) / unit * 1000, 3),
        "ops_per_s": round(unit * len(times) / total, 1),
    }


def _vote_rows(handle: StoreHandle) -> list[dict[str, Any]]:
    db = handle.db
    board = _board()
    members = list(board.members)
    rows = []

    def fresh_meeting(meeting_id: str) -> None:
        meeting = domain.Meeting(
            meeting_id, board.board_id, domain.MeetingKind.PUBLIC, AT, "Salle"
        )
        meeting.open()
        for member_id in members:
            meeting.record_arrival(board, member_id)
        meeting.add_item(domain.AgendaItem("i1", "Point"))
        meeting.move(board, "i1", "Adopter", members[0], members[1], None, "mo")
        handle.run_transaction(lambda s: MongoRepository(db, s).add_meeting(meeting))

    handle.run_transaction(lambda s: MongoRepository(db, s).add_board(board))
    project_times = []
    baseline_times = []
    for round_no in range(VOTES // SEATS):
        meeting_id = f"vote-{round_no}"
        fresh_meeting(meeting_id)
        for member_id in members:

            def project(s: Any, member_id: str = member_id, mid: str = meeting_id):
                repo = MongoRepository(db, s)
                meeting = repo.meeting(mid)
                meeting.cast_vote(
                    repo.board(board.board_id), "mo", member_id, domain.Choice.FOR
                )
                repo.save_meeting(meeting)

            project_times += _timed(lambda: handle.run_transaction(project), 1)

        base_id = f"base-{round_no}"
        fresh_meeting(base_id)
        for member_id in members:

            def baseline(s: Any, member_id: str = member_id, mid: str = base_id):
                db.meetings.update_one(
                    {"_id": mid, "motions.motion_id": "mo"},
                    {"$push": {"motions.$.votes": {"member_id": member_id}}},
                    session=s,
                )

            baseline_times += _timed(lambda: handle.run_transaction(baseline), 1)
    rows.append(_row("vote: checked, versioned (project)", "vote", project_times, 1))
    rows.append(_row("vote: bare $push (baseline)", "vote", baseline_times, 1))
    return rows


def _results_rows(handle: StoreHandle) -> list[dict[str, Any]]:
    """A board with two years of held meetings; each meeting receives 10 events."""
    db = handle.db
    board = _board()
    per_batch = 10
    history = []
    for n in range(HISTORY):
        past = domain.Meeting(
            f"past-{n}",
            board.board_id,
            domain.MeetingKind.PUBLIC,
            AT - timedelta(days=15 * (n + 1)),
            "Salle",
            status=domain.MeetingStatus.ADJOURNED,
        )
        for i in range(15):
            past.agenda.append(domain.AgendaItem(f"i{i}", f"Point {i}"))
        history.append(past)
    upcoming = [
        domain.Meeting(
            f"next-{n:03d}",
            board.board_id,
            domain.MeetingKind.PUBLIC,
            AT + timedelta(days=15 * n),
            "Salle",
        )
        for n in range(EVENTS // per_batch)
    ]

    def setup(s: Any) -> None:
        repo = MongoRepository(db, s)
        repo.add_board(board)
        for meeting in history + upcoming:
            repo.add_meeting(meeting)

    handle.run_transaction(setup)

    class Worker:
        """A worker as nameko builds one: dependencies are instance attributes."""

        name = "boards"

        def __init__(self) -> None:
            self.store = handle
            self.clock = lambda: AT - timedelta(days=1)

    # the batch handler itself, as the kit's entrypoint calls it
    handler = getattr(BoardsService.add_results_to_agenda, "__wrapped__")  # noqa: B009

    def applied(chunk: list[Envelope]) -> int:
        return apply_batch(worker, None, chunk, batch_handler=handler)

    batch = [
        Envelope(
            "participation.results_published",
            {
                "process_id": f"proc-{n}",
                "title": f"Processus {n}",
                "priorities": [
                    {"rank": r, "proposal_id": f"p{r}", "title": f"Projet {r}"}
                    for r in range(1, 6)
                ],
            },
            origin_node="bench",
        )
        for n in range(EVENTS)
    ]
    chunks = [batch[i : i + per_batch] for i in range(0, EVENTS, per_batch)]
    worker = Worker()
    project = []
    for chunk, meeting in zip(chunks, upcoming, strict=True):
        project += _timed(lambda c=chunk: applied(c), 1)
        # the meeting is held: the next chunk goes to the following one
        db.meetings.update_one(
            {"_id": meeting.meeting_id}, {"$set": {"status": "adjourned"}}
        )
    redelivered = []
    for chunk in chunks:
        redelivered += _timed(lambda c=chunk: applied(c), 1)
    placed = sum(
        len(m["agenda"]) for m in db.meetings.find({"_id": {"$regex": "^next"}})
    )
    assert placed == EVENTS * 5, "every item placed exactly once"

    def naive(chunk: list[Envelope]) -> None:
        def body(s: Any) -> None:
            for env in chunk:
                db.naive_items.insert_many(
                    [
                        dict(p, process_id=env.payload["process_id"])
                        for p in env.payload["priorities"]
                    ],
                    session=s,
                )

        handle.run_transaction(body)

    baseline = []
    for chunk in chunks:
        baseline += _timed(lambda c=chunk: naive(c), 1)
    return [
        _row("results→agenda: idempotent (project)", "event", project, per_batch),
        _row("results→agenda: redelivered, skipped", "event", redelivered, per_batch),
        _row("results→agenda: plain insert (baseline)", "event", baseline, per_batch),
    ]


def _register_rows(handle: StoreHandle) -> list[dict[str, Any]]:
    db = handle.db
    board = _board()
    board.charter = domain.Charter(
        "mrc-reg", board.charter.name, board.charter.seat_groups
    )
    meeting = domain.Meeting("reg", "mrc-reg", domain.MeetingKind.PUBLIC, AT, "Salle")
    meeting.open()
    for member_id in board.members:
        meeting.record_arrival(board, member_id)
    resolutions = []
    for n in range(RESOLUTIONS):
        meeting.add_item(domain.AgendaItem(f"i{n}", f"Point {n}", in_camera=n % 5 == 0))
        motion = meeting.move(board, f"i{n}", "Adopter", "m0", "m1")
        meeting.cast_vote(board, motion.motion_id, "m2", domain.Choice.FOR)
        resolutions.append(meeting.close_vote(board, motion.motion_id)[1])

    def store_all(s: Any) -> None:
        repo = MongoRepository(db, s)
        repo.add_board(copy.deepcopy(board))
        repo.add_meeting(meeting)
        for res in resolutions:
            repo.add_resolution(res)

    handle.run_transaction(store_all)

    def project() -> None:
        repo = MongoRepository(db, None)
        domain.public_register(
            repo.board("mrc-reg"),
            repo.resolutions("mrc-reg"),
            date(2027, 1, 1),
            repo.meetings("mrc-reg"),
        )

    def baseline() -> None:
        list(db.resolutions.find({"board_id": "mrc-reg"}))
        list(db.meetings.find({"board_id": "mrc-reg"}))

    return [
        _row("register: allow-listed (project)", "register", _timed(project, 10), 1),
        _row("register: raw documents (baseline)", "register", _timed(baseline, 10), 1),
    ]


def run() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, LocalStore(tmp) as store:
        client: MongoClient[dict[str, Any]] = MongoClient(store.uri, tz_aware=True)
        try:
            for section in (_vote_rows, _results_rows, _register_rows):
                db = client[f"bench{section.__name__}"]
                ensure_indexes(db, INDEXES)
                rows += section(StoreHandle(client, db))
        finally:
            client.close()
    return rows
