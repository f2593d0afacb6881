"""Questionnaires and conditions of practice in a real browser on a running node:
a visitor answers on a phone with the keyboard only (and a kiosk offers the
next person a fresh form), a practitioner gives their quarterly report once,
and the board reads the aggregates (and the concerns, without author) beside
the services' indicators only once more practitioners than the threshold
reported. Every page passes axe-core; screenshots in test-output/web/.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy
from playwright.sync_api import expect

from tests.web.conftest import assert_accessible, new_context, screenshot
from tests.web.test_dashboard_downloads import load_geo

pytestmark = [pytest.mark.e2e]

MRC = "2437"
PASSWORD = "un mot de passe assez long"
QUESTIONNAIRE = {
    "id": "accueil",
    "org_unit": f"cd:{MRC}",
    "title": {"fr": "Votre visite au CLSC", "en": "Your visit to the CLSC"},
    "questions": [
        {
            "id": "safer",
            "text": {
                "fr": "Vous sentez-vous plus en sécurité ?",
                "en": "Do you feel safer?",
            },
        },
        {
            "id": "heard",
            "text": {"fr": "Vous a-t-on écouté·e ?", "en": "Were you listened to?"},
        },
    ],
}


def add_accounts(config: dict[str, Any], rows: list[tuple[str, str]]) -> None:
    from gateway.auth import hash_password
    from gateway.store import GatewayStore
    from shared.mongo import make_client

    client = make_client(config["MONGODB_URI"])
    hashed = hash_password(PASSWORD)
    try:
        store = GatewayStore(lambda: client, f"{config['DB_PREFIX']}gateway")
        for username, role in rows:
            store.add_account(
                {
                    "username": username,
                    "password_hash": hashed,
                    "role": role,
                    "mrc": MRC,
                    "display_name": username,
                }
            )
    finally:
        client.close()


def bearer(site: str, username: str) -> str:
    answer = requests.post(
        f"{site}/auth/token",
        json={"username": username, "password": PASSWORD},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


@pytest.fixture(scope="module")
def site(running_node: dict[str, Any]) -> dict[str, Any]:
    config = running_node["config"]
    load_geo(config)
    with ClusterRpcProxy(config, timeout=60) as rpc:
        rpc.indicators.define_questionnaire(QUESTIONNAIRE | {"by": "admin"})
    people = [(f"intervenant-{i}", "practitioner") for i in range(6)]
    add_accounts(config, [*people, ("membre", "board_member")])
    base = str(running_node["base_url"])
    return {"base": base, "tokens": {u: bearer(base, u) for u, _ in people}}


def test_a_visitor_answers_on_a_phone_with_the_keyboard_only(browser, site) -> None:
    context = new_context(browser, site["base"])
    page = context.new_page()
    try:
        page.goto("/questionnaires/accueil")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Votre visite")
        assert_accessible(page)
        screenshot(page, "survey-phone")
        page.locator("#q-safer-1").focus()
        for _ in range(4):  # arrow keys move within the radio group: 1 -> 5
            page.keyboard.press("ArrowRight")
        expect(page.locator("#q-safer-5")).to_be_checked()
        page.keyboard.press("Enter")  # submits the form
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Merci, vos réponses sont comptées."
        )
        assert_accessible(page)
        page.goto("/questionnaires/accueil?borne=1&lang=en")
        page.locator("#q-heard-4").check()
        page.get_by_role("button", name="Send my answers").click()
        expect(page.locator("#again")).to_have_text("Next person")
        page.locator("#again").click()
        expect(page.locator("#q-heard-4")).not_to_be_checked()
        screenshot(page, "survey-kiosk-en")
        # nothing to answer: refused, naming why, in the page's language
        page.get_by_role("button", name="Send my answers").click()
        expect(page.locator("#form-errors")).to_contain_text("at least one question")
    finally:
        context.close()


def test_practitioners_report_once_and_the_board_sees_only_aggregates(
    browser, site
) -> None:
    base = site["base"]
    for i in range(5):
        sent = requests.post(
            f"{base}/indicators/practice/reports",
            json={
                "caseload": 20 + i,
                "admin_share": 40,
                "supervision": "none",
                "concerns": f"Trop de formulaires {i}",
            },
            headers={"Authorization": f"Bearer {site['tokens'][f'intervenant-{i}']}"},
            timeout=10,
        )
        assert sent.status_code == 201, sent.text
    board = new_context(
        browser,
        base,
        extra_http_headers={"Authorization": f"Bearer {bearer(base, 'membre')}"},
    )
    practitioner = new_context(
        browser,
        base,
        extra_http_headers={
            "Authorization": f"Bearer {site['tokens']['intervenant-5']}"
        },
    )
    try:
        view = board.new_page()
        view.goto("/pratique/synthese")
        expect(view.locator("main")).to_contain_text("trop peu de rapports")
        expect(view.locator("main")).not_to_contain_text("Trop de formulaires")
        form = practitioner.new_page()
        form.goto("/pratique")
        assert_accessible(form)
        form.get_by_label("Charge de cas").fill("abc")
        form.get_by_label("Part de votre temps").fill("35")
        form.get_by_label("Occasionnelle").check()
        form.get_by_role("button", name="Remettre mon rapport").click()
        expect(form.locator("#form-errors")).to_contain_text("Charge de cas")
        form.get_by_label("Charge de cas").fill("31")
        form.get_by_label("Occasionnelle").check()
        form.get_by_label("Préoccupations").fill("Pas de supervision depuis mars")
        form.get_by_role("button", name="Remettre mon rapport").click()
        expect(form.locator("#sent")).to_contain_text("Rapport remis")
        assert_accessible(form)
        screenshot(form, "practice-report")
        view.goto("/pratique/synthese")
        main = view.locator("main")
        expect(main).to_contain_text("6 rapports")
        expect(main).to_contain_text("Pas de supervision depuis mars")
        expect(main).to_contain_text("Vous sentez-vous plus en sécurité")
        assert_accessible(view)
        screenshot(view, "practice-board")
    finally:
        board.close()
        practitioner.close()
