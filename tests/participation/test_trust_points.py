"""Score and dot votes are bounded by default (issue 13, hole 7).

A process created without ``max_points`` used to let one voter give 10**12
points. Now every points ballot has a bound: the process's ``max_points`` (1 to
1000), or by default 5 per proposal for a score vote and 10 in all for a dot
vote or a cumulative budget. The refusal names the field in French and English,
and nothing is stored.
"""

# ruff: noqa: F811 - ``env`` is the fixture imported from test_service
from __future__ import annotations

from typing import Any

import pytest

from services.participation import domain
from shared.errors import Invalid
from tests.participation.test_service import (  # noqa: F401 - the fixture
    _ballot_ready,
    _process,
    _stored_ballots,
    env,
)

pytestmark = pytest.mark.integration


def _refused(env: dict[str, Any], pid: str, points: dict[str, int]) -> list[str]:
    with pytest.raises(Invalid) as info:
        env["service"].cast_ballot(pid, {"points": points}, person="p3@x.org")
    assert set(info.value.fields) == {"points"}
    assert env["db"].participations.count_documents({"process_id": pid}) == 0
    assert _stored_ballots(env["db"], pid) == []
    return [str(m) for m in info.value.fields["points"]]


def test_a_score_vote_without_max_points_refuses_a_huge_score_naming_the_field(env):
    pid, ids = _ballot_ready(env, method="score")
    [message] = _refused(env, pid, {ids[0]: 10**12})
    assert "note maximale 5" in message and "maximum score 5" in message
    assert env["service"].get_process(pid)["max_points"] == domain.DEFAULT_MAX_SCORE
    receipt = env["service"].cast_ballot(
        pid, {"points": {ids[0]: 5, ids[1]: 0}}, person="p3@x.org"
    )
    assert len(receipt["receipt"]) == 64


def test_a_dot_vote_without_max_points_refuses_more_dots_than_the_default(env):
    pid, ids = _ballot_ready(env, method="dot")
    [message] = _refused(env, pid, {ids[0]: 6, ids[1]: 5})
    assert "au plus 10 points" in message and "at most 10 points" in message
    assert env["service"].get_process(pid)["max_points"] == domain.DEFAULT_MAX_DOTS
    env["service"].cast_ballot(pid, {"points": {ids[0]: 10}}, person="p3@x.org")


def test_a_cumulative_budget_vote_without_max_points_is_bounded_too(env):
    pid, ids = _ballot_ready(env, method="pb-greedy", budget="1000", cumulative=True)
    _refused(env, pid, {ids[0]: 10**12})


def test_a_process_keeps_its_own_max_points(env):
    pid, ids = _ballot_ready(env, method="score", max_points=10)
    _refused(env, pid, {ids[0]: 11})
    env["service"].cast_ballot(pid, {"points": {ids[0]: 10}}, person="p3@x.org")


@pytest.mark.parametrize("bad", [0, -1, 10**12, 1001])
def test_max_points_out_of_range_is_refused_at_creation_naming_the_field(env, bad):
    with pytest.raises(Invalid) as info:
        _process(env["service"], method="dot", max_points=bad)
    assert set(info.value.fields) == {"max_points"}
    [message] = info.value.fields["max_points"]
    assert "1" in message and "1000" in message and " / " in message
    assert env["db"].processes.count_documents({}) == 0


def test_a_process_stored_before_the_bound_gets_the_default_on_read_and_ballot(env):
    pid, ids = _ballot_ready(env, method="score")
    env["db"].processes.update_one({"_id": pid}, {"$set": {"max_points": None}})
    assert env["service"].get_process(pid)["max_points"] == domain.DEFAULT_MAX_SCORE
    _refused(env, pid, {ids[0]: 6})
