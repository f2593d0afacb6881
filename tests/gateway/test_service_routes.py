"""Routes the service owners left to the gateway, against the real services:
board privacy for roles outside the board, seconding and members' own agenda
items in their own name, indicators a board watches, HSDS imports with their
report, and the HSDS 3.0 spelling of the read paths."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from gateway.app import Gateway
from tests.gateway.conftest import MRC, add_account, auth

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

IN_CAMERA = "Dossier d'un employé (huis clos)"
CONFLICT_REASON = "Ma sœur dirige l'organisme demandeur"


def token_for(app: Gateway, role: str, **extra: Any) -> str:
    account = add_account(app, f"{role}-{uuid.uuid4().hex[:6]}", role, MRC)
    account.update(extra)
    return str(app.runtime.tokens.issue(account)["token"])  # type: ignore[attr-defined]


class Board:
    """A board of three seated members (ada, grace, alan) with one open public
    meeting, an open item and an in-camera item, set up through the gateway."""

    def __init__(self, app: Gateway, admin: str) -> None:
        self.http = Client(app)
        self.id = f"b-{uuid.uuid4().hex[:6]}"
        self.meeting = f"m-{uuid.uuid4().hex[:6]}"
        self.closed = f"{self.meeting}-hc"
        self.secretary = auth(token_for(app, "board_secretary"))
        self.members = {
            m: auth(token_for(app, "board_member", member_id=m))
            for m in ("ada", "grace", "alan")
        }
        charter = {
            "board_id": self.id,
            "name": "Table locale",
            "seat_groups": [{"constituency": "citizens", "seats": 3}],
        }
        self.ok(self.http.post("/boards", json=charter, headers=auth(admin)))
        for n, member in enumerate(self.members, start=1):
            appointment = {
                "seat_id": f"citizens-{n}",
                "member": {"member_id": member, "name": member.title()},
                "start": "2026-01-01",
            }
            self.post(f"/boards/{self.id}/appointments", appointment)
        for meeting_id, kind in ((self.meeting, "public"), (self.closed, "closed")):
            meeting = {
                "meeting_id": meeting_id,
                "kind": kind,
                "scheduled_at": "2026-12-14T18:30:00-05:00",
                "place": "Salle du conseil",
            }
            self.post(f"/boards/{self.id}/meetings", meeting)
        agenda = f"/meetings/{self.meeting}/agenda"
        self.post(agenda, {"title": "Budget des popotes", "item_id": "budget"})
        self.post(agenda, {"title": IN_CAMERA, "item_id": "rh", "in_camera": True})
        self.post(f"/meetings/{self.closed}/agenda", {"title": "Litige en cours"})
        self.post(f"/meetings/{self.meeting}/open", None)
        for member in self.members:
            attendance = {"member_id": member, "present": True}
            self.post(f"/meetings/{self.meeting}/attendance", attendance)

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
        return self.ok(
            self.http.post(path, json=body, headers=headers or self.secretary)
        )

    @staticmethod
    def ok(resp: Any) -> Any:
        assert resp.status_code in (200, 201), resp.get_json()
        return resp.get_json()


@pytest.fixture
def board(node: tuple[Gateway, str]) -> Board:
    app, admin = node
    return Board(app, admin)


def test_outside_the_board_meetings_show_no_closed_session_or_conflict(
    node: tuple[Gateway, str], board: Board
) -> None:
    app, _ = node
    conflict = {"member_id": "ada", "item_id": "budget", "reason": CONFLICT_REASON}
    board.post(f"/meetings/{board.meeting}/conflicts", conflict, board.members["ada"])
    inside = board.http.get(f"/meetings/{board.meeting}", headers=board.secretary)
    assert IN_CAMERA in inside.get_data(as_text=True)
    assert CONFLICT_REASON in inside.get_data(as_text=True)
    for role in ("practitioner", "regional_coordinator"):
        outsider = auth(token_for(app, role))
        resp = board.http.get(f"/meetings/{board.meeting}", headers=outsider)
        assert resp.status_code == 200, resp.get_json()
        text = resp.get_data(as_text=True)
        assert IN_CAMERA not in text and CONFLICT_REASON not in text
        assert [i["title"] for i in resp.get_json()["agenda"]] == ["Budget des popotes"]
        assert "attendance" not in resp.get_json()
        closed = board.http.get(f"/meetings/{board.closed}", headers=outsider)
        assert set(closed.get_json()) == {"meeting_id", "kind", "date", "status"}
        listed = board.http.get(
            f"/boards/{board.id}/meetings?sort=-scheduled_at", headers=outsider
        ).get_json()
        assert listed["total"] == 2
        text = json.dumps(listed, ensure_ascii=False)
        assert "Litige en cours" not in text and IN_CAMERA not in text
        assert CONFLICT_REASON not in text
    citizen = auth(token_for(app, "citizen"))
    assert (
        board.http.get(f"/meetings/{board.meeting}", headers=citizen).status_code == 403
    )


def adopt(board: Board, item_id: str, objection: str = "") -> dict[str, Any]:
    """ada moves, grace seconds, both vote for (and alan against, with his
    ``objection``, when one is given); the secretary closes the vote."""
    meeting = f"/meetings/{board.meeting}"
    ada, grace = board.members["ada"], board.members["grace"]
    moved = {"item_id": item_id, "text": f"Adopter {item_id}", "moved_by": "ada"}
    motion = board.post(f"{meeting}/motions", moved, ada)["motion_id"]
    board.post(f"{meeting}/motions/{motion}/second", {}, grace)
    votes = [("ada", "for", ""), ("grace", "for", "")]
    if objection:
        votes.append(("alan", "against", objection))
    for member, choice, text in votes:
        vote = {"motion_id": motion, "member_id": member, "choice": choice}
        board.post(
            f"{meeting}/votes", {**vote, "objection": text}, board.members[member]
        )
    closed = board.post(f"{meeting}/motions/{motion}/close", None)
    assert closed["adopted"], closed
    return dict(closed["resolution"])


def test_outside_the_board_a_resolution_is_its_register_entry_or_not_found(
    node: tuple[Gateway, str], board: Board
) -> None:
    app, _ = node
    recusal = {"member_id": "alan", "item_id": "rh", "reason": CONFLICT_REASON}
    board.post(f"/meetings/{board.meeting}/conflicts", recusal, board.members["alan"])
    public = adopt(board, "budget", objection="Trop cher")
    in_camera = adopt(board, "rh")
    assert in_camera["closed_session"] is True
    register = board.http.get(f"/boards/{board.id}/register").get_json()
    [entry] = register["resolutions"]
    for headers in (board.secretary, board.members["grace"]):
        for resolution in (public, in_camera):
            path = f"/resolutions/{resolution['resolution_id']}"
            resp = board.http.get(path, headers=headers)
            assert resp.status_code == 200, resp.get_json()
            assert resp.get_json()["moved_by"] == "ada"
    for role in ("practitioner", "regional_coordinator"):
        outsider = auth(token_for(app, role))
        resp = board.http.get(
            f"/resolutions/{public['resolution_id']}", headers=outsider
        )
        assert resp.status_code == 200, resp.get_json()
        assert resp.get_json() == entry
        assert resp.get_json()["objections"][0]["name"] == "Alan"
        text = resp.get_data(as_text=True)
        for member_id in board.members:
            assert f'"{member_id}"' not in text
        assert public["resolution_id"] not in text and board.meeting not in text
        for lang, words in (("fr", "introuvable"), ("en", "not found")):
            answers = []
            for ident in (in_camera["resolution_id"], "res-000000000000"):
                resp = board.http.get(
                    f"/resolutions/{ident}",
                    headers={**outsider, "Accept-Language": lang},
                )
                assert resp.status_code == 404
                answers.append(resp.get_data(as_text=True).replace(ident, "<id>"))
            assert answers[0] == answers[1]
            assert words in answers[0] and "Adopter" not in answers[0]
    citizen = auth(token_for(app, "citizen"))
    path = f"/resolutions/{public['resolution_id']}"
    assert board.http.get(path, headers=citizen).status_code == 403


def test_a_practitioner_follows_up_public_resolutions_only_and_sees_their_public_form(
    node: tuple[Gateway, str], board: Board
) -> None:
    app, _ = node
    public = adopt(board, "budget", objection="Trop cher")
    in_camera = adopt(board, "rh")
    practitioner = auth(token_for(app, "practitioner"))
    update = {"on": "2026-12-20", "status": "in_progress", "progress": 20}
    for lang, words in (("fr", "introuvable"), ("en", "not found")):
        answers = []
        for ident in (in_camera["resolution_id"], "res-000000000000"):
            resp = board.http.post(
                f"/resolutions/{ident}/follow-up",
                json={**update, "note": "Réaffectation de Mme Gagnon"},
                headers={**practitioner, "Accept-Language": lang},
            )
            assert resp.status_code == 404, resp.get_json()
            answers.append(resp.get_data(as_text=True).replace(ident, "<id>"))
        assert answers[0] == answers[1]
        assert words in answers[0] and "Adopter" not in answers[0]
    path = f"/resolutions/{in_camera['resolution_id']}"
    unchanged = board.http.get(path, headers=board.secretary).get_json()
    assert unchanged["status"] == "planned" and unchanged["updates"] == []

    resp = board.http.post(
        f"/resolutions/{public['resolution_id']}/follow-up",
        json=update,
        headers=practitioner,
    )
    assert resp.status_code == 200, resp.get_json()
    shown = resp.get_json()
    assert shown["follow_up"]["status"] == "in_progress"
    assert shown["objections"][0]["name"] == "Alan"
    text = resp.get_data(as_text=True)
    for member_id in board.members:
        assert f'"{member_id}"' not in text
    assert public["resolution_id"] not in text and board.meeting not in text
    got = board.http.get(
        f"/resolutions/{public['resolution_id']}", headers=practitioner
    )
    assert got.get_json() == shown

    resp = board.http.post(f"{path}/follow-up", json=update, headers=board.secretary)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["closed_session"] is True
    assert resp.get_json()["status"] == "in_progress"
    assert resp.get_json()["moved_by"] == "ada"


def test_outside_the_board_a_quorum_shows_no_closed_session_attendance(
    node: tuple[Gateway, str], board: Board
) -> None:
    app, _ = node
    recusal = {"member_id": "alan", "item_id": "rh", "reason": CONFLICT_REASON}
    board.post(f"/meetings/{board.meeting}/conflicts", recusal, board.members["alan"])
    quorum = f"/meetings/{board.meeting}/quorum"
    closed_quorum = f"/meetings/{board.closed}/quorum"
    inside = board.http.get(closed_quorum, headers=board.secretary).get_json()
    assert inside == {"met": False, "required": 2, "present": 0, "missing": {}}
    in_camera = board.http.get(f"{quorum}?item_id=rh", headers=board.secretary)
    assert in_camera.get_json()["present"] == 2
    for role in ("practitioner", "regional_coordinator"):
        outsider = auth(token_for(app, role))
        resp = board.http.get(closed_quorum, headers=outsider)
        assert resp.status_code == 200, resp.get_json()
        closed = board.http.get(f"/meetings/{board.closed}", headers=outsider)
        assert resp.get_json() == closed.get_json()
        assert "present" not in resp.get_json()
        counts = board.http.get(quorum, headers=outsider).get_json()
        assert counts == {"met": True, "required": 2, "present": 3, "missing": {}}
        for item_id in ("rh", "no-such-item"):
            resp = board.http.get(f"{quorum}?item_id={item_id}", headers=outsider)
            assert resp.get_json() == counts
    missing = board.http.get("/meetings/m-nope/quorum", headers=outsider)
    assert missing.status_code == 404


def test_the_document_says_outsiders_get_the_public_view(
    node: tuple[Gateway, str],
) -> None:
    app, _ = node
    paths = Client(app).get("/openapi.json").get_json()["paths"]
    for path, method, full, public in (
        ("/meetings/{meeting_id}", "get", "Meeting", "PublicMeeting"),
        ("/resolutions/{resolution_id}", "get", "Resolution", "PublicResolution"),
        (
            "/resolutions/{resolution_id}/follow-up",
            "post",
            "Resolution",
            "PublicResolution",
        ),
    ):
        operation = paths[path][method]
        schema = operation["responses"]["200"]["content"]["application/json"]
        assert schema["schema"]["oneOf"] == [
            {"$ref": f"#/components/schemas/{full}"},
            {"$ref": f"#/components/schemas/{public}"},
        ]
        assert "boards.read_closed" in operation["description"]


def test_a_motion_is_seconded_only_by_another_member_in_their_own_name(
    board: Board,
) -> None:
    motions = f"/meetings/{board.meeting}/motions"
    motion = {"item_id": "budget", "text": "Adopter le budget", "moved_by": "ada"}
    resp = board.http.post(
        motions, json={**motion, "seconded_by": "grace"}, headers=board.members["ada"]
    )
    assert resp.status_code == 403
    assert resp.get_json()["error"]["field"] == "seconded_by"
    moved = board.post(motions, motion, board.members["ada"])
    assert moved["seconded_by"] is None
    second = f"{motions}/{moved['motion_id']}/second"
    resp = board.http.post(
        second, json={"member_id": "grace"}, headers=board.members["alan"]
    )
    assert resp.status_code == 403
    assert resp.get_json()["error"]["member_id"] == "grace"
    resp = board.http.post(second, json={}, headers=board.members["ada"])
    assert resp.status_code == 422  # the mover does not second their own motion
    seconded = board.post(second, {}, board.members["grace"])
    assert seconded["seconded_by"] == "grace"
    resp = board.http.post(second, json={}, headers=board.members["alan"])
    assert resp.status_code == 409
    resp = board.http.post(second, json={}, headers=board.secretary)
    assert resp.status_code == 403


def test_a_member_places_a_motion_on_the_agenda_in_their_own_name_only(
    board: Board,
) -> None:
    proposals = f"/meetings/{board.meeting}/agenda/proposals"
    mine = {"title": "Motion sur le transport", "proposed_by": "alan"}
    resp = board.http.post(
        proposals, json={**mine, "proposed_by": "ada"}, headers=board.members["alan"]
    )
    assert resp.status_code == 403
    item = board.post(proposals, mine, board.members["alan"])
    assert (item["proposed_by"], item["source"]) == ("alan", "member")
    meeting = board.http.get(f"/meetings/{board.meeting}", headers=board.secretary)
    assert item["item_id"] in [i["item_id"] for i in meeting.get_json()["agenda"]]


def test_a_watched_indicator_past_its_threshold_proposes_an_agenda_item(
    node: tuple[Gateway, str], board: Board
) -> None:
    app, _ = node
    watched = f"/boards/{board.id}/watched-indicators"
    watch = {"indicator_id": "attente-jours", "threshold": 30, "title": "Attente"}
    assert board.post(watched, watch)["indicator_id"] == "attente-jours"
    values = f"/boards/{board.id}/indicator-values"
    below = {"indicator_id": "attente-jours", "period": "2026Q3", "value": 20.0}
    assert board.post(values, below) == {"item": None}
    above = {**below, "period": "2026Q4", "value": 41.0, "previous": 20.0}
    item = board.post(values, above)["item"]
    assert item["indicator_id"] == "attente-jours"
    gone = board.http.delete(f"{watched}/attente-jours", headers=board.secretary)
    assert gone.status_code == 200 and gone.get_json()["watched"] is False
    later = {**above, "period": "2027Q1", "value": 50.0, "previous": 41.0}
    assert board.post(values, later) == {"item": None}
    member = board.http.post(watched, json=watch, headers=board.members["ada"])
    assert member.status_code == 403
    practitioner = auth(token_for(app, "practitioner"))
    resp = board.http.post(watched, json=watch, headers=practitioner)
    assert resp.status_code == 403


def test_an_import_is_all_or_nothing_and_a_refusal_reports_file_row_field(
    node: tuple[Gateway, str], data_dir: Path
) -> None:
    app, _ = node
    http = Client(app)
    document = json.loads(
        (data_dir / "hsds" / "examples" / "service_full.json").read_text()
    )
    staff = auth(token_for(app, "practitioner"))
    broken = {"name": "upload.json", "document": {**document, "minimum_age": "douze"}}
    resp = http.post("/imports", json=broken, headers=staff)
    assert resp.status_code == 422, resp.get_json()
    error = resp.get_json()["error"]
    assert error["code"] == "validation_error"
    [problem] = error["report"]["problems"]
    assert (problem["file"], problem["field"]) == ("upload.json", "minimum_age")
    assert {"row", "reason_fr", "reason_en"} <= set(problem)
    assert http.get(f"/services/{document['id']}").status_code == 404
    citizen = auth(token_for(app, "citizen"))
    refused = http.post("/imports", json={"document": document}, headers=citizen)
    assert refused.status_code == 403
    done = http.post("/imports", json={"document": document}, headers=staff)
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["ok"] is True
    assert done.get_json()["written"]["created"] == 20


def test_read_paths_are_spelled_as_in_the_hsds_openapi(
    node: tuple[Gateway, str], data_dir: Path
) -> None:
    app, _ = node
    http = Client(app)
    hsds = json.loads((data_dir / "hsds" / "schema" / "openapi.json").read_text())
    documented = json.loads(http.get("/openapi.json").get_data())["paths"]
    ours = {re.sub(r"\{[a-z_]+\}", "{id}", path) for path in documented}
    # "/" is the HSDS API's own description, not a record path
    assert set(hsds["paths"]) - {"/"} <= ours
    for path in ("/service_at_locations", "/taxonomy_terms"):
        assert http.get(path).status_code == 200
    for path in ("/service-at-locations", "/taxonomy-terms"):
        assert http.get(path).status_code == 404
