"""Schemas: what the service stores and receives loads back into the same domain."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from fractions import Fraction

import pytest
from marshmallow import ValidationError

from services.boards import events
from services.boards.domain import (
    AgendaItem,
    Choice,
    IndicatorWatch,
    MeetingKind,
    participation_items,
)
from services.boards.schemas import (
    BoardSchema,
    CharterSchema,
    MeetingSchema,
    ResolutionSchema,
    ResultsPublishedPayload,
)
from tests.boards.factories import full_board, open_meeting


def sitting():
    board = full_board()
    meeting = open_meeting(board, ["alice", "bruno", "chloe", "denis", "emma"])
    meeting.add_item(AgendaItem("i1", "Budget", in_camera=True))
    meeting.declare_conflict("denis", "i1", "employeur")
    motion = meeting.move(board, "i1", "Adopter", "alice", "bruno")
    meeting.cast_vote(board, motion.motion_id, "chloe", Choice.ABSTAIN, "Trop tôt")
    meeting.cast_vote(board, motion.motion_id, "alice", Choice.FOR)
    return board, meeting


def test_board_round_trips_through_its_stored_form():
    board, _ = sitting()
    board.end_appointment("citizens-2", date(2026, 9, 30))
    board.pending_items.append(AgendaItem("p", "Attente", process_id="proc"))
    board.watch(IndicatorWatch("attente", 30.5, above=False, title="Attente"))
    board.placed_sources.add("participation:proc")
    again = BoardSchema().load(BoardSchema().dump(board))
    assert again == board


def test_meeting_with_votes_and_conflicts_round_trips():
    board, meeting = sitting()
    again = MeetingSchema().load(MeetingSchema().dump(meeting))
    assert again == meeting
    assert again.is_recused("denis", "i1")


def test_resolution_round_trips_with_objections_and_updates():
    board, meeting = sitting()
    motion = meeting.motions[0]
    _, res = meeting.close_vote(board, motion.motion_id)
    res.follow_up(
        date(2026, 12, 1), "in_progress", 30, "Lancé", "CISSS", date(2027, 1, 1)
    )
    again = ResolutionSchema().load(ResolutionSchema().dump(res))
    assert again == res and again.objections == [("chloe", "Trop tôt")]


def test_charter_payload_loads_shares_written_as_fractions():
    charter = CharterSchema().load(
        {
            "board_id": "mrc-1",
            "name": "Table",
            "seat_groups": [{"constituency": "citizens", "seats": 3}],
            "quorum": {"share": "2/3", "strictly_more": False},
        }
    )
    assert charter.quorum.share == Fraction(2, 3)
    assert charter.quorum.required(3) == 2


def test_charter_payload_errors_name_the_field():
    with pytest.raises(ValidationError) as err:
        CharterSchema().load(
            {
                "board_id": "mrc-1",
                "name": "Table",
                "seat_groups": [{"constituency": "citizens", "seats": "beaucoup"}],
                "quorum": {"share": "la moitié"},
            }
        )
    assert set(err.value.messages) == {"seat_groups", "quorum"}
    with pytest.raises(ValidationError) as refused:
        CharterSchema().load(
            {
                "board_id": "mrc-1",
                "name": "Table",
                "seat_groups": [
                    {"constituency": "citizens", "seats": 1},
                    {"constituency": "citizens", "seats": 0},
                ],
            }
        )
    assert "seat_groups" in refused.value.messages
    assert "seats" in refused.value.messages["seat_groups"][1]
    assert "entre 1 et 100" in str(refused.value.messages)


def test_results_payload_tolerates_fields_added_by_participation():
    payload = ResultsPublishedPayload().load(
        {
            "process_id": "proc-1",
            "title": "Budget",
            "method": "stv",
            "priorities": [
                {"rank": 1, "proposal_id": "a", "title": "A", "votes": 10},
            ],
        }
    )
    assert payload["priorities"] == [{"rank": 1, "proposal_id": "a", "title": "A"}]


def test_results_payload_as_participation_publishes_it_loads():
    """The shape of ``services/participation/events.py``: no process title."""
    payload = ResultsPublishedPayload().load(
        {
            "process_id": "p1",
            "mrc_code": "2423",
            "method": "irv",
            "priorities": [{"rank": 1, "proposal_id": "a1", "title": ""}],
            "ballots": 412,
            "receipts_sha256": "abc",
        }
    )
    items = participation_items(
        payload["process_id"], payload["title"], payload["priorities"]
    )
    assert items[0].title == "Participation p1 — priorité 1 / priority 1: a1"


def test_closed_session_resolution_event_carries_no_title_nor_text():
    board = full_board()
    meeting = open_meeting(
        board, ["alice", "bruno", "chloe", "denis"], MeetingKind.CLOSED
    )
    meeting.add_item(AgendaItem("i1", "Dossier nominatif"))
    motion = meeting.move(board, "i1", "Texte confidentiel", "alice", "bruno")
    meeting.cast_vote(board, motion.motion_id, "alice", Choice.FOR)
    _, res = meeting.close_vote(board, motion.motion_id)
    payload = events.resolution_adopted(res)
    assert payload["closed_session"] is True
    assert "title" not in payload and "text" not in payload
    assert events.meeting_scheduled(meeting)["place"] == ""


def test_every_published_payload_matches_its_declared_schema():
    board, meeting = sitting()
    motion = meeting.motions[0]
    _, res = meeting.close_vote(board, motion.motion_id)
    res.follow_up(date(2026, 12, 1), "in_progress", 30, due=date(2027, 1, 1))
    open_res = replace(res, closed_session=False)
    for event_type, payload in (
        (events.MEETING_SCHEDULED, events.meeting_scheduled(meeting)),
        (events.RESOLUTION_ADOPTED, events.resolution_adopted(res)),
        (events.RESOLUTION_ADOPTED, events.resolution_adopted(open_res)),
        (
            events.DECISION_STATUS_CHANGED,
            events.decision_status_changed(res, "planned"),
        ),
    ):
        assert events.PAYLOADS[event_type]().validate(payload) == {}, event_type
