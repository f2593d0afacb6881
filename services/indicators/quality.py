"""Data quality: DHIS2 validation rules, min/max bounds and an outlier check.

Pure functions over a :class:`ValueStore`. A **validation rule** compares two
formulas (the same language as indicators) for one period type:
``left operator right``, with an importance and DHIS2's missing-value
strategies (``skip_if_all_values_missing`` by default: a rule whose operands
all have no value says nothing). Rules run when a value is entered (for the
entered org unit and the period of the rule's type that contains it) and on
demand over an org unit's subtree and a period (:func:`violations`).

**Bounds** (``min``/``max`` of a data element) and the **outlier check** warn
before a value is saved; the service answers the warnings and saves only a
value sent again with ``confirm``, recording that it was confirmed.

Why the modified z-score (median and median absolute deviation) rather than
the z-score: the z-score's mean and standard deviation include the suspect
value, which inflates the deviation and hides itself, and with ``n`` values no
z-score can exceed ``(n - 1) / sqrt(n)``: for a year of months (12 values,
the new one among them) at most 3.18, so the usual threshold of 3 would almost
never fire. The median and the MAD are not moved by one wrong value (their
breakdown point is 50 %). We flag ``|0.6745 (x - median) / MAD| > 3.5``
(Iglewicz and Hoaglin, 1993; DHIS2's outlier detection offers the same
"modified z-score"), from at least 6 earlier values of the same element and
org unit; when the MAD is 0 (most months equal) the mean absolute deviation
times 1.2533 stands in, and when every earlier value is the same, any other
value is flagged.

    outlier([10, 12, 11, 9, 13, 10], 95)
    -> {"check": "outlier", "score": 57.0, "median": 10.5, ...}
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.indicators.definitions import OPERATORS, ValidationRule
from services.indicators.domain import Period, PeriodType, ValueStore, round2
from services.indicators.expression import Context, evaluate, parse

OUTLIER_SCORE = 3.5
OUTLIER_HISTORY = 6
_EPSILON = 1e-9


def _warning(check: str, fr: str, en: str, **details: Any) -> dict[str, Any]:
    return {"check": check, "field": "value", "message": {"fr": fr, "en": en}} | details


def bound_warnings(
    element: str, content: Mapping[str, Any], value: float
) -> list[dict[str, Any]]:
    """``min``/``max`` of the element's definition."""
    found = []
    low, high = content.get("min"), content.get("max")
    if low is not None and value < low:
        found.append(
            _warning(
                "min",
                f"{element} : {value:g} est sous le minimum {low:g}",
                f"{element}: {value:g} is below the minimum {low:g}",
                min=low,
            )
        )
    if high is not None and value > high:
        found.append(
            _warning(
                "max",
                f"{element} : {value:g} dépasse le maximum {high:g}",
                f"{element}: {value:g} is above the maximum {high:g}",
                max=high,
            )
        )
    return found


def outlier(
    history: Sequence[float],
    value: float,
    element: str = "",
    threshold: float = OUTLIER_SCORE,
) -> dict[str, Any] | None:
    """A warning when ``value`` is far from ``history`` by the modified
    z-score (see the module docstring); ``None`` otherwise or when there are
    fewer than :data:`OUTLIER_HISTORY` earlier values."""
    if len(history) < OUTLIER_HISTORY:
        return None
    median = statistics.median(history)
    mad = statistics.median(abs(x - median) for x in history)
    if mad > 0:
        score = 0.6745 * (value - median) / mad
    else:
        mean_ad = statistics.fmean(abs(x - median) for x in history)
        if mean_ad > 0:
            score = (value - median) / (1.253314 * mean_ad)
        elif value == median:
            return None
        else:
            score = float("inf") if value > median else float("-inf")
    if abs(score) <= threshold:
        return None
    shown = "∞" if abs(score) == float("inf") else f"{abs(score):.1f}"
    return _warning(
        "outlier",
        f"{element} : {value:g} s'écarte des {len(history)} valeurs précédentes "
        f"(médiane {median:g}, score z modifié {shown} > {threshold:g})",
        f"{element}: {value:g} is far from the {len(history)} earlier values "
        f"(median {median:g}, modified z-score {shown} > {threshold:g})",
        score=None if abs(score) == float("inf") else round2(score),
        median=median,
        history=len(history),
    )


