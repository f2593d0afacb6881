"""Multi-winner single transferable vote: Scottish STV, WIGM, Meek, RCTab.

Three families of rules, each counted the way its reference counts it so that
round-by-round figures can be checked against published reports:

- ``stv_scottish``: the Scottish local-government rules (SSI 2007/42): integer
  Droop quota, every ballot's transfer value truncated to five decimals, ties
  broken by the most recent stage where the tied candidates differed.
- ``stv_wigm``: weighted inclusive Gregory in exact rational arithmetic, quota
  ``votes / (seats + 1)`` that a candidate must exceed.
- ``stv_meek``: Meek's method in exact rational arithmetic, omega = 1e-10,
  with batch defeat of sure losers (as Droop's ``meek`` rule).
- ``stv_rctab``: RCTab's multi-winner rule (several winners per round,
  fractional surplus truncated to the configured decimals).

Candidates tied by lot are settled by the order of the ballot file (the first
listed is chosen), which is what Droop's reports assume.

Example: ``stv_scottish(read_blt(path)).winners == ["George Redmond", ...]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .irv import IRVRules, next_choice
from .model import Number, RankedProfile, Result, Round


def _rankings(profile: RankedProfile) -> list[tuple[list[int], int]]:
    """Strict rankings without withdrawn candidates; an equal rank ends a ballot."""
    out: list[tuple[list[int], int]] = []
    for ballot, count in profile.ballots.items():
        ranking: list[int] = []
        for rank in ballot:
            if len(rank) != 1 or rank[0] < 0:
                if rank:
                    break
                continue
            if rank[0] not in profile.withdrawn and rank[0] not in ranking:
                ranking.append(rank[0])
        out.append((ranking, count))
    return out


class _Gregory:
    """Droop-style weighted inclusive Gregory counter (Scottish and WIGM)."""

    def __init__(self, profile: RankedProfile, scottish: bool) -> None:
        self.scottish = scottish
        self.names = profile.candidates
        self.seats = profile.seats
        n = len(self.names)
        self.order = [c for c in range(n) if c not in profile.withdrawn]
        self.state = {c: "hopeful" for c in self.order}
        self.pending: list[int] = []
        self.elected: list[int] = []
        if scottish:
            self.scale = 10**5
            self.one: Number = self.scale
            self.quota: Number = (profile.total // (self.seats + 1) + 1) * self.scale
        else:
            self.scale = 1
            self.one = Fraction(1)
            self.quota = Fraction(profile.total, self.seats + 1)
        self.votes: dict[int, Number] = {c: 0 for c in self.order}
        # each paper group: [ranking, count, weight, position]
        self.papers: list[list] = []
        self.exhausted: Number = 0
        for ranking, count in _rankings(profile):
            if ranking:
                self.papers.append([ranking, count, self.one, 0])
                self.votes[ranking[0]] += self.one * count
        self.rounds: list[Round] = []
        self.round = 0
        self.history: list[dict[int, Number]] = []

    # -- helpers ---------------------------------------------------------
    def value(self, v: Number) -> Number:
        return Fraction(v, self.scale) if self.scottish else v

    def has_quota(self, c: int) -> bool:
        v = self.votes[c]
        return v >= self.quota if self.scottish else v > self.quota

    def hopeful(self) -> list[int]:
        return [c for c in self.order if self.state[c] == "hopeful"]

    def seats_left(self) -> int:
        return self.seats - len(self.elected) - len(self.pending)

    def log(self, action: str, who: list[int], transfers=None) -> None:
        self.rounds.append(
            Round(
                number=self.round,
                action=action,
                candidates=[self.names[c] for c in who],
                counts={self.names[c]: self.value(self.votes[c]) for c in self.order},
                transfers=transfers or {},
                exhausted=self.value(self.exhausted),
                threshold=self.value(self.quota),
            )
        )

    def transfer(self, paper: list) -> None:
        ranking, count, weight, pos = paper
        while pos < len(ranking) and self.state[ranking[pos]] != "hopeful":
            pos += 1
        paper[3] = pos
        if pos >= len(ranking):
            self.exhausted += weight * count
        else:
            self.votes[ranking[pos]] += weight * count

    def on_top(self, c: int) -> list[list]:
        return [p for p in self.papers if p[3] < len(p[0]) and p[0][p[3]] == c]

    def elect_with_quota(self) -> None:
        for c in sorted(self.hopeful(), key=lambda c: -self.votes[c]):
            if self.has_quota(c):
                self.state[c] = "pending"
                self.pending.append(c)
                self.log("elect", [c])

    def break_tie(self, tied: list[int], defeat: bool) -> int:
        if len(tied) == 1:
            return tied[0]
        if self.scottish:
            for counts in reversed(self.history):
                values = [counts[c] for c in tied]
                extreme = min(values) if defeat else max(values)
                found = [c for c in tied if counts[c] == extreme]
                if len(found) == 1:
                    return found[0]
        return min(tied)

    def transfer_surplus(self) -> None:
        high = max(self.votes[c] for c in self.pending)
        c = self.break_tie([c for c in self.pending if self.votes[c] == high], False)
        self.pending.remove(c)
        self.elected.append(c)
        self.state[c] = "elected"
        before = dict(self.votes)
        surplus = self.votes[c] - self.quota
        total = self.votes[c]
        for paper in self.on_top(c):
            if self.scottish:
                paper[2] = paper[2] * surplus // total
            else:
                paper[2] = paper[2] * surplus / total
            self.transfer(paper)
        self.votes[c] = self.quota
        self.log("transfer_surplus", [c], self._delta(before))

    def defeat_lowest(self) -> None:
        hopeful = self.hopeful()
        low = min(self.votes[c] for c in hopeful)
        c = self.break_tie([c for c in hopeful if self.votes[c] == low], True)
        self.state[c] = "defeated"
        self.log("defeat", [c])
        before = dict(self.votes)
        for paper in self.on_top(c):
            self.transfer(paper)
        self.votes[c] = 0
        self.log("transfer_defeated", [c], self._delta(before))

    def _delta(self, before: dict[int, Number]) -> dict[str, Number]:
        return {
            self.names[c]: self.value(self.votes[c] - before[c])
            for c in self.order
            if self.votes[c] != before[c]
        }

    def new_round(self) -> None:
        self.history.append(dict(self.votes))
        self.round += 1

    def finish(self) -> Result:
        for c in list(self.pending):
            self.pending.remove(c)
            self.elected.append(c)
            self.state[c] = "elected"
        rest = self.hopeful()
        if self.scottish:
            if len(rest) <= self.seats - len(self.elected):
                for c in rest:
                    self.state[c] = "elected"
                    self.elected.append(c)
                if rest:
                    self.log("elect_remaining", rest)
        else:
            for c in rest:
                if len(self.elected) < self.seats:
                    self.state[c] = "elected"
                    self.elected.append(c)
                    self.log("elect_remaining", [c])
        for c in self.hopeful():
            self.state[c] = "defeated"
        self.log("count_complete", [])
        return Result(
            method="stv-scottish" if self.scottish else "stv-wigm",
            winners=[self.names[c] for c in self.elected],
            rounds=self.rounds,
            parameters={
                "seats": self.seats,
                "quota": str(self.value(self.quota)),
                "arithmetic": "fixed, 5 decimals, truncated"
                if self.scottish
                else "exact rational",
                "elected_when": "votes >= quota" if self.scottish else "votes > quota",
                "ties": "most recent differing stage, then file order"
                if self.scottish
                else "file order",
            },
            decimals=5 if self.scottish else 12,
        )

    def count_scottish(self) -> Result:
        self.log("begin", [])
        while True:
            self.elect_with_quota()
            if self.seats_left() <= 0 or len(self.hopeful()) <= self.seats_left():
                break
            self.new_round()
            if self.pending:
                self.transfer_surplus()
                continue
            if self.hopeful():
                self.defeat_lowest()
            if self.seats_left() <= 0 or len(self.hopeful()) <= self.seats_left():
                break
        return self.finish()

    def count_wigm(self) -> Result:
        self.log("begin", [])
        while len(self.hopeful()) > self.seats_left() > 0:
            self.new_round()
            self.elect_with_quota()
            if self.pending:
                self.transfer_surplus()
            elif self.hopeful():
                self.defeat_lowest()
        return self.finish()


def stv_scottish(profile: RankedProfile) -> Result:
    return _Gregory(profile, scottish=True).count_scottish()


def stv_wigm(profile: RankedProfile) -> Result:
    return _Gregory(profile, scottish=False).count_wigm()


# -- Meek ----------------------------------------------------------------------


def stv_meek(profile: RankedProfile, omega_exponent: int = 10) -> Result:
    """Meek STV in exact rationals (Droop's ``meek`` rule, safe batch defeat)."""
    names = profile.candidates
    seats = profile.seats
    order = [c for c in range(len(names)) if c not in profile.withdrawn]
    state = {c: "hopeful" for c in order}
    kf: dict[int, Fraction] = {c: Fraction(1) for c in order}
    papers = [(r, n) for r, n in _rankings(profile) if r]
    nballots = profile.total
    omega = Fraction(1, 10**omega_exponent)
    votes: dict[int, Fraction] = {c: Fraction(0) for c in order}
    for ranking, count in papers:
        votes[ranking[0]] += count
    quota = Fraction(nballots, seats + 1)
    surplus = Fraction(0)
    elected: list[int] = []
    rounds: list[Round] = []
    rnd = 0

    def log(action: str, who: list[int]) -> None:
        rounds.append(
            Round(
                number=rnd,
                action=action,
                candidates=[names[c] for c in who],
                counts={names[c]: votes[c] for c in order},
                threshold=quota,
                exhausted=nballots - sum(votes.values()),
            )
        )

    def hopeful() -> list[int]:
        return [c for c in order if state[c] == "hopeful"]

    def seats_left() -> int:
        return seats - len(elected)

    def distribute() -> None:
        for c in order:
            votes[c] = Fraction(0)
        for ranking, count in papers:
            weight = Fraction(1)
            for c in ranking:
                k = kf[c]
                if k:
                    votes[c] += weight * k * count
                    weight = weight * (1 - k)
                    if weight <= 0:
                        break

    def batch_defeat(surplus: Fraction) -> list[int]:
        cands = sorted(hopeful(), key=lambda c: (votes[c], c))
        groups: list[list[int]] = []
        group: list[int] = []
        vote = Fraction(0)
        for c in cands:
            if vote + surplus >= votes[c]:
                group.append(c)
            else:
                if group:
                    groups.append(group)
                group = [c]
                vote = votes[c]
        if group:
            groups.append(group)
        total = Fraction(0)
        max_defeat = len(hopeful()) - seats_left()
        maxg = None
        ncand = 0
        for g in range(len(groups) - 1):
            ncand += len(groups[g])
            if ncand > max_defeat:
                break
            total += sum(votes[c] for c in groups[g])
            if total + surplus < votes[groups[g + 1][0]]:
                maxg = g
        batch: list[int] = []
        if maxg is not None:
            for g in range(maxg + 1):
                batch.extend(groups[g])
        return batch

    def iterate() -> tuple[str, list[int]]:
        nonlocal quota, surplus
        last = Fraction(nballots)
        while True:
            distribute()
            total = sum(
                (votes[c] for c in order if state[c] != "defeated"), Fraction(0)
            )
            quota = total / (seats + 1)
            winners = [c for c in hopeful() if votes[c] > quota]
            for c in sorted(winners, key=lambda c: (-votes[c], c)):
                state[c] = "elected"
                elected.append(c)
                log("elect", [c])
            surplus = sum((votes[c] - quota for c in elected), Fraction(0))
            if winners:
                return "elected", []
            if surplus <= omega:
                return "omega", []
            if surplus >= last:
                return "stable", []
            batch = batch_defeat(surplus)
            if batch:
                return "batch", batch
            last = surplus
            for c in elected:
                kf[c] = kf[c] * quota / votes[c]

    log("begin", [])
    while not (len(hopeful()) <= seats_left() or seats_left() <= 0):
        rnd += 1
        status, batch = iterate()
        if status == "elected":
            continue
        if status == "batch":
            for c in sorted(batch):
                state[c] = "defeated"
                log("defeat_sure_loser", [c])
                kf[c] = Fraction(0)
                votes[c] = Fraction(0)
                distribute()
            continue
        low = min(votes[c] for c in hopeful())
        tied = [c for c in hopeful() if low + surplus >= votes[c]]
        c = min(tied)
        state[c] = "defeated"
        log("defeat", [c])
        kf[c] = Fraction(0)
        votes[c] = Fraction(0)
        distribute()
    for c in hopeful():
        if len(elected) < seats:
            state[c] = "elected"
            elected.append(c)
            action = "elect_remaining"
        else:
            state[c] = "defeated"
            kf[c] = Fraction(0)
            votes[c] = Fraction(0)
            action = "defeat_remaining"
        distribute()
        log(action, [c])
    log("count_complete", [])
    return Result(
        method="stv-meek",
        winners=[names[c] for c in elected],
        rounds=rounds,
        parameters={
            "seats": seats,
            "omega": f"1e-{omega_exponent}",
            "arithmetic": "exact rational",
            "quota": "active votes / (seats + 1), to be exceeded",
            "defeat": "batch of sure losers, else lowest within the surplus",
        },
        decimals=12,
    )


# -- RCTab multi-winner ----------------------------------------------------------


@dataclass(frozen=True)
class RCTabSTVRules:
    decimals: int = 4
    non_integer_threshold: bool = False
    ballot_rules: IRVRules = IRVRules()


def stv_rctab(profile: RankedProfile, rules: RCTabSTVRules | None = None) -> Result:
    """RCTab's multi-winner STV: several winners per round, fractional surplus.

    Threshold from the first round's active votes: ``votes / (seats + 1)``
    plus one unit of the last decimal, or its integer part plus one.  The
    surplus fraction and each ballot's new value are truncated to
    ``decimals`` places, the remainder is the residual surplus.
    """
    rules = rules or RCTabSTVRules()
    S = 10**rules.decimals
    names = profile.candidates
    seats = profile.seats
    order = [c for c in range(len(names)) if c not in profile.withdrawn]
    continuing = set(order)
    elected: list[int] = []
    groups = list(profile.ballots.items())
    weight = [S] * len(groups)
    pos = [0] * len(groups)
    holder = [-1] * len(groups)  # candidate holding the ballot, or inactive code
    inactive: dict[str, int] = {}
    tallies: dict[int, int] = {c: 0 for c in order}
    residual = 0
    threshold = 0
    rounds: list[Round] = []
    reasons = {
        -2: "exhausted_choices",
        -3: "overvotes",
        -4: "skipped_rankings",
        -5: "repeated_rankings",
    }

    def place(i: int) -> None:
        ballot, count = groups[i]
        choice, pos[i] = next_choice(ballot, pos[i], continuing, rules.ballot_rules)
        holder[i] = choice
        if choice >= 0:
            tallies[choice] += weight[i] * count
        else:
            reason = reasons[choice]
            inactive[reason] = inactive.get(reason, 0) + weight[i] * count

    for i in range(len(groups)):
        place(i)
    number = 0
    previous: dict[int, int] = {}
    while True:
        number += 1
        if number == 1:
            active = sum(tallies.values())
            if rules.non_integer_threshold:
                threshold = active // (seats + 1) + 1
            else:
                threshold = (active // S // (seats + 1) + 1) * S
        rnd = Round(
            number=number,
            action="count",
            counts={names[c]: Fraction(tallies[c], S) for c in order},
            transfers={
                names[c]: Fraction(tallies[c] - previous.get(c, 0), S) for c in order
            }
            if previous
            else {},
            exhausted=Fraction(sum(inactive.values()), S),
            threshold=Fraction(threshold, S),
            inactive={k: Fraction(v, S) for k, v in inactive.items()},
            note=f"residual surplus {Fraction(residual, S)}",
        )
        rounds.append(rnd)
        previous = dict(tallies)
        if len(elected) >= seats:
            break
        winners = sorted(
            (c for c in continuing if tallies[c] >= threshold),
            key=lambda c: (-tallies[c], c),
        )
        if len(continuing) <= seats - len(elected) and not winners:
            winners = sorted(continuing, key=lambda c: (-tallies[c], c))
        if winners:
            rnd.action = "elect"
            rnd.candidates = [names[c] for c in winners]
            for c in winners:
                continuing.discard(c)
                elected.append(c)
            for c in winners:
                total = tallies[c]
                surplus = total - threshold
                if surplus <= 0:
                    continue
                fraction = surplus * S // total  # truncated to the decimals
                moved = 0
                for i in range(len(groups)):
                    if holder[i] != c:
                        continue
                    weight[i] = weight[i] * fraction // S
                    moved += weight[i] * groups[i][1]
                    if continuing:
                        place(i)
                    else:
                        holder[i] = -6  # stays as final-round surplus
                residual += surplus - moved
                tallies[c] = threshold
            continue
        low = min(tallies[c] for c in continuing)
        tied = [c for c in continuing if tallies[c] == low]
        loser = max(tied)
        rnd.action = "eliminate"
        rnd.candidates = [names[loser]]
        continuing.discard(loser)
        for i in range(len(groups)):
            if holder[i] == loser:
                place(i)
        tallies[loser] = 0
    return Result(
        method="stv-rctab",
        winners=[names[c] for c in elected],
        rounds=rounds,
        parameters={
            "seats": seats,
            "threshold": str(Fraction(threshold, S)),
            "decimals": rules.decimals,
            "non_integer_threshold": rules.non_integer_threshold,
            "overvote": rules.ballot_rules.overvote,
            "max_skipped_ranks": rules.ballot_rules.max_skipped_ranks,
        },
        decimals=rules.decimals,
    )
