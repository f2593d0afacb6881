"""What an audience without the right to unsuppressed values may read: the
published table of each count, and formulas evaluated over it alone.

Suppressing each answer on its own is not enough: whoever may send a formula
(``GET /indicators/evaluate`` takes any numerator) or ask several questions
subtracts. ``#{x}.yearToDate() - #{x}.yearToDate().periodOffset(-1)`` in March
is March; a quarter minus two of its months is the third; an MRC minus all
its towns but one is that town. So, for each count data element and year,
the node publishes one *linked table* and nothing else:

* cells ``(org unit, period)`` for every org unit whose subtree reported the
  element (Quebec, region, MRC, municipality, plus ``"<unit>#own"`` for what
  an org unit entered itself beside its children) and every period of the
  year: 12 months, 4 quarters and the year (a stock, aggregated ``last``, has
  its months only: a quarter's stock is its last month's);
* relations: each quarter is the sum of its months and the year the sum of
  its quarters (period hierarchy), each org unit the sum of its children and
  its own values, at every period (org-unit hierarchy);
* a disaggregated element (values in several category option combos,
  :mod:`categories`) has the combo dimension too: cells
  ``(org unit, period, combo)`` with the same org-unit and period relations
  within each combo, and each ``(org unit, period)`` total the sum of its
  combos (DHIS2's data element total), so a small combo is hidden with
  complementary cells across the combos, the total and both hierarchies, and
  ``#{de.combo}`` in a public formula reads the combo's published cells;
* the table is suppressed as a whole (:func:`suppression.suppress`): every
  count at or below the threshold is hidden (primary), complementary cells
  are hidden along both hierarchies, and the exact audit proves that each
  primary cell keeps a feasible interval at least ``protection`` wide given
  every published cell of the table. A cell hidden by an approval already
  sent (``forced``) stays hidden here, and a cell that approval showed is
  never chosen as a partner here (it is known anyway); an org unit the
  approval hid although it reported nothing is a hidden zero here too, not
  "no value" (which would tell that the small cell's partners were zeros).

**Protection interval.** Whatever public answers are combined, a suppressed
small count ``c`` is only known to lie in an interval ``[low, high]`` with
``high - low >= protection`` (1 by default: at least two whole values are
possible, so the count is never pinned to one value); an interval narrower
than that is what the audit refuses.

Cells with no data at all are published as "no value": whether something was
reported is public, how many is not. A public formula is then evaluated over
published cells only (:class:`PublishedValues`): each operand of a count is
read as the sum of the table's cells that tile its months (the year, whole
quarters, then months: ``yearToDate`` in May is Q1 + April + May); if any of
those cells is suppressed the whole answer is suppressed, and a count read
with another aggregation than its own is not derivable from the table, so it
is suppressed as well. Non-count elements (population) are not protected.

    table = publish(store, "home_interventions", 2026, threshold=5)
    table.published[("csd:2437067", "202603")]   # None: suppressed
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from services.indicators.domain import (
    AggregationType,
    MonthRange,
    Period,
    PeriodType,
    ValueStore,
)
from services.indicators.suppression import Suppression, Table, suppress

Cell = tuple[str, ...]  # (org unit or "<unit>#own", period id[, combo])
OWN = "#own"
PUBLISHABLE = (AggregationType.SUM, AggregationType.LAST)


class Withheld(Exception):
    """A term of a public formula touches a suppressed cell (or a count read in
    a way the published table cannot give): the answer is suppressed."""


@dataclass
class PublishedTable:
    """One count's linked table for one year, as published.

    ``published[cell]`` is the count, or ``None`` where suppressed; a cell
    absent from it had no data (published as "no value").
    """

    element: str
    year: int
    table: Table
    published: dict[Cell, int | None]
    primary: set[Cell] = field(default_factory=set)
    combos: tuple[str, ...] = ()  # the combo dimension, if disaggregated

    def read(self, cell: Cell) -> int | None:
        """The published count of a cell, ``None`` if it has no data;
        :class:`Withheld` if it is suppressed."""
        if cell not in self.published:
            return None
        value = self.published[cell]
        if value is None:
            raise Withheld(cell)
        return value


def year_periods(year: int, stock: bool) -> list[Period]:
    months = [Period(year, PeriodType.MONTH, m) for m in range(1, 13)]
    if stock:
        return months
    quarters = [Period(year, PeriodType.QUARTER, q) for q in range(1, 5)]
    return months + quarters + [Period(year, PeriodType.YEAR, 1)]


def linked_table(
    store: ValueStore,
    element: str,
    year: int,
    placeholders: frozenset[str] = frozenset(),
) -> Table:
    """The true counts of ``element`` in ``year`` with both hierarchies'
    relations; cells with no data are left out (they are zero and public),
    except those of the ``placeholders`` org units (an approval sent them
    hidden: their zeros are cells, to be kept hidden)."""
    hierarchy = store.hierarchy
    stock = store.element(element).aggregation is AggregationType.LAST
    first = 0 if stock else year * 12  # a stock looks back for its last value
    rows = [
        row
        for root in hierarchy.roots()
        for row in store.rows(element, root, MonthRange(first, year * 12 + 11))
    ]
    reporting = {unit for unit, _, _ in rows}
    included = {a for unit in reporting for a in hierarchy.ancestors[unit]}
    zeros = {u for u in placeholders if u in hierarchy and u not in included}
    zeros = {u for u in zeros if hierarchy.units[u].parent in included}
    included |= zeros
    # each included unit's parts: its included children and, if it has both
    # children and values of its own, an "#own" leaf
    parts: dict[str, list[str]] = {}
    for unit in sorted(included):
        children = sorted(c for c in hierarchy.children.get(unit, ()) if c in included)
        if children and unit in reporting:
            children.append(unit + OWN)
        if children:
            parts[unit] = children
    leaves: dict[str, set[str]] = defaultdict(set)  # node -> reporting units
    for unit in reporting | zeros:
        for ancestor in hierarchy.ancestors[unit]:
            if ancestor == unit and unit in parts:
                leaves[unit + OWN].add(unit)
            leaves[ancestor].add(unit)
    # per reporting unit: month ordinal -> summed value
    by_unit: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for unit, period, value in rows:
        by_unit[unit][period.first_month] += value
    by_combo = _by_combo(store, element, first, year * 12 + 11)

    def count(
        node: str, period: Period, by: Mapping[str, Mapping[int, float]] = by_unit
    ) -> int | None:
        total, seen = 0.0, False
        for unit in leaves[node]:
            months = by.get(unit, {})
            if stock:
                before = [m for m in months if m <= period.last_month]
                if before:
                    total, seen = total + months[max(before)], True
            else:
                inside = [
                    m for m in months if period.first_month <= m <= period.last_month
                ]
                if inside:
                    total, seen = total + sum(months[m] for m in inside), True
        if not seen and node in zeros:
            return 0
        return int(round(total)) if seen else None

    periods = year_periods(year, stock)
    cells: dict[Hashable, int] = {}
    for node in leaves:
        for period in periods:
            found = count(node, period)
            if found is not None:
                cells[(node, period.id)] = found
    combos = sorted(by_combo) if set(by_combo) - {""} else []
    for combo in combos:
        for node in leaves:
            for period in periods:
                found = count(node, period, by_combo[combo])
                if found is None and node in zeros:
                    found = 0  # hidden like the zero total it sums to
                if found is not None:
                    cells[(node, period.id, combo)] = found
    relations: list[tuple[Hashable, tuple[Hashable, ...]]] = []
    for suffix in [()] + [(c,) for c in combos]:
        for node, children in parts.items():
            for period in periods:
                total = (node, period.id, *suffix)
                if total in cells:
                    inside = tuple(
                        (c, period.id, *suffix)
                        for c in children
                        if (c, period.id, *suffix) in cells
                    )
                    relations.append((total, inside))
        if stock:
            continue
        for node in leaves:
            for q in range(1, 5):
                quarter = Period(year, PeriodType.QUARTER, q)
                total = (node, quarter.id, *suffix)
                if total in cells:
                    months = tuple(
                        (node, Period.from_ordinal(m).id, *suffix)
                        for m in quarter.months()
                        if (node, Period.from_ordinal(m).id, *suffix) in cells
                    )
                    relations.append((total, months))
            total = (node, str(year), *suffix)
            if total in cells:
                quarters = tuple(
                    (node, f"{year}Q{q}", *suffix)
                    for q in range(1, 5)
                    if (node, f"{year}Q{q}", *suffix) in cells
                )
                relations.append((total, quarters))
    for node in leaves:
        for period in periods:
            total = (node, period.id)
            inside = tuple(
                (node, period.id, c) for c in combos if (node, period.id, c) in cells
            )
            # a stock's combos may be last recorded in different months: their
            # sum is then not the unit's last total, and no relation holds
            if inside and cells.get(total) == sum(cells[p] for p in inside):
                relations.append((total, inside))
    return Table(cells, relations)


def _by_combo(
    store: ValueStore, element: str, first: int, last: int
) -> dict[str, dict[str, dict[int, float]]]:
    """combo -> reporting unit -> month ordinal -> value (attribute combos
    summed), for the months ``first..last``."""
    found: dict[str, dict[str, dict[int, float]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(float))
    )
    for value in store.all_values():
        if value.data_element != element or isinstance(value.value, str):
            continue
        period = value.period
        if first <= period.first_month and period.last_month <= last:
            found[value.combo][value.org_unit][period.first_month] += value.value
    return found


def publish(
    store: ValueStore,
    element: str,
    year: int,
    threshold: int = 5,
    protection: int = 1,
    forced: frozenset[Cell] = frozenset(),
    shown: frozenset[Cell] = frozenset(),
) -> PublishedTable:
    """Suppress ``element``'s linked table of ``year`` as a whole (see the
    module docstring); ``forced`` cells are hidden whatever their count,
    ``shown`` cells (already published elsewhere) are never hidden partners."""
    # an approval hid cells of org units that reported nothing: they are
    # zeros there, hidden, and must not be read here as "no value" (public)
    placeholders = frozenset(u for u, _ in forced)
    table = linked_table(store, element, year, placeholders)
    empty = _no_data(store, element, year, placeholders)
    unknown = frozenset(c for c in table.cells if c[0] in empty)  # type: ignore[index]
    result = _suppressed(
        tuple(sorted(table.cells.items())),  # type: ignore[arg-type]
        tuple(table.relations),
        threshold,
        protection,
        frozenset(c for c in forced if c in table.cells) - unknown,
        frozenset(c for c in shown if c in table.cells),
        unknown,
    )
    published: dict[Cell, int | None] = dict(result.published)  # type: ignore[arg-type]
    if result.unprotected:
        # the audit found no way to protect a cell: publish none of the table
        published = dict.fromkeys(published)
    keys: list[Cell] = list(table.cells)  # type: ignore[arg-type]
    combos = tuple(sorted({c[2] for c in keys if len(c) == 3}))
    return PublishedTable(
        element,
        year,
        table,
        published,
        set(result.primary),  # type: ignore[arg-type]
        combos,
    )


@lru_cache(maxsize=512)
def _suppressed(
    cells: tuple[tuple[Cell, int], ...],
    relations: tuple[tuple[Hashable, tuple[Hashable, ...]], ...],
    threshold: int,
    protection: int,
    forced: frozenset[Cell],
    shown: frozenset[Cell],
    unknown: frozenset[Cell] = frozenset(),
) -> Suppression:
    """The suppression of one table, kept while its counts do not change: the
    audit solves a programme per small cell, and every public answer reads it.
    ``unknown`` cells are zeros no publication showed: hidden partners, free
    unknowns to the audit, as they are to a reader."""
    table = Table(dict(cells), relations)
    return suppress(
        table, threshold, protection, unknown=unknown, forced=forced, shown=shown
    )


def _no_data(
    store: ValueStore, element: str, year: int, units: frozenset[str]
) -> set[str]:
    """Those of ``units`` whose subtree has no value of ``element`` up to the
    end of ``year``."""
    months = MonthRange(0, year * 12 + 11)
    return {
        u for u in units if u in store.hierarchy and not store.rows(element, u, months)
    }


def tiles(months: MonthRange) -> list[Period]:
    """The biggest aligned periods covering ``months`` (years, quarters, months)."""
    found: list[Period] = []
    m = months.first
    while m <= months.last:
        year, index = divmod(m, 12)
        if index == 0 and m + 11 <= months.last:
            found.append(Period(year, PeriodType.YEAR, 1))
            m += 12
        elif index % 3 == 0 and m + 2 <= months.last:
            found.append(Period(year, PeriodType.QUARTER, index // 3 + 1))
            m += 3
        else:
            found.append(Period.from_ordinal(m))
            m += 1
    return found


class PublishedValues(ValueStore):
    """A :class:`ValueStore` that answers counts from the published tables only
    (what the public may derive) and other elements from ``store``.

    ``tables(element, year)`` gives the :class:`PublishedTable` (the service
    caches them); :class:`Withheld` leaves :func:`expression.evaluate_indicator`
    when a term touches a suppressed cell.
    """

    def __init__(self, store: ValueStore, tables: TableSource) -> None:
        super().__init__(store.hierarchy, store.elements)
        self.inner = store
        self.tables = tables

    def rows(
        self, data_element: str, org_unit: str, months: MonthRange
    ) -> list[tuple[str, Period, float]]:
        if self.inner.element(data_element).is_count:
            raise Withheld(data_element)
        return self.inner.rows(data_element, org_unit, months)

    def reporting_rate(
        self, data_set: str, org_unit: str, months: MonthRange
    ) -> float | None:
        return self.inner.reporting_rate(data_set, org_unit, months)

    def _attributes(self, data_element: str) -> bool:
        """Whether some value of the element has an attribute option combo."""
        return any(
            v.attribute
            for v in self.inner.all_values()
            if v.data_element == data_element
        )

    def value(
        self,
        data_element: str,
        org_unit: str,
        period: Period | MonthRange,
        aggregation: AggregationType | None = None,
        combo: str | None = None,
        attribute: str | None = None,
    ) -> float | None:
        element = self.inner.element(data_element)
        if not element.is_count:
            return self.inner.value(
                data_element, org_unit, period, aggregation, combo, attribute
            )
        own = element.aggregation
        if (aggregation or own) is not own or own not in PUBLISHABLE:
            raise Withheld(data_element)
        if attribute not in (None, "*") and (
            attribute or self._attributes(data_element)
        ):
            raise Withheld(data_element)  # the table sums attribute combos
        self.hierarchy.get(org_unit)
        months = period if isinstance(period, MonthRange) else MonthRange.of(period)
        if own is AggregationType.LAST:
            last = Period.from_ordinal(months.last)
            pieces = [last]
        else:
            pieces = tiles(months)
        total, seen = 0, False
        for piece in pieces:
            table = self.tables(data_element, piece.year)
            cell: Cell = (org_unit, piece.id)
            if combo not in (None, "*") and (combo or table.combos):
                cell = (org_unit, piece.id, combo)
            found = table.read(cell)
            if found is not None:
                total, seen = total + found, True
        return float(total) if seen else None


class TableSource:
    """Builds and keeps the published tables of one evaluation (one data
    snapshot), so several operands and periods share them."""

    def __init__(
        self,
        store: ValueStore,
        threshold: int,
        forced: Mapping[tuple[str, int], frozenset[Cell]] | None = None,
        shown: Mapping[tuple[str, int], frozenset[Cell]] | None = None,
        protection: int = 1,
    ) -> None:
        self.store = store
        self.threshold = threshold
        self.protection = protection
        self.forced = forced or {}
        self.shown = shown or {}
        self.built: dict[tuple[str, int], PublishedTable] = {}

    def __call__(self, element: str, year: int) -> PublishedTable:
        key = (element, year)
        if key not in self.built:
            self.built[key] = publish(
                self.store,
                element,
                year,
                self.threshold,
                self.protection,
                self.forced.get(key, frozenset()),
                self.shown.get(key, frozenset()),
            )
        return self.built[key]
