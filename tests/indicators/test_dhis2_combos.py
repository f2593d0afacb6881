"""DHIS2's semantics of category option combos, on a fixture built from DHIS2's
documentation.

Source (DHIS2 documentation, dhis2/dhis2-docs): the metadata chapters
("Categories", "Category combinations": a category combination's option
combos are every combination of one option of each of its categories, named
by their options in the categories' order; the default combination has the
one combo ``HllvX50cXC0``; a category of dimension type ATTRIBUTE makes the
attribute option combos of a data set), the Web API "Data values" chapter (a
data value set's rows carry ``categoryOptionCombo`` and
``attributeOptionCombo``, both defaulting to the default combo; a combo that
is not part of the data element's category combination is an import
conflict), the "Analytics" chapter (a data element alone is its *total* over
all combos; ``dimension=co`` breaks it down by category option combo and lists
only the combos linked to data values; a category used as a dimension with
some of its options gives each option's subtotal) and the indicator and
validation-rule expression syntax (``#{de.coc}``, ``#{de.coc.aoc}``,
``#{de.*.aoc}``). DHIS2 ships no fixture for these, so the one below is ours:
the documentation's own example shape (sex by age group, a funding attribute)
with the same 11-character ids DHIS2 uses, and the expected numbers worked out
by hand from the rules quoted above.

The existing DHIS2 analytics fixture (``test_dhis2_fixture.py``) still gives
308, 567, 258.50 and 29.79 when categories are declared (last test).
"""

from __future__ import annotations

import json

import pytest

from services.indicators.categories import (
    DEFAULT,
    CategoryModel,
    breakdown,
    subtotal,
)
from services.indicators.domain import (
    DataElement,
    Hierarchy,
    OrgUnit,
    Period,
    ValueStore,
    ValueType,
)
from services.indicators.expression import Indicator, evaluate_indicator
from services.indicators.importing import (
    import_values,
    parse_csv,
    parse_json,
    read_data_value_set,
    write_data_value_set,
)

DE = "deVisitsAAA"  # visits, disaggregated by sex and age
PLAIN = "deStaffAAAA"  # not disaggregated
A, B, C = "ouCountryAA", "ouDistrictB", "ouFacilityC"

METADATA = {
    "categoryOptions": [
        {"id": "coFemaleAAA", "name": "Female"},
        {"id": "coMaleAAAAA", "name": "Male"},
        {"id": "coUnder5AAA", "name": "<5y"},
        {"id": "co5plusAAAA", "name": ">5y"},
        {"id": "coGovernmnt", "name": "Government"},
        {"id": "coNgoAAAAAA", "name": "NGO"},
    ],
    "categories": [
        {
            "id": "caGenderAAA",
            "name": "Gender",
            "dataDimensionType": "DISAGGREGATION",
            "categoryOptions": [{"id": "coFemaleAAA"}, {"id": "coMaleAAAAA"}],
        },
        {
            "id": "caAgeAAAAAA",
            "name": "Age",
            "dataDimensionType": "DISAGGREGATION",
            "categoryOptions": [{"id": "coUnder5AAA"}, {"id": "co5plusAAAA"}],
        },
        {
            "id": "caFundingAA",
            "name": "Funding",
            "dataDimensionType": "ATTRIBUTE",
            "categoryOptions": [{"id": "coGovernmnt"}, {"id": "coNgoAAAAAA"}],
        },
    ],
    "categoryCombos": [
        {"id": "bjDvmb4bfuf", "name": "default", "categories": []},
        {
            "id": "ccGenderAge",
            "name": "Gender and Age",
            "dataDimensionType": "DISAGGREGATION",
            "categories": [{"id": "caGenderAAA"}, {"id": "caAgeAAAAAA"}],
        },
        {
            "id": "ccFundingAA",
            "name": "Funding",
            "dataDimensionType": "ATTRIBUTE",
            "categories": [{"id": "caFundingAA"}],
        },
    ],
    "categoryOptionCombos": [
        {
            "id": "HllvX50cXC0",
            "categoryCombo": {"id": "bjDvmb4bfuf"},
            "categoryOptions": [{"id": "xYerKDKCefk"}],
        },
        {
            "id": "cocFemale05",
            "categoryCombo": {"id": "ccGenderAge"},
            "categoryOptions": [{"id": "coFemaleAAA"}, {"id": "coUnder5AAA"}],
        },
        {
            "id": "cocFemale5p",
            "categoryCombo": {"id": "ccGenderAge"},
            "categoryOptions": [{"id": "co5plusAAAA"}, {"id": "coFemaleAAA"}],
        },
        {
            "id": "cocMale05AA",
            "categoryCombo": {"id": "ccGenderAge"},
            "categoryOptions": [{"id": "coMaleAAAAA"}, {"id": "coUnder5AAA"}],
        },
        {
            "id": "cocMale5pAA",
            "categoryCombo": {"id": "ccGenderAge"},
            "categoryOptions": [{"id": "coMaleAAAAA"}, {"id": "co5plusAAAA"}],
        },
        {
            "id": "aocGovernmt",
            "categoryCombo": {"id": "ccFundingAA"},
            "categoryOptions": [{"id": "coGovernmnt"}],
        },
        {
            "id": "aocNgoAAAAA",
            "categoryCombo": {"id": "ccFundingAA"},
            "categoryOptions": [{"id": "coNgoAAAAAA"}],
        },
    ],
    "dataElements": [
        {"id": DE, "categoryCombo": {"id": "ccGenderAge"}},
        {"id": PLAIN, "categoryCombo": {"id": "bjDvmb4bfuf"}},
    ],
}

