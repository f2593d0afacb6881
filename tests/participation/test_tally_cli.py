"""``maillage tally`` end to end on the real files."""

from __future__ import annotations

import json

from shared.cli import main


def test_tally_json_lists_winners_in_order_of_election_with_rounds(data_dir, capsys):
    path = data_dir / "droop_stv" / "blt" / "scotland" / "Calton-2007.blt"
    assert main(["tally", str(path), "--method", "stv-scottish", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["winners"] == ["George Redmond", "Alison E Thewliss", "Ruth Simpson"]
    assert out["parameters"]["quota"] == "1300"
    assert out["rounds"][0]["counts"]["George Redmond"] == "1982.00000"


def test_tally_reads_an_rctab_config_and_follows_its_rules(data_dir, capsys):
    path = data_dir / "rctab" / "generic_csv_test" / "generic_csv_test_config.json"
    assert (
        main(["tally", str(path), "--method", "irv", "--format", "rctab", "--json"])
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["winners"] == ["Cucumber"]
    assert out["parameters"]["batch_elimination"] is True
    assert len(out["rounds"]) == 4


def test_tally_greedy_on_a_pabulib_file_prints_the_funded_projects(data_dir, capsys):
    path = data_dir / "pabulib" / "poland_warszawa_2019_nadwisle.pb"
    assert main(["tally", str(path), "--method", "pb-greedy"]) == 0
    assert "2093, 2337, 557, 2195" in capsys.readouterr().out


def test_tally_seats_override_changes_the_number_elected(data_dir, capsys):
    path = data_dir / "droop_stv" / "blt" / "SC.blt"
    assert (
        main(["tally", str(path), "--method", "stv-wigm", "--seats", "2", "--json"])
        == 0
    )
    assert len(json.loads(capsys.readouterr().out)["winners"]) == 2


def test_tally_missing_file_fails_with_a_bilingual_message(tmp_path, capsys):
    assert main(["tally", str(tmp_path / "none.blt"), "--method", "irv"]) == 2
    err = capsys.readouterr().err
    assert "fichier introuvable" in err and "file not found" in err
