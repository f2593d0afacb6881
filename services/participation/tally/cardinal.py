"""Approval, score (range) and dot (cumulative) voting, and Schulze.

Approval, score and dot vote differ only in what a ballot may give: one point
per approved candidate, a score in ``[0, max_score]`` for each, or a budget of
dots spread freely.  All three elect the ``seats`` candidates with the most
points; a tie at the last seat is settled by file order and reported.

Schulze works on ranked ballots: ``d[a][b]`` is how many voters rank ``a``
above ``b`` (unranked candidates are below every ranked one), ``p`` the
strongest-path matrix; ``a`` wins when ``p[a][b] > p[b][a]`` for every ``b``.

Example: ``approval(profile).winners == ["Parc", "Piste"]``.
"""

from __future__ import annotations

from .model import ApprovalProfile, RankedProfile, Result, Round, TallyError


def _points_rule(
    method: str, profile: ApprovalProfile, check, parameters: dict
) -> Result:
    names = profile.candidates
    totals = [0] * len(names)
    supporters = [0] * len(names)
    for ballot, count in profile.ballots.items():
        check(ballot)
        for c, points in ballot:
            totals[c] += points * count
            if points:
                supporters[c] += count
    ranking = sorted(range(len(names)), key=lambda c: (-totals[c], c))
    winners = ranking[: profile.seats]
    note = ""
    if len(ranking) > profile.seats and profile.seats:
        last = totals[winners[-1]]
        tied = [c for c in ranking if totals[c] == last]
        if len(tied) > 1 and any(c not in winners for c in tied):
            note = (
                "égalité départagée par l'ordre du fichier / tie broken by file order"
            )
    return Result(
        method=method,
        winners=[names[c] for c in winners],
        rounds=[
            Round(
                number=1,
                action="count",
                counts={names[c]: totals[c] for c in ranking},
                candidates=[names[c] for c in winners],
                note=note,
            )
        ],
        parameters={"seats": profile.seats, **parameters},
        extra={"supporters": {names[c]: supporters[c] for c in ranking}},
    )


def approval(profile: ApprovalProfile) -> Result:
    def check(ballot) -> None:
        if any(p not in (0, 1) for _, p in ballot):
            raise TallyError(
                "bulletin d'approbation avec des points / approval ballot with points"
            )

    return _points_rule("approval", profile, check, {})


def score(profile: ApprovalProfile, max_score: int | None = None) -> Result:
    def check(ballot) -> None:
        for _, p in ballot:
            if p < 0 or (max_score is not None and p > max_score):
                raise TallyError(
                    f"note hors de 0..{max_score} / score outside 0..{max_score}"
                )

    return _points_rule("score", profile, check, {"max_score": max_score})


def dot_vote(profile: ApprovalProfile, dots: int | None = None) -> Result:
    def check(ballot) -> None:
        if any(p < 0 for _, p in ballot) or (
            dots is not None and sum(p for _, p in ballot) > dots
        ):
            raise TallyError(
                f"plus de {dots} points sur un bulletin / more than {dots} dots on a ballot"
            )

    return _points_rule("dot", profile, check, {"dots_per_voter": dots})


def pairwise(profile: RankedProfile) -> list[list[int]]:
    """``d[a][b]``: voters preferring ``a`` to ``b`` (equal ranks: no preference)."""
    n = len(profile.candidates)
    d = [[0] * n for _ in range(n)]
    for ballot, count in profile.ballots.items():
        level = {}
        for depth, rank in enumerate(ballot):
            for c in rank:
                if c >= 0 and c not in level:
                    level[c] = depth
        bottom = len(ballot)
        for a in range(n):
            la = level.get(a, bottom)
            if la == bottom:
                continue
            row = d[a]
            for b in range(n):
                if la < level.get(b, bottom):
                    row[b] += count
    return d


def schulze(profile: RankedProfile) -> Result:
    names = profile.candidates
    n = len(names)
    d = pairwise(profile)
    p = [[d[i][j] if d[i][j] > d[j][i] else 0 for j in range(n)] for i in range(n)]
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            for k in range(n):
                if k not in (i, j):
                    p[j][k] = max(p[j][k], min(p[j][i], p[i][k]))
    wins = [sum(1 for j in range(n) if j != i and p[i][j] > p[j][i]) for i in range(n)]
    order = sorted(range(n), key=lambda c: (-wins[c], c))
    winners = [c for c in range(n) if wins[c] == n - 1] or order[:1]
    return Result(
        method="schulze",
        winners=[names[c] for c in winners[:1]],
        rounds=[
            Round(
                number=1,
                action="pairwise",
                counts={names[c]: wins[c] for c in order},
                candidates=[names[c] for c in winners[:1]],
                note="counts: candidates beaten by strongest path",
            )
        ],
        parameters={"ranking": [names[c] for c in order]},
        extra={
            "candidates": names,
            "pairwise": d,
            "strongest_paths": p,
        },
    )
