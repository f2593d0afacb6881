"""Pure rules of citizen participation: phases, eligibility, proposals, ballots.

No I/O: the service loads documents, asks these functions, and stores what
they return.  A process looks like::

    {"id": "p1", "mrc_code": "2423", "title": "Budget participatif 2027",
     "method": "pb-mes", "seats": 1, "budget": "50000",
     "support_threshold": 10, "eligibility": "residents",
     "representatives": [], "eligible_count": 1200,
     "phases": {"proposals": ["2026-11-01T00:00:00Z", "2026-11-15T00:00:00Z"],
                "deliberation": [...], "voting": [...], "results": [...]},
     "closed": false}

Ballot secrecy rests on two facts the repository keeps: the record of who took
part holds no ballot reference, and a ballot holds no voter reference, no
timestamp and a random id; the voter's receipt is ``sha256(nonce + ballot)``,
known only to the voter until the list of receipts is published.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from services.participation.tally import (
    ApprovalProfile,
    PBInstance,
    RankedProfile,
    RCTabContest,
    Result,
    TallyError,
    count,
    pb_mes,
    tabulate,
)
from services.participation.tally import Refusal as TallyRefusal
from services.participation.tally.pb import check_completion
from services.participation.tally.rctab import validate_rules

PHASES = ("proposals", "deliberation", "voting", "results")
RANKED = ("irv", "stv-scottish", "stv-meek", "stv-wigm", "schulze")
CARDINAL = ("approval", "score", "dot")
BUDGET = ("pb-greedy", "pb-mes")


@dataclass(frozen=True)
class Refusal:
    """Why an action is refused, in both languages; ``kind`` picks the HTTP code."""

    kind: str  # invalid | conflict | forbidden
    field: str
    fr: str
    en: str


class ParticipationRefused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(f"{refusal.fr} / {refusal.en}")
        self.refusal = refusal


def refuse(kind: str, field: str, fr: str, en: str) -> ParticipationRefused:
    return ParticipationRefused(Refusal(kind, field, fr, en))


def parse_time(value: str | datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def check_phases(phases: Mapping[str, Sequence[str]]) -> None:
    """Phases in order, each ending after it starts and no later than the next."""
    previous_end: datetime | None = None
    for name in PHASES:
        if name not in phases:
            raise refuse(
                "invalid", f"phases.{name}", "phase manquante", "missing phase"
            )
        start, end = (parse_time(v) for v in phases[name])
        if end <= start:
            raise refuse(
                "invalid",
                f"phases.{name}",
                "la fin précède le début",
                "end is not after start",
            )
        if previous_end is not None and start < previous_end:
            raise refuse(
                "invalid",
                f"phases.{name}",
                "chevauche la phase précédente",
                "overlaps the previous phase",
            )
        previous_end = end


def current_phase(process: Mapping[str, Any], now: datetime) -> str | None:
    if process.get("closed"):
        return "results"
    for name in PHASES:
        start, end = (parse_time(v) for v in process["phases"][name])
        if start <= now < end:
            return name
    return None


def require_phase(process: Mapping[str, Any], phase: str, now: datetime) -> None:
    actual = current_phase(process, now)
    if actual != phase:
        raise refuse(
            "conflict",
            "phase",
            f"action permise seulement en phase « {phase} » (phase actuelle : "
            f"{actual or 'aucune'})",
            f'action allowed only in the "{phase}" phase (current: {actual or "none"})',
        )


VOTER_KEY = "hmac-sha256"  # the scheme of voter keys of processes created now


def person_key(process: Mapping[str, Any], person: str, secret: bytes) -> str:
    """A stable pseudonymous key for a person within one process.

    ``HMAC-SHA256(secret, process_id + "\\0" + person)``, the secret being the
    node's ``BALLOT_KEY`` kept outside the store, so that a copy of the store
    and of the accounts cannot be matched. A process created before keyed voter
    keys (no ``voter_key`` on it) keeps the unkeyed hash it was written with
    until it closes: its registry, supports and participations stay comparable,
    so one ballot per person holds across the change.
    """
    normal = person.strip().lower()
    message = f"{process.get('id') or process.get('_id')}\x00{normal}".encode()
    if process.get("voter_key") == VOTER_KEY:
        return hmac.new(secret, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


def code_hash(process_id: str, code: str) -> str:
    return hashlib.sha256(
        f"code\x00{process_id}\x00{code.strip()}".encode()
    ).hexdigest()


def new_codes(n: int) -> list[str]:
    """One-time residency codes: 10 characters a person can type."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return ["".join(secrets.choice(alphabet) for _ in range(10)) for _ in range(n)]


