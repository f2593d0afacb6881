"""Sign-in, tokens, expiry, revocation, rate limits, languages and the audit log."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from werkzeug.test import Client

from gateway.app import Gateway
from gateway.auth import DEV_SECRET, Tokens, secret_key
from shared.errors import ConfigError
from tests.gateway.conftest import (
    MRC,
    PASSWORD,
    SECRET,
    add_account,
    auth,
    create_app,
    make_config,
    sign_in,
)


def test_sign_in_returns_a_signed_expiring_token_with_role_and_mrc(
    app: Gateway, client: Client
) -> None:
    add_account(app, "marie", "board_secretary")
    resp = client.post("/auth/token", json={"username": "marie", "password": PASSWORD})
    assert resp.status_code == 200
    body = resp.get_json()
    claims = jwt.decode(body["token"], SECRET, algorithms=["HS256"])
    assert claims["role"] == "board_secretary"
    assert claims["mrc"] == MRC
    assert claims["exp"] - claims["iat"] == 3600
    assert body["account"]["username"] == "marie"
    assert "password_hash" not in body["account"]


def test_password_is_stored_as_an_argon2id_hash(app: Gateway) -> None:
    doc = add_account(app, "marie", "citizen")
    stored = app.runtime.store.account(doc["_id"])  # type: ignore[attr-defined]
    assert stored["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in stored["password_hash"]


def test_wrong_password_and_unknown_user_get_the_same_401(
    app: Gateway, client: Client
) -> None:
    add_account(app, "marie", "citizen")
    wrong = client.post("/auth/token", json={"username": "marie", "password": "x"})
    unknown = client.post("/auth/token", json={"username": "nobody", "password": "x"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()
    assert "mot de passe" in wrong.get_json()["error"]["message"]


def test_disabled_account_cannot_sign_in(app: Gateway, client: Client) -> None:
    add_account(app, "marie", "citizen", active=False)
    resp = client.post("/auth/token", json={"username": "marie", "password": PASSWORD})
    assert resp.status_code == 401


def test_request_without_token_is_401_and_with_garbage_token_is_401(
    client: Client,
) -> None:
    assert client.get("/accounts/me").status_code == 401
    resp = client.get("/accounts/me", headers=auth("not-a-jwt"))
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "unauthenticated"


def test_expired_token_is_refused_with_a_message_saying_so(
    app: Gateway, client: Client
) -> None:
    account = add_account(app, "marie", "citizen")
    old = Tokens(SECRET, ttl=60).issue(account, now=time.time() - 120)["token"]
    resp = client.get("/accounts/me", headers=auth(old, **{"Accept-Language": "en"}))
    assert resp.status_code == 401
    assert resp.get_json()["error"]["message"] == "Token expired: sign in again."


def test_token_signed_with_another_secret_is_refused(
    app: Gateway, client: Client
) -> None:
    account = add_account(app, "marie", "node_admin")
    forged = Tokens("another-secret-" + "x" * 32).issue(account)["token"]
    assert client.get("/accounts/me", headers=auth(forged)).status_code == 401


def test_sign_out_revokes_that_token_only(app: Gateway, client: Client) -> None:
    add_account(app, "marie", "citizen")
    first, second = sign_in(client, "marie"), sign_in(client, "marie")
    assert client.post("/auth/sign-out", headers=auth(first)).status_code == 200
    resp = client.get("/accounts/me", headers=auth(first))
    assert resp.status_code == 401
    assert "révoqué" in resp.get_json()["error"]["message"]
    assert client.get("/accounts/me", headers=auth(second)).status_code == 200


def test_admin_revocation_refuses_every_earlier_token_of_the_account(
    app: Gateway, client: Client, tokens: dict[str, str]
) -> None:
    target = add_account(app, "marie", "citizen")
    token = sign_in(client, "marie")
    resp = client.post(
        f"/accounts/{target['_id']}/revoke", headers=auth(tokens["node_admin"])
    )
    assert resp.status_code == 200
    assert client.get("/accounts/me", headers=auth(token)).status_code == 401
    time.sleep(1.01)  # tokens are stamped to the second
    assert (
        client.get("/accounts/me", headers=auth(sign_in(client, "marie"))).status_code
        == 200
    )


def test_role_change_revokes_tokens_that_carry_the_old_role(
    app: Gateway, client: Client, tokens: dict[str, str]
) -> None:
    target = add_account(app, "marie", "citizen")
    token = sign_in(client, "marie")
    resp = client.patch(
        f"/accounts/{target['_id']}",
        json={"role": "board_member"},
        headers=auth(tokens["node_admin"]),
    )
    assert resp.status_code == 200
    assert resp.get_json()["role"] == "board_member"
    assert client.get("/accounts/me", headers=auth(token)).status_code == 401


def test_node_admin_creates_account_and_duplicate_username_is_409(
    client: Client, tokens: dict[str, str]
) -> None:
    body = {
        "username": "jean",
        "password": "a long enough password",
        "role": "practitioner",
        "mrc": MRC,
    }
    admin = auth(tokens["node_admin"])
    first = client.post("/accounts", json=body, headers=admin)
    assert first.status_code == 201
    assert "password" not in first.get_json()
    again = client.post("/accounts", json=body, headers=admin)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "conflict"
    assert sign_in(client, "jean", "a long enough password")


def test_validation_error_names_each_field_and_reason_in_french_by_default(
    client: Client, tokens: dict[str, str]
) -> None:
    resp = client.post(
        "/accounts",
        json={"username": "Jean Dupont", "password": "short", "role": "king"},
        headers=auth(tokens["node_admin"]),
    )
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"] == "Données invalides."
    assert set(error["fields"]) == {"username", "password", "role", "mrc"}
    assert resp.headers["Content-Language"] == "fr"


def test_english_messages_by_accept_language(client: Client) -> None:
    resp = client.get(
        "/accounts/me", headers={"Accept-Language": "en-CA,en;q=0.9,fr;q=0.5"}
    )
    assert resp.status_code == 401
    assert resp.get_json()["error"]["message"].startswith("Sign in")
    assert resp.headers["Content-Language"] == "en"


def test_unknown_account_is_404_and_unknown_address_is_404(
    client: Client, tokens: dict[str, str]
) -> None:
    resp = client.get("/accounts/nope", headers=auth(tokens["node_admin"]))
    assert resp.status_code == 404
    assert resp.get_json()["error"]["code"] == "not_found"
    assert client.get("/no/such/address").status_code == 404


def test_sign_in_is_rate_limited_per_user_name_with_retry_after(
    app: Gateway, client: Client
) -> None:
    add_account(app, "marie", "citizen")
    statuses = [
        client.post(
            "/auth/token", json={"username": "marie", "password": "guess"}
        ).status_code
        for _ in range(12)
    ]
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
    resp = client.post("/auth/token", json={"username": "marie", "password": PASSWORD})
    assert resp.status_code == 429
    assert int(resp.headers["Retry-After"]) >= 1


def test_writes_are_rate_limited_per_account(store_uri: str, db_prefix: str) -> None:
    app = create_app(
        make_config(
            store_uri,
            db_prefix,
            MAILLAGE_WRITE_BURST="3",
            MAILLAGE_WRITE_PER_SECOND="0.01",
        )
    )
    client = Client(app)
    store = app.runtime.store  # type: ignore[attr-defined]
    issue = app.runtime.tokens.issue  # type: ignore[attr-defined]
    target = add_account(app, "marie", "citizen")
    admin = issue(add_account(app, "admin", "node_admin"))["token"]
    other_admin = issue(add_account(app, "admin2", "node_admin"))["token"]
    url = f"/accounts/{target['_id']}/revoke"
    codes = [client.post(url, headers=auth(admin)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert client.post(url, headers=auth(other_admin)).status_code == 200
    assert store.account(target["_id"])["active"] is True


def test_every_write_is_in_the_audit_log_without_secrets_readable_by_admin_only(
    app: Gateway, client: Client, tokens: dict[str, str]
) -> None:
    admin = auth(tokens["node_admin"])
    created = client.post(
        "/accounts",
        json={
            "username": "jean",
            "password": "a long enough password",
            "role": "citizen",
            "mrc": MRC,
        },
        headers=admin,
    ).get_json()
    client.patch(
        f"/accounts/{created['id']}", json={"display_name": "Jean D."}, headers=admin
    )
    assert client.get("/audit", headers=auth(tokens["citizen"])).status_code == 403
    resp = client.get("/audit?limit=10", headers=admin)
    assert resp.status_code == 200
    entries = resp.get_json()["items"]
    patch, create = entries[0], entries[1]
    assert patch["method"] == "PATCH"
    assert patch["before"]["display_name"] == ""
    assert patch["after"]["display_name"] == "Jean D."
    assert patch["actor"]["role"] == "node_admin"
    assert patch["outcome"] == "ok"
    assert create["request"]["password"] == "***"
    assert "a long enough password" not in resp.get_data(as_text=True)


def test_failed_sign_in_is_audited_with_its_outcome(
    app: Gateway, client: Client, tokens: dict[str, str]
) -> None:
    client.post("/auth/token", json={"username": "nobody", "password": "guess"})
    entries = client.get("/audit", headers=auth(tokens["node_admin"])).get_json()
    [entry] = [e for e in entries["items"] if e["path"] == "/auth/token"]
    assert entry["outcome"] == "unauthenticated"
    assert entry["status"] == 401
    assert entry["request"] == {"username": "nobody", "password": "***"}


def test_start_up_stops_without_a_secret_unless_dev() -> None:
    with pytest.raises(ConfigError) as exc:
        secret_key({}, env={})
    assert "MAILLAGE_SECRET_KEY" in exc.value.message_en
    with pytest.raises(ConfigError):
        secret_key({}, env={"MAILLAGE_SECRET_KEY": "short"})
    assert secret_key({}, env={"MAILLAGE_ENV": "dev"}) == DEV_SECRET


def test_responses_carry_security_headers_and_a_correlation_id(
    client: Client,
) -> None:
    resp = client.get("/accounts/me", headers={"X-Correlation-Id": "abc-123"})
    assert resp.headers["X-Correlation-Id"] == "abc-123"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"


def test_reads_carry_an_etag_and_if_none_match_gives_304(
    client: Client, tokens: dict[str, str]
) -> None:
    headers = auth(tokens["citizen"])
    first = client.get("/accounts/me", headers=headers)
    tag = first.headers["ETag"]
    again = client.get("/accounts/me", headers={**headers, "If-None-Match": tag})
    assert again.status_code == 304
    assert again.get_data() == b""


def test_nul_character_in_a_body_is_refused_by_name_not_with_a_server_error(
    client: Client, tokens: dict[str, str]
) -> None:
    resp = client.post(
        "/accounts",
        data=b'{"username\\u0000": "x"}',
        content_type="application/json",
        headers=auth(tokens["node_admin"]),
    )
    assert resp.status_code == 422
    assert "_body" in resp.get_json()["error"]["fields"]


def test_body_over_one_mebibyte_is_413(client: Client, tokens: dict[str, str]) -> None:
    resp = client.post(
        "/accounts",
        data=b'{"username": "' + b"x" * (1024 * 1024) + b'"}',
        content_type="application/json",
        headers=auth(tokens["node_admin"]),
    )
    assert resp.status_code == 413


@pytest.mark.integration
def test_gateway_store_down_gives_503_json_then_recovers_without_restart(
    tmp_path: Any, db_prefix: str
) -> None:
    from shared.localstore import LocalStore

    store = LocalStore(tmp_path / "store").start()
    try:
        app = create_app(make_config(store.uri, db_prefix))
        client = Client(app)
        add_account(app, "marie", "citizen")
        body = {"username": "marie", "password": PASSWORD}
        assert client.post("/auth/token", json=body).status_code == 200
        store.kill()
        down = client.post("/auth/token", json=body, headers={"Accept-Language": "en"})
        assert down.status_code == 503
        assert down.get_json()["error"] == {
            "code": "unavailable",
            "message": "Data store unavailable.",
        }
        store = LocalStore(tmp_path / "store", port=store.port).start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            again = client.post("/auth/token", json=body)
            if again.status_code != 503:
                break
            time.sleep(0.5)
        assert again.status_code == 200
    finally:
        store.stop()


def test_field_reasons_are_french_by_default_and_english_on_request(
    client: Client, tokens: dict[str, str]
) -> None:
    body = {"username": "jean", "role": "king", "mrc": "2466"}
    fr = client.post("/accounts", json=body, headers=auth(tokens["node_admin"]))
    en = client.post(
        "/accounts",
        json=body,
        headers=auth(tokens["node_admin"], **{"Accept-Language": "en"}),
    )
    assert fr.get_json()["error"]["fields"]["password"] == ["Champ requis."]
    assert fr.get_json()["error"]["fields"]["role"][0].startswith("Doit être parmi")
    assert en.get_json()["error"]["fields"]["password"] == [
        "Missing data for required field."
    ]


def test_docs_page_lists_each_operation_with_the_roles_the_table_allows(
    client: Client,
) -> None:
    resp = client.get("/docs")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    row = page.split("<code>/accounts/{account_id}/revoke</code>")[1].split("</tr>")[0]
    assert "node_admin" in row and "citizen" not in row
    assert "<code>/auth/token</code>" in page
    assert "<script" not in page


def test_deny_list_forgets_marks_of_tokens_that_expired_anyway(
    app: Gateway,
) -> None:
    store = app.runtime.store  # type: ignore[attr-defined]
    store.revoke_token("old", int(time.time()) - 10)
    store.revoke_token("fresh", int(time.time()) + 3600)
    assert {d["_id"] for d in store.db.revoked.find()} == {"fresh"}
