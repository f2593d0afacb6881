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
from bisect import bisect_left, bisect_right
from collections import deque
from fractions import Fraction
from itertools import accumulate, islice, repeat
from operator import mul, sub
from typing import Any

from .model import PBInstance, Refusal, Result, Round

try:  # gmpy2 rationals are several times faster than Fraction; same values
    from gmpy2 import mpq as _Q  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover
    _Q = Fraction


COMPLETIONS = ("add1", "none")


def check_completion(value: Any, setting: str = "completion") -> str:
    """The completion named by ``value``, or a refusal naming ``setting``."""
    if value not in COMPLETIONS:
        raise Refusal(
            setting,
            value,
            "complétion inconnue (" + " | ".join(COMPLETIONS) + ")",
            "unknown completion (" + " | ".join(COMPLETIONS) + ")",
        )
    return value


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
    """Voters grouped by identical ballot: (count, [(project, points)])."""
    out = []
    for ballot, count in instance.profile.ballots.items():
        items = [(p, points) for p, points in ballot if points]
        if items:
            out.append((count, items))
    return out


class _Prepared:
    """What every run shares: exact costs and each project's supporter groups.

    The add-one completion runs MES once per endowment (166 times for
    Wieliczka); building this once is most of the saving.
    """

    def __init__(self, instance: PBInstance) -> None:
        self.instance = instance
        self.costs = [_Q(c) for c in instance.costs]
        groups = _groups(instance)
        self.ngroups = len(groups)
        # per project: [(group, utility, voters, utility * voters)]
        self.supporters: list[list[tuple[int, Any, int, Any]]] = [
            [] for _ in instance.projects
        ]
        utility: dict[tuple[int, int], Any] = {}  # (project, points) -> cost x points
        for g, (count, items) in enumerate(groups):
            for key in items:
                uq = utility.get(key)
                if uq is None:
                    uq = utility[key] = self.costs[key[0]] * key[1]
                self.supporters[key[0]].append((g, uq, count, uq * count))
        self.utility = [sum((r[3] for r in rows), _Q(0)) for rows in self.supporters]
        self.votes = [sum(r[2] for r in rows) for rows in self.supporters]
        # approval ballots: every supporter has the same utility (the cost)
        self.uniform = [
            bool(rows) and all(r[1] == rows[0][1] for r in rows)
            for rows in self.supporters
        ]
        self.supported = {p for p, rows in enumerate(self.supporters) if rows}
        self.count = [count for count, _ in groups]
        self.groups = [[r[0] for r in rows] for rows in self.supporters]
        self.dearest = sorted(range(len(self.costs)), key=lambda p: -self.costs[p])
        # per group, the projects it gives a positive utility
        self.ballots = [[p for p, _ in items] for _, items in groups]


def _mes_run(prep: _Prepared, endowment: Any, record: bool):
    """One run of MES with ``endowment`` per voter; returns (chosen, rounds)."""
    chosen, rounds, _ = _mes_steps(prep, endowment, record)
    return chosen, rounds


