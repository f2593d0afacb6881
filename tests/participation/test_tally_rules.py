"""The explicit ballot rules of ranked counts, and readable refusals."""

from __future__ import annotations

import pytest

from services.participation.tally import (
    ApprovalProfile,
    IRVRules,
    RankedProfile,
    TallyError,
    approval,
    count,
    dot_vote,
    irv,
    read_blt,
    read_pb,
    schulze,
    score,
)

NAMES = ["A", "B", "C"]


def profile(*ballots: tuple[tuple[int, ...], ...], repeat: int = 1) -> RankedProfile:
    return RankedProfile(NAMES, {b: repeat for b in ballots})


def test_an_overvote_is_passed_over_or_exhausts_the_ballot_as_the_rule_says():
    ballots = profile(((0, 1), (2,)), ((2,),), ((0,),), ((1,),))
    skip = irv(ballots, IRVRules(overvote="skip"))
    exhaust = irv(ballots, IRVRules(overvote="exhaust"))
    assert skip.rounds[0].counts["C"] == 2
    assert exhaust.rounds[0].counts["C"] == 1
    assert exhaust.rounds[0].inactive["overvotes"] == 1


def test_too_many_consecutive_skipped_ranks_make_a_ballot_inactive():
    ballots = profile(((), (), (2,)), ((2,),), ((0,),))
    lenient = irv(ballots, IRVRules(max_skipped_ranks=None))
    strict = irv(ballots, IRVRules(max_skipped_ranks=1))
    assert lenient.rounds[0].counts["C"] == 2
    assert strict.rounds[0].counts["C"] == 1
    assert strict.rounds[0].inactive["skipped_rankings"] == 1


def test_exhausted_ballots_are_counted_and_not_part_of_the_majority():
    # A 4, B 2, C 2: no majority of 8; C (tie, listed last) out, one C ballot
    # exhausts, A wins with 4 of the 7 continuing votes.
    ballots = RankedProfile(
        NAMES, {((0,),): 4, ((1,),): 2, ((2,),): 1, ((2,), (1,)): 1}
    )
    result = irv(ballots)
    last = result.rounds[-1]
    assert last.exhausted == 1
    assert last.threshold == 4 and result.winners == ["A"]


def test_an_elimination_tie_goes_back_to_the_earlier_round_where_they_differed():
    # round 1: A 4, B 3, C 2, D 1 -> D out to C; round 2: B 3, C 3 tied, C was lower
    names = ["A", "B", "C", "D"]
    ballots = RankedProfile(
        names, {((0,),): 4, ((1,),): 3, ((2,),): 2, ((3,), (2,)): 1}
    )
    result = irv(ballots)
    assert result.rounds[1].candidates == ["C"]


def test_batch_elimination_removes_candidates_that_cannot_catch_up_together():
    names = ["A", "B", "C", "D"]
    ballots = RankedProfile(names, {((0,),): 10, ((1,),): 8, ((2,),): 2, ((3,),): 1})
    result = irv(ballots, IRVRules(batch_elimination=True))
    assert result.rounds[0].candidates == ["D", "C"]


def test_blt_with_an_unknown_candidate_number_names_the_line(tmp_path):
    path = tmp_path / "bad.blt"
    path.write_text('2 1\n1 1 3 0\n0\n"A"\n"B"\n"t"\n')
    with pytest.raises(TallyError, match="ligne 2.*line 2"):
        read_blt(path)


def test_pb_with_a_cost_that_is_not_a_number_names_row_and_field(tmp_path):
    path = tmp_path / "bad.pb"
    path.write_text(
        "META\nkey;value\nbudget;100\nvote_type;approval\n"
        "PROJECTS\nproject_id;cost\n1;abc\nVOTES\nvoter_id;vote\n1;1\n"
    )
    with pytest.raises(TallyError, match='« cost ».*field "cost"'):
        read_pb(path)


def test_a_ranked_method_on_a_budget_file_is_refused_in_both_languages(data_dir):
    instance = read_pb(data_dir / "pabulib" / "poland_warszawa_2019_nadwisle.pb")
    with pytest.raises(TallyError, match="demande.*needs"):
        count("irv", instance)


def test_schulze_reproduces_the_published_45_voter_example_won_by_e():
    # Schulze (2011), the example of his paper: E wins, ranking E > A > C > B > D.
    names = ["A", "B", "C", "D", "E"]
    groups = {
        "ACBED": 5,
        "ADECB": 5,
        "BEDAC": 8,
        "CABED": 3,
        "CAEBD": 7,
        "CBADE": 2,
        "DCEBA": 7,
        "EBADC": 8,
    }
    ballots = {
        tuple((names.index(c),) for c in order): n for order, n in groups.items()
    }
    result = schulze(RankedProfile(names, ballots))
    assert result.winners == ["E"]
    assert result.parameters["ranking"] == ["E", "A", "C", "B", "D"]
    d = result.extra["pairwise"]
    assert (d[0][1], d[1][0]) == (20, 25)  # A vs B, as in the paper's matrix
    assert result.extra["strongest_paths"][4][0] == 25  # p[E, A]


def test_score_and_dot_votes_add_points_and_refuse_out_of_range_ballots():
    names = ["A", "B", "C"]
    profile = ApprovalProfile.from_ballots(
        names, [{0: 5, 1: 3}, {1: 5}, {2: 4, 0: 1}], seats=1, kind="cumulative"
    )
    assert score(profile, max_score=5).rounds[0].counts == {"B": 8, "A": 6, "C": 4}
    assert dot_vote(profile, dots=8).winners == ["B"]
    with pytest.raises(TallyError, match="score"):
        score(profile, max_score=4)
    with pytest.raises(TallyError, match="dots"):
        dot_vote(profile, dots=5)


def test_approval_breaks_a_tie_for_the_last_seat_by_file_order_and_says_so():
    profile = ApprovalProfile.from_ballots(["A", "B", "C"], [[0, 1], [0, 2]], seats=2)
    result = approval(profile)
    assert result.winners == ["A", "B"]
    assert "tie" in result.rounds[0].note


def test_ballots_given_by_name_are_grouped_without_changing_the_count():
    rankings = [["A", "B"], ["B"], ["A", "B"], ["C", "B"], ["A", "B"]] * 3
    grouped = RankedProfile.from_named_rankings(rankings)
    assert grouped.total == 15 and len(grouped.ballots) == 3
    assert grouped.candidates == ["A", "B", "C"]
    assert irv(grouped).rounds[0].counts == {"A": 9, "B": 3, "C": 3}
