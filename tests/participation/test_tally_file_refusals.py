"""BLT, long-CSV and Pabulib files that cannot be counted honestly are refused by name,
with the file and line, instead of being read as something else."""

from __future__ import annotations

import pytest

from services.participation.tally import (
    RankedProfile,
    Refusal,
    count,
    read_blt,
    read_pb,
    read_ranks_csv,
)


def blt(tmp_path, body: str):
    path = tmp_path / "e.blt"
    path.write_text(body, encoding="utf-8")
    return path


def refusal(reader, path) -> Refusal:
    with pytest.raises(Refusal) as info:
        reader(path)
    return info.value


def test_blt_equal_rankings_are_refused_with_the_line(tmp_path):
    exc = refusal(read_blt, blt(tmp_path, '3 1\n1 1=2 3 0\n0\n"A"\n"B"\n"C"\n"t"\n'))
    assert exc.setting == "ballot" and exc.value == "1=2"
    assert "e.blt ligne/line 2" in str(exc)


def test_blt_candidate_ranked_twice_is_refused(tmp_path):
    exc = refusal(read_blt, blt(tmp_path, '3 1\n1 1 2 1 0\n0\n"A"\n"B"\n"C"\n"t"\n'))
    assert "ranked twice" in str(exc)


@pytest.mark.parametrize("header", ["3 4", "3 0", "x 1"])
def test_blt_impossible_seat_counts_are_refused(tmp_path, header):
    exc = refusal(read_blt, blt(tmp_path, f'{header}\n1 1 0\n0\n"A"\n"B"\n"C"\n"t"\n'))
    assert exc.setting in ("nseats", "ncand")


def test_blt_more_seats_than_candidates_left_after_withdrawals_is_refused(tmp_path):
    exc = refusal(read_blt, blt(tmp_path, '3 2\n-1 -2\n1 3 0\n0\n"A"\n"B"\n"C"\n"t"\n'))
    assert exc.setting == "nseats"


def test_blt_negative_weight_is_refused(tmp_path):
    exc = refusal(read_blt, blt(tmp_path, '2 1\n-3 1 0\n0\n"A"\n"B"\n"t"\n'))
    assert exc.setting in ("withdrawn", "weight")


def test_more_seats_than_candidates_is_refused_not_a_crash():
    profile = RankedProfile(["A", "B"], {((0,),): 3, ((1,),): 2})
    for method in ("irv", "stv-scottish", "stv-meek", "stv-wigm"):
        with pytest.raises(Refusal) as info:
            count(method, profile, seats=3)
        assert info.value.setting == "seats"


@pytest.mark.parametrize(
    ("rows", "setting"),
    [("b1,1.5,A", "rank"), ("b1,0,A", "rank"), (",1,A", "ballot_id")],
)
def test_long_csv_bad_rank_or_ballot_id_is_refused_with_the_line(
    tmp_path, rows, setting
):
    path = tmp_path / "r.csv"
    path.write_text(f"ballot_id,rank,choice\nb0,1,B\n{rows}\n", encoding="utf-8")
    exc = refusal(read_ranks_csv, path)
    assert exc.setting == setting and "r.csv ligne/line 3" in str(exc)


PB = """META
key;value
budget;100
vote_type;approval
num_projects;2
num_votes;2
PROJECTS
project_id;cost
1;60
2;50
VOTES
voter_id;vote
v1;1
v2;1,2
"""


@pytest.mark.parametrize(
    ("edit", "setting"),
    [
        (("num_votes;2", "num_votes;3"), "num_votes"),
        (("num_projects;2", "num_projects;5"), "num_projects"),
        (("vote_type;approval", "vote_type;ordinal"), "vote_type"),
        (("vote_type;approval", "vote_type;ranked"), "vote_type"),
        (("VOTES\n", "COMMENTS\nx\nVOTES\n"), "section"),
        (("v2;1,2", "v1;1,2"), "voter_id"),
        (("v2;1,2", "v2;2,2"), "vote"),
        (("2;50", "1;50"), "project_id"),
        (("2;50", "2;-50"), "cost"),
    ],
)
def test_pabulib_bad_sections_counts_and_votes_are_refused_by_name(
    tmp_path, edit, setting
):
    path = tmp_path / "x.pb"
    path.write_text(PB.replace(*edit), encoding="utf-8")
    assert refusal(read_pb, path).setting == setting


def test_pabulib_ballot_longer_than_max_length_is_refused(tmp_path):
    path = tmp_path / "x.pb"
    path.write_text(
        PB.replace("num_votes;2", "num_votes;2\nmax_length;1"), encoding="utf-8"
    )
    exc = refusal(read_pb, path)
    assert exc.setting == "max_length" and "ligne/line 15" in str(exc)
