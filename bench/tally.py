"""Tally benchmark: the project's counts beside the reference Python packages.

Two paths, each measured in the same run as its baseline:

- IRV on the Burlington 2009 ballots replicated to 1,000,000 ballots, beside
  ``pyrankvote.instant_runoff_voting`` on the same ballots.  Both start from
  the same in-memory list of rankings (candidate names, $UNDERVOTE/$OVERVOTE
  markers dropped, as in pyrankvote's own Burlington test) and include their
  own conversion of that list.
- Method of Equal Shares with the add-one completion on Wieliczka 2023, beside
  ``pabutools.rules.method_of_equal_shares`` (cost satisfaction) driven through
  the same completion: one pabutools run per endowment from floor(B/n) up to
  the first that overspends.  (pabutools' own ``voter_budget_increment`` stops
  at the first exhaustive outcome, 302 PLN per voter, and returns a different
  set: it is not the rule Wieliczka used.)

The IRV count alone (ballots already grouped, as the service holds them) is
reported beside the end-to-end figure, and Equal Shares is run a second time
with the standard library's ``Fraction`` (the fallback when gmpy2 is missing).

Target: identical winners, at least 10x faster than each reference.
"""

from __future__ import annotations

import csv
import time
from collections import defaultdict
from fractions import Fraction
from pathlib import Path

from services.participation.tally import (
    PBInstance,
    RankedProfile,
    irv,
    pb,
    pb_mes,
    read_pb,
)
from services.participation.tally.pb import _mes_run, _Prepared

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BURLINGTON = DATA / "pyrankvote" / "us_vt_btv_2009_03_mayor.normalized.csv"
WIELICZKA = DATA / "pabulib_mes" / "poland_wieliczka_2023_green-budget.pb"
TARGET = 1_000_000


def _burlington_rankings() -> list[list[str]]:
    ballots: dict[str, dict[int, str]] = defaultdict(dict)
    with BURLINGTON.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row["choice"].startswith("$"):
                continue
            ballots[row["ballot_id"]][int(row["rank"])] = row["choice"]
    return [[r[k] for k in sorted(r)] for r in ballots.values()]


def _ours_irv(rankings: list[list[str]]) -> tuple[list[str], dict[str, int]]:
    result = irv(RankedProfile.from_named_rankings(rankings))
    return result.winners, dict(result.rounds[-1].counts)  # type: ignore[arg-type]


def _ours_irv_count(profile: RankedProfile) -> tuple[list[str], dict[str, int]]:
    """The count alone, from ballots already grouped (what a service holds)."""
    result = irv(profile)
    return result.winners, dict(result.rounds[-1].counts)  # type: ignore[arg-type]


def _ours_mes_fraction(instance: PBInstance):
    """pb_mes with the standard library's Fraction (the fallback without gmpy2)."""
    saved = pb._Q
    pb._Q = Fraction
    try:
        return pb_mes(instance)
    finally:
        pb._Q = saved


def _pyrankvote_irv(rankings: list[list[str]]) -> tuple[list[str], dict[str, int]]:
    import pyrankvote
    from pyrankvote import Ballot, Candidate

    cands: dict[str, Candidate] = {}
    for ranking in rankings[:10_000]:
        for c in ranking:
            cands.setdefault(c, Candidate(c))
    ballots = [Ballot(ranked_candidates=[cands[c] for c in r]) for r in rankings]
    result = pyrankvote.instant_runoff_voting(list(cands.values()), ballots)
    final = result.rounds[-1]
    counts = {
        r.candidate.name: int(r.number_of_votes)
        for r in final.candidate_results
        if r.number_of_votes
    }
    return [c.name for c in result.get_winners()], counts


def _pabutools_instance():
    from pabutools.election import parse_pabulib

    return parse_pabulib(str(WIELICZKA))


