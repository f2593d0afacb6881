"""The permission table, exhaustively: every action x every role, through HTTP.

``DOCUMENTED`` is the table as the README shows it (the specification); the
gateway's table must be exactly it, and every route of the gateway must refuse
exactly the roles the table leaves out, before any service is called.
"""

from __future__ import annotations

import re

import pytest
from werkzeug.test import Client

from gateway.app import Gateway
from gateway.permissions import CAPABILITIES, PERMISSIONS, ROLES, markdown_table
from tests.gateway.conftest import (
    MRC,
    OTHER_MRC,
    FakeRpc,
    auth,
    create_app,
    make_config,
)

DOCUMENTED = """
| action | citizen | citizen_representative | board_member | board_secretary | practitioner | regional_coordinator | node_admin |
|---|---|---|---|---|---|---|---|
| `accounts.create` | · | · | · | · | · | · | ✓ |
| `accounts.list` | · | · | · | · | · | · | ✓ |
| `accounts.me` | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
| `accounts.read` | · | · | · | · | · | · | ✓ |
| `accounts.revoke` | · | · | · | · | · | · | ✓ |
| `accounts.sign_out` | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
| `accounts.update` | · | · | · | · | · | · | ✓ |
| `audit.read` | · | · | · | · | · | · | ✓ |
| `boards.agenda.propose` | · | ✓ | ✓ | · | · | · | · |
| `boards.conflicts.declare` | · | ✓ | ✓ | · | · | · | · |
| `boards.create` | · | · | · | · | · | · | ✓ |
| `boards.follow_up` | · | · | · | ✓ | ✓ | · | · |
| `boards.indicators.manage` | · | · | · | ✓ | · | · | · |
| `boards.meetings.manage` | · | · | · | ✓ | · | · | · |
| `boards.minutes.manage` | · | · | · | ✓ | · | · | · |
| `boards.motions.close` | · | · | · | ✓ | · | · | · |
| `boards.motions.move` | · | ✓ | ✓ | · | · | · | · |
| `boards.motions.second` | · | ✓ | ✓ | · | · | · | · |
| `boards.motions.vote` | · | ✓ | ✓ | · | · | · | · |
| `boards.read` | · | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
| `boards.read_closed` | · | ✓ | ✓ | ✓ | · | · | ✓ |
| `boards.seats.manage` | · | · | · | ✓ | · | · | ✓ |
| `federation.agreements.propose` | · | · | · | ✓ | · | · | · |
| `federation.read` | · | · | · | · | · | ✓ | ✓ |
| `indicators.definitions.define` | · | · | · | · | · | · | ✓ |
| `indicators.definitions.propose` | · | · | · | ✓ | · | · | · |
| `indicators.practice.concerns` | · | ✓ | ✓ | ✓ | · | · | · |
| `indicators.practice.read` | · | ✓ | ✓ | ✓ | ✓ | · | ✓ |
| `indicators.practice.report` | · | · | · | · | ✓ | · | · |
| `indicators.quality.read` | · | · | · | · | ✓ | · | ✓ |
| `indicators.rollups.publish` | · | · | · | · | · | ✓ | ✓ |
| `indicators.surveys.enter` | · | · | · | · | ✓ | · | · |
| `indicators.surveys.manage` | · | · | · | · | · | · | ✓ |
| `indicators.values.approve` | · | · | · | · | · | ✓ | ✓ |
| `indicators.values.enter` | · | · | · | · | ✓ | · | ✓ |
| `offerings.confidentiality.lift` | · | · | · | · | · | · | ✓ |
| `offerings.import` | · | · | · | · | ✓ | · | ✓ |
| `offerings.read_confidential` | · | · | · | · | ✓ | · | ✓ |
| `offerings.services.manage` | · | · | · | · | ✓ | · | ✓ |
| `participation.ballots.cast` | ✓ | ✓ | · | · | · | · | · |
| `participation.processes.manage` | · | · | · | ✓ | · | · | ✓ |
| `participation.proposals.comment` | ✓ | ✓ | · | · | · | · | · |
| `participation.proposals.create` | ✓ | ✓ | · | · | · | · | · |
| `participation.proposals.support` | ✓ | ✓ | · | · | · | · | · |
| `participation.residency.redeem` | ✓ | ✓ | · | · | · | · | · |
| `participation.results.publish` | · | · | · | ✓ | · | · | ✓ |
"""


