"""Small-cell suppression: a hidden cell cannot be recovered, checked by solving."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from services.indicators.suppression import (
    TOTAL,
    Table,
    cell_bounds,
    exposed,
    resuppress,
    suppress,
    suppress_rate,
    two_way_table,
)

# Home interventions by municipality and quarter in one MRC: one small cell.
ROWS = {
    "Trois-Rivières": {"T1": 41, "T2": 38, "T3": 45},
    "Champlain": {"T1": 12, "T2": 3, "T3": 9},
    "Batiscan": {"T1": 8, "T2": 11, "T3": 14},
}


def completions(table, published):
    """Every non-negative integer filling of the hidden cells that agrees with
    the published cells and every relation: a backtracking search, independent
    of the LP, each hidden cell bounded by a published total that contains it."""
    hidden = [k for k, v in published.items() if v is None]
    ceiling = {}
    for key in hidden:
        limits = [
            published[t]
            for t, parts in table.relations
            if key in parts and published[t] is not None
        ]
        ceiling[key] = min(limits, default=max(table.cells.values()))
    found = []

    def consistent(filled):
        for total, parts in table.relations:
            line = (total, *parts)
            if all(k in filled for k in line):
                if filled[total] != sum(filled[p] for p in parts):
                    return False
        return True

    def search(index, filled):
        if index == len(hidden):
            found.append({k: filled[k] for k in hidden})
            return
        key = hidden[index]
        for guess in range(ceiling[key] + 1):
            filled[key] = guess
            if consistent(filled):
                search(index + 1, filled)
            del filled[key]

    search(0, {k: v for k, v in published.items() if v is not None})
    return found


def test_the_one_small_cell_is_hidden_with_partners_and_cannot_be_recovered():
    table = two_way_table(ROWS)
    result = suppress(table, threshold=5)
    small = ("Champlain", "T2")
    assert result.primary == {small}
    assert result.secondary, "a lone hidden cell is given away by its totals"
    published_count = sum(v is not None for v in result.published.values())
    assert published_count == len(table.cells) - len(result.hidden)
    low, high = cell_bounds(table, result.published, small)
    assert low <= 3 and (high is None or (high >= 3 and high - low >= 1))
    values = {c[small] for c in completions(table, result.published)}
    assert 3 in values and len(values) > 1


def test_hiding_only_the_small_cell_lets_the_totals_give_it_away():
    table = two_way_table(ROWS)
    naive = {
        k: (None if k == ("Champlain", "T2") else v) for k, v in table.cells.items()
    }
    assert cell_bounds(table, naive, ("Champlain", "T2")) == (3, 3)
    assert exposed(table, naive, {("Champlain", "T2")}) == [("Champlain", "T2")]
    assert [c[("Champlain", "T2")] for c in completions(table, naive)] == [3]


def test_a_larger_protection_widens_the_interval_to_at_least_that_many():
    table = two_way_table(ROWS)
    result = suppress(table, threshold=5, protection=5)
    low, high = cell_bounds(table, result.published, ("Champlain", "T2"))
    assert high is not None and high - low >= 5


def test_small_totals_are_suppressed_like_any_other_count():
    table = two_way_table({"A": {"x": 2, "y": 1}, "B": {"x": 30, "y": 40}})
    result = suppress(table)
    assert ("A", TOTAL) in result.primary
    assert exposed(table, result.published, result.primary) == []


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.lists(st.integers(0, 30), min_size=3, max_size=3), min_size=2, max_size=4
    ),
    st.integers(1, 5),
)
def test_no_suppressed_cell_of_any_table_can_be_pinned_down(grid, threshold):
    rows = {
        f"r{i}": {f"c{j}": v for j, v in enumerate(row)} for i, row in enumerate(grid)
    }
    table = two_way_table(rows)
    result = suppress(table, threshold=threshold)
    assert all(result.published[k] is None for k in result.hidden)
    assert all(v is None or v > threshold for v in result.published.values())
    assert exposed(table, result.published, result.primary) == []


def test_rates_built_on_a_suppressed_count_are_suppressed():
    assert suppress_rate(12.5, [3, 24]) is None
    assert suppress_rate(12.5, [30, 240]) == 12.5
    assert suppress_rate(12.5, [30, 240], threshold=50) is None


REGION = [("region:11", ("cd:2402", "cd:2403", "cd:2404"))]


def test_the_coordinator_suppresses_again_with_its_own_threshold():
    received = {"cd:2402": 31, "cd:2403": 8, "cd:2404": 40}
    result = resuppress(received, REGION, threshold=10)
    assert result.published["cd:2403"] is None
    assert result.published["region:11"] == 79
    assert sum(v is None for v in result.published.values()) >= 2
    table = Table(dict(received, **{"region:11": 79}), REGION)
    assert exposed(table, result.published, {"cd:2403"}) == []


def test_a_total_with_a_part_suppressed_upstream_is_not_published():
    received = {"cd:2402": 31, "cd:2403": None, "cd:2404": 40}
    result = resuppress(received, REGION, threshold=5)
    assert result.published["cd:2403"] is None
    assert result.published["region:11"] is None
    assert result.published["cd:2402"] == 31


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(0, 30), min_size=2, max_size=3),
    st.lists(st.integers(0, 30), min_size=2, max_size=3),
)
def test_what_a_sender_and_then_a_coordinator_publish_pins_no_small_cell(a, b):
    rows = {"mrc1": dict(enumerate(a)), "mrc2": dict(enumerate(b))}
    table = two_way_table(rows)
    sent = suppress(table, threshold=3).published
    again = resuppress(sent, table.relations, threshold=6)
    small = {k for k, v in table.cells.items() if v <= 6}
    assert all(again.published[k] is None for k in small)
    assert exposed(table, again.published, small) == []
