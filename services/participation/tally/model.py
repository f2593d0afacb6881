"""Plain typed values shared by every voting rule.

A result is meant to be read by a person: ``rounds`` lists each step of the
count (what happened, the counts after it, the transfers and the threshold),
and ``parameters`` records the rule options that produced it, e.g.::

    {"method": "irv", "winners": ["Bob Kiss"],
     "rounds": [{"number": 1, "action": "count", "counts": {"Bob Kiss": "2585"},
                 "exhausted": "0", "threshold": "4314", ...}],
     "parameters": {"overvote": "skip", "max_skipped_ranks": null}}
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

# A rank is the set of candidate indices marked at that position: empty for a
# skipped rank, two or more for an overvote.
Rank = tuple[int, ...]
RankedBallot = tuple[Rank, ...]
Number = int | Fraction


class TallyError(ValueError):
    """A ballot file or a rule option that cannot be counted (bilingual message)."""

    def message(self, lang: str = "fr") -> str:
        return str(self)


class Refusal(TallyError):
    """A setting or an input the engine will not count, named with its value.

    Raised instead of guessing: a refusal is honest, a count under rules the
    engine did not apply is not. ``where`` locates the input (file, line,
    ballot) when there is one::

        Refusal("rules.winnerElectionMode", "multiPassIrv",
                "mode non pris en charge", "mode not supported")
        # « rules.winnerElectionMode » = 'multiPassIrv' : mode non pris en charge
        #  / "rules.winnerElectionMode" = 'multiPassIrv': mode not supported
    """

    def __init__(
        self,
        setting: str,
        value: Any,
        fr: str,
        en: str,
        where: str | None = None,
    ) -> None:
        self.setting = setting
        self.value = value
        self.fr = fr
        self.en = en
        self.where = where
        super().__init__(f"{self.message('fr')} / {self.message('en')}")

    def message(self, lang: str = "fr") -> str:
        shown = repr(self.value)
        if lang == "en":
            place = f"{self.where}, " if self.where else ""
            return f'{place}"{self.setting}" = {shown}: {self.en}'
        place = f"{self.where}, " if self.where else ""
        return f"{place}« {self.setting} » = {shown} : {self.fr}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "setting": self.setting,
            "value": self.value,
            "where": self.where,
            "message": {"fr": self.message("fr"), "en": self.message("en")},
        }


@dataclass
class RankedProfile:
    """Ranked ballots grouped by identical content: ``ballots[b] = count``.

    Grouping is what makes a million-ballot count cheap: Burlington 2009 has
    8,980 ballots but far fewer distinct rankings.
    """

    candidates: list[str]
    ballots: dict[RankedBallot, int]
    seats: int = 1
    title: str = ""
    withdrawn: frozenset[int] = frozenset()

    @classmethod
    def from_rankings(
        cls,
        candidates: Sequence[str],
        rankings: Iterable[Sequence[Sequence[int] | int]],
        seats: int = 1,
    ) -> RankedProfile:
        counter: Counter[RankedBallot] = Counter()
        for ranking in rankings:
            counter[
                tuple(
                    (r,) if isinstance(r, int) else tuple(r)  # type: ignore[arg-type]
                    for r in ranking
                )
            ] += 1
        return cls(list(candidates), dict(counter), seats)

    @classmethod
    def from_named_rankings(
        cls,
        rankings: Iterable[Sequence[str]],
        seats: int = 1,
        candidates: Sequence[str] = (),
    ) -> RankedProfile:
        """Group ballots given as candidate names, one name per rank.

        Identical ballots are counted first (one hash per ballot), and only
        the distinct ones are converted: a million Burlington ballots are
        a few hundred groups.
        """
        grouped: Counter[tuple[str, ...]] = Counter(map(tuple, rankings))
        names = list(candidates)
        index = {name: i for i, name in enumerate(names)}
        ballots: dict[RankedBallot, int] = {}
        for ranking, n in grouped.items():
            ranks = []
            for name in ranking:
                if name not in index:
                    index[name] = len(names)
                    names.append(name)
                ranks.append((index[name],))
            key = tuple(ranks)
            ballots[key] = ballots.get(key, 0) + n
        return cls(names, ballots, seats)

    @property
    def total(self) -> int:
        return sum(self.ballots.values())


@dataclass
class ApprovalProfile:
    """Approval (or cumulative/score) ballots: candidate index -> points.

    For approval ballots every point is 1.  ``ballots`` maps the frozen ballot
    (a sorted tuple of ``(candidate, points)``) to how many voters cast it.
    """

    candidates: list[str]
    ballots: dict[tuple[tuple[int, int], ...], int]
    seats: int = 1
    kind: str = "approval"  # approval | cumulative | scoring
    title: str = ""

    @classmethod
    def from_ballots(
        cls,
        candidates: Sequence[str],
        ballots: Iterable[Mapping[int, int] | Iterable[int]],
        seats: int = 1,
        kind: str = "approval",
    ) -> ApprovalProfile:
        counter: Counter[tuple[tuple[int, int], ...]] = Counter()
        for ballot in ballots:
            if isinstance(ballot, Mapping):
                items = tuple(sorted((int(c), int(p)) for c, p in ballot.items()))
            else:
                items = tuple(sorted((int(c), 1) for c in set(ballot)))
            counter[items] += 1
        return cls(list(candidates), dict(counter), seats, kind)

    @property
    def total(self) -> int:
        return sum(self.ballots.values())


@dataclass
class PBInstance:
    """A participatory budget: projects with costs, a budget, and ballots.

    ``costs`` and ``budget`` are exact (``Fraction``) because some Pabulib
    budgets have cents (Warszawa 2017: 102533.36).
    """

    projects: list[str]
    costs: list[Fraction]
    budget: Fraction
    profile: ApprovalProfile
    meta: dict[str, str] = field(default_factory=dict)
    selected: list[str] | None = None  # what the city funded, when published


@dataclass
class Round:
    """One step of a count, in the words a returning officer would use."""

    number: int
    action: str
    counts: dict[str, Number]
    candidates: list[str] = field(default_factory=list)
    transfers: dict[str, Number] = field(default_factory=dict)
    exhausted: Number = 0
    threshold: Number | None = None
    note: str = ""
    inactive: dict[str, Number] = field(default_factory=dict)


@dataclass
class Result:
    method: str
    winners: list[str]
    rounds: list[Round]
    parameters: dict[str, Any] = field(default_factory=dict)
    # How many decimals the rule's arithmetic publishes (None: exact integers).
    decimals: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def format_number(value: Number, decimals: int | None) -> str:
    """Exact number -> decimal string, rounded half up (as Droop reports)."""
    if decimals is None:
        if isinstance(value, Fraction) and value.denominator != 1:
            decimals = 6
        else:
            return str(int(value))
    scale = 10**decimals
    scaled = Fraction(value) * scale
    n = (
        int((scaled + Fraction(1, 2)) // 1)
        if scaled >= 0
        else -int((-scaled + Fraction(1, 2)) // 1)
    )
    sign = "-" if n < 0 else ""
    n = abs(n)
    if decimals == 0:
        return f"{sign}{n}"
    return f"{sign}{n // scale}.{n % scale:0{decimals}d}"


def result_to_dict(result: Result) -> dict[str, Any]:
    """JSON-ready form, numbers as decimal strings at the rule's precision."""

    def fmt(v: Number | None) -> str | None:
        return None if v is None else format_number(v, result.decimals)

    return {
        "method": result.method,
        "winners": list(result.winners),
        "parameters": result.parameters,
        "rounds": [
            {
                "number": r.number,
                "action": r.action,
                "candidates": r.candidates,
                "counts": {k: fmt(v) for k, v in r.counts.items()},
                "transfers": {k: fmt(v) for k, v in r.transfers.items()},
                "exhausted": fmt(r.exhausted),
                "threshold": fmt(r.threshold),
                "inactive": {k: fmt(v) for k, v in r.inactive.items()},
                "note": r.note,
            }
            for r in result.rounds
        ],
        **({"extra": result.extra} if result.extra else {}),
    }
