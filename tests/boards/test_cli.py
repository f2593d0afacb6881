"""``maillage boards``: charter checks and the public register from a terminal."""

from __future__ import annotations

import json
from datetime import date

import pytest
from pymongo import MongoClient

from services.boards.domain import AgendaItem, Choice, MeetingKind
from services.boards.repository import MongoRepository
from shared.cli import main
from tests.boards.factories import SEATS, full_board, open_meeting

CHARTER_YAML = """
board_id: mrc-66023
name: Table locale de gouvernance partagée
seat_groups:
  - {constituency: citizens, seats: 2}
  - {constituency: community_organisations, seats: 2}
  - {constituency: first_nations_inuit, seats: 1, term_months: 36}
quorum: {share: 1/2, min_present: {citizens: 1}}
"""


def test_charter_check_summarises_seats_and_quorum(tmp_path, capsys):
    path = tmp_path / "charte.yaml"
    path.write_text(CHARTER_YAML, encoding="utf-8")
    assert main(["boards", "charter", str(path)]) == 0
    out = capsys.readouterr().out
    assert "5 sièges / seats, quorum 3" in out
    assert "Premières Nations et Inuit / First Nations and Inuit: 1 × 36" in out


def test_charter_check_names_the_bad_field_in_both_languages(tmp_path, capsys):
    path = tmp_path / "charte.yaml"
    path.write_text(CHARTER_YAML.replace("seats: 2}", "seats: deux}", 1), "utf-8")
    assert main(["boards", "charter", str(path)]) == 1
    err = capsys.readouterr().err
    assert "champ « seat_groups.0.seats »" in err
    assert 'field "seat_groups.0.seats"' in err


def test_charter_check_says_who_breaks_a_tie(tmp_path, capsys):
    path = tmp_path / "charte.yaml"
    path.write_text(CHARTER_YAML + "casting_vote: chair\n", encoding="utf-8")
    assert main(["boards", "charter", str(path)]) == 0
    assert "voix prépondérante / casting vote chair" in capsys.readouterr().out
    path.write_text(CHARTER_YAML + "casting_vote: oui\n", encoding="utf-8")
    assert main(["boards", "charter", str(path)]) == 1
    err = capsys.readouterr().err
    assert "champ « casting_vote »" in err and 'field "casting_vote"' in err


def test_boards_without_an_action_prints_help_and_fails(capsys):
    assert main(["boards"]) == 2
    assert "register" in capsys.readouterr().out


@pytest.fixture
def stored_board(store_uri, db_prefix, monkeypatch):
    """A board with one public and one closed-session resolution in the store."""
    board = full_board()
    public = open_meeting(board, list(SEATS.values()))
    closed = open_meeting(board, list(SEATS.values()), MeetingKind.CLOSED, "m2")
    resolutions = []
    for meeting, title in ((public, "Plan d'action 2027"), (closed, "Cas de M. X")):
        meeting.add_item(AgendaItem("i1", title))
        motion = meeting.move(board, "i1", "Adopter", "alice", "bruno")
        meeting.cast_vote(board, motion.motion_id, "alice", Choice.FOR)
        resolutions.append(meeting.close_vote(board, motion.motion_id)[1])
    resolutions[0].follow_up(date(2026, 12, 1), "in_progress", 25, due=date(2027, 1, 1))
    client: MongoClient = MongoClient(store_uri, tz_aware=True)
    repo = MongoRepository(client[f"{db_prefix}boards"], None)
    repo.add_board(board)
    for res in resolutions:
        repo.add_resolution(res)
    repo.add_meeting(public)
    repo.add_meeting(closed)
    monkeypatch.setenv("MAILLAGE_MONGODB_URI", store_uri)
    monkeypatch.setenv("MAILLAGE_DB_PREFIX", db_prefix)
    yield
    client.drop_database(f"{db_prefix}boards")
    client.close()


def test_register_prints_public_resolutions_only(stored_board, capsys):
    assert main(["boards", "register", "--today", "2027-02-01"]) == 0
    out = capsys.readouterr().out
    assert "Plan d'action 2027" in out and "EN RETARD / OVERDUE" in out
    assert "Cas de M. X" not in out and "courriel.example" not in out
    assert "Alice (chair — Citoyennes et citoyens / Citizens)" in out
    assert "Séances publiques / public meetings: 1" in out


def test_register_as_json_has_one_resolution(stored_board, capsys):
    assert main(["boards", "register", "--json", "--today", "2027-02-01"]) == 0
    view = json.loads(capsys.readouterr().out)
    assert [r["title"] for r in view["resolutions"]] == ["Plan d'action 2027"]


def test_register_of_an_unknown_board_fails_in_both_languages(stored_board, capsys):
    assert main(["boards", "register", "--board", "ailleurs"]) == 1
    err = capsys.readouterr().err
    assert "introuvable" in err and "not found" in err
