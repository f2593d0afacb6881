"""The session cookie on the JSON API: the same token as the bearer header, the
same revocation, and writes that need the session's CSRF token."""

from __future__ import annotations

from werkzeug.test import Client

from gateway.app import Gateway
from gateway.auth import CSRF_HEADER, SESSION_COOKIE, csrf_token
from tests.gateway.conftest import SECRET, add_account, auth


def _session(app: Gateway, client: Client, username: str = "marie") -> dict:
    account = add_account(app, username, "citizen")
    issued = app.runtime.tokens.issue(account)  # type: ignore[attr-defined]
    client.set_cookie(SESSION_COOKIE, issued["token"])
    return app.runtime.tokens.read(issued["token"])  # type: ignore[attr-defined]


def test_session_cookie_authenticates_like_the_bearer_header(
    app: Gateway, client: Client
) -> None:
    _session(app, client)
    resp = client.get("/accounts/me")
    assert resp.status_code == 200
    assert resp.get_json()["username"] == "marie"


def test_cookie_write_without_csrf_token_is_403_and_nothing_is_done(
    app: Gateway, client: Client
) -> None:
    _session(app, client)
    resp = client.post("/auth/sign-out")
    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "forbidden"
    assert "CSRF" in resp.get_json()["error"]["message"]
    wrong = client.post("/auth/sign-out", headers={CSRF_HEADER: "0" * 64})
    assert wrong.status_code == 403
    assert client.get("/accounts/me").status_code == 200  # still signed in


def test_cookie_write_with_the_sessions_csrf_token_passes(
    app: Gateway, client: Client
) -> None:
    claims = _session(app, client)
    resp = client.post(
        "/auth/sign-out", headers={CSRF_HEADER: csrf_token(SECRET, claims)}
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"revoked": True}


def test_csrf_token_of_another_session_is_refused(app: Gateway, client: Client) -> None:
    other = _session(app, Client(app), "paul")
    _session(app, client)
    resp = client.post(
        "/auth/sign-out", headers={CSRF_HEADER: csrf_token(SECRET, other)}
    )
    assert resp.status_code == 403


def test_revoked_tokens_cookie_is_refused(app: Gateway, client: Client) -> None:
    claims = _session(app, client)
    client.post("/auth/sign-out", headers={CSRF_HEADER: csrf_token(SECRET, claims)})
    resp = client.get("/accounts/me")
    assert resp.status_code == 401
    assert resp.get_json()["error"]["message"] == "Jeton révoqué : reconnectez-vous."


def test_bearer_writes_need_no_csrf_token_and_the_header_wins_over_a_cookie(
    app: Gateway, client: Client
) -> None:
    _session(app, client, "marie")
    paul = add_account(app, "paul", "node_admin")
    token = app.runtime.tokens.issue(paul)["token"]  # type: ignore[attr-defined]
    assert client.get("/accounts/me", headers=auth(token)).get_json()["username"] == (
        "paul"
    )
    assert client.post("/auth/sign-out", headers=auth(token)).status_code == 200
