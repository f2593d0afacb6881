"""The catalogue over HTTP: who may propose or define, the proposal placed on
the agenda of a meeting of the secretary's own MRC only, quality read within
one's MRC (the gateway's real app, services answered by a recording RPC)."""

# ruff: noqa: F811 (the gateway's fixtures are imported by name)
from __future__ import annotations

from typing import Any

from werkzeug.test import Client

from gateway.app import Gateway
from tests.gateway.conftest import (  # noqa: F401 (fixtures)
    MRC,
    OTHER_MRC,
    FakeRpc,
    app,
    auth,
    client,
    fake_rpc,
    tokens,
)

BODY = {"kind": "indicator", "id": "office_share", "content": {"numerator": "1"}}
REFERENCE = {"service": "indicators", "kind": "indicator", "id": "office_share"}


def _proposals(fake_rpc: FakeRpc) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def propose(payload: dict[str, Any]) -> dict[str, Any]:
        seen.append(payload)
        return {
            "id": "office_share",
            "version": 1,
            "name": {"fr": "Part au bureau"},
            "reference": REFERENCE,
        }

    fake_rpc.handlers[("indicators", "propose_definition")] = propose
    return seen


def test_only_a_secretary_proposes_and_only_the_node_administrator_defines(
    client: Client, fake_rpc: FakeRpc, tokens: dict[str, str]
) -> None:
    seen = _proposals(fake_rpc)
    for role in ("citizen", "board_member", "practitioner", "node_admin"):
        resp = client.post(
            "/indicators/definitions/proposals", json=BODY, headers=auth(tokens[role])
        )
        assert resp.status_code == 403, role
    resp = client.post(
        "/indicators/definitions/proposals",
        json=BODY | {"by": "someone-else"},
        headers=auth(tokens["board_secretary"]),
    )
    assert resp.status_code == 201
    assert seen[-1]["by"] != "someone-else"  # signed by the account
    for role in ("board_secretary", "practitioner"):
        resp = client.post(
            "/indicators/definitions", json=BODY, headers=auth(tokens[role])
        )
        assert resp.status_code == 403, role
    resp = client.post(
        "/indicators/definitions", json=BODY, headers=auth(tokens["node_admin"])
    )
    assert resp.status_code == 201


def test_a_proposal_goes_on_the_agenda_of_the_secretarys_own_boards_meeting(
    app: Gateway, client: Client, fake_rpc: FakeRpc, tokens: dict[str, str]
) -> None:
    seen = _proposals(fake_rpc)
    placed: list[tuple[str, dict[str, Any]]] = []
    meetings = {"m-ours": "board-ours", "m-theirs": "board-theirs"}
    fake_rpc.handlers[("boards", "get_meeting")] = lambda m, *a, **k: {
        "meeting_id": m,
        "board_id": meetings[m],
    }
    fake_rpc.handlers[("boards", "add_agenda_item")] = lambda m, item: (
        placed.append((m, item)) or item
    )
    app.runtime.store.set_board_mrc("board-ours", MRC)  # type: ignore[attr-defined]
    app.runtime.store.set_board_mrc("board-theirs", OTHER_MRC)  # type: ignore[attr-defined]
    secretary = auth(tokens["board_secretary"])
    resp = client.post(
        "/indicators/definitions/proposals",
        json=BODY | {"meeting_id": "m-theirs"},
        headers=secretary,
    )
    assert resp.status_code == 403
    assert seen == [] and placed == []  # nothing proposed for another MRC
    resp = client.post(
        "/indicators/definitions/proposals",
        json=BODY | {"meeting_id": "m-ours"},
        headers=secretary,
    )
    assert resp.status_code == 201
    ((meeting, item),) = placed
    assert meeting == "m-ours" and item["definition"] == REFERENCE
    assert "meeting_id" not in seen[-1]


def test_violations_are_read_by_who_enters_values_in_their_own_mrc(
    client: Client, fake_rpc: FakeRpc, tokens: dict[str, str]
) -> None:
    fake_rpc.handlers[("indicators", "validate")] = lambda q: {"results": []}
    ours = f"/indicators/validations?org_unit=cd:{MRC}&period=2026Q1"
    assert client.get(ours).status_code == 401
    assert client.get(ours, headers=auth(tokens["citizen"])).status_code == 403
    staff = auth(tokens["practitioner"])
    assert client.get(ours, headers=staff).status_code == 200
    theirs = ours.replace(MRC, OTHER_MRC)
    assert client.get(theirs, headers=staff).status_code == 403
