"""Small-cell suppression, with secondary suppression checked by solving.

A table is a set of count cells plus additive relations (``total = sum of
parts``): a two-way table with its row, column and grand totals; an MRC and
its municipalities; a quarter and its months. Publishing the other cells of a
relation would give away a suppressed one by subtraction, so:

1. *primary*: every count at or below the threshold (default 5) is hidden;
2. *secondary*: any relation left with exactly one hidden cell gets a second
   one (its smallest other non-zero cell), until no relation has exactly one;
3. *audit*: for each primary cell, an exact linear programme (rational
   simplex, no floating point) finds the smallest and largest value that the
   published cells and totals allow, counts being non-negative. If they are
   closer than ``protection`` (default 1: the value cannot be pinned down),
   another cell of its relations is hidden and the audit runs again.

For tables whose relations form a two-way table (rows and columns), the
constraint matrix is totally unimodular, so the LP bounds are the integer
bounds: what the audit proves holds for an attacker who knows counts are
whole numbers too.

    table = two_way_table({"Ville A": {"home": 3, "group": 12}, ...})
    result = suppress(table, threshold=5)
    result.published   # {("Ville A", "home"): None, ("Ville A", "group"): None, ...}
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

Key = Hashable
TOTAL = "__total__"


@dataclass(frozen=True)
class Table:
    cells: Mapping[Key, int]
    relations: Sequence[tuple[Key, tuple[Key, ...]]]
    checked: bool = True  # False when some cells are placeholders (unknown)

    def __post_init__(self) -> None:
        if not self.checked:
            return
        for total, parts in self.relations:
            if self.cells[total] != sum(self.cells[p] for p in parts):
                raise ValueError(f"relation {total!r} does not add up")


def two_way_table(rows: Mapping[str, Mapping[str, int]]) -> Table:
    """Cells ``(row, column)`` plus ``(row, TOTAL)``, ``(TOTAL, column)`` and
    ``(TOTAL, TOTAL)``, with one relation per row, per column and the grand
    total over the row totals."""
    columns: list[str] = []
    for row in rows.values():
        columns += [c for c in row if c not in columns]
    cells: dict[Key, int] = {}
    relations: list[tuple[Key, tuple[Key, ...]]] = []
    for name, row in rows.items():
        parts = tuple((name, c) for c in columns)
        for c in columns:
            cells[(name, c)] = int(row.get(c, 0))
        cells[(name, TOTAL)] = sum(cells[p] for p in parts)
        relations.append(((name, TOTAL), parts))
    for c in columns:
        parts = tuple((name, c) for name in rows)
        cells[(TOTAL, c)] = sum(cells[p] for p in parts)
        relations.append(((TOTAL, c), parts))
    grand_parts = tuple((name, TOTAL) for name in rows)
    cells[(TOTAL, TOTAL)] = sum(cells[p] for p in grand_parts)
    relations.append(((TOTAL, TOTAL), grand_parts))
    return Table(cells, relations)


@dataclass
class Suppression:
    published: dict[Key, int | None]
    primary: set[Key] = field(default_factory=set)
    secondary: set[Key] = field(default_factory=set)
    # primary cells the audit could not protect (nothing left to hide near
    # them): a caller that must not publish them fails closed
    unprotected: set[Key] = field(default_factory=set)

    @property
    def hidden(self) -> set[Key]:
        return self.primary | self.secondary


# ---------------------------------------------------------------------------
# Exact LP: what can an attacker learn about a hidden cell?
# ---------------------------------------------------------------------------


def _simplex_min(
    rows: list[list[Fraction]], rhs: list[Fraction], cost: list[Fraction]
) -> Fraction | None:
    """Minimise ``cost . x`` subject to ``rows x = rhs``, ``x >= 0``.

    Two-phase tableau simplex with Bland's rule (no cycling), exact in
    fractions. Returns ``None`` when unbounded below. The problem is known to
    be feasible here (the true table satisfies it); an infeasible one raises.
    """
    m = len(rows)
    n = len(cost)
    tableau: list[list[Fraction]] = []
    for i in range(m):
        sign = -1 if rhs[i] < 0 else 1
        artificial = [Fraction(0)] * m
        artificial[i] = Fraction(1)
        tableau.append([sign * a for a in rows[i]] + artificial + [sign * rhs[i]])
    basis = [n + i for i in range(m)]

    def run(objective: list[Fraction], allowed: int) -> bool:
        while True:
            entering = None
            for j in range(allowed):
                reduced = objective[j] - sum(
                    objective[basis[i]] * tableau[i][j] for i in range(m)
                )
                if reduced < 0:
                    entering = j
                    break
            if entering is None:
                return True
            leaving = None
            best: tuple[Fraction, int] | None = None
            for i in range(m):
                coefficient = tableau[i][entering]
                if coefficient > 0:
                    candidate = (tableau[i][-1] / coefficient, basis[i])
                    if best is None or candidate < best:
                        best, leaving = candidate, i
            if leaving is None:
                return False
            _pivot(tableau, basis, leaving, entering)

    phase_one = [Fraction(0)] * n + [Fraction(1)] * m
    run(phase_one, n + m)
    if any(basis[i] >= n and tableau[i][-1] != 0 for i in range(m)):
        raise ValueError("the published table is inconsistent")
    for i in range(m):
        if basis[i] >= n:
            for j in range(n):
                if tableau[i][j] != 0:
                    _pivot(tableau, basis, i, j)
                    break
    keep = [i for i in range(m) if basis[i] < n]
    tableau[:] = [tableau[i] for i in keep]
    basis[:] = [basis[i] for i in keep]
    m = len(tableau)
    objective = list(cost) + [Fraction(0)] * len(rows)
    if not run(objective, n):
        return None
    value = Fraction(0)
    for i in range(m):
        value += objective[basis[i]] * tableau[i][-1]
    return value


def _pivot(
    tableau: list[list[Fraction]], basis: list[int], row: int, column: int
) -> None:
    pivot = tableau[row][column]
    tableau[row] = [a / pivot for a in tableau[row]]
    for i in range(len(tableau)):
        if i != row and tableau[i][column] != 0:
            factor = tableau[i][column]
            tableau[i] = [
                a - factor * b for a, b in zip(tableau[i], tableau[row], strict=True)
            ]
    basis[row] = column


def cell_bounds(
    table: Table, published: Mapping[Key, int | None], cell: Key
) -> tuple[Fraction, Fraction | None]:
    """The least and greatest value of a hidden ``cell`` consistent with what
    is published (``None`` for a hidden cell) and the table's relations.

    The upper bound is ``None`` if nothing limits it.
    """
    unknowns = [k for k in table.cells if published.get(k) is None]
    if cell not in unknowns:
        value = Fraction(table.cells[cell])
        return value, value
    index = {k: i for i, k in enumerate(unknowns)}
    rows: list[list[Fraction]] = []
    rhs: list[Fraction] = []
    for total, parts in table.relations:
        coefficients = [Fraction(0)] * len(unknowns)
        constant = Fraction(0)
        for key, sign in [(total, -1)] + [(p, 1) for p in parts]:
            known = published.get(key)
            if known is None:
                coefficients[index[key]] += sign
            else:
                constant += sign * known
        if any(coefficients):
            rows.append(coefficients)
            rhs.append(-constant)
    rows, rhs, unknowns = _component(rows, rhs, unknowns, index[cell])
    index = {k: i for i, k in enumerate(unknowns)}
    target = [Fraction(0)] * len(unknowns)
    target[index[cell]] = Fraction(1)
    low = _simplex_min(rows, rhs, target)
    high = _simplex_min(rows, rhs, [-t for t in target])
    assert low is not None  # x >= 0 bounds it below
    return low, None if high is None else -high


def _component(
    rows: list[list[Fraction]],
    rhs: list[Fraction],
    unknowns: list[Key],
    start: int,
) -> tuple[list[list[Fraction]], list[Fraction], list[Key]]:
    """Only the rows and unknowns linked to ``start`` by shared rows bound it:
    the rest of the table is a separate problem (feasible on its own, since
    the true table satisfies it) and is left out of the programme."""
    by_unknown: dict[int, list[int]] = {}
    for r, row in enumerate(rows):
        for j, a in enumerate(row):
            if a:
                by_unknown.setdefault(j, []).append(r)
    seen_rows: set[int] = set()
    seen: set[int] = {start}
    stack = [start]
    while stack:
        j = stack.pop()
        for r in by_unknown.get(j, ()):
            if r in seen_rows:
                continue
            seen_rows.add(r)
            for k, a in enumerate(rows[r]):
                if a and k not in seen:
                    seen.add(k)
                    stack.append(k)
    keep = sorted(seen)
    kept_rows = sorted(seen_rows)
    return (
        [[rows[r][j] for j in keep] for r in kept_rows],
        [rhs[r] for r in kept_rows],
        [unknowns[j] for j in keep],
    )


def exposed(
    table: Table,
    published: Mapping[Key, int | None],
    cells: set[Key],
    protection: int = 1,
) -> list[Key]:
    """The hidden ``cells`` whose feasible interval is narrower than
    ``protection``: they are not protected by what was published."""
    found = []
    for cell in sorted(cells, key=repr):
        low, high = cell_bounds(table, published, cell)
        if high is not None and high - low < protection:
            found.append(cell)
    return found


# ---------------------------------------------------------------------------
# Suppression
# ---------------------------------------------------------------------------


def _lines(table: Table) -> list[tuple[Key, ...]]:
    return [(total, *parts) for total, parts in table.relations]


def _pick(
    table: Table,
    line: Sequence[Key],
    hidden: set[Key],
    total: Key,
    shown: frozenset[Key] = frozenset(),
) -> Key | None:
    """The cheapest other cell of a line to hide: a part before the total,
    non-zero before zero (a zero partner gives away a one-sided bound),
    smallest first; never a cell ``shown`` elsewhere (hiding it hides nothing)."""
    candidates = [k for k in line if k not in hidden and k not in shown]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda k: (k == total, table.cells[k] == 0, table.cells[k], repr(k)),
    )


def suppress(
    table: Table,
    threshold: int = 5,
    protection: int = 1,
    audit: bool = True,
    unknown: frozenset[Key] = frozenset(),
    forced: frozenset[Key] = frozenset(),
    shown: frozenset[Key] = frozenset(),
) -> Suppression:
    """Hide small counts and enough other cells that none can be recovered.

    ``unknown`` cells were already hidden by whoever sent them (their value in
    ``table`` is a placeholder): they stay hidden and count as hidden partners.
    ``forced`` cells are hidden and protected like small ones whatever their
    count (a change too small to show since an earlier version). ``shown``
    cells were published elsewhere: they are never chosen as partners.

    A primary cell the audit found protected stays protected as more cells
    are hidden (hiding only widens what the published cells allow), so each
    round audits only the cells not yet proven.
    """
    small = {k for k, v in table.cells.items() if v <= threshold}
    primary = (small | set(forced)) - unknown
    hidden = set(primary) | set(unknown)
    relations = list(table.relations)
    proven: set[Key] = set()
    unprotected: set[Key] = set()
    while True:
        changed = True
        while changed:
            changed = False
            for total, parts in relations:
                line = (total, *parts)
                inside = [k for k in line if k in hidden]
                if len(inside) == 1:
                    extra = _pick(table, line, hidden, total, shown)
                    if extra is not None:
                        hidden.add(extra)
                        changed = True
        published = {k: (None if k in hidden else v) for k, v in table.cells.items()}
        if not audit:
            break
        weak = exposed(table, published, primary - proven, protection)
        proven |= primary - set(weak)
        if not weak:
            break
        added = False
        for cell in weak:
            for total, parts in relations:
                line = (total, *parts)
                if cell in line:
                    extra = _pick(table, line, hidden, total, shown)
                    if extra is not None:
                        hidden.add(extra)
                        added = True
                        break
            if added:
                break
        if not added:
            # Its own lines are all hidden, yet other published cells still
            # pin it (e.g. a grand total equal to one column forces the other
            # columns to zero): hide the smallest published cell that shares
            # a relation with any hidden cell.
            near = {
                k
                for line in _lines(table)
                if any(k in hidden for k in line)
                for k in line
                if k not in hidden and k not in shown
            }
            if not near:
                unprotected = set(weak)
                break
            hidden.add(min(near, key=lambda k: (table.cells[k], repr(k))))
    published = {k: (None if k in hidden else v) for k, v in table.cells.items()}
    return Suppression(published, primary, hidden - primary - set(unknown), unprotected)


def resuppress(
    received: Mapping[Key, int | None],
    relations: Sequence[tuple[Key, tuple[Key, ...]]],
    threshold: int = 5,
    protection: int = 1,
    forced: frozenset[Key] = frozenset(),
) -> Suppression:
    """Suppression applied again where counts are received (a coordinator).

    ``received`` holds what peers published (``None`` where they suppressed);
    a total whose parts are not all known is unknown too. The receiving node's
    own threshold then applies to every known cell, with secondary suppression
    and the same audit over all the relations it publishes.

        resuppress({"cd:2402": 31, "cd:2403": None, "region:11": None},
                   [("region:11", ("cd:2402", "cd:2403"))], threshold=10)
    """
    values: dict[Key, int | None] = dict(received)
    for total, parts in relations:
        for key in (total, *parts):
            values.setdefault(key, None)
    changed = True
    while changed:
        changed = False
        for total, parts in relations:
            if values.get(total) is None and all(
                values.get(p) is not None for p in parts
            ):
                known = [values[p] for p in parts]
                values[total] = sum(v for v in known if v is not None)
                changed = True
    unknown = frozenset(k for k, v in values.items() if v is None)
    cells = {k: (0 if v is None else v) for k, v in values.items()}
    table = Table(cells, relations, checked=False)
    return suppress(table, threshold, protection, unknown=unknown, forced=forced)


def suppress_rate(
    value: float | None, counts: Sequence[float | None], threshold: int = 5
) -> float | None:
    """A rate built on a suppressed count is suppressed too.

    ``suppress_rate(12.5, [3, 24])`` is ``None``: 3 people are too few.
    """
    if value is None:
        return None
    for count in counts:
        if count is not None and count <= threshold:
            return None
    return value
