"""Categories and disaggregated values: the model, the coded roll-up, and
suppression over the combo dimension checked by a search independent of the
service's audit (every whole-number filling of the data consistent with every
public answer)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from services.indicators.categories import (
    Category,
    CategoryCombo,
    CategoryModel,
    CodedHierarchy,
    UnknownCombo,
    rollup_coded,
)
from services.indicators.domain import (
    DataElement,
    DataValue,
    Hierarchy,
    OrgUnit,
    Period,
    PeriodType,
    ValueStore,
    ValueType,
    rollup_sum,
)
from services.indicators.exceptions import IndicatorsError
from services.indicators.expression import Indicator, evaluate_indicator
from services.indicators.publication import (
    PublishedValues,
    TableSource,
    Withheld,
    publish,
)
from services.indicators.suppression import cell_bounds

COUNT = "home_interventions"
TOWNS = ("csd:1", "csd:2")
TREE = Hierarchy(
    [
        OrgUnit("qc", "Québec", 1),
        OrgUnit("region:1", "Région", 2, "qc"),
        OrgUnit("cd:1", "MRC", 3, "region:1"),
        *(OrgUnit(t, t, 4, "cd:1") for t in TOWNS),
    ]
)
ELEMENTS = {COUNT: DataElement(COUNT, ValueType.INTEGER, is_count=True)}
UNITS = ("qc", "region:1", "cd:1", *TOWNS)
COMBOS = ("f", "h")
JANUARY = Period(2026, PeriodType.MONTH, 1)


def starter_model() -> CategoryModel:
    model = CategoryModel()
    model.add_category(Category("sexe", ("f", "h"), "Sexe", "Sex"))
    model.add_category(Category("age", ("0_17", "18_64", "65"), "Âge", "Age"))
    model.add_category(
        Category("identite", ("premieres_nations", "inuit", "non_autochtone"))
    )
    model.add_combo(CategoryCombo("sexe_age", ("sexe", "age")))
    model.add_combo(CategoryCombo("par_sexe", ("sexe",)))
    model.add_combo(CategoryCombo("identite", ("identite",)))
    model.attach(COUNT, "sexe_age")
    return model


def test_a_combination_has_one_option_combo_per_option_of_each_category():
    model = starter_model()
    assert sorted(model.combos_of(COUNT)) == sorted(
        f"{s}_{a}" for s in ("f", "h") for a in ("0_17", "18_64", "65")
    )
    assert len([c for c in model.option_combos.values() if c.combo == "identite"]) == 3
    assert model.combos_with("f") >= {"f_0_17", "f", "f_65"}


def test_a_combination_of_an_undeclared_category_is_refused_by_name():
    model = CategoryModel()
    with pytest.raises(IndicatorsError) as refused:
        model.add_combo(CategoryCombo("x", ("langue",)))
    assert "catégorie inconnue « langue »" in str(refused.value)
    assert 'unknown category "langue"' in str(refused.value)
    with pytest.raises(IndicatorsError, match="unknown category combination"):
        model.attach(COUNT, "nothing")


def test_a_value_for_a_combo_outside_the_elements_combination_is_refused():
    model = starter_model()
    model.check(COUNT, "f_65")
    with pytest.raises(UnknownCombo) as refused:
        model.check(COUNT, "premieres_nations")
    assert refused.value.field == "categoryOptionCombo"
    assert "inconnue pour home_interventions" in str(refused.value)
    with pytest.raises(UnknownCombo, match="attributeOptionCombo|unknown combo"):
        model.check(COUNT, "f_65", "partenaire")


def test_the_model_survives_its_store_document():
    model = starter_model()
    again = CategoryModel.from_dict(model.as_dict())
    assert again.option_combos == model.option_combos
    assert again.elements == model.elements
    assert again.categories == model.categories


def test_storing_a_combo_again_replaces_it_and_the_total_follows():
    store = ValueStore(TREE, ELEMENTS)
    store.put(DataValue(COUNT, JANUARY, "csd:1", 3.0, "f"))
    store.put(DataValue(COUNT, JANUARY, "csd:1", 8.0, "h"))
    store.put(DataValue(COUNT, JANUARY, "csd:1", 4.0, "f"))
    assert store.value(COUNT, "qc", JANUARY) == 12
    assert store.value(COUNT, "qc", JANUARY, combo="f") == 4
    assert len(store) == 2


def test_the_coded_roll_up_gives_the_pure_python_totals_per_combo():
    rng = np.random.default_rng(7)
    first = JANUARY.first_month
    n = 2000
    units = rng.choice(np.array(TOWNS + ("cd:1",)), n)
    months = rng.integers(first, first + 3, n)
    combos = rng.integers(0, 2, n)
    values = rng.integers(0, 9, n).astype(float)
    coded = CodedHierarchy.of(TREE)
    totals = rollup_coded(
        coded, coded.encode(list(units)), months, combos, values, first, 3, 2
    )
    for combo in (0, 1):
        picked = combos == combo
        rows = zip(units[picked], months[picked], values[picked], strict=True)
        expected = rollup_sum(TREE, rows).totals
        for (unit, month), total in expected.items():
            assert totals[coded.codes[unit], month - first, combo] == total
    assert totals[coded.codes["qc"]].sum() == values.sum()


# ---------------------------------------------------------------------------
# Suppression over the combo dimension
# ---------------------------------------------------------------------------

FORMULAS = [
    "#{home_interventions}",
    "#{home_interventions.f}",
    "#{home_interventions.h}",
    "#{home_interventions} - #{home_interventions.h}",
    "#{home_interventions} - #{home_interventions.f}",
    "#{home_interventions.*.HllvX50cXC0}",
]
PERIODS = ("202601", "2026Q1", "2026")
CASES = [
    {("csd:1", "f"): 3, ("csd:1", "h"): 20, ("csd:2", "f"): 12, ("csd:2", "h"): 9},
    {("csd:1", "f"): 2, ("csd:1", "h"): 30, ("csd:2", "f"): 4, ("csd:2", "h"): 25},
    {("csd:1", "f"): 1, ("csd:1", "h"): 14, ("csd:2", "h"): 22},
    {("csd:1", "f"): 9, ("csd:1", "h"): 11, ("csd:2", "f"): 13, ("csd:2", "h"): 5},
    {("csd:1", "f"): 30, ("csd:1", "h"): 30, ("csd:2", "f"): 0, ("csd:2", "h"): 40},
]


def store_of(data: dict[tuple[str, str], int]) -> ValueStore:
    store = ValueStore(TREE, ELEMENTS)
    for (unit, combo), value in data.items():
        store.put(DataValue(COUNT, JANUARY, unit, float(value), combo))
    return store


def public(store: ValueStore, tables: TableSource, formula: str, unit: str, period):
    try:
        return evaluate_indicator(
            Indicator("x", formula), PublishedValues(store, tables), unit, period
        ).value
    except Withheld:
        return None


def coefficients(formula: str, unit: str, leaves: list[tuple[str, str]]):
    """The answer as a linear form over the leaves (town, combo)."""

    def form(combo: str | None) -> np.ndarray:
        return np.array(
            [
                1 if TREE.is_ancestor_or_self(unit, town) and combo in (None, c) else 0
                for town, c in leaves
            ]
        )

    terms = {
        "#{home_interventions}": form(None),
        "#{home_interventions.f}": form("f"),
        "#{home_interventions.h}": form("h"),
        "#{home_interventions.*.HllvX50cXC0}": form(None),
    }
    if " - " in formula:
        left, right = formula.split(" - ")
        return terms[left] - terms[right]
    return terms[formula]


@pytest.mark.parametrize("data", CASES)
def test_no_public_answer_nor_difference_of_answers_pins_a_small_combo_cell(data):
    """Every count at or below 5 in the disaggregated table (a town's combo,
    an MRC's combo, a town's total) keeps at least two whole values among the
    fillings of the four (town, sex) cells consistent with every public answer
    (formulas of combos, totals and their differences, at every org unit)."""
    store = store_of(data)
    tables = TableSource(store, threshold=5)
    leaves = [(t, c) for t in TOWNS for c in COMBOS if (t, c) in data]
    bound = 45
    grid = np.array(
        list(itertools.product(range(bound + 1), repeat=len(leaves))), dtype=np.int32
    )
    feasible = np.ones(len(grid), dtype=bool)
    answered = 0
    for formula, unit, period in itertools.product(FORMULAS, UNITS, PERIODS):
        answer = public(store, tables, formula, unit, period)
        if answer is None:
            continue
        answered += 1
        feasible &= grid @ coefficients(formula, unit, leaves) == round(answer)
    assert answered, "something is published"
    truth = np.array([data[leaf] for leaf in leaves])
    assert feasible[np.all(grid == truth, axis=1)].all()
    candidates = grid[feasible]
    for unit in UNITS:
        for combo in (None, *COMBOS):
            form = coefficients(
                {None: FORMULAS[0], "f": FORMULAS[1], "h": FORMULAS[2]}[combo],
                unit,
                leaves,
            )
            if not form.any():
                continue
            true = int(truth @ form)
            if true <= 5:
                seen = set((candidates @ form).tolist())
                assert len(seen) >= 2, (unit, combo, true, seen)


def test_a_small_combo_is_hidden_with_a_partner_across_combos_and_the_total():
    store = store_of(CASES[0])
    table = publish(store, COUNT, 2026, threshold=5)
    published = table.published
    assert table.combos == ("f", "h")
    assert published[("csd:1", "202601", "f")] is None
    assert ("csd:1", "202601", "f") in table.primary
    # csd:1 = f + h: either the total or h is hidden too
    assert None in (published[("csd:1", "202601")], published[("csd:1", "202601", "h")])
    # cd:1 f = csd:1 f + csd:2 f: another f is hidden
    assert None in (
        published[("cd:1", "202601", "f")],
        published[("csd:2", "202601", "f")],
    )
    for cell in table.primary:
        low, high = cell_bounds(table.table, published, cell)
        assert high is None or high - low >= 1, cell


def test_a_public_formula_on_an_attribute_combo_is_withheld():
    """The published table sums attribute combos: one alone is not in it."""
    store = store_of(CASES[3])
    store.put(DataValue(COUNT, JANUARY, "csd:1", 6.0, "f", "partenaire"))
    tables = TableSource(store, threshold=5)
    for formula in (
        "#{home_interventions.f.partenaire}",
        "#{home_interventions.*.HllvX50cXC0}",
    ):
        assert public(store, tables, formula, "cd:1", "202601") is None
    assert public(store, tables, "#{home_interventions.f}", "cd:1", "202601") in (
        None,
        28,
    )
