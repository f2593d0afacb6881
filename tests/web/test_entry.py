"""Value entry in a real browser on a running node: a practitioner enters a
municipality's values for a period picked by name, a refused value says why
(the field named, in the person's language), an unusual value is saved only
once confirmed, an approved period is locked (read-only, and a value sent
anyway is refused by the service), and unapproval needs a reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from playwright.sync_api import expect

from gateway.web.entry import period_label
from tests.web.conftest import assert_accessible, new_context, screenshot
from tests.web.test_dashboard_downloads import load_geo

pytestmark = [pytest.mark.e2e]

PASSWORD = "un mot de passe assez long"
MRC = "2437"  # Francheville
TOWN = "csd:2437067"  # Trois-Rivières


def last_month() -> str:
    today = date.today()
    year, month = divmod(today.year * 12 + today.month - 2, 12)
    return f"{year}{month + 1:02d}"


def months_before(period: str, n: int) -> str:
    ordinal = int(period[:4]) * 12 + int(period[4:]) - 1 - n
    year, month = divmod(ordinal, 12)
    return f"{year}{month + 1:02d}"


@pytest.fixture(scope="module")
def site(running_node: dict[str, Any]) -> str:
    from gateway.auth import hash_password
    from gateway.store import GatewayStore
    from shared.mongo import make_client

    config = running_node["config"]
    load_geo(config)
    client = make_client(config["MONGODB_URI"])
    try:
        store = GatewayStore(lambda: client, f"{config['DB_PREFIX']}gateway")
        for username, role in (
            ("lea", "practitioner"),
            ("camille", "node_admin"),
            ("coord", "regional_coordinator"),
        ):
            store.add_account(
                {
                    "username": username,
                    "password_hash": hash_password(PASSWORD),
                    "role": role,
                    "mrc": MRC,
                    "display_name": username.title(),
                }
            )
    finally:
        client.close()
    # a year of steady office interventions in Trois-Rivières: 4000 next is odd
    with ClusterRpcProxy(config, timeout=60) as rpc:
        for back, value in enumerate((40, 42, 38, 41, 39, 40, 43, 37, 41, 40), 2):
            rpc.indicators.enter_value(
                {
                    "data_element": "office_interventions",
                    "org_unit": TOWN,
                    "period": months_before(last_month(), back - 1),
                    "value": value,
                }
            )
    return str(running_node["base_url"])


@pytest.fixture
def tab(browser: Any, site: str) -> Iterator[Any]:
    context = new_context(browser, site)
    yield context.new_page()
    context.close()


def sign_in(tab: Any, username: str) -> None:
    tab.goto("/connexion")
    tab.get_by_label("Nom d'utilisateur").fill(username)
    tab.get_by_label("Mot de passe").fill(PASSWORD)
    tab.get_by_role("button", name="Se connecter").click()
    expect(tab.get_by_role("button", name="Se déconnecter")).to_be_visible()


def open_form(tab: Any, town: str, period: str, lang: str = "fr") -> None:
    tab.goto("/indicateurs/saisie" + ("?lang=en" if lang == "en" else ""))
    unit = "Municipality or MRC" if lang == "en" else "Municipalité ou MRC"
    tab.get_by_label(unit).select_option(label=town)
    tab.get_by_label("Period" if lang == "en" else "Période").select_option(
        label=period_label(period, lang)
    )
    button = "Open the form" if lang == "en" else "Ouvrir le formulaire"
    tab.get_by_role("button", name=button).focus()
    tab.keyboard.press("Enter")  # from the keyboard
    expect(tab.locator("#values-h, #state-h").first).to_be_visible()


def both_widths(tab: Any, name: str) -> None:
    screenshot(tab, f"{name}-phone")
    tab.set_viewport_size({"width": 1280, "height": 900})
    screenshot(tab, f"{name}-laptop")
    tab.set_viewport_size({"width": 390, "height": 844})


def test_a_practitioner_enters_values_and_a_refused_value_says_why(tab: Any) -> None:
    period = last_month()
    sign_in(tab, "lea")
    open_form(tab, "Trois-Rivières", period)
    expect(tab.locator("#lock-state")).to_contain_text("Ouverte")
    assert "csd:" not in tab.locator("main").inner_text()  # names, never codes
    tab.get_by_label("Interventions à domicile").fill("41")
    tab.get_by_label("Actions de défense des droits").fill("douze")
    tab.get_by_role("button", name="Enregistrer les valeurs").click()
    alert = tab.get_by_role("alert")
    expect(alert).to_contain_text("Actions de défense des droits")
    expect(tab.get_by_role("status")).to_contain_text("1 valeur(s) enregistrée(s)")
    field = tab.get_by_label("Actions de défense des droits")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_value("douze")  # kept for correction
    assert "advocacy_actions" not in tab.locator("main").inner_text()
    assert_accessible(tab)
    both_widths(tab, "entry-refused")
    field.fill("12")
    tab.get_by_role("button", name="Enregistrer les valeurs").click()
    expect(tab.get_by_role("status")).to_contain_text("1 valeur(s) enregistrée(s)")
    expect(tab.get_by_label("Interventions à domicile")).to_have_value("41")
    expect(tab.get_by_label("Actions de défense des droits")).to_have_value("12")

    # an unusual value warns before it is saved, and is saved once confirmed
    tab.get_by_label("Interventions au bureau").fill("4000")
    tab.get_by_role("button", name="Enregistrer les valeurs").click()
    expect(tab.get_by_role("alert")).to_contain_text("Interventions au bureau")
    confirm = tab.get_by_label("Je confirme cette valeur malgré les avertissements")
    expect(confirm).to_be_visible()
    assert_accessible(tab)
    screenshot(tab, "entry-warning-phone")
    confirm.check()
    tab.get_by_role("button", name="Enregistrer les valeurs").click()
    expect(tab.get_by_role("status")).to_contain_text("1 valeur(s) enregistrée(s)")
    expect(tab.get_by_label("Interventions au bureau")).to_have_value("4000")

    # in English, the refusal is in English
    open_form(tab, "Trois-Rivières", period, "en")
    tab.get_by_label("Advocacy actions").fill("-")
    tab.get_by_role("button", name="Save the values").click()
    expect(tab.get_by_role("alert")).to_contain_text("Advocacy actions")
    assert "Some values were not saved" in tab.get_by_role("alert").inner_text()


def test_a_locked_period_cannot_be_edited_and_unapproval_needs_a_reason(
    browser: Any, site: str, tab: Any
) -> None:
    period = months_before(last_month(), 1)
    sign_in(tab, "lea")
    open_form(tab, "Trois-Rivières", period)
    token = tab.locator("input[name=csrf]").first.get_attribute("value")
    assert tab.get_by_role("button", name="Approuver", exact=False).count() == 0

    coordinator = new_context(browser, site).new_page()
    sign_in(coordinator, "coord")
    coordinator.goto(f"/indicateurs/approbation?unite=cd:{MRC}&periode={period}")
    assert "Interventions" not in coordinator.locator("main").inner_text()
    coordinator.get_by_role("button", name="Approuver").click()
    expect(coordinator.get_by_role("status")).to_contain_text("Période approuvée")
    expect(coordinator.locator("#lock-state")).to_contain_text("Approuvée")
    assert_accessible(coordinator)
    screenshot(coordinator, "entry-approval-phone")

    open_form(tab, "Trois-Rivières", period)
    expect(tab.locator("#lock-state")).to_contain_text("verrouillées")
    field = tab.get_by_label("Interventions à domicile")
    expect(field).to_have_attribute("readonly", "")
    assert tab.get_by_role("button", name="Enregistrer les valeurs").count() == 0
    assert_accessible(tab)
    both_widths(tab, "entry-locked")
    # sent anyway (the page offers no button): the service refuses, and says why
    answer = tab.request.post(
        "/indicateurs/saisie",
        form={
            "csrf": token,
            "unite": TOWN,
            "periode": period,
            "v-home_interventions": "9",
        },
        headers={"Accept": "text/html"},
    )
    assert answer.status == 422
    assert "Période approuvée" in answer.text()

    # unapproval: refused without a reason, then done with one
    coordinator.get_by_role("button", name="Désapprouver").click()
    expect(coordinator.get_by_role("alert")).to_contain_text("motif est requis")
    expect(coordinator.locator("#lock-state")).to_contain_text("Approuvée")
    coordinator.get_by_label("Motif de la désapprobation (obligatoire)").fill(
        "erreur de saisie"
    )
    coordinator.get_by_role("button", name="Désapprouver").click()
    expect(coordinator.get_by_role("status")).to_contain_text("désapprouvée")
    open_form(tab, "Trois-Rivières", period)
    expect(tab.locator("#lock-state")).to_contain_text("Ouverte")
    coordinator.context.close()
