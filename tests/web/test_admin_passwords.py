"""Password reset links and one's own password change, through the JSON API
(the pages call the same functions; the browser journey is test_admin_pages.py).

The gateway runs in this process on the real store (``tests/gateway/conftest``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from werkzeug.test import Client

from gateway.app import Gateway
from tests.gateway.conftest import (
    PASSWORD,
    FakeRpc,
    add_account,
    auth,
    create_app,
    make_config,
    sign_in,
)


@pytest.fixture
def app(store_uri: str, db_prefix: str) -> Iterator[Gateway]:
    """The JSON API in this process on the real store (no services needed)."""
    made = create_app(make_config(store_uri, db_prefix))
    made.rpc = FakeRpc()
    yield made
    made.store_client().drop_database(f"{db_prefix}gateway")


@pytest.fixture
def client(app: Gateway) -> Client:
    return Client(app)


NEW = "un tout nouveau mot de passe"


def _admin(app: Gateway, client: Client) -> str:
    add_account(app, "root", "node_admin")
    return sign_in(client, "root")


def _reset(client: Client, admin: str, account_id: str) -> dict[str, Any]:
    resp = client.post(f"/accounts/{account_id}/password-reset", headers=auth(admin))
    assert resp.status_code == 201, resp.get_json()
    return dict(resp.get_json())


def test_a_reset_link_sets_a_new_password_once_and_revokes_sessions(
    app: Gateway, client: Client
) -> None:
    admin = _admin(app, client)
    account = add_account(app, "lea", "practitioner")
    old_session = sign_in(client, "lea")
    link = _reset(client, admin, account["_id"])
    assert "password" not in str(link)

    resp = client.post(
        "/auth/password-reset", json={"token": link["token"], "password": NEW}
    )
    assert resp.status_code == 200, resp.get_json()
    assert sign_in(client, "lea", NEW)
    assert client.get("/accounts/me", headers=auth(old_session)).status_code == 401

    again = client.post(
        "/auth/password-reset", json={"token": link["token"], "password": NEW + "x"}
    )
    assert again.status_code == 401
    assert "déjà utilisé" in again.get_json()["error"]["message"]
    english = client.post(
        "/auth/password-reset",
        json={"token": link["token"], "password": NEW + "x"},
        headers={"Accept-Language": "en"},
    )
    assert "already used" in english.get_json()["error"]["message"]


def test_a_reset_token_is_not_a_session_token_nor_a_session_token_a_reset(
    app: Gateway, client: Client
) -> None:
    admin = _admin(app, client)
    account = add_account(app, "lea", "practitioner")
    link = _reset(client, admin, account["_id"])
    assert client.get("/accounts/me", headers=auth(link["token"])).status_code == 401
    session = sign_in(client, "lea")
    resp = client.post("/auth/password-reset", json={"token": session, "password": NEW})
    assert resp.status_code == 401


def test_a_forged_reset_token_is_refused(app: Gateway, client: Client) -> None:
    account = add_account(app, "lea", "practitioner")
    forged = jwt.encode(
        {"sub": account["_id"], "purpose": "password_reset", "fp": "x", "exp": 2**40},
        "not-the-node-secret",
        algorithm="HS256",
    )
    resp = client.post("/auth/password-reset", json={"token": forged, "password": NEW})
    assert resp.status_code == 401
    assert sign_in(client, "lea")  # unchanged


def test_only_the_node_administrator_issues_reset_links(
    app: Gateway, client: Client
) -> None:
    add_account(app, "lea", "practitioner")
    victim = add_account(app, "sam", "citizen")
    token = sign_in(client, "lea")
    resp = client.post(f"/accounts/{victim['_id']}/password-reset", headers=auth(token))
    assert resp.status_code == 403


def test_the_audit_never_holds_a_reset_token_or_password(
    app: Gateway, client: Client
) -> None:
    admin = _admin(app, client)
    account = add_account(app, "lea", "practitioner")
    link = _reset(client, admin, account["_id"])
    client.post("/auth/password-reset", json={"token": link["token"], "password": NEW})
    rows, _ = app.runtime.store.audit_entries({}, 0, 50)  # type: ignore[attr-defined]
    text = str(rows)
    assert link["token"] not in text and NEW not in text
    assert any(r["action"] == "auth.password_reset" for r in rows)


def test_one_changes_ones_own_password_only_with_the_current_one(
    app: Gateway, client: Client
) -> None:
    add_account(app, "lea", "citizen")
    token = sign_in(client, "lea")
    wrong = client.post(
        "/accounts/me/password",
        json={"current_password": "pas le bon", "password": NEW},
        headers=auth(token),
    )
    assert wrong.status_code == 422
    assert "current_password" in wrong.get_json()["error"]["fields"]
    short = client.post(
        "/accounts/me/password",
        json={"current_password": PASSWORD, "password": "court"},
        headers=auth(token),
    )
    assert short.status_code == 422
    assert "password" in short.get_json()["error"]["fields"]
    ok = client.post(
        "/accounts/me/password",
        json={"current_password": PASSWORD, "password": NEW},
        headers=auth(token),
    )
    assert ok.status_code == 200, ok.get_json()
    assert sign_in(client, "lea", NEW)