def _mes_steps(
    prep: _Prepared, endowment: Any, record: bool, budget: Any = None
) -> tuple[list[int], list[Round], str | None]:
    """One run of MES with ``endowment`` per voter: (chosen, rounds, verdict).

    With a ``budget`` the run stops as soon as its verdict against that budget
    is known, which is all the add-one completion asks of every endowment but
    the last: ``"over"`` once the funded projects cost more than the budget,
    ``"fits"`` once the projects still funded cannot bring the cost above it
    (the projects still pending cost at most what is left; a project leaves
    the pending ones once found unaffordable, or once its voters with money
    times the richest of them at their last sort hold less than its cost)
    and some supported project is already out of reach,
    so the outcome cannot fund them all.  Otherwise the run goes to its end
    (verdict ``None``).

    Exact throughout and the same decisions as ``_mes_run_reference`` (the
    tests compare both on every endowment of Wieliczka and on generated
    budgets); faster because:

    - a voter group that has spent everything leaves the supporters of every
      project it approves as soon as it reaches zero (late in Wieliczka a
      third of a project's supporters have nothing left);
    - pricing needs no Python loop over supporters: with supporters sorted by
      money ``m_0 <= m_1 <= ...`` (counts ``n_i``), what they can pay at the
      price ``m_i`` per voter, ``P_i + m_i * (L - N_i)`` (``P_i``, ``N_i``:
      money and voters before ``i``; ``L``: all voters), never decreases
      with ``i``, so the first ``i`` where it reaches the cost is found by
      bisection over prefix sums built in C (``accumulate``), starting from
      the supporters holding less than ``cost / L`` (they surely run out);
    - each project's supporters stay in the order of its last pricing, so
      the next sort meets a nearly sorted list.
    """
    costs = prep.costs
    zero = _Q(0)
    money = [_Q(endowment)] * prep.ngroups
    count = prep.count
    ballots = prep.ballots
    uniform = prep.uniform
    get = money.__getitem__
    # per project: the supporter groups that may still have money (replaced,
    # never changed in place, so the prepared lists are shared by every run)
    live = list(prep.supporters)
    live_g = list(prep.groups)
    voters = list(prep.votes)
    stale = [False] * len(costs)
    ordered = [False] * len(costs)  # live_g[p] sorted by money since its pricing
    richest = [money[0] if money else zero] * len(costs)
    chosen: list[int] = []
    rounds: list[Round] = []

    def best_rho(p: int):
        """Smallest rho such that supporters pay cost[p]; None if unaffordable."""
        if stale[p]:
            stale[p] = False
            live_g[p] = [g for g in live_g[p] if money[g]]
            if not uniform[p]:
                live[p] = [r for r in live[p] if money[r[0]]]
        ordered[p] = False
        gs = live_g[p]
        if not gs:
            return None
        cost = costs[p]
        if uniform[p]:
            # same utility u for all: each pays alpha = rho * u, capped by money
            u = prep.supporters[p][0][1]
            left = voters[p]
            alpha = cost / left
            # kept in this order: the next pricing sorts a list almost sorted
            order = live_g[p] = sorted(gs, key=get)
            ordered[p] = True
            richest[p] = money[order[-1]]
            # those holding less than cost / voters surely run out: the
            # answer is at or after them (none: nobody runs out)
            poorer = bisect_left(order, alpha, key=get)
            if not poorer:
                return alpha / u
            # prefix sums in growing chunks from there: only the poorest
            # supporters run out, the answer is usually near the front
            m_it = map(get, order)
            n_it = map(count.__getitem__, order)
            ms: list[Any] = []
            ns: list[int] = []
            paid = [zero]
            before = [0]
            step = poorer + 1
            while True:
                chunk_m = list(islice(m_it, step))
                if not chunk_m:
                    return None  # all they have is less than the cost
                chunk_n = list(islice(n_it, step))
                lo = len(ms)
                ms += chunk_m
                ns += chunk_n
                paid += accumulate(map(mul, chunk_m, chunk_n), initial=paid[-1])
                del paid[lo]  # the chunk's initial value, already there
                before += accumulate(chunk_n, initial=before[-1])
                del before[lo]
                hi = len(ms) - 1
                if paid[hi] + ms[hi] * (left - before[hi]) >= cost:
                    break
                step = max(16, 2 * step)
            lo = max(lo, min(poorer, hi))
            while lo < hi:
                mid = (lo + hi) // 2
                if paid[mid] + ms[mid] * (left - before[mid]) >= cost:
                    hi = mid
                else:
                    lo = mid + 1
            return (cost - paid[lo]) / (left - before[lo]) / u
        rows = live[p]
        if sum(money[g] * n for g, _, n, _ in rows) < cost:
            return None
        # supporters by money/utility: those who run out pay all they have
        paid_ = zero
        util_left = sum((r[3] for r in rows), zero)
        for ratio, g, n, un in sorted(
            ((money[g] / u, g, n, un) for g, u, n, un in rows), key=lambda r: r[0]
        ):
            rho = (cost - paid_) / util_left
            if rho <= ratio:
                return rho
            paid_ += money[g] * n
            util_left -= un
        return None

    # lazy evaluation: a project's rho only grows as money is spent
    heap = []
    start = money[0] if money else zero
    for p in range(len(costs)):
        if uniform[p]:
            # everyone holds the endowment: all pay cost / voters, or cannot
            alpha = costs[p] / voters[p]
            rho = alpha / prep.supporters[p][0][1] if alpha <= start else None
        else:
            rho = best_rho(p)
        if rho is not None:
            heap.append((rho, -prep.votes[p], p))
    heapq.heapify(heap)
    # projects that may still be funded (in the heap and not found out of reach)
    waiting = [False] * len(costs)
    for _, _, p in heap:
        waiting[p] = True
    nwaiting = len(heap)
    if budget is not None:
        limit = _Q(budget)
        spent = zero
        pending = sum((costs[p] for _, _, p in heap), zero)
        supported = len(prep.supported)
    while heap:
        if (
            budget is not None
            and spent + pending <= limit
            and len(chosen) + nwaiting < supported
        ):
            return chosen, rounds, "fits"
        rho, tie, p = heapq.heappop(heap)
        if not waiting[p]:
            continue  # found out of reach since it was pushed
        current = best_rho(p)
        if current is None:
            waiting[p] = False
            nwaiting -= 1
            if budget is not None:
                pending -= costs[p]
            continue
        if current != rho or (
            heap and heap[0][0] == current and heap[0][1:] < (tie, p)
        ):
            heapq.heappush(heap, (current, tie, p))
            continue
        chosen.append(p)
        waiting[p] = False
        nwaiting -= 1
        if budget is not None:
            pending -= costs[p]
            spent += costs[p]
            if spent > limit:
                return chosen, rounds, "over"
        if uniform[p]:
            gs = live_g[p]
            left_ = list(map(sub, map(get, gs), repeat(rho * prep.supporters[p][0][1])))
            # supporters sorted by money (its pricing sorted them): those who
            # run out come first; otherwise someone runs out only on a tie
            if ordered[p]:
                out: int | None = bisect_right(left_, zero)
            else:
                out = 0 if min(left_) > zero else None
            if out is not None:
                deque(map(money.__setitem__, gs[out:], left_[out:]), maxlen=0)
                spent_out = gs[:out]
            else:
                spent_out = [g for g, m in zip(gs, left_, strict=True) if m <= zero]
                for g, m in zip(gs, left_, strict=True):
                    if m > zero:
                        money[g] = m
            for g in spent_out:
                money[g] = zero
                n = count[g]
                for q in ballots[g]:
                    voters[q] -= n
                    stale[q] = True
        else:
            for g, u, _, _ in live[p]:
                m = money[g] - rho * u
                if m > zero:
                    money[g] = m
                else:
                    money[g] = zero
                    n = count[g]
                    for q in ballots[g]:
                        voters[q] -= n
                        stale[q] = True
        if budget is not None and spent + pending > limit:
            # the dearest projects still waiting may be out of reach by now
            # (their supporters hold less than they cost): a few checks a step
            for q in prep.dearest:
                if not waiting[q]:
                    continue
                if spent + pending <= limit:
                    break
                # no supporter holds more than at the last sort of them
                if voters[q] * richest[q] < costs[q]:
                    waiting[q] = False
                    nwaiting -= 1
                    pending -= costs[q]
        if record:
            name = prep.instance.projects[p]
            rounds.append(
                Round(
                    number=len(chosen),
                    action="fund",
                    candidates=[name],
                    counts={name: Fraction(1) / Fraction(rho)},
                    note=f"effective votes {float(1 / rho):.3f} (1/rho), "
                    f"cost {_fmt_money(costs[p])}",
                )
            )
    return chosen, rounds, None


