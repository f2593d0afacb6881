"""Acceptance tests: published results reproduced from the real data in ../shared/data."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from services.participation.tally import (
    ApprovalProfile,
    PBInstance,
    count,
    format_number,
    irv,
    pb_greedy,
    pb_mes,
    read_blt,
    read_pb,
    read_ranks_csv,
    read_rctab,
    schulze,
    stv_meek,
    stv_scottish,
    stv_wigm,
)

from .references import droop_elected, droop_snapshots, rctab_report

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
RULES = {
    "scotland": (stv_scottish, 5),
    "wigm": (stv_wigm, 12),
    "meek": (stv_meek, 12),
}
DROOP_REFS = sorted(
    p for p in (DATA / "droop_stv" / "ref").glob("*.txt") if "-mpls-" not in p.name
)


def test_burlington_2009_final_round_is_kiss_4313_wright_4060_with_607_exhausted(
    data_dir,
):
    profile = read_ranks_csv(
        data_dir / "pyrankvote" / "us_vt_btv_2009_03_mayor.normalized.csv"
    )
    result = irv(profile)
    final = result.rounds[-1]
    assert result.winners == ["Bob Kiss"]
    assert final.counts == {"Bob Kiss": 4313, "Kurt Wright": 4060}
    assert final.exhausted == 607
    assert profile.total == 8980


@pytest.mark.parametrize("ref", DROOP_REFS, ids=lambda p: p.stem)
def test_droop_reference_report_is_reproduced_round_by_round(data_dir, ref):
    rule = next(r for r in RULES if f"-{r}-" in ref.name)
    election = ref.name.split(f"-{rule}")[0]
    blt = next((data_dir / "droop_stv" / "blt").rglob(f"{election}.blt"))
    tally, decimals = RULES[rule]
    result = tally(read_blt(blt))
    assert set(result.winners) == droop_elected(ref)
    mine: list[dict[str, str]] = []
    for rnd in result.rounds:
        snap = {k: format_number(v, decimals) for k, v in rnd.counts.items()}
        if not mine or mine[-1] != snap:
            mine.append(snap)
    expected = droop_snapshots(ref, set(result.rounds[0].counts))
    assert mine == expected


@pytest.mark.parametrize(
    ("ward", "elected"),
    [
        ("Calton-2007", {"George Redmond", "Ruth Simpson", "Alison E Thewliss"}),
        ("Springburn-2007", {"Phil Greene", "Allan Stewart", "James Todd"}),
        (
            "Anderston-City-2007",
            {"Nina Baker", "Philip Braat", "Craig MacKay", "Gordon Matheson"},
        ),
    ],
)
def test_glasgow_2007_wards_elect_the_official_councillors(data_dir, ward, elected):
    profile = read_blt(data_dir / "droop_stv" / "blt" / "scotland" / f"{ward}.blt")
    result = stv_scottish(profile)
    assert set(result.winners) == elected


def test_calton_quota_is_1300_from_5199_ballots(data_dir):
    profile = read_blt(data_dir / "droop_stv" / "blt" / "scotland" / "Calton-2007.blt")
    assert profile.total == 5199
    assert stv_scottish(profile).rounds[0].threshold == 1300


def test_sc_election_meek_elects_olsen_where_scottish_and_wigm_elect_sevigny(data_dir):
    profile = read_blt(data_dir / "droop_stv" / "blt" / "SC.blt")
    common = {"Pat LaMarche", "Rebecca Rotzler", "Steve Kramer"}
    assert set(stv_meek(profile).winners) == common | {"Kristen Olsen"}
    assert set(stv_scottish(profile).winners) == common | {"Tom Sevigny"}
    assert set(stv_wigm(profile).winners) == common | {"Tom Sevigny"}


RCTAB_CASES = sorted(p.name for p in (DATA / "rctab").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", RCTAB_CASES)
def test_rctab_expected_report_winners_and_round_counts_are_reproduced(data_dir, case):
    folder = data_dir / "rctab" / case
    expected = rctab_report(folder / f"{case}_expected_detailed_report.csv")
    contest = read_rctab(folder / f"{case}_config.json")
    result = count("irv", contest)
    assert result.winners == expected["winners"]
    assert len(result.rounds) == len(next(iter(expected["rounds"].values())))
    assert (
        format_number(
            result.rounds[-1].threshold,
            None if result.decimals is None else result.decimals,
        )
        .rstrip("0")
        .rstrip(".")
        == (expected["threshold"])
    )
    for rnd in result.rounds:
        for name, values in expected["rounds"].items():
            if name in result.rounds[0].counts or name in rnd.counts:
                want = Fraction(values[rnd.number - 1])
                assert rnd.counts.get(name, 0) == want, (case, rnd.number, name)
        threshold = expected["rounds"]["Current Round Threshold"][rnd.number - 1]
        assert rnd.threshold == Fraction(threshold), (case, rnd.number)
        inactive = expected["rounds"]["Inactive Ballots Total"][rnd.number - 1]
        assert rnd.exhausted == Fraction(inactive), (case, rnd.number)
        by_reason = {
            "Inactive Ballots by Overvotes": "overvotes",
            "Inactive Ballots by Skipped Rankings": "skipped_rankings",
            "Inactive Ballots by Exhausted Choices": "exhausted_choices",
            "Inactive Ballots by Repeated Rankings": "repeated_rankings",
        }
        for row, reason in by_reason.items():
            want = Fraction(expected["rounds"][row][rnd.number - 1])
            assert rnd.inactive.get(reason, 0) == want, (case, rnd.number, reason)


@pytest.mark.parametrize(
    "name", sorted(p.name for p in (DATA / "pabulib").glob("*.pb"))
)
def test_pabulib_greedy_reproduces_the_selected_projects(data_dir, name):
    instance = read_pb(data_dir / "pabulib" / name)
    result = pb_greedy(instance)
    assert sum(instance.costs[instance.projects.index(w)] for w in result.winners) <= (
        instance.budget
    )
    if instance.selected is None:  # Czestochowa publishes no 'selected' column
        assert instance.meta["vote_type"] == "cumulative"
        points = {p: 0 for p in instance.projects}
        for ballot, n in instance.profile.ballots.items():
            for p, pts in ballot:
                points[instance.projects[p]] += pts * n
        assert result.winners[0] == max(points, key=points.get)
    else:
        assert result.winners == [p for p in result.winners if p in instance.selected]
        assert set(result.winners) == set(instance.selected)


def test_warszawa_2019_skips_the_unaffordable_2334_and_funds_the_cheaper_2195(
    data_dir,
):
    result = pb_greedy(
        read_pb(data_dir / "pabulib" / "poland_warszawa_2019_nadwisle.pb")
    )
    skipped = [r.candidates[0] for r in result.rounds if r.action == "skip"]
    assert "2334" in skipped
    assert "2195" in result.winners


@pytest.mark.slow
def test_wieliczka_2023_equal_shares_funds_the_30_official_projects_for_995079(
    data_dir,
):
    instance = read_pb(
        data_dir / "pabulib_mes" / "poland_wieliczka_2023_green-budget.pb"
    )
    result = pb_mes(instance)
    assert len(result.winners) == 30
    assert set(result.winners) == set(instance.selected or [])
    assert result.extra["cost"] == "995079"
    # the add-one completion stops at 315 PLN per voter (316 would overspend)
    assert result.parameters["endowment_per_voter"] == "315"


def _abc_instances():
    out = []
    for path in sorted((DATA / "abcvoting").glob("*.abc.yaml")):
        doc = yaml.safe_load(path.read_text())
        out.append(pytest.param(doc, id=path.name.split(".")[0]))
    return out


def _committees(doc, rule_id):
    return {
        frozenset(c)
        for entry in doc["compute"]
        if entry["rule_id"] == rule_id
        for c in entry["result"]
    }


@pytest.mark.parametrize("doc", _abc_instances())
def test_abcvoting_committees_for_approval_and_equal_shares(doc):
    names = [str(c) for c in range(doc["num_cand"])]
    k = doc["committeesize"]
    profile = ApprovalProfile.from_ballots(names, doc["profile"], seats=k)
    av = count("approval", profile)
    assert frozenset(int(w) for w in av.winners) in _committees(doc, "av")
    n = len(doc["profile"])
    # unit-cost committee as a budget: each candidate costs n, the budget is k * n
    instance = PBInstance(names, [Fraction(n)] * len(names), Fraction(k * n), profile)
    mes = pb_mes(instance)
    chosen = frozenset(int(w) for w in mes.winners)
    assert chosen in _committees(doc, "equal-shares-with-increment-completion")
    assert chosen in _committees(doc, "equal-shares")
    plain = frozenset(int(w) for w in pb_mes(instance, completion="none").winners)
    assert plain <= chosen


def test_burlington_2009_condorcet_winner_montroll_wins_schulze_not_irv(data_dir):
    # The widely published point of Burlington 2009: Montroll beat every rival
    # head to head, yet IRV elected Kiss.
    profile = read_ranks_csv(
        data_dir / "pyrankvote" / "us_vt_btv_2009_03_mayor.normalized.csv"
    )
    result = schulze(profile)
    names = profile.candidates
    d = result.extra["pairwise"]
    montroll = names.index("Andy Montroll")
    assert all(
        d[montroll][b] > d[b][montroll] for b in range(len(names)) if b != montroll
    )
    assert result.winners == ["Andy Montroll"]
    assert irv(profile).winners == ["Bob Kiss"]


def test_every_reference_file_is_part_of_the_acceptance_run(data_dir):
    # parametrized lists are built at import: an empty glob must not pass silently
    assert len(DROOP_REFS) == 13  # scotland x7, meek x3, wigm x3 (mpls not a rule here)
    assert len(RCTAB_CASES) == 4
    assert len(list((data_dir / "pabulib").glob("*.pb"))) == 4
    assert len(_abc_instances()) == 3
