"""The published linked table: no sequence of public answers pins a
suppressed count, checked on random small tables by a search that does not
use the service's audit (every whole-number filling of the data consistent
with every public answer)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.indicators.domain import (
    DataElement,
    DataValue,
    Hierarchy,
    MonthRange,
    OrgUnit,
    Period,
    PeriodType,
    ValueStore,
    ValueType,
)
from services.indicators.expression import Indicator, evaluate_indicator
from services.indicators.publication import (
    PublishedValues,
    TableSource,
    Withheld,
    tiles,
)

COUNT = "home_interventions"
TOWNS = ("csd:1", "csd:2", "csd:3")
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
PERIODS = [f"2026{m:02d}" for m in range(1, 13)]
PERIODS += [f"2026Q{q}" for q in range(1, 5)] + ["2026"]
FORMULAS = [
    "#{home_interventions}",
    "#{home_interventions}.yearToDate()",
    "#{home_interventions}.yearToDate() - #{home_interventions}.periodOffset(-1)",
    "#{home_interventions} - #{home_interventions}.periodOffset(-1)",
]


def store_of(data: dict[tuple[str, int], int]) -> ValueStore:
    store = ValueStore(TREE, ELEMENTS)
    for (unit, month), value in data.items():
        store.put(
            DataValue(COUNT, Period(2026, PeriodType.MONTH, month), unit, float(value))
        )
    return store


def public(
    store: ValueStore, tables: TableSource, formula: str, unit: str, period: str
):
    try:
        return evaluate_indicator(
            Indicator("x", formula), PublishedValues(store, tables), unit, period
        ).value
    except Withheld:
        return None


def covered(unit: str, months: MonthRange, leaf: tuple[str, int]) -> bool:
    town, month = leaf
    ordinal = 2026 * 12 + month - 1
    return (unit == town or TREE.is_ancestor_or_self(unit, town)) and (
        months.first <= ordinal <= months.last
    )


def fillings(data, answers):
    """Every whole filling of the data's leaves consistent with the answers."""
    leaves = sorted(data)
    known = [
        (total, [i for i, leaf in enumerate(leaves) if covered(u, m, leaf)])
        for (u, m), total in answers.items()
    ]
    bound = [
        int(min([t for t, idx in known if i in idx], default=60))
        for i in range(len(leaves))
    ]
    filled: list[int] = []

    def fits() -> bool:
        n = len(filled)
        for total, idx in known:
            partial = sum(filled[i] for i in idx if i < n)
            if partial > total or (idx and idx[-1] < n and partial != total):
                return False
        return True

    def search():
        if len(filled) == len(leaves):
            yield dict(zip(leaves, filled, strict=True))
            return
        for guess in range(bound[len(filled)] + 1):
            filled.append(guess)
            if fits():
                yield from search()
            filled.pop()

    yield from search()


leaf = st.tuples(st.sampled_from(("cd:1", *TOWNS)), st.integers(1, 4))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(leaf, st.integers(0, 14), min_size=1, max_size=6), st.integers(2, 5)
)
def test_no_sequence_of_public_answers_pins_a_suppressed_count(data, threshold):
    store = store_of(data)
    tables = TableSource(store, threshold)
    answers: dict[tuple[str, MonthRange], float] = {}
    suppressed: list[tuple[str, MonthRange]] = []
    for unit in UNITS:
        for period in PERIODS:
            p = Period.parse(period)
            months = MonthRange.of(p)
            value = public(store, tables, FORMULAS[0], unit, period)
            if value is not None:
                answers[(unit, months)] = value
            elif store.value(COUNT, unit, p) is not None:
                suppressed.append((unit, months))
            # formulas of one's own give nothing the cells did not
            for formula in FORMULAS[1:]:
                public(store, tables, formula, unit, period)
            ytd = MonthRange(2026 * 12, p.last_month)
            value = public(store, tables, FORMULAS[1], unit, period)
            if value is not None:
                answers[(unit, ytd)] = value
    for cell in suppressed:
        truth = share(data, cell)
        if truth > threshold:
            continue  # a partner, hidden for others' sake
        # a whole filling agreeing with every answer but giving the cell
        # another count: the answers do not pin it (protection interval >= 1)
        other = next(
            (f for f in fillings(data, answers) if share(f, cell) != truth), None
        )
        assert other is not None, (cell, truth)


def share(filling: dict[tuple[str, int], int], cell) -> int:
    return sum(v for leaf, v in filling.items() if covered(cell[0], cell[1], leaf))


def test_tiles_cover_a_range_with_the_biggest_aligned_periods():
    may = Period.parse("202605")
    ids = [p.id for p in tiles(MonthRange(2026 * 12, may.last_month))]
    assert ids == ["2026Q1", "202604", "202605"]
    assert [p.id for p in tiles(MonthRange.of(Period.parse("2026")))] == ["2026"]
