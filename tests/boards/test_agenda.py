"""Building the agenda and taking its items one at a time.

Proposals (a member's motion, participation results, an indicator watch) wait
for the secretary, who accepts, reorders or refuses them with a reason the
proposer reads; during the sitting each item is opened and closed. The domain
is tested with plain values, the RPCs on the real store and broker.
"""

from __future__ import annotations

import pytest
from nameko.exceptions import RemoteError

from services.boards import events
from services.boards.domain import (
    AgendaItem,
    Choice,
    Discussion,
    Meeting,
    MeetingKind,
    participation_items,
)
from services.boards.exceptions import InvalidState, InvalidValue
from services.boards.schemas import MeetingSchema
from tests.boards.factories import MEETING_AT, full_board, open_meeting
from tests.boards.test_service import BOARD, node, published, sit, soon  # noqa: F401

EVERYONE = ["alice", "bruno", "chloe", "denis", "emma", "felix", "gabrielle"]


def scheduled() -> Meeting:
    return Meeting("m1", "mrc-66023", MeetingKind.PUBLIC, MEETING_AT, "Salle")


def test_a_members_proposal_waits_for_the_secretary_who_accepts_it():
    board = full_board()
    meeting = scheduled()
    item = meeting.propose_motion_item(board, "emma", "Local pour les jeunes", "i1")
    assert item.proposed
    meeting.accept_item("i1")
    assert not meeting.item("i1").proposed
    with pytest.raises(InvalidState) as refused:
        meeting.accept_item("i1")
    assert "Local pour les jeunes" in refused.value.fr
    assert "no longer a proposal" in refused.value.en


def test_a_refused_proposal_leaves_the_agenda_with_the_reason_its_proposer_reads():
    board = full_board()
    meeting = scheduled()
    meeting.propose_motion_item(board, "emma", "Local pour les jeunes", "i1")
    with pytest.raises(InvalidValue) as no_reason:
        meeting.refuse_item("i1", "  ")
    assert no_reason.value.field == "reason"
    assert "reason" in no_reason.value.en and "« reason »" in no_reason.value.fr
    meeting.refuse_item("i1", "Déjà traité en octobre.")
    assert meeting.agenda == []
    assert [(i.item_id, i.refusal) for i in meeting.refused] == [
        ("i1", "Déjà traité en octobre.")
    ]
    again = MeetingSchema().load(MeetingSchema().dump(meeting))
    assert again.refused[0].refusal == "Déjà traité en octobre."
    assert again.refused[0].proposed_by == "emma"


def test_an_item_the_secretary_added_is_not_a_proposal_to_refuse():
    meeting = scheduled()
    meeting.add_item(AgendaItem("i1", "Budget"))
    with pytest.raises(InvalidState) as refused:
        meeting.refuse_item("i1", "non")
    assert refused.value.field == "item_id"


def test_reordering_needs_every_item_once_and_names_what_is_missing():
    meeting = scheduled()
    for n, title in enumerate(("Budget", "Transport", "Logement"), 1):
        meeting.add_item(AgendaItem(f"i{n}", title))
    meeting.reorder(["i3", "i1", "i2"])
    assert [i.title for i in meeting.agenda] == ["Logement", "Budget", "Transport"]
    with pytest.raises(InvalidValue) as refused:
        meeting.reorder(["i3", "i1", "nope"])
    assert refused.value.field == "order"
    assert "« Transport »" in refused.value.fr and "nope" in refused.value.en
    with pytest.raises(InvalidValue):
        meeting.reorder(["i3", "i1", "i2", "i2"])
    assert [i.item_id for i in meeting.agenda] == ["i3", "i1", "i2"]


def test_the_agenda_of_a_meeting_that_is_over_is_frozen_for_proposals_too():
    board = full_board()
    meeting = open_meeting(board, EVERYONE)
    meeting.propose_motion_item(board, "emma", "Local", "i1")
    meeting.adjourn()
    for act in (
        lambda: meeting.accept_item("i1"),
        lambda: meeting.refuse_item("i1", "trop tard"),
        lambda: meeting.reorder(["i1"]),
    ):
        with pytest.raises(InvalidState) as refused:
            act()
        assert "frozen" in refused.value.en