def registry_rows(text: str) -> list[tuple[int, str, str]]:
    """Parse the administrator's CSV ``person,municipality_code``: (line, person, code)."""
    import csv
    import io

    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "person" not in reader.fieldnames:
        raise refuse(
            "invalid",
            "person",
            "colonne « person » manquante",
            'column "person" missing',
        )
    rows = []
    for line, row in enumerate(reader, 2):
        person = (row.get("person") or "").strip()
        if not person:
            raise refuse(
                "invalid",
                f"ligne {line}, person",
                f"ligne {line}, champ « person » : valeur attendue",
                f'row {line}, field "person": value expected',
            )
        rows.append((line, person, (row.get("municipality_code") or "").strip()))
    return rows


def registry_report(
    text: str, mrc_code: str = ""
) -> tuple[list[tuple[int, str, str]], list[dict[str, Any]]]:
    """Read the registry CSV ``person,municipality_code`` row by row: the rows
    to load and, apart, every refused row with its field and reason, so that an
    administrator fixes them all at once (a file without a ``person`` column is
    refused whole)::

        registry_report("person,municipality_code\nana,2423027\n,2423027\n", "2423")
        -> ([(2, "ana", "2423027")],
            [{"row": 3, "field": "person", "fr": "valeur attendue",
              "en": "value expected"}])

    A municipality code, when given, is the 7-digit census code of a
    municipality of the process's MRC (its first four digits are the MRC's
    census division); a person named twice is refused on the second row.
    """
    import csv
    import io

    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "person" not in reader.fieldnames:
        raise refuse(
            "invalid",
            "person",
            "colonne « person » manquante",
            'column "person" missing',
        )
    rows: list[tuple[int, str, str]] = []
    refused: list[dict[str, Any]] = []
    seen: dict[str, int] = {}

    def no(line: int, field: str, fr: str, en: str) -> None:
        refused.append({"row": line, "field": field, "fr": fr, "en": en})

    for line, row in enumerate(reader, 2):
        person = (row.get("person") or "").strip()
        code = (row.get("municipality_code") or "").strip()
        if not person:
            no(line, "person", "valeur attendue", "value expected")
        elif person.lower() in seen:
            first = seen[person.lower()]
            no(
                line,
                "person",
                f"déjà nommée à la ligne {first}",
                f"already named on row {first}",
            )
        elif code and not (code.isdigit() and len(code) == 7):
            no(
                line,
                "municipality_code",
                "code de municipalité à 7 chiffres attendu",
                "7-digit municipality code expected",
            )
        elif code and len(mrc_code) == 4 and not code.startswith(mrc_code):
            no(
                line,
                "municipality_code",
                f"municipalité hors de la MRC {mrc_code}",
                f"municipality outside the MRC {mrc_code}",
            )
        else:
            seen[person.lower()] = line
            rows.append((line, person, code))
    return rows, refused


def may_edit_proposal(
    process: Mapping[str, Any],
    proposal: Mapping[str, Any],
    key: str,
    now: datetime,
) -> None:
    """Only its author edits or withdraws a proposal, while proposals and
    supports are taken (the ``proposals`` phase), and not once hidden or
    withdrawn."""
    if not proposal.get("author_key") or proposal.get("author_key") != key:
        raise refuse(
            "forbidden",
            "person",
            "seule l'autrice ou l'auteur de la proposition peut la modifier",
            "only the proposal's author may change it",
        )
    if proposal.get("hidden"):
        raise refuse(
            "conflict",
            "hidden",
            "proposition masquée par la modération",
            "proposal hidden by moderation",
        )
    if proposal.get("status") == "withdrawn":
        raise refuse(
            "conflict",
            "status",
            "proposition déjà retirée",
            "proposal already withdrawn",
        )
    require_phase(process, "proposals", now)


