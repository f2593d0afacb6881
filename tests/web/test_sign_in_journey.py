"""Signing in from a browser on a real node: headless Chromium, the gateway under
gunicorn, the services as their own processes (see ``tests/web/conftest.py``).

A person meets the 401 page, follows its link, signs in with the form (no
JavaScript needed), reaches the page, signs out; the old cookie is then refused.
Every page visited passes axe-core.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy
from playwright.sync_api import expect

from gateway.auth import SESSION_COOKIE
from tests.web.conftest import assert_accessible, new_context, screenshot

pytestmark = [pytest.mark.e2e]

PASSWORD = "un mot de passe assez long"


@pytest.fixture(scope="module")
def accounts(running_node: dict[str, Any]) -> dict[str, str]:
    """A node administrator and a citizen, made as ``create-account`` does."""
    from gateway.auth import hash_password
    from gateway.store import GatewayStore
    from shared.mongo import make_client

    config = running_node["config"]
    client = make_client(config["MONGODB_URI"])
    made = {}
    try:
        store = GatewayStore(lambda: client, f"{config['DB_PREFIX']}gateway")
        for username, role in (("camille", "node_admin"), ("sacha", "citizen")):
            account = store.add_account(
                {
                    "username": username,
                    "password_hash": hash_password(PASSWORD),
                    "role": role,
                    "mrc": "2456",
                    "display_name": username.title(),
                }
            )
            made[username] = str(account["_id"])
    finally:
        client.close()
    return made


@pytest.fixture(scope="module")
def site(running_node: dict[str, Any], accounts: dict[str, str]) -> str:
    return str(running_node["base_url"])


@pytest.fixture(scope="module")
def process_id(running_node: dict[str, Any], accounts: dict[str, str]) -> str:
    """A process of the MRC taking proposals, the citizen on its registry."""
    start = datetime.now(UTC)
    edges = [start + timedelta(hours=h) for h in (-1, 6, 12, 18, 720)]
    names = ["proposals", "deliberation", "voting", "results"]
    phases = {
        n: [edges[i].isoformat(), edges[i + 1].isoformat()] for i, n in enumerate(names)
    }
    with ClusterRpcProxy(running_node["config"], timeout=30) as rpc:
        pid = str(
            rpc.participation.create_process(
                {
                    "mrc_code": "2456",
                    "title": "Idées du quartier",
                    "method": "irv",
                    "support_threshold": 2,
                    "phases": phases,
                }
            )["id"]
        )
        rpc.participation.load_registry(
            pid, f"person,municipality_code\n{accounts['sacha']},2456083\n"
        )
    return pid


@pytest.fixture
def tab(browser: Any, site: str) -> Iterator[Any]:
    context = new_context(browser, site)
    yield context.new_page()
    context.close()


def test_a_person_signs_in_through_the_page_and_out_again(
    browser: Any, site: str
) -> None:
    context = new_context(browser, site)
    try:
        tab = context.new_page()
        answer = tab.goto("/admin")
        assert answer is not None and answer.status == 401
        expect(tab.get_by_role("alert")).to_contain_text(
            "Connectez-vous pour voir cette page."
        )
        assert_accessible(tab)
        tab.get_by_role("link", name="Se connecter pour continuer").click()
        expect(tab.locator("h1")).to_have_text("Connexion")
        assert_accessible(tab)

        tab.get_by_label("Nom d'utilisateur").fill("camille")
        tab.get_by_label("Mot de passe").fill("pas le bon")
        tab.get_by_role("button", name="Se connecter").click()
        expect(tab.get_by_role("alert")).to_contain_text(
            "Nom d'utilisateur ou mot de passe incorrect."
        )
        assert_accessible(tab)
        screenshot(tab, "sign-in-error")

        tab.get_by_label("Mot de passe").fill(PASSWORD)
        tab.get_by_role("button", name="Se connecter").click()
        expect(tab.locator("h1")).to_have_text("Administration du nœud")
        assert tab.url.endswith("/admin")
        cookie = next(c for c in context.cookies() if c["name"] == SESSION_COOKIE)
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        assert not cookie["secure"]  # plain HTTP here; Secure over HTTPS
        assert_accessible(tab)
        screenshot(tab, "signed-in-admin")

        # The same token the API issues: it reads the account like a bearer.
        me = requests.get(
            f"{site}/accounts/me",
            headers={"Authorization": f"Bearer {cookie['value']}"},
            timeout=10,
        )
        assert me.json()["username"] == "camille"
        # A write with the cookie but without the form's CSRF token: refused.
        forged = requests.post(
            f"{site}/deconnexion",
            cookies={SESSION_COOKIE: cookie["value"]},
            headers={"Accept": "text/html"},
            allow_redirects=False,
            timeout=10,
        )
        assert forged.status_code == 403
        assert "CSRF" in forged.text

        tab.get_by_role("button", name="Se déconnecter").click()
        expect(tab.get_by_role("link", name="Se connecter")).to_be_visible()
        assert all(c["name"] != SESSION_COOKIE for c in context.cookies())
        refused = requests.get(
            f"{site}/admin",
            cookies={SESSION_COOKIE: cookie["value"]},
            headers={"Accept": "application/json"},
            timeout=10,
        )
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "unauthenticated"
    finally:
        context.close()


def test_signing_in_works_without_javascript_in_english(
    browser: Any, site: str
) -> None:
    context = new_context(browser, site, java_script_enabled=False)
    try:
        tab = context.new_page()
        tab.goto("/admin?lang=en")
        expect(tab.locator("html")).to_have_attribute("lang", "en")
        tab.get_by_role("link", name="Sign in to continue").click()
        expect(tab.locator("h1")).to_have_text("Sign in")
        tab.get_by_label("User name").fill("camille")
        tab.get_by_label("Password").fill(PASSWORD)
        tab.get_by_role("button", name="Sign in").click()
        expect(tab.locator("h1")).to_have_text("Node administration")
        screenshot(tab, "signed-in-admin-en-no-js")
    finally:
        context.close()


def test_a_citizen_signed_in_by_the_page_proposes_and_supports_with_the_cookie(
    tab: Any, site: str, process_id: str
) -> None:
    tab.goto(f"/participer/{process_id}")
    tab.get_by_role("link", name="Se connecter").click()
    tab.get_by_label("Nom d'utilisateur").fill("sacha")
    tab.get_by_label("Mot de passe").fill(PASSWORD)
    tab.get_by_role("button", name="Se connecter").click()
    expect(tab.locator("h1")).to_have_text("Idées du quartier")  # back on the page
    tab.get_by_label("Titre").fill("Frigo communautaire")
    tab.get_by_label("Description").fill("Un frigo partagé au centre.")
    tab.get_by_role("button", name="Déposer").click()
    expect(tab.get_by_role("status")).to_have_text("Votre proposition est déposée.")
    card = tab.locator("article", has_text="Frigo communautaire")
    card.get_by_role("button", name="Appuyer").click()
    expect(tab.get_by_role("status")).to_have_text("Votre appui est enregistré.")
    expect(tab.locator("article", has_text="Frigo communautaire")).to_contain_text(
        "1 appui(s)"
    )
    assert_accessible(tab)
    # The same form posted by another site's page (no CSRF token): refused.
    cookie = next(c for c in tab.context.cookies() if c["name"] == SESSION_COOKIE)
    forged = requests.post(
        f"{site}/participer/{process_id}/propositions",
        data={"title": "Piège", "description": "Posté d'ailleurs."},
        cookies={SESSION_COOKIE: cookie["value"]},
        headers={"Accept": "text/html"},
        allow_redirects=False,
        timeout=10,
    )
    assert forged.status_code == 403
    tab.reload()
    expect(tab.locator("article", has_text="Piège")).to_have_count(0)
