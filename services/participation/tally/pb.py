"""Participatory budgeting: greedy with skipping, and the Method of Equal Shares.

Greedy funds projects by decreasing votes (points for cumulative ballots) and
skips a project that no longer fits, so a cheaper one further down can still
be funded (Warszawa 2019: 2334 skipped, 2195 funded).

Equal Shares (MES) with cost utilities gives every voter an equal endowment;
each step funds the project whose supporters can pay for it with the lowest
price per unit of utility ``rho`` (highest "effective vote count" ``1/rho``),
each supporter paying ``min(budget_left, rho * utility)``.  For approval
ballots the utility of a project is its cost; for cumulative ballots it is
``cost * points``.  Exact rationals throughout: equal-shares decisions turn
on ties and small differences.

Add-one completion: the endowment starts at ``floor(budget / voters)`` and is
raised by one currency unit while the outcome at the next endowment still
fits in the real budget; the last outcome that fits is the result (no early
stop at an exhaustive outcome, no greedy completion afterwards).  The only
stop besides overspending: an outcome that already funds every project with
a supporter, which no endowment can change.

Approval committees (abcvoting) are the special case where every candidate
costs the number of voters ``n`` and the budget is ``k * n``: one currency
unit per voter is then ``1/n`` of a seat.

Example: ``pb_mes(read_pb("wieliczka.pb")).winners`` -> the 30 funded projects.
"""

from __future__ import annotations

import heapq
from fractions import Fraction

from .model import PBInstance, Result, Round

try:  # gmpy2 rationals are several times faster than Fraction; same values
    from gmpy2 import mpq as _Q  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover
    _Q = Fraction


def _fmt_money(value) -> str:
    f = Fraction(value)
    return str(f.numerator) if f.denominator == 1 else f"{float(f):.2f}"


def pb_greedy(instance: PBInstance) -> Result:
    names = instance.projects
    votes = [0] * len(names)
    for ballot, count in instance.profile.ballots.items():
        for p, points in ballot:
            votes[p] += points * count
    order = sorted(range(len(names)), key=lambda p: (-votes[p], instance.costs[p], p))
    left = instance.budget
    winners: list[str] = []
    rounds: list[Round] = []
    for step, p in enumerate(order, 1):
        fits = instance.costs[p] <= left
        if fits:
            left -= instance.costs[p]
            winners.append(names[p])
        rounds.append(
            Round(
                number=step,
                action="fund" if fits else "skip",
                candidates=[names[p]],
                counts={names[p]: votes[p]},
                note=f"cost {_fmt_money(instance.costs[p])}, left {_fmt_money(left)}",
            )
        )
    spent = instance.budget - left
    return Result(
        method="pb-greedy",
        winners=winners,
        rounds=rounds,
        parameters={"budget": _fmt_money(instance.budget), "order": "votes, then cost"},
        extra={"cost": _fmt_money(spent)},
    )


def _groups(instance: PBInstance):
    """Voters grouped by identical ballot: (count, [(project, utility)])."""
    out = []
    for ballot, count in instance.profile.ballots.items():
        items = [(p, instance.costs[p] * points) for p, points in ballot if points]
        if items:
            out.append((count, items))
    return out


def _mes_run(instance: PBInstance, groups, endowment, record: bool):
    """One run of MES with ``endowment`` per voter; returns (chosen, rounds)."""
    costs = [_Q(c) for c in instance.costs]
    money = [_Q(endowment)] * len(groups)
    supporters: list[list[tuple[int, object]]] = [[] for _ in instance.projects]
    for g, (_count, items) in enumerate(groups):
        for p, u in items:
            supporters[p].append((g, _Q(u)))
    chosen: list[int] = []
    rounds: list[Round] = []
    available = set(range(len(costs)))

    def best_rho(p: int):
        """Smallest rho such that supporters pay cost[p]; None if unaffordable."""
        total = sum(money[g] * groups[g][0] for g, _ in supporters[p])
        if total < costs[p] or not supporters[p]:
            return None
        # supporters sorted by money/utility: those who run out pay all they have
        rows = sorted(
            ((money[g] / u, g, u) for g, u in supporters[p]), key=lambda r: r[0]
        )
        paid = _Q(0)
        util_left = sum(u * groups[g][0] for g, u in supporters[p])
        for ratio, g, u in rows:
            rho = (costs[p] - paid) / util_left
            if rho <= ratio:
                return rho
            paid += money[g] * groups[g][0]
            util_left -= u * groups[g][0]
        return None

    # lazy evaluation: rho only grows as money is spent
    heap = []
    for p in available:
        rho = best_rho(p)
        if rho is not None:
            heap.append((rho, costs[p] * 0 - _votes(supporters[p], groups), p))
    heapq.heapify(heap)
    while heap:
        rho, tie, p = heapq.heappop(heap)
        current = best_rho(p)
        if current is None:
            continue
        if current != rho:
            heapq.heappush(heap, (current, tie, p))
            continue
        if heap and heap[0][0] == current and heap[0][1:] < (tie, p):
            heapq.heappush(heap, (current, tie, p))
            continue
        chosen.append(p)
        for g, u in supporters[p]:
            money[g] = max(_Q(0), money[g] - min(money[g], rho * u))
        if record:
            rounds.append(
                Round(
                    number=len(chosen),
                    action="fund",
                    candidates=[instance.projects[p]],
                    counts={instance.projects[p]: Fraction(1) / Fraction(rho)},
                    note=f"effective votes {float(1 / rho):.3f} (1/rho), "
                    f"cost {_fmt_money(costs[p])}",
                )
            )
    return chosen, rounds


def _votes(supporters, groups) -> int:
    return sum(groups[g][0] for g, _ in supporters)


def pb_mes(instance: PBInstance, completion: str = "add1") -> Result:
    """``completion``: ``"add1"`` (see module docstring) or ``"none"``.

    With ``"none"`` every voter gets exactly ``budget / voters``: the plain rule,
    as used for approval committees (unit costs, budget = committee size).
    """
    groups = _groups(instance)
    voters = instance.profile.total or 1
    budget = instance.budget
    endowment: int | Fraction = (
        int(budget // voters) if completion == "add1" else Fraction(budget) / voters
    )
    costs = instance.costs

    def spend(chosen: list[int]) -> Fraction:
        return sum((costs[p] for p in chosen), Fraction(0))

    chosen, _ = _mes_run(instance, groups, Fraction(endowment), record=False)
    tried = [(endowment, len(chosen), spend(chosen))]
    supported = {p for _, items in groups for p, _ in items}
    if completion == "add1":
        # More money cannot change an outcome that funds every supported
        # project (and from an endowment of the highest cost on, it must).
        while not supported <= set(chosen):
            nxt, _ = _mes_run(instance, groups, Fraction(endowment + 1), record=False)
            tried.append((endowment + 1, len(nxt), spend(nxt)))
            if spend(nxt) > budget:
                break
            endowment += 1
            chosen = nxt
    chosen, rounds = _mes_run(instance, groups, Fraction(endowment), record=True)
    return Result(
        method="pb-mes",
        winners=[instance.projects[p] for p in chosen],
        rounds=rounds,
        parameters={
            "budget": _fmt_money(budget),
            "voters": voters,
            "utilities": "cost"
            if instance.profile.kind == "approval"
            else "cost x points",
            "completion": completion,
            "endowment_per_voter": str(endowment),
        },
        extra={"cost": _fmt_money(spend(chosen)), "endowments_tried": len(tried)},
    )