def _mes_run_reference(prep: _Prepared, endowment: Any, record: bool):
    """The plain run, kept as the oracle that ``_mes_run`` is tested against."""
    costs = prep.costs
    supporters = prep.supporters
    zero = _Q(0)
    money = [_Q(endowment)] * prep.ngroups
    chosen: list[int] = []
    rounds: list[Round] = []

    def best_rho(p: int):
        """Smallest rho such that supporters pay cost[p]; None if unaffordable."""
        rows = supporters[p]
        if not rows:
            return None
        if prep.uniform[p]:
            # same utility u for all: each pays alpha = rho * u, capped by money
            u = rows[0][1]
            alpha = costs[p] / prep.votes[p]
            if min(money[g] for g, _, _, _ in rows) >= alpha:
                return alpha / u
            paid = zero
            left = prep.votes[p]
            for m, n in sorted((money[g], n) for g, _, n, _ in rows):
                alpha = (costs[p] - paid) / left
                if alpha <= m:
                    return alpha / u
                paid += m * n
                left -= n
            return None
        if sum(money[g] * n for g, _, n, _ in rows) < costs[p]:
            return None
        # supporters by money/utility: those who run out pay all they have
        paid = zero
        util_left = prep.utility[p]
        for ratio, g, n, un in sorted(
            ((money[g] / u, g, n, un) for g, u, n, un in rows), key=lambda r: r[0]
        ):
            rho = (costs[p] - paid) / util_left
            if rho <= ratio:
                return rho
            paid += money[g] * n
            util_left -= un
        return None

    # lazy evaluation: a project's rho only grows as money is spent
    heap = []
    for p in range(len(costs)):
        rho = best_rho(p)
        if rho is not None:
            heap.append((rho, -prep.votes[p], p))
    heapq.heapify(heap)
    while heap:
        rho, tie, p = heapq.heappop(heap)
        current = best_rho(p)
        if current is None:
            continue
        if current != rho or (
            heap and heap[0][0] == current and heap[0][1:] < (tie, p)
        ):
            heapq.heappush(heap, (current, tie, p))
            continue
        chosen.append(p)
        for g, u, _, _ in supporters[p]:
            money[g] = max(zero, money[g] - rho * u)
        if record:
            name = prep.instance.projects[p]
            rounds.append(
                Round(
                    number=len(chosen),
                    action="fund",
                    candidates=[name],
                    counts={name: Fraction(1) / Fraction(rho)},
                    note=f"effective votes {float(1 / rho):.3f} (1/rho), "
                    f"cost {_fmt_money(costs[p])}",
                )
            )
    return chosen, rounds


