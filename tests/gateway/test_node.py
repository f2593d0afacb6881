"""The gateway in front of the real services (nameko containers on a throwaway
vhost, the real store): MRC scope on boards, secret ballots, confidential
addresses, and a store outage answered 503 then recovered without restart."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from werkzeug.test import Client

from gateway.app import Gateway
from tests.gateway.conftest import MRC, OTHER_MRC, add_account, auth

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def token_for(app: Gateway, role: str, mrc: str = MRC, **extra: Any) -> str:
    account = add_account(app, f"{role}-{uuid.uuid4().hex[:6]}", role, mrc)
    account.update(extra)
    return str(app.runtime.tokens.issue(account)["token"])  # type: ignore[attr-defined]


def test_board_secretary_of_another_mrc_cannot_schedule_on_our_board(
    node: tuple[Gateway, str],
) -> None:
    app, admin = node
    http = Client(app)
    board_id = f"b-{uuid.uuid4().hex[:6]}"
    charter = {
        "board_id": board_id,
        "name": "Table locale",
        "seat_groups": [{"constituency": "citizens", "seats": 2}],
    }
    resp = http.post("/boards", json=charter, headers=auth(admin))
    assert resp.status_code == 201, resp.get_json()
    meeting = {
        "meeting_id": "m-1",
        "kind": "public",
        "scheduled_at": "2026-12-14T18:30:00-05:00",
        "place": "Salle du conseil",
    }
    theirs = token_for(app, "board_secretary", OTHER_MRC)
    resp = http.post(f"/boards/{board_id}/meetings", json=meeting, headers=auth(theirs))
    assert resp.status_code == 403
    assert resp.get_json()["error"]["resource_mrc"] == MRC
    ours = token_for(app, "board_secretary")
    meetings = http.get(f"/boards/{board_id}/meetings", headers=auth(ours))
    assert meetings.get_json()["total"] == 0
    resp = http.post(f"/boards/{board_id}/meetings", json=meeting, headers=auth(ours))
    assert resp.status_code == 201
    resp = http.post("/meetings/m-1/open", headers=auth(theirs))
    assert resp.status_code == 403
    assert http.get("/meetings/m-1", headers=auth(ours)).get_json()["status"] == (
        "scheduled"
    )


VOTING_IN = 4.0  # seconds of proposals phase before the vote opens


def _phases(now: datetime, voting_soon: bool) -> dict[str, list[str]]:
    """Proposals now; voting in ``VOTING_IN`` seconds, or in hours."""
    step = timedelta(seconds=VOTING_IN / 2) if voting_soon else timedelta(hours=2)
    edges = [now - timedelta(hours=1), now + step, now + 2 * step]
    edges += [edges[-1] + timedelta(hours=2), edges[-1] + timedelta(hours=4)]
    names = ["proposals", "deliberation", "voting", "results"]
    return {
        name: [edges[i].isoformat(), edges[i + 1].isoformat()]
        for i, name in enumerate(names)
    }


def _process(http: Client, admin: str, voting_soon: bool, people: list[str]) -> str:
    body = {
        "mrc_code": MRC,
        "title": "Priorités 2027",
        "method": "approval",
        "support_threshold": 0,
        "phases": _phases(datetime.now(UTC), voting_soon),
    }
    resp = http.post("/processes", json=body, headers=auth(admin))
    assert resp.status_code == 201, resp.get_json()
    process_id = str(resp.get_json()["id"])
    csv = "person,municipality_code\n" + "".join(f"{p},2466023\n" for p in people)
    resp = http.post(
        f"/processes/{process_id}/registry", json={"csv": csv}, headers=auth(admin)
    )
    assert resp.status_code == 200, resp.get_json()
    return process_id


def test_a_citizen_cannot_see_or_cast_another_persons_ballot(
    node: tuple[Gateway, str],
) -> None:
    app, admin = node
    http = Client(app)
    ana = add_account(app, f"ana-{uuid.uuid4().hex[:4]}", "citizen")
    bob = add_account(app, f"bob-{uuid.uuid4().hex[:4]}", "citizen")
    tokens = {
        a["_id"]: app.runtime.tokens.issue(a)["token"]  # type: ignore[attr-defined]
        for a in (ana, bob)
    }
    started = time.monotonic()
    process_id = _process(http, admin, True, list(tokens))
    proposal = http.post(
        f"/processes/{process_id}/proposals",
        json={"title": "Halte-garderie"},
        headers=auth(tokens[ana["_id"]]),
    )
    assert proposal.status_code == 201, proposal.get_json()
    choice = {"approve": [proposal.get_json()["id"]]}
    time.sleep(max(0.0, VOTING_IN + 0.5 - (time.monotonic() - started)))
    url = f"/processes/{process_id}/ballots"
    receipts = {}
    for person, token in tokens.items():
        resp = http.post(url, json=choice, headers=auth(token))
        assert resp.status_code == 201, resp.get_json()
        receipts[person] = resp.get_json()["receipt"]
    # voting for someone else: the body cannot name a person
    resp = http.post(
        url,
        json={**choice, "person": bob["_id"]},
        headers=auth(tokens[ana["_id"]]),
    )
    assert resp.status_code == 422
    assert "person" in resp.get_json()["error"]["fields"]
    # a second ballot of the same person is refused
    again = http.post(url, json=choice, headers=auth(tokens[ana["_id"]]))
    assert again.status_code == 409
    # no route reads a ballot; receipts are hidden until the close
    assert not [r for r in app.api.routes if "ballot" in r.rule and "GET" in r.methods]
    hidden = http.get(f"/processes/{process_id}/receipts")
    assert hidden.status_code == 409
    # the audit log records that each voted, never what nor their receipt
    log = http.get(
        "/audit?action=participation.ballots.cast&limit=100", headers=auth(admin)
    ).get_data(as_text=True)
    for receipt in receipts.values():
        assert receipt not in log

    entries = [e for e in json.loads(log)["items"] if e["path"] == url]
    assert len(entries) == 3  # two ballots and the refused second one
    assert all(e["request"] == "***" for e in entries)
    assert all(e.get("after") in (None, {"receipt": "***"}) for e in entries)


def test_supporting_a_proposal_counts_each_person_once(
    node: tuple[Gateway, str],
) -> None:
    app, admin = node
    http = Client(app)
    citizen = add_account(app, f"cy-{uuid.uuid4().hex[:4]}", "citizen")
    token = app.runtime.tokens.issue(citizen)["token"]  # type: ignore[attr-defined]
    process_id = _process(http, admin, False, [citizen["_id"]])
    resp = http.post(
        f"/processes/{process_id}/proposals",
        json={"title": "Halte-garderie"},
        headers=auth(token),
    )
    assert resp.status_code == 201, resp.get_json()
    proposal_id = resp.get_json()["id"]
    first = http.post(f"/proposals/{proposal_id}/supports", headers=auth(token))
    assert first.status_code == 200 and first.get_json()["supports"] == 1
    second = http.post(f"/proposals/{proposal_id}/supports", headers=auth(token))
    assert second.status_code == 409
    page = http.get(f"/processes/{process_id}/proposals").get_json()
    assert page["items"][0]["supports"] == 1


def test_a_confidential_address_reaches_practitioners_only(
    node: tuple[Gateway, str],
) -> None:
    app, admin = node
    http = Client(app)
    staff = auth(token_for(app, "practitioner"))
    org = http.post(
        "/organizations",
        json={"name": "Maison d'hébergement", "description": "Refuge"},
        headers=staff,
    ).get_json()
    http.post(f"/organizations/{org['id']}/publish", headers=staff)
    location = http.post(
        "/locations",
        json={
            "name": "Refuge",
            "organization_id": org["id"],
            "latitude": 46.812345,
            "longitude": -71.2087,
            "confidential_location": True,
            "mrc_code": MRC,
        },
        headers=staff,
    ).get_json()
    http.post(f"/locations/{location['id']}/publish", headers=staff)
    service = http.post(
        "/services",
        json={
            "organization_id": org["id"],
            "name": "Hébergement d'urgence",
            "location_ids": [location["id"]],
        },
        headers=staff,
    )
    assert service.status_code == 201, service.get_json()
    service_id = service.get_json()["id"]
    assert (
        http.post(f"/services/{service_id}/publish", headers=staff).status_code == 200
    )
    url = f"/services/{service_id}"
    shown = http.get(url, headers=staff).get_data(as_text=True)
    assert "46.812345" in shown
    for headers in (
        {},
        auth(token_for(app, "citizen")),
        auth(token_for(app, "board_member")),
    ):
        resp = http.get(url, headers=headers)
        assert resp.status_code == 200
        assert "46.812345" not in resp.get_data(as_text=True)
        assert "Hébergement d'urgence" in resp.get_data(as_text=True)
