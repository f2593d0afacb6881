"""``--format-out rctab-summary-json`` writes RCTab's summary.json, comparable field by field.

RCTab's own expected reports for its public test cases
(``../shared/data/rctab/<case>/<case>_expected_detailed_report.json``, the
summary.json shape) are the acceptance test: every round's tally, threshold,
inactive ballots by reason and each elected or eliminated candidate's
transfers (to candidates, "exhausted", "residual surplus") must be equal.
Numbers are compared as decimals: RCTab sometimes keeps trailing zeros
("2.3330"), this engine never does.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

import pytest

from services.participation.tally import Refusal, rctab_summary, read_rctab
from shared.cli import main

from .test_tally_rctab_settings import contest
from .test_tally_reference import RCTAB_CASES


def numbers(value):
    if isinstance(value, dict):
        return {k: numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [numbers(v) for v in value]
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    return value


@pytest.mark.parametrize("case", RCTAB_CASES)
def test_summary_json_equals_rctab_expected_report_field_by_field(
    data_dir, case, capsys
):
    folder = data_dir / "rctab" / case
    config = folder / f"{case}_config.json"
    assert (
        main(
            [
                "tally",
                str(config),
                "--method",
                "irv",
                "--format-out",
                "rctab-summary-json",
            ]
        )
        == 0
    )
    ours = json.loads(capsys.readouterr().out)
    expected = json.loads(
        (folder / f"{case}_expected_detailed_report.json").read_text("utf-8")
    )
    assert ours["jsonFormatVersion"] == expected["jsonFormatVersion"]
    for key in ("contest", "date", "jurisdiction", "office"):
        assert ours["config"][key] == expected["config"][key]
    assert numbers(ours["summary"]) == numbers(expected["summary"])
    assert len(ours["results"]) == len(expected["results"])
    for mine, theirs in zip(ours["results"], expected["results"], strict=True):
        for key in ("round", "tally", "threshold", "inactiveBallots", "tallyResults"):
            assert numbers(mine[key]) == numbers(theirs[key]), (
                case,
                mine["round"],
                key,
            )


def test_summary_json_is_refused_for_a_ballot_file_that_is_not_an_rctab_contest(
    data_dir, capsys
):
    blt = next((data_dir / "droop_stv").rglob("*.blt"))
    code = main(
        [
            "tally",
            str(blt),
            "--method",
            "stv-scottish",
            "--format-out",
            "rctab-summary-json",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "« --format-out »" in err and '"--format-out"' in err


def test_summary_json_refuses_ballots_without_rankings_it_cannot_report_as_rctab(
    tmp_path,
):
    path = contest(tmp_path, ["1,2,,", ",,,", "2,1,,"])
    with pytest.raises(Refusal) as info:
        rctab_summary(read_rctab(path))
    assert info.value.setting == "--format-out"
