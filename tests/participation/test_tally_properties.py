"""Properties every count must have, on generated ballots (hypothesis)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from services.participation.tally import (
    ApprovalProfile,
    PBInstance,
    RankedProfile,
    irv,
    pairwise,
    pb_greedy,
    pb_mes,
    schulze,
)


def rankings(n_cands: int):
    return st.lists(
        st.permutations(range(n_cands)).flatmap(
            lambda perm: st.integers(1, len(perm)).map(lambda k: perm[:k])
        ),
        min_size=1,
        max_size=40,
    )


@settings(max_examples=150, deadline=None)
@given(st.integers(2, 5).flatmap(lambda n: st.tuples(st.just(n), rankings(n))))
def test_a_condorcet_winner_always_wins_schulze(case):
    n, ballots = case
    profile = RankedProfile.from_rankings([f"c{i}" for i in range(n)], ballots)
    d = pairwise(profile)
    condorcet = [
        a for a in range(n) if all(d[a][b] > d[b][a] for b in range(n) if b != a)
    ]
    result = schulze(profile)
    if condorcet:
        assert result.winners == [f"c{condorcet[0]}"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from([(0,), (1,), (0, 1), (1, 0)]), min_size=1, max_size=60))
def test_irv_with_two_candidates_elects_the_majority_of_first_choices(ballots):
    profile = RankedProfile.from_rankings(["a", "b"], ballots)
    a = sum(1 for b in ballots if b[0] == 0)
    b = len(ballots) - a
    result = irv(profile)
    if a != b:
        assert result.winners == ["a" if a > b else "b"]
        assert len(result.rounds) == 1
        assert result.rounds[0].counts == {"a": a, "b": b}


pb_cases = st.integers(2, 6).flatmap(
    lambda m: st.tuples(
        st.lists(st.integers(1, 100), min_size=m, max_size=m),
        st.integers(1, 300),
        st.lists(st.sets(st.integers(0, m - 1), min_size=1), min_size=1, max_size=25),
    )
)


@settings(max_examples=100, deadline=None)
@given(pb_cases)
def test_no_participatory_budget_outcome_exceeds_its_budget(case):
    costs, budget, ballots = case
    names = [f"p{i}" for i in range(len(costs))]
    profile = ApprovalProfile.from_ballots(names, ballots)
    instance = PBInstance(
        names, [Fraction(c) for c in costs], Fraction(budget), profile
    )
    for result in (pb_greedy(instance), pb_mes(instance), pb_mes(instance, "none")):
        spent = sum(costs[names.index(w)] for w in result.winners)
        assert spent <= budget
        assert len(set(result.winners)) == len(result.winners)
