"""Every readable route, walked by every audience, looking for planted secrets.

Issue 13's promise, checked from outside: the node is seeded through HTTP with
things only some audiences may see (a shelter's coordinates, before and after a
practitioner's edit; a closed meeting's agenda and an in-camera item of a public
one; the account ids of the staff who did it) and then every GET route the
gateway serves, JSON API and web pages alike, is called with each audience's
credentials (path parameters filled with the seeded ids), and a vote's voter and
proposal author, whose account ids no outsider may read. No answer to an
audience that may not see a secret may contain it, whatever the status code.

The walk reads the routes from the application itself, so a route added later
is walked too without touching this file.
"""

from __future__ import annotations

import io
import re
import time
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nameko.containers import ServiceContainer
from werkzeug.test import Client

import gateway.app
from tests.conftest import AMQP_HOST, BROKER
from tests.gateway.conftest import (
    MRC,
    OTHER_MRC,
    add_account,
    auth,
    make_config,
    running_services,
)

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

LAT, LON = "46.812345", "-71.208765"
NEW_LAT, NEW_LON = "46.823456", "-71.219876"
CLOSED_ITEM = f"HUIS-CLOS-{uuid.uuid4().hex[:8]}"
IN_CAMERA_ITEM = f"A-HUIS-CLOS-{uuid.uuid4().hex[:8]}"
PLACEHOLDER = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>|\{([a-z_]+)\}")


@pytest.fixture(scope="module")
def seeded(store_uri: str) -> Iterator[dict[str, Any]]:
    """A whole node (web pages included) seeded with secrets through HTTP."""
    vhost = BROKER.add_vhost(prefix="test-walk")
    prefix = f"wk{uuid.uuid4().hex[:8]}_"
    config = make_config(
        store_uri,
        prefix,
        AMQP_URI=f"amqp://guest:guest@{AMQP_HOST}/{vhost}",
        MRC_CODE=MRC,
        MAILLAGE_WRITE_BURST="100000",
        MAILLAGE_SIGNIN_BURST="100000",
    )
    containers = [ServiceContainer(cls, dict(config)) for cls in running_services()]
    for container in containers:
        container.start()
    app = gateway.app.create_app(config)
    try:
        yield _seed(app)
    finally:
        app.rpc.close()
        for container in containers:
            container.stop()
        BROKER.delete_vhost(vhost)


def _token(app: Any, role: str, mrc: str = MRC) -> tuple[str, str]:
    account = add_account(app, f"{role}-{uuid.uuid4().hex[:6]}", role, mrc)
    token = app.runtime.tokens.issue(account)["token"]
    return str(account["_id"]), str(token)


def _ok(resp: Any) -> dict[str, Any]:
    assert resp.status_code in (200, 201), (resp.status_code, resp.get_data()[:500])
    return resp.get_json() or {}


def _seed(app: Any) -> dict[str, Any]:
    http = Client(app)
    admin_id, admin = _token(app, "node_admin")
    staff_id, staff = _token(app, "practitioner")
    secretary_id, secretary = _token(app, "board_secretary")
    ids: dict[str, str] = {}

    org = _ok(
        http.post(
            "/organizations",
            json={"name": "Maison d'hébergement", "description": "Refuge"},
            headers=auth(staff),
        )
    )
    http.post(f"/organizations/{org['id']}/publish", headers=auth(staff))
    location = _ok(
        http.post(
            "/locations",
            json={
                "name": "Refuge",
                "organization_id": org["id"],
                "latitude": float(LAT),
                "longitude": float(LON),
                "confidential_location": True,
                "mrc_code": MRC,
            },
            headers=auth(staff),
        )
    )
    http.post(f"/locations/{location['id']}/publish", headers=auth(staff))
    service = _ok(
        http.post(
            "/services",
            json={
                "organization_id": org["id"],
                "name": "Hébergement d'urgence",
                "location_ids": [location["id"]],
            },
            headers=auth(staff),
        )
    )
    _ok(http.post(f"/services/{service['id']}/publish", headers=auth(staff)))
    # the edit that once put old and new coordinates in the public history
    _ok(
        http.patch(
            f"/locations/{location['id']}",
            json={"latitude": float(NEW_LAT), "longitude": float(NEW_LON)},
            headers=auth(staff),
        )
    )
    sals = _ok(http.get("/service_at_locations", headers=auth(staff)))["contents"]
    ids.update(
        record_id=org["id"],
        service_id=service["id"],
        location_id=location["id"],
        sal_id=sals[0]["id"] if sals else "missing",
    )

    board_id = f"b-{uuid.uuid4().hex[:6]}"
    _ok(
        http.post(
            "/boards",
            json={
                "board_id": board_id,
                "name": "Table locale",
                "seat_groups": [{"constituency": "citizens", "seats": 2}],
            },
            headers=auth(admin),
        )
    )
    for meeting_id, kind, item, in_camera in (
        (f"mc-{board_id}", "closed", CLOSED_ITEM, False),
        (f"mp-{board_id}", "public", IN_CAMERA_ITEM, True),
    ):
        _ok(
            http.post(
                f"/boards/{board_id}/meetings",
                json={
                    "meeting_id": meeting_id,
                    "kind": kind,
                    "scheduled_at": "2026-12-14T18:30:00-05:00",
                    "place": "Salle du conseil",
                },
                headers=auth(secretary),
            )
        )
        _ok(
            http.post(
                f"/meetings/{meeting_id}/agenda",
                json={"title": item, "in_camera": in_camera},
                headers=auth(secretary),
            )
        )
    ids.update(board_id=board_id, meeting_id=f"mc-{board_id}")
    ids["public_meeting_id"] = f"mp-{board_id}"

    # a vote: the voter's and the author's account ids are never public
    voter_id, voter = _token(app, "citizen")
    author_id, author = _token(app, "citizen")
    now = datetime.now(UTC)
    edges = [now - timedelta(hours=1), now + timedelta(seconds=2)]
    edges += [edges[-1] + timedelta(seconds=1), edges[-1] + timedelta(hours=2)]
    edges.append(edges[-1] + timedelta(hours=2))
    process = _ok(
        http.post(
            "/processes",
            json={
                "mrc_code": MRC,
                "title": "Priorités 2027",
                "method": "approval",
                "support_threshold": 0,
                "phases": {
                    name: [edges[i].isoformat(), edges[i + 1].isoformat()]
                    for i, name in enumerate(
                        ["proposals", "deliberation", "voting", "results"]
                    )
                },
            },
            headers=auth(admin),
        )
    )
    csv = "person,municipality_code\n" + "".join(
        f"{p},2466023\n" for p in (voter_id, author_id)
    )
    _ok(
        http.post(
            f"/processes/{process['id']}/registry",
            json={"csv": csv},
            headers=auth(admin),
        )
    )
    proposal = _ok(
        http.post(
            f"/processes/{process['id']}/proposals",
            json={"title": "Halte-garderie"},
            headers=auth(author),
        )
    )
    _ok(http.post(f"/proposals/{proposal['id']}/supports", headers=auth(voter)))
    while datetime.now(UTC) < edges[2] + timedelta(milliseconds=200):
        time.sleep(0.2)
    _ok(
        http.post(
            f"/processes/{process['id']}/ballots",
            json={"approve": [proposal["id"]]},
            headers=auth(voter),
        )
    )
    ids.update(process_id=process["id"], proposal_id=proposal["id"])

    # outsiders: the public, a citizen of the MRC (no seat), and staff of another
    # MRC (seat holders and staff of the board's own MRC are insiders)
    audiences = {"anonymous": {}}
    for role, mrc in (
        ("citizen", MRC),
        ("board_member", OTHER_MRC),
        ("board_secretary", OTHER_MRC),
        ("practitioner", OTHER_MRC),
    ):
        audiences[f"{role}@{mrc}"] = auth(_token(app, role, mrc)[1])
    return {
        "app": app,
        "ids": ids,
        "staff_ids": [admin_id, staff_id, secretary_id],
        "citizen_ids": [voter_id, author_id],
        "staff": auth(staff),
        "admin": auth(admin),
        "secretary": auth(secretary),
        "audiences": audiences,
    }


