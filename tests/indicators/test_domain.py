from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from services.indicators.domain import (
    AggregationType,
    DataElement,
    Hierarchy,
    OrgUnit,
    Period,
    PeriodType,
    ValueStore,
    ValueType,
    parse_value,
    rollup_sum,
)
from services.indicators.exceptions import (
    ExpressionError,
    InvalidPeriod,
    InvalidValue,
    UnknownOrgUnit,
)
from services.indicators.expression import Indicator, evaluate_indicator, parse


def tree() -> Hierarchy:
    return Hierarchy(
        [
            OrgUnit("qc", "Québec", 1),
            OrgUnit("r", "Région", 2, "qc"),
            OrgUnit("m1", "MRC 1", 3, "r"),
            OrgUnit("m2", "MRC 2", 3, "r"),
            OrgUnit("a", "Ville A", 4, "m1"),
            OrgUnit("b", "Ville B", 4, "m1"),
        ]
    )


@pytest.mark.parametrize(
    ("text", "canonical", "kind"),
    [
        ("2017", "2017", PeriodType.YEAR),
        ("2017Q1", "2017Q1", PeriodType.QUARTER),
        ("201703", "201703", PeriodType.MONTH),
        ("2017-03", "201703", PeriodType.MONTH),
    ],
)
def test_period_ids_parse_to_their_canonical_dhis2_form(text, canonical, kind):
    period = Period.parse(text)
    assert (period.id, period.type) == (canonical, kind)


@pytest.mark.parametrize("text", ["2017Q5", "201713", "17", "2017-3", "", "2017W1"])
def test_malformed_period_ids_are_rejected(text):
    with pytest.raises(InvalidPeriod):
        Period.parse(text)


def test_quarter_contains_its_months_and_year_contains_its_quarters():
    q1 = Period.parse("2017Q1")
    assert [Period.from_ordinal(m).id for m in q1.months()] == [
        "201701",
        "201702",
        "201703",
    ]
    assert q1.contains(Period.parse("201703")) and not q1.contains(
        Period.parse("201704")
    )
    assert Period.parse("2017").contains(q1)
    assert Period.parse("201701").offset(-1).id == "201612"
    assert Period.parse("2017Q1").offset(-1).id == "2016Q4"
    assert (q1.start.isoformat(), q1.end.isoformat()) == ("2017-01-01", "2017-03-31")


@pytest.mark.parametrize(
    ("value_type", "raw", "stored"),
    [
        (ValueType.INTEGER, "12", 12.0),
        (ValueType.NUMBER, "2.5", 2.5),
        (ValueType.BOOLEAN, "oui", 1.0),
        (ValueType.BOOLEAN, False, 0.0),
        (ValueType.TEXT, "abc", "abc"),
    ],
)
def test_values_are_validated_by_type(value_type, raw, stored):
    assert parse_value(DataElement("x", value_type), raw) == stored


@pytest.mark.parametrize(
    ("value_type", "raw"),
    [
        (ValueType.INTEGER, "2.5"),
        (ValueType.INTEGER, "abc"),
        (ValueType.NUMBER, "nan"),
        (ValueType.NUMBER, True),
        (ValueType.BOOLEAN, "peut-être"),
        (ValueType.TEXT, ""),
    ],
)
def test_invalid_values_are_refused_in_french_then_english(value_type, raw):
    with pytest.raises(InvalidValue) as info:
        parse_value(DataElement("x", value_type), raw)
    assert " / " in str(info.value)


def test_value_for_an_unknown_org_unit_is_refused():
    store = ValueStore(tree())
    with pytest.raises(UnknownOrgUnit):
        store.put_raw("x", "201701", "nowhere", "1")


def test_last_aggregation_takes_each_unit_latest_month_then_sums_units():
    store = ValueStore(
        tree(), {"wait": DataElement("wait", aggregation=AggregationType.LAST)}
    )
    for period, unit, value in [
        ("201701", "a", 10),
        ("201703", "a", 7),
        ("201702", "b", 4),
    ]:
        store.put_raw("wait", period, unit, value)
    assert store.value("wait", "m1", Period.parse("2017Q1")) == 11


def test_rates_with_a_zero_or_missing_denominator_have_no_value():
    store = ValueStore(tree())
    store.put_raw("n", "201701", "a", "3")
    store.put_raw("d", "201701", "a", "0")
    per_cent = Indicator("p", "#{n}", "#{d}", 100)
    assert evaluate_indicator(per_cent, store, "m1", "201701").value is None
    assert evaluate_indicator(per_cent, store, "m2", "201701").value is None


def test_bare_operand_names_and_constants_mix_with_arithmetic():
    store = ValueStore(tree())
    store.put_raw("n", "201701", "a", "1")
    store.put_raw("n", "201701", "b", "2")
    result = evaluate_indicator(
        Indicator("x", "-(n - 1) * 2 + 10 / 4"), store, "r", "2017"
    )
    assert result.value == -1.5


@pytest.mark.parametrize(
    "formula",
    [
        "",
        "#{a} +",
        "(#{a}",
        "#{a}.foo()",
        "__import__('os')",
        "#{a}.aggregationType(X)",
        "#{a}.periodOffset(x)",
        "[unknown]",
        "a ** 2",
        "a; b",
    ],
)
def test_unsafe_or_malformed_formulas_are_refused_with_a_position(formula):
    with pytest.raises(ExpressionError) as info:
        parse(formula)
    assert "position" in str(info.value)


def test_rollup_adds_each_value_to_every_ancestor_month_by_month():
    rows = [("a", 24204, 1.0), ("b", 24204, 2.0), ("a", 24205, 4.0), ("m1", 24204, 8.0)]
    rollup = rollup_sum(tree(), rows)
    assert rollup.totals[("m1", 24204)] == 11.0
    assert rollup.totals[("qc", 24205)] == 4.0
    assert rollup.total("r", Period.parse("2017Q1")) == 15.0


def test_last_value_carries_forward_into_periods_without_a_change():
    store = ValueStore(
        tree(), {"wait": DataElement("wait", aggregation=AggregationType.LAST)}
    )
    store.put_raw("wait", "201702", "a", 9)
    store.put_raw("wait", "201705", "b", 2)
    assert store.value("wait", "m1", Period.parse("2017Q2")) == 11
    assert store.value("wait", "m1", Period.parse("2017Q1")) == 9
    assert (
        store.value(
            "wait", "m1", Period.parse("2017Q2"), AggregationType.LAST_IN_PERIOD
        )
        == 2
    )


_numbers = st.integers(0, 50).map(str)


def _expressions(leaves):
    return st.one_of(
        st.tuples(leaves, st.sampled_from("+-*/"), leaves).map(" ".join),
        leaves.map(lambda e: f"({e})"),
        leaves.map(lambda e: f"-{e}"),
    )


@settings(max_examples=200, deadline=None)
@example("1 / 0 + 2")
@example("2 - 3 - 4 / 2 / 2")
@given(st.recursive(_numbers, _expressions, max_leaves=8))
def test_arithmetic_follows_python_precedence_and_associativity(formula):
    """Division by zero anywhere leaves the whole formula without a value."""
    from services.indicators.expression import Context, evaluate

    try:
        expected = eval(formula)  # test oracle on generated digits and operators only
    except ZeroDivisionError:
        expected = None
    store = ValueStore(tree())
    result = evaluate(parse(formula), store, Context("qc", Period.parse("2017"))).value
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)
