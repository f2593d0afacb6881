"""Pure, typed tallying of every voting method the participation service offers.

No I/O besides the readers, no nameko, no store: the service and the
``maillage tally`` command call the same functions.

    >>> from services.participation.tally import count, read_ballots
    >>> result = count("irv", read_ballots("burlington.csv", "ranks-csv"))
    >>> result.winners
    ['Bob Kiss']
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .cardinal import approval, dot_vote, pairwise, schulze, score
from .irv import IRVRules, irv
from .model import (
    ApprovalProfile,
    PBInstance,
    RankedProfile,
    Refusal,
    Result,
    Round,
    TallyError,
    format_number,
    result_to_dict,
)
from .pb import pb_greedy, pb_mes
from .rctab import RCTabContest, RCTabRules, rctab_summary, tabulate
from .rctab import read_rctab as _read_rctab
from .readers import read_blt, read_pb, read_ranks_csv
from .stv import RCTabSTVRules, stv_meek, stv_rctab, stv_scottish, stv_wigm

METHODS = (
    "approval",
    "score",
    "dot",
    "irv",
    "stv-scottish",
    "stv-meek",
    "stv-wigm",
    "schulze",
    "pb-greedy",
    "pb-mes",
)
FORMATS = ("blt", "pb", "rctab", "ranks-csv")
Ballots = RankedProfile | PBInstance | RCTabContest | ApprovalProfile


def guess_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    known = {".blt": "blt", ".pb": "pb", ".json": "rctab", ".csv": "ranks-csv"}
    if suffix not in known:
        raise Refusal(
            "--format",
            suffix or Path(path).name,
            "format inconnu d'après l'extension : préciser --format "
            "(" + ", ".join(FORMATS) + ")",
            "format not known from the extension: give --format "
            "(" + ", ".join(FORMATS) + ")",
        )
    return known[suffix]


def read_rctab(path: str | Path, seats: int | None = None) -> RCTabContest:
    """An RCTab contest, its config validated as RCTab does (``rctab.py``)."""
    return _read_rctab(path, seats)


def read_ballots(
    path: str | Path, fmt: str | None = None, seats: int | None = None
) -> Ballots:
    """Read a ballot file; ``seats`` is checked against an RCTab config's rules."""
    fmt = fmt or guess_format(path)
    if fmt == "blt":
        return read_blt(path)
    if fmt == "pb":
        return read_pb(path)
    if fmt == "rctab":
        return read_rctab(path, seats)
    if fmt == "ranks-csv":
        return read_ranks_csv(path)
    raise TallyError(f'format inconnu « {fmt} » / unknown format "{fmt}"')


def _ranked_to_approval(profile: RankedProfile) -> ApprovalProfile:
    ballots = []
    for ballot, count in profile.ballots.items():
        approved = {c for rank in ballot for c in rank if c >= 0}
        ballots.extend([approved] * count)
    return ApprovalProfile.from_ballots(profile.candidates, ballots, profile.seats)


def count(method: str, ballots: Ballots, seats: int | None = None) -> Result:
    """Count ``ballots`` with ``method``; ``seats`` overrides the file's value."""
    if method not in METHODS:
        raise TallyError(f'méthode inconnue « {method} » / unknown method "{method}"')
    if isinstance(ballots, RCTabContest):
        if seats and seats != ballots.rules.seats:
            raise Refusal(
                "--seats",
                seats,
                "le nombre de sièges d'un concours RCTab se lit dans sa configuration "
                f"(numberOfWinners = {ballots.rules.seats})",
                "an RCTab contest's seats come from its config "
                f"(numberOfWinners = {ballots.rules.seats})",
            )
        if method in ("irv", "stv-scottish", "stv-meek", "stv-wigm"):
            # An RCTab contest carries its own rules: they are followed.
            return tabulate(ballots)
        raise Refusal(
            "--method",
            method,
            "un concours RCTab se dépouille selon ses propres règles (--method irv)",
            "an RCTab contest is counted by its own rules (--method irv)",
        )
    if isinstance(ballots, PBInstance):
        if method == "pb-greedy":
            return pb_greedy(ballots)
        if method == "pb-mes":
            return pb_mes(ballots)
        profile_a = ballots.profile
        if seats:
            profile_a = replace(profile_a, seats=seats)
        return _cardinal(method, profile_a)
    if isinstance(ballots, ApprovalProfile):
        return _cardinal(method, replace(ballots, seats=seats or ballots.seats))
    profile = replace(ballots, seats=seats or ballots.seats)
    _check_seats(profile.seats, len(profile.candidates) - len(profile.withdrawn))
    if method == "irv":
        return irv(profile)
    if method == "stv-scottish":
        return stv_scottish(profile)
    if method == "stv-meek":
        return stv_meek(profile)
    if method == "stv-wigm":
        return stv_wigm(profile)
    if method == "schulze":
        return schulze(profile)
    if method in ("approval", "score", "dot"):
        return _cardinal(method, _ranked_to_approval(profile))
    raise TallyError(
        f"« {method} » demande un fichier de budget participatif (.pb) / "
        f'"{method}" needs a participatory-budgeting file (.pb)'
    )


def _check_seats(seats: int, candidates: int) -> None:
    if not 1 <= seats <= candidates:
        raise Refusal(
            "seats",
            seats,
            f"1 à {candidates} sièges attendus ({candidates} candidats)",
            f"1 to {candidates} seats expected ({candidates} candidates)",
        )


def _cardinal(method: str, profile: ApprovalProfile) -> Result:
    if method == "approval":
        return approval(profile)
    if method == "score":
        return score(profile)
    if method == "dot":
        return dot_vote(profile)
    raise TallyError(
        f'« {method} » demande des bulletins classés / "{method}" needs ranked ballots'
    )


__all__ = [
    "FORMATS",
    "METHODS",
    "ApprovalProfile",
    "IRVRules",
    "PBInstance",
    "RCTabContest",
    "RCTabRules",
    "RCTabSTVRules",
    "Refusal",
    "RankedProfile",
    "Result",
    "Round",
    "TallyError",
    "approval",
    "count",
    "dot_vote",
    "format_number",
    "guess_format",
    "irv",
    "pairwise",
    "pb_greedy",
    "pb_mes",
    "read_ballots",
    "read_blt",
    "read_pb",
    "read_ranks_csv",
    "rctab_summary",
    "read_rctab",
    "result_to_dict",
    "schulze",
    "score",
    "stv_meek",
    "stv_rctab",
    "stv_scottish",
    "stv_wigm",
    "tabulate",
]
