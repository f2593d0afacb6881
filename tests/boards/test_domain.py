"""The boards domain: charter, seats, meetings, votes, register. Pure, no I/O."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.boards.domain import (
    AgendaItem,
    Board,
    CastingVote,
    Charter,
    Choice,
    DecisionStatus,
    IndicatorWatch,
    MajorityRule,
    Meeting,
    MeetingKind,
    Member,
    QuorumRule,
    SeatGroup,
    Vote,
    adopt_minutes,
    overdue,
    place_indicator_value,
    place_participation_results,
    public_meeting,
    public_quorum,
    public_register,
    public_resolution,
    quorum_counts,
    take_pending,
    tally,
)
from services.boards.exceptions import (
    AlreadyVoted,
    InvalidCharter,
    InvalidState,
    InvalidValue,
    NotPresent,
    NotSeated,
    QuorumNotMet,
    RecusedMember,
    SeatOccupied,
    UnknownSeat,
)
from services.boards.schemas import PublicMeetingSchema, PublicResolutionSchema
from tests.boards.factories import (
    MEETING_AT,
    SEATS,
    TERM_START,
    charter,
    full_board,
    open_meeting,
)

EVERYONE = list(SEATS.values())


def item(meeting: Meeting, item_id: str = "i1", **kw) -> AgendaItem:
    return meeting.add_item(AgendaItem(item_id, kw.pop("title", "Budget"), **kw))


# --- charter and seats -------------------------------------------------------------


def test_charter_gives_one_seat_per_seat_of_each_constituency():
    seats = charter().seat_ids()
    assert len(seats) == 7
    assert seats[:2] == ["citizens-1", "citizens-2"]
    assert "first_nations_inuit-1" in seats


def test_board_may_define_its_own_constituency():
    custom = Charter(
        "b", "Table", (SeatGroup("citizens", 1), SeatGroup("youth", 2, label="Jeunes"))
    )
    assert custom.constituency_of("youth-2") == "youth"
    assert custom.group("youth").display_label == "Jeunes"


@pytest.mark.parametrize(
    "groups",
    [
        (SeatGroup("citizens", 1), SeatGroup("citizens", 2)),
        (),
    ],
)
def test_charter_with_duplicate_or_no_constituency_is_refused(groups):
    with pytest.raises(InvalidCharter):
        Charter("b", "Table", groups)


def test_charter_refuses_a_quorum_minimum_for_a_constituency_it_lacks():
    with pytest.raises(InvalidCharter) as err:
        Charter(
            "b",
            "Table",
            (SeatGroup("citizens", 2),),
            QuorumRule(min_present={"practitioners": 1}),
        )
    assert "practitioners" in str(err.value)


def test_constituency_code_with_spaces_is_refused_in_both_languages():
    with pytest.raises(InvalidCharter) as err:
        SeatGroup("Citoyens du coin", 2)
    assert "collège" in str(err.value) and "constituency" in str(err.value)


@pytest.mark.parametrize(
    ("share", "strictly_more", "filled", "required"),
    [
        (Fraction(1, 2), True, 8, 5),
        (Fraction(1, 2), True, 9, 5),
        (Fraction(1, 2), True, 7, 4),
        (Fraction(1, 2), False, 8, 4),
        (Fraction(2, 3), False, 9, 6),
        (Fraction(2, 3), False, 10, 7),
        (Fraction(1, 2), True, 0, 1),
    ],
)
def test_quorum_is_a_share_of_filled_seats(share, strictly_more, filled, required):
    assert QuorumRule(share, strictly_more).required(filled) == required


@given(
    st.fractions(min_value=Fraction(1, 100), max_value=1),
    st.booleans(),
    st.integers(min_value=1, max_value=200),
)
def test_quorum_never_asks_more_than_the_filled_seats_nor_less_than_one(
    share, strictly_more, filled
):
    rule = QuorumRule(share, strictly_more)
    needed = rule.required(filled)
    assert 1 <= needed <= filled
    assert rule.required(filled + 1) >= needed


def test_default_term_follows_the_charter_term_length():
    board = full_board()
    assert board.holder("citizens-1", TERM_START).end == date(2027, 12, 31)
    assert board.holder("municipal_elected-1", TERM_START).end == date(2029, 12, 31)


def test_a_term_can_be_renewed_from_the_day_after_it_ends():
    board = full_board()
    renewed = board.appoint("citizens-1", "alice", date(2028, 1, 1))
    assert [a.start for a in board.history("citizens-1")] == [
        TERM_START,
        date(2028, 1, 1),
    ]
    assert board.holder("citizens-1", date(2028, 1, 1)) is renewed
    assert board.vacancies(date(2027, 12, 31)) == []


def test_appointing_to_an_occupied_seat_is_refused_naming_the_holder():
    board = full_board()
    board.add_member(Member("zoe", "Zoé"))
    with pytest.raises(SeatOccupied) as err:
        board.appoint("citizens-1", "zoe", date(2026, 6, 1))
    assert "Alice" in str(err.value)


def test_member_cannot_hold_two_seats_at_once():
    board = Board(charter(0))
    board.add_member(Member("zoe", "Zoé"))
    board.appoint("citizens-1", "zoe", TERM_START)
    with pytest.raises(InvalidState):
        board.appoint("citizens-2", "zoe", date(2026, 3, 1))


def test_unknown_seat_is_refused():
    with pytest.raises(UnknownSeat):
        full_board().appoint("citizens-3", "alice", TERM_START)


def test_seat_history_keeps_every_holder_and_resignation_opens_a_vacancy():
    board = full_board()
    board.add_member(Member("zoe", "Zoé"))
    board.end_appointment("citizens-1", date(2026, 5, 31))
    assert board.vacancies(date(2026, 6, 1)) == ["citizens-1"]
    assert board.vacancies(date(2026, 5, 31)) == []
    board.appoint("citizens-1", "zoe", date(2026, 6, 15))
    history = board.history("citizens-1")
    assert [a.member_id for a in history] == ["alice", "zoe"]
    assert history[0].last_day == date(2026, 5, 31)
    assert board.holder("citizens-1", date(2026, 6, 10)) is None
    assert board.filled_count(date(2026, 6, 10)) == 6


# --- quorum, recusal, votes ----------------------------------------------------------


def test_vote_without_quorum_is_refused_with_a_clear_reason():
    board = full_board()
    meeting = open_meeting(board, ["alice", "chloe", "denis"])
    item(meeting)
    motion = meeting.move(board, "i1", "Adopter le budget", "alice", "chloe")
    with pytest.raises(QuorumNotMet) as err:
        meeting.cast_vote(board, motion.motion_id, "alice", Choice.FOR)
    message = str(err.value)
    assert "quorum non atteint" in message and "quorum not met" in message
    assert "3 membre(s) votant(s) présent(s) sur 4 requis" in message
    assert (err.value.required, err.value.present) == (4, 3)
    assert motion.votes == {}


def test_vote_is_refused_when_no_citizen_is_present_even_with_a_majority():
    board = full_board(min_citizens=1)
    meeting = open_meeting(board, ["chloe", "denis", "emma", "felix", "gabrielle"])
    item(meeting)
    motion = meeting.move(board, "i1", "Adopter", "chloe", "denis")
    with pytest.raises(QuorumNotMet) as err:
        meeting.cast_vote(board, motion.motion_id, "chloe", Choice.FOR)
    assert err.value.missing == {"citizens": 1}
    assert '1 more "citizens" seat(s) needed' in str(err.value)


def test_vacant_seats_do_not_count_toward_quorum():
    board = full_board(min_citizens=0)
    for seat in ("community_organisations-2", "practitioners-1", "municipal_elected-1"):
        board.end_appointment(seat, date(2026, 6, 30))
    meeting = open_meeting(board, ["alice", "bruno", "chloe"])
    assert meeting.quorum(board).required == 3
    assert meeting.quorum(board).met


def test_recused_member_vote_is_refused():
    board = full_board()
    meeting = open_meeting(board, EVERYONE)
    item(meeting, title="Subvention à l'organisme de Chloé")
    meeting.declare_conflict("chloe", "i1", "administratrice de l'organisme")
    motion = meeting.move(board, "i1", "Accorder 10 000 $", "alice", "bruno")
    with pytest.raises(RecusedMember) as err:
        meeting.cast_vote(board, motion.motion_id, "chloe", Choice.FOR)
    assert "conflit d'intérêts" in str(err.value)
    assert "conflict of interest" in str(err.value)
    assert "chloe" not in motion.votes
    meeting.cast_vote(board, motion.motion_id, "bruno", Choice.FOR)
    assert set(motion.votes) == {"bruno"}


def test_conflict_declared_after_voting_strikes_the_vote():
    board = full_board()
    meeting = open_meeting(board, EVERYONE)
    item(meeting)
    motion = meeting.move(board, "i1", "Accorder", "alice", "bruno")
    meeting.cast_vote(board, motion.motion_id, "chloe", Choice.FOR)
    meeting.declare_conflict("chloe", "i1", "déclaré en retard")
    assert "chloe" not in motion.votes
    with pytest.raises(RecusedMember):
        meeting.cast_vote(board, motion.motion_id, "chloe", Choice.FOR)


def test_recused_member_can_neither_move_nor_second_the_item():
    board = full_board()
    meeting = open_meeting(board, EVERYONE)
    item(meeting)
    meeting.declare_conflict("chloe", "i1", "")
    with pytest.raises(RecusedMember):
        meeting.move(board, "i1", "Accorder", "chloe", "alice")
    with pytest.raises(RecusedMember):
        meeting.move(board, "i1", "Accorder", "alice", "chloe")


def test_recused_member_still_votes_on_other_items():
    board = full_board()
    meeting = open_meeting(board, EVERYONE)
    item(meeting, "i1")
    item(meeting, "i2", title="Calendrier")
    meeting.declare_conflict("chloe", "i1", "famille")
    motion = meeting.move(board, "i2", "Adopter le calendrier", "alice", "bruno")
    meeting.cast_vote(board, motion.motion_id, "chloe", Choice.FOR)
    assert "chloe" in motion.votes


def test_recused_members_do_not_make_quorum_on_their_item():
    board = full_board(min_citizens=0)
    meeting = open_meeting(board, ["alice", "bruno", "chloe", "denis"])
    item(meeting)
    assert meeting.quorum(board, "i1").met
    meeting.declare_conflict("denis", "i1", "employeur")
    status = meeting.quorum(board, "i1")
    assert not status.met and status.present == 3 and status.required == 4


def test_member_not_present_or_not_seated_cannot_vote():
    board = full_board()
    board.add_member(Member("yves", "Yves"))
    meeting = open_meeting(board, ["alice", "bruno", "chloe", "denis"])
    item(meeting)
    motion = meeting.move(board, "i1", "Adopter", "alice", "bruno")
    with pytest.raises(NotPresent):
        meeting.cast_vote(board, motion.motion_id, "emma", Choice.FOR)
    with pytest.raises(NotSeated):
        meeting.cast_vote(board, motion.motion_id, "yves", Choice.FOR)
    with pytest.raises(NotSeated):
        meeting.record_arrival(board, "yves")


def test_member_whose_term_ended_before_the_meeting_cannot_vote():
    board = full_board()
    board.end_appointment("citizens-2", date(2026, 10, 1))
    meeting = open_meeting(board, ["alice", "chloe", "denis", "emma"])
    item(meeting)
    with pytest.raises(NotSeated):
        meeting.record_arrival(board, "bruno")


def test_second_vote_from_same_member_is_refused():
    board = full_board()
    meeting = open_meeting(board, EVERYONE)
    item(meeting)
    motion = meeting.move(board, "i1", "Adopter", "alice", "bruno")
    meeting.cast_vote(board, motion.motion_id, "alice", Choice.FOR)
    with pytest.raises(AlreadyVoted):
        meeting.cast_vote(board, motion.motion_id, "alice", Choice.AGAINST)
    assert motion.votes["alice"].choice == Choice.FOR


def test_motion_needs_a_seconder_other_than_the_mover():
    board = full_board()
    meeting = open_meeting(board, EVERYONE)
    item(meeting)
    with pytest.raises(InvalidValue) as err:
        meeting.move(board, "i1", "Adopter", "alice", "alice")
    assert err.value.field == "seconded_by"


def test_motion_moved_alone_is_voted_only_once_another_member_seconds_it():
    board = full_board()
    meeting = open_meeting(board, EVERYONE)
    item(meeting)
    meeting.declare_conflict("denis", "i1", "employeur")
    motion = meeting.move(board, "i1", "Adopter", "alice", None)
    with pytest.raises(InvalidState) as refused:
        meeting.cast_vote(board, motion.motion_id, "bruno", Choice.FOR)
    assert "not seconded" in str(refused.value)
    with pytest.raises(InvalidValue):
        meeting.second(board, motion.motion_id, "alice")
    with pytest.raises(RecusedMember):
        meeting.second(board, motion.motion_id, "denis")
    meeting.second(board, motion.motion_id, "emma")
    meeting.cast_vote(board, motion.motion_id, "bruno", Choice.FOR)
    with pytest.raises(InvalidState):
        meeting.second(board, motion.motion_id, "felix")
    _, resolution = meeting.close_vote(board, motion.motion_id)
    assert resolution.seconded_by == "emma"


def test_closing_a_vote_after_members_left_is_refused_for_quorum():
    board = full_board(min_citizens=0)
    meeting = open_meeting(board, ["alice", "bruno", "chloe", "denis"])
    item(meeting)
    motion = meeting.move(board, "i1", "Adopter", "alice", "bruno")
    for member_id in ("alice", "bruno", "chloe"):
        meeting.cast_vote(board, motion.motion_id, member_id, Choice.FOR)
    meeting.record_departure("denis")
    with pytest.raises(QuorumNotMet):
        meeting.close_vote(board, motion.motion_id)


def test_votes_are_refused_before_the_meeting_opens():
    board = full_board()
    meeting = Meeting("m9", board.board_id, MeetingKind.PUBLIC, MEETING_AT, "Salle")
    with pytest.raises(InvalidState):
        meeting.record_arrival(board, "alice")


def test_meeting_time_without_time_zone_is_refused():
    with pytest.raises(InvalidValue):
        Meeting("m", "b", MeetingKind.PUBLIC, datetime(2026, 11, 30, 18), "Salle")


# --- majority rules --------------------------------------------------------------


def votes(yes: int, no: int, abstain: int = 0) -> list[Vote]:
    return (
        [Vote(f"y{i}", Choice.FOR) for i in range(yes)]
        + [Vote(f"n{i}", Choice.AGAINST) for i in range(no)]
        + [Vote(f"a{i}", Choice.ABSTAIN) for i in range(abstain)]
    )


@pytest.mark.parametrize(
    ("rule", "yes", "no", "abstain", "adopted"),
    [
        (MajorityRule.SIMPLE, 3, 2, 0, True),
        (MajorityRule.SIMPLE, 2, 2, 0, False),
        (MajorityRule.SIMPLE, 2, 1, 4, True),
        (MajorityRule.SIMPLE, 0, 0, 3, False),
        (MajorityRule.TWO_THIRDS, 4, 2, 0, True),
        (MajorityRule.TWO_THIRDS, 3, 2, 1, False),
        (MajorityRule.TWO_THIRDS, 2, 1, 0, True),
        (MajorityRule.CONSENSUS, 5, 0, 2, True),
        (MajorityRule.CONSENSUS, 6, 1, 0, False),
        (MajorityRule.CONSENSUS, 0, 0, 2, False),
    ],
)
def test_majority_rules_count_votes_cast(rule, yes, no, abstain, adopted):
    result = tally(rule, votes(yes, no, abstain))
    assert result.adopted is adopted
    assert (result.votes_for, result.votes_against, result.abstentions) == (
        yes,
        no,
        abstain,
    )


counts = st.integers(min_value=0, max_value=40)


@given(counts, counts, counts)
def test_stricter_rules_never_adopt_what_looser_rules_reject(yes, no, abstain):
    cast = votes(yes, no, abstain)
    simple = tally(MajorityRule.SIMPLE, cast).adopted
    two_thirds = tally(MajorityRule.TWO_THIRDS, cast).adopted
    consensus = tally(MajorityRule.CONSENSUS, cast).adopted
    assert not consensus or two_thirds
    assert not two_thirds or simple


@given(st.sampled_from(list(MajorityRule)), counts, counts, counts)
def test_one_more_vote_against_never_turns_a_rejection_into_adoption(
    rule, yes, no, abstain
):
    before = tally(rule, votes(yes, no, abstain)).adopted
    after = tally(rule, votes(yes, no + 1, abstain)).adopted
    assert not after or before


def test_consensus_with_a_stand_aside_is_adopted_and_keeps_the_objection():
    board = full_board()
    meeting = open_meeting(board, EVERYONE)
    item(meeting)
    motion = meeting.move(
        board, "i1", "Adopter le plan", "alice", "bruno", MajorityRule.CONSENSUS
    )
    for member_id in ("alice", "bruno", "chloe", "denis", "emma"):
        meeting.cast_vote(board, motion.motion_id, member_id, Choice.FOR)
    meeting.cast_vote(
        board, motion.motion_id, "felix", Choice.ABSTAIN, "Le calendrier est serré"
    )
    result, resolution = meeting.close_vote(board, motion.motion_id)
    assert result.adopted and resolution is not None
    assert resolution.objections == [("felix", "Le calendrier est serré")]


def test_consensus_is_blocked_by_one_vote_against():
    board = full_board()
    meeting = open_meeting(board, EVERYONE)
    item(meeting)
    motion = meeting.move(
        board, "i1", "Adopter", "alice", "bruno", MajorityRule.CONSENSUS
    )
    meeting.cast_vote(board, motion.motion_id, "alice", Choice.FOR)
    meeting.cast_vote(board, motion.motion_id, "gabrielle", Choice.AGAINST, "Non")
    result, resolution = meeting.close_vote(board, motion.motion_id)
    assert not result.adopted and resolution is None
    assert motion.status == "rejected"


# --- the chair's casting vote (voix prépondérante) ---------------------------------


def casting_board(casting: str = "chair") -> Board:
    """The seven-seat board (alice chairs) whose charter says ``casting_vote``."""
    board = full_board()
    board.charter = replace(board.charter, casting_vote=casting)
    return board


def tied(board: Board, chair: Choice | None, rule: MajorityRule | None = None):
    """Two for and two against among the others, and the chair's ``chair`` vote
    (none if ``None``) cast beside one abstention, so the tie is 3-3 or 2-2."""
    meeting = open_meeting(board, EVERYONE)
    item(meeting)
    motion = meeting.move(board, "i1", "Adopter", "bruno", "chloe", rule)
    cast = [("bruno", Choice.FOR), ("chloe", Choice.FOR), ("denis", Choice.AGAINST)]
    cast += [("emma", Choice.AGAINST), ("felix", Choice.ABSTAIN)]
    if chair is not None:
        cast.append(("alice", chair))
        if chair != Choice.ABSTAIN:  # keep the tie: one more on the other side
            other = Choice.AGAINST if chair == Choice.FOR else Choice.FOR
            cast.append(("gabrielle", other))
    for member_id, choice in cast:
        meeting.cast_vote(board, motion.motion_id, member_id, choice)
    return meeting, motion


def test_a_charter_gives_no_casting_vote_unless_it_says_so():
    assert charter().casting_vote == CastingVote.NONE
    assert Charter("b", "Table", (SeatGroup("citizens", 3),)).casting_vote == "none"


def test_a_charter_with_an_unknown_casting_vote_is_refused_in_both_languages():
    with pytest.raises(InvalidCharter) as refused:
        replace(charter(), casting_vote="president")
    assert refused.value.field == "casting_vote"
    assert "« casting_vote »" in refused.value.fr and "« chair »" in refused.value.fr
    assert 'field "casting_vote"' in refused.value.en


def test_a_tie_is_defeated_when_the_charter_gives_no_casting_vote():
    board = full_board()
    meeting, motion = tied(board, Choice.FOR)
    result, resolution = meeting.close_vote(board, motion.motion_id)
    assert (result.votes_for, result.votes_against) == (3, 3)
    assert not result.adopted and resolution is None
    assert result.decided_by_casting_vote is False
    assert motion.status == "rejected" and motion.decided_by_casting_vote is False


def test_the_chairs_casting_vote_carries_a_tie_and_the_resolution_says_so():
    board = casting_board()
    meeting, motion = tied(board, Choice.FOR)
    result, resolution = meeting.close_vote(board, motion.motion_id)
    assert result.adopted and result.decided_by_casting_vote
    assert resolution is not None and resolution.decided_by_casting_vote
    # the counts stay as cast: the casting vote is not a seventh vote
    assert (resolution.votes_for, resolution.votes_against) == (3, 3)
    assert motion.status == "adopted" and motion.decided_by_casting_vote
    shown = public_resolution(board, resolution, date(2026, 12, 1))
    assert shown is not None and shown["decided_by_casting_vote"] is True
    assert shown["votes"] == {"for": 3, "against": 3, "abstain": 1}
    PublicResolutionSchema().load(shown)


def test_the_chairs_casting_vote_defeats_a_tie_and_the_motion_says_so():
    board = casting_board()
    meeting, motion = tied(board, Choice.AGAINST)
    result, resolution = meeting.close_vote(board, motion.motion_id)
    assert not result.adopted and resolution is None
    assert result.decided_by_casting_vote
    assert motion.status == "rejected" and motion.decided_by_casting_vote


@pytest.mark.parametrize("chair", [Choice.ABSTAIN, None])
def test_a_chair_who_abstained_or_did_not_vote_leaves_the_tie_defeated(chair):
    board = casting_board()
    meeting, motion = tied(board, chair)
    result, resolution = meeting.close_vote(board, motion.motion_id)
    assert (result.votes_for, result.votes_against) == (2, 2)
    assert not result.adopted and resolution is None
    assert result.decided_by_casting_vote is False


def test_a_recused_chair_has_no_casting_vote():
    board = casting_board()
    meeting = open_meeting(board, EVERYONE)
    item(meeting)
    meeting.declare_conflict("alice", "i1", "Ma fille dirige l'organisme")
    motion = meeting.move(board, "i1", "Adopter", "bruno", "chloe")
    with pytest.raises(RecusedMember):
        meeting.cast_vote(board, motion.motion_id, "alice", Choice.FOR)
    for member_id, choice in (
        ("bruno", Choice.FOR),
        ("chloe", Choice.FOR),
        ("denis", Choice.AGAINST),
        ("emma", Choice.AGAINST),
    ):
        meeting.cast_vote(board, motion.motion_id, member_id, choice)
    assert meeting.casting_voters(board, "i1") == []
    assert meeting.casting_voters(board, "another-item") == ["alice"]
    result, resolution = meeting.close_vote(board, motion.motion_id)
    assert (result.votes_for, result.votes_against) == (2, 2)
    assert not result.adopted and resolution is None
    assert result.decided_by_casting_vote is False


def test_a_chair_recused_after_voting_loses_the_vote_and_the_casting_vote():
    board = casting_board()
    meeting, motion = tied(board, Choice.FOR)
    meeting.declare_conflict("alice", "i1", "Déclaré en retard")
    result, _ = meeting.close_vote(board, motion.motion_id)
    assert (result.votes_for, result.votes_against) == (2, 3)
    assert not result.adopted and result.decided_by_casting_vote is False


@pytest.mark.parametrize("rule", [MajorityRule.TWO_THIRDS, MajorityRule.CONSENSUS])
def test_two_thirds_and_consensus_ignore_the_casting_vote(rule):
    board = casting_board()
    meeting, motion = tied(board, Choice.FOR, rule)
    result, resolution = meeting.close_vote(board, motion.motion_id)
    assert not result.adopted and resolution is None
    assert result.decided_by_casting_vote is False


@given(st.sampled_from(list(MajorityRule)), counts, counts, counts)
def test_a_casting_vote_changes_nothing_but_a_simple_majority_tie(
    rule, yes, no, abstain
):
    cast = votes(yes, no, abstain)
    for chair in ("y0", "n0", "a0"):
        with_chair = tally(rule, cast, [chair])
        without = tally(rule, cast)
        decided = rule == MajorityRule.SIMPLE and yes == no > 0 and chair != "a0"
        assert with_chair.decided_by_casting_vote is decided
        if decided:
            assert with_chair.adopted is (chair == "y0")
        else:
            assert with_chair == without


def test_co_chairs_break_a_tie_only_when_they_voted_alike():
    alike = [Vote("co1", Choice.FOR), Vote("co2", Choice.FOR)]
    alike += [Vote("x", Choice.AGAINST), Vote("y", Choice.AGAINST)]
    assert tally(MajorityRule.SIMPLE, alike, ["co1", "co2"]).adopted
    split = [Vote("co1", Choice.FOR), Vote("co2", Choice.AGAINST)]
    result = tally(MajorityRule.SIMPLE, split, ["co1", "co2"])
    assert not result.adopted and not result.decided_by_casting_vote


def test_adopted_motions_become_numbered_resolutions_in_order():
    board = full_board()
    meeting = open_meeting(board, EVERYONE)
    numbers = []
    for n in (1, 2):
        item(meeting, f"i{n}", title=f"Point {n}")
        motion = meeting.move(board, f"i{n}", f"Texte {n}", "alice", "bruno")
        meeting.cast_vote(board, motion.motion_id, "alice", Choice.FOR)
        _, resolution = meeting.close_vote(board, motion.motion_id)
        numbers.append(resolution.number)
        assert resolution.title == f"Point {n}"
        assert motion.resolution_id == resolution.resolution_id
    assert numbers == ["2026-001", "2026-002"]


def test_meeting_cannot_adjourn_with_a_vote_still_open():
    board = full_board()
    meeting = open_meeting(board, EVERYONE)
    item(meeting)
    meeting.move(board, "i1", "Adopter", "alice", "bruno")
    with pytest.raises(InvalidState):
        meeting.adjourn()


# --- minutes ----------------------------------------------------------------------


def test_minutes_are_adopted_at_a_later_meeting_only():
    board = full_board()
    first = open_meeting(board, EVERYONE)
    first.draft_minutes("Présences : 7. Résolution 2026-001 adoptée.")
    with pytest.raises(InvalidState):
        adopt_minutes(board, first, first)
    first.adjourn()
    second = open_meeting(
        board, EVERYONE, meeting_id="m2", at=MEETING_AT + timedelta(days=30)
    )
    adopt_minutes(board, first, second)
    assert first.minutes_adopted_at == "m2"
    with pytest.raises(InvalidState):
        first.draft_minutes("changé")


def test_minutes_adoption_needs_quorum():
    board = full_board()
    first = open_meeting(board, EVERYONE)
    first.draft_minutes("PV")
    first.adjourn()
    second = open_meeting(
        board, ["alice"], meeting_id="m2", at=MEETING_AT + timedelta(days=30)
    )
    with pytest.raises(QuorumNotMet):
        adopt_minutes(board, first, second)
    assert first.minutes_adopted_at is None


# --- follow-up -------------------------------------------------------------------


def adopted(board: Board, meeting: Meeting, item_id: str = "i1"):
    motion = meeting.move(board, item_id, "Mettre en œuvre", "alice", "bruno")
    meeting.cast_vote(board, motion.motion_id, "alice", Choice.FOR)
    return meeting.close_vote(board, motion.motion_id)[1]


def test_followup_records_updates_and_reports_status_changes():
    board = full_board()
    meeting = open_meeting(board, EVERYONE)
    item(meeting)
    res = adopted(board, meeting)
    assert res.status == DecisionStatus.PLANNED
    changed = res.follow_up(
        date(2026, 12, 5),
        DecisionStatus.IN_PROGRESS,
        20,
        "Premier comité",
        responsible="CISSS",
        due=date(2027, 3, 31),
    )
    assert changed and res.responsible == "CISSS"
    assert not res.follow_up(date(2026, 12, 20), progress=40, note="Suite")
    assert [u.progress for u in res.updates] == [20, 40]
    assert res.follow_up(date(2027, 1, 10), DecisionStatus.DONE)
    assert res.progress == 100
    with pytest.raises(InvalidState):
        res.follow_up(date(2027, 1, 11), DecisionStatus.IN_PROGRESS)


def test_progress_cannot_go_down_or_exceed_one_hundred():
    board = full_board()
    meeting = open_meeting(board, EVERYONE)
    item(meeting)
    res = adopted(board, meeting)
    res.follow_up(date(2026, 12, 1), progress=50)
    for bad in (30, 101):
        with pytest.raises(InvalidValue):
            res.follow_up(date(2026, 12, 2), progress=bad)
    assert res.progress == 50 and len(res.updates) == 1


def test_overdue_decisions_are_those_past_due_and_not_finished():
    board = full_board()
    meeting = open_meeting(board, EVERYONE)
    late, done, future = [], [], []
    for n, bucket in enumerate((late, done, future)):
        item(meeting, f"i{n}")
        bucket.append(adopted(board, meeting, f"i{n}"))
    late[0].follow_up(date(2026, 12, 1), due=date(2027, 1, 31))
    done[0].follow_up(date(2026, 12, 1), DecisionStatus.DONE, due=date(2027, 1, 1))
    future[0].follow_up(date(2026, 12, 1), due=date(2027, 6, 1))
    today = date(2027, 2, 1)
    assert overdue(late + done + future, today) == late
    assert not late[0].is_overdue(date(2027, 1, 31))


# --- items from events -------------------------------------------------------------

PRIORITIES = [
    {"rank": 2, "proposal_id": "p-b", "title": "Transport collectif"},
    {"rank": 1, "proposal_id": "p-a", "title": "Halte-garderie"},
]


def scheduled(meeting_id: str, days: int, kind=MeetingKind.PUBLIC) -> Meeting:
    return Meeting(
        meeting_id, "mrc-66023", kind, MEETING_AT + timedelta(days=days), "Salle"
    )


def test_results_land_on_the_next_public_meeting_in_rank_order():
    board = full_board()
    meetings = [
        scheduled("later", 60),
        scheduled("closed", 5, MeetingKind.CLOSED),
        scheduled("next", 20),
        scheduled("past", -20),
    ]
    target, items = place_participation_results(
        board, meetings, "proc-1", "Budget participatif 2027", PRIORITIES, MEETING_AT
    )
    assert target is not None and target.meeting_id == "next"
    assert [i.proposal_id for i in target.agenda] == ["p-a", "p-b"]
    assert all(i.process_id == "proc-1" and i.proposed for i in items)
    assert "Halte-garderie" in target.agenda[0].title


def test_a_proposal_listed_twice_in_the_results_is_placed_once_at_its_best_rank():
    board = full_board()
    meeting = scheduled("next", 20)
    twice = [*PRIORITIES, {"rank": 3, "proposal_id": "p-a", "title": "Halte"}]
    place_participation_results(board, [meeting], "p", "B", twice, MEETING_AT)
    assert [(i.rank, i.proposal_id) for i in meeting.agenda] == [
        (1, "p-a"),
        (2, "p-b"),
    ]


def test_the_same_results_placed_twice_are_added_once():
    board = full_board()
    meetings = [scheduled("next", 20), scheduled("later", 60)]
    for _ in range(2):
        place_participation_results(
            board, meetings, "proc-1", "Budget", PRIORITIES, MEETING_AT
        )
    assert [len(m.agenda) for m in meetings] == [2, 0]


def test_results_placed_on_a_meeting_since_held_are_not_placed_again():
    board = full_board()
    held = scheduled("held", 5)
    place_participation_results(board, [held], "proc-1", "B", PRIORITIES, MEETING_AT)
    held.open()
    held.adjourn()
    upcoming = [scheduled("next", 40)]
    again = place_participation_results(
        board, upcoming, "proc-1", "B", PRIORITIES, MEETING_AT
    )
    assert again == (None, []) and upcoming[0].agenda == []


def test_results_wait_on_the_board_until_a_public_meeting_is_scheduled():
    board = full_board()
    target, items = place_participation_results(
        board, [], "proc-1", "Budget", PRIORITIES, MEETING_AT
    )
    assert target is None and len(board.pending_items) == 2
    again = place_participation_results(
        board, [], "proc-1", "Budget", PRIORITIES, MEETING_AT
    )
    assert again == (None, []) and len(board.pending_items) == 2
    assert take_pending(board, scheduled("closed", 3, MeetingKind.CLOSED)) == []
    meeting = scheduled("next", 10)
    moved = take_pending(board, meeting)
    assert len(moved) == 2 and board.pending_items == []
    assert [i.rank for i in meeting.agenda] == [1, 2]


def test_watched_indicator_crossing_lands_on_next_public_meeting_once_per_period():
    board = full_board()
    board.watch(IndicatorWatch("attente", 30.0, title="Attente moyenne (jours)"))
    meetings = [scheduled("closed", 3, MeetingKind.CLOSED), scheduled("next", 9)]

    def consider(period, value, previous):
        return place_indicator_value(
            board, meetings, "attente", period, value, previous, MEETING_AT
        )

    assert consider("2026Q2", 25, None) == (None, None)
    target, item = consider("2026Q3", 41, 25)
    assert target is meetings[1] and item.title.startswith("Attente moyenne")
    assert consider("2026Q3", 41, 25) == (None, None)
    assert consider("2026Q4", 45, 41) == (None, None)
    assert place_indicator_value(
        board, meetings, "autre", "2026Q3", 99, 0, MEETING_AT
    ) == (None, None)
    assert [i.source for i in meetings[1].agenda] == ["indicator"]


def test_indicator_proposes_an_item_only_when_it_crosses_the_threshold():
    watch = IndicatorWatch("wait-days", 30.0, above=True, title="Attente moyenne")
    assert watch.crossed(None, 31)
    assert watch.crossed(25, 31)
    assert not watch.crossed(31, 40)
    assert not watch.crossed(20, 30)
    proposed = watch.item("2026Q3", 31)
    assert proposed.source == "indicator" and proposed.proposed
    low = IndicatorWatch("coverage", 0.8, above=False)
    assert low.crossed(0.9, 0.7) and not low.crossed(0.7, 0.6)


# --- public register ---------------------------------------------------------------

SECRET = "Dossier confidentiel de M. Tremblay"


def board_with_public_and_closed_decisions():
    board = full_board()
    public = open_meeting(board, EVERYONE)
    item(public, "i1", title="Plan d'action 2027")
    item(public, "i2", title=SECRET, in_camera=True)
    resolutions = [adopted(board, public, "i1"), adopted(board, public, "i2")]
    closed = open_meeting(board, EVERYONE, MeetingKind.CLOSED, "m2")
    item(closed, "i3", title=SECRET)
    resolutions.append(adopted(board, closed, "i3"))
    resolutions[0].follow_up(
        date(2026, 12, 1), DecisionStatus.IN_PROGRESS, 10, due=date(2027, 1, 1)
    )
    return board, resolutions, [public, closed]


def test_public_register_never_shows_closed_session_content_or_contact_details():
    board, resolutions, meetings = board_with_public_and_closed_decisions()
    register = public_register(board, resolutions, date(2027, 2, 1), meetings)
    text = json.dumps(register, ensure_ascii=False)
    assert [r["title"] for r in register["resolutions"]] == ["Plan d'action 2027"]
    assert len(register["meetings"]) == 1
    assert [i["title"] for i in register["meetings"][0]["agenda"]] == [
        "Plan d'action 2027"
    ]
    assert SECRET not in text
    assert "courriel.example" not in text and "418-555" not in text
    for member_id in SEATS.values():
        assert f'"{member_id}"' not in text


def test_public_register_shows_people_by_name_and_role_only():
    board, resolutions, _ = board_with_public_and_closed_decisions()
    register = public_register(board, resolutions, date(2027, 2, 1))
    entry = register["resolutions"][0]
    assert entry["moved_by"] == {
        "name": "Alice",
        "role": "chair — Citoyennes et citoyens / Citizens",
    }
    assert set(entry["seconded_by"]) == {"name", "role"}
    for seat in register["board"]["seats"]:
        assert set(seat["holder"]) == {"name", "role"}
    assert entry["follow_up"]["overdue"] is True
    assert entry["follow_up"]["status"] == "in_progress"


@given(st.text(min_size=8, max_size=40).filter(lambda s: s.strip() == s))
def test_no_closed_session_text_ever_reaches_the_register(secret):
    board = full_board()
    closed = open_meeting(board, EVERYONE, MeetingKind.CLOSED)
    closed.add_item(AgendaItem("s1", f"«{secret}»"))
    motion = closed.move(board, "s1", f"Texte {secret}", "alice", "bruno")
    closed.cast_vote(board, motion.motion_id, "chloe", Choice.FOR, f"obj {secret}")
    _, res = closed.close_vote(board, motion.motion_id)
    register = public_register(board, [res], date(2026, 12, 1), [closed])
    assert register == public_register(board, [], date(2026, 12, 1))
    assert register["resolutions"] == [] and register["meetings"] == []


def test_register_shows_minutes_only_once_adopted_and_names_who_proposed():
    board = full_board()
    first = open_meeting(board, EVERYONE)
    first.propose_motion_item(board, "emma", "Local pour les jeunes", "i1")
    first.draft_minutes("Procès-verbal de la séance du 30 novembre")
    first.adjourn()
    shown = public_register(board, [], date(2026, 12, 1), [first])["meetings"][0]
    assert shown["minutes"] is None
    assert shown["agenda"][0]["proposed_by"] == {
        "name": "Emma",
        "role": "Intervenantes et intervenants / Practitioners",
    }
    second = open_meeting(
        board, EVERYONE, meeting_id="m2", at=MEETING_AT + timedelta(days=30)
    )
    adopt_minutes(board, first, second)
    shown = public_register(board, [], date(2027, 1, 2), [first])["meetings"][0]
    assert shown["minutes"] == "Procès-verbal de la séance du 30 novembre"


def test_public_view_of_a_closed_meeting_shows_only_when_it_sits():
    board, _, (public, closed) = board_with_public_and_closed_decisions()
    closed.declare_conflict("chloe", "i3", "famille")
    assert public_meeting(board, closed) == {
        "meeting_id": "m2",
        "kind": "closed",
        "date": closed.scheduled_at.isoformat(),
        "status": "open",
    }
    shown = json.dumps(public_meeting(board, public), ensure_ascii=False)
    assert SECRET not in shown and "alice" not in shown and "votes" not in shown


def test_public_resolution_is_its_register_entry_and_none_when_adopted_in_camera():
    board, resolutions, meetings = board_with_public_and_closed_decisions()
    today = date(2027, 2, 1)
    register = public_register(board, resolutions, today, meetings)
    shown = [public_resolution(board, r, today) for r in resolutions]
    # adopted at a public meeting; on an in-camera item; at a closed meeting
    assert shown == [register["resolutions"][0], None, None]


def test_public_resolution_names_people_never_their_ids_or_contact_details():
    board = full_board()
    meeting = open_meeting(board, EVERYONE)
    item(meeting, "i1", title="Plan d'action 2027")
    motion = meeting.move(board, "i1", "Adopter le plan", "alice", "bruno")
    meeting.cast_vote(board, motion.motion_id, "alice", Choice.FOR)
    meeting.cast_vote(board, motion.motion_id, "chloe", Choice.ABSTAIN, "Trop vague")
    _, res = meeting.close_vote(board, motion.motion_id)
    shown = public_resolution(board, res, date(2026, 12, 1))
    assert shown is not None
    assert shown["moved_by"]["name"] == "Alice"
    assert [(o["name"], o["objection"]) for o in shown["objections"]] == [
        ("Chloe", "Trop vague")
    ]
    text = json.dumps(shown, ensure_ascii=False)
    assert "courriel.example" not in text and "418-555" not in text
    for member_id in SEATS.values():
        assert f'"{member_id}"' not in text
    for internal in ("resolution_id", "meeting_id", "item_id", "motion_id"):
        assert internal not in text
    # the schema /openapi.json documents is exactly what the domain builds
    PublicResolutionSchema().load(shown)


def test_public_meeting_views_match_their_documented_schema():
    board, _, (public, closed) = board_with_public_and_closed_decisions()
    public.propose_motion_item(board, "emma", "Local pour les jeunes", "i9")
    for meeting in (public, closed):
        PublicMeetingSchema().load(public_meeting(board, meeting))


def test_outside_the_board_an_in_camera_item_counts_as_unknown_for_quorum():
    board = full_board()
    meeting = open_meeting(board, EVERYONE)
    item(meeting, "i1", title="Plan d'action 2027")
    item(meeting, "i2", title=SECRET, in_camera=True)
    for item_id in ("i1", "i2"):
        meeting.declare_conflict("chloe", item_id, "famille")
    assert public_quorum(board, meeting, "i1")["present"] == 6
    assert meeting.quorum(board, "i2").present == 6
    unknown = public_quorum(board, meeting, "no-such-item")
    assert public_quorum(board, meeting, "i2") == unknown
    assert (
        unknown
        == quorum_counts(meeting.quorum(board))
        == {
            "met": True,
            "required": 4,
            "present": 7,
            "missing": {},
        }
    )


def test_outside_the_board_a_closed_meetings_quorum_is_its_public_view_only():
    board, _, (_, closed) = board_with_public_and_closed_decisions()
    shown = public_quorum(board, closed, "i3")
    assert shown == public_meeting(board, closed)
    assert set(shown) == {"meeting_id", "kind", "date", "status"}


def test_register_lists_vacancies():
    board = full_board()
    board.end_appointment("practitioners-1", date(2026, 6, 30))
    register = public_register(board, [], date(2026, 7, 1))
    assert register["board"]["vacancies"] == 1
    vacant = [s for s in register["board"]["seats"] if s["holder"] is None]
    assert [s["seat"] for s in vacant] == ["practitioners-1"]