def parse(table: str) -> dict[str, set[str]]:
    lines = [line for line in table.strip().splitlines() if line.startswith("| `")]
    header = table.strip().splitlines()[0]
    roles = [c.strip() for c in header.strip("|").split("|")][1:]
    result = {}
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        result[cells[0].strip("`")] = {
            role for role, mark in zip(roles, cells[1:], strict=True) if mark == "✓"
        }
    return result


def test_the_gateway_table_is_exactly_the_documented_table() -> None:
    documented = parse(DOCUMENTED)
    assert {a: set(r) for a, r in PERMISSIONS.items()} == documented
    assert parse(markdown_table()) == documented


@pytest.fixture(scope="module")
def sweep_app(
    store_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Gateway, FakeRpc, dict[str, str]]:
    prefix = f"perm{tmp_path_factory.getbasetemp().name[-6:]}_".replace("-", "")
    app = create_app(
        make_config(store_uri, prefix, MRC_CODE=MRC, MAILLAGE_WRITE_BURST="100000")
    )
    fake = FakeRpc()
    fake.handlers[("boards", "get_meeting")] = lambda mid, public=False: {
        "meeting_id": mid,
        "board_id": "b1",
    }
    fake.handlers[("boards", "get_resolution")] = lambda rid, public=False: {
        "resolution_id": rid,
        "board_id": "b1",
    }
    app.rpc = fake
    return app, fake, {}


def _cases() -> list[tuple[str, str, str]]:
    app = create_app(make_config("mongodb://127.0.0.1:1/", "unused_", MRC_CODE=MRC))
    return [
        (method, route.rule, route.action)
        for route in app.api.routes
        if not route.public
        for method in route.methods
    ]


CASES = _cases()


def test_every_route_action_is_in_the_table_and_every_table_action_is_used() -> None:
    used = {action for _, _, action in CASES}
    assert used <= set(PERMISSIONS)
    assert set(PERMISSIONS) - used == CAPABILITIES


@pytest.mark.parametrize(("method", "rule", "action"), CASES)
@pytest.mark.parametrize("role", ROLES)
def test_route_allows_a_role_exactly_where_the_table_says(
    sweep_app: tuple[Gateway, FakeRpc, dict[str, str]],
    method: str,
    rule: str,
    action: str,
    role: str,
) -> None:
    app, fake, _ = sweep_app
    # a fresh token each time: the sign-out route revokes the one it is given
    account = {"_id": f"id-{role}", "role": role, "mrc": MRC}
    token = app.runtime.tokens.issue(account)["token"]  # type: ignore[attr-defined]
    path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", "x", rule)
    client = Client(app)
    before = len(fake.calls)
    resp = client.open(path, method=method, json={}, headers=auth(token))
    error = (resp.get_json(silent=True) or {}).get("error", {})
    refused_by_table = resp.status_code == 403 and error.get("action") == action
    if role in PERMISSIONS[action]:
        assert not refused_by_table, (resp.status_code, error)
        assert resp.status_code != 401
    else:
        assert refused_by_table, (resp.status_code, error)
        assert len(fake.calls) == before, "a refused request reached a service"


def test_without_a_token_every_protected_route_answers_401(
    sweep_app: tuple[Gateway, FakeRpc, dict[str, str]],
) -> None:
    app, fake, _ = sweep_app
    client = Client(app)
    for method, rule, _ in CASES:
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", "x", rule)
        resp = client.open(path, method=method, json={})
        assert resp.status_code == 401, (method, path)