def may_take_part(
    process: Mapping[str, Any],
    key: str,
    resident: bool,
    key_of: Callable[[str], str],
) -> None:
    """Refuse a person who may not take part; ``key_of(person)`` is the voter
    key of a named representative (see :func:`person_key`)."""
    if process.get("eligibility") == "representatives":
        allowed = {key_of(p) for p in process.get("representatives", [])}
        if key not in allowed:
            raise refuse(
                "forbidden",
                "person",
                "réservé aux représentants désignés",
                "reserved to the named representatives",
            )
    elif not resident:
        raise refuse(
            "forbidden",
            "person",
            "résidence non vérifiée pour cette MRC",
            "residency not verified for this MRC",
        )


POSITIVE_COUNT = ("entier positif attendu", "positive integer expected")


def check_eligible_count(value: object, ballots_cast: int) -> int | None:
    """How many may vote, as the process declares it: the turnout denominator.

    ``None`` means not declared (no turnout is published, never a guessed one).
    Otherwise a whole number of at least 1 and not fewer than the ballots
    already cast: ``check_eligible_count(120, 37) == 120``;
    ``check_eligible_count(30, 37)`` is refused on ``eligible_count``.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise refuse("invalid", "eligible_count", *POSITIVE_COUNT)
    if value < ballots_cast:
        raise refuse(
            "invalid",
            "eligible_count",
            f"moins que les {ballots_cast} bulletins déjà reçus",
            f"fewer than the {ballots_cast} ballots already cast",
        )
    return value


def published_eligible(process: Mapping[str, Any], ballots: int) -> int | None:
    """The eligible count the results carry: the declared one, unless the
    ballots outnumber it (a count declared before late registrations), in which
    case none, so that no turnout above 100 % is ever computed from it."""
    declared = process.get("eligible_count")
    if declared is None or ballots > int(declared):
        return None
    return int(declared)


def qualifies(support_count: int, threshold: int) -> bool:
    return support_count >= threshold


# -- ballots ---------------------------------------------------------------------

# Points ballots are always bounded: a process without ``max_points`` gets these.
DEFAULT_MAX_SCORE = 5  # score vote: at most 5 for each proposal
DEFAULT_MAX_DOTS = 10  # dot vote, cumulative budget: at most 10 points in all
MAX_POINTS_CEILING = 1000  # the most a process may declare
MAX_POINTS_RANGE = (
    f"entier de 1 à {MAX_POINTS_CEILING} attendu",
    f"integer from 1 to {MAX_POINTS_CEILING} expected",
)


def uses_points(process: Mapping[str, Any]) -> bool:
    """Whether the process's ballots give points (score, dot, cumulative budget)."""
    return process.get("method") in ("score", "dot") or bool(process.get("cumulative"))


def points_limit(process: Mapping[str, Any]) -> int | None:
    """The bound of a points ballot: the process's ``max_points`` or the default
    of its method; ``None`` for ballots without points.

    ``points_limit({"method": "score", "max_points": None}) == 5``;
    ``points_limit({"method": "dot", "max_points": 20}) == 20``.
    """
    if not uses_points(process):
        return None
    declared = process.get("max_points")
    if declared:
        return int(declared)
    return DEFAULT_MAX_SCORE if process.get("method") == "score" else DEFAULT_MAX_DOTS


