"""The fast Equal Shares run makes exactly the decisions of the plain one.

``_mes_run`` (zero-money groups dropped, pricing by bisection over prefix
sums) is checked against ``_mes_run_reference`` (the straightforward exact
run): same projects in the same order, on every endowment the add-one
completion tries for Wieliczka, on abcvoting committees and on generated
approval and cumulative budgets, where ties are frequent; and the add-one
completion, whose runs stop once their verdict against the budget is known,
ends at the endowment (and after as many tries) as full runs do.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.participation.tally import ApprovalProfile, PBInstance, pb_mes, read_pb
from services.participation.tally.pb import _mes_run, _mes_run_reference, _Prepared


def _same_runs(instance: PBInstance, endowments) -> None:
    prep = _Prepared(instance)
    for e in endowments:
        fast, fast_rounds = _mes_run(prep, Fraction(e), True)
        plain, plain_rounds = _mes_run_reference(prep, Fraction(e), True)
        assert fast == plain, e
        assert [r.counts for r in fast_rounds] == [r.counts for r in plain_rounds]


@pytest.mark.slow
def test_fast_run_funds_what_the_plain_run_funds_at_every_wieliczka_endowment(
    data_dir,
):
    instance = read_pb(
        data_dir / "pabulib_mes" / "poland_wieliczka_2023_green-budget.pb"
    )
    assert int(instance.budget // instance.profile.total) == 151
    _same_runs(instance, range(151, 317))


@pytest.mark.parametrize(
    "name",
    [
        "poland_czestochowa_2020_grabowka.pb",
        "poland_warszawa_2017_przyczolek-grochowski.pb",
    ],
)
def test_fast_run_funds_what_the_plain_run_funds_on_pabulib_budgets(data_dir, name):
    instance = read_pb(data_dir / "pabulib" / name)
    start = int(instance.budget // instance.profile.total)
    _same_runs(instance, [start, start * 2, start * 5, Fraction(start * 7, 3)])


budgets = st.integers(2, 7).flatmap(
    lambda m: st.tuples(
        st.lists(st.integers(1, 12), min_size=m, max_size=m),
        st.lists(
            st.dictionaries(st.integers(0, m - 1), st.integers(1, 3), min_size=1),
            min_size=1,
            max_size=30,
        ),
        st.booleans(),
        st.integers(1, 40),
    )
)


@settings(max_examples=300, deadline=None)
@given(budgets)
def test_fast_run_breaks_ties_as_the_plain_run_on_generated_budgets(case):
    costs, ballots, cumulative, top = case
    names = [f"p{i}" for i in range(len(costs))]
    if cumulative:
        profile = ApprovalProfile.from_ballots(names, ballots, kind="cumulative")
    else:
        profile = ApprovalProfile.from_ballots(names, [set(b) for b in ballots])
    instance = PBInstance(
        names, [Fraction(c) for c in costs], Fraction(sum(costs)), profile
    )
    _same_runs(instance, [Fraction(k, 3) for k in range(1, top)])


def _reference_add_one(instance: PBInstance) -> tuple[list[str], int, int]:
    """The completion as first written: every endowment's run to its end."""
    prep = _Prepared(instance)
    n = instance.profile.total
    e = int(instance.budget // n)

    def run(e):
        chosen, _ = _mes_run_reference(prep, Fraction(e), False)
        return chosen, sum((instance.costs[p] for p in chosen), Fraction(0))

    chosen, _ = run(e)
    tried = 1
    while not prep.supported <= set(chosen):
        nxt, cost = run(e + 1)
        tried += 1
        if cost > instance.budget:
            break
        e += 1
        chosen = nxt
    return [instance.projects[p] for p in chosen], e, tried


@settings(max_examples=300, deadline=None)
@given(budgets, st.integers(1, 60))
def test_add_one_completion_stopping_runs_early_ends_where_full_runs_end(case, budget):
    costs, ballots, cumulative, _ = case
    names = [f"p{i}" for i in range(len(costs))]
    if cumulative:
        profile = ApprovalProfile.from_ballots(names, ballots, kind="cumulative")
    else:
        profile = ApprovalProfile.from_ballots(names, [set(b) for b in ballots])
    instance = PBInstance(
        names, [Fraction(c) for c in costs], Fraction(budget), profile
    )
    result = pb_mes(instance)
    winners, endowment, tried = _reference_add_one(instance)
    assert result.winners == winners
    assert result.parameters["endowment_per_voter"] == str(endowment)
    assert result.extra["endowments_tried"] == tried