def test_board_secretary_cannot_act_on_a_board_of_another_mrc(
    app: Gateway, fake_rpc: FakeRpc, tokens: dict[str, str]
) -> None:
    app.runtime.store.set_board_mrc("other-board", OTHER_MRC)  # type: ignore[attr-defined]
    app.runtime.store.set_board_mrc("our-board", MRC)  # type: ignore[attr-defined]
    fake_rpc.handlers[("boards", "get_meeting")] = lambda mid: {
        "meeting_id": mid,
        "board_id": "other-board" if mid.startswith("other") else "our-board",
    }
    client = Client(app)
    secretary = auth(tokens["board_secretary"])
    meeting = {
        "meeting_id": "m1",
        "kind": "public",
        "scheduled_at": "2026-12-14T18:30:00-05:00",
        "place": "Salle du conseil",
    }
    resp = client.post("/boards/other-board/meetings", json=meeting, headers=secretary)
    assert resp.status_code == 403
    assert resp.get_json()["error"]["resource_mrc"] == OTHER_MRC
    resp = client.post("/meetings/other-m/open", headers=secretary)
    assert resp.status_code == 403
    assert not [
        c for c in fake_rpc.calls if c[1] in ("schedule_meeting", "open_meeting")
    ]
    assert (
        client.post(
            "/boards/our-board/meetings", json=meeting, headers=secretary
        ).status_code
        == 201
    )
    assert client.post("/meetings/our-m/open", headers=secretary).status_code == 200


def test_board_member_votes_only_in_their_own_name(
    app: Gateway, fake_rpc: FakeRpc
) -> None:
    from tests.gateway.conftest import add_account

    app.runtime.store.set_board_mrc("our-board", MRC)  # type: ignore[attr-defined]
    fake_rpc.handlers[("boards", "get_meeting")] = lambda mid: {
        "meeting_id": mid,
        "board_id": "our-board",
    }
    account = add_account(app, "ada", "board_member")
    app.runtime.store.update_account(account["_id"], {"member_id": "ada"})  # type: ignore[attr-defined]
    token = app.runtime.tokens.issue(app.runtime.store.account(account["_id"]))["token"]  # type: ignore[attr-defined]
    client = Client(app)
    ballot = {"motion_id": "mo-1", "member_id": "grace", "choice": "for"}
    resp = client.post("/meetings/m1/votes", json=ballot, headers=auth(token))
    assert resp.status_code == 403
    ballot["member_id"] = "ada"
    assert (
        client.post("/meetings/m1/votes", json=ballot, headers=auth(token)).status_code
        == 200
    )


def test_confidential_locations_only_for_roles_allowed_by_the_table(
    client: Client, fake_rpc: FakeRpc, tokens: dict[str, str]
) -> None:
    seen = []
    fake_rpc.handlers[("offerings", "get_service")] = lambda sid, audience: (
        seen.append(audience) or {"id": sid}
    )
    client.get("/services/s1")
    for role in ROLES:
        client.get("/services/s1", headers=auth(tokens[role]))
    expected = ["public"] + [
        # staff of their own MRC (the test node declares no MRC of its own)
        f"staff:{MRC}:" if role in ("practitioner", "node_admin") else "public"
        for role in ROLES
    ]
    assert seen == expected


def test_values_are_entered_only_for_the_accounts_mrc_and_signed_by_it(
    app: Gateway, fake_rpc: FakeRpc, tokens: dict[str, str]
) -> None:
    client = Client(app)
    entered: list[dict[str, object]] = []
    fake_rpc.handlers[("indicators", "enter_value")] = lambda p: entered.append(p) or p
    value = {"data_element": "home_interventions", "period": "202603", "value": 3}
    staff = auth(tokens["practitioner"])
    other = {**value, "org_unit": f"csd:{OTHER_MRC}001"}
    assert (
        client.post("/indicators/values", json=other, headers=staff).status_code == 403
    )
    ours = {**value, "org_unit": f"csd:{MRC}023", "by": "someone-else"}
    assert (
        client.post("/indicators/values", json=ours, headers=staff).status_code == 201
    )
    me = app.runtime.store.account_by_username("practitioner")  # type: ignore[attr-defined]
    assert entered == [{**ours, "by": me["_id"]}]
