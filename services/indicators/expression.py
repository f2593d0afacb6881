"""Indicator formulas: a small safe parser and DHIS2's evaluation order.

A formula is parsed into a tree (never ``eval``): numbers, ``+ - * /``,
parentheses, and operands:

* ``#{home_interventions}`` (the data element total, every combo) or a bare
  name ``home_interventions``; DHIS2's data element operands
  ``#{de.catOptCombo}``, ``#{de.catOptCombo.attrOptCombo}`` and
  ``#{de.*.attrOptCombo}`` read one combo (:mod:`categories`);
* ``R{dataSet.REPORTING_RATE}``: completed over expected reports, in percent;
* ``[periodInYear]``, ``[yearlyPeriodCount]``;
* postfix functions on any operand or parenthesised group:
  ``.aggregationType(MAX_SUM_ORG_UNIT)``, ``.periodOffset(-1)``,
  ``.yearToDate()``.

Each operand is aggregated over the org-unit subtree and the period first
(:meth:`ValueStore.value`); then the arithmetic is applied. An operand with no
data counts as 0 when another operand has data, and the whole side is "no
value" when none has (DHIS2's default for indicators). Division by zero
anywhere gives the formula no value.

    >>> parse("#{deB}*#{deC}")          # doctest: +SKIP
    BinOp(op='*', left=Operand('deB'), right=Operand('deC'))
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from services.indicators.domain import (
    AggregationType,
    MonthRange,
    Period,
    ValueStore,
    round2,
)
from services.indicators.exceptions import ExpressionError

# ---------------------------------------------------------------------------
# Tree
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Operand:
    element: str
    combo: str | None = None  # None: every category option combo
    attribute: str | None = None  # None: every attribute option combo


@dataclass(frozen=True)
class ReportingRate:
    data_set: str
    metric: str = "REPORTING_RATE"


@dataclass(frozen=True)
class Constant:
    name: str  # periodInYear, yearlyPeriodCount


@dataclass(frozen=True)
class Neg:
    operand: Node


@dataclass(frozen=True)
class BinOp:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Modified:
    """A postfix function applied to ``operand`` (which may be a group)."""

    operand: Node
    function: str  # aggregationType, periodOffset, yearToDate
    argument: str | int | None = None


Node = Num | Operand | ReportingRate | Constant | Neg | BinOp | Modified

# ---------------------------------------------------------------------------
# Parser
# ---------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)
  | (?P<hash>\#\{(?P<hash_body>[A-Za-z0-9_:.*\-]+)\})
  | (?P<rate>R\{(?P<rate_body>[A-Za-z0-9_:\-]+)\.(?P<rate_metric>[A-Z_]+)\})
  | (?P<bracket>\[(?P<bracket_body>[A-Za-z]+)\])
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>[-+*/(),.])
    """,
    re.VERBOSE,
)

_FUNCTIONS = {"aggregationType", "periodOffset", "yearToDate"}
_CONSTANTS = {"periodInYear", "yearlyPeriodCount"}


@dataclass
class _Token:
    kind: str
    text: str
    position: int
    groups: dict[str, str | None] = field(default_factory=dict)


