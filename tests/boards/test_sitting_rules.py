"""A sitting driven by random arrivals, departures, recusals and votes (hypothesis).

A simple model of the rules decides whether each vote must be accepted; the
domain must agree every time, and no vote it records may come from an absent
or recused member, or be taken without quorum.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from services.boards.domain import AgendaItem, Choice
from services.boards.exceptions import (
    AlreadyVoted,
    NotPresent,
    QuorumNotMet,
    RecusedMember,
)
from tests.boards.factories import SEATS, full_board, open_meeting

MEMBERS = list(SEATS.values())
CITIZENS = {"alice", "bruno"}
member = st.sampled_from(MEMBERS)


class Sitting(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.board = full_board(min_citizens=1)
        self.meeting = open_meeting(self.board, MEMBERS)
        self.meeting.add_item(AgendaItem("i1", "Point"))
        self.motion = self.meeting.move(self.board, "i1", "Adopter", "alice", "bruno")
        self.present = set(MEMBERS)
        self.recused: set[str] = set()
        self.voted: set[str] = set()

    def quorate(self) -> bool:
        voting = self.present - self.recused
        return len(voting) >= 4 and bool(voting & CITIZENS)

    @rule(who=member)
    def arrive(self, who: str) -> None:
        self.meeting.record_arrival(self.board, who)
        self.present.add(who)

    @rule(who=member)
    def leave(self, who: str) -> None:
        if who in self.present:
            self.meeting.record_departure(who)
            self.present.discard(who)

    @rule(who=member)
    def recuse(self, who: str) -> None:
        self.meeting.declare_conflict(who, "i1", "intérêt")
        self.recused.add(who)
        self.voted.discard(who)

    @rule(who=member, choice=st.sampled_from(list(Choice)))
    def vote(self, who: str, choice: Choice) -> None:
        if who not in self.present:
            expected: type[Exception] | None = NotPresent
        elif who in self.recused:
            expected = RecusedMember
        elif not self.quorate():
            expected = QuorumNotMet
        elif who in self.voted:
            expected = AlreadyVoted
        else:
            expected = None
        try:
            self.meeting.cast_vote(self.board, self.motion.motion_id, who, choice)
        except (NotPresent, RecusedMember, QuorumNotMet, AlreadyVoted) as exc:
            assert type(exc) is expected, f"{who}: {exc!r}, expected {expected}"
            return
        assert expected is None, f"{who}'s vote accepted, expected {expected}"
        self.voted.add(who)

    @invariant()
    def only_allowed_votes_are_recorded(self) -> None:
        assert set(self.motion.votes) == self.voted
        assert not (set(self.motion.votes) & self.recused)


Sitting.TestCase.settings = settings(max_examples=60, stateful_step_count=25)
test_votes_follow_presence_recusal_and_quorum = Sitting.TestCase