def _urls(app: Any, ids: dict[str, str]) -> Iterator[str]:
    """Every GET route, its parameters filled with the seeded ids."""
    by_prefix = {
        "/service_at_locations": ids["sal_id"],
        "/locations": ids["location_id"],
        "/organizations": ids["record_id"],
        "/services": ids["service_id"],
    }
    for route in app.api.routes:
        if "GET" not in route.methods or route.rule in ("/metrics", "/docs"):
            continue
        rule = route.rule

        def fill(match: re.Match[str], rule: str = rule) -> str:
            name = match.group(1) or match.group(2)
            if name == "record_id":
                for prefix, value in by_prefix.items():
                    if rule.startswith(prefix):
                        return value
                return "unknown"
            return ids.get(name, "unknown")

        url = PLACEHOLDER.sub(fill, rule)
        yield url
        if "meeting_id" in rule:
            yield url.replace(ids["meeting_id"], ids["public_meeting_id"])
        if "{" not in rule and "<" not in rule:
            yield f"{url}?full=true"


def _readable(resp: Any) -> str:
    """The answer as text; a zip download (an export) is read file by file."""
    data = resp.get_data()
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return " ".join(
                archive.read(name).decode("utf-8", "replace")
                for name in archive.namelist()
            )
    return data.decode("utf-8", "replace")


def test_no_audience_reads_a_secret_it_may_not_see_on_any_route(
    seeded: dict[str, Any],
) -> None:
    app = seeded["app"]
    http = Client(app)
    secrets = {
        "coordinates of a confidential location": [LAT, LON, NEW_LAT, NEW_LON],
        "closed-session agenda": [CLOSED_ITEM, IN_CAMERA_ITEM],
        "staff account id": seeded["staff_ids"],
        "a voter's or an author's account id": seeded["citizen_ids"],
    }
    leaks = []
    walked = 0
    for url in sorted(set(_urls(app, seeded["ids"]))):
        for audience, headers in seeded["audiences"].items():
            resp = http.get(url, headers=headers)
            walked += 1
            body = _readable(resp) + " ".join(
                f"{k}: {v}" for k, v in resp.headers.items()
            )
            for what, values in secrets.items():
                for value in values:
                    if value in body:
                        leaks.append(
                            f"{audience} GET {url} -> {resp.status_code}: {what}"
                        )
    assert walked > 100, walked
    assert not leaks, "\n".join(sorted(set(leaks)))


def test_the_walk_sees_the_secrets_where_they_belong(seeded: dict[str, Any]) -> None:
    """The walk's own control: insiders do read what outsiders may not."""
    app = seeded["app"]
    http = Client(app)
    ids = seeded["ids"]
    service = http.get(f"/services/{ids['service_id']}", headers=seeded["staff"])
    assert NEW_LAT in service.text
    meeting = http.get(f"/meetings/{ids['meeting_id']}", headers=seeded["secretary"])
    assert CLOSED_ITEM in meeting.text
    voter_id = seeded["citizen_ids"][0]
    account = http.get(f"/accounts/{voter_id}", headers=seeded["admin"])
    assert voter_id in account.text
