"""RCTab's multi-pass IRV: one single-winner IRV per seat, each winner excluded after.

RCTab's documentation ("multiPassIrv"): the contest is tabulated once per
seat as a single-winner IRV; the winner of each pass is excluded from the
following passes. It is not STV: no surplus moves, and the first-choice
leader need not win a seat.
"""

from __future__ import annotations

import pytest

from services.participation.tally import Refusal, count, rctab_summary, read_rctab

from .test_tally_rctab_settings import contest

MULTI = {"winnerElectionMode": "multiPassIrv", "numberOfWinners": "2"}
# A>B x4, B>C x3, C>B x2 (columns A,B,C,D)
BALLOTS = ["1,2,,"] * 4 + [",1,2,"] * 3 + [",2,1,"] * 2


def test_each_pass_is_a_single_winner_irv_without_the_earlier_winners(tmp_path):
    result = count("irv", read_rctab(contest(tmp_path, BALLOTS, rules=MULTI)))
    # pass 1: D then C eliminated, B 5 of 9 beats A 4; pass 2 without B:
    # B>C and C>B ballots give C 5 of 9 in the first round
    assert result.winners == ["B", "C"]
    assert [p["winner"] for p in result.parameters["passes"]] == ["B", "C"]
    second = [r for r in result.rounds if r.note.startswith("passe/pass 2")]
    assert "B" not in second[0].counts and second[0].counts["C"] == 5
    # A led the first choices of both passes and wins no seat
    assert result.rounds[0].counts["A"] == 4


def test_multi_pass_follows_the_single_winner_rules_such_as_batch_elimination(
    tmp_path,
):
    rules = {**MULTI, "batchElimination": True}
    result = count("irv", read_rctab(contest(tmp_path, BALLOTS, rules=rules)))
    assert result.winners == ["B", "C"]


def test_multi_pass_random_draw_after_the_first_pass_is_refused(tmp_path):
    rules = {**MULTI, "tiebreakMode": "random", "randomSeed": "1"}
    # pass 2 (A excluded): B and C tie at 1, C and D at 0 -> draws
    ballots = ["1,,,"] * 3 + [",1,,"] + [",,1,"]
    with pytest.raises(Refusal) as info:
        count("irv", read_rctab(contest(tmp_path, ballots, rules=rules)))
    assert info.value.setting == "rules.tiebreakMode"


def test_multi_pass_rctab_summary_is_refused_rctab_writes_one_per_pass(tmp_path):
    with pytest.raises(Refusal) as info:
        rctab_summary(read_rctab(contest(tmp_path, BALLOTS, rules=MULTI)))
    assert info.value.setting == "--format-out"