def test_items_are_opened_one_at_a_time_and_closed_once_their_motion_is_voted():
    board = full_board()
    meeting = open_meeting(board, EVERYONE)
    meeting.add_item(AgendaItem("i1", "Budget"))
    meeting.add_item(AgendaItem("i2", "Transport"))
    meeting.open_item("i1")
    with pytest.raises(InvalidState) as busy:
        meeting.open_item("i2")
    assert "« Budget » est en cours" in busy.value.fr
    motion = meeting.move(board, "i1", "Adopter le budget", "alice", "bruno")
    with pytest.raises(InvalidState) as voting:
        meeting.close_item("i1")
    assert '"Adopter le budget" is open on this item' in voting.value.en
    for member_id in EVERYONE:
        meeting.cast_vote(board, motion.motion_id, member_id, Choice.FOR)
    meeting.close_vote(board, motion.motion_id)
    meeting.close_item("i1")
    assert meeting.item("i1").discussion == Discussion.CLOSED
    with pytest.raises(InvalidState) as closed:
        meeting.move(board, "i1", "Encore", "alice", "bruno")
    assert "« Budget » est clos" in closed.value.fr
    with pytest.raises(InvalidState):
        meeting.open_item("i1")
    meeting.open_item("i2")
    meeting.adjourn()
    assert meeting.item("i2").discussion == Discussion.CLOSED


def test_a_proposal_is_accepted_before_it_is_opened_and_only_at_a_sitting():
    board = full_board()
    waiting = scheduled()
    waiting.add_item(AgendaItem("i1", "Budget"))
    with pytest.raises(InvalidState) as not_sitting:
        waiting.open_item("i1")
    assert not_sitting.value.field == "status"
    meeting = open_meeting(board, EVERYONE)
    meeting.add_item(
        participation_items("p1", "Budget", [{"rank": 1, "proposal_id": "a"}])[0]
    )
    with pytest.raises(InvalidState) as proposed:
        meeting.open_item("participation-p1-a")
    assert "accept it before opening it" in proposed.value.en


# --- over RPC, on the real store and broker ------------------------------------------


def remote(call) -> RemoteError:
    with pytest.raises(RemoteError) as err:
        call()
    return err.value


def test_secretary_builds_the_agenda_over_rpc_and_participation_hears_of_a_refusal(
    node,  # noqa: F811
    amqp_uri,
):
    boards, _, _ = node
    boards.schedule_meeting(
        BOARD,
        {
            "meeting_id": "m1",
            "kind": "public",
            "scheduled_at": soon(3),
            "place": "Salle",
        },
    )
    boards.add_agenda_item("m1", {"item_id": "budget", "title": "Budget"})
    mine = boards.add_agenda_item(
        "m1", {"item_id": "local", "title": "Local", "proposed_by": "emma"}
    )
    assert mine["proposed"] is True
    boards.watch_indicator(BOARD, {"indicator_id": "attente", "threshold": 30})
    placed = boards.consider_indicator(
        BOARD,
        {"indicator_id": "attente", "period": "2026Q3", "value": 41, "previous": 20},
    )
    err = remote(lambda: boards.refuse_agenda_item("m1", placed["item_id"], ""))
    assert err.exc_type == "Invalid" and "reason" in err.value
    meeting = boards.refuse_agenda_item("m1", placed["item_id"], "Suivi au comité.")
    assert [i["item_id"] for i in meeting["agenda"]] == ["budget", "local"]
    assert meeting["refused"][0]["refusal"] == "Suivi au comité."
    meeting = boards.accept_agenda_item("m1", "local")
    meeting = boards.reorder_agenda("m1", ["local", "budget"])
    assert [(i["item_id"], i["proposed"]) for i in meeting["agenda"]] == [
        ("local", False),
        ("budget", False),
    ]
    err = remote(lambda: boards.reorder_agenda("m1", ["local"]))
    assert err.exc_type == "Invalid" and '"Budget"' in err.value
    err = remote(lambda: boards.open_item("m1", "local"))
    assert err.exc_type == "Conflict"  # the meeting is not sitting yet
    boards.open_meeting("m1")
    assert boards.open_item("m1", "local")["agenda"][0]["discussion"] == "open"
    err = remote(lambda: boards.open_item("m1", "budget"))
    assert '"Local" is under discussion' in err.value
    assert boards.close_item("m1", "local")["agenda"][0]["discussion"] == "closed"
    decided = [
        e
        for e in published(amqp_uri, 2)
        if e["event_type"] == events.AGENDA_PROPOSAL_DECIDED
    ]
    assert len(decided) == 1  # the member's own proposal stays inside the board
    payload = decided[0]["payload"]
    events.AgendaProposalDecidedV1().load(payload)
    assert (payload["decision"], payload["reason"], payload["indicator_id"]) == (
        "refused",
        "Suivi au comité.",
        "attente",
    )


def test_an_occupied_seat_is_named_in_the_refusal_not_by_its_code():
    from datetime import date

    from services.boards.domain import Member
    from services.boards.exceptions import SeatOccupied

    board = full_board()
    board.add_member(Member("zoe", "Zoé"))
    with pytest.raises(SeatOccupied) as refused:
        board.appoint("citizens-1", "zoe", date(2026, 6, 1))
    assert "« Citoyennes et citoyens, siège 1 » est déjà occupé" in refused.value.fr
    assert 'seat "Citizens, seat 1" is already held' in refused.value.en
    assert "citizens-1" not in str(refused.value)