def _tokenize(expression: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if match is None:
            raise ExpressionError(
                expression,
                position,
                f"caractère inattendu « {expression[position]} »",
                f'unexpected character "{expression[position]}"',
            )
        kind = match.lastgroup or ""
        if kind not in ("space",):
            # the innermost named group wins in lastgroup; map back to the outer kind
            for outer in ("number", "hash", "rate", "bracket", "name", "op"):
                if match.group(outer) is not None:
                    kind = outer
                    break
            tokens.append(_Token(kind, match.group(0), position, match.groupdict()))
        position = match.end()
    tokens.append(_Token("end", "", len(expression)))
    return tokens


class _Parser:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = _tokenize(expression)
        self.index = 0

    def error(self, token: _Token, fr: str, en: str) -> ExpressionError:
        return ExpressionError(self.expression, token.position, fr, en)

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def accept(self, text: str) -> bool:
        if self.current.kind == "op" and self.current.text == text:
            self.index += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            raise self.error(
                self.current,
                f"« {text} » attendu",
                f'"{text}" expected',
            )

    def parse(self) -> Node:
        if self.current.kind == "end":
            raise self.error(self.current, "expression vide", "empty expression")
        node = self.sum()
        if self.current.kind != "end":
            raise self.error(
                self.current,
                f"« {self.current.text} » inattendu",
                f'unexpected "{self.current.text}"',
            )
        return node

    def sum(self) -> Node:
        node = self.product()
        while self.current.kind == "op" and self.current.text in "+-":
            op = self.current.text
            self.index += 1
            node = BinOp(op, node, self.product())
        return node

    def product(self) -> Node:
        node = self.unary()
        while self.current.kind == "op" and self.current.text in "*/":
            op = self.current.text
            self.index += 1
            node = BinOp(op, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.accept("-"):
            return Neg(self.unary())
        if self.accept("+"):
            return self.unary()
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while self.current.kind == "op" and self.current.text == ".":
            self.index += 1
            name = self.current
            if name.kind != "name" or name.text not in _FUNCTIONS:
                raise self.error(
                    name,
                    f"fonction inconnue « {name.text} »",
                    f'unknown function "{name.text}"',
                )
            self.index += 1
            self.expect("(")
            argument: str | int | None = None
            if name.text == "aggregationType":
                arg = self.current
                try:
                    AggregationType.parse(arg.text)
                except ValueError:
                    raise self.error(
                        arg,
                        f"type d'agrégation inconnu « {arg.text} »",
                        f'unknown aggregation type "{arg.text}"',
                    ) from None
                argument = arg.text.lower()
                self.index += 1
            elif name.text == "periodOffset":
                sign = -1 if self.accept("-") else 1
                if not sign < 0:
                    self.accept("+")
                arg = self.current
                if arg.kind != "number" or not arg.text.isdigit():
                    raise self.error(arg, "entier attendu", "integer expected")
                argument = sign * int(arg.text)
                self.index += 1
            self.expect(")")
            node = Modified(node, name.text, argument)
        return node

    def primary(self) -> Node:
        token = self.current
        if token.kind == "number":
            self.index += 1
            return Num(float(token.text))
        if token.kind == "hash":
            self.index += 1
            body = token.groups["hash_body"] or ""
            parts = body.split(".")
            if len(parts) > 3 or not all(parts):
                raise self.error(
                    token,
                    "opérande #{élément.combinaison.attribut} attendu",
                    "operand #{element.combo.attribute} expected",
                )
            combo = _combo_part(parts[1]) if len(parts) > 1 else None
            attribute = _combo_part(parts[2]) if len(parts) > 2 else None
            return Operand(parts[0], combo, attribute)
        if token.kind == "rate":
            self.index += 1
            return ReportingRate(
                token.groups["rate_body"] or "", token.groups["rate_metric"] or ""
            )
        if token.kind == "bracket":
            name = token.groups["bracket_body"] or ""
            if name not in _CONSTANTS:
                raise self.error(
                    token, f"constante inconnue [{name}]", f"unknown constant [{name}]"
                )
            self.index += 1
            return Constant(name)
        if token.kind == "name":
            self.index += 1
            return Operand(token.text)
        if self.accept("("):
            node = self.sum()
            self.expect(")")
            return node
        raise self.error(
            token,
            "nombre, opérande ou « ( » attendu",
            'number, operand or "(" expected',
        )


def _combo_part(text: str) -> str | None:
    """``*`` is every combo (None); DHIS2's default id is ``""``."""
    if text == "*":
        return None
    return "" if text in ("HllvX50cXC0", "default") else text


def parse(expression: str) -> Node:
    """Parse a formula; :class:`ExpressionError` says where and why it fails."""
    return _Parser(expression).parse()


def operands(node: Node) -> set[str]:
    """The data elements a formula reads (to validate it, or to know what a
    changed value affects)."""
    if isinstance(node, Operand):
        return {node.element}
    if isinstance(node, Neg):
        return operands(node.operand)
    if isinstance(node, BinOp):
        return operands(node.left) | operands(node.right)
    if isinstance(node, Modified):
        return operands(node.operand)
    return set()


# ---------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    org_unit: str
    period: Period
    year_to_date: bool = False
    aggregation: AggregationType | None = None

    @property
    def months(self) -> MonthRange:
        if self.year_to_date:
            return MonthRange(self.period.year * 12, self.period.last_month)
        return MonthRange.of(self.period)


@dataclass(frozen=True)
class OperandValue:
    """One aggregated operand, kept so suppression can judge the result."""

    element: str
    org_unit: str
    months: MonthRange
    value: float | None


@dataclass
class Evaluation:
    value: float | None
    operands: list[OperandValue] = field(default_factory=list)


def evaluate(node: Node, store: ValueStore, context: Context) -> Evaluation:
    """Evaluate a formula at one org unit and period (unrounded)."""
    used: list[OperandValue] = []
    try:
        value = _eval(node, store, context, used)
    except _Undefined:
        value = None
    return Evaluation(value, used)


class _Undefined(Exception):
    """Division by zero anywhere: the whole formula has no value (unlike a
    missing operand, which counts as 0 beside operands that have data)."""


def _eval(
    node: Node, store: ValueStore, ctx: Context, used: list[OperandValue]
) -> float | None:
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Operand):
        if node.combo is None and node.attribute is None:
            value = store.value(node.element, ctx.org_unit, ctx.months, ctx.aggregation)
        else:
            value = store.value(
                node.element,
                ctx.org_unit,
                ctx.months,
                ctx.aggregation,
                combo=node.combo,
                attribute=node.attribute,
            )
        used.append(OperandValue(node.element, ctx.org_unit, ctx.months, value))
        return value
    if isinstance(node, ReportingRate):
        return store.reporting_rate(node.data_set, ctx.org_unit, ctx.months)
    if isinstance(node, Constant):
        if node.name == "periodInYear":
            return float(ctx.period.index)
        return float(ctx.period.periods_in_year)
    if isinstance(node, Neg):
        inner = _eval(node.operand, store, ctx, used)
        return None if inner is None else -inner
    if isinstance(node, Modified):
        if node.function == "aggregationType":
            ctx = replace(ctx, aggregation=AggregationType.parse(str(node.argument)))
        elif node.function == "periodOffset":
            ctx = replace(ctx, period=ctx.period.offset(int(node.argument or 0)))
        else:
            ctx = replace(ctx, year_to_date=True)
        return _eval(node.operand, store, ctx, used)
    left = _eval(node.left, store, ctx, used)
    right = _eval(node.right, store, ctx, used)
    if left is None and right is None:
        return None
    a = left or 0.0
    b = right or 0.0
    if node.op == "+":
        return a + b
    if node.op == "-":
        return a - b
    if node.op == "*":
        return a * b
    if b == 0:
        raise _Undefined
    return a / b


@dataclass(frozen=True)
class Indicator:
    """Numerator over denominator times a factor, with readable definitions.

    ``{"id": "home_interventions_per_10k", "numerator": "#{home_interventions}",
    "denominator": "#{population}", "factor": 10000, "name_fr": ...}``
    """

    id: str
    numerator: str
    denominator: str = "1"
    factor: float = 1.0
    name_fr: str = ""
    name_en: str = ""
    definition_fr: str = ""
    definition_en: str = ""

    def __post_init__(self) -> None:
        parse(self.numerator)
        parse(self.denominator)

    @property
    def elements(self) -> set[str]:
        return operands(parse(self.numerator)) | operands(parse(self.denominator))


@dataclass
class IndicatorValue:
    indicator: str
    org_unit: str
    period: str
    value: float | None
    numerator: float | None
    denominator: float | None
    operands: list[OperandValue] = field(default_factory=list)


def evaluate_indicator(
    indicator: Indicator, store: ValueStore, org_unit: str, period: Period | str
) -> IndicatorValue:
    """DHIS2 order: aggregate operands, apply numerator/denominator x factor,
    round to 2 decimals."""
    if isinstance(period, str):
        period = Period.parse(period)
    store.hierarchy.get(org_unit)
    context = Context(org_unit, period)
    num = evaluate(parse(indicator.numerator), store, context)
    den = evaluate(parse(indicator.denominator), store, context)
    value: float | None = None
    if num.value is not None and den.value not in (None, 0):
        assert den.value is not None
        value = round2(num.value / den.value * indicator.factor)
    return IndicatorValue(
        indicator.id,
        org_unit,
        period.id,
        value,
        num.value,
        den.value,
        num.operands + den.operands,
    )