# (period, org unit, combo, attribute, value)
VALUES = [
    ("201701", B, "cocFemale05", "aocGovernmt", 10),
    ("201701", B, "cocFemale05", "aocNgoAAAAA", 4),
    ("201701", B, "cocFemale5p", "aocGovernmt", 20),
    ("201701", B, "cocMale05AA", "aocGovernmt", 7),
    ("201702", C, "cocMale5pAA", "aocNgoAAAAA", 30),
    ("201702", C, "cocFemale5p", "aocNgoAAAAA", 5),
    ("201703", C, "cocFemale05", "HllvX50cXC0", 2),
]


def tree() -> Hierarchy:
    return Hierarchy([OrgUnit(A, "A", 1), OrgUnit(B, "B", 2, A), OrgUnit(C, "C", 3, B)])


def value_set() -> str:
    return json.dumps(
        {
            "dataValues": [
                {
                    "dataElement": DE,
                    "period": period,
                    "orgUnit": unit,
                    "categoryOptionCombo": combo,
                    "attributeOptionCombo": attribute,
                    "value": str(value),
                }
                for period, unit, combo, attribute, value in VALUES
            ]
        }
    )


@pytest.fixture
def model() -> CategoryModel:
    return CategoryModel.from_dict(METADATA)


@pytest.fixture
def store(model) -> ValueStore:
    store = ValueStore(tree(), {DE: DataElement(DE, ValueType.INTEGER)})
    summary = import_values(store, parse_json(value_set()), model)
    assert (summary.imported, summary.ignored) == (7, 0), summary.conflicts
    return store


def formula(store: ValueStore, text: str, unit: str = A, period: str = "2017Q1"):
    return evaluate_indicator(Indicator("x", text), store, unit, period).value


def test_option_combos_are_the_cartesian_product_named_in_category_order(model):
    made = {c.id: c for c in model.option_combos.values() if c.combo == "ccGenderAge"}
    assert set(made) == {"cocFemale05", "cocFemale5p", "cocMale05AA", "cocMale5pAA"}
    # DHIS2's own ids are kept, whatever order the file lists the options in
    assert made["cocFemale5p"].options == ("coFemaleAAA", "co5plusAAAA")
    assert made["cocFemale5p"].name_en == "Female, >5y"
    assert model.combos_of(PLAIN) == [""]  # the default combo: HllvX50cXC0 only
    assert model.attribute_combos() == ["", "aocGovernmt", "aocNgoAAAAA"]


def test_generated_combos_cover_every_option_pair_when_none_are_listed():
    document = {k: v for k, v in METADATA.items() if k != "categoryOptionCombos"}
    model = CategoryModel.from_dict(document)
    names = sorted(
        c.name_en for c in model.option_combos.values() if c.combo == "ccGenderAge"
    )
    assert names == ["Female, <5y", "Female, >5y", "Male, <5y", "Male, >5y"]


def test_the_data_element_total_sums_every_combo_and_attribute_combo(store):
    assert store.value(DE, A, Period.parse("2017Q1")) == 78
    assert formula(store, f"#{{{DE}}}") == 78


def test_an_operand_with_a_combo_sums_that_combo_over_attribute_combos(store):
    assert formula(store, f"#{{{DE}.cocFemale05}}") == 16  # 10 + 4 + 2
    assert formula(store, f"#{{{DE}.cocFemale05.aocNgoAAAAA}}") == 4
    assert formula(store, f"#{{{DE}.cocFemale05.{DEFAULT}}}") == 2
    assert formula(store, f"#{{{DE}.*.aocNgoAAAAA}}") == 39  # 4 + 30 + 5
    assert formula(store, f"#{{{DE}.*.aocGovernmt}}") == 37


