"""Signing in from a browser, in process: the full gateway (API and pages) on the
real store, services answered by :class:`tests.web.fake_node.FakeServices`.

The sign-in form, its cookie's flags, CSRF on every cookie-authenticated write,
sign-out's revocation, and refusals as HTML pages for browsers but JSON for API
clients. The same journey in Chromium on a real node: ``test_sign_in_journey``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import Client

import gateway.app
from gateway.app import Gateway
from gateway.auth import SESSION_COOKIE, csrf_token
from tests.gateway.conftest import PASSWORD, SECRET, add_account, make_config
from tests.web.fake_node import FakeServices

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
CSRF_INPUT = re.compile(r'<input type="hidden" name="csrf" value="([^"]+)">')


@pytest.fixture
def app(store_uri: str, db_prefix: str) -> Iterator[Gateway]:
    node = gateway.app.create_app(make_config(store_uri, db_prefix))
    node.rpc = FakeServices()
    yield node
    node.store_client().drop_database(f"{db_prefix}gateway")


@pytest.fixture
def client(app: Gateway) -> Client:
    return Client(app)


def form_token(client: Client, url: str = "/connexion") -> str:
    page = client.get(url, headers=BROWSER)
    assert page.status_code == 200
    found = CSRF_INPUT.search(page.get_data(as_text=True))
    assert found, "the form carries no CSRF field"
    return found.group(1)


def sign_in(client: Client, username: str, suite: str = "/") -> Any:
    return client.post(
        "/connexion",
        data={
            "username": username,
            "password": PASSWORD,
            "csrf": form_token(client),
            "suite": suite,
        },
        headers=BROWSER,
    )


def session_claims(app: Gateway, client: Client) -> dict[str, Any]:
    cookie = client.get_cookie(SESSION_COOKIE)
    assert cookie is not None
    return app.runtime.tokens.read(cookie.value)  # type: ignore[attr-defined]


def test_sign_in_page_is_bilingual_with_labelled_fields(client: Client) -> None:
    fr = client.get("/connexion", headers=BROWSER).get_data(as_text=True)
    assert '<html lang="fr">' in fr
    assert '<label for="s-username">Nom d&#39;utilisateur</label>' in fr
    assert '<label for="s-password">Mot de passe</label>' in fr
    assert 'autocomplete="current-password"' in fr
    en = client.get("/connexion?lang=en", headers=BROWSER).get_data(as_text=True)
    assert '<label for="s-username">User name</label>' in en
    assert "<h1>Sign in</h1>" in en


def test_sign_in_sets_an_httponly_lax_cookie_with_the_apis_token_and_goes_back(
    app: Gateway, client: Client
) -> None:
    add_account(app, "admin", "node_admin")
    resp = sign_in(client, "admin", "/admin")
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/admin"
    cookie = next(
        c for c in resp.headers.getlist("Set-Cookie") if c.startswith(SESSION_COOKIE)
    )
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie
    claims = session_claims(app, client)
    assert claims["role"] == "node_admin" and claims["exp"] > claims["iat"]
    admin = client.get("/admin", headers=BROWSER)
    assert admin.status_code == 200
    assert "Administration du nœud" in admin.get_data(as_text=True)
    assert client.get("/accounts/me").get_json()["username"] == "admin"


def test_cookie_is_secure_when_the_request_is_https(
    app: Gateway, client: Client
) -> None:
    add_account(app, "marie", "citizen")
    page = client.get("/connexion", base_url="https://node.example/", headers=BROWSER)
    found = CSRF_INPUT.search(page.get_data(as_text=True))
    assert found
    token = found.group(1)
    resp = client.post(
        "/connexion",
        base_url="https://node.example/",
        data={"username": "marie", "password": PASSWORD, "csrf": token},
        headers=BROWSER,
    )
    assert resp.status_code == 303
    cookie = next(
        c for c in resp.headers.getlist("Set-Cookie") if c.startswith(SESSION_COOKIE)
    )
    assert "Secure" in cookie


def test_sign_in_form_without_its_own_token_is_refused(
    app: Gateway, client: Client
) -> None:
    add_account(app, "marie", "citizen")
    resp = client.post(
        "/connexion",
        data={"username": "marie", "password": PASSWORD, "csrf": "forged"},
        headers=BROWSER,
    )
    assert resp.status_code == 403
    assert client.get_cookie(SESSION_COOKIE) is None
    assert 'role="alert"' in resp.get_data(as_text=True)


def test_wrong_password_is_announced_on_the_form_in_the_pages_language(
    app: Gateway, client: Client
) -> None:
    add_account(app, "marie", "citizen")
    token = form_token(client, "/connexion?lang=en")
    resp = client.post(
        "/connexion?lang=en",
        data={"username": "marie", "password": "wrong", "csrf": token},
        headers=BROWSER,
    )
    assert resp.status_code == 401
    html = resp.get_data(as_text=True)
    assert '<div class="notice error" role="alert" id="signin-error">' in html
    assert "Wrong user name or password." in html
    assert 'aria-describedby="signin-error"' in html
    assert 'value="marie"' in html
    assert client.get_cookie(SESSION_COOKIE) is None


def test_empty_fields_are_named(client: Client) -> None:
    token = form_token(client)
    resp = client.post("/connexion", data={"csrf": token}, headers=BROWSER)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert '<a href="#s-username">' in html and '<a href="#s-password">' in html


def test_sign_in_page_shares_the_apis_rate_limit(
    store_uri: str, db_prefix: str
) -> None:
    config = make_config(
        store_uri,
        db_prefix,
        MAILLAGE_SIGNIN_BURST="3",
        MAILLAGE_SIGNIN_PER_MINUTE="0.01",  # no refill during the test
    )
    node = gateway.app.create_app(config)
    node.rpc = FakeServices()
    client = Client(node)
    try:
        add_account(node, "marie", "citizen")
        for _ in range(3):
            client.post("/auth/token", json={"username": "marie", "password": "guess"})
        resp = sign_in(client, "marie")
        assert resp.status_code == 429
        assert 'role="alert"' in resp.get_data(as_text=True)
        assert client.get_cookie(SESSION_COOKIE) is None
    finally:
        node.store_client().drop_database(f"{db_prefix}gateway")


def test_an_offsite_redirect_after_sign_in_goes_home_instead(
    app: Gateway, client: Client
) -> None:
    add_account(app, "marie", "citizen")
    assert sign_in(client, "marie", "//evil.example/").headers["Location"] == "/"


def test_forms_of_the_pages_carry_the_sessions_csrf_token(
    app: Gateway, client: Client
) -> None:
    add_account(app, "marie", "citizen")
    sign_in(client, "marie")
    expected = csrf_token(SECRET, session_claims(app, client))
    html = client.get("/participer/p-idees", headers=BROWSER).get_data(as_text=True)
    # the sign-out form, one support button per proposal, the new proposal form
    forms = html.count('<form method="post"')
    assert forms >= 3
    assert CSRF_INPUT.findall(html) == [expected] * forms


def test_cookie_write_without_csrf_is_a_403_page_and_with_it_goes_through(
    app: Gateway, client: Client
) -> None:
    add_account(app, "marie", "citizen")
    sign_in(client, "marie")
    url = "/participer/p-idees/propositions"
    data = {"title": "Frigo communautaire", "description": "Au centre."}
    refused = client.post(url, data=data, headers=BROWSER)
    assert refused.status_code == 403
    assert refused.mimetype == "text/html"
    assert "CSRF" in refused.get_data(as_text=True)
    token = form_token(client, "/participer/p-idees")
    done = client.post(url, data={**data, "csrf": token}, headers=BROWSER)
    assert done.status_code == 303, done.get_data(as_text=True)[:300]
    assert done.headers["Location"].startswith("/participer/p-idees?soumis=1")


def test_sign_out_revokes_the_token_and_forgets_the_cookie(
    app: Gateway, client: Client
) -> None:
    add_account(app, "marie", "citizen")
    sign_in(client, "marie")
    old = client.get_cookie(SESSION_COOKIE).value  # type: ignore[union-attr]
    assert client.post("/deconnexion", headers=BROWSER).status_code == 403
    token = form_token(client, "/connexion")
    out = client.post("/deconnexion", data={"csrf": token}, headers=BROWSER)
    assert out.status_code == 303
    assert client.get_cookie(SESSION_COOKIE) is None
    client.set_cookie(SESSION_COOKIE, old)  # a copy kept elsewhere
    resp = client.get("/accounts/me")
    assert resp.status_code == 401
    assert resp.get_json()["error"]["message"] == "Jeton révoqué : reconnectez-vous."


def test_a_browser_meets_an_html_401_with_a_link_to_sign_in(client: Client) -> None:
    resp = client.get("/admin", headers=BROWSER)
    assert resp.status_code == 401
    assert resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    assert 'role="alert"' in html
    assert "Connectez-vous pour voir cette page." in html
    assert '<a href="/connexion?suite=%2Fadmin">Se connecter pour continuer</a>' in html
    en = client.get("/admin", headers={**BROWSER, "Accept-Language": "en"})
    assert '<html lang="en">' in en.get_data(as_text=True)
    assert "Sign in to continue" in en.get_data(as_text=True)


def test_api_clients_keep_json_refusals(client: Client) -> None:
    for headers in ({}, {"Accept": "*/*"}, {"Accept": "application/json"}):
        resp = client.get("/admin", headers=headers)
        assert resp.status_code == 401
        assert resp.mimetype == "application/json"
        assert resp.get_json()["error"]["code"] == "unauthenticated"
    api = client.get("/accounts/me", headers=BROWSER)  # an API route, even so
    assert api.status_code == 401 and api.mimetype == "application/json"


def test_a_browser_meets_html_403_and_404_pages(app: Gateway, client: Client) -> None:
    add_account(app, "marie", "citizen")
    sign_in(client, "marie")
    forbidden = client.get("/admin", headers=BROWSER)
    assert forbidden.status_code == 403 and forbidden.mimetype == "text/html"
    unknown = client.get("/nulle-part", headers=BROWSER)
    assert unknown.status_code == 404 and unknown.mimetype == "text/html"
    assert "Adresse inconnue." in unknown.get_data(as_text=True)
    api = client.get("/nulle-part")
    assert api.status_code == 404 and api.mimetype == "application/json"