def normalize_ballot(
    process: Mapping[str, Any], ballot: Any, on_ballot: Sequence[str]
) -> dict[str, Any]:
    """Check a ballot against the method and the proposals on the ballot.

    Ranked: ``{"ranking": ["a", "b"]}``; approval and PB approval:
    ``{"approve": ["a", "b"]}``; score, dot and PB cumulative:
    ``{"points": {"a": 3}}``.
    """
    method = process["method"]
    allowed = set(on_ballot)
    if not isinstance(ballot, Mapping):
        raise refuse("invalid", "ballot", "objet attendu", "object expected")
    if method in RANKED:
        ranking = ballot.get("ranking")
        if not isinstance(ranking, list) or not ranking:
            raise refuse(
                "invalid", "ranking", "liste classée attendue", "ranked list expected"
            )
        if len(set(ranking)) != len(ranking):
            raise refuse(
                "invalid",
                "ranking",
                "proposition classée deux fois",
                "proposal ranked twice",
            )
        _known(ranking, allowed, "ranking")
        return {"ranking": list(ranking)}
    if "points" in ballot and (method in ("score", "dot") or process.get("cumulative")):
        points = ballot["points"]
        if not isinstance(points, Mapping) or not points:
            raise refuse("invalid", "points", "points attendus", "points expected")
        _known(list(points), allowed, "points")
        if any(not isinstance(v, int) or v < 0 for v in points.values()):
            raise refuse(
                "invalid",
                "points",
                "entiers positifs attendus",
                "non-negative integers expected",
            )
        limit = points_limit(process) or DEFAULT_MAX_DOTS
        if method == "score" and any(v > limit for v in points.values()):
            raise refuse(
                "invalid", "points", f"note maximale {limit}", f"maximum score {limit}"
            )
        if method != "score" and sum(points.values()) > limit:
            raise refuse(
                "invalid",
                "points",
                f"au plus {limit} points",
                f"at most {limit} points",
            )
        return {"points": dict(sorted(points.items()))}
    approve = ballot.get("approve")
    if (
        not isinstance(approve, list)
        or not approve
        or len(set(approve)) != len(approve)
    ):
        raise refuse(
            "invalid",
            "approve",
            "liste de propositions distinctes attendue",
            "list of distinct proposals expected",
        )
    _known(approve, allowed, "approve")
    return {"approve": sorted(approve)}


def _known(ids: Sequence[str], allowed: set[str], field: str) -> None:
    unknown = [i for i in ids if i not in allowed]
    if unknown:
        raise refuse(
            "invalid",
            field,
            f"pas sur le bulletin : {', '.join(unknown)}",
            f"not on the ballot: {', '.join(unknown)}",
        )