def pb_mes(instance: PBInstance, completion: str = "add1") -> Result:
    """``completion``: ``"add1"`` (see module docstring) or ``"none"``.

    With ``"none"`` every voter gets exactly ``budget / voters``: the plain rule,
    as used for approval committees (unit costs, budget = committee size).
    """
    check_completion(completion)
    prep = _Prepared(instance)
    voters = instance.profile.total or 1
    budget = instance.budget
    endowment: int | Fraction = (
        int(budget // voters) if completion == "add1" else Fraction(budget) / voters
    )
    costs = instance.costs

    def spend(chosen: list[int]) -> Fraction:
        return sum((costs[p] for p in chosen), Fraction(0))

    supported = prep.supported

    def attempt(e: Any) -> tuple[bool, bool]:
        """Does the outcome at ``e`` fit the budget, and fund every supported one?"""
        chosen, _, verdict = _mes_steps(prep, Fraction(e), False, budget)
        if verdict is not None:
            return verdict == "fits", False
        return spend(chosen) <= budget, supported <= set(chosen)

    _, done = attempt(endowment)  # n * floor(budget / n) always fits
    tried = 1
    if completion == "add1":
        # More money cannot change an outcome that funds every supported
        # project (and from an endowment of the highest cost on, it must).
        while not done:
            fits, funds_all = attempt(endowment + 1)
            tried += 1
            if not fits:
                break
            endowment += 1
            done = funds_all
    chosen, rounds = _mes_run(prep, Fraction(endowment), record=True)
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
        extra={"cost": _fmt_money(spend(chosen)), "endowments_tried": tried},
    )