@dataclass(frozen=True)
class Violation:
    rule: str
    version: int
    importance: str
    org_unit: str
    period: str
    left: float | None
    operator: str
    right: float | None
    name_fr: str = ""
    name_en: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "version": self.version,
            "importance": self.importance,
            "org_unit": self.org_unit,
            "period": self.period,
            "left": self.left,
            "operator": self.operator,
            "right": self.right,
            "name": {"fr": self.name_fr, "en": self.name_en},
        }


def _holds(operator: str, left: float | None, right: float | None) -> bool:
    if operator == "compulsory_pair":
        return (left is None) == (right is None)
    if operator == "exclusive_pair":
        return left is None or right is None
    a, b = left or 0.0, right or 0.0
    symbol = OPERATORS[operator]
    if symbol == "==":
        return abs(a - b) <= _EPSILON
    if symbol == "!=":
        return abs(a - b) > _EPSILON
    if symbol == ">":
        return a > b + _EPSILON
    if symbol == ">=":
        return a >= b - _EPSILON
    if symbol == "<":
        return a < b - _EPSILON
    return a <= b + _EPSILON


def check_rule(
    rule: ValidationRule, store: ValueStore, org_unit: str, period: Period
) -> Violation | None:
    """One rule at one org unit and period (unsuppressed: quality is read by
    those who enter values)."""
    context = Context(org_unit, period)
    left = evaluate(parse(rule.left), store, context)
    right = evaluate(parse(rule.right), store, context)
    values = [o.value for o in left.operands + right.operands]
    strategy = rule.missing_value_strategy
    if strategy == "skip_if_all_values_missing" and all(v is None for v in values):
        return None
    if strategy == "skip_if_any_value_missing" and any(v is None for v in values):
        return None
    pair = rule.operator in ("compulsory_pair", "exclusive_pair")
    if _holds(rule.operator, left.value, right.value):
        return None
    return Violation(
        rule.id,
        rule.version,
        rule.importance,
        org_unit,
        period.id,
        left.value if pair or left.value is None else round2(left.value),
        rule.operator,
        right.value if pair or right.value is None else round2(right.value),
        rule.name_fr,
        rule.name_en,
    )


def periods_of(period: Period, period_type: str) -> list[Period]:
    """The periods of ``period_type`` a query period asks: those inside it,
    or the one containing it when it is shorter (a month asks its quarter)."""
    kind = PeriodType(period_type)
    months = {PeriodType.MONTH: 1, PeriodType.QUARTER: 3, PeriodType.YEAR: 12}
    if months[kind] >= months[period.type]:
        first = Period.from_ordinal(period.first_month)
        if kind is PeriodType.MONTH:
            return [first]
        if kind is PeriodType.QUARTER:
            return [Period(first.year, kind, (first.index - 1) // 3 + 1)]
        return [Period(first.year, kind, 1)]
    found = []
    for m in period.months():
        month = Period.from_ordinal(m)
        candidate = periods_of(month, period_type)[0]
        if candidate not in found:
            found.append(candidate)
    return found


def violations(
    rules: Iterable[ValidationRule],
    store: ValueStore,
    org_units: Iterable[str],
    period: Period,
) -> list[dict[str, Any]]:
    """Violations grouped per org unit and period, most important first::

    [{"org_unit": "csd:2437067", "period": "202603",
      "violations": [{"rule": "...", "importance": "high", "left": 12,
                      "operator": "less_than_or_equal_to", "right": 9}]}]
    """
    order = {"high": 0, "medium": 1, "low": 2}
    groups: dict[tuple[str, str], list[Violation]] = {}
    for rule in rules:
        for unit in org_units:
            for p in periods_of(period, rule.period_type):
                found = check_rule(rule, store, unit, p)
                if found is not None:
                    groups.setdefault((unit, p.id), []).append(found)
    return [
        {
            "org_unit": unit,
            "period": pid,
            "violations": [
                v.as_dict()
                for v in sorted(found, key=lambda v: (order[v.importance], v.rule))
            ],
        }
        for (unit, pid), found in sorted(groups.items())
    ]


def rule_warning(violation: Violation) -> dict[str, Any]:
    """A violation found at entry, as a warning the entry answers."""
    return _warning(
        "rule",
        f"règle « {violation.name_fr or violation.rule} » non respectée "
        f"({violation.left} {OPERATORS[violation.operator]} {violation.right}, "
        f"importance {violation.importance})",
        f'rule "{violation.name_en or violation.rule}" not met '
        f"({violation.left} {OPERATORS[violation.operator]} {violation.right}, "
        f"importance {violation.importance})",
        rule=violation.rule,
        importance=violation.importance,
        period=violation.period,
    )
