# ruff: noqa: F811 (the gateway's fixtures are imported by name)
"""The agreements in force are public; only a board secretary places one
before a board, and only a board of their own MRC."""

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

REFERENCE = {"service": "federation", "kind": "agreement", "id": "vers-region"}


def test_the_agreements_in_force_are_public_json(
    client: Client, fake_rpc: FakeRpc
) -> None:
    fake_rpc.handlers[("federation", "agreements_in_force")] = lambda: [
        {"id": "vers-region", "adopted": {"number": "2026-007"}}
    ]
    resp = client.get("/federation/agreements/in-force")
    assert resp.status_code == 200
    assert resp.get_json()["items"][0]["adopted"]["number"] == "2026-007"


def test_only_a_secretary_of_the_boards_mrc_places_an_agreement_on_its_agenda(
    app: Gateway, client: Client, fake_rpc: FakeRpc, tokens: dict[str, str]
) -> None:
    placed: list[tuple[str, dict[str, Any]]] = []
    meetings = {"m-ours": "board-ours", "m-theirs": "board-theirs"}
    fake_rpc.handlers[("boards", "get_meeting")] = lambda m, *a, **k: {
        "meeting_id": m,
        "board_id": meetings[m],
    }
    fake_rpc.handlers[("boards", "add_agenda_item")] = lambda m, item: (
        placed.append((m, item)) or item
    )
    fake_rpc.handlers[("federation", "agreement_reference")] = lambda a: REFERENCE
    app.runtime.store.set_board_mrc("board-ours", MRC)  # type: ignore[attr-defined]
    app.runtime.store.set_board_mrc("board-theirs", OTHER_MRC)  # type: ignore[attr-defined]
    url = "/federation/agreements/vers-region/proposals"
    for role in ("node_admin", "regional_coordinator", "board_member"):
        resp = client.post(
            url, json={"meeting_id": "m-ours"}, headers=auth(tokens[role])
        )
        assert resp.status_code == 403, role
    secretary = auth(tokens["board_secretary"])
    resp = client.post(url, json={"meeting_id": "m-theirs"}, headers=secretary)
    assert resp.status_code == 403 and placed == []
    resp = client.post(url, json={"meeting_id": "m-ours"}, headers=secretary)
    assert resp.status_code == 201
    assert placed == [
        (
            "m-ours",
            {
                "title": "Entente de partage de données : vers-region",
                "definition": REFERENCE,
            },
        )
    ]