def receipt(ballot: Mapping[str, Any], nonce: str) -> str:
    """The voter's receipt: a hash of the ballot and a random nonce."""
    canonical = json.dumps(ballot, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{nonce}\x00{canonical}".encode()).hexdigest()


def tally_ballots(
    process: Mapping[str, Any],
    proposals: Sequence[Mapping[str, Any]],
    ballots: Sequence[Mapping[str, Any]],
) -> Result:
    """Count stored ballots with the process's method.

    What the engine will not count (more seats than proposals, a rule it does
    not apply) is refused naming the setting, never counted another way.
    """
    try:
        return _tally(process, proposals, ballots)
    except TallyError as exc:
        raise tally_refused(exc) from None


# What a process may choose, with safe defaults (tally engine's own names).
# IRV: RCTab's rules, checked by RCTab's validation; ties follow the ballot's
# order of proposals unless another tiebreak (with its seed) is chosen.
IRV_RULE_DEFAULTS: dict[str, Any] = {
    "winnerElectionMode": "singleWinnerMajority",
    "tiebreakMode": "useCandidateOrder",
    "overvoteRule": "exhaustImmediately",
    "maxSkippedRanksAllowed": "unlimited",
    "maxRankingsAllowed": "max",
    "decimalPlacesForVoteArithmetic": 4,
}
PB_MES_RULES = ("completion",)
# proposals are not known at creation: the count is checked again at close
_ANY_NUMBER_OF_PROPOSALS = 1_000_000


def process_rules(
    method: str, seats: int, rules: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """The rule variants a process chose, completed with the defaults and
    checked by the tally engine, so a variant it would not count is refused
    at creation, by name, rather than at close::

        process_rules("irv", 1, {"batchElimination": True})
        -> {"winnerElectionMode": "singleWinnerMajority", ...,
            "batchElimination": True, "numberOfWinners": 1}
        process_rules("pb-mes", 1, {"completion": "add2"})
        -> refused: « rules.completion » = 'add2' : complétion inconnue …

    ``None`` (no ``rules``) keeps the method's plain count.
    """
    if rules is None:
        return None
    try:
        if method == "irv":
            chosen = rules.get("numberOfWinners", seats)
            if chosen != seats:
                raise TallyRefusal(
                    "rules.numberOfWinners",
                    chosen,
                    f"le nombre d'élus se donne par seats ({seats})",
                    f"the number of winners is given by seats ({seats})",
                )
            effective = {**IRV_RULE_DEFAULTS, **rules, "numberOfWinners": seats}
            validate_rules(effective, _ANY_NUMBER_OF_PROPOSALS)
            return effective
        if method == "pb-mes":
            for key in rules:
                if key not in PB_MES_RULES:
                    raise TallyRefusal(
                        f"rules.{key}",
                        rules[key],
                        "règle inconnue pour pb-mes (completion)",
                        "unknown rule for pb-mes (completion)",
                    )
            completion = rules.get("completion", "add1")
            return {"completion": check_completion(completion, "rules.completion")}
        raise TallyRefusal(
            "rules",
            dict(rules),
            f"la méthode {method} n'a pas de variantes (irv, pb-mes en ont)",
            f"method {method} has no rule variants (irv and pb-mes do)",
        )
    except TallyError as exc:
        raise tally_refused(exc) from None


def tally_refused(exc: TallyError) -> ParticipationRefused:
    """The engine's refusal as the service's (422), naming the same setting::

    Refusal("seats", 5, ...) -> {"seats": ["« seats » = 5 : 1 à 3 sièges attendus
    (3 candidats) / "seats" = 5: 1 to 3 seats expected (3 candidates)"]}
    """
    if isinstance(exc, TallyRefusal):
        return refuse("invalid", exc.setting, exc.message("fr"), exc.message("en"))
    fr, _, en = str(exc).partition(" / ")
    return refuse("invalid", "method", fr, en or fr)


def _tally(
    process: Mapping[str, Any],
    proposals: Sequence[Mapping[str, Any]],
    ballots: Sequence[Mapping[str, Any]],
) -> Result:
    ids = [p["id"] for p in proposals]
    index = {pid: i for i, pid in enumerate(ids)}
    method = process["method"]
    seats = int(process.get("seats") or 1)
    rules = process.get("rules")
    if method in RANKED:
        profile = RankedProfile.from_rankings(
            ids, ([index[c] for c in b["ranking"]] for b in ballots), seats
        )
        if rules and method == "irv":
            # checked again with the proposals now known (seats <= proposals)
            contest = RCTabContest(profile, validate_rules(dict(rules), len(ids)), {})
            return tabulate(contest)
        return count(method, profile)
    approvals: list[Any] = []
    for b in ballots:
        if "points" in b:
            approvals.append({index[k]: v for k, v in b["points"].items()})
        else:
            approvals.append([index[k] for k in b["approve"]])
    kind = "approval" if all("approve" in b for b in ballots) else "cumulative"
    profile_a = ApprovalProfile.from_ballots(ids, approvals, seats, kind)
    if method in BUDGET:
        costs = [Fraction(str(p.get("estimated_cost") or 0)) for p in proposals]
        instance = PBInstance(ids, costs, Fraction(str(process["budget"])), profile_a)
        if rules and method == "pb-mes":
            return pb_mes(instance, completion=rules["completion"])
        return count(method, instance)
    return count(method, profile_a)


def priorities(result: Result, proposals: Sequence[Mapping[str, Any]]) -> list[dict]:
    """Ranked priorities for the boards: the elected first, in order of election,
    then the others where the method ranks them (Schulze's order, points)::

        [{"rank": 1, "proposal_id": "a2", "title": "Logement", "elected": True}, …]
    """
    titles = {p["id"]: p.get("title", "") for p in proposals}
    order = list(result.winners)
    rest: list[str] = list(result.parameters.get("ranking") or [])
    if not rest and result.method in CARDINAL and result.rounds:
        rest = list(result.rounds[0].counts)
    order += [pid for pid in rest if pid not in order]
    elected = set(result.winners)
    return [
        {
            "rank": i,
            "proposal_id": pid,
            "title": titles.get(pid, ""),
            "elected": pid in elected,
        }
        for i, pid in enumerate(order, 1)
    ]
