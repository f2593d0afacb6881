"""Every RCTab setting is honoured as RCTab's documentation says, or refused by name.

Each test writes a small contest (config JSON + generic CSV cast-vote records,
one column per candidate holding the rank) the way RCTab's own test data does.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.participation.tally import Refusal, count, read_rctab
from services.participation.tally.rctab import JavaRandom, java_shuffle
from shared.cli import main

BASE = {
    "tabulatorVersion": "TEST",
    "outputSettings": {"contestName": "Test", "outputDirectory": "output"},
    "cvrFileSources": [
        {
            "filePath": "cvr.csv",
            "contestId": "",
            "firstVoteColumnIndex": "2",
            "firstVoteRowIndex": "2",
            "idColumnIndex": "1",
            "provider": "genericCsv",
            "undeclaredWriteInLabel": "Write-In",
        }
    ],
    "candidates": [
        {"name": n, "excluded": False, "aliases": []} for n in ("A", "B", "C", "D")
    ],
    "rules": {
        "tiebreakMode": "useCandidateOrder",
        "overvoteRule": "exhaustImmediately",
        "winnerElectionMode": "singleWinnerMajority",
        "randomSeed": "",
        "numberOfWinners": "1",
        "decimalPlacesForVoteArithmetic": "4",
        "minimumVoteThreshold": "0",
        "maxSkippedRanksAllowed": "1",
        "maxRankingsAllowed": "max",
        "nonIntegerWinningThreshold": False,
        "hareQuota": False,
        "batchElimination": False,
        "continueUntilTwoCandidatesRemain": False,
        "stopTabulationEarlyAfterRound": "",
        "exhaustOnDuplicateCandidate": False,
        "rulesDescription": "test",
    },
}


def contest(
    tmp_path: Path,
    ballots: list[str],
    *,
    rules: dict | None = None,
    columns: str = "A,B,C,D",
    edit=None,
) -> Path:
    """Write the config and its CSV; ``ballots`` are rows of ranks, e.g. "1,2,,"."""
    config = copy.deepcopy(BASE)
    config["rules"].update(rules or {})
    if edit:
        edit(config)
    rows = [f"id,{columns}"] + [f"b{i},{row}" for i, row in enumerate(ballots)]
    (tmp_path / "cvr.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def refused(path: Path) -> Refusal:
    with pytest.raises(Refusal) as info:
        count("irv", read_rctab(path))
    return info.value


# -- honoured -------------------------------------------------------------------


def test_max_rankings_max_means_the_number_of_declared_candidates(tmp_path):
    path = contest(tmp_path, ["1,2,3,4", "2,1,,", "1,,,"])
    assert read_rctab(path).rules.max_rankings == 4
    assert count("irv", read_rctab(path)).winners == ["A"]


def test_a_ballot_ranking_beyond_max_rankings_is_refused_as_rctab_refuses_the_file(
    tmp_path,
):
    path = contest(tmp_path, ["1,2,3,", "1,,,"], rules={"maxRankingsAllowed": "2"})
    exc = refused(path)
    assert exc.setting == "rules.maxRankingsAllowed" and exc.value == 2
    assert "cvr.csv" in str(exc) and "line 2" in str(exc)


def test_an_undeclared_name_on_the_ballots_is_refused_not_added(tmp_path):
    path = contest(tmp_path, ["1,,,,", ",,,,1"], columns="A,B,C,D,Zed")
    exc = refused(path)
    assert exc.value == "Zed" and "not declared" in str(exc)


def test_the_undeclared_write_in_label_never_wins_and_is_dropped_first(tmp_path):
    # Write-In leads round 1 with 3 of 6: it cannot win and is eliminated first.
    ballots = ["1,,,,", "1,,,,", ",,,1,", ",,,,1", ",,,,1", ",2,,,1"]
    path = contest(tmp_path, ballots, columns="A,B,C,D,Write-In")
    result = count("irv", read_rctab(path))
    assert result.rounds[0].candidates == ["Undeclared Write-ins"]
    assert "Undeclared Write-ins" not in result.winners


def test_an_excluded_candidate_is_skipped_on_ballots_and_never_counted(tmp_path):
    def exclude_a(config):
        config["candidates"][0]["excluded"] = True

    path = contest(tmp_path, ["1,2,,", "1,2,,", "1,,2,", ",,1,"], edit=exclude_a)
    result = count("irv", read_rctab(path))
    assert "A" not in result.rounds[0].counts
    assert result.rounds[0].counts["B"] == 2
    assert result.winners == ["B"]


def test_a_tie_of_the_last_two_is_decided_in_that_round_as_rctab_does(tmp_path):
    # A 2, B 2: nobody reaches 3; RCTab picks the winner in this round
    # (useCandidateOrder: the earliest listed wins), no extra round.
    def two(config):
        del config["candidates"][2:]

    path = contest(tmp_path, ["1,", "1,", ",1", ",1"], columns="A,B", edit=two)
    result = count("irv", read_rctab(path))
    assert len(result.rounds) == 1
    assert result.winners == ["A"]


def test_bottoms_up_eliminates_until_as_many_candidates_as_seats_remain(tmp_path):
    rules = {"winnerElectionMode": "bottomsUp", "numberOfWinners": "2"}
    ballots = ["1,,,"] * 5 + [",1,,"] * 3 + [",,1,"] * 2 + [",2,,1"]
    result = count("irv", read_rctab(contest(tmp_path, ballots, rules=rules)))
    assert set(result.winners) == {"A", "B"}
    assert [r.action for r in result.rounds] == ["eliminate", "eliminate", "elect"]
    # no surplus is transferred in bottoms-up: A keeps its 5 votes
    assert result.rounds[-1].counts["A"] == 5


def test_one_winner_per_round_elects_only_the_top_candidate_each_round(tmp_path):
    rules = {
        "winnerElectionMode": "multiWinnerAllowOnlyOneWinnerPerRound",
        "numberOfWinners": "2",
    }
    # threshold floor(9/3)+1 = 4: A 5 and B 4 both reach it in round 1
    ballots = ["1,,,"] * 5 + [",1,,"] * 4
    one = count("irv", read_rctab(contest(tmp_path, ballots, rules=rules)))
    assert one.rounds[0].candidates == ["A"]
    assert one.rounds[1].candidates == ["B"]
    rules["winnerElectionMode"] = "multiWinnerAllowMultipleWinnersPerRound"
    several = count("irv", read_rctab(contest(tmp_path, ballots, rules=rules)))
    assert several.rounds[0].candidates == ["A", "B"]


def test_continue_until_two_candidates_remain_counts_past_the_majority(tmp_path):
    ballots = ["1,,,"] * 6 + [",1,,"] * 2 + [",,1,"] + [",,,1"]
    plain = count("irv", read_rctab(contest(tmp_path, ballots)))
    assert len(plain.rounds) == 1 and plain.winners == ["A"]
    rules = {"continueUntilTwoCandidatesRemain": True}
    longer = count("irv", read_rctab(contest(tmp_path, ballots, rules=rules)))
    assert longer.winners == ["A"]
    assert set(longer.rounds[-1].counts) - {"C", "D"} == {"A", "B"}
    # round 1 elects A, rounds 2 and 3 eliminate D then C, and RCTab tabulates
    # one last round after the final elimination
    assert [r.action for r in longer.rounds] == [
        "elect",
        "eliminate",
        "eliminate",
        "count",
    ]


def test_stop_tabulation_early_after_round_stops_without_a_winner(tmp_path):
    ballots = ["1,2,,"] * 3 + [",1,,"] * 2 + [",,1,"] * 2 + [",,,1"]
    rules = {"stopTabulationEarlyAfterRound": "1"}
    result = count("irv", read_rctab(contest(tmp_path, ballots, rules=rules)))
    assert len(result.rounds) == 1 and result.winners == []


def test_minimum_vote_threshold_drops_every_candidate_below_it_at_once(tmp_path):
    ballots = ["1,,,"] * 4 + [",1,,"] * 3 + [",,1,"] + [",,,1"]
    rules = {"minimumVoteThreshold": "2"}
    result = count("irv", read_rctab(contest(tmp_path, ballots, rules=rules)))
    assert set(result.rounds[0].candidates) == {"C", "D"}


def test_hare_quota_divides_by_the_seats(tmp_path):
    rules = {
        "winnerElectionMode": "multiWinnerAllowMultipleWinnersPerRound",
        "numberOfWinners": "2",
        "hareQuota": True,
    }
    ballots = ["1,,,"] * 5 + [",1,,"] * 4 + [",,1,"]
    result = count("irv", read_rctab(contest(tmp_path, ballots, rules=rules)))
    assert result.rounds[0].threshold == 5  # ceiling(10 / 2)


def test_java_random_matches_java_util_random():
    # Known values of java.util.Random: new Random(0).nextInt() == -1155484576,
    # new Random(0).nextDouble() == 0.730967787376657
    assert JavaRandom(0).next(32) == -1155484576
    assert JavaRandom(0).next_double() == pytest.approx(0.730967787376657, abs=1e-15)
    assert sorted(java_shuffle(["a", "b", "c", "d"], JavaRandom(7))) == [
        "a",
        "b",
        "c",
        "d",
    ]


def test_a_random_tiebreak_is_the_same_for_the_same_seed(tmp_path):
    rules = {"tiebreakMode": "random", "randomSeed": "3"}
    ballots = ["1,,,"] * 3 + [",1,,"] * 2 + [",,1,"] + [",,,1"]
    first = count("irv", read_rctab(contest(tmp_path, ballots, rules=rules)))
    again = count("irv", read_rctab(contest(tmp_path, ballots, rules=rules)))
    assert first.rounds[0].candidates == again.rounds[0].candidates
    assert first.rounds[0].candidates[0] in {"C", "D"}


# -- refused by name ------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "setting"),
    [
        (
            # multi-pass IRV is counted now (test_tally_multipass.py); with one
            # seat RCTab refuses it
            {"winnerElectionMode": "multiPassIrv", "numberOfWinners": "1"},
            "winnerElectionMode",
        ),
        ({"winnerElectionMode": "somethingElse"}, "winnerElectionMode"),
        ({"tiebreakMode": "stopCountingAndAsk"}, "tiebreakMode"),
        ({"tiebreakMode": "previousRoundCountsThenAsk"}, "tiebreakMode"),
        ({"tiebreakMode": "random", "randomSeed": ""}, "randomSeed"),
        ({"overvoteRule": "sometimes"}, "overvoteRule"),
        ({"decimalPlacesForVoteArithmetic": "-1"}, "decimalPlacesForVoteArithmetic"),
        ({"decimalPlacesForVoteArithmetic": "21"}, "decimalPlacesForVoteArithmetic"),
        ({"numberOfWinners": "9"}, "numberOfWinners"),
        ({"numberOfWinners": "2"}, "numberOfWinners"),  # singleWinnerMajority
        ({"maxRankingsAllowed": "0"}, "maxRankingsAllowed"),
        ({"maxRankingsAllowed": "many"}, "maxRankingsAllowed"),
        ({"maxSkippedRanksAllowed": "-2"}, "maxSkippedRanksAllowed"),
        ({"minimumVoteThreshold": "2000000"}, "minimumVoteThreshold"),
        ({"hareQuota": True}, "hareQuota"),  # single winner
        ({"nonIntegerWinningThreshold": True}, "nonIntegerWinningThreshold"),
        (
            {"multiSeatBottomsUpPercentageThreshold": "20"},
            "multiSeatBottomsUpPercentageThreshold",
        ),
        ({"treatBlankAsUndeclaredWriteIn": True}, "treatBlankAsUndeclaredWriteIn"),
        ({"batchElimination": "yes"}, "batchElimination"),
        ({"someFutureRule": True}, "someFutureRule"),
    ],
)
def test_a_rule_the_engine_does_not_apply_is_refused_by_name(tmp_path, rules, setting):
    exc = refused(contest(tmp_path, ["1,,,"], rules=rules))
    assert exc.setting == f"rules.{setting}"
    assert f"« rules.{setting} »" in exc.message("fr")
    assert f'"rules.{setting}"' in exc.message("en")


def test_batch_elimination_in_a_multi_seat_count_is_refused(tmp_path):
    rules = {
        "winnerElectionMode": "multiWinnerAllowMultipleWinnersPerRound",
        "numberOfWinners": "2",
        "batchElimination": True,
    }
    assert refused(contest(tmp_path, ["1,,,"], rules=rules)).setting == (
        "rules.batchElimination"
    )


@pytest.mark.parametrize(
    ("provider", "file_name", "shown"),
    [
        ("ess", "cvr.xlsx", "cvr.xlsx"),
        ("dominion", "cvr", "cvr"),
        ("cdf", "cvr.xml", "cvr.xml"),
    ],
)
def test_a_malformed_cvr_file_of_a_read_format_is_refused_by_file_name(
    tmp_path, provider, file_name, shown
):
    # These formats are read now (tests/participation/test_tally_cvr_formats.py);
    # a file that is not what its provider exports is refused, naming the file.
    def use(config):
        source = config["cvrFileSources"][0]
        source.update(provider=provider, filePath=file_name)
        if provider != "ess":
            for key in ("firstVoteColumnIndex", "firstVoteRowIndex", "idColumnIndex"):
                source[key] = ""
            source["contestId"] = "Mayor"
            source["undeclaredWriteInLabel"] = ""

    path = contest(tmp_path, ["1,,,"], edit=use)
    (tmp_path / file_name).write_text("<CastVoteRecordReport/>", encoding="utf-8")
    exc = refused(path)
    assert exc.setting == "cvrFileSources[0].filePath"
    assert shown in str(exc)


def test_an_unknown_cvr_provider_is_refused_by_name(tmp_path):
    def use(config):
        config["cvrFileSources"][0]["provider"] = "unisyn"

    exc = refused(contest(tmp_path, ["1,,,"], edit=use))
    assert exc.setting == "cvrFileSources[0].provider" and exc.value == "unisyn"


@pytest.mark.parametrize(
    ("where", "key"),
    [
        ("", "extraTopLevel"),
        ("outputSettings", "writeEverything"),
        ("cvrFileSources", "countingGroupId"),
        ("candidates", "party"),
    ],
)
def test_an_unknown_key_anywhere_in_the_config_is_refused_by_name(tmp_path, where, key):
    def add(config):
        target = config if not where else config[where]
        if isinstance(target, list):
            target = target[0]
        target[key] = "x"

    exc = refused(contest(tmp_path, ["1,,,"], edit=add))
    assert exc.setting.endswith(key)


def test_the_cli_refuses_with_exit_2_both_languages_and_no_result(tmp_path, capsys):
    path = contest(tmp_path, ["1,,,"], rules={"winnerElectionMode": "multiPassIrv"})
    assert main(["tally", str(path), "--method", "irv", "--json"]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert "« rules.winnerElectionMode » = 'multiPassIrv'" in out.err
    assert "\"rules.winnerElectionMode\" = 'multiPassIrv'" in out.err


# -- properties -----------------------------------------------------------------

KEY = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(key=KEY)
def test_every_rules_key_is_either_read_or_refused(tmp_path, key):
    path = contest(tmp_path, ["1,2,,", ",1,2,"], rules={key: "1"})
    try:
        count("irv", read_rctab(path))
    except Refusal as exc:
        assert exc.setting.startswith("rules.")
    else:
        assert key in BASE["rules"] or key in {
            "numberOfWinners",
            "randomSeed",
            "maxRankingsAllowed",
            "maxSkippedRanksAllowed",
            "minimumVoteThreshold",
            "decimalPlacesForVoteArithmetic",
            "stopTabulationEarlyAfterRound",
        }


BALLOT = st.lists(st.sampled_from(["", "1", "2", "3"]), min_size=4, max_size=4).map(
    ",".join
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ballots=st.lists(BALLOT, min_size=1, max_size=30), seats=st.sampled_from([1, 2]))
def test_an_excluded_candidate_never_wins_and_order_does_not_matter(
    tmp_path, ballots, seats
):
    def exclude_b(config):
        config["candidates"][1]["excluded"] = True

    rules = {"numberOfWinners": str(seats), "overvoteRule": "alwaysSkipToNextRank"}
    if seats > 1:
        rules["winnerElectionMode"] = "multiWinnerAllowMultipleWinnersPerRound"
    result = count(
        "irv", read_rctab(contest(tmp_path, ballots, rules=rules, edit=exclude_b))
    )
    assert "B" not in result.winners
    reverse = count(
        "irv", read_rctab(contest(tmp_path, ballots[::-1], rules=rules, edit=exclude_b))
    )
    assert reverse.winners == result.winners


def test_a_file_of_unknown_extension_is_refused_not_read_as_blt(tmp_path, capsys):
    path = tmp_path / "cvr.xml"
    path.write_text("<CastVoteRecordReport/>", encoding="utf-8")
    assert main(["tally", str(path), "--method", "irv"]) == 2
    out = capsys.readouterr()
    assert out.out == "" and "--format" in out.err
