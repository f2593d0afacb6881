"""Single-winner ranked choice (instant runoff) with explicit ballot rules.

Every rule that decides whether a ballot still counts is an option, because
jurisdictions differ and a result must say which rules produced it:

- ``overvote``: two or more candidates at one rank. ``"skip"`` passes over the
  rank, ``"exhaust"`` makes the ballot inactive at once, ``"exhaust_if_multiple"``
  makes it inactive only when two or more of those candidates still continue.
- ``max_skipped_ranks``: how many consecutive empty ranks a ballot may jump
  (``None``: any number); beyond that the ballot is inactive.
- ``exhaust_on_duplicate``: a candidate ranked twice makes the ballot inactive.
- ``batch_elimination``: eliminate at once every candidate of the lowest group
  whose combined votes are below the next candidate (they cannot catch up).
- ties for elimination: the candidate lowest at the most recent earlier round
  where the tied candidates differed, then the one listed last in the file.

Example: ``irv(profile, IRVRules(overvote="exhaust", max_skipped_ranks=1))``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .model import Number, RankedProfile, Result, Round

OVERVOTE_MARK = -1  # a rank known to be an overvote whose names are not given


@dataclass(frozen=True)
class IRVRules:
    overvote: str = "skip"  # skip | exhaust | exhaust_if_multiple
    max_skipped_ranks: int | None = None
    exhaust_on_duplicate: bool = False
    batch_elimination: bool = False
    tiebreak: str = "previous_rounds"  # previous_rounds | candidate_order
    # An "undeclared write-in" pseudo-candidate eliminated first (RCTab).
    undeclared_write_in: int | None = None


_ACTIVE = -1
_EXHAUSTED = -2  # no more continuing choice
_OVERVOTE = -3
_SKIPPED = -4
_REPEATED = -5
_REASONS = {
    _EXHAUSTED: "exhausted_choices",
    _OVERVOTE: "overvotes",
    _SKIPPED: "skipped_rankings",
    _REPEATED: "repeated_rankings",
}


def next_choice(
    ballot: tuple[tuple[int, ...], ...],
    pos: int,
    continuing: set[int] | frozenset[int],
    rules: IRVRules,
) -> tuple[int, int]:
    """Return ``(candidate or inactive code, position)`` from rank ``pos`` on."""
    skipped = 0
    n = len(ballot)
    while pos < n:
        rank = ballot[pos]
        if not rank:
            skipped += 1
            if (
                rules.max_skipped_ranks is not None
                and skipped > rules.max_skipped_ranks
            ):
                return _SKIPPED, pos
            pos += 1
            continue
        skipped = 0
        if len(rank) > 1 or rank[0] == OVERVOTE_MARK:
            if rules.overvote == "exhaust":
                return _OVERVOTE, pos
            if rules.overvote == "exhaust_if_multiple":
                alive = [c for c in rank if c in continuing or c == OVERVOTE_MARK]
                if len(alive) > 1 or OVERVOTE_MARK in alive:
                    return _OVERVOTE, pos
                if alive:
                    return alive[0], pos
            pos += 1
            continue
        cand = rank[0]
        if rules.exhaust_on_duplicate and any(cand in r for r in ballot[:pos]):
            return _REPEATED, pos
        if cand in continuing:
            return cand, pos
        pos += 1
    return _EXHAUSTED, pos


def _pick_loser(
    tied: list[int], history: list[dict[int, Number]], rules: IRVRules
) -> int:
    if len(tied) == 1:
        return tied[0]
    pool = list(tied)
    if rules.tiebreak == "previous_rounds":
        for counts in reversed(history[:-1]):
            low = min(counts.get(c, 0) for c in pool)
            narrowed = [c for c in pool if counts.get(c, 0) == low]
            if len(narrowed) == 1:
                return narrowed[0]
            pool = narrowed
    return max(pool)  # listed last in the file


def irv(profile: RankedProfile, rules: IRVRules | None = None) -> Result:
    """Instant runoff until a candidate holds a majority of continuing votes."""
    rules = rules or IRVRules()
    names = profile.candidates
    continuing = set(range(len(names))) - set(profile.withdrawn)
    groups = [(ballot, count) for ballot, count in profile.ballots.items() if count]
    pos = [0] * len(groups)
    state = [_ACTIVE] * len(groups)
    inactive = {reason: 0 for reason in _REASONS.values()}
    history: list[dict[int, Number]] = []
    rounds: list[Round] = []
    previous: dict[int, Number] = {}
    winners: list[str] = []
    number = 0
    while True:
        number += 1
        counts: dict[int, Number] = {c: 0 for c in continuing}
        for i, (ballot, count) in enumerate(groups):
            if state[i] != _ACTIVE:
                continue
            choice, pos[i] = next_choice(ballot, pos[i], continuing, rules)
            if choice >= 0:
                counts[choice] += count
            else:
                state[i] = choice
                inactive[_REASONS[choice]] += count
        history.append(dict(counts))
        active = sum(counts.values())
        threshold = active // 2 + 1
        transfers = (
            {
                names[c]: counts.get(c, 0) - previous.get(c, 0)
                for c in sorted(set(previous) | set(counts))
            }
            if previous
            else {}
        )
        previous = dict(counts)
        rnd = Round(
            number=number,
            action="count",
            counts={names[c]: v for c, v in sorted(counts.items(), key=_order)},
            transfers=transfers,
            exhausted=sum(inactive.values()),
            threshold=threshold,
            inactive=dict(inactive),
        )
        rounds.append(rnd)
        top = max(counts.values(), default=0)
        leaders = [c for c in counts if counts[c] == top]
        if (active and top >= threshold) or len(continuing) == 1:
            winner = leaders[0] if len(leaders) == 1 else min(leaders)
            winners.append(names[winner])
            rnd.action = "elect"
            rnd.candidates = [names[winner]]
            break
        if not continuing:
            break
        losers = _losers(counts, history, rules, number)
        for c in losers:
            continuing.discard(c)
        rnd.action = "eliminate"
        rnd.candidates = [names[c] for c in losers]
    return Result(
        method="irv",
        winners=winners,
        rounds=rounds,
        parameters={k: v for k, v in asdict(rules).items() if v is not None}
        | {"majority": "more than half of the continuing votes"},
    )


def _order(item: tuple[int, Number]) -> tuple[Number, int]:
    return (-item[1], item[0])


def _losers(
    counts: dict[int, Number],
    history: list[dict[int, Number]],
    rules: IRVRules,
    number: int,
) -> list[int]:
    if number == 1 and rules.undeclared_write_in in counts:
        return [rules.undeclared_write_in]  # type: ignore[list-item]
    ordered = sorted(counts, key=lambda c: (counts[c], c))
    if rules.batch_elimination and len(ordered) > 2:
        total: Number = 0
        batch = 0
        for i in range(len(ordered) - 1):
            total += counts[ordered[i]]
            if total < counts[ordered[i + 1]] and i >= 1:
                batch = i + 1
        # keep at least one candidate
        if batch >= 2 and batch < len(ordered):
            return ordered[:batch]
    low = counts[ordered[0]]
    tied = [c for c in ordered if counts[c] == low]
    return [_pick_loser(tied, history, rules)]
