"""Closed sessions stay inside the board's own MRC (issue 13, hole 4).

``boards.read_closed`` is a role capability; on top of it, the board must belong
to the caller's MRC. A board member, representative, secretary or node
administrator of another MRC reads a board's meetings, quorums, resolutions and
late follow-ups exactly as the public does (a practitioner's view): no in-camera
item, attendance, conflict, vote or closed-session resolution, and a 404 for a
resolution adopted in camera, the same answer as for a missing one. Every read
route that can show closed content is attacked through HTTP, against the real
boards service.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from gateway.app import Gateway
from tests.gateway.conftest import MRC, OTHER_MRC, add_account, auth
from tests.gateway.test_service_routes import (
    CONFLICT_REASON,
    IN_CAMERA,
    Board,
    adopt,
    token_for,
)

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

INSIDER_ROLES = ("board_member", "citizen_representative", "board_secretary")
OBJECTION = "Objection confidentielle du huis clos"
LATE = "2099-01-01"


def foreign_token(app: Gateway, role: str, **extra: Any) -> dict[str, str]:
    """An insider role, but bound to another MRC than the board's."""
    account = add_account(app, f"x-{role}-{uuid.uuid4().hex[:6]}", role, OTHER_MRC)
    account.update(extra)
    return auth(str(app.runtime.tokens.issue(account)["token"]))  # type: ignore[attr-defined]


@pytest.fixture
def board(node: tuple[Gateway, str]) -> Board:
    app, admin = node
    return Board(app, admin)


@pytest.fixture
def sitting(board: Board) -> dict[str, Any]:
    """A conflict on the public item, an in-camera resolution with an objection,
    and both resolutions late in their follow-up (due in 2027)."""
    meeting = f"/meetings/{board.meeting}"
    conflict = {"member_id": "alan", "item_id": "budget", "reason": CONFLICT_REASON}
    board.post(f"{meeting}/conflicts", conflict, board.members["alan"])
    public = adopt(board, "budget")
    in_camera = adopt(board, "rh", objection=OBJECTION)
    for resolution in (public, in_camera):
        update = {"on": "2026-12-20", "status": "in_progress", "due": "2027-01-31"}
        board.post(f"/resolutions/{resolution['resolution_id']}/follow-up", update)
    return {"public": public, "in_camera": in_camera}


def outsiders(app: Gateway) -> dict[str, dict[str, str]]:
    """Who must see the public view: each insider role of another MRC, and
    (the reference) a practitioner of the board's own MRC."""
    found = {
        f"{role}@{OTHER_MRC}": foreign_token(app, role, member_id="ada")
        for role in (*INSIDER_ROLES, "node_admin")
    }
    found[f"practitioner@{MRC}"] = auth(token_for(app, "practitioner"))
    return found


def secrets_in(text: str) -> list[str]:
    return [
        s
        for s in (IN_CAMERA, CONFLICT_REASON, OBJECTION, "Litige en cours")
        if s in text
    ]


def test_insiders_of_another_mrc_read_meetings_as_the_public_does(
    node: tuple[Gateway, str], board: Board, sitting: dict[str, Any]
) -> None:
    app, _ = node
    http = board.http
    inside = http.get(f"/meetings/{board.meeting}", headers=board.secretary)
    assert IN_CAMERA in inside.get_data(as_text=True)
    reference: dict[str, Any] = {}
    for who, headers in outsiders(app).items():
        answers = {
            "meeting": http.get(f"/meetings/{board.meeting}", headers=headers),
            "closed": http.get(f"/meetings/{board.closed}", headers=headers),
            "list": http.get(f"/boards/{board.id}/meetings", headers=headers),
            "quorum": http.get(
                f"/meetings/{board.meeting}/quorum?item_id=rh", headers=headers
            ),
            "closed_quorum": http.get(
                f"/meetings/{board.closed}/quorum", headers=headers
            ),
        }
        for name, resp in answers.items():
            assert resp.status_code == 200, (who, name, resp.get_json())
            text = resp.get_data(as_text=True)
            assert secrets_in(text) == [], (who, name)
            assert '"attendance"' not in text and '"votes": [' not in text, (who, name)
        assert set(answers["closed"].get_json()) == {
            "meeting_id",
            "kind",
            "date",
            "status",
        }
        shown = {name: resp.get_json() for name, resp in answers.items()}
        reference = reference or shown
        assert shown == reference, who


def test_insiders_of_another_mrc_get_404_for_an_in_camera_resolution(
    node: tuple[Gateway, str], board: Board, sitting: dict[str, Any]
) -> None:
    app, _ = node
    http = board.http
    in_camera = sitting["in_camera"]["resolution_id"]
    public = sitting["public"]["resolution_id"]
    mine = http.get(f"/resolutions/{in_camera}", headers=board.members["grace"])
    assert mine.status_code == 200 and mine.get_json()["closed_session"] is True
    register = http.get(f"/boards/{board.id}/register").get_json()
    [entry] = register["resolutions"]
    for who, headers in outsiders(app).items():
        resp = http.get(f"/resolutions/{public}", headers=headers)
        assert resp.status_code == 200, (who, resp.get_json())
        assert resp.get_json() == entry, who
        for lang in ("fr", "en"):
            answers = []
            for ident in (in_camera, "res-000000000000"):
                resp = http.get(
                    f"/resolutions/{ident}",
                    headers={**headers, "Accept-Language": lang},
                )
                assert resp.status_code == 404, (who, resp.get_json())
                answers.append(resp.get_data(as_text=True).replace(ident, "<id>"))
            assert answers[0] == answers[1], who


def test_a_secretary_of_another_mrc_cannot_tell_an_in_camera_resolution_by_follow_up(
    node: tuple[Gateway, str], board: Board, sitting: dict[str, Any]
) -> None:
    app, _ = node
    http = board.http
    in_camera = sitting["in_camera"]["resolution_id"]
    foreign = foreign_token(app, "board_secretary")
    update = {"on": "2026-12-21", "status": "in_progress", "progress": 90}
    answers = []
    for ident in (in_camera, "res-000000000000"):
        resp = http.post(
            f"/resolutions/{ident}/follow-up", json=update, headers=foreign
        )
        assert resp.status_code == 404, resp.get_json()
        answers.append(resp.get_data(as_text=True).replace(ident, "<id>"))
    assert answers[0] == answers[1]
    unchanged = http.get(f"/resolutions/{in_camera}", headers=board.secretary)
    assert unchanged.get_json()["progress"] != 90


def test_late_follow_ups_show_no_closed_session_resolution_outside_the_board(
    node: tuple[Gateway, str], board: Board, sitting: dict[str, Any]
) -> None:
    app, _ = node
    http = board.http
    path = f"/boards/{board.id}/overdue?today={LATE}"
    inside = http.get(path, headers=board.secretary).get_json()["items"]
    assert {r["resolution_id"] for r in inside} == {
        sitting["public"]["resolution_id"],
        sitting["in_camera"]["resolution_id"],
    }
    register = http.get(f"/boards/{board.id}/register?today={LATE}").get_json()
    [entry] = register["resolutions"]
    for who, headers in outsiders(app).items():
        resp = http.get(path, headers=headers)
        assert resp.status_code == 200, (who, resp.get_json())
        text = json.dumps(resp.get_json(), ensure_ascii=False)
        assert secrets_in(text) == [] and "Adopter rh" not in text, who
        assert sitting["in_camera"]["resolution_id"] not in text, who
        assert resp.get_json()["items"] == [entry], who