def _pabutools_mes_add1(instance, profile) -> tuple[list[str], int]:
    from pabutools.election import Cost_Sat
    from pabutools.rules import method_of_equal_shares

    budget = instance.budget_limit
    n = profile.num_ballots()
    endowment = int(budget // n)
    best = None
    while True:
        instance.budget_limit = endowment * n
        outcome = method_of_equal_shares(instance, profile, sat_class=Cost_Sat)
        if sum(p.cost for p in outcome) > budget:
            break
        best = outcome
        endowment += 1
    instance.budget_limit = budget
    return sorted(p.name for p in best or []), endowment - 1


def _pabutools_mes_once(instance, profile, endowment: int) -> list[str]:
    from pabutools.election import Cost_Sat
    from pabutools.rules import method_of_equal_shares

    budget = instance.budget_limit
    instance.budget_limit = endowment * profile.num_ballots()
    outcome = method_of_equal_shares(instance, profile, sat_class=Cost_Sat)
    instance.budget_limit = budget
    return sorted(p.name for p in outcome)


def _ours_mes_once(instance: PBInstance, endowment: int) -> list[str]:
    chosen, _ = _mes_run(_Prepared(instance), Fraction(endowment), False)
    return sorted(instance.projects[p] for p in chosen)


class _Seconds(float):
    """Wall-clock seconds, with the process's CPU seconds beside them (``cpu``):
    on a machine shared with other work the CPU figure moves less."""

    cpu: float


def _ratio(ref: float, ours: float) -> float:
    return round(ref / max(ours, 1e-6), 1)


def _timed(fn, *args):
    started, cpu = time.perf_counter(), time.process_time()
    value = fn(*args)
    seconds = _Seconds(time.perf_counter() - started)
    seconds.cpu = time.process_time() - cpu
    return value, seconds


def _pair(name: str, baseline: str, ballots: int, ours: dict, ref: dict) -> list[dict]:
    """Two rows: the project's path, then its baseline, measured in this run."""
    same = ours.pop("key") == ref.pop("key")
    return [
        {
            "path": f"{name}: maillage",
            "ballots": ballots,
            **ours,
            "speedup": round(ref["seconds"] / ours["seconds"], 1),
            "cpu_speedup": _ratio(ref["cpu_seconds"], ours["cpu_seconds"]),
            "same_winners": same,
        },
        {
            "path": f"{name}: {baseline}",
            "ballots": ballots,
            **ref,
            "speedup": 1.0,
            "same_winners": same,
        },
    ]


def run() -> list[dict]:
    base = _burlington_rankings()
    rankings = [base[i % len(base)] for i in range(TARGET)]
    (ours, ours_final), t_ours = _timed(_ours_irv, rankings)
    (ref, ref_final), t_ref = _timed(_pyrankvote_irv, rankings)
    rows = _pair(
        "irv burlington x1M",
        "pyrankvote 2.0.6",
        TARGET,
        {
            "seconds": round(t_ours, 3),
            "cpu_seconds": round(t_ours.cpu, 3),
            "winners": ",".join(ours),
            "result": str(ours_final),
            "key": ours,
        },
        {
            "seconds": round(t_ref, 3),
            "cpu_seconds": round(t_ref.cpu, 3),
            "winners": ",".join(ref),
            "result": str(ref_final),
            "key": ref,
        },
    )
    profile = RankedProfile.from_named_rankings(rankings)  # grouping not timed
    (count_only, count_final), t_count = _timed(_ours_irv_count, profile)
    rows.append(
        {
            "path": "irv burlington x1M: maillage count only",
            "ballots": TARGET,
            "seconds": round(t_count, 3),
            "cpu_seconds": round(t_count.cpu, 3),
            "winners": ",".join(count_only),
            "result": str(count_final),
            "speedup": round(t_ref / t_count, 1),
            "cpu_speedup": _ratio(t_ref.cpu, t_count.cpu),
            "same_winners": count_only == ref,
        }
    )
    instance = read_pb(WIELICZKA)
    voters = instance.profile.total
    result, t_mes = _timed(pb_mes, instance)
    pabu_instance, pabu_profile = _pabutools_instance()  # parsing not timed
    (ref_set, ref_e), t_pabu = _timed(_pabutools_mes_add1, pabu_instance, pabu_profile)
    rows += _pair(
        "mes add-one wieliczka",
        "pabutools 1.2.3",
        voters,
        {
            "seconds": round(t_mes, 3),
            "cpu_seconds": round(t_mes.cpu, 3),
            "winners": f"{len(result.winners)} projects",
            "result": f"{result.extra['cost']} PLN, "
            f"e={result.parameters['endowment_per_voter']}",
            "key": sorted(result.winners),
        },
        {
            "seconds": round(t_pabu, 3),
            "cpu_seconds": round(t_pabu.cpu, 3),
            "winners": f"{len(ref_set)} projects",
            "result": f"e={ref_e}",
            "key": ref_set,
        },
    )
    slow, t_slow = _timed(_ours_mes_fraction, instance)
    rows.append(
        {
            "path": "mes add-one wieliczka: maillage, Fraction (no gmpy2)",
            "ballots": voters,
            "seconds": round(t_slow, 3),
            "cpu_seconds": round(t_slow.cpu, 3),
            "winners": f"{len(slow.winners)} projects",
            "result": f"{slow.extra['cost']} PLN, "
            f"e={slow.parameters['endowment_per_voter']}",
            "speedup": round(t_pabu / t_slow, 1),
            "cpu_speedup": _ratio(t_pabu.cpu, t_slow.cpu),
            "same_winners": sorted(slow.winners) == ref_set,
        }
    )
    rows[-3]["arithmetic"] = "gmpy2" if pb._Q is not Fraction else "Fraction"
    once, t_once = _timed(_ours_mes_once, instance, 315)
    ref_once, t_ref_once = _timed(_pabutools_mes_once, pabu_instance, pabu_profile, 315)
    rows += _pair(
        "mes one run e=315",
        "pabutools 1.2.3",
        voters,
        {
            "seconds": round(t_once, 3),
            "cpu_seconds": round(t_once.cpu, 3),
            "winners": f"{len(once)} projects",
            "result": "",
            "key": once,
        },
        {
            "seconds": round(t_ref_once, 3),
            "cpu_seconds": round(t_ref_once.cpu, 3),
            "winners": f"{len(ref_once)} projects",
            "result": "",
            "key": ref_once,
        },
    )
    return rows
