"""The agenda routes of the gateway: only the board's own secretary builds the
agenda and takes its items; bodies are checked before any call.

The RPC pool is the gateway tests' :class:`FakeRpc` (a subclass of the real
pool); the service behind these routes is tested in ``test_agenda.py``.
"""

# ruff: noqa: F811  (the gateway tests' fixtures are imported, then requested)
from __future__ import annotations

import base64

from werkzeug.test import Client

from gateway.app import Gateway
from gateway.routes.boards import DOCUMENT_BODY
from tests.boards.test_procedure_routes import _board, _signed_in
from tests.gateway.conftest import (  # noqa: F401  (fixtures)
    OTHER_MRC,
    FakeRpc,
    add_account,
    app,
    auth,
    fake_rpc,
)

WRITES = [
    ("/meetings/m1/items/i1/accept", None, "accept_agenda_item"),
    ("/meetings/m1/items/i1/refuse", {"reason": "Déjà traité."}, "refuse_agenda_item"),
    ("/meetings/m1/agenda/order", {"order": ["i2", "i1"]}, "reorder_agenda"),
    ("/meetings/m1/items/i1/open", None, "open_item"),
    ("/meetings/m1/items/i1/close", None, "close_item"),
]


def _answer(fake_rpc: FakeRpc) -> None:
    for _, _, method in WRITES:
        fake_rpc.handlers[("boards", method)] = lambda *args: {"called": list(args)}


def test_the_boards_secretary_builds_the_agenda_and_takes_its_items(
    app: Gateway, fake_rpc: FakeRpc
) -> None:
    _board(app, fake_rpc)
    _answer(fake_rpc)
    secretary = _signed_in(app, "sec", "board_secretary", None)
    client = Client(app)
    for url, body, _ in WRITES:
        resp = client.post(url, json=body or {}, headers=auth(secretary))
        assert resp.status_code == 200, (url, resp.get_json())
    called = [(c[1], *c[2]) for c in fake_rpc.calls if c[1] != "get_meeting"]
    assert called == [
        ("accept_agenda_item", "m1", "i1"),
        ("refuse_agenda_item", "m1", "i1", "Déjà traité."),
        ("reorder_agenda", "m1", ["i2", "i1"]),
        ("open_item", "m1", "i1"),
        ("close_item", "m1", "i1"),
    ]


def test_a_member_or_another_mrcs_secretary_may_not_build_the_agenda(
    app: Gateway, fake_rpc: FakeRpc
) -> None:
    _board(app, fake_rpc)
    _answer(fake_rpc)
    member = _signed_in(app, "ada", "board_member", "ada")
    account = add_account(app, "other", "board_secretary", mrc=OTHER_MRC)
    rt = app.runtime  # type: ignore[attr-defined]
    other = rt.tokens.issue(rt.store.account(account["_id"]))["token"]
    client = Client(app)
    for url, body, _ in WRITES:
        for token in (member, other):
            resp = client.post(url, json=body or {}, headers=auth(token))
            assert resp.status_code == 403, url
    assert not [c for c in fake_rpc.calls if c[1] != "get_meeting"]


def test_a_refusal_without_reason_or_an_empty_order_is_refused_naming_the_field(
    app: Gateway, fake_rpc: FakeRpc
) -> None:
    _board(app, fake_rpc)
    _answer(fake_rpc)
    secretary = _signed_in(app, "sec", "board_secretary", None)
    client = Client(app)
    for url, body, field in (
        ("/meetings/m1/items/i1/refuse", {"reason": ""}, "reason"),
        ("/meetings/m1/items/i1/refuse", {}, "reason"),
        ("/meetings/m1/agenda/order", {"order": []}, "order"),
        ("/meetings/m1/agenda/order", {"order": "i1,i2"}, "order"),
    ):
        resp = client.post(url, json=body, headers=auth(secretary))
        assert resp.status_code == 422, (url, body)
        assert field in resp.get_data(as_text=True)
    assert not [c for c in fake_rpc.calls if c[1] != "get_meeting"]


# --- documents ---------------------------------------------------------------------


def test_an_attached_document_is_audited_without_its_bytes_and_big_files_get_in(
    app: Gateway, fake_rpc: FakeRpc
) -> None:
    _board(app, fake_rpc)
    got: list[dict] = []
    fake_rpc.handlers[("boards", "attach_document")] = lambda m, body: (
        got.append(body) or {"document_id": "doc-1", "filename": body["filename"]}
    )
    secretary = _signed_in(app, "sec", "board_secretary", None)
    client = Client(app)
    data = base64.b64encode(b"%PDF-" + b"0" * 2_000_000).decode()  # above 1 MiB
    body = {"filename": "budget.pdf", "data": data, "item_id": "i1"}
    resp = client.post("/meetings/m1/documents", json=body, headers=auth(secretary))
    assert resp.status_code == 201, resp.get_data(as_text=True)[:300]
    assert got == [body]
    rows = app.runtime.store.audit_entries(  # type: ignore[attr-defined]
        {"path": "/meetings/m1/documents"}, 0, 10
    )[0]
    assert rows[0]["request"] == {
        "filename": "budget.pdf",
        "item_id": "i1",
        "data_length": len(data),
    }
    assert data not in str(rows)
    huge = {"filename": "x.pdf", "data": "A" * (DOCUMENT_BODY + 10)}
    resp = client.post("/meetings/m1/documents", json=huge, headers=auth(secretary))
    assert resp.status_code == 413
    other = client.post(
        "/meetings/m1/agenda/order",
        data=b'{"order": ["' + b"a" * 1_100_000 + b'"]}',
        headers={**auth(secretary), "Content-Type": "application/json"},
    )
    assert other.status_code == 413  # other routes keep the 1 MiB limit


def test_a_document_is_downloaded_as_its_checked_type_for_its_audience_only(
    app: Gateway, fake_rpc: FakeRpc
) -> None:
    _board(app, fake_rpc)
    asked: list[bool] = []
    fake_rpc.handlers[("boards", "get_document")] = lambda m, d, public=False: (
        asked.append(public)
        or {
            "filename": "Ordre du jour é.pdf",
            "content_type": "application/pdf",
            "data": base64.b64encode(b"%PDF-1.4").decode(),
        }
    )
    member = _signed_in(app, "ada", "board_member", "ada")
    account = add_account(app, "far", "board_member", mrc=OTHER_MRC)
    rt = app.runtime  # type: ignore[attr-defined]
    far = rt.tokens.issue(rt.store.account(account["_id"]))["token"]
    client = Client(app)
    resp = client.get("/meetings/m1/documents/doc-1", headers=auth(member))
    assert resp.status_code == 200 and resp.data == b"%PDF-1.4"
    assert resp.headers["Content-Type"] == "application/pdf"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert "Ordre%20du%20jour%20%C3%A9.pdf" in resp.headers["Content-Disposition"]
    client.get("/meetings/m1/documents/doc-1", headers=auth(far))
    assert asked == [False, True]  # another MRC's insider reads as the public
