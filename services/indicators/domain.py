"""Indicators domain: periods, org units, data elements, values and their roll-up.

Pure and typed: no store, no broker. The semantics follow DHIS2's analytics so
that a board, a practitioner and a regional coordinator read the same number
the same way:

* a data value is entered for one org unit and one period (usually a month);
* a query for org unit ``ou`` and period ``P`` first aggregates each data
  element over the *subtree* of ``ou`` (the unit's own values included) and
  over every stored period contained in ``P``, with the element's aggregation
  type; only then is an indicator's formula applied, and the result is
  rounded to 2 decimals (see :mod:`services.indicators.expression`);
* counts leave the node only approved and suppressed, and a version approved
  again after a correction gives no small count away by difference with the
  versions before it (:func:`revision_hidden`).

Example data value, as stored and as imported from a DHIS2 data-value set::

    {"dataElement": "home_interventions", "period": "201703",
     "orgUnit": "cd:2437", "value": "42"}
"""

from __future__ import annotations

import calendar
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from services.indicators.exceptions import (
    InvalidPeriod,
    InvalidValue,
    UnknownOrgUnit,
)

# ---------------------------------------------------------------------------
# Periods
# ---------------------------------------------------------------------------


class PeriodType(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


_MONTHS_IN = {PeriodType.MONTH: 1, PeriodType.QUARTER: 3, PeriodType.YEAR: 12}
_PERIOD_RE = re.compile(
    r"^(?P<year>\d{4})(?:(?P<q>Q[1-4])|-?(?P<month>0[1-9]|1[0-2]))?$"
)


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month, quarter or year, identified the ISO/DHIS2 way.

    ``Period.parse("2017Q1")``, ``Period.parse("201703")`` (DHIS2's id) and
    ``Period.parse("2017-03")`` (DHIS2's CSV export) are all accepted; ``id``
    always gives the canonical DHIS2 form (``2017``, ``2017Q1``, ``201703``).
    Months are numbered by an ordinal ``year * 12 + month - 1`` so that
    containment and offsets are integer arithmetic.
    """

    year: int
    type: PeriodType
    index: int  # month 1-12, quarter 1-4, or 1 for a year

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _PERIOD_RE.match(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise InvalidPeriod(text)
        year = int(match["year"])
        if match["q"]:
            return cls(year, PeriodType.QUARTER, int(match["q"][1]))
        if match["month"]:
            return cls(year, PeriodType.MONTH, int(match["month"]))
        return cls(year, PeriodType.YEAR, 1)

    @classmethod
    def from_ordinal(cls, ordinal: int) -> Period:
        return cls(ordinal // 12, PeriodType.MONTH, ordinal % 12 + 1)

    @property
    def id(self) -> str:
        if self.type is PeriodType.MONTH:
            return f"{self.year}{self.index:02d}"
        if self.type is PeriodType.QUARTER:
            return f"{self.year}Q{self.index}"
        return f"{self.year}"

    def __str__(self) -> str:
        return self.id

    @property
    def first_month(self) -> int:
        """Ordinal of the first month (``year * 12 + month - 1``)."""
        span = _MONTHS_IN[self.type]
        return self.year * 12 + (self.index - 1) * span

    @property
    def last_month(self) -> int:
        return self.first_month + _MONTHS_IN[self.type] - 1

    def months(self) -> range:
        return range(self.first_month, self.last_month + 1)

    def contains(self, other: Period) -> bool:
        return (
            self.first_month <= other.first_month
            and other.last_month <= self.last_month
        )

    def offset(self, n: int) -> Period:
        """The period ``n`` steps away of the same type (DHIS2 ``periodOffset``)."""
        per_year = 12 // _MONTHS_IN[self.type]
        position = self.year * per_year + self.index - 1 + n
        return Period(position // per_year, self.type, position % per_year + 1)

    @property
    def start(self) -> date:
        month = (self.first_month % 12) + 1
        return date(self.year, month, 1)

    @property
    def end(self) -> date:
        month = (self.last_month % 12) + 1
        return date(self.year, month, calendar.monthrange(self.year, month)[1])

    @property
    def periods_in_year(self) -> int:
        """DHIS2's ``[yearlyPeriodCount]``: 12 months, 4 quarters, 1 year."""
        return 12 // _MONTHS_IN[self.type]


@dataclass(frozen=True)
class MonthRange:
    """The months a query covers: a period, possibly widened by ``yearToDate``."""

    first: int
    last: int

    @classmethod
    def of(cls, period: Period) -> MonthRange:
        return cls(period.first_month, period.last_month)

    def covers(self, period: Period) -> bool:
        return self.first <= period.first_month and period.last_month <= self.last

    def __len__(self) -> int:
        return self.last - self.first + 1


# ---------------------------------------------------------------------------
# Org units
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgUnit:
    """One node of the org-unit tree (Quebec, a region, an MRC, a municipality).

    ``{"id": "cd:2437", "name": "Francheville", "level": 3,
    "parent": "region:04", "kind": "CDR"}``
    """

    id: str
    name: str
    level: int
    parent: str | None = None
    kind: str = ""
    name_fr: str = ""
    note: str = ""


class Hierarchy:
    """An org-unit tree with precomputed ancestors, for fast subtree queries.

    ``units`` may come in any order; a parent that is not among them is an
    error, as is a cycle.
    """

    def __init__(self, units: Iterable[OrgUnit]) -> None:
        self.units: dict[str, OrgUnit] = {}
        for unit in units:
            self.units[unit.id] = unit
        self.children: dict[str, list[str]] = defaultdict(list)
        for unit in self.units.values():
            if unit.parent is not None:
                if unit.parent not in self.units:
                    raise UnknownOrgUnit(unit.parent)
                self.children[unit.parent].append(unit.id)
        self.ancestors: dict[str, tuple[str, ...]] = {}
        for unit_id in self.units:
            self.ancestors[unit_id] = self._path_up(unit_id)
        self._subtrees: dict[str, frozenset[str]] = {}

    def _path_up(self, unit_id: str) -> tuple[str, ...]:
        """``unit_id`` then its parent, up to the root."""
        path = [unit_id]
        seen = {unit_id}
        parent = self.units[unit_id].parent
        while parent is not None:
            if parent in seen:
                raise ValueError(f"cycle in the org-unit tree at {parent}")
            path.append(parent)
            seen.add(parent)
            parent = self.units[parent].parent
        return tuple(path)

    def __contains__(self, unit_id: object) -> bool:
        return unit_id in self.units

    def __len__(self) -> int:
        return len(self.units)

    def __iter__(self) -> Iterator[OrgUnit]:
        return iter(self.units.values())

    def get(self, unit_id: str) -> OrgUnit:
        try:
            return self.units[unit_id]
        except KeyError:
            raise UnknownOrgUnit(unit_id) from None

    def roots(self) -> list[str]:
        return [u.id for u in self.units.values() if u.parent is None]

    def at_level(self, level: int) -> list[OrgUnit]:
        return [u for u in self.units.values() if u.level == level]

    def subtree(self, unit_id: str) -> frozenset[str]:
        """The unit and all its descendants."""
        self.get(unit_id)
        cached = self._subtrees.get(unit_id)
        if cached is None:
            found = []
            stack = [unit_id]
            while stack:
                current = stack.pop()
                found.append(current)
                stack.extend(self.children.get(current, ()))
            cached = frozenset(found)
            self._subtrees[unit_id] = cached
        return cached

    def is_ancestor_or_self(self, ancestor: str, unit_id: str) -> bool:
        return ancestor in self.ancestors[unit_id]

    def ancestor_at_level(self, unit_id: str, level: int) -> str | None:
        for candidate in self.ancestors[unit_id]:
            if self.units[candidate].level == level:
                return candidate
        return None


# ---------------------------------------------------------------------------
# Data elements and values
# ---------------------------------------------------------------------------


class ValueType(StrEnum):
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    TEXT = "text"


class AggregationType(StrEnum):
    """How a data element is aggregated over org units and periods.

    ``sum``, ``average``, ``min``, ``max`` take every value in the subtree and
    the period together (DHIS2 SUM, AVERAGE, MIN, MAX). ``last`` takes, for
    each org unit, its latest value up to the end of the period, looking back
    before the period if it has none inside, then sums the org units (DHIS2
    LAST): right for stocks such as people on a waiting list, which are only
    recorded when they change. ``last_in_period`` does not look back.
    The ``*_sum_org_unit`` types first aggregate each org unit over the
    periods, then sum the org units (DHIS2 MAX_SUM_ORG_UNIT, ...).
    """

    SUM = "sum"
    AVERAGE = "average"
    MIN = "min"
    MAX = "max"
    LAST = "last"
    LAST_IN_PERIOD = "last_in_period"
    AVERAGE_SUM_ORG_UNIT = "average_sum_org_unit"
    MAX_SUM_ORG_UNIT = "max_sum_org_unit"
    MIN_SUM_ORG_UNIT = "min_sum_org_unit"

    @classmethod
    def parse(cls, text: str) -> AggregationType:
        return cls(text.strip().lower())


@dataclass(frozen=True)
class DataElement:
    """What is counted or measured, with a definition people can read.

    ``{"id": "home_interventions", "value_type": "integer",
    "aggregation": "sum", "name_fr": "Interventions à domicile", ...}``

    ``is_count`` marks counts of people or events: those are the cells that
    small-cell suppression protects.
    """

    id: str
    value_type: ValueType = ValueType.NUMBER
    aggregation: AggregationType = AggregationType.SUM
    name_fr: str = ""
    name_en: str = ""
    definition_fr: str = ""
    definition_en: str = ""
    is_count: bool = False


_INTEGER_RE = re.compile(r"^[+-]?\d+$")
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_TRUE = {"true", "1", "yes", "oui", "vrai"}
_FALSE = {"false", "0", "no", "non", "faux"}


def parse_value(element: DataElement, raw: object) -> float | str:
    """Validate a raw value against the element's type; return what is stored.

    Numbers become floats (integers stay integral), booleans become 1.0/0.0 as
    DHIS2 sums them, text stays text. ``InvalidValue`` names what was expected.
    """
    value_type = element.value_type
    if value_type is ValueType.TEXT:
        if raw is None or str(raw) == "":
            raise InvalidValue(element.id, raw, "texte non vide / non-empty text")
        return str(raw)
    if value_type is ValueType.BOOLEAN:
        if isinstance(raw, bool):
            return 1.0 if raw else 0.0
        text = str(raw).strip().lower()
        if text in _TRUE:
            return 1.0
        if text in _FALSE:
            return 0.0
        raise InvalidValue(element.id, raw, "booléen attendu / boolean expected")
    if isinstance(raw, bool):
        raise InvalidValue(element.id, raw, "nombre attendu / number expected")
    text = str(raw).strip() if raw is not None else ""
    if value_type is ValueType.INTEGER:
        if isinstance(raw, int) or _INTEGER_RE.match(text):
            return float(int(text))
        if isinstance(raw, float) and raw.is_integer():
            return float(raw)
        raise InvalidValue(element.id, raw, "entier attendu / integer expected")
    if isinstance(raw, int | float) or _NUMBER_RE.match(text):
        number = float(text)
        if number != number or number in (float("inf"), float("-inf")):
            raise InvalidValue(element.id, raw, "nombre fini attendu / finite number")
        return number
    raise InvalidValue(element.id, raw, "nombre attendu / number expected")


@dataclass(frozen=True)
class DataValue:
    """One stored value; ``combo`` and ``attribute`` are its category option
    combo and attribute option combo (``""``: DHIS2's default, ``HllvX50cXC0``).
    """

    data_element: str
    period: Period
    org_unit: str
    value: float | str
    combo: str = ""
    attribute: str = ""


# ---------------------------------------------------------------------------
# Aggregation
# ---------------------------------------------------------------------------


def round2(value: float) -> float:
    """Half-up to 2 decimals, from the shortest repr (so 258.5 stays 258.5)."""
    return float(Decimal(repr(value)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def aggregate(
    values: Sequence[tuple[str, Period, float]],
    aggregation: AggregationType,
) -> float | None:
    """Aggregate ``(org_unit, period, value)`` rows already filtered to the query.

    Returns ``None`` when there is no value (not zero: "no data" differs from
    "zero interventions").
    """
    if not values:
        return None
    numbers = [v for _, _, v in values]
    if aggregation is AggregationType.SUM:
        return float(sum(numbers))
    if aggregation is AggregationType.AVERAGE:
        return float(sum(numbers)) / len(numbers)
    if aggregation is AggregationType.MIN:
        return float(min(numbers))
    if aggregation is AggregationType.MAX:
        return float(max(numbers))
    per_unit: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for unit, period, value in values:
        per_unit[unit][period.first_month] += value
    if aggregation in (AggregationType.LAST, AggregationType.LAST_IN_PERIOD):
        return float(sum(months[max(months)] for months in per_unit.values()))
    if aggregation is AggregationType.MAX_SUM_ORG_UNIT:
        return float(sum(max(m.values()) for m in per_unit.values()))
    if aggregation is AggregationType.MIN_SUM_ORG_UNIT:
        return float(sum(min(m.values()) for m in per_unit.values()))
    if aggregation is AggregationType.AVERAGE_SUM_ORG_UNIT:
        return float(sum(sum(m.values()) / len(m) for m in per_unit.values()))
    raise ValueError(aggregation)  # pragma: no cover - exhaustive enum


@dataclass
class DataSet:
    """A reporting form assigned to org units, for DHIS2 reporting rates.

    ``{"id": "monthly_activity", "org_units": ["cd:2437"]}``; a registration
    ``(data_set, month, org_unit)`` says the form was completed.
    """

    id: str
    org_units: frozenset[str]
    period_type: PeriodType = PeriodType.MONTH


ComboFilter = str | None  # a combo id, "*" or None: every combo


class ValueStore:
    """All data values of a node in memory, indexed by data element.

    This is the evaluation side (what a query reads); the service persists
    the same values in its store and loads them here to evaluate. Values are
    kept per category option combo and attribute option combo; an element's
    value at an org unit and period is the sum of its combos (DHIS2's data
    element total), which is what :meth:`rows` and :meth:`value` read unless
    a combo is asked for (see :mod:`services.indicators.categories`).
    """

    def __init__(
        self,
        hierarchy: Hierarchy,
        elements: Mapping[str, DataElement] | None = None,
    ) -> None:
        self.hierarchy = hierarchy
        self.elements: dict[str, DataElement] = dict(elements or {})
        self._values: dict[str, dict[tuple[str, Period], float | str]] = defaultdict(
            dict
        )
        # element -> (unit, period) -> (combo, attribute) -> value
        self._combos: dict[
            str, dict[tuple[str, Period], dict[tuple[str, str], float | str]]
        ] = defaultdict(dict)
        self.data_sets: dict[str, DataSet] = {}
        self.registrations: set[tuple[str, int, str]] = set()

    def element(self, element_id: str) -> DataElement:
        found = self.elements.get(element_id)
        if found is None:
            found = DataElement(element_id)
            self.elements[element_id] = found
        return found

    def put(self, value: DataValue) -> None:
        """Store (or replace) the value of one element, org unit, period and
        combos; the element's total there is the sum of its combos."""
        self.hierarchy.get(value.org_unit)
        key = (value.org_unit, value.period)
        combos = self._combos[value.data_element].setdefault(key, {})
        combos[(value.combo, value.attribute)] = value.value
        if len(combos) == 1:
            total: float | str = value.value
        else:
            numbers = [v for v in combos.values() if not isinstance(v, str)]
            total = float(sum(numbers)) if numbers else value.value
        self._values[value.data_element][key] = total

    def combo_rows(
        self,
        data_element: str,
        org_unit: str,
        months: MonthRange,
        combo: ComboFilter = None,
        attribute: ComboFilter = None,
    ) -> list[tuple[str, Period, float]]:
        """Like :meth:`rows`, counting only the values of ``combo`` and
        ``attribute`` (``None`` or ``"*"``: any), summed per org unit and
        period (DHIS2's data element operand ``#{de.combo.attribute}``)."""
        subtree = self.hierarchy.subtree(org_unit)
        found: list[tuple[str, Period, float]] = []
        for (unit, period), combos in self._combos.get(data_element, {}).items():
            if unit not in subtree or not months.covers(period):
                continue
            picked = [
                v
                for (c, a), v in combos.items()
                if not isinstance(v, str)
                and combo in (None, "*", c)
                and attribute in (None, "*", a)
            ]
            if picked:
                found.append((unit, period, float(sum(picked))))
        return found

    def put_raw(
        self, data_element: str, period: str, org_unit: str, raw: object
    ) -> DataValue:
        element = self.element(data_element)
        value = DataValue(
            data_element, Period.parse(period), org_unit, parse_value(element, raw)
        )
        self.put(value)
        return value

    def __len__(self) -> int:
        return sum(
            len(combos) for cells in self._combos.values() for combos in cells.values()
        )

    def all_values(self) -> Iterator[DataValue]:
        """Every stored value, one per combo (not the totals)."""
        for element, cells in self._combos.items():
            for (unit, period), combos in cells.items():
                for (combo, attribute), value in combos.items():
                    yield DataValue(element, period, unit, value, combo, attribute)

    def rows(
        self, data_element: str, org_unit: str, months: MonthRange
    ) -> list[tuple[str, Period, float]]:
        """The numeric values of an element in ``org_unit``'s subtree and months."""
        subtree = self.hierarchy.subtree(org_unit)
        found: list[tuple[str, Period, float]] = []
        for (unit, period), value in self._values.get(data_element, {}).items():
            if isinstance(value, str):
                continue
            if unit in subtree and months.covers(period):
                found.append((unit, period, value))
        return found

    def value(
        self,
        data_element: str,
        org_unit: str,
        period: Period | MonthRange,
        aggregation: AggregationType | None = None,
        combo: ComboFilter = None,
        attribute: ComboFilter = None,
    ) -> float | None:
        """The element aggregated over the subtree and the period (unrounded);
        with ``combo`` or ``attribute``, only the values of those combos."""
        months = period if isinstance(period, MonthRange) else MonthRange.of(period)
        element = self.element(data_element)
        aggregation = aggregation or element.aggregation
        if aggregation is AggregationType.LAST:
            months = MonthRange(0, months.last)  # look back for the last known value
        if combo in (None, "*") and attribute in (None, "*"):
            rows = self.rows(data_element, org_unit, months)
        else:
            rows = self.combo_rows(data_element, org_unit, months, combo, attribute)
        return aggregate(rows, aggregation)

    def add_data_set(self, data_set: DataSet) -> None:
        self.data_sets[data_set.id] = data_set

    def register_completion(self, data_set: str, period: str, org_unit: str) -> None:
        self.hierarchy.get(org_unit)
        self.registrations.add((data_set, Period.parse(period).first_month, org_unit))

    def reporting_rate(
        self, data_set: str, org_unit: str, months: MonthRange
    ) -> float | None:
        """Completed over expected reports, in percent, rounded to 2 decimals.

        Expected = the form's org units in the subtree x the months covered.
        DHIS2 rounds the rate before an indicator uses it, which is why
        ``deA * R{ds}/100`` gives 199.34 and not 199.33 on its fixture.
        """
        ds = self.data_sets[data_set]
        assigned = ds.org_units & self.hierarchy.subtree(org_unit)
        expected = len(assigned) * len(months)
        if expected == 0:
            return None
        actual = sum(
            1
            for (name, month, unit) in self.registrations
            if name == data_set
            and unit in assigned
            and months.first <= month <= months.last
        )
        return round2(100.0 * actual / expected)


# ---------------------------------------------------------------------------
# Roll-up
# ---------------------------------------------------------------------------


@dataclass
class Rollup:
    """Sums of one element at every org unit and month, ancestors included.

    ``totals[(org_unit, month_ordinal)]``; quarters and years are sums of
    months (``total(ou, Period.parse("2017Q1"))``).
    """

    totals: dict[tuple[str, int], float] = field(default_factory=dict)

    def total(self, org_unit: str, period: Period) -> float:
        return float(sum(self.totals.get((org_unit, m), 0.0) for m in period.months()))


def rollup_sum(hierarchy: Hierarchy, rows: Iterable[tuple[str, int, float]]) -> Rollup:
    """Roll ``(org_unit, month_ordinal, value)`` rows up to every ancestor.

    Values are first summed per (unit, month), then each distinct (unit, month)
    is added to its ancestors: the work is one dict update per row plus one per
    (unit, month, ancestor), not one per (row, ancestor).
    """
    leaf: dict[tuple[str, int], float] = defaultdict(float)
    for unit, month, value in rows:
        leaf[(unit, month)] += value
    totals: dict[tuple[str, int], float] = defaultdict(float)
    ancestors = hierarchy.ancestors
    for (unit, month), value in leaf.items():
        for ancestor in ancestors[unit]:
            totals[(ancestor, month)] += value
    return Rollup(dict(totals))


# ---------------------------------------------------------------------------
# Approval
# ---------------------------------------------------------------------------

APPROVAL_LEVEL = 3  # the MRC (census division) approves its values


@dataclass(frozen=True)
class Approval:
    """Values of ``period`` in the MRC's subtree, approved before sharing.

    Approved again after an unapproval, a period's counts are published once
    more; :func:`revision_hidden` says what the new version must hide so that
    compared with the earlier ones it reveals no count at or below the
    threshold.

    ``{"org_unit": "cd:2437", "period": "2017Q1", "approved": true}``
    """

    org_unit: str
    period: Period
    approved: bool = True


def revision_hidden(
    published: Mapping[str, int | None],
    relations: Sequence[tuple[str, tuple[str, ...]]],
    earlier: Sequence[Mapping[str, int | None]],
    threshold: int,
) -> set[str]:
    """Cells a new version of approved counts must hide as well, so that read
    next to the versions published before it reveals no small count.

    Unapproving a period, correcting it and approving it again publishes the
    same cells twice; the difference between the two is a count too. A total
    published as 50, then as 53 after a correction, says that 3 interventions
    were added somewhere, however well each version hides its own small cells.
    Secondary suppression protects a hidden cell from subtraction inside one
    table; this extends the same idea across versions. For each earlier
    version (``None`` where it suppressed a cell):

    1. a cell hidden before stays hidden: publishing it now would pin what the
       earlier version hid to protect its small cells (a 9 hidden beside
       zeros, shown as 9 now, says the zeros were zeros);
    2. a cell published before whose count changed by 1 to ``threshold`` (up
       or down) is hidden: the change itself is a small count;
    3. for each relation whose total both versions published, the parts it
       hides now add up to the total minus the parts it shows, and the same
       parts did in the earlier version (the parts shown now were all shown
       then, by 1.); if that hidden rest changed by 1 to ``threshold`` (41 of
       50, then 60 of 72: the rest went from 9 to 12), the total is hidden.

    The service hides these cells as primary ones and suppresses again
    (secondary suppression and the audit apply to them as to any small cell),
    until the result needs nothing more. Changes of 0 or of more than the
    threshold are published. Since the cells a version hides include all
    those hidden before, what a reader can compute from two versions of one
    relation is each shown cell's change, the total's change and the change of
    the hidden rest: rules 2 and 3 keep all three at 0 or above the threshold.
    The price: a cell hidden once stays hidden in later versions of the same
    MRC, element and period. A coordinator's roll-ups, published again as MRCs
    correct theirs, follow the same rules with its own threshold. ::

        revision_hidden({"a": 41, "b": None, "t": 53}, [("t", ("a", "b"))],
                        [{"a": 41, "b": None, "t": 50}], 5)   # {"t"}
    """
    hide: set[str] = set()
    for before in earlier:
        for key, count in published.items():
            if count is None or key not in before:
                continue
            old = before[key]
            if old is None or 0 < abs(count - old) <= threshold:
                hide.add(key)
    for before in earlier:
        for total, parts in relations:
            now_total, old_total = published.get(total), before.get(total)
            if now_total is None or old_total is None or total in hide:
                continue
            shown = [p for p in parts if published.get(p) is not None and p not in hide]
            # shown parts were published before too (rule 1), or absent (zero)
            rest_now = now_total - sum(int(published[p] or 0) for p in shown)
            rest_old = old_total - sum(int(before.get(p) or 0) for p in shown)
            if 0 < abs(rest_now - rest_old) <= threshold:
                hide.add(total)
    return hide


def approval_key(org_unit: str, period: Period) -> str:
    return f"{org_unit}|{period.id}"


def locking_approval(
    hierarchy: Hierarchy,
    approvals: Iterable[Approval],
    org_unit: str,
    period: Period,
) -> Approval | None:
    """The approval that locks a value of ``org_unit`` and ``period``, if any.

    A value is locked when an approved period of its MRC overlaps its period:
    a monthly value inside an approved quarter, or a yearly value over it.
    """
    owners = set(hierarchy.ancestors[org_unit])
    for approval in approvals:
        if not approval.approved or approval.org_unit not in owners:
            continue
        overlap = (
            approval.period.first_month <= period.last_month
            and period.first_month <= approval.period.last_month
        )
        if overlap:
            return approval
    return None


def shareable(
    hierarchy: Hierarchy,
    approvals: Iterable[Approval],
    org_unit: str,
    period: Period,
) -> bool:
    """Only values under an approved MRC period may leave the node.

    Above the MRC (region, Quebec) every MRC below must have approved.
    """
    approved = [a for a in approvals if a.approved and a.period.contains(period)]
    mrcs = [
        u
        for u in hierarchy.subtree(org_unit) | set(hierarchy.ancestors[org_unit])
        if hierarchy.units[u].level == APPROVAL_LEVEL
        and (
            hierarchy.is_ancestor_or_self(org_unit, u)
            or hierarchy.is_ancestor_or_self(u, org_unit)
        )
    ]
    if not mrcs:
        return False
    return all(any(a.org_unit == m for a in approved) for m in mrcs)
