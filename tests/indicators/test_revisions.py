"""A period approved again after a correction: the second version of its counts,
read next to the first, must give no small count away by difference."""

from __future__ import annotations

import pytest

from services.indicators.domain import revision_hidden
from services.indicators.suppression import Table, suppress

MRC = [("t", ("a", "b", "c"))]


def test_a_total_that_moved_by_three_is_hidden():
    # 50 then 53: "3 more somewhere" is a count of 3
    before = {"a": 41, "b": None, "c": None, "t": 50}
    now = {"a": 41, "b": None, "c": None, "t": 53}
    assert revision_hidden(now, MRC, [before], 5) == {"t"}
    # down as well as up
    assert revision_hidden(now | {"t": 47}, MRC, [before], 5) == {"t"}


def test_a_cell_hidden_before_stays_hidden():
    # the 9 hid the rest of the first version; showing it now shows that rest
    before = {"a": 41, "b": None, "c": None, "t": 50}
    now = {"a": 41, "b": 9, "c": None, "t": 56}
    assert revision_hidden(now, MRC, [before], 5) == {"b"}


def test_a_rest_that_moved_by_three_hides_the_total_even_if_the_total_moved_more():
    # 41 -> 60 and 50 -> 72 are large changes, but 72 - 60 against 50 - 41
    # says the hidden cells gained 3
    before = {"a": 41, "b": None, "c": None, "t": 50}
    now = {"a": 60, "b": None, "c": None, "t": 72}
    assert revision_hidden(now, MRC, [before], 5) == {"t"}


def test_unchanged_and_large_changes_are_published():
    before = {"a": 41, "b": None, "c": None, "t": 50}
    assert revision_hidden(before, MRC, [before], 5) == set()
    now = {"a": 60, "b": None, "c": None, "t": 80}  # +19, +30, rest +11
    assert revision_hidden(now, MRC, [before], 5) == set()


def test_every_earlier_version_counts_not_only_the_last():
    first = {"a": 41, "b": None, "c": None, "t": 50}
    second = {"a": 41, "b": None, "c": None, "t": None}
    now = {"a": 41, "b": None, "c": None, "t": 53}
    assert revision_hidden(now, MRC, [first, second], 5) == {"t"}


def test_forced_cells_are_hidden_and_protected_like_small_ones():
    table = Table({"a": 41, "b": 9, "c": 7, "t": 57}, MRC)
    assert suppress(table, 5).published["t"] == 57
    result = suppress(table, 5, forced=frozenset({"t"}))
    assert result.published["t"] is None
    # the total hidden alone would come back as 41 + 9 + 7: a part goes with it
    assert result.published["c"] is None and result.hidden == {"t", "c"}


@pytest.mark.parametrize("threshold", [3, 5, 10])
def test_a_change_just_above_the_threshold_is_published(threshold):
    before = {"a": 41, "b": None, "c": None, "t": 50}
    bigger = 50 + threshold + 1
    now = {"a": 41 + threshold + 1, "b": None, "c": None, "t": bigger + threshold + 1}
    assert revision_hidden(now, MRC, [before], threshold) == set()