def test_combos_aggregate_over_org_units_and_periods_like_totals(store):
    assert formula(store, f"#{{{DE}.cocFemale05}}", B, "201701") == 14
    assert formula(store, f"#{{{DE}.cocFemale05}}", C, "2017Q1") == 2
    assert formula(store, f"#{{{DE}.cocMale5pAA}}", A, "201701") is None


def test_a_category_option_subtotal_sums_the_combos_holding_it(store, model):
    quarter = Period.parse("2017Q1")
    assert subtotal(store, model, DE, ["coFemaleAAA"], A, quarter) == 41
    assert subtotal(store, model, DE, ["coMaleAAAAA"], A, quarter) == 37
    assert subtotal(store, model, DE, ["coUnder5AAA"], A, quarter) == 23
    assert subtotal(store, model, DE, ["coMaleAAAAA", "co5plusAAAA"], C, quarter) == 30


def test_the_co_dimension_lists_only_combos_with_data_and_sums_to_the_total(store):
    found = breakdown(store, DE, A, Period.parse("2017Q1"))
    assert found == {
        "cocFemale05": 16,
        "cocFemale5p": 25,
        "cocMale05AA": 7,
        "cocMale5pAA": 30,
    }
    assert breakdown(store, DE, B, Period.parse("201701")) == {
        "cocFemale05": 14,
        "cocFemale5p": 20,
        "cocMale05AA": 7,
    }
    assert sum(found.values()) == store.value(DE, A, Period.parse("2017Q1"))


def test_a_combo_outside_the_elements_category_combination_is_a_conflict(model):
    """DHIS2: the default combo is the fallback when none is given, and it is
    not part of a disaggregated element's combination."""
    store = ValueStore(tree(), {DE: DataElement(DE, ValueType.INTEGER)})
    rows = parse_csv(
        "dataelement,period,orgunit,categoryoptioncombo,attributeoptioncombo,value\n"
        f"{DE},201701,{B},aocGovernmt,,1\n"
        f"{DE},201701,{B},,,2\n"
        f"{DE},201701,{B},cocFemale05,cocMale05AA,3\n"
        f"{PLAIN},201701,{B},cocFemale05,,4\n"
        f"{PLAIN},201701,{B},{DEFAULT},aocNgoAAAAA,5\n"
    )
    summary = import_values(store, rows, model)
    assert (summary.imported, summary.ignored) == (1, 4)
    assert [c.split(" : ")[0] for c in summary.conflicts] == [
        "ligne 2, champ « categoryOptionCombo »",
        "ligne 3, champ « categoryOptionCombo »",
        "ligne 4, champ « attributeOptionCombo »",
        "ligne 5, champ « categoryOptionCombo »",
    ]
    assert 'unknown combo "HllvX50cXC0" for deVisitsAAA' in summary.conflicts[1]
    assert len(store) == 1


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_round_trip_through_a_data_value_set_keeps_every_value(
    store, model, fmt, tmp_path
):
    path = tmp_path / f"out.{fmt}"
    path.write_text(write_data_value_set(store.all_values(), fmt))
    again = ValueStore(tree(), {DE: DataElement(DE, ValueType.INTEGER)})
    summary = import_values(again, read_data_value_set(path), model)
    assert (summary.imported, summary.ignored) == (7, 0), summary.conflicts
    assert sorted(map(repr, again.all_values())) == sorted(
        map(repr, store.all_values())
    )
    if fmt == "csv":
        assert f"{DE},201703,{C},cocFemale05,HllvX50cXC0,2" in path.read_text()


def test_the_dhis2_analytics_fixture_still_gives_its_numbers_with_categories(
    data_dir, model
):
    from tests.indicators.test_dhis2_fixture import fixture_elements
    from tests.indicators.test_dhis2_fixture import fixture_tree as analytics_tree

    store = ValueStore(analytics_tree(), fixture_elements())
    rows = read_data_value_set(data_dir / "dhis2_analytics_fixture" / "dataValues.csv")
    summary = import_values(store, rows, model)
    assert summary.ignored == 0, summary.conflicts
    a, q1 = "ouabcdefghA", "2017Q1"

    def value(numerator: str, denominator: str = "1") -> float | None:
        indicator = Indicator("x", numerator, denominator)
        return evaluate_indicator(indicator, store, a, q1).value

    assert store.value("deabcdefghA", a, Period.parse(q1)) == 308
    assert value("#{deabcdefghB}+#{deabcdefghC}") == 567
    assert value("#{deabcdefghB}*#{deabcdefghC}", "100") == 258.5
    numerator = "#{deabcdefghA.HllvX50cXC0}*#{deabcdefghC}"
    assert value(numerator, "#{deabcdefghB}") == 29.79
