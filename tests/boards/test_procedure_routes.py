"""The deliberation routes of the gateway: who may make which move, in whose name.

The RPC pool is the gateway tests' :class:`FakeRpc` (a subclass of the real
pool); the boards service behind these routes is tested on the real broker and
store in ``test_service.py``.
"""

# ruff: noqa: F811  (the gateway tests' fixtures are imported, then requested)
from __future__ import annotations

from werkzeug.test import Client

from gateway.app import Gateway
from tests.gateway.conftest import (  # noqa: F401  (fixtures)
    MRC,
    FakeRpc,
    add_account,
    app,
    auth,
    fake_rpc,
)

BASE = "/meetings/m1/items/i1/procedure"


def _signed_in(app: Gateway, username: str, role: str, member_id: str | None) -> str:
    account = add_account(app, username, role)
    if member_id:
        app.runtime.store.update_account(account["_id"], {"member_id": member_id})  # type: ignore[attr-defined]
    return app.runtime.tokens.issue(app.runtime.store.account(account["_id"]))[  # type: ignore[attr-defined]
        "token"
    ]


def _board(app: Gateway, fake_rpc: FakeRpc) -> None:
    app.runtime.store.set_board_mrc("our-board", MRC)  # type: ignore[attr-defined]
    fake_rpc.handlers[("boards", "get_meeting")] = lambda mid, public=False: {
        "meeting_id": mid,
        "board_id": "our-board",
    }


def test_a_seat_holder_moves_amends_and_votes_only_in_their_own_name(
    app: Gateway,
    fake_rpc: FakeRpc,
) -> None:
    _board(app, fake_rpc)
    token = _signed_in(app, "ada", "board_member", "ada")
    client = Client(app)
    moves = [
        ("main-motion", {"member_id": "{}", "text": "Accorder 10 000 $"}),
        (
            "amendments",
            {
                "member_id": "{}",
                "target_id": "q1",
                "change": {"op": "full", "text": "Accorder 12 000 $"},
            },
        ),
        ("votes", {"member_id": "{}", "choice": "for"}),
        ("floor-requests", {"member_id": "{}"}),
        ("appeals", {"member_id": "{}"}),
    ]
    for suffix, body in moves:
        as_grace = {k: ("grace" if v == "{}" else v) for k, v in body.items()}
        resp = client.post(f"{BASE}/{suffix}", json=as_grace, headers=auth(token))
        assert resp.status_code == 403, suffix
        as_ada = {k: ("ada" if v == "{}" else v) for k, v in body.items()}
        resp = client.post(f"{BASE}/{suffix}", json=as_ada, headers=auth(token))
        assert resp.status_code == 200, (suffix, resp.get_json())
    called = [c[1] for c in fake_rpc.calls if c[1] != "get_meeting"]
    assert called == [
        "move_main_motion",
        "move_amendment",
        "cast_procedure_vote",
        "ask_for_floor",
        "appeal_ruling",
    ]


def test_only_the_secretary_records_the_chairs_moves_and_bad_bodies_are_400(
    app: Gateway,
    fake_rpc: FakeRpc,
) -> None:
    _board(app, fake_rpc)
    member = _signed_in(app, "ada", "board_member", "ada")
    secretary = _signed_in(app, "sec", "board_secretary", None)
    client = Client(app)
    count = {"for": 5, "against": 2}
    resp = client.post(f"{BASE}/show-of-hands", json=count, headers=auth(member))
    assert resp.status_code == 403
    resp = client.post(f"{BASE}/show-of-hands", json=count, headers=auth(secretary))
    assert resp.status_code == 200
    resp = client.post(
        f"{BASE}/show-of-hands", json={"for": -1, "against": 2}, headers=auth(secretary)
    )
    assert resp.status_code in (400, 422) and "for" in resp.get_data(as_text=True)
    resp = client.post(
        f"{BASE}/amendments",
        json={"member_id": "ada", "target_id": "q1", "change": {"op": "swap"}},
        headers=auth(member),
    )
    assert resp.status_code in (400, 422) and "change" in resp.get_data(as_text=True)


def test_outside_the_board_the_record_is_read_as_the_public_reads_it(
    app: Gateway,
    fake_rpc: FakeRpc,
) -> None:
    _board(app, fake_rpc)
    seen = []
    fake_rpc.handlers[("boards", "get_procedure")] = lambda m, i, public=False: (
        seen.append(public) or {"item_id": i}
    )
    practitioner = _signed_in(app, "pat", "practitioner", None)
    member = _signed_in(app, "ada", "board_member", "ada")
    client = Client(app)
    assert client.get(BASE, headers=auth(practitioner)).status_code == 200
    assert client.get(BASE, headers=auth(member)).status_code == 200
    assert seen == [True, False]
