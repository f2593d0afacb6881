"""Acceptance: DHIS2's own analytics fixture gives DHIS2's published numbers.

``../shared/data/dhis2_analytics_fixture/dataValues.csv`` is imported through
the same reader as ``maillage indicators import``; the org-unit tree, the data
element types and the data-set assignments are those of DHIS2's
AnalyticsServiceTest (they are not in the CSV). Expected values: its ORIGIN.txt.
"""

from __future__ import annotations

import csv

import pytest

from services.indicators.domain import (
    AggregationType,
    DataElement,
    DataSet,
    Hierarchy,
    MonthRange,
    OrgUnit,
    Period,
    ValueStore,
    ValueType,
)
from services.indicators.expression import Indicator, evaluate_indicator
from services.indicators.importing import import_values, read_data_value_set

A, B, C, D, E = (f"ouabcdefgh{x}" for x in "ABCDE")
DE = {x: f"deabcdefgh{x}" for x in "ABCDEFGH"}


def fixture_tree() -> Hierarchy:
    return Hierarchy(
        [
            OrgUnit(A, "A", 1),
            OrgUnit(B, "B", 2, A),
            OrgUnit(C, "C", 2, A),
            OrgUnit(D, "D", 3, B),
            OrgUnit(E, "E", 3, B),
        ]
    )


def fixture_elements() -> dict[str, DataElement]:
    types = {
        "E": (ValueType.INTEGER, AggregationType.SUM),
        "F": (ValueType.BOOLEAN, AggregationType.MAX),
        "G": (ValueType.TEXT, AggregationType.MAX),
        "H": (ValueType.TEXT, AggregationType.MAX),  # DHIS2 DATE, kept as text
    }
    return {
        de: DataElement(de, *types.get(x, (ValueType.NUMBER, AggregationType.SUM)))
        for x, de in DE.items()
    }


@pytest.fixture(scope="module")
def store(data_dir) -> ValueStore:
    folder = data_dir / "dhis2_analytics_fixture"
    store = ValueStore(fixture_tree(), fixture_elements())
    summary = import_values(store, read_data_value_set(folder / "dataValues.csv"))
    assert summary.ignored == 0, summary.conflicts
    store.add_data_set(DataSet("a23dataSetA", frozenset({C, D})))
    store.add_data_set(DataSet("a23dataSetB", frozenset({D})))
    with (folder / "dataSetRegistrations.csv").open() as handle:
        reader = csv.reader(handle, skipinitialspace=True)
        next(reader)
        for data_set, period, org_unit in reader:
            store.register_completion(data_set.strip(), period, org_unit)
    return store


def value(store: ValueStore, numerator: str, ou: str, period: str, den="1"):
    return evaluate_indicator(Indicator("x", numerator, den), store, ou, period).value


def test_fixture_imports_every_one_of_its_32_values(data_dir):
    store = ValueStore(fixture_tree(), fixture_elements())
    rows = read_data_value_set(data_dir / "dhis2_analytics_fixture" / "dataValues.csv")
    summary = import_values(store, rows)
    assert (summary.imported, summary.updated, summary.ignored) == (len(rows), 0, 0)
    assert len(store) == len(rows) == 32


def test_deA_summed_over_subtree_of_A_for_2017Q1_is_308(store):
    assert store.value(DE["A"], A, Period.parse("2017Q1")) == 308


def test_deC_at_B_for_march_includes_B_own_value_and_children(store):
    assert store.value(DE["C"], B, Period.parse("201703")) == 6


def test_average_of_deC_over_the_whole_tree_in_march_is_6_75(store):
    assert store.value(
        DE["C"], A, Period.parse("2017-03"), AggregationType.AVERAGE
    ) == pytest.approx(6.75, abs=0)


def test_indicator_deB_plus_deC_for_2017Q1_is_567(store):
    assert value(store, f"#{{{DE['B']}}}+#{{{DE['C']}}}", A, "2017Q1") == 567.0


def test_indicator_deB_times_deC_over_100_is_258_50(store):
    assert value(store, f"#{{{DE['B']}}}*#{{{DE['C']}}}", A, "2017Q1", "100") == 258.5


def test_indicator_with_data_element_denominator_rounds_to_29_79(store):
    numerator = f"#{{{DE['A']}.HllvX50cXC0}}*#{{{DE['C']}}}"
    assert value(store, numerator, A, "2017Q1", f"#{{{DE['B']}}}") == 29.79


def test_max_and_min_sum_org_unit_aggregate_periods_within_each_org_unit(store):
    maxi = f"#{{{DE['A']}}}.aggregationType(MAX_SUM_ORG_UNIT)"
    mini = f"#{{{DE['A']}}}.aggregationType(MIN_SUM_ORG_UNIT)"
    assert value(store, maxi, D, "2017Q1") == 233
    assert value(store, mini, D, "2017Q1") == 66
    assert value(store, maxi, B, "2017Q1") == 235
    assert value(store, mini, B, "2017Q1") == 68


def test_period_offsets_read_the_two_previous_months(store):
    formula = f"#{{{DE['E']}}}.periodOffset(-1) + #{{{DE['E']}}}.periodOffset(-2)"
    assert value(store, formula, A, "201707") == 3.0


@pytest.mark.parametrize(
    ("month", "expected"),
    [("201705", 1), ("201706", 3), ("201707", 7), ("201708", 7), ("201709", 7)],
)
def test_year_to_date_accumulates_from_january(store, month, expected):
    ytd = f"#{{{DE['E']}}}.yearToDate()"
    assert value(store, ytd, A, month) == expected
    assert value(store, ytd + " + [periodInYear]", A, month) == expected + int(
        month[4:]
    )


def test_offset_then_year_to_date_and_offset_of_a_group(store):
    chained = f"#{{{DE['E']}}}.periodOffset(-1).yearToDate()"
    assert value(store, chained, A, "201707") == 3
    grouped = f"( #{{{DE['E']}}}.yearToDate() + [periodInYear] ).periodOffset(-1)"
    assert value(store, grouped, A, "201707") == 3 + 6


def test_reporting_rate_indicators_at_D_for_2017Q1(store):
    rate_a = f"#{{{DE['A']}}}*(R{{a23dataSetA.REPORTING_RATE}} / 100)"
    rate_b = f"#{{{DE['A']}}}*(R{{a23dataSetB.REPORTING_RATE}} / 100)"
    assert value(store, rate_a, D, "2017Q1") == 199.34
    assert value(store, rate_b, D, "2017Q1") == 99.66
    assert (
        store.reporting_rate("a23dataSetA", C, MonthRange.of(Period.parse("2017Q1")))
        == 100
    )


def test_booleans_sum_as_numbers_and_text_is_not_aggregated(store):
    assert value(store, f"#{{{DE['F']}}}", A, "2017Q1") == 1.0
    assert value(store, f"#{{{DE['G']}}}", A, "2017Q1") is None
