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
    Board,
    CastingVote,
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
from shared.envelope import Envelope, current_version
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


CHARTER = {
    "board_id": "mrc-1",
    "name": "Table",
    "seat_groups": [{"constituency": "citizens", "seats": 3}],
}


def test_charter_payload_takes_the_chairs_casting_vote_and_defaults_to_none():
    assert CharterSchema().load(CHARTER).casting_vote == CastingVote.NONE
    charter = CharterSchema().load({**CHARTER, "casting_vote": "chair"})
    assert charter.casting_vote == CastingVote.CHAIR
    stored = BoardSchema().dump(Board(charter))
    assert stored["charter"]["casting_vote"] == "chair"
    assert BoardSchema().load(stored).charter == charter


@pytest.mark.parametrize("value", ["président", "Chair"])
def test_charter_payload_refuses_another_casting_vote_in_both_languages(value):
    with pytest.raises(ValidationError) as refused:
        CharterSchema().load({**CHARTER, "casting_vote": value})
    assert set(refused.value.messages) == {"casting_vote"}
    text = str(refused.value.messages["casting_vote"])
    assert f"« {value} » inconnu" in text and f'"{value}" is unknown' in text
    assert "voix prépondérante" in text and "casting vote" in text


def test_documents_stored_before_the_casting_vote_load_without_one():
    board, meeting = sitting()
    _, res = meeting.close_vote(board, meeting.motions[0].motion_id)
    stored = {
        "board": BoardSchema().dump(board),
        "meeting": MeetingSchema().dump(meeting),
        "resolution": ResolutionSchema().dump(res),
    }
    del stored["board"]["charter"]["casting_vote"]
    del stored["meeting"]["motions"][0]["decided_by_casting_vote"]
    del stored["resolution"]["decided_by_casting_vote"]
    assert BoardSchema().load(stored["board"]).charter.casting_vote == "none"
    motion = MeetingSchema().load(stored["meeting"]).motions[0]
    assert motion.decided_by_casting_vote is False
    assert ResolutionSchema().load(stored["resolution"]) == res


def test_resolution_adopted_is_version_2_and_version_1_upcasts_without_casting():
    board, meeting = sitting()
    _, res = meeting.close_vote(board, meeting.motions[0].motion_id)
    public = replace(res, closed_session=False, decided_by_casting_vote=True)
    assert current_version(events.RESOLUTION_ADOPTED) == 3  # v3 added history
    assert events.resolution_adopted(public)["decided_by_casting_vote"] is True
    assert "decided_by_casting_vote" not in events.resolution_adopted(res)
    for res_v1 in (public, res):
        v1 = events.resolution_adopted(res_v1)
        v1.pop("decided_by_casting_vote", None)
        envelope = Envelope.from_dict(
            Envelope(
                event_type=events.RESOLUTION_ADOPTED,
                payload=v1,
                origin_node="mrc-66023",
                schema_version=1,
            ).to_dict()
        )
        assert envelope.schema_version == 3
        assert (
            events.PAYLOADS[events.RESOLUTION_ADOPTED]().validate(envelope.payload)
            == {}
        )
        if res_v1.closed_session:
            assert envelope.payload == v1
        else:
            assert envelope.payload == {
                **v1,
                "decided_by_casting_vote": False,
                "history": None,
            }


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
